//! Finding the workspace's source files, for the tests that read them.

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file under `dir`, recursively (appended to `out`).
pub fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `p` relative to the workspace root, with `/` separators.
pub fn rel(p: &Path) -> String {
    let root = root();
    p.strip_prefix(&root).unwrap_or(p).to_string_lossy().replace('\\', "/")
}

//! An `Actor` (the policy's "who is asking") is only ever built where a session is resolved:
//! `atrium_store`'s `auth.rs` (the session, and the user a "View as client" session shows),
//! `people.rs` (the active user behind them) and `sign_in.rs` (the account an accepted invitation
//! has just created, for its audit entry), and in tests. Any other `Actor::new(` in a crate's
//! `src/` fails this test, naming the file and line — make the caller resolve a session instead
//! (`Store::session_actor`), as the demo and the sign-in flow do.

mod sources;

use sources::{rel, root, rust_files};

/// Files allowed to build actors outside tests, relative to the workspace root.
const ALLOWED: &[&str] = &[
    "crates/core/src/policy.rs",
    "crates/store/src/auth.rs",
    "crates/store/src/people.rs",
    "crates/store/src/sign_in.rs",
];

/// Lines of `source` that build an actor, outside its `#[cfg(test)]` tail (test modules sit
/// at the end of a file in this code base, or in their own `tests.rs`).
fn constructions(source: &str) -> Vec<usize> {
    let code = source.split("#[cfg(test)]").next().unwrap_or("");
    code.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//") && l.contains("Actor::new("))
        .map(|(i, _)| i + 1)
        .collect()
}

#[test]
fn actors_are_built_only_where_sessions_are_resolved() {
    let mut files = Vec::new();
    for krate in std::fs::read_dir(root().join("crates")).expect("crates/").flatten() {
        rust_files(&krate.path().join("src"), &mut files);
    }
    assert!(files.len() > 50, "the crates' sources were found ({})", files.len());
    let mut found = Vec::new();
    for f in &files {
        let rel = rel(f);
        // A module file named `tests.rs` is a unit-test module (`#[cfg(test)] mod tests;`).
        if ALLOWED.contains(&rel.as_str()) || rel.ends_with("/tests.rs") {
            continue;
        }
        let src = std::fs::read_to_string(f).expect("read source");
        found.extend(constructions(&src).into_iter().map(|line| format!("{rel}:{line}")));
    }
    assert!(found.is_empty(), "Actor built outside session resolution:\n  {}", found.join("\n  "));
}

#[test]
fn the_scan_finds_a_construction_and_ignores_tests_and_comments() {
    let src = "fn f() {\n    let a = Actor::new(u, n, e, r, c)?;\n}\n// Actor::new( in a comment\n#[cfg(test)]\nmod tests { fn t() { Actor::new(1); } }\n";
    assert_eq!(constructions(src), vec![2]);
}

//! The preview worker on its own (the web crate's tests run it; the `atrium` binary has the
//! same as its hidden `preview-worker` subcommand): `<pdf|image> <size>`, file on stdin, PNG on
//! stdout. See `atrium_web::preview::worker_main`.

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    atrium_web::preview::worker_main(&args)
}

//! `atrium mail-in`, the real binary: one message on stdin, the exit code for the MTA
//! (contract: 0 taken, 67 unknown recipient, 65 malformed; 65 for oversize too). What it posts
//! is proven through the same function (`MailIn::deliver`) in `crates/web/tests/it/mail_in.rs`.

use std::io::Write;
use std::process::{Command, Stdio};

fn run(data: &std::path::Path, args: &[&str], stdin: &[u8]) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_atrium"))
        .arg("mail-in")
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("ATRIUM_DATABASE_URL")
        .env_remove("ATRIUM_INBOUND_ADDRESS")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start atrium");
    let mut input = child.stdin.take().expect("stdin");
    // The binary stops reading past its limit; a broken pipe then is expected.
    let _ = input.write_all(stdin);
    drop(input);
    let out = child.wait_with_output().expect("wait");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn exit_codes_tell_the_mta_what_happened() {
    let dir = std::env::temp_dir().join(format!("atrium-mail-in-{}", uuid::Uuid::now_v7().simple()));
    let inbound = ["--inbound-address", "support@portal.example"];
    let mail =
        |to: &str| format!("From: someone@else.example\r\nTo: {to}\r\nSubject: Hi\r\n\r\nHello\r\n").into_bytes();
    // Mail to the inbound address from an unknown sender: taken (held for staff).
    let (code, err) = run(&dir, &inbound, &mail("support@portal.example"));
    assert_eq!(code, 0, "{err}");
    // Addressed elsewhere.
    let (code, err) = run(&dir, &inbound, &mail("other@portal.example"));
    assert_eq!(code, 67, "{err}");
    // Not a message.
    let (code, err) = run(&dir, &inbound, b"no headers at all, just words");
    assert_eq!(code, 65, "{err}");
    // Over 25 MiB: refused before it is parsed.
    let mut big = mail("support@portal.example");
    big.resize(25 * 1024 * 1024 + 10, b'a');
    let (code, err) = run(&dir, &inbound, &big);
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("larger"), "{err}");
    // Without an inbound address there is nothing to deliver to.
    let (code, err) = run(&dir, &[], &mail("support@portal.example"));
    assert_ne!(code, 0, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

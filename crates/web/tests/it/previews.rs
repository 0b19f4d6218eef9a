//! A file's page and its previews, end to end: a PDF's first page rendered to a PNG (on the
//! file's page and on its approval), text and markdown rendered safely, a new version uploaded
//! under the file's own name, rename and move from the page, and the approvals list on each side.

use crate::common::*;
use atrium_core::ids::{FileId, ProjectId, UserId};
use reqwest::multipart::{Form, Part};
use serde_json::json;

/// The one-page PDF fixture (A4, a red square and a line of text).
const PDF: &[u8] = include_bytes!("../fixtures/proposal.pdf");

async fn upload_form(app: &TestApp, token: &str, project: ProjectId, form: Form) -> Answer {
    let url = app.url(&format!("/api/v1/projects/{project}/files"));
    Answer::of(api().post(url).bearer_auth(token).multipart(form).send().await.expect("upload")).await
}

async fn upload_as(app: &TestApp, token: &str, project: ProjectId, name: &str, bytes: &[u8]) -> FileId {
    let form = Form::new().part("file", Part::bytes(bytes.to_vec()).file_name(name.to_string()));
    let a = upload_form(app, token, project, form).await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.json()["id"].as_str().expect("id").parse().expect("file id")
}

/// A page as a signed-in browser sees it (with `&#38;` in attributes read back as `&`).
async fn page(app: &TestApp, user: UserId, path: &str) -> Answer {
    let c = app.browser_creds(Some(user)).await;
    let mut a = Answer::of(api().get(app.url(path)).header("cookie", c.cookie).send().await.expect("page")).await;
    a.body = a.body.replace("&#38;", "&");
    a
}

/// A form posted by a signed-in browser.
async fn post_page(app: &TestApp, user: UserId, path: &str, fields: &[(&str, &str)]) -> Answer {
    let c = app.browser_creds(Some(user)).await;
    let mut f: Vec<(&str, &str)> = fields.to_vec();
    f.push(("_csrf", c.csrf.as_str()));
    Answer::of(api().post(app.url(path)).header("cookie", &c.cookie).form(&f).send().await.expect("post")).await
}

async fn thumbnail(app: &TestApp, token: &str, file: FileId, query: &str) -> reqwest::Response {
    let url = app.url(&format!("/api/v1/files/{file}/thumbnail{query}"));
    api().get(url).bearer_auth(token).send().await.expect("thumbnail")
}

#[tokio::test]
async fn a_pdf_has_its_first_page_as_preview_on_its_page_and_its_approval() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let admin = app.token_for(w.a.admin).await;
    let file = upload_as(&app, &staff, w.a.project, "Proposal.pdf", PDF).await;

    // The first page, rendered: a PNG of A4's proportions, small by default, large on request.
    let res = thumbnail(&app, &admin, file, "").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let small = image::load_from_memory(&res.bytes().await.unwrap()).expect("a PNG").to_rgba8();
    assert_eq!(small.height(), 320);
    assert!((small.width() as i64 - 226).abs() <= 1, "width {}", small.width());
    let red = small.get_pixel(small.width() * 250 / 595, small.height() * 192 / 842).0;
    assert!(red[0] > 200 && red[1] < 60, "the page's red square is drawn: {red:?}");
    let large = thumbnail(&app, &admin, file, "?size=large").await;
    assert_eq!(image::load_from_memory(&large.bytes().await.unwrap()).unwrap().height(), 1200);
    // The same version's preview is not made again for a browser that has it.
    let again = api()
        .get(app.url(&format!("/api/v1/files/{file}/thumbnail")))
        .bearer_auth(&admin)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let (s, v) = call(&app, &admin, "GET", &format!("/files/{file}/thumbnail?size=huge"), None).await;
    assert_eq!(s, 422, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().starts_with("size:"));
    // A PDF that cannot be rendered has no preview: 404, never a 500.
    let broken = upload_as(&app, &staff, w.a.project, "Broken.pdf", b"%PDF-1.7\n1 0 obj << /Pages 9 0 R >>").await;
    assert_eq!(thumbnail(&app, &admin, broken, "").await.status(), 404);
    // Another client's admin gets nothing of it.
    let b_admin = app.token_for(w.b.admin).await;
    assert_eq!(thumbnail(&app, &b_admin, file, "").await.status(), 404);
    assert_eq!(page(&app, w.b.admin, &format!("/portal/files/{file}")).await.status, 404);

    // The file's page shows the rendered page, opens the whole PDF, and lists the versions.
    let p = page(&app, w.a.admin, &format!("/portal/files/{file}")).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains(&format!("/api/v1/files/{file}/thumbnail?version=1&size=large")), "{}", p.body);
    assert!(p.body.contains(&format!("/api/v1/files/{file}/download?version=1&inline=true")));
    assert!(p.body.contains("Open the whole PDF"));
    // Staff are sent to the staff side's page, client users to the portal's.
    assert_eq!(page(&app, w.staff, &format!("/portal/files/{file}")).await.status, 404);
    assert_eq!(page(&app, w.a.admin, &format!("/staff/files/{file}")).await.status, 404);
    assert_eq!(page(&app, w.staff, &format!("/staff/files/{file}")).await.status, 200);

    // The approval of it shows the same preview to the approver.
    let (s, a) = call(
        &app,
        &staff,
        "POST",
        "/approvals",
        Some(json!({"subject_type": "file", "subject_id": file.to_string(), "approver_ids": [w.a.admin.to_string()]})),
    )
    .await;
    assert_eq!(s, 201, "{a}");
    app.run_jobs().await;
    let ap = page(&app, w.a.admin, &format!("/portal/approvals/{}", a["id"].as_str().unwrap())).await;
    assert_eq!(ap.status, 200);
    assert!(ap.body.contains(&format!("/api/v1/files/{file}/thumbnail?version=1&size=large")), "{}", ap.body);
    assert!(ap.body.contains(&format!("/portal/files/{file}?version=1")));

    // A viewer sees the page, but no form to change it.
    let v = page(&app, w.a.viewer, &format!("/portal/files/{file}")).await;
    assert_eq!(v.status, 200);
    assert!(!v.body.contains(&format!("/files/{file}/update")) && !v.body.contains("Upload a new version"));
}

#[tokio::test]
async fn text_and_markdown_are_rendered_safely_and_long_text_is_cut() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let md = upload_as(
        &app,
        &staff,
        w.a.project,
        "Kick-off notes.md",
        b"# Kick-off\n\n<script>alert('md')</script>\n\n**Budget** approved. [site](javascript:alert(1))",
    )
    .await;
    let p = page(&app, w.a.admin, &format!("/portal/files/{md}")).await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("<h1>Kick-off</h1>") && p.body.contains("<strong>Budget</strong>"), "{}", p.body);
    // Raw HTML in markdown is shown as text, never as an element.
    assert!(!p.body.contains("<script>alert") && !p.body.contains("javascript:alert"), "{}", p.body);
    assert!(p.body.contains("&lt;script&gt;alert("), "{}", p.body);

    let txt = upload_as(&app, &staff, w.a.project, "log.txt", b"Use <b>not bold</b> & <script>x()</script>").await;
    let p = page(&app, w.a.admin, &format!("/portal/files/{txt}")).await;
    assert!(p.body.contains("Use &lt;b&gt;not bold&lt;/b&gt; &amp; &lt;script&gt;x()&lt;/script&gt;"), "{}", p.body);
    assert!(!p.body.contains("<b>not bold</b>"));
    // What the bytes say is HTML is never shown, whatever its name.
    let html = upload_as(&app, &staff, w.a.project, "notes.md", b"<html><script>alert(1)</script></html>").await;
    let p = page(&app, w.a.admin, &format!("/portal/files/{html}")).await;
    assert!(p.body.contains("No preview for this kind of file.") && !p.body.contains("<script>alert(1)"));

    // Only the first 256 KiB are shown, and the page says so.
    let mut long = "line of the changelog\n".repeat(20_000).into_bytes();
    long.extend_from_slice(b"THE-VERY-END");
    let big = upload_as(&app, &staff, w.a.project, "changelog.txt", &long).await;
    let p = page(&app, w.a.admin, &format!("/portal/files/{big}")).await;
    assert!(p.body.contains("Showing the first") && !p.body.contains("THE-VERY-END"));

    // A binary file has no preview, only its download.
    let bin = upload_as(&app, &staff, w.a.project, "data.bin", &[0u8, 159, 146, 150, 0, 1, 2]).await;
    let p = page(&app, w.a.admin, &format!("/portal/files/{bin}")).await;
    assert!(p.body.contains("No preview for this kind of file."));
}

#[tokio::test]
async fn a_new_version_keeps_the_files_name_and_the_page_renames_and_moves_it() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let file = upload_as(&app, &staff, w.a.project, "Brief.pdf", PDF).await;
    let (_, f) = call(&app, &staff, "GET", &format!("/files/{file}"), None).await;
    let folder = f["folder_id"].as_str().unwrap().to_string();

    // "Upload a new version": the copy on disk has another name; `name` says which file it is.
    let mut v2 = PDF.to_vec();
    v2.extend_from_slice(b"% second version\n");
    let form = Form::new()
        .text("folder_id", folder.clone())
        .text("name", "brief.PDF")
        .part("file", Part::bytes(v2).file_name("brief-final-FINAL(2).pdf"));
    let a = upload_form(&app, &staff, w.a.project, form).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.json()["id"], file.to_string(), "the same file");
    assert_eq!(a.json()["version"], 2);
    // A bad or oversized `name` is refused, naming the field, and stores nothing.
    for bad in ["../../etc/passwd", "a\u{7}b", &"x".repeat(5000)] {
        let form =
            Form::new().text("name", bad.to_string()).part("file", Part::bytes(b"x".to_vec()).file_name("ok.txt"));
        let a = upload_form(&app, &staff, w.a.project, form).await;
        assert_eq!(a.status, 422, "{bad:?}: {}", a.body);
        assert!(a.json()["error"]["message"].as_str().unwrap().starts_with("name:"), "{}", a.body);
    }

    // The page's rename form.
    let r = post_page(
        &app,
        w.staff,
        &format!("/files/{file}/update"),
        &[("name", "Brief (signed).pdf"), ("folder_id", &folder)],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), Some(format!("/staff/files/{file}?notice=saved").as_str()));
    let (_, f) = call(&app, &staff, "GET", &format!("/files/{file}"), None).await;
    assert_eq!(f["name"], "Brief (signed).pdf");
    // Another client's admin cannot touch it; an empty name is a 422 page.
    let r = post_page(&app, w.b.admin, &format!("/files/{file}/update"), &[("name", "Mine.pdf")]).await;
    assert_eq!(r.status, 404);
    let r = post_page(&app, w.staff, &format!("/files/{file}/update"), &[("name", "  ")]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("must not be empty"), "{}", r.body);

    // Moved into a staff-only folder, it is gone for the client.
    let (_, sf) = call(&app, &staff, "GET", &format!("/files/{}", w.a.staff_file), None).await;
    let internal = sf["folder_id"].as_str().unwrap().to_string();
    let r = post_page(
        &app,
        w.staff,
        &format!("/files/{file}/update"),
        &[("name", "Brief (signed).pdf"), ("folder_id", &internal)],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(page(&app, w.a.admin, &format!("/portal/files/{file}")).await.status, 404);
    let staff_page = page(&app, w.staff, &format!("/staff/files/{file}")).await;
    assert!(staff_page.body.contains("Staff only"));
}

#[tokio::test]
async fn each_side_lists_its_own_approvals() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (a_ap, b_ap) = (w.a.approval.to_string(), w.b.approval.to_string());
    let staff = page(&app, w.staff, "/staff/approvals").await;
    assert_eq!(staff.status, 200);
    assert!(staff.body.contains(&a_ap) && staff.body.contains(&b_ap));
    let mine = page(&app, w.a.admin, "/portal/approvals").await;
    assert_eq!(mine.status, 200);
    assert!(mine.body.contains(&a_ap) && mine.body.contains(&w.a.file_name));
    for secret in w.b.secrets() {
        assert!(!mine.body.contains(&secret), "B's {secret} on A's list");
    }
    let all = page(&app, w.a.admin, "/portal/approvals?status=all").await;
    assert!(all.body.contains(&a_ap));
    assert_eq!(page(&app, w.a.admin, "/portal/approvals?status=maybe").await.status, 422);
    // Finance users see no project work, so no approvals.
    let finance = page(&app, w.a.finance, "/portal/approvals").await;
    assert!(!finance.body.contains(&a_ap));
    assert_eq!(page(&app, w.a.admin, "/staff/approvals").await.status, 404);
}

include!("../fixtures/hostile_pdf.rs");

/// What the previews did so far, as (workers started, rendered, refused, died, timed out).
fn stats(app: &TestApp) -> (u64, u64, u64, u64, u64) {
    use std::sync::atomic::Ordering::Relaxed;
    let s = &app.state.previews.stats;
    (
        s.spawned.load(Relaxed),
        s.rendered.load(Relaxed),
        s.refused.load(Relaxed),
        s.died.load(Relaxed),
        s.timed_out.load(Relaxed),
    )
}

/// A PNG of `width` × `height` grey pixels (small on disk, `width × height × 3` bytes decoded),
/// with `trailer` after its end.
fn png(width: u32, height: u32, trailer: &[u8]) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(width, height, image::Rgb([128, 128, 128]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).expect("png");
    let mut out = out.into_inner();
    out.extend_from_slice(trailer);
    out
}

/// Polls `cond` (at most 20 s): for a state another task reaches, not a fixed sleep.
async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..400 {
        if cond() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("never happened: {what}");
}

// SEC-IO-7
#[tokio::test]
async fn hostile_pdfs_are_refused_before_rendering_and_each_version_is_rendered_once() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let admin = app.token_for(w.a.admin).await;
    // The files: 3,000,000 line operations in ~131 KB, and a 30000 × 30000 image.
    let lines = upload_as(&app, &staff, w.a.project, "lines.pdf", &many_lines_pdf(3_000_000)).await;
    let huge = upload_as(&app, &staff, w.a.project, "huge.pdf", &big_image_pdf(30_000, 30_000)).await;
    for file in [lines, huge] {
        assert_eq!(thumbnail(&app, &admin, file, "").await.status(), 404);
    }
    // Each was refused by the worker's pre-check: none was rendered, no worker died of it.
    assert_eq!(stats(&app), (2, 0, 2, 0, 0));
    // Asked again (any number of times), the stored outcome answers: no worker starts.
    for file in [lines, huge, lines] {
        assert_eq!(thumbnail(&app, &admin, file, "").await.status(), 404);
    }
    assert_eq!(stats(&app), (2, 0, 2, 0, 0));

    // A real PDF is rendered once per size; the stored PNG answers afterwards, also to others.
    let file = upload_as(&app, &staff, w.a.project, "Proposal.pdf", PDF).await;
    let first = thumbnail(&app, &admin, file, "").await.bytes().await.unwrap();
    assert_eq!(stats(&app), (3, 1, 2, 0, 0));
    for token in [&admin, &staff] {
        let again = thumbnail(&app, token, file, "").await;
        assert_eq!(again.status(), 200);
        assert_eq!(again.bytes().await.unwrap(), first, "the same PNG");
    }
    assert_eq!(stats(&app), (3, 1, 2, 0, 0), "not rendered again");
    assert_eq!(thumbnail(&app, &admin, file, "?size=large").await.status(), 200);
    assert_eq!(stats(&app), (4, 2, 2, 0, 0), "another size is another render");
}

// SEC-IO-7
#[tokio::test]
async fn a_render_over_the_memory_limit_kills_only_its_worker_and_frees_the_slot() {
    // A small limit so that a 6000 × 6000 image (108 MB decoded) cannot fit but a PDF page can.
    let app = TestApp::spawn_with(|c| {
        c.preview_memory = 96 * 1024 * 1024;
        c.preview_slots = 1;
    })
    .await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let admin = app.token_for(w.a.admin).await;
    let big = upload_as(&app, &staff, w.a.project, "big.png", &png(6000, 6000, b"")).await;
    let started = std::time::Instant::now();
    assert_eq!(thumbnail(&app, &admin, big, "").await.status(), 404);
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
    assert_eq!(stats(&app), (1, 0, 0, 1, 0), "the worker died of its limit");
    // The one slot is free again: the next render runs within the same limit.
    let file = upload_as(&app, &staff, w.a.project, "Proposal.pdf", PDF).await;
    assert_eq!(thumbnail(&app, &admin, file, "").await.status(), 200);
    let small = upload_as(&app, &staff, w.a.project, "small.png", &png(600, 400, b"")).await;
    assert_eq!(thumbnail(&app, &admin, small, "").await.status(), 200);
    assert_eq!(stats(&app), (3, 2, 0, 1, 0));
    // The death is the version's outcome: not tried again.
    assert_eq!(thumbnail(&app, &admin, big, "").await.status(), 404);
    assert_eq!(stats(&app).0, 3);
}

/// A worker that records its pid in `pids` and hangs when its input contains `ATRIUM-HANG`,
/// and otherwise is the real worker.
fn hanging_worker(pids: &std::path::Path) -> Vec<std::ffi::OsString> {
    let script = format!(
        "f=$(mktemp); cat >\"$f\"; if grep -q ATRIUM-HANG \"$f\"; then rm -f \"$f\"; echo $$ >>'{}'; exec sleep 60; fi; \
         exec '{}' \"$@\" <\"$f\"",
        pids.display(),
        env!("CARGO_BIN_EXE_atrium-preview-worker")
    );
    vec!["/bin/sh".into(), "-c".into(), script.into(), "worker".into()]
}

/// An app whose worker is [`hanging_worker`], with this time limit and slots; its seeded world,
/// a staff token and the file the hanging workers' pids go to.
async fn hanging_app(time: std::time::Duration, slots: usize) -> (TestApp, World, String, std::path::PathBuf) {
    let pid_file = std::env::temp_dir().join(format!("atrium-hang-{}", uuid::Uuid::now_v7().simple()));
    let worker = hanging_worker(&pid_file);
    let app = TestApp::spawn_with(|c| {
        c.preview_worker = worker;
        c.preview_time = time;
        c.preview_slots = slots;
    })
    .await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    (app, w, staff, pid_file)
}

fn pids(path: &std::path::Path) -> Vec<i32> {
    std::fs::read_to_string(path).unwrap_or_default().lines().filter_map(|l| l.trim().parse().ok()).collect()
}

/// Whether the process `pid` still exists (a zombie counts: it was not reaped).
fn alive(pid: i32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

// SEC-IO-7
#[tokio::test]
async fn a_render_past_its_time_limit_is_killed_and_its_slot_freed_at_once() {
    let (app, w, staff, pid_file) = hanging_app(std::time::Duration::from_millis(500), 1).await;
    let admin = app.token_for(w.a.admin).await;
    let stuck = upload_as(&app, &staff, w.a.project, "stuck.png", &png(8, 8, b"ATRIUM-HANG")).await;
    let started = std::time::Instant::now();
    assert_eq!(thumbnail(&app, &admin, stuck, "").await.status(), 404);
    let hung = pids(&pid_file);
    assert_eq!(hung.len(), 1);
    assert!(!alive(hung[0]), "the worker was killed and reaped before the answer");
    assert_eq!(stats(&app), (1, 0, 0, 0, 1));
    // With the only slot free again, the next thumbnail renders at once (not after 60 s).
    let fine = upload_as(&app, &staff, w.a.project, "fine.png", &png(64, 64, b"")).await;
    assert_eq!(thumbnail(&app, &admin, fine, "").await.status(), 200);
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    // A time-out may be the server's fault (load): it is not stored, the next request tries again.
    assert_eq!(thumbnail(&app, &admin, stuck, "").await.status(), 404);
    assert_eq!(stats(&app), (3, 1, 0, 0, 2));
    let _ = std::fs::remove_file(pid_file);
}

// SEC-IO-7
#[tokio::test]
async fn one_clients_stuck_renders_do_not_hold_up_another_clients_previews() {
    use std::sync::atomic::Ordering::Relaxed;
    let (app, w, staff, pid_file) = hanging_app(std::time::Duration::from_secs(60), 2).await;
    let (a_admin, b_admin) = (app.token_for(w.a.admin).await, app.token_for(w.b.admin).await);
    // Client A's two files hang their workers; A asks for both at once.
    let mut stuck = Vec::new();
    for (name, side) in [("one.png", 9), ("two.png", 10)] {
        stuck.push(upload_as(&app, &staff, w.a.project, name, &png(side, side, b"ATRIUM-HANG")).await);
    }
    let mut waiting = Vec::new();
    for file in stuck.clone() {
        let (url, token) = (app.url(&format!("/api/v1/files/{file}/thumbnail")), a_admin.clone());
        waiting.push(tokio::spawn(async move { api().get(url).bearer_auth(token).send().await.map(|r| r.status()) }));
    }
    // One of A's renders runs, the other waits for A's turn and holds no slot.
    let s = app.state.previews.stats.clone();
    until("one of A's renders runs and the other waits", || {
        s.running.load(Relaxed) == 1 && s.queued.load(Relaxed) == 1
    })
    .await;
    until("A's stuck worker hangs", || pids(&pid_file).len() == 1).await;
    // B's preview renders now, beside A's stuck one.
    let b_file = upload_as(&app, &staff, w.b.project, "b.png", &png(64, 64, b"")).await;
    let b = tokio::time::timeout(std::time::Duration::from_secs(15), thumbnail(&app, &b_admin, b_file, "")).await;
    assert_eq!(b.expect("B is not held up by A").status(), 200);
    for t in waiting {
        t.abort();
    }
    let _ = std::fs::remove_file(pid_file);
}

//! Project files over the API, end to end: multipart uploads into content-addressed storage
//! (versions by name, the upload limit and the client quota, sniffed content types, refused and
//! interrupted uploads leaving nothing behind), who may see and change what (staff-only folders,
//! viewers, other clients), and safe downloads (SEC-IO-5: attachment, RFC 6266 names, nosniff,
//! sandbox, ranges, ETag). Each test is named after what it proves.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::*;
use atrium_core::ids::{FileId, ProjectId};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

/// sha256("hello").
const HELLO: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

/// A minimal PNG: the signature and an IHDR chunk (1×1 RGBA) with its CRC.
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8,
    6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89,
];

// ----- helpers -----------------------------------------------------------------------------------

/// A form with just the `file` part.
fn file_form(name: &str, bytes: &[u8]) -> Form {
    Form::new().part("file", Part::bytes(bytes.to_vec()).file_name(name.to_string()))
}

/// A form with `folder_id` first, then `file`.
fn file_form_in(folder: &str, name: &str, bytes: &[u8]) -> Form {
    Form::new()
        .text("folder_id", folder.to_string())
        .part("file", Part::bytes(bytes.to_vec()).file_name(name.to_string()))
}

/// `POST /projects/{id}/files` with a bearer token.
async fn post_form(app: &TestApp, token: &str, project: ProjectId, form: Form) -> Answer {
    let res = api()
        .post(app.url(&format!("/api/v1/projects/{project}/files")))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    Answer::of(res).await
}

async fn upload_as(app: &TestApp, token: &str, project: ProjectId, name: &str, bytes: &[u8]) -> Answer {
    post_form(app, token, project, file_form(name, bytes)).await
}

/// Asserts the API error contract with this status and code, the message naming `field` if given.
#[track_caller]
fn assert_error(a: &Answer, status: u16, code: &str, field: Option<&str>, what: &str) {
    assert_eq!(a.status, status, "{what}: {}", a.body);
    let e = a.json();
    assert_eq!(e["error"]["code"], code, "{what}: {}", a.body);
    if let Some(f) = field {
        let m = e["error"]["message"].as_str().unwrap_or_default();
        assert!(m.starts_with(&format!("{f}:")), "{what}: the message names `{f}`: {m}");
    }
}

/// A response with its raw bytes.
struct Got {
    status: u16,
    headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
}

async fn get_bytes(app: &TestApp, token: &str, path: &str, range: Option<&str>) -> Got {
    let mut req = api().get(app.url(&format!("/api/v1{path}"))).bearer_auth(token);
    if let Some(r) = range {
        req = req.header("range", r);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let bytes = res.bytes().await.expect("body").to_vec();
    Got { status, headers, bytes }
}

/// The names of a project's files as `token` lists them (`None` when the list is refused).
async fn names(app: &TestApp, token: &str, project: ProjectId, query: &str) -> Option<Vec<String>> {
    let (status, v) = call(app, token, "GET", &format!("/projects/{project}/files{query}"), None).await;
    if status != 200 {
        return None;
    }
    Some(v["items"].as_array().expect("items").iter().map(|f| f["name"].as_str().unwrap().to_string()).collect())
}

/// Every file row and version row in the database (by name and by sha256).
pub(crate) async fn rows(app: &TestApp) -> (Vec<String>, Vec<String>) {
    let mut files: Vec<String> = app
        .query_strings("SELECT name FROM files", vec![], &["name"])
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let mut versions: Vec<String> = app
        .query_strings("SELECT sha256 FROM file_versions", vec![], &["sha256"])
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    files.sort();
    versions.sort();
    (files, versions)
}

/// SHA-256 (hex) of `bytes`, computed by a scratch blob store (sha2 is no dependency here).
async fn sha256_of(bytes: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("atrium-sha-{}", uuid::Uuid::now_v7().simple()));
    let blobs = atrium_store::blobs::Blobs::local(&dir).expect("scratch blobs");
    let chunk: Result<bytes::Bytes, std::io::Error> = Ok(bytes::Bytes::copy_from_slice(bytes));
    let sha = blobs.put_stream(futures_util::stream::iter([chunk]), u64::MAX).await.expect("hash").sha256;
    let _ = std::fs::remove_dir_all(&dir);
    sha
}

/// The server's blob root, from the store's description (`LocalFileSystem(file:///…/)`).
pub(crate) fn blob_root(app: &TestApp) -> PathBuf {
    let d = format!("{:?}", app.state.blobs);
    let start = d.find("file://").unwrap_or_else(|| panic!("no local root in {d}"));
    let rest = &d[start..];
    let url = &rest[..rest.find(')').unwrap_or(rest.len())];
    let root = url::Url::parse(url).expect("root url").to_file_path().expect("root path");
    assert!(root.join("blobs").is_dir(), "the blob root {} holds the seeded blobs", root.display());
    root
}

fn walk(dir: &Path, out: &mut BTreeSet<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out)
        } else {
            out.insert(p);
        }
    }
}

/// Every finished blob file, and every entry of `tmp/` (uploads in progress).
pub(crate) fn blob_files(root: &Path) -> (BTreeSet<PathBuf>, BTreeSet<PathBuf>) {
    let (mut blobs, mut tmp) = (BTreeSet::new(), BTreeSet::new());
    walk(&root.join("blobs"), &mut blobs);
    walk(&root.join("tmp"), &mut tmp);
    (blobs, tmp)
}

/// The id of the staff-only "Internal" folder of a project (as staff see it).
async fn internal_folder(app: &TestApp, staff: &str, project: ProjectId) -> String {
    let (s, v) = call(app, staff, "GET", &format!("/projects/{project}/folders"), None).await;
    assert_eq!(s, 200, "{v}");
    let f = v["items"].as_array().unwrap().iter().find(|f| f["name"] == "Internal").expect("the Internal folder");
    assert_eq!(f["staff_only"], true);
    f["id"].as_str().unwrap().to_string()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

// ----- uploads and versions ----------------------------------------------------------------------

#[tokio::test]
async fn uploads_store_hashed_files_and_the_same_name_in_any_case_adds_a_version() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let client = app.token_for(w.a.admin).await;

    let a = upload_as(&app, &staff, w.a.project, "Notes.txt", b"hello").await;
    assert_eq!(a.status, 201, "{}", a.body);
    let first = a.json();
    assert_eq!(first["size"], 5);
    assert_eq!(first["sha256"], HELLO);
    assert_eq!(first["version"], 1);
    assert_eq!(first["name"], "Notes.txt");
    assert_eq!(first["content_type"], "text/plain");
    assert_eq!(first["project_id"], w.a.project.to_string());
    assert_eq!(first["uploaded_by"], w.staff.to_string());
    assert_eq!(first["staff_only"], false);
    assert!(app.state.blobs.exists(HELLO).await.unwrap(), "the bytes are stored under their sha256");
    let id = id_of(&first);

    // The client's admin uploads the same name in another case: a new version of that file.
    let a = upload_as(&app, &client, w.a.project, "NOTES.TXT", b"hello world").await;
    assert_eq!(a.status, 201, "{}", a.body);
    let second = a.json();
    assert_eq!(id_of(&second), id, "the same file");
    assert_eq!(second["version"], 2);
    assert_eq!(second["size"], 11);
    assert_eq!(second["sha256"], sha256_of(b"hello world").await);
    assert_eq!(second["name"], "Notes.txt", "the file keeps its name");
    assert_eq!(second["uploaded_by"], w.a.admin.to_string());
    let listed = names(&app, &client, w.a.project, "").await.unwrap();
    assert_eq!(listed.iter().filter(|n| n.eq_ignore_ascii_case("notes.txt")).count(), 1, "{listed:?}");

    // A client admin's own new file.
    let a = upload_as(&app, &client, w.a.project, "Mine.txt", b"from the client").await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(
        (a.json()["version"].clone(), a.json()["uploaded_by"].clone()),
        (json!(1), json!(w.a.admin.to_string()))
    );

    let (s, v) = call(&app, &client, "GET", &format!("/files/{id}/versions"), None).await;
    assert_eq!(s, 200, "{v}");
    let items = v["items"].as_array().unwrap();
    let seen: Vec<(u64, u64, &str, &str)> = items
        .iter()
        .map(|v| {
            (
                v["version"].as_u64().unwrap(),
                v["size"].as_u64().unwrap(),
                v["sha256"].as_str().unwrap(),
                v["uploaded_by_name"].as_str().unwrap(),
            )
        })
        .collect();
    let hw = sha256_of(b"hello world").await;
    assert_eq!(seen, vec![(2, 11, hw.as_str(), "Admina Person"), (1, 5, HELLO, "Sam Staff")]);

    let g = get_bytes(&app, &client, &format!("/files/{id}/download?version=1"), None).await;
    assert_eq!((g.status, g.bytes.as_slice()), (200, &b"hello"[..]));
    let g = get_bytes(&app, &client, &format!("/files/{id}/download"), None).await;
    assert_eq!((g.status, g.bytes.as_slice()), (200, &b"hello world"[..]), "the default is the latest version");
    let g = get_bytes(&app, &client, &format!("/files/{id}/download?version=3"), None).await;
    assert_eq!(g.status, 422, "no such version");
}

// ----- who may upload and see what ---------------------------------------------------------------

#[tokio::test]
async fn viewers_other_clients_and_staff_only_folders_are_refused_and_hidden() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let client = app.token_for(w.a.admin).await;
    let viewer = app.token_for(w.a.viewer).await;
    let before = rows(&app).await;

    let a = upload_as(&app, &viewer, w.a.project, "viewer.txt", b"from a viewer").await;
    assert_error(&a, 403, "forbidden", None, "a viewer uploads");
    // SEC-AUTHZ: another client's project does not exist for A's users.
    let a = upload_as(&app, &client, w.b.project, "intruder.txt", b"into b").await;
    assert_error(&a, 404, "not_found", None, "A uploads to B");
    let internal = internal_folder(&app, &staff, w.a.project).await;
    let a = post_form(&app, &client, w.a.project, file_form_in(&internal, "sneaky.txt", b"into internal")).await;
    assert_error(&a, 404, "not_found", None, "A uploads into the staff-only folder");
    assert_eq!(rows(&app).await, before, "no refused upload left a row");

    // Staff can use that folder (the 404 above is about the client, not the folder).
    let a = post_form(&app, &staff, w.a.project, file_form_in(&internal, "Plan.txt", b"staff plan")).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!((a.json()["folder_id"].clone(), a.json()["staff_only"].clone()), (json!(internal), json!(true)));
    let plan = id_of(&a.json());

    // Clients never see the staff-only folder or its files.
    let (s, v) = call(&app, &client, "GET", &format!("/projects/{}/folders", w.a.project), None).await;
    assert_eq!(s, 200);
    let folders = v["items"].as_array().unwrap();
    assert!(!folders.is_empty(), "the client sees the top folder");
    assert!(folders.iter().all(|f| f["staff_only"] == false && f["id"] != internal.as_str()), "{v}");
    let client_names = names(&app, &client, w.a.project, "").await.unwrap();
    let staff_names = names(&app, &staff, w.a.project, "").await.unwrap();
    assert!(staff_names.contains(&w.a.staff_file_name) && staff_names.contains(&"Plan.txt".to_string()));
    assert!(client_names.contains(&w.a.file_name), "{client_names:?}");
    assert!(!client_names.contains(&w.a.staff_file_name) && !client_names.contains(&"Plan.txt".to_string()));
    assert_eq!(names(&app, &client, w.a.project, &format!("?folder_id={internal}")).await, None);

    for id in [w.a.staff_file.to_string(), plan] {
        for route in ["", "/versions", "/download"] {
            let (s, _) = call(&app, &client, "GET", &format!("/files/{id}{route}"), None).await;
            assert_eq!(s, 404, "client: GET /files/{{staff file}}{route}");
            let (s, _) = call(&app, &staff, "GET", &format!("/files/{id}{route}"), None).await;
            assert_eq!(s, 200, "staff: GET /files/{{staff file}}{route}");
        }
    }
}

// ----- bad input ---------------------------------------------------------------------------------

/// SEC-IO-1: an upload over the per-file limit is 413 and nothing of it is kept.
#[tokio::test]
async fn an_upload_over_the_limit_is_413_and_leaves_no_row_and_no_blob() {
    let app = TestApp::spawn_with(|c| c.max_upload = 1024).await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let root = blob_root(&app);
    let before = (rows(&app).await, blob_files(&root));
    let listed = names(&app, &staff, w.a.project, "").await;

    let big: Vec<u8> = (0..2000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let a = upload_as(&app, &staff, w.a.project, "big.txt", &big).await;
    assert_error(&a, 413, "too_large", None, "2000 bytes over a 1024-byte limit");
    assert_eq!(names(&app, &staff, w.a.project, "").await, listed, "the list is unchanged");
    assert!(!app.state.blobs.exists(&sha256_of(&big).await).await.unwrap(), "no blob of the refused bytes");
    assert_eq!((rows(&app).await, blob_files(&root)), before, "no row, no blob, nothing in tmp/");

    // Exactly the limit is fine (so the 413 was about the size).
    let a = upload_as(&app, &staff, w.a.project, "big.txt", &big[..1024]).await;
    assert_eq!((a.status, a.json()["size"].clone()), (201, json!(1024)), "{}", a.body);
}

#[tokio::test]
async fn empty_files_bad_names_and_malformed_forms_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let client = app.token_for(w.a.admin).await;
    let root = blob_root(&app);
    let before = (rows(&app).await, blob_files(&root));

    let a = upload_as(&app, &client, w.a.project, "empty.txt", b"").await;
    assert_error(&a, 422, "invalid", Some("file"), "a zero-byte file");
    let long = "x".repeat(256);
    for name in ["../x", "a/b", "a\\b", "a\u{7}b", "a\u{85}b", ".", "..", "   ", &long] {
        let a = upload_as(&app, &client, w.a.project, name, b"content").await;
        assert_error(&a, 422, "invalid", Some("file"), &format!("the name {name:?}"));
    }
    // A control character the multipart parser lets through reaches the name check itself.
    let a = upload_as(&app, &client, w.a.project, "a\u{85}b", b"content").await;
    assert!(a.body.contains("control characters"), "{}", a.body);
    let nameless = Form::new().part("file", Part::bytes(b"content".to_vec()));
    assert_error(&post_form(&app, &client, w.a.project, nameless).await, 422, "invalid", Some("file"), "no filename");
    let no_file = Form::new().text("folder_id", "");
    assert_error(&post_form(&app, &client, w.a.project, no_file).await, 422, "invalid", Some("file"), "no file part");
    let stranger = Form::new().text("comment", "hi").part("file", Part::bytes(b"content".to_vec()).file_name("c.txt"));
    assert_error(&post_form(&app, &client, w.a.project, stranger).await, 422, "invalid", Some("file"), "unknown part");
    let bad_folder = file_form_in("not-a-uuid", "c.txt", b"content");
    assert_error(&post_form(&app, &client, w.a.project, bad_folder).await, 422, "invalid", Some("folder_id"), "folder");
    assert_eq!((rows(&app).await, blob_files(&root)), before, "nothing refused was stored");

    // The longest name allowed, and the content that was refused under bad names, are fine.
    let a = upload_as(&app, &client, w.a.project, &"x".repeat(255), b"content").await;
    assert_eq!(a.status, 201, "{}", a.body);
}

/// The quota counts every version of every file of the client's projects, deleted or not, is
/// per client, and binds staff uploads into the client's projects too.
#[tokio::test]
async fn the_client_quota_counts_every_version_and_refusals_store_nothing() {
    // Each client's seeded files: "Brief of client x" (17 bytes) + "internal numbers" (16).
    const SEEDED: u64 = 33;
    let app = TestApp::spawn_with(|c| c.client_quota = SEEDED + 10).await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let client = app.token_for(w.a.admin).await;
    let (_, v) = call(&app, &staff, "GET", &format!("/projects/{}/files", w.a.project), None).await;
    let used: u64 = v["items"].as_array().unwrap().iter().map(|f| f["size"].as_u64().unwrap()).sum();
    assert_eq!(used, SEEDED, "the premise: what A's files use");

    let a = upload_as(&app, &client, w.a.project, "q.txt", b"hello").await;
    assert_eq!(a.status, 201, "{}", a.body);
    let q = id_of(&a.json());
    // The same bytes again as version 2: stored once, counted twice; exactly the quota is fine.
    let a = upload_as(&app, &client, w.a.project, "q.txt", b"hello").await;
    assert_eq!((a.status, a.json()["version"].clone()), (201, json!(2)), "{}", a.body);

    let root = blob_root(&app);
    let before = (rows(&app).await, blob_files(&root));
    let x_sha = sha256_of(b"x").await;
    let a = upload_as(&app, &client, w.a.project, "r.txt", b"x").await;
    assert_error(&a, 413, "quota_exceeded", None, "one byte past the quota (version 2 counts)");
    let a = upload_as(&app, &staff, w.a.project, "s.txt", b"x").await;
    assert_error(&a, 413, "quota_exceeded", None, "staff uploading into the client's project");
    assert_eq!(call(&app, &staff, "DELETE", &format!("/files/{q}"), None).await.0, 204);
    let a = upload_as(&app, &client, w.a.project, "r.txt", b"x").await;
    assert_error(&a, 413, "quota_exceeded", None, "a deleted file still uses storage");
    assert!(!app.state.blobs.exists(&x_sha).await.unwrap(), "no blob of the refused bytes");
    assert_eq!((rows(&app).await, blob_files(&root)), before, "no row, no blob, nothing in tmp/");

    // B's quota is B's own.
    let b = app.token_for(w.b.admin).await;
    let a = upload_as(&app, &b, w.b.project, "r.txt", b"x").await;
    assert_eq!(a.status, 201, "{}", a.body);
}

/// SEC-IO-5: the stored type comes from the bytes; HTML is never shown inline.
#[tokio::test]
async fn content_types_are_sniffed_from_the_bytes_and_html_is_always_an_attachment() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let client = app.token_for(w.a.admin).await;
    let claimed_png = |bytes: &[u8], name: &str| {
        Form::new().part("file", Part::bytes(bytes.to_vec()).file_name(name.to_string()).mime_str("image/png").unwrap())
    };

    let pdf = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n";
    let a = post_form(&app, &client, w.a.project, claimed_png(pdf, "scan.png")).await;
    assert_eq!((a.status, a.json()["content_type"].clone()), (201, json!("application/pdf")), "{}", a.body);

    let html = b"<html><body><script>alert(document.cookie)</script></body></html>";
    let a = post_form(&app, &client, w.a.project, claimed_png(html, "photo.png")).await;
    assert_eq!((a.status, a.json()["content_type"].clone()), (201, json!("text/html")), "{}", a.body);
    let id = id_of(&a.json());
    let (_, v) = call(&app, &client, "GET", &format!("/files/{id}/versions"), None).await;
    assert_eq!(v["items"][0]["content_type"], "text/html");

    let g = get_bytes(&app, &client, &format!("/files/{id}/download?inline=true"), None).await;
    assert_eq!(g.status, 200);
    assert!(g.header("content-disposition").starts_with("attachment;"), "{}", g.header("content-disposition"));
    assert_eq!(g.header("content-type"), "application/octet-stream");
    assert_eq!(g.header("x-content-type-options"), "nosniff");
    assert_eq!(g.bytes, html);

    // Plain text is shown inline with its charset named, so a browser never guesses another.
    let text = "Grüße, notes in UTF-8".as_bytes();
    let a = post_form(&app, &client, w.a.project, claimed_png(text, "notes.txt")).await;
    assert_eq!((a.status, a.json()["content_type"].clone()), (201, json!("text/plain")), "{}", a.body);
    let g = get_bytes(&app, &client, &format!("/files/{}/download?inline=true", id_of(&a.json())), None).await;
    assert!(g.header("content-disposition").starts_with("inline;"), "{}", g.header("content-disposition"));
    assert_eq!(g.header("content-type"), "text/plain; charset=utf-8");
}

/// A client that sends half its upload and hangs up leaves no row and no blob (not even a
/// staging file), and every file still listed downloads.
#[tokio::test]
async fn an_interrupted_upload_leaves_no_row_and_no_blob() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let root = blob_root(&app);
    let before = (rows(&app).await, blob_files(&root));

    let boundary = "atrium-test-boundary-7f3a";
    let content: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"interrupted.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    let head_len = body.len();
    body.extend_from_slice(&content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let addr = app.base.trim_start_matches("http://").to_string();
    let request = format!(
        "POST /api/v1/projects/{}/files HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {staff}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        w.a.project,
        body.len()
    );
    let mut conn = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    conn.write_all(request.as_bytes()).await.unwrap();
    conn.write_all(&body[..head_len + content.len() / 2]).await.unwrap();
    conn.flush().await.unwrap();
    // Wait until the server is writing it (so the hang-up really is half-way through storing).
    let deadline = Instant::now() + Duration::from_secs(5);
    while blob_files(&root).1.is_empty() {
        assert!(Instant::now() < deadline, "the server never started storing the upload");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(conn);

    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let now = (rows(&app).await, blob_files(&root));
        if now == before {
            break;
        }
        assert!(Instant::now() < deadline, "left behind after the hang-up: {now:?}, before: {before:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!app.state.blobs.exists(&sha256_of(&content).await).await.unwrap());
    // Nothing points at a missing blob: every file listed downloads in full.
    let (_, v) = call(&app, &staff, "GET", &format!("/projects/{}/files", w.a.project), None).await;
    let items = v["items"].as_array().unwrap();
    assert!(!items.is_empty());
    for f in items {
        let g = get_bytes(&app, &staff, &format!("/files/{}/download", f["id"].as_str().unwrap()), None).await;
        assert_eq!((g.status, g.bytes.len() as u64), (200, f["size"].as_u64().unwrap()), "{f}");
    }
}

// ----- downloads (SEC-IO-5) ----------------------------------------------------------------------

#[tokio::test]
async fn downloads_are_sandboxed_attachments_with_rfc6266_names_ranges_and_an_etag() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let client = app.token_for(w.a.admin).await;
    let a = upload_as(&app, &client, w.a.project, "Résumé \"final\".txt", b"hello world").await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.json()["name"], "Résumé \"final\".txt", "the exact name is kept");
    let f = a.json();
    let path = format!("/files/{}/download", id_of(&f));

    let g = get_bytes(&app, &client, &path, None).await;
    assert_eq!((g.status, g.bytes.as_slice()), (200, &b"hello world"[..]));
    assert_eq!(
        g.header("content-disposition"),
        "attachment; filename=\"R_sum_ _final_.txt\"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.txt"
    );
    assert_eq!(g.header("x-content-type-options"), "nosniff");
    assert!(g.header("content-security-policy").contains("sandbox"), "CSP: {}", g.header("content-security-policy"));
    assert_eq!(g.header("content-type"), "application/octet-stream");
    assert_eq!(g.header("etag"), format!("\"{}\"", f["sha256"].as_str().unwrap()));
    assert_eq!(g.header("content-length"), "11");
    assert_eq!(g.header("accept-ranges"), "bytes");

    for (range, content_range, bytes) in [
        ("bytes=0-4", "bytes 0-4/11", &b"hello"[..]),
        ("bytes=6-", "bytes 6-10/11", b"world"),
        ("bytes=-3", "bytes 8-10/11", b"rld"),
    ] {
        let g = get_bytes(&app, &client, &path, Some(range)).await;
        assert_eq!((g.status, g.header("content-range"), g.bytes.as_slice()), (206, content_range, bytes), "{range}");
        assert_eq!(g.header("content-length"), bytes.len().to_string(), "{range}");
    }
    let g = get_bytes(&app, &client, &path, Some("bytes=999999-")).await;
    assert_eq!((g.status, g.header("content-range")), (416, "bytes */11"));

    // A PNG (whatever it claims to be) may be shown inline, as image/png.
    let form =
        Form::new().part("file", Part::bytes(PNG.to_vec()).file_name("pixel.png").mime_str("text/html").unwrap());
    let a = post_form(&app, &client, w.a.project, form).await;
    assert_eq!((a.status, a.json()["content_type"].clone()), (201, json!("image/png")), "{}", a.body);
    let png_path = format!("/files/{}/download", id_of(&a.json()));
    let g = get_bytes(&app, &client, &format!("{png_path}?inline=true"), None).await;
    assert_eq!(g.status, 200);
    assert_eq!(g.header("content-disposition"), "inline; filename=\"pixel.png\"; filename*=UTF-8''pixel.png");
    assert_eq!(g.header("content-type"), "image/png");
    assert!(g.header("content-security-policy").contains("sandbox"), "CSP: {}", g.header("content-security-policy"));
    assert_eq!(g.bytes, PNG);
    let g = get_bytes(&app, &client, &png_path, None).await;
    assert!(g.header("content-disposition").starts_with("attachment;"), "inline only when asked");
}

// ----- rename, move, delete, restore -------------------------------------------------------------

#[tokio::test]
async fn rename_move_delete_and_restore_follow_the_policy() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let client = app.token_for(w.a.admin).await;
    let finance = app.token_for(w.a.finance).await;
    let viewer = app.token_for(w.a.viewer).await;
    let internal = internal_folder(&app, &staff, w.a.project).await;
    let (_, seeded) = call(&app, &staff, "GET", &format!("/files/{}", w.a.file), None).await;
    let top = seeded["folder_id"].as_str().unwrap().to_string();

    let a = upload_as(&app, &client, w.a.project, "Own.txt", b"mine").await;
    let own = id_of(&a.json());
    let (s, v) = call(&app, &client, "PATCH", &format!("/files/{own}"), Some(json!({"name": "Own renamed.txt"}))).await;
    assert_eq!((s, v["name"].clone()), (200, json!("Own renamed.txt")), "the uploader renames: {v}");
    let (s, v) = call(&app, &client, "PATCH", &format!("/files/{own}"), Some(json!({"name": "a/b"}))).await;
    assert_eq!((s, v["error"]["message"].as_str().unwrap_or_default().starts_with("name:")), (422, true), "{v}");
    let (s, _) = call(&app, &viewer, "PATCH", &format!("/files/{own}"), Some(json!({"name": "Viewer.txt"}))).await;
    assert_eq!(s, 403, "a viewer sees it but may not change it");
    let (s, _) = call(&app, &viewer, "DELETE", &format!("/files/{own}"), None).await;
    assert_eq!(s, 403, "a viewer may not delete it");
    let (s, _) = call(&app, &finance, "PATCH", &format!("/files/{own}"), Some(json!({"name": "Finance.txt"}))).await;
    assert_eq!(s, 404, "finance users see no projects, so no files");
    let (_, v) = call(&app, &client, "GET", &format!("/files/{own}"), None).await;
    assert_eq!(v["name"], "Own renamed.txt", "the refused renames changed nothing");
    let (s, _) =
        call(&app, &client, "PATCH", &format!("/files/{}", w.a.file), Some(json!({"name": "Mine now.txt"}))).await;
    assert_eq!(s, 403, "the client may not rename a staff upload");
    let (s, _) = call(&app, &client, "PATCH", &format!("/files/{own}"), Some(json!({"folder_id": internal}))).await;
    assert_eq!(s, 404, "a client cannot move into a folder it cannot see");
    let (s, _) = call(&app, &client, "DELETE", &format!("/files/{}", w.a.file), None).await;
    assert_eq!(s, 403, "the client may not delete a staff upload");
    let (_, v) = call(&app, &client, "GET", &format!("/files/{}", w.a.file), None).await;
    assert_eq!((v["name"].as_str(), v["deleted_at"].is_null()), (Some(w.a.file_name.as_str()), true), "unchanged");

    // Staff move the client's file into the staff-only folder: it disappears for the client.
    let (s, v) = call(&app, &staff, "PATCH", &format!("/files/{own}"), Some(json!({"folder_id": internal}))).await;
    assert_eq!((s, v["staff_only"].clone()), (200, json!(true)), "{v}");
    assert_eq!(call(&app, &client, "GET", &format!("/files/{own}"), None).await.0, 404);
    assert!(!names(&app, &client, w.a.project, "").await.unwrap().contains(&"Own renamed.txt".to_string()));
    let (s, v) = call(&app, &staff, "PATCH", &format!("/files/{own}"), Some(json!({"folder_id": top}))).await;
    assert_eq!((s, v["staff_only"].clone()), (200, json!(false)), "{v}");
    assert_eq!(call(&app, &client, "GET", &format!("/files/{own}"), None).await.0, 200, "back out: visible again");

    // Delete (staff) → gone for the client, restorable by staff.
    let file = format!("/files/{}", w.a.file);
    assert_eq!(call(&app, &staff, "DELETE", &file, None).await.0, 204);
    assert_eq!(call(&app, &client, "GET", &file, None).await.0, 404);
    assert_eq!(call(&app, &client, "GET", &format!("{file}/download"), None).await.0, 404);
    assert!(!names(&app, &client, w.a.project, "").await.unwrap().contains(&w.a.file_name));
    assert!(!names(&app, &staff, w.a.project, "").await.unwrap().contains(&w.a.file_name));
    assert_eq!(names(&app, &staff, w.a.project, "?deleted=true").await, Some(vec![w.a.file_name.clone()]));
    assert_eq!(names(&app, &client, w.a.project, "?deleted=true").await, None, "clients have no bin");
    assert_eq!(call(&app, &client, "POST", &format!("{file}/restore"), None).await.0, 404);
    assert_eq!(call(&app, &staff, "DELETE", &file, None).await.0, 404, "already deleted");
    let (s, v) = call(&app, &staff, "POST", &format!("{file}/restore"), None).await;
    assert_eq!((s, v["deleted_at"].is_null()), (200, true), "{v}");
    assert_eq!(call(&app, &client, "GET", &file, None).await.0, 200);
    assert!(names(&app, &client, w.a.project, "").await.unwrap().contains(&w.a.file_name));
    assert_eq!(names(&app, &staff, w.a.project, "?deleted=true").await, Some(vec![]));
    assert_eq!(call(&app, &staff, "POST", &format!("{file}/restore"), None).await.0, 409, "not deleted");

    // The uploader may delete their own file.
    assert_eq!(call(&app, &client, "DELETE", &format!("/files/{own}"), None).await.0, 204);
    assert_eq!(call(&app, &client, "GET", &format!("/files/{own}"), None).await.0, 404);
}

// ----- other clients -----------------------------------------------------------------------------

/// SEC-AUTHZ: every file route, as B's admin against A's things, is 404 and changes nothing
/// (spot checks; `authz_matrix` covers every route and role).
#[tokio::test]
async fn another_clients_admin_gets_404_on_every_file_route_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let b = app.token_for(w.b.admin).await;
    let f: FileId = w.a.file;
    let p = w.a.project;
    for (method, path, body) in [
        ("GET", format!("/projects/{p}/folders"), None),
        ("POST", format!("/projects/{p}/folders"), Some(json!({"name": "B's"}))),
        ("GET", format!("/projects/{p}/files"), None),
        ("GET", format!("/files/{f}"), None),
        ("GET", format!("/files/{f}/versions"), None),
        ("GET", format!("/files/{f}/download"), None),
        ("PATCH", format!("/files/{f}"), Some(json!({"name": "Taken.txt"}))),
        ("DELETE", format!("/files/{f}"), None),
        ("POST", format!("/files/{f}/restore"), None),
    ] {
        let (s, v) = call(&app, &b, method, &path, body).await;
        assert_eq!(s, 404, "{method} {path}: {v}");
    }
    assert_error(&upload_as(&app, &b, p, "intruder.txt", b"x").await, 404, "not_found", None, "B uploads to A");
    let (s, v) = call(&app, &staff, "GET", &format!("/files/{f}"), None).await;
    assert_eq!((s, v["name"].as_str(), v["deleted_at"].is_null()), (200, Some(w.a.file_name.as_str()), true));
    assert!(!names(&app, &staff, p, "").await.unwrap().contains(&"intruder.txt".to_string()));
}

#[tokio::test]
async fn a_folder_never_holds_two_live_files_of_one_name() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let first = upload_as(&app, &staff, w.a.project, "Plan.txt", b"one").await;
    assert_eq!(first.status, 201);
    let first_id = first.json()["id"].as_str().unwrap().to_string();
    let (s, _) = call(&app, &staff, "DELETE", &format!("/files/{first_id}"), None).await;
    assert_eq!(s, 204);
    // A new file of that name, then the old one cannot come back under the same name.
    let second = upload_as(&app, &staff, w.a.project, "plan.TXT", b"two").await;
    assert_eq!(second.status, 201);
    assert_ne!(second.json()["id"], first.json()["id"], "a deleted file does not take new versions");
    let (s, b) = call(&app, &staff, "POST", &format!("/files/{first_id}/restore"), None).await;
    assert_eq!(s, 409, "{b}");
    // Renaming onto a taken name is refused too.
    let other = upload_as(&app, &staff, w.a.project, "Other.txt", b"three").await;
    let other_id = other.json()["id"].as_str().unwrap().to_string();
    let (s, _) = call(&app, &staff, "PATCH", &format!("/files/{other_id}"), Some(json!({"name": "PLAN.txt"}))).await;
    assert_eq!(s, 409);
    let (s, b) = call(&app, &staff, "PATCH", &format!("/files/{other_id}"), Some(json!({"name": "Plan v2.txt"}))).await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test]
async fn concurrent_first_uploads_share_one_top_folder() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.actor(w.owner).await;
    let p = app
        .store
        .create_project(
            &owner,
            atrium_store::work::NewProject {
                client_id: w.a.id,
                name: "Fresh project".into(),
                description: String::new(),
                status: atrium_core::model::ProjectStatus::Active,
                start_date: None,
                due_date: None,
            },
            None,
        )
        .await
        .unwrap();
    let staff = app.token_for(w.staff).await;
    let uploads: Vec<_> = (0..4)
        .map(|i| {
            let (app, staff) = (&app, &staff);
            async move { upload_as(app, staff, p.id, &format!("first-{i}.txt"), b"x").await.status }
        })
        .collect();
    for status in futures_util::future::join_all(uploads).await {
        assert_eq!(status, 201);
    }
    let (s, folders) = call(&app, &staff, "GET", &format!("/projects/{}/folders", p.id), None).await;
    assert_eq!(s, 200);
    let tops: Vec<&Value> = folders["items"].as_array().unwrap().iter().filter(|f| f["parent_id"].is_null()).collect();
    assert_eq!(tops.len(), 1, "one top folder: {folders}");
    let (_, files) = call(&app, &staff, "GET", &format!("/projects/{}/files", p.id), None).await;
    let in_top = files["items"].as_array().unwrap().iter().filter(|f| f["folder_id"] == tops[0]["id"]).count();
    assert_eq!(in_top, 4);
}

#[tokio::test]
async fn image_thumbnails_are_small_pngs_without_the_originals_metadata() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    // A 1000×500 JPEG carrying an EXIF segment with a "location".
    let img = image::RgbImage::from_fn(1000, 500, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
    let jpeg = jpeg.into_inner();
    let secret = b"Exif\0\0GPS-SECRET-LOCATION-51.5N";
    let len = u16::try_from(secret.len() + 2).unwrap().to_be_bytes();
    let mut with_exif = vec![0xFF, 0xD8, 0xFF, 0xE1, len[0], len[1]];
    with_exif.extend_from_slice(secret);
    with_exif.extend_from_slice(&jpeg[2..]);
    let up = upload_as(&app, &staff, w.a.project, "photo.jpg", &with_exif).await;
    assert_eq!(up.status, 201);
    assert_eq!(up.json()["content_type"], "image/jpeg");
    let id = up.json()["id"].as_str().unwrap().to_string();
    let admin = app.token_for(w.a.admin).await;
    let res = api().get(app.url(&format!("/api/v1/files/{id}/thumbnail"))).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    let body = res.bytes().await.unwrap();
    assert!(!body.windows(10).any(|w| w == b"GPS-SECRET"), "no metadata of the original");
    let thumb = image::load_from_memory(&body).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (320, 160));
    // The original still has it (the download is the file as uploaded).
    let orig = api().get(app.url(&format!("/api/v1/files/{id}/download"))).bearer_auth(&admin).send().await.unwrap();
    assert!(orig.bytes().await.unwrap().windows(10).any(|w| w == b"GPS-SECRET"));
    // A text file has no thumbnail; neither does anything of another client.
    let (s, _) = call(&app, &admin, "GET", &format!("/files/{}/thumbnail", w.a.file), None).await;
    assert_eq!(s, 404);
    let b_admin = app.token_for(w.b.admin).await;
    let (s, _) = call(&app, &b_admin, "GET", &format!("/files/{id}/thumbnail"), None).await;
    assert_eq!(s, 404);
}

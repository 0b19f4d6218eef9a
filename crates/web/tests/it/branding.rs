//! The agency's branding, end to end: who may change it, the accent's contrast rule, the logo's
//! limits and re-encoding (nothing of the upload but its pixels is served), caching of the public
//! assets, and the brand on every surface — header, sign-in page, portal Home, stylesheet,
//! favicon, mail (From name, logo, accent) and invoice PDFs.

use std::io::Cursor;

use crate::common::*;
use atrium_core::branding::{ICON_SIDE, LOGO_MAX_BYTES, LOGO_MAX_SIDE};
use image::{DynamicImage, ImageFormat, RgbaImage};
use serde_json::json;

const MARKER: &[u8] = b"secret-metadata-marker-0xC0FFEE";

/// A `w` × `h` PNG with a gradient (so it does not compress to nothing).
fn png(w: u32, h: u32) -> Vec<u8> {
    let img = RgbaImage::from_fn(w, h, |x, y| image::Rgba([(x * 7 % 256) as u8, (y * 3 % 256) as u8, 90, 255]));
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgba8(img).write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

fn crc(kind: &[u8], data: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for &b in kind.iter().chain(data) {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 == 1 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
        }
    }
    !c
}

/// `png` with a `tEXt` chunk holding `text` right after its header chunk.
fn with_text(png: &[u8], text: &[u8]) -> Vec<u8> {
    let ihdr_end = 8 + 4 + 4 + 13 + 4;
    let mut chunk = (text.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(b"tEXt");
    chunk.extend_from_slice(text);
    chunk.extend_from_slice(&crc(b"tEXt", text).to_be_bytes());
    [&png[..ihdr_end], &chunk, &png[ihdr_end..]].concat()
}

/// A JPEG carrying an EXIF segment (APP1) with the marker in it.
fn jpeg_with_exif(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 200]));
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img).write_to(&mut out, ImageFormat::Jpeg).unwrap();
    let jpeg = out.into_inner();
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend_from_slice(MARKER);
    let mut seg = vec![0xff, 0xe1];
    seg.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    seg.extend_from_slice(&exif);
    [&jpeg[..2], &seg, &jpeg[2..]].concat()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `PUT /api/v1/branding/logo` with `bytes` as the `file` part.
async fn put_logo(app: &TestApp, token: &str, name: &str, bytes: Vec<u8>) -> Answer {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
    let form = reqwest::multipart::Form::new().part("file", part);
    let res = api().put(app.url("/api/v1/branding/logo")).bearer_auth(token).multipart(form).send().await.unwrap();
    Answer::of(res).await
}

async fn get_bytes(url: &str, headers: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = api().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let h = res.headers().clone();
    (status, h, res.bytes().await.unwrap().to_vec())
}

/// Asks for a sign-in link for `email` (anonymously); the status.
async fn magic_link(app: &TestApp, email: &str) -> u16 {
    let res = api().post(app.url("/api/v1/magic-links")).json(&json!({ "email": email })).send().await.unwrap();
    res.status().as_u16()
}

/// The path (with its `?v=`) of an absolute `logo_url`.
fn path_of(url: &str) -> String {
    url.strip_prefix("http://portal.test").expect("a link under the public URL").to_string()
}

#[tokio::test]
async fn accents_below_aa_contrast_are_refused_and_set_ones_style_every_page() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    // Nothing set: the configured name, the default accent, no stylesheet of its own.
    let (s, v) = call(&app, &app.token_for(w.a.viewer).await, "GET", "/branding", None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v,
        json!({"agency_name": "Northwind Studio", "accent_color": "#2563eb", "logo_url": null, "welcome_text": ""})
    );
    let login = Answer::of(browser().get(app.url("/login")).send().await.unwrap()).await;
    assert!(!login.body.contains("/branding.css"), "the calm default look needs no stylesheet");

    for low in ["#777777", "#ffff00", "#93c5fd"] {
        let (s, v) = call(&app, &owner, "PUT", "/branding", Some(json!({"accent_color": low}))).await;
        assert_eq!(s, 422, "{low}: {v}");
        assert_eq!(v["error"]["code"], "invalid");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.starts_with("accent_color:") && msg.contains("4.5:1"), "{msg}");
    }
    for bad in ["blue", "#12345", "#1234567", "767676"] {
        let (s, v) = call(&app, &owner, "PUT", "/branding", Some(json!({"accent_color": bad}))).await;
        assert_eq!(s, 422, "{bad}: {v}");
        assert!(v["error"]["message"].as_str().unwrap().starts_with("accent_color:"), "{v}");
    }
    let (s, v) = call(&app, &owner, "PUT", "/branding", Some(json!({"accent_color": "#767676"}))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["accent_color"], "#767676");
    assert_eq!(v["agency_name"], "Northwind Studio", "a partial change leaves the rest");

    // Every page links the stylesheet; it sets the accent and its derived shades.
    let login = Answer::of(browser().get(app.url("/login")).send().await.unwrap()).await;
    assert!(login.body.contains("href=\"/branding.css?v=767676\""), "{}", login.body);
    let css = Answer::of(browser().get(app.url("/branding.css?v=767676")).send().await.unwrap()).await;
    assert_eq!(css.status, 200);
    assert!(css.headers["content-type"].to_str().unwrap().starts_with("text/css"));
    assert!(css.body.starts_with(":root{--accent:#767676;--accent-hover:#"), "{}", css.body);
    assert!(css.body.contains("--accent-tint:#"), "{}", css.body);
    assert!(css.headers["cache-control"].to_str().unwrap().contains("immutable"), "versioned: cached for good");
    let staff_home = Answer::of(
        browser()
            .get(app.url("/staff"))
            .header("cookie", app.browser_creds(Some(w.staff)).await.cookie)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(staff_home.body.contains("/branding.css?v=767676"));

    // Back to the default: empty.
    let (s, v) = call(&app, &owner, "PUT", "/branding", Some(json!({"accent_color": ""}))).await;
    assert_eq!((s, v["accent_color"].as_str()), (200, Some("#2563eb")));
    let login = Answer::of(browser().get(app.url("/login")).send().await.unwrap()).await;
    assert!(!login.body.contains("/branding.css"));

    // Names and texts: limits and character rules, 422 naming the field.
    let long_name = "x".repeat(atrium_core::branding::AGENCY_NAME_MAX + 1);
    let long_text = "x".repeat(atrium_core::branding::WELCOME_TEXT_MAX + 1);
    for (body, field) in [
        (json!({"agency_name": long_name}), "agency_name"),
        (json!({"agency_name": "Evil\u{202e}Corp"}), "agency_name"),
        (json!({"welcome_text": long_text}), "welcome_text"),
        (json!({"logo": "x"}), "logo"),
    ] {
        let (s, v) = call(&app, &owner, "PUT", "/branding", Some(body)).await;
        assert_eq!(s, 422, "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains(field), "{v}");
    }
    // Every change is audited.
    let log = app.store.audit_recent(50).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "branding.update").count(), 2);
    app.stop().await;
}

#[tokio::test]
async fn only_owners_and_admins_change_the_branding() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let body = json!({"agency_name": "Hijacked"});
    // Other staff: 403; client users: 404 (the settings do not exist for them), as for the
    // invoice settings.
    let (s, _) = call(&app, &app.token_for(w.staff).await, "PUT", "/branding", Some(body.clone())).await;
    assert_eq!(s, 403);
    for u in [w.a.admin, w.a.finance, w.a.viewer] {
        let t = app.token_for(u).await;
        let (s, _) = call(&app, &t, "PUT", "/branding", Some(body.clone())).await;
        assert_eq!(s, 404);
        assert_eq!(put_logo(&app, &t, "logo.png", png(8, 8)).await.status, 404);
        assert_eq!(call(&app, &t, "DELETE", "/branding/logo", None).await.0, 404);
        // Reading is for everyone signed in.
        let (s, v) = call(&app, &t, "GET", "/branding", None).await;
        assert_eq!((s, v["agency_name"].as_str()), (200, Some("Northwind Studio")));
    }
    let staff = app.token_for(w.staff).await;
    assert_eq!(put_logo(&app, &staff, "logo.png", png(8, 8)).await.status, 403);
    assert_eq!(call(&app, &staff, "DELETE", "/branding/logo", None).await.0, 403);
    assert_eq!(app.store.branding().await.unwrap().agency_name, None, "nothing changed");
    // Anonymous: 401 for the signed-in operations.
    let a = Answer::of(api().get(app.url("/api/v1/branding")).send().await.unwrap()).await;
    assert_eq!(a.status, 401);
    // An admin may.
    let (s, v) =
        call(&app, &app.token_for(w.admin).await, "PUT", "/branding", Some(json!({"agency_name": " Acme Co "}))).await;
    assert_eq!((s, v["agency_name"].as_str()), (200, Some("Acme Co")));

    // The settings page: owners and admins; other staff 403; client users 404; the nav links
    // it only for those who may use it.
    let page = |u| {
        let app = &app;
        async move {
            let creds = app.browser_creds(Some(u)).await;
            Answer::of(
                browser().get(app.url("/staff/settings/branding")).header("cookie", creds.cookie).send().await.unwrap(),
            )
            .await
        }
    };
    let owner_page = page(w.owner).await;
    assert_eq!(owner_page.status, 200);
    assert!(owner_page.body.contains("value=\"Acme Co\""), "{}", owner_page.body);
    assert!(owner_page.body.contains("href=\"/staff/settings/branding\""));
    assert_eq!(page(w.admin).await.status, 200);
    let staff_page = page(w.staff).await;
    assert_eq!(staff_page.status, 403);
    assert!(!staff_page.body.contains("href=\"/staff/settings/branding\""), "no nav link for other staff");
    assert_eq!(page(w.a.admin).await.status, 404);
    app.stop().await;
}

#[tokio::test]
async fn the_settings_page_saves_and_names_the_refused_field() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let creds = app.browser_creds(Some(w.owner)).await;
    let save = |accent: &'static str, welcome: &'static str| {
        let f = [
            ("agency_name", "Acme Studio"),
            ("accent_color", accent),
            ("welcome_text", welcome),
            ("_csrf", &creds.csrf),
        ];
        let req = browser().post(app.url("/staff/settings/branding")).header("cookie", &creds.cookie).form(&f);
        async move { Answer::of(req.send().await.unwrap()).await }
    };
    let upload = |name: &'static str, bytes: Vec<u8>| {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name);
        let req = browser()
            .post(app.url(&format!("/staff/settings/branding/logo?_csrf={}", creds.csrf)))
            .header("cookie", &creds.cookie)
            .multipart(reqwest::multipart::Form::new().part("file", part));
        async move { Answer::of(req.send().await.unwrap()).await }
    };
    let a = save("#777777", "Hello").await;
    assert_eq!(a.status, 422);
    assert!(a.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(a.body.contains("accent_color: #777777 has a contrast of 4.47:1 with white text"), "{}", a.body);
    assert!(a.body.contains("value=\"Acme Studio\""), "what was sent is kept: {}", a.body);
    assert_eq!(app.store.branding().await.unwrap().agency_name, None, "nothing saved");
    let a = save("#7c3aed", "Welcome to your projects.\nAsk us anything.").await;
    assert_eq!((a.status, a.location()), (303, Some("/staff/settings/branding?notice=saved")));
    let b = app.store.branding().await.unwrap();
    assert_eq!(b.agency_name.as_deref(), Some("Acme Studio"));
    assert_eq!(b.accent().hex(), "#7c3aed");
    // A refused logo upload on the page: the form again, naming the field.
    let a = upload("logo.svg", b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec()).await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("file: must be a PNG, JPEG or WebP image"), "{}", a.body);
    // A good one, then removing it.
    let a = upload("logo.png", png(30, 10)).await;
    assert_eq!((a.status, a.location()), (303, Some("/staff/settings/branding?notice=logo_set")));
    assert!(app.store.branding().await.unwrap().logo.is_some());
    let res = browser()
        .post(app.url("/staff/settings/branding/logo/delete"))
        .header("cookie", &creds.cookie)
        .form(&[("_csrf", creds.csrf.clone())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert!(app.store.branding().await.unwrap().logo.is_none());
    app.stop().await;
}

#[tokio::test]
async fn logos_are_limited_re_encoded_and_served_without_metadata() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    // Not an accepted type: 422 naming the file, whatever the name claims.
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>"#;
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
    for (name, bytes) in [
        ("logo.svg", svg.to_vec()),
        ("logo.png", svg.to_vec()),
        ("logo.gif", gif.to_vec()),
        ("logo.png", b"hello".to_vec()),
    ] {
        let a = put_logo(&app, &owner, name, bytes).await;
        assert_eq!(a.status, 422, "{name}: {}", a.body);
        assert!(a.json()["error"]["message"].as_str().unwrap().starts_with("file:"), "{}", a.body);
    }
    // More bytes than the limit: 413 (also far more, past the body limit).
    let mut big = png(4, 4);
    big.resize(LOGO_MAX_BYTES as usize + 1, 0);
    assert_eq!(put_logo(&app, &owner, "big.png", big).await.status, 413);
    assert_eq!(put_logo(&app, &owner, "huge.png", vec![0; 3 * LOGO_MAX_BYTES as usize]).await.status, 413);
    // More pixels than the limit: 422 naming the file.
    let a = put_logo(&app, &owner, "wide.png", png(LOGO_MAX_SIDE + 1, 1)).await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.json()["error"]["message"].as_str().unwrap().contains("4096"), "{}", a.body);
    assert!(app.store.branding().await.unwrap().logo.is_none(), "nothing was kept");

    // Exactly the byte limit (padded with a text chunk carrying the marker) is taken; the
    // served logo is a fresh PNG without the chunk.
    let base = png(600, 200);
    let pad = LOGO_MAX_BYTES as usize - base.len() - 12;
    let mut text = b"Comment\0".to_vec();
    text.extend_from_slice(MARKER);
    text.resize(pad, b' ');
    let exact = with_text(&base, &text);
    assert_eq!(exact.len() as u64, LOGO_MAX_BYTES);
    let a = put_logo(&app, &owner, "logo.png", exact).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let url = a.json()["logo_url"].as_str().expect("logo_url").to_string();
    assert!(url.starts_with("http://portal.test/api/v1/branding/logo?v="), "{url}");
    // Served to anyone (the sign-in page shows it), cacheable, with an ETag of its content.
    let (s, h, served) = get_bytes(&app.url(&path_of(&url)), &[]).await;
    assert_eq!(s, 200);
    assert_eq!(h["content-type"], "image/png");
    assert!(h["cache-control"].to_str().unwrap().starts_with("public"), "{:?}", h["cache-control"]);
    assert!(!contains(&served, MARKER) && !contains(&served, b"tEXt"), "no metadata survives");
    let img = image::load_from_memory(&served).unwrap();
    assert_eq!((img.width(), img.height()), (512, 171), "scaled to fit the stored size");
    let etag = h["etag"].to_str().unwrap().to_string();
    let (s, h, body) = get_bytes(&app.url("/api/v1/branding/logo"), &[("if-none-match", &etag)]).await;
    assert_eq!((s, body.len()), (304, 0));
    assert_eq!(h["cache-control"], "public, max-age=300", "unversioned: revalidated soon");

    // A JPEG with EXIF: the same.
    let a = put_logo(&app, &owner, "photo.jpg", jpeg_with_exif(64, 48)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let url2 = a.json()["logo_url"].as_str().unwrap().to_string();
    assert_ne!(url, url2, "a new logo, a new URL");
    let (s, h, served) = get_bytes(&app.url(&path_of(&url2)), &[]).await;
    assert_eq!((s, h["content-type"].to_str().unwrap()), (200, "image/png"));
    assert!(!contains(&served, MARKER) && !contains(&served, b"Exif"), "EXIF is gone");
    // The old logo's blobs went with it; the new one is referenced (backups keep it, a purge
    // or a file deletion does not take it).
    let b = app.store.branding().await.unwrap();
    let logo = b.logo.expect("logo");
    assert_eq!((logo.width, logo.height), (64, 48));
    assert!(app.store.blob_referenced(&logo.sha256).await.unwrap());
    assert!(app.store.operator().referenced_blobs().await.unwrap().contains(&logo.icon_sha256));
    assert_eq!(app.store.audit_recent(50).await.unwrap().iter().filter(|e| e.action == "branding.logo_set").count(), 2);

    // Removed: 204, then 404.
    assert_eq!(call(&app, &owner, "DELETE", "/branding/logo", None).await.0, 204);
    assert_eq!(get_bytes(&app.url("/api/v1/branding/logo"), &[]).await.0, 404);
    assert!(!app.store.blob_referenced(&logo.sha256).await.unwrap());
    assert_eq!(call(&app, &owner, "DELETE", "/branding/logo", None).await.0, 204, "removing none is fine");
    let (_, v) = call(&app, &owner, "GET", "/branding", None).await;
    assert_eq!(v["logo_url"], serde_json::Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn the_favicon_is_the_logo_or_a_default_icon() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (s, h, default) = get_bytes(&app.url("/favicon.ico"), &[]).await;
    assert_eq!((s, h["content-type"].to_str().unwrap()), (200, "image/png"));
    assert!(h["cache-control"].to_str().unwrap().starts_with("public"));
    assert!(image::load_from_memory(&default).is_ok(), "a real image");
    let login = Answer::of(browser().get(app.url("/login")).send().await.unwrap()).await;
    assert!(login.body.contains("<link rel=\"icon\" href=\"/favicon.ico\">"), "{}", login.body);

    let owner = app.token_for(w.owner).await;
    assert_eq!(put_logo(&app, &owner, "logo.png", png(200, 50)).await.status, 200);
    let login = Answer::of(browser().get(app.url("/login")).send().await.unwrap()).await;
    let href =
        login.body.split("<link rel=\"icon\" href=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().to_string();
    assert!(href.starts_with("/favicon.ico?v="), "{href}");
    let (s, h, icon) = get_bytes(&app.url(&href), &[]).await;
    assert_eq!(s, 200);
    assert!(h["cache-control"].to_str().unwrap().contains("immutable"));
    assert_ne!(icon, default);
    let img = image::load_from_memory(&icon).unwrap();
    assert_eq!((img.width(), img.height()), (ICON_SIDE, ICON_SIDE), "a square icon");
    app.stop().await;
}

#[tokio::test]
async fn the_brand_shows_in_the_header_sign_in_page_and_portal_home() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    let (s, _) = call(
        &app,
        &owner,
        "PUT",
        "/branding",
        Some(json!({"agency_name": "Acme <Studio>", "welcome_text": "Welcome! Everything <b>for</b> your project is here."})),
    )
    .await;
    assert_eq!(s, 200);
    let a = put_logo(&app, &owner, "logo.png", png(120, 40)).await;
    let logo = path_of(a.json()["logo_url"].as_str().unwrap());
    let login = Answer::of(browser().get(app.url("/login")).send().await.unwrap()).await;
    assert!(login.body.contains("<title>Sign in · Acme &#60;Studio&#62;</title>"), "{}", login.body);
    assert!(login.body.contains(&format!("<img src=\"{}\"", logo.replace('&', "&#38;"))), "{}", login.body);
    assert!(login.body.contains("Welcome to Acme &#60;Studio&#62;'s client portal."));
    let creds = app.browser_creds(Some(w.a.admin)).await;
    let home = Answer::of(browser().get(app.url("/portal")).header("cookie", creds.cookie).send().await.unwrap()).await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("<span>Acme &#60;Studio&#62;</span>"), "the header");
    assert!(home.body.contains("class=\"brand-logo\""));
    assert!(
        home.body.contains("Welcome! Everything &#60;b&#62;for&#60;/b&#62; your project is here."),
        "escaped welcome text"
    );
    app.stop().await;
}

#[tokio::test]
async fn mail_comes_from_the_agency_with_its_logo_and_accent() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    let (s, _) =
        call(&app, &owner, "PUT", "/branding", Some(json!({"agency_name": "Acme Studio", "accent_color": "#7c3aed"})))
            .await;
    assert_eq!(s, 200);
    let a = put_logo(&app, &owner, "logo.png", png(90, 30)).await;
    let logo_url = a.json()["logo_url"].as_str().unwrap().to_string();
    // A one-time link (rendered in the request) and a notification (rendered by its job).
    assert_eq!(magic_link(&app, &w.a.people[0].1).await, 202);
    let staff = app.token_for(w.staff).await;
    let (s, v) = call(
        &app,
        &staff,
        "POST",
        &format!("/tasks/{}/comments", w.a.chore),
        Some(json!({"body": "@[Admina Person] is the copy final?"})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let mails = app.mails().await;
    assert!(mails.len() >= 2, "{mails:?}");
    for m in &mails {
        assert_eq!(m.from_name.as_deref(), Some("Acme Studio"), "{}", m.subject);
        assert!(m.html.contains(&format!("<img src=\"{}\"", logo_url.replace('&', "&#38;"))), "{}", m.html);
        assert!(m.html.contains("background:#7c3aed"), "{}", m.html);
    }
    assert!(mails.iter().any(|m| m.subject.starts_with("Your sign-in link for Acme Studio")));
    assert!(mails.iter().any(|m| m.subject.starts_with("[Acme Studio]")), "the notification");
    app.stop().await;
}

#[tokio::test]
async fn the_from_header_carries_the_agency_name_over_smtp() {
    let sink = atrium_mail::sink::SmtpSink::start().await.expect("sink");
    let app = TestApp::spawn_with_smtp(&sink.url()).await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    let (s, _) = call(&app, &owner, "PUT", "/branding", Some(json!({"agency_name": "Acme Studio"}))).await;
    assert_eq!(s, 200);
    let before = sink.received().len();
    assert_eq!(magic_link(&app, &w.a.people[0].1).await, 202);
    let got = sink.wait_for(before + 1, std::time::Duration::from_secs(5)).await;
    let m = &got[before];
    assert_eq!(m.header("From"), Some("\"Acme Studio\" <portal@agency.test>"), "{:?}", m.headers);
    assert_eq!(m.from, "portal@agency.test", "the configured address");
    app.stop().await;
}

#[tokio::test]
async fn invoice_pdfs_carry_the_agency_name() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    let (s, _) =
        call(&app, &owner, "PUT", "/branding", Some(json!({"agency_name": "Acme Studio", "accent_color": "#7c3aed"})))
            .await;
    assert_eq!(s, 200);
    let pdf = |app: &TestApp| {
        let url = app.url(&format!("/api/v1/invoices/{}/pdf", w.a.invoice));
        let owner = owner.clone();
        async move {
            let res = api().get(url).bearer_auth(&owner).send().await.unwrap();
            assert_eq!(res.status().as_u16(), 200);
            lopdf::Document::load_mem(&res.bytes().await.unwrap()).expect("a PDF")
        }
    };
    let images = |doc: &lopdf::Document| {
        doc.objects
            .values()
            .filter(|o| {
                o.as_stream()
                    .is_ok_and(|s| s.dict.get(b"Subtype").and_then(|t| t.as_name()).is_ok_and(|n| n == b"Image"))
            })
            .count()
    };
    let doc = pdf(&app).await;
    assert_eq!(images(&doc), 0, "no logo, no image");
    assert_eq!(put_logo(&app, &owner, "logo.png", png(90, 30)).await.status, 200);
    let doc = pdf(&app).await;
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).unwrap();
    assert!(text.contains("Acme Studio"), "{text}");
    assert!(!text.contains("Northwind Studio"), "{text}");
    assert!(images(&doc) >= 1, "the logo is drawn");
    app.stop().await;
}

#[tokio::test]
async fn a_change_on_one_server_shows_on_another_within_the_refresh_time() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let other = TestApp::spawn_beside(&app).await;
    let title = |app: &TestApp| {
        let url = app.url("/login");
        async move {
            let body = Answer::of(browser().get(url).send().await.unwrap()).await.body;
            body.split("<title>").nth(1).and_then(|t| t.split("</title>").next()).unwrap_or_default().to_string()
        }
    };
    assert_eq!(title(&other).await, "Sign in · Northwind Studio");
    let (s, _) =
        call(&app, &app.token_for(w.owner).await, "PUT", "/branding", Some(json!({"agency_name": "Acme Two"}))).await;
    assert_eq!(s, 200);
    assert_eq!(title(&app).await, "Sign in · Acme Two", "at once on the server that made the change");
    let start = std::time::Instant::now();
    let limit = atrium_web::brand::BRAND_REFRESH + std::time::Duration::from_secs(3);
    while title(&other).await != "Sign in · Acme Two" {
        assert!(start.elapsed() < limit, "the other server still shows the old name after {limit:?}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    other.stop().await;
    app.stop().await;
}

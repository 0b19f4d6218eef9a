//! Sends through `Mailer::smtp` to the loopback sink.

use std::time::Duration;

use atrium_mail::sink::SmtpSink;
use atrium_mail::templates::{NotificationMail, notification};
use atrium_mail::{Mail, Mailer};

const FROM: &str = "Acme Studio <portal@agency.test>";
const TO: &str = "bo@client.example";
// Longer than a quoted-printable line (76), so it only survives intact if decoded properly.
const URL: &str = "https://portal.agency.example/projects/0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/tasks/0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c?tab=comments#comment-0196a1b2-c3d4-7e5f";
const UNSUB: &str = "https://portal.agency.example/unsubscribe/eyJ1IjoiMDE5NmExYjIiLCJrIjoibWVudGlvbnMifQ.c2lnbmF0dXJlLXRoYXQtaXMtbG9uZw";

fn mail() -> Mail {
    let n = NotificationMail {
        brand: atrium_mail::templates::Brand { name: "Acme Studio", logo_url: None, accent: "#2563eb" },
        name: "Bo",
        headline: "Ana Lopez mentioned you on “Homepage copy”",
        excerpt: Some("Could you check the new hero text? Ça va être très bien."),
        url: URL,
        action: "Open the task",
        kind_label: "mentions",
        unsubscribe_url: UNSUB,
        settings_url: "https://portal.agency.example/settings/notifications",
    };
    notification(TO, &n).unwrap()
}

#[tokio::test]
async fn notification_reaches_the_server() {
    let sink = SmtpSink::start().await.unwrap();
    let mailer = Mailer::smtp(FROM, &sink.url()).unwrap();
    mailer.send(mail()).await.unwrap();

    let received = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(received.len(), 1);
    let r = &received[0];
    assert_eq!(r.from, "portal@agency.test");
    assert_eq!(r.to, vec![TO.to_string()]);
    assert_eq!(r.subject, "[Acme Studio] Ana Lopez mentioned you on “Homepage copy”");
    assert!(!r.raw.contains(URL), "the body should be quoted-printable, folding the URL");
    assert!(r.text.contains(URL), "{}", r.text);
    assert!(r.text.contains("Ça va être très bien."), "{}", r.text);
    assert!(r.html.contains(URL), "{}", r.html);
    assert!(r.html.contains(UNSUB), "{}", r.html);
    assert_eq!(r.header("List-Unsubscribe"), Some(format!("<{UNSUB}>").as_str()));
    assert_eq!(r.header("List-Unsubscribe-Post"), Some("List-Unsubscribe=One-Click"));

    // A second message over a new connection.
    mailer.send(mail()).await.unwrap();
    assert_eq!(sink.wait_for(2, Duration::from_secs(5)).await.len(), 2);
}

#[tokio::test]
async fn refusals_are_transient_or_permanent() {
    let sink = SmtpSink::start().await.unwrap();
    let mailer = Mailer::smtp(FROM, &sink.url()).unwrap();

    sink.set_failing(Some(451));
    let err = mailer.send(mail()).await.unwrap_err();
    assert!(!err.is_permanent(), "{err}");

    sink.set_failing(Some(550));
    let err = mailer.send(mail()).await.unwrap_err();
    assert!(err.is_permanent(), "{err}");

    assert!(sink.received().is_empty());
    sink.set_failing(None);
    mailer.send(mail()).await.unwrap();
    assert_eq!(sink.wait_for(1, Duration::from_secs(5)).await.len(), 1);
}

#[tokio::test]
async fn unreachable_server_is_transient() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mailer = Mailer::smtp(FROM, &format!("smtp://127.0.0.1:{port}")).unwrap();
    let err = mailer.send(mail()).await.unwrap_err();
    assert!(!err.is_permanent(), "{err}");
}

#[tokio::test]
async fn bad_recipient_is_permanent() {
    let sink = SmtpSink::start().await.unwrap();
    let mailer = Mailer::smtp(FROM, &sink.url()).unwrap();
    let err = mailer.send(Mail { to: "not an address".into(), ..mail() }).await.unwrap_err();
    assert!(err.is_permanent(), "{err}");
}

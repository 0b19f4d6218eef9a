//! The messages Atrium sends. Every link comes from the configured public URL (SEC-AUTH-8);
//! callers pass absolute URLs built from it.

use askama::Template;

use crate::{Mail, MailError, render};

/// The agency as its mail shows it: the name (also the From name), the logo and the accent.
#[derive(Clone, Copy, Debug)]
pub struct Brand<'a> {
    /// The agency's name.
    pub name: &'a str,
    /// Absolute URL of the agency's logo (the public logo route), when one is set.
    pub logo_url: Option<&'a str>,
    /// The accent colour, `#rrggbb` (already checked), for buttons and links.
    pub accent: &'a str,
}

/// Renders with `brand`'s name as the From name.
fn branded<T: Template, H: Template>(
    brand: &Brand<'_>,
    to: &str,
    subject: String,
    text: &T,
    html: &H,
) -> Result<Mail, MailError> {
    Ok(Mail { from_name: Some(one_line(brand.name)), ..render(to, subject, text, html)? })
}

#[derive(Template)]
#[template(path = "invitation.txt")]
struct InvitationText<'a> {
    brand: Brand<'a>,
    name: &'a str,
    inviter: &'a str,
    url: &'a str,
    note: &'a str,
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationHtml<'a> {
    brand: Brand<'a>,
    name: &'a str,
    inviter: &'a str,
    url: &'a str,
    note: &'a str,
}

/// "You're invited to `<agency>`'s portal", with the client's own invitation text (`note`,
/// plain text; empty for none) above the link.
pub fn invitation(
    to: &str,
    brand: &Brand<'_>,
    name: &str,
    inviter: &str,
    url: &str,
    note: &str,
) -> Result<Mail, MailError> {
    let brand = *brand;
    branded(
        &brand,
        to,
        format!("{inviter} invited you to {}'s client portal", brand.name),
        &InvitationText { brand, name, inviter, url, note },
        &InvitationHtml { brand, name, inviter, url, note },
    )
}

/// The fields of a one-time link mail.
#[derive(Clone, Copy)]
struct Link<'a> {
    brand: Brand<'a>,
    name: &'a str,
    intro: &'a str,
    action: &'a str,
    url: &'a str,
    validity: &'a str,
}

#[derive(Template)]
#[template(path = "link.txt")]
struct LinkText<'a> {
    l: Link<'a>,
}

#[derive(Template)]
#[template(path = "link.html")]
struct LinkHtml<'a> {
    l: Link<'a>,
}

fn link_mail(to: &str, subject: String, l: Link<'_>) -> Result<Mail, MailError> {
    branded(&l.brand, to, subject, &LinkText { l }, &LinkHtml { l })
}

/// A single-use sign-in link.
pub fn magic_link(to: &str, brand: &Brand<'_>, name: &str, url: &str) -> Result<Mail, MailError> {
    let intro = "Use the button below to sign in to your client portal.";
    let l = Link { brand: *brand, name, intro, action: "Sign in", url, validity: "15 minutes" };
    link_mail(to, format!("Your sign-in link for {}", brand.name), l)
}

/// A password reset link.
pub fn password_reset(to: &str, brand: &Brand<'_>, name: &str, url: &str) -> Result<Mail, MailError> {
    let intro = "Someone (hopefully you) asked to reset your password.";
    let l = Link { brand: *brand, name, intro, action: "Choose a new password", url, validity: "1 hour" };
    link_mail(to, format!("Reset your {} password", brand.name), l)
}

/// A notification about one event (mention, comment, status change...).
#[derive(Clone, Copy, Debug)]
pub struct NotificationMail<'a> {
    /// The agency: subject prefix, footer, From name, logo and accent.
    pub brand: Brand<'a>,
    /// Recipient's display name.
    pub name: &'a str,
    /// What happened, e.g. `Ana Lopez mentioned you on “Homepage copy”`.
    pub headline: &'a str,
    /// Plain-text excerpt (the comment...), quoted in the body.
    pub excerpt: Option<&'a str>,
    /// Absolute link to the exact thing.
    pub url: &'a str,
    /// Button label, e.g. `Open the task`.
    pub action: &'a str,
    /// The kind of notification in the plural, e.g. `mentions`.
    pub kind_label: &'a str,
    /// One-click link that stops emails of this kind.
    pub unsubscribe_url: &'a str,
    /// Link to the notification settings.
    pub settings_url: &'a str,
}

#[derive(Template)]
#[template(path = "notification.txt")]
struct NotificationText<'a> {
    n: &'a NotificationMail<'a>,
    quoted: Option<String>,
}

#[derive(Template)]
#[template(path = "notification.html")]
struct NotificationHtml<'a> {
    n: &'a NotificationMail<'a>,
}

/// `[<agency>] <headline>`, with the excerpt quoted and an unsubscribe footer and header.
pub fn notification(to: &str, n: &NotificationMail<'_>) -> Result<Mail, MailError> {
    let subject = format!("[{}] {}", one_line(n.brand.name), one_line(n.headline));
    let quoted = n.excerpt.map(quote);
    let mail = branded(&n.brand, to, subject, &NotificationText { n, quoted }, &NotificationHtml { n })?;
    Ok(Mail { unsubscribe: Some(n.unsubscribe_url.to_string()), ..mail })
}

/// "How did we do?" after a ticket was solved: two links, each to a page that asks to confirm
/// (a GET records nothing, so a mail scanner following links cannot vote).
#[derive(Clone, Copy, Debug)]
pub struct SatisfactionMail<'a> {
    pub brand: Brand<'a>,
    pub name: &'a str,
    /// `#1042`.
    pub ticket: &'a str,
    pub subject: &'a str,
    pub good_url: &'a str,
    pub bad_url: &'a str,
    pub ticket_url: &'a str,
}

#[derive(Template)]
#[template(path = "satisfaction.txt")]
struct SatisfactionText<'a> {
    s: &'a SatisfactionMail<'a>,
}

#[derive(Template)]
#[template(path = "satisfaction.html")]
struct SatisfactionHtml<'a> {
    s: &'a SatisfactionMail<'a>,
}

/// `[<agency>] How did we do with #1042?`
pub fn satisfaction(to: &str, s: &SatisfactionMail<'_>) -> Result<Mail, MailError> {
    let subject = format!("[{}] How did we do with {}?", one_line(s.brand.name), s.ticket);
    branded(&s.brand, to, subject, &SatisfactionText { s }, &SatisfactionHtml { s })
}

/// One line of a [`DigestMail`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DigestItem {
    /// What happened.
    pub headline: String,
    /// Absolute link to the thing.
    pub url: String,
    /// When, preformatted for the recipient.
    pub at: String,
}

/// A daily summary of notifications.
#[derive(Clone, Copy, Debug)]
pub struct DigestMail<'a> {
    /// The agency: subject prefix, footer, From name, logo and accent.
    pub brand: Brand<'a>,
    /// Recipient's display name.
    pub name: &'a str,
    /// The updates, in display order.
    pub items: &'a [DigestItem],
    /// Link to the notification center.
    pub url: &'a str,
    /// Link to the notification settings.
    pub settings_url: &'a str,
    /// One-click link that stops daily summaries.
    pub unsubscribe_url: &'a str,
}

#[derive(Template)]
#[template(path = "digest.txt")]
struct DigestText<'a> {
    d: &'a DigestMail<'a>,
}

#[derive(Template)]
#[template(path = "digest.html")]
struct DigestHtml<'a> {
    d: &'a DigestMail<'a>,
}

/// `[<agency>] Your daily summary: <n> update(s)`, with an unsubscribe footer and header.
pub fn digest(to: &str, d: &DigestMail<'_>) -> Result<Mail, MailError> {
    let n = d.items.len();
    let subject =
        format!("[{}] Your daily summary: {n} update{}", one_line(d.brand.name), if n == 1 { "" } else { "s" });
    let mail = branded(&d.brand, to, subject, &DigestText { d }, &DigestHtml { d })?;
    Ok(Mail { unsubscribe: Some(d.unsubscribe_url.to_string()), ..mail })
}

/// Collapses whitespace and drops control characters, for a subject line.
fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Quotes plain text e-mail style: `> ` before every line.
fn quote(text: &str) -> String {
    let lines: Vec<String> =
        text.trim_end().lines().map(|l| if l.is_empty() { ">".to_string() } else { format!("> {l}") }).collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_bodies_escape_names() {
        let m = invitation("a@x.io", &ACME, "<script>x</script>", "Bo", "https://p.example/invite/t", "").unwrap();
        assert!(!m.html.contains("<script>x"));
        assert!(m.text.contains("https://p.example/invite/t"));
        assert!(m.subject.contains("Acme Studio"));
        assert_eq!(m.from_name.as_deref(), Some("Acme Studio"));
    }

    #[test]
    fn the_clients_invitation_text_is_in_both_parts_and_escaped_in_html() {
        let note = "Welcome <b>aboard</b>, Acme team!";
        let m = invitation("a@x.io", &ACME, "Ana", "Bo", "https://p.example/invite/t", note).unwrap();
        assert!(m.text.contains(note), "{}", m.text);
        assert!(
            m.html.contains("Welcome &#60;b&#62;aboard") || m.html.contains("Welcome &lt;b&gt;aboard"),
            "{}",
            m.html
        );
        let plain = invitation("a@x.io", &ACME, "Ana", "Bo", "https://p.example/invite/t", "").unwrap();
        assert!(!plain.html.contains("border-left"), "no empty note block");
    }

    const ACME: Brand<'static> = Brand { name: "Acme Studio", logo_url: None, accent: "#2563eb" };

    const URL: &str = "https://portal.agency.example/projects/0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/tasks/0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c#comment-0196a1b2";
    const UNSUB: &str =
        "https://portal.agency.example/unsubscribe/eyJ1IjoiMDE5NmExYjIiLCJrIjoibWVudGlvbnMifQ.c2lnbmF0dXJl";
    const SETTINGS: &str = "https://portal.agency.example/settings/notifications";

    fn note<'a>(headline: &'a str, excerpt: Option<&'a str>) -> NotificationMail<'a> {
        NotificationMail {
            brand: ACME,
            name: "Bo",
            headline,
            excerpt,
            url: URL,
            action: "Open the task",
            kind_label: "mentions",
            unsubscribe_url: UNSUB,
            settings_url: SETTINGS,
        }
    }

    fn formatted(m: Mail) -> String {
        let from: lettre::message::Mailbox = "portal@agency.test".parse().unwrap();
        String::from_utf8(crate::message(&from, m).unwrap().formatted()).unwrap()
    }

    #[test]
    fn notification_mail() {
        let n = note("Ana Lopez mentioned you on “Homepage copy”", Some("Can you check this?\n\nThanks!"));
        let m = notification("bo@client.example", &n).unwrap();
        assert_eq!(m.subject, "[Acme Studio] Ana Lopez mentioned you on “Homepage copy”");
        assert_eq!(m.to, "bo@client.example");
        assert_eq!(m.unsubscribe.as_deref(), Some(UNSUB));
        for body in [&m.text, &m.html] {
            assert!(body.contains(URL), "{body}");
            assert!(body.contains(UNSUB), "{body}");
            assert!(body.contains(SETTINGS), "{body}");
            assert!(body.contains("Open the task"), "{body}");
            assert!(body.contains("Stop emails about mentions"), "{body}");
            assert!(body.contains("Hello Bo,"), "{body}");
        }
        assert!(m.text.contains("> Can you check this?\n>\n> Thanks!"), "{}", m.text);
        assert!(m.html.contains("<blockquote"), "{}", m.html);
        assert!(!m.html.contains("<script") && !m.html.contains("src="), "{}", m.html);

        let raw = formatted(m);
        assert!(raw.contains(&format!("List-Unsubscribe: <{UNSUB}>")), "{raw}");
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{raw}");
    }

    #[test]
    fn notification_without_excerpt() {
        let m = notification("bo@client.example", &note("Your task is done", None)).unwrap();
        assert!(!m.html.contains("<blockquote"), "{}", m.html);
        assert!(!m.text.contains("> "), "{}", m.text);
    }

    #[test]
    fn notification_escapes_html() {
        let n = note("<b>Tom & \"Jerry\"</b>\r\nBcc: x@evil.example", Some("<img src=x onerror=alert(1)> & more"));
        let m = notification("bo@client.example", &n).unwrap();
        assert!(!m.html.contains("<b>Tom") && !m.html.contains("<img"), "{}", m.html);
        assert!(m.html.contains("&#60;b&#62;Tom &#38; &#34;Jerry&#34;&#60;/b&#62;"), "{}", m.html);
        assert!(m.html.contains("&#60;img src=x onerror=alert(1)&#62; &#38; more"), "{}", m.html);
        assert!(m.text.contains("<b>Tom & \"Jerry\"</b>"), "{}", m.text);
        assert!(m.text.contains("> <img src=x onerror=alert(1)> & more"), "{}", m.text);
        assert_eq!(m.subject, "[Acme Studio] <b>Tom & \"Jerry\"</b> Bcc: x@evil.example");
    }

    #[test]
    fn link_query_strings_are_attribute_escaped() {
        let n = NotificationMail { url: "https://p.example/t?a=1&b=2", ..note("h", None) };
        let m = notification("bo@client.example", &n).unwrap();
        assert!(m.text.contains("https://p.example/t?a=1&b=2"));
        assert!(m.html.contains("href=\"https://p.example/t?a=1&#38;b=2\""), "{}", m.html);
    }

    fn items() -> Vec<DigestItem> {
        vec![
            DigestItem { headline: "Ana commented on <Homepage>".into(), url: URL.into(), at: "Mon 9:14".into() },
            DigestItem {
                headline: "Invoice #12 is due".into(),
                url: "https://portal.agency.example/invoices/12".into(),
                at: "Mon 17:02".into(),
            },
        ]
    }

    fn digest_of(items: &[DigestItem]) -> Mail {
        let d = DigestMail {
            brand: ACME,
            name: "Bo",
            items,
            url: "https://portal.agency.example/notifications",
            settings_url: SETTINGS,
            unsubscribe_url: UNSUB,
        };
        digest("bo@client.example", &d).unwrap()
    }

    #[test]
    fn digest_mail() {
        let items = items();
        let m = digest_of(&items);
        assert_eq!(m.subject, "[Acme Studio] Your daily summary: 2 updates");
        assert_eq!(digest_of(&items[..1]).subject, "[Acme Studio] Your daily summary: 1 update");
        assert_eq!(m.unsubscribe.as_deref(), Some(UNSUB));
        for body in [&m.text, &m.html] {
            for url in [URL, "https://portal.agency.example/invoices/12", "https://portal.agency.example/notifications"]
            {
                assert!(body.contains(url), "{url} in {body}");
            }
            assert!(body.contains(UNSUB) && body.contains(SETTINGS), "{body}");
            assert!(body.contains("Mon 9:14") && body.contains("Mon 17:02"), "{body}");
        }
        assert!(m.text.contains("* Ana commented on <Homepage> (Mon 9:14)"), "{}", m.text);
        assert!(m.html.contains("Ana commented on &#60;Homepage&#62;"), "{}", m.html);
        assert!(!m.html.contains("<Homepage>"), "{}", m.html);
        assert!(formatted(m).contains(&format!("List-Unsubscribe: <{UNSUB}>")));
    }

    #[test]
    fn every_mail_carries_the_brand() {
        let logo = "https://portal.agency.example/api/v1/branding/logo?v=0123456789ab";
        let brand = Brand { name: "Acme \"Studio\" <x>", logo_url: Some(logo), accent: "#7c3aed" };
        let n = NotificationMail { brand, ..note("h", None) };
        let items = items();
        let d =
            DigestMail { brand, name: "Bo", items: &items, url: URL, settings_url: SETTINGS, unsubscribe_url: UNSUB };
        let mails = [
            invitation("a@x.io", &brand, "Bo", "Ana", "https://p.example/invite/t", "").unwrap(),
            magic_link("a@x.io", &brand, "Bo", "https://p.example/magic/t").unwrap(),
            password_reset("a@x.io", &brand, "Bo", "https://p.example/reset/t").unwrap(),
            notification("a@x.io", &n).unwrap(),
            digest("a@x.io", &d).unwrap(),
        ];
        for m in mails {
            assert_eq!(m.from_name.as_deref(), Some("Acme \"Studio\" <x>"), "{}", m.subject);
            assert!(m.html.contains(&format!("<img src=\"{}\"", logo.replace('&', "&#38;"))), "{}", m.html);
            assert!(m.html.contains("alt=\"Acme &#34;Studio&#34; &#60;x&#62;\""), "{}", m.html);
            assert!(m.html.contains("background:#7c3aed"), "{}", m.html);
            assert!(!m.html.contains("#2563eb"), "no default accent left: {}", m.html);
        }
        // Without a logo the name stands in its place, in the accent.
        let m = magic_link("a@x.io", &ACME, "Bo", "https://p.example/magic/t").unwrap();
        assert!(!m.html.contains("<img"), "{}", m.html);
        assert!(m.html.contains("color:#2563eb\">Acme Studio</p>"), "{}", m.html);
        // The From header carries the name, quoted, with the configured address.
        let from: lettre::message::Mailbox = "Atrium <portal@agency.test>".parse().unwrap();
        let raw = String::from_utf8(crate::message(&from, m).unwrap().formatted()).unwrap();
        assert!(raw.contains("From: \"Acme Studio\" <portal@agency.test>\r\n"), "{raw}");
    }
}

/// A mail one of the agency's automations sends (a reminder, a summary), its texts already
/// rendered for the recipient (plain text: escaped here for HTML).
#[derive(Clone, Copy, Debug)]
pub struct AutomatedMail<'a> {
    /// The agency: subject prefix, footer, From name, logo and accent.
    pub brand: Brand<'a>,
    /// The subject line (rendered).
    pub subject: &'a str,
    /// The text (rendered; blank lines separate paragraphs).
    pub body: &'a str,
    /// Absolute link to the thing.
    pub url: &'a str,
    /// Button label.
    pub action: &'a str,
    /// One-click link that stops automatic mail.
    pub unsubscribe_url: &'a str,
    /// Link to the notification settings.
    pub settings_url: &'a str,
}

#[derive(Template)]
#[template(path = "automated.txt")]
struct AutomatedText<'a> {
    m: &'a AutomatedMail<'a>,
}

#[derive(Template)]
#[template(path = "automated.html")]
struct AutomatedHtml<'a> {
    m: &'a AutomatedMail<'a>,
    paragraphs: Vec<&'a str>,
}

/// `[<agency>] <subject>`, with the link and an unsubscribe footer and header.
pub fn automated(to: &str, m: &AutomatedMail<'_>) -> Result<Mail, MailError> {
    let subject = format!("[{}] {}", one_line(m.brand.name), one_line(m.subject));
    let paragraphs = m.body.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).collect();
    let mail = branded(&m.brand, to, subject, &AutomatedText { m }, &AutomatedHtml { m, paragraphs })?;
    Ok(Mail { unsubscribe: Some(m.unsubscribe_url.to_string()), ..mail })
}

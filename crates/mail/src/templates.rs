//! The messages Atrium sends. Every link comes from the configured public URL (SEC-AUTH-8);
//! callers pass absolute URLs built from it.

use askama::Template;

use crate::{Mail, MailError, render};

#[derive(Template)]
#[template(path = "invitation.txt")]
struct InvitationText<'a> {
    agency: &'a str,
    name: &'a str,
    inviter: &'a str,
    url: &'a str,
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationHtml<'a> {
    agency: &'a str,
    name: &'a str,
    inviter: &'a str,
    url: &'a str,
}

/// "You're invited to <agency>'s portal".
pub fn invitation(to: &str, agency: &str, name: &str, inviter: &str, url: &str) -> Result<Mail, MailError> {
    render(
        to,
        format!("{inviter} invited you to {agency}'s client portal"),
        &InvitationText { agency, name, inviter, url },
        &InvitationHtml { agency, name, inviter, url },
    )
}

/// The fields of a one-time link mail.
#[derive(Clone, Copy)]
struct Link<'a> {
    agency: &'a str,
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
    render(to, subject, &LinkText { l }, &LinkHtml { l })
}

/// A single-use sign-in link.
pub fn magic_link(to: &str, agency: &str, name: &str, url: &str) -> Result<Mail, MailError> {
    let intro = "Use the button below to sign in to your client portal.";
    let l = Link { agency, name, intro, action: "Sign in", url, validity: "15 minutes" };
    link_mail(to, format!("Your sign-in link for {agency}"), l)
}

/// A password reset link.
pub fn password_reset(to: &str, agency: &str, name: &str, url: &str) -> Result<Mail, MailError> {
    let intro = "Someone (hopefully you) asked to reset your password.";
    let l = Link { agency, name, intro, action: "Choose a new password", url, validity: "1 hour" };
    link_mail(to, format!("Reset your {agency} password"), l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_bodies_escape_names() {
        let m = invitation("a@x.io", "Agency", "<script>x</script>", "Bo", "https://p.example/invite/t").unwrap();
        assert!(!m.html.contains("<script>x"));
        assert!(m.text.contains("https://p.example/invite/t"));
        assert!(m.subject.contains("Agency"));
    }
}

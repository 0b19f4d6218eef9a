//! Reading mail that comes in (replies to notifications, mail to the help desk): pure
//! functions over the raw RFC 5322 bytes, parsed with Stalwart's `mail-parser`.
//!
//! [`parse`] checks the size before parsing ([`MAX_RAW`]), then extracts the sender (From, and
//! Sender and Return-Path for the checks), every recipient address (To, Cc, Delivered-To,
//! X-Original-To), the Message-ID, the subject, the text (an HTML-only mail is converted to
//! plain text, see `html_text`; the result is plain text that goes through the same markdown
//! sanitiser as every comment), with quoted history and signatures stripped ([`strip_reply`]),
//! and the
//! attachments (at most [`MAX_ATTACHMENTS`]). [`automatic`] says whether it is an auto-reply
//! or a bounce, which must never be answered or posted.

use mail_parser::{MessageParser, MimeHeaders};

/// The largest raw message read at all (25 MiB), checked before parsing (IMAP: from the
/// message's size before it is fetched).
pub const MAX_RAW: usize = 25 * 1024 * 1024;
/// At most this many attachments of one mail are kept; the rest are dropped (and counted).
pub const MAX_ATTACHMENTS: usize = 10;

/// Why a raw message cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    /// Over [`MAX_RAW`].
    #[error("the message is larger than {MAX_RAW} bytes")]
    TooLarge,
    /// Not an RFC 5322 message (no headers, no From...).
    #[error("malformed message: {0}")]
    Malformed(&'static str),
}

/// One attachment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// Its file name (`attachment-N` when it has none).
    pub name: String,
    /// Its decoded bytes.
    pub bytes: Vec<u8>,
}

/// What a mail's Return-Path says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReturnPath {
    /// No Return-Path header.
    Missing,
    /// `Return-Path: <>`: the null sender of bounces and auto-replies (RFC 5321 4.5.5).
    Null,
    /// An address (lower case).
    Address(String),
}

/// The parts of an incoming mail that Atrium reads.
#[derive(Clone, Debug)]
pub struct Inbound {
    /// `Message-ID` without angle brackets, when present.
    pub message_id: Option<String>,
    /// The first From address, lower case.
    pub from: Option<String>,
    /// The From display name.
    pub from_name: Option<String>,
    /// The Sender address, lower case.
    pub sender: Option<String>,
    /// The Return-Path.
    pub return_path: ReturnPath,
    /// Every recipient address named by To, Cc, Delivered-To and X-Original-To, lower case.
    pub recipients: Vec<String>,
    /// The subject (empty when none).
    pub subject: String,
    /// The reply's own text: quoted history and signature stripped.
    pub text: String,
    /// The attachments, at most [`MAX_ATTACHMENTS`].
    pub attachments: Vec<Attachment>,
    /// Attachments dropped over [`MAX_ATTACHMENTS`].
    pub attachments_dropped: usize,
    /// Why it is an auto-reply or a bounce ([`automatic`]), if it is one.
    pub automatic: Option<&'static str>,
}

/// Parses a raw message (see the module documentation).
pub fn parse(raw: &[u8]) -> Result<Inbound, InboundError> {
    if raw.len() > MAX_RAW {
        return Err(InboundError::TooLarge);
    }
    let msg = MessageParser::default().parse(raw).ok_or(InboundError::Malformed("not a message"))?;
    if msg.headers().is_empty() {
        return Err(InboundError::Malformed("no headers"));
    }
    let first = |a: Option<&mail_parser::Address<'_>>| {
        a.and_then(|a| a.first()).and_then(|a| a.address()).map(|s| s.trim().to_lowercase())
    };
    let from = first(msg.from());
    if from.is_none() {
        return Err(InboundError::Malformed("no From address"));
    }
    let from_name = msg.from().and_then(|a| a.first()).and_then(|a| a.name()).map(str::to_string);
    let return_path = match msg.header_raw("Return-Path") {
        None => ReturnPath::Missing,
        Some(raw) => {
            let v = raw.trim().trim_start_matches('<').trim_end_matches('>').trim();
            if v.is_empty() { ReturnPath::Null } else { ReturnPath::Address(v.to_lowercase()) }
        }
    };
    let mut recipients = Vec::new();
    for a in msg.all_to().chain(msg.all_cc()) {
        recipients.extend(a.iter().filter_map(|a| a.address()).map(|s| s.trim().to_lowercase()));
    }
    for (name, value) in msg.headers_raw() {
        if name.eq_ignore_ascii_case("Delivered-To") || name.eq_ignore_ascii_case("X-Original-To") {
            recipients.push(value.trim().trim_start_matches('<').trim_end_matches('>').trim().to_lowercase());
        }
    }
    recipients.dedup();
    let body = match msg.text_part(0) {
        Some(p) if p.is_text_html() => html_text(p.text_contents().unwrap_or_default()),
        Some(_) => msg.body_text(0).map(|c| c.into_owned()).unwrap_or_default(),
        None => String::new(),
    };
    let mut attachments = Vec::new();
    let mut attachments_dropped = 0;
    for (i, part) in msg.attachments().enumerate() {
        if attachments.len() >= MAX_ATTACHMENTS {
            attachments_dropped += 1;
            continue;
        }
        let name = part.attachment_name().map(str::to_string).unwrap_or_else(|| format!("attachment-{}", i + 1));
        attachments.push(Attachment { name, bytes: part.contents().to_vec() });
    }
    let headers: Vec<(String, String)> =
        msg.headers_raw().map(|(n, v)| (n.to_string(), v.trim().to_string())).collect();
    let report = msg.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart") && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    let automatic = automatic(&headers, &return_path, from.as_deref().unwrap_or(""), report);
    Ok(Inbound {
        message_id: msg.message_id().map(str::to_string),
        from,
        from_name,
        sender: first(msg.sender()),
        return_path,
        recipients,
        subject: msg.subject().map(|s| s.trim().to_string()).unwrap_or_default(),
        text: strip_reply(&body),
        attachments,
        attachments_dropped,
        automatic,
    })
}

/// Why a mail is automatic (an auto-reply or a bounce) and must be dropped, or `None`:
/// `Auto-Submitted` other than `no` (RFC 3834), `Precedence: bulk|junk|list|auto_reply`,
/// `X-Autoreply` / `X-Autorespond`, the null
/// Return-Path, a `multipart/report` (delivery status), a `MAILER-DAEMON` or `postmaster` sender.
pub fn automatic(
    headers: &[(String, String)],
    return_path: &ReturnPath,
    from: &str,
    report: bool,
) -> Option<&'static str> {
    for (name, value) in headers {
        let v = value.trim().to_ascii_lowercase();
        match name.to_ascii_lowercase().as_str() {
            "auto-submitted" if v != "no" => return Some("auto-submitted"),
            "precedence" if matches!(v.as_str(), "bulk" | "junk" | "list" | "auto_reply") => {
                return Some("precedence");
            }
            "x-autoreply" | "x-autorespond" | "x-autoresponder" => return Some("x-autoreply"),
            _ => {}
        }
    }
    if *return_path == ReturnPath::Null {
        return Some("null return-path");
    }
    if report {
        return Some("delivery report");
    }
    let local = from.split('@').next().unwrap_or("");
    if local.eq_ignore_ascii_case("mailer-daemon") || local.eq_ignore_ascii_case("postmaster") {
        return Some("mailer-daemon");
    }
    None
}

/// The reply's own text: everything before the first line that starts quoted history
/// (`On … wrote:`, `-----Original Message-----`, an Outlook `From:` header block followed by
/// `Sent:`/`Date:`, a `>`-quoted tail) or a signature (`-- `, `Sent from my …`), with trailing
/// blank lines removed. Lines starting with `>` inside the reply are kept only when the reply
/// goes on after them (an interleaved quote); a trailing block of them is dropped.
pub fn strip_reply(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text.lines().collect();
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        let lower = t.to_ascii_lowercase();
        let wrote = lower.starts_with("on ") && (lower.ends_with("wrote:") || joined_wrote(&lines, i));
        let original = t.starts_with("-----") && lower.contains("original message");
        let outlook = lower.starts_with("from:")
            && lines.get(i + 1..(i + 4).min(lines.len())).is_some_and(|next| {
                next.iter().any(|l| {
                    let l = l.trim().to_ascii_lowercase();
                    l.starts_with("sent:") || l.starts_with("date:")
                })
            });
        let signature = *line == "-- " || t == "--" || lower.starts_with("sent from my ");
        let underscores = t.len() >= 10 && t.chars().all(|c| c == '_');
        if wrote || original || outlook || signature || underscores {
            end = i;
            break;
        }
    }
    let mut kept: Vec<&str> = lines[..end].to_vec();
    // A trailing `>`-quoted block (with blank lines around it) is history, not the reply.
    while kept.last().is_some_and(|l| l.trim().is_empty() || l.trim_start().starts_with('>')) {
        kept.pop();
    }
    kept.join("\n").trim_matches('\n').to_string()
}

/// An HTML-only body as plain text: everything from the first mark of quoted history on is cut
/// (`<blockquote`, Gmail's `gmail_quote`, Thunderbird's `moz-cite-prefix`, Outlook's
/// `divRplyFwdMsg` / `appendonsend`), block elements become line breaks, then `mail-parser`'s
/// converter drops the tags, `<head>`, `<style>`, `<script>` and comments and decodes entities.
fn html_text(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let attribute = |mark: &str| lower.find(mark).and_then(|at| lower[..at].rfind('<'));
    let cut = [
        lower.find("<blockquote"),
        attribute("gmail_quote"),
        attribute("moz-cite-prefix"),
        attribute("divrplyfwdmsg"),
        attribute("appendonsend"),
    ]
    .into_iter()
    .flatten()
    .min()
    .unwrap_or(html.len());
    mail_parser::decoders::html::html_to_text(&block_breaks(&html[..cut]))
}

/// `html` with a `<br>` before every block element's opening tag, so its text starts a line.
fn block_breaks(html: &str) -> String {
    const BLOCKS: &[&str] =
        &["div", "blockquote", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "ul", "ol", "pre"];
    let mut out = String::with_capacity(html.len() + html.len() / 8);
    for (i, part) in html.split('<').enumerate() {
        if i > 0 {
            let name: String =
                part.chars().take_while(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect();
            if BLOCKS.contains(&name.as_str()) {
                out.push_str("<br>");
            }
            out.push('<');
        }
        out.push_str(part);
    }
    out
}

/// `On Tue, 1 Dec 2026, Ann <a@x>` wrapped over two lines before `wrote:`.
fn joined_wrote(lines: &[&str], i: usize) -> bool {
    lines.get(i + 1).is_some_and(|next| next.trim().to_ascii_lowercase().ends_with("wrote:"))
}

/// The inbound address Atrium reads (`support@portal.example`): mail to it opens a ticket, and
/// replies go to `<local>+<token>@<domain>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundAddress {
    local: String,
    domain: String,
}

/// What an incoming mail was addressed to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recipient {
    /// `<local>+<token>@<domain>`: a reply to a notification.
    Reply(String),
    /// The inbound address itself.
    Bare,
}

/// The length of the longest local part RFC 5321 (4.5.3.1.1) lets a server accept.
pub const LOCAL_PART_MAX: usize = 64;

impl InboundAddress {
    /// Parses `local@domain` (lower-cased; mail systems may fold case). The local part must
    /// leave room for `+` and a token of `token_len` characters within [`LOCAL_PART_MAX`].
    pub fn parse(address: &str, token_len: usize) -> Result<Self, String> {
        let a = address.trim().to_ascii_lowercase();
        let (local, domain) = a.split_once('@').ok_or_else(|| format!("{address:?} is not an address"))?;
        let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
        if !ok(local) || !ok(domain) || local.contains('+') || (!domain.contains('.') && domain != "localhost") {
            return Err(format!("{address:?} is not a plain local@domain address (letters, digits, - . _; no +)"));
        }
        if local.len() + 1 + token_len > LOCAL_PART_MAX {
            return Err(format!(
                "the local part of {address:?} is too long: with `+` and the {token_len}-character reply token it \
                 must fit in {LOCAL_PART_MAX} characters"
            ));
        }
        Ok(InboundAddress { local: local.to_string(), domain: domain.to_string() })
    }

    /// The address itself.
    pub fn address(&self) -> String {
        format!("{}@{}", self.local, self.domain)
    }

    /// The reply address carrying `token`.
    pub fn reply_address(&self, token: &str) -> String {
        format!("{}+{}@{}", self.local, token.to_ascii_lowercase(), self.domain)
    }

    /// Which of `recipients` is ours: the first reply address, else the bare address.
    pub fn recipient(&self, recipients: &[String]) -> Option<Recipient> {
        let mut bare = false;
        for r in recipients {
            let Some((local, domain)) = r.rsplit_once('@') else { continue };
            if !domain.eq_ignore_ascii_case(&self.domain) {
                continue;
            }
            let local = local.to_ascii_lowercase();
            if local == self.local {
                bare = true;
            } else if let Some(token) = local.strip_prefix(&format!("{}+", self.local)) {
                return Some(Recipient::Reply(token.to_string()));
            }
        }
        bare.then_some(Recipient::Bare)
    }
}

#[cfg(test)]
mod tests;

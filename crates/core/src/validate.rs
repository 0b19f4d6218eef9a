//! Length limits for every text field (SEC-IO-2) and small input helpers.

use crate::{Error, Result};

/// A person's or company's name.
pub const NAME_MAX: usize = 200;
/// A project or task title.
pub const TITLE_MAX: usize = 300;
/// A description or comment body (markdown).
pub const BODY_MAX: usize = 20_000;
/// An email address (RFC 5321).
pub const EMAIL_MAX: usize = 254;
/// A custom project page's title (it is a tab label).
pub const PAGE_TITLE_MAX: usize = 80;
/// A markdown project page's body (rendered with the comments' bounded renderer).
pub const PAGE_BODY_MAX: usize = 50_000;
/// A staff member's job title.
pub const JOB_TITLE_MAX: usize = 100;
/// A client's own invitation mail text.
pub const INVITATION_TEXT_MAX: usize = 2_000;

/// The longest `next` (a same-site path to return to after a form post).
pub const NEXT_MAX: usize = 2048;

/// Bidirectional controls: embeddings and overrides (U+202A–U+202E), isolates (U+2066–U+2069)
/// and the marks (U+200E, U+200F, U+061C). An override makes `invoice\u{202E}fdp.exe` read as
/// `invoiceexe.pdf`; none of them is needed to write a name in any script.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Control characters: C0 (U+0000–U+001F), DEL and C1 (U+0080–U+009F).
fn is_control(c: char) -> bool {
    c.is_control()
}

/// Invisible characters that only hide or break up text: zero-width space (U+200B), word joiner
/// (U+2060), the invisible operators (U+2061–U+2064), the byte-order mark (U+FEFF), the Mongolian
/// vowel separator (U+180E), interlinear annotation (U+FFF9–U+FFFB) and the line and paragraph
/// separators (U+2028, U+2029). Zero-width (non-)joiners (U+200C, U+200D) are *kept*: Persian and
/// Indic names and emoji sequences need them, and they cannot reorder or split a line.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{180E}' | '\u{FFF9}'..='\u{FFFB}' | '\u{2028}' | '\u{2029}'
    )
}

/// Checks the characters of single-line text (SEC-IO-9): no control characters at all (tab, CR
/// and LF included), no bidi controls, no invisible format characters.
pub fn line_chars(field: &'static str, value: &str) -> Result<()> {
    if value.chars().any(is_control) {
        return Err(Error::invalid(field, "must be one line without control characters"));
    }
    if value.chars().any(is_bidi_control) {
        return Err(Error::invalid(field, "must not contain bidirectional control characters"));
    }
    if value.chars().any(is_invisible_format) {
        return Err(Error::invalid(field, "must not contain invisible formatting characters"));
    }
    Ok(())
}

/// Checks the characters of multi-line text (descriptions, comments, messages, notes): newlines
/// and tabs are kept; any other control character and the bidi embeddings, overrides and
/// isolates are refused (they reorder what a reader sees, as in "Trojan Source"). The bidi
/// *marks* (U+200E, U+200F, U+061C) are kept here: right-to-left writers use them in running
/// text, and they cannot reverse a run.
pub fn text_chars(field: &'static str, value: &str) -> Result<()> {
    if value.chars().any(|c| is_control(c) && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    if value.chars().any(|c| is_bidi_control(c) && !matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}')) {
        return Err(Error::invalid(field, "must not contain bidirectional control characters"));
    }
    Ok(())
}

/// Trims `value`, then checks it is non-empty (if `required`), at most `max` characters, and
/// passes `chars`.
fn checked(
    field: &'static str,
    value: &str,
    max: usize,
    required: bool,
    chars: fn(&'static str, &str) -> Result<()>,
) -> Result<String> {
    let v = value.trim();
    if required && v.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(Error::invalid(field, format!("must be at most {max} characters")));
    }
    chars(field, v)?;
    Ok(v.to_string())
}

/// Single-line text (a name, title, file name, reference): trimmed, non-empty, at most `max`
/// characters, and [`line_chars`].
pub fn line(field: &'static str, value: &str, max: usize) -> Result<String> {
    checked(field, value, max, true, line_chars)
}

/// Like [`line`] but an empty value is allowed (returned as empty).
pub fn optional_line(field: &'static str, value: &str, max: usize) -> Result<String> {
    checked(field, value, max, false, line_chars)
}

/// Multi-line text (a description or comment body): trimmed, non-empty, at most `max`
/// characters, and [`text_chars`].
pub fn text(field: &'static str, value: &str, max: usize) -> Result<String> {
    checked(field, value, max, true, text_chars)
}

/// Like [`text`] but an empty value is allowed (returned as empty).
pub fn optional_text(field: &'static str, value: &str, max: usize) -> Result<String> {
    checked(field, value, max, false, text_chars)
}

/// A same-site path to return to (`next`): starts with `/` but not `//`, at most [`NEXT_MAX`]
/// characters of visible ASCII (no space, control character, backslash or non-ASCII), so it can
/// only name a path of this site and is always a valid `Location` header. Check it *before*
/// making the change it follows.
pub fn local_path(field: &'static str, value: &str) -> Result<String> {
    if value.len() > NEXT_MAX {
        return Err(Error::invalid(field, format!("must be at most {NEXT_MAX} characters")));
    }
    let visible = value.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    if !visible || !value.starts_with('/') || value.starts_with("//") {
        return Err(Error::invalid(field, "must be a path on this site"));
    }
    Ok(value.to_string())
}

/// Normalises and checks an email address (lower-cased; a plausible `local@domain`).
pub fn email(field: &'static str, value: &str) -> Result<String> {
    let v = value.trim().to_lowercase();
    if v.len() > EMAIL_MAX {
        return Err(Error::invalid(field, format!("must be at most {EMAIL_MAX} characters")));
    }
    let ok = match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !v.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
                && !domain.contains('@')
        }
        None => false,
    };
    if !ok {
        return Err(Error::invalid(field, "must be an email address"));
    }
    line_chars(field, &v)?;
    Ok(v)
}

/// Parses an optional `YYYY-MM-DD` date; empty means none.
pub fn date(field: &'static str, value: Option<&str>) -> Result<Option<chrono::NaiveDate>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| Error::invalid(field, "must be a date as YYYY-MM-DD")),
    }
}

/// Parses a value of one of the string enums, naming the field on error.
pub fn parse<T: std::str::FromStr<Err = String>>(field: &'static str, value: &str) -> Result<T> {
    value.trim().parse().map_err(|m| Error::invalid(field, m))
}

/// Longest file or folder name.
pub const FILE_NAME_MAX: usize = 255;

/// Checks a file or folder name: 1–255 characters of one line (no control, bidi or invisible
/// characters: [`line_chars`], SEC-IO-9), no path separators,
/// not `.` or `..` (names are labels; storage paths never come from them).
pub fn file_name(field: &'static str, name: &str) -> Result<String> {
    let n = name.trim();
    if n.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if n.chars().count() > FILE_NAME_MAX {
        return Err(Error::invalid(field, format!("must be at most {FILE_NAME_MAX} characters")));
    }
    line_chars(field, n)?;
    if n.contains('/') || n.contains('\\') {
        return Err(Error::invalid(field, "must not contain / or \\"));
    }
    if n == "." || n == ".." {
        return Err(Error::invalid(field, "is not a valid name"));
    }
    Ok(n.to_string())
}

/// `r` with the field of an input error renamed to `field` (for a part of a list:
/// `fields[2].label`, `tasks[0].title`).
pub fn named<T>(field: &str, r: Result<T>) -> Result<T> {
    r.map_err(|e| match e {
        Error::Invalid { message, .. } => Error::invalid(field.to_string(), message),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_limits_name_the_field() {
        // SEC-IO-2
        match text("name", &"a".repeat(NAME_MAX + 1), NAME_MAX) {
            Err(Error::Invalid { field, .. }) => assert_eq!(field, "name"),
            other => panic!("unexpected {other:?}"),
        }
        assert!(text("name", "   ", NAME_MAX).is_err());
        assert!(text("name", "a\u{0}b", NAME_MAX).is_err());
        assert_eq!(text("name", "  Ana  ", NAME_MAX).unwrap(), "Ana");
    }

    fn field_of(r: Result<String>) -> String {
        match r {
            Err(Error::Invalid { field, .. }) => field.into_owned(),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn single_line_text_refuses_controls_bidi_and_invisible_characters() {
        // SEC-IO-9
        for bad in [
            "Ana\r\nBcc: x@y.io",
            "Ana\nLima",
            "Ana\tLima",
            "Ana\u{7f}Lima",
            "Ana\u{85}Lima",
            "Ana\u{9b}Lima",
            "invoice\u{202E}fdp.exe",
            "a\u{202A}b",
            "a\u{2066}b",
            "a\u{2069}b",
            "a\u{200E}b",
            "a\u{200F}b",
            "a\u{061C}b",
            "Ana\u{200B}Lima",
            "Ana\u{2060}Lima",
            "\u{FEFF}Ana",
            "Ana\u{2028}Lima",
            "Ana\u{2029}Lima",
        ] {
            assert_eq!(field_of(line("name", bad, NAME_MAX)), "name", "{bad:?}");
            assert_eq!(field_of(optional_line("title", bad, NAME_MAX)), "title", "{bad:?}");
        }
        // Names in every script stay possible: joiners (Persian, Indic, emoji sequences), accents.
        for ok in ["Zoë O'Brien-Łukasz", "می\u{200C}خواهم", "क्\u{200D}ष", "👩\u{200D}💻 Team", "שלום", "مرحبا"]
        {
            assert_eq!(line("name", ok, NAME_MAX).unwrap(), ok);
        }
        assert_eq!(line("name", "  Ana Lima \n", NAME_MAX).unwrap(), "Ana Lima", "surrounding whitespace is trimmed");
    }

    #[test]
    fn multi_line_text_keeps_newlines_and_tabs_but_refuses_other_controls_and_overrides() {
        assert_eq!(text("body", "one\r\n\ttwo\n", BODY_MAX).unwrap(), "one\r\n\ttwo");
        // Right-to-left writers use the bidi marks in running text.
        assert!(text("body", "version \u{200F}2\u{200F} שלום", BODY_MAX).is_ok());
        for bad in ["a\u{0}b", "a\u{1b}[31mb", "a\u{7f}", "a\u{9b}b", "a\u{202E}b", "a\u{2067}b"] {
            assert_eq!(field_of(text("body", bad, BODY_MAX)), "body", "{bad:?}");
            assert_eq!(field_of(optional_text("description", bad, BODY_MAX)), "description", "{bad:?}");
        }
    }

    #[test]
    fn local_paths_name_only_this_site() {
        for ok in ["/portal", "/portal/tasks/01a2?x=1#c", "/portal/tasks/1%0d%0a"] {
            assert_eq!(local_path("next", ok).unwrap(), ok);
        }
        let long = format!("/{}", "a".repeat(NEXT_MAX));
        for bad in [
            "",
            "portal",
            "//evil.test",
            "/\\evil.test",
            "/a\\b",
            "https://evil.test/",
            "/portal\r\nSet-Cookie: x=1",
            "/portal\n",
            "/portal x",
            "/portal\u{7f}",
            "/portal\u{202E}",
            "/pörtal",
            long.as_str(),
        ] {
            assert_eq!(field_of(local_path("next", bad)), "next", "{bad:?}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(email("email", " Ana@Example.COM ").unwrap(), "ana@example.com");
        for bad in ["", "ana", "ana@", "@x.io", "ana@localhost", "a b@x.io", "a@b@c.io", "<a@x.io>", "an\u{202E}a@x.io"]
        {
            assert!(email("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates() {
        assert_eq!(date("due_date", None).unwrap(), None);
        assert!(date("due_date", Some("2026-02-30")).is_err());
        assert!(date("due_date", Some("2026-02-28")).unwrap().is_some());
    }
}

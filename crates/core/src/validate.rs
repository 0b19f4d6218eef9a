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

/// Trims `value` and checks it is non-empty and at most `max` characters.
pub fn text(field: &'static str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    optional_text(field, v, max)
}

/// Like [`text`] but an empty value is allowed (returned as empty).
pub fn optional_text(field: &'static str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.chars().count() > max {
        return Err(Error::invalid(field, format!("must be at most {max} characters")));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(v.to_string())
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
    if ok { Ok(v) } else { Err(Error::invalid(field, "must be an email address")) }
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

    #[test]
    fn emails() {
        assert_eq!(email("email", " Ana@Example.COM ").unwrap(), "ana@example.com");
        for bad in ["", "ana", "ana@", "@x.io", "ana@localhost", "a b@x.io", "a@b@c.io", "<a@x.io>"] {
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

//! @mentions. A mention is written `@[Display Name]` (the composer's autocomplete inserts it);
//! the store resolves each name among the people who can see the thing and refuses the rest.

/// At most this many distinct people can be mentioned in one text.
pub const MAX_MENTIONS: usize = 20;

/// The longest name a mention can hold, in bytes (names are at most 200 characters).
const NAME_BYTES_MAX: usize = 800;

/// Where the `]` closing a mention that starts at the beginning of `after` is: looked for only
/// up to the next line break and within [`NAME_BYTES_MAX`], so scanning a text is linear
/// however many unclosed `@[` it holds.
fn closing(after: &str) -> Option<usize> {
    after.bytes().take(NAME_BYTES_MAX + 1).take_while(|&b| b != b'\n').position(|b| b == b']')
}

/// The distinct names mentioned in `body`, in order of first appearance.
pub fn names(body: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("@[") {
        let after = &rest[start + 2..];
        let Some(end) = closing(after) else {
            rest = after;
            continue;
        };
        let name = after[..end].trim();
        if !name.is_empty() && name.chars().count() <= 200 {
            let name = name.to_string();
            if !out.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
                out.push(name);
            }
        }
        rest = &after[end + 1..];
    }
    out
}

/// `body` with each `@[Name]` shown as `@Name` (for excerpts and plain-text mail).
pub fn plain(body: &str) -> String {
    replace(body, |n| format!("@{n}"))
}

/// `body` with each `@[Name]` marked up as strong `@Name` (before markdown rendering).
pub fn emphasized(body: &str) -> String {
    replace(body, |n| format!("**@{}**", n.replace('*', "\\*")))
}

fn replace(body: &str, f: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(start) = rest.find("@[") {
        let after = &rest[start + 2..];
        match closing(after) {
            Some(end) if !after[..end].trim().is_empty() => {
                out.push_str(&rest[..start]);
                out.push_str(&f(after[..end].trim()));
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str(&rest[..start + 2]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_once_each() {
        let b = "Hi @[Ana Lopez] and @[ana lopez], cc @[Bob]. Not @Carl nor @[ ] nor @[open";
        assert_eq!(names(b), vec!["Ana Lopez".to_string(), "Bob".to_string()]);
    }

    #[test]
    fn unclosed_mentions_are_scanned_once() {
        // SEC-IO-7: each `@[` looks at most one name's length ahead, not to the end of the text.
        let body = "@[".repeat(10_000) + "\n]";
        assert!(names(&body).is_empty());
        assert_eq!(emphasized(&body), body);
        let far = format!("@[{}]", "a".repeat(NAME_BYTES_MAX + 1));
        assert!(names(&far).is_empty(), "a name longer than any name is not a mention");
    }

    #[test]
    fn rendering_keeps_surrounding_text() {
        assert_eq!(plain("x @[Ana] y"), "x @Ana y");
        assert_eq!(emphasized("@[A*b] ok @[ unterminated"), "**@A\\*b** ok @[ unterminated");
        assert_eq!(plain("no mentions"), "no mentions");
    }
}

//! @mentions. A mention is written `@[Display Name]` (the composer's autocomplete inserts it);
//! the store resolves each name among the people who can see the thing and refuses the rest.

/// At most this many distinct people can be mentioned in one text.
pub const MAX_MENTIONS: usize = 20;

/// The distinct names mentioned in `body`, in order of first appearance.
pub fn names(body: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("@[") {
        let after = &rest[start + 2..];
        let Some(end) = after.find(']') else { break };
        let name = after[..end].trim();
        if !name.is_empty() && !name.contains('\n') && name.chars().count() <= 200 {
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
        match after.find(']') {
            Some(end) if !after[..end].contains('\n') && !after[..end].trim().is_empty() => {
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
    fn rendering_keeps_surrounding_text() {
        assert_eq!(plain("x @[Ana] y"), "x @Ana y");
        assert_eq!(emphasized("@[A*b] ok @[ unterminated"), "**@A\\*b** ok @[ unterminated");
        assert_eq!(plain("no mentions"), "no mentions");
    }
}

//! Markdown to safe HTML (SEC-IO-3): pulldown-cmark renders, ammonia sanitizes.

/// The sanitizer, built once: a `Builder` allocates its allow-lists, so rebuilding it for every
/// comment on a page was measurable. It holds no state between calls.
static CLEANER: std::sync::LazyLock<ammonia::Builder<'static>> = std::sync::LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.link_rel(Some("noopener noreferrer nofollow")).url_schemes(["http", "https", "mailto"].into());
    b
});

/// Renders user markdown to sanitized HTML; raw HTML and scripts are rendered inert.
pub fn to_html(source: &str) -> String {
    let mut options = pulldown_cmark::Options::empty();
    options.insert(pulldown_cmark::Options::ENABLE_STRIKETHROUGH);
    options.insert(pulldown_cmark::Options::ENABLE_TABLES);
    options.insert(pulldown_cmark::Options::ENABLE_TASKLISTS);
    let source = crate::mention::emphasized(source);
    let parser = pulldown_cmark::Parser::new_ext(&source, options);
    let mut html = String::with_capacity(source.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, parser);
    CLEANER.clean(&html).to_string()
}

/// The words of user markdown without its markup, for one-line excerpts (escaped by templates).
pub fn plain_text(source: &str) -> String {
    use pulldown_cmark::{Event, Parser};
    let mut out = String::with_capacity(source.len());
    let source = crate::mention::plain(source);
    for event in Parser::new(&source) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::End(_) => out.push(' '),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_handlers_are_removed() {
        // SEC-IO-3
        let html =
            to_html("Hi **there** <script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1))");
        assert!(html.contains("<strong>there</strong>"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("onerror"));
        assert!(!html.contains("javascript:"));
    }

    #[test]
    fn links_are_kept_safe_and_marked_external() {
        let html = to_html("[site](https://example.test) [mail](mailto:a@b.test) [x](data:text/html,hi)");
        assert!(html.contains(r#"href="https://example.test" rel="noopener noreferrer nofollow""#), "{html}");
        assert!(html.contains("mailto:a@b.test"));
        assert!(!html.contains("data:"), "{html}");
    }

    #[test]
    fn plain_text_drops_markup_but_keeps_words() {
        assert_eq!(plain_text("Do you need **PNG** or `SVG`?\n\n- one\n- two"), "Do you need PNG or SVG? one two");
        // Raw HTML is not text: it never reaches an excerpt.
        assert_eq!(plain_text("hi <b>x</b>"), "hi x");
    }
}

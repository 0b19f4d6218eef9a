//! Markdown to safe HTML (SEC-IO-3, SEC-IO-7): pulldown-cmark parses, the event stream is
//! bounded and defused here, ammonia sanitises what is left.
//!
//! The work one text can cause is bounded before the sanitiser sees it — the sanitiser's tree
//! builder is the part whose cost grows with nesting (measured: 10,000 nested quotes cost
//! 300 ms there and under 1 ms in the parser):
//! - elements nest at most [`MAX_DEPTH`] deep; deeper containers are flattened into the
//!   deepest allowed one (their text stays);
//! - at most [`MAX_EVENTS`] parser events: a text that expands beyond that (a table whose
//!   header declares thousands of columns pads every row to them) is shown as escaped text;
//! - raw HTML is shown as the text it is, never parsed as markup;
//! - images become links (`![logo](url)` is a link "logo"): a picture in someone's text must
//!   not make the reader's browser send a request by itself (a same-origin `GET` with the
//!   reader's cookies, or a tracking pixel).

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// How deep elements may nest in rendered markdown (quotes, lists, items, emphasis, links …).
pub const MAX_DEPTH: usize = 16;

/// The most parser events one text may produce before it is shown as plain escaped text
/// instead. A 20,000-character comment of ordinary prose produces a few thousand; a 256 KiB
/// markdown file a few tens of thousands.
pub const MAX_EVENTS: usize = 200_000;

/// The sanitizer, built once: a `Builder` allocates its allow-lists, so rebuilding it for every
/// comment on a page was measurable. It holds no state between calls.
static CLEANER: std::sync::LazyLock<ammonia::Builder<'static>> = std::sync::LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.link_rel(Some("noopener noreferrer nofollow")).url_schemes(["http", "https", "mailto"].into());
    // Images are turned into links before this; none may reach the page even if one slipped by.
    b.rm_tags(["img"]);
    b
});

/// The most `|` one line may hold for the text to be read with tables: the parser pads every
/// row of a table to its header's column count, so a header of thousands of columns made a
/// 23 KB text into 2.4 MB of cells. A text with a longer line is read without tables.
pub const MAX_TABLE_COLUMNS: usize = 64;

fn options(source: &str) -> Options {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TASKLISTS);
    if source.lines().all(|l| l.bytes().filter(|&b| b == b'|').count() <= MAX_TABLE_COLUMNS + 1) {
        options.insert(Options::ENABLE_TABLES);
    }
    options
}

/// Renders user markdown to sanitized HTML; raw HTML is shown as text, scripts never run, and
/// the work is bounded by [`MAX_DEPTH`] and [`MAX_EVENTS`].
pub fn to_html(source: &str) -> String {
    let source = crate::mention::emphasized(source);
    match bounded_events(&source) {
        Some(events) => {
            let mut html = String::with_capacity(source.len() * 3 / 2);
            pulldown_cmark::html::push_html(&mut html, events.into_iter());
            CLEANER.clean(&html).to_string()
        }
        None => escaped_paragraphs(&source),
    }
}

/// The events of `source` with nesting flattened at [`MAX_DEPTH`], raw HTML as text and images
/// as links; `None` when there are more than [`MAX_EVENTS`].
fn bounded_events(source: &str) -> Option<Vec<Event<'_>>> {
    let mut out = Vec::new();
    // For each open tag: whether it was kept (a dropped start drops its end too).
    let mut open: Vec<bool> = Vec::new();
    let mut depth = 0usize;
    for event in Parser::new_ext(source, options(source)) {
        if out.len() >= MAX_EVENTS {
            return None;
        }
        match event {
            Event::Start(tag) => {
                let keep = depth < MAX_DEPTH;
                open.push(keep);
                if keep {
                    depth += 1;
                    out.push(Event::Start(defuse(tag)));
                }
            }
            Event::End(end) => {
                if open.pop().unwrap_or(false) {
                    depth = depth.saturating_sub(1);
                    out.push(Event::End(match end {
                        TagEnd::Image => TagEnd::Link,
                        TagEnd::HtmlBlock => TagEnd::Paragraph,
                        other => other,
                    }));
                }
            }
            Event::Html(raw) | Event::InlineHtml(raw) => out.push(Event::Text(raw)),
            other => out.push(other),
        }
    }
    Some(out)
}

/// A tag as it may be rendered: an image becomes a link to it.
fn defuse(tag: Tag<'_>) -> Tag<'_> {
    match tag {
        Tag::Image { link_type, dest_url, title, id } => Tag::Link { link_type, dest_url, title, id },
        // A raw HTML block is shown as a paragraph of its text (escaped as above).
        Tag::HtmlBlock => Tag::Paragraph,
        other => other,
    }
}

/// `source` shown as escaped text, one paragraph per blank-line-separated block.
fn escaped_paragraphs(source: &str) -> String {
    let mut out = String::with_capacity(source.len() + source.len() / 4);
    for para in source.split("\n\n").filter(|p| !p.trim().is_empty()) {
        out.push_str("<p>");
        out.push_str(&escape(para.trim()).replace('\n', "<br>"));
        out.push_str("</p>\n");
    }
    out
}

/// `text` escaped for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The words of user markdown without its markup, for one-line excerpts (escaped by templates).
pub fn plain_text(source: &str) -> String {
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
        assert!(!html.contains("<img"));
        assert!(!html.contains("javascript:"));
        // Raw HTML is shown as what it is.
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
    }

    #[test]
    fn links_are_kept_safe_and_marked_external() {
        let html = to_html("[site](https://example.test) [mail](mailto:a@b.test) [x](data:text/html,hi)");
        assert!(html.contains(r#"href="https://example.test" rel="noopener noreferrer nofollow""#), "{html}");
        assert!(html.contains("mailto:a@b.test"));
        assert!(!html.contains("data:"), "{html}");
    }

    #[test]
    fn images_become_links_so_nothing_is_fetched_by_itself() {
        // SEC-IO-6: `![](/staff/projects/…/messages?channel=staff)` must not make a reader's
        // browser request that page.
        let html = to_html("See ![the logo](/staff/projects/1/messages?channel=staff) and ![x](https://t.test/p.gif)");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains(r#"<a href="/staff/projects/1/messages?channel=staff""#), "{html}");
        assert!(html.contains(">the logo</a>"), "{html}");
        assert!(html.contains(r#"href="https://t.test/p.gif""#), "{html}");
    }

    /// The deepest element nesting in `html` (void and self-closed tags aside).
    fn nesting(html: &str) -> usize {
        let (mut depth, mut max) = (0usize, 0usize);
        let mut rest = html;
        while let Some(i) = rest.find('<') {
            rest = &rest[i + 1..];
            let end = rest.find('>').unwrap_or(rest.len());
            let tag = &rest[..end];
            if tag.starts_with('/') {
                depth = depth.saturating_sub(1);
            } else if !tag.ends_with('/')
                && !tag.starts_with("br")
                && !tag.starts_with("hr")
                && !tag.starts_with("input")
            {
                depth += 1;
                max = max.max(depth);
            }
        }
        max
    }

    #[test]
    fn nesting_is_flattened_at_the_limit_and_the_text_stays() {
        // SEC-IO-7: the shapes that cost the sanitiser quadratic time (measured 0.3–0.8 s each
        // at 20,000 characters before this bound).
        for (name, src) in [
            ("quotes", "> ".repeat(9_999) + "deep"),
            ("ordered lists", "1. ".repeat(6_000) + "deep"),
            ("quoted lists", "> - ".repeat(5_000) + "deep"),
        ] {
            let html = to_html(&src);
            assert!(nesting(&html) <= MAX_DEPTH, "{name}: nested {} deep", nesting(&html));
            assert!(html.contains("deep"), "{name}: the text is kept");
            assert!(html.len() < 4 * src.len(), "{name}: {} bytes out of {}", html.len(), src.len());
        }
        // Ordinary nesting is untouched.
        let html = to_html("> quoted\n> > twice\n\n- a\n  - b");
        assert!(html.contains("<blockquote>\n<p>quoted</p>\n<blockquote>"), "{html}");
        assert!(html.contains("<li>a\n<ul>\n<li>b</li>"), "{html}");
    }

    #[test]
    fn raw_html_nesting_is_text_not_elements() {
        let html = to_html(&"<div>".repeat(4_000));
        assert_eq!(nesting(&html), 1, "one paragraph of text");
    }

    #[test]
    fn a_table_wider_than_the_limit_is_read_as_text() {
        // A 23 KB table header of 5,000 columns made 1,000 rows of 5,000 cells: 2.4 MB of HTML.
        let src = "|a".repeat(5_000) + "\n" + &"|-".repeat(5_000) + "\n" + &"|<x>\n".repeat(1_000);
        let events = bounded_events(&src).expect("within the event limit");
        assert!(events.len() < 10_000, "{} events", events.len());
        let html = to_html(&src);
        assert!(!html.contains("<table") && html.contains("|&lt;x&gt;"), "{}", &html[..80]);
        assert!(html.len() < 2 * src.len());
        // Ordinary tables render as tables, up to the limit.
        assert!(to_html("|a|b|\n|-|-|\n|1|2|").contains("<table>"));
        let wide = "|a".repeat(MAX_TABLE_COLUMNS) + "|\n" + &"|-".repeat(MAX_TABLE_COLUMNS) + "|\n";
        assert!(to_html(&wide).contains("<table>"));
    }

    #[test]
    fn a_text_that_expands_past_the_event_limit_is_shown_escaped() {
        // Every `*a` pair is four events; a text of them is cut off at the limit, then escaped.
        let src = "*a* ".repeat(MAX_EVENTS / 3);
        assert!(bounded_events(&src).is_none(), "over {MAX_EVENTS} events");
        let html = to_html(&src);
        assert!(html.starts_with("<p>*a* *a*") && !html.contains("<em>"), "{}", &html[..40]);
    }

    #[test]
    fn plain_text_drops_markup_but_keeps_words() {
        assert_eq!(plain_text("Do you need **PNG** or `SVG`?\n\n- one\n- two"), "Do you need PNG or SVG? one two");
        // Raw HTML is not text: it never reaches an excerpt.
        assert_eq!(plain_text("hi <b>x</b>"), "hi x");
    }
}

//! Addresses of custom project pages: an `embed` page shows a service of [`EMBED_SERVICES`] in a
//! sandboxed iframe, a `link` page a card pointing anywhere on the web. Every address is parsed
//! with the `url` crate (never by string matching on the raw input), must be absolute, carries no
//! user name or password, and an embed is turned into the service's own embeddable form.

use url::Url;

use crate::{Error, Result};

/// The longest address of a link or embed page.
pub const URL_MAX: usize = 2048;

/// An embeddable service: its name and the origins its embeddable form is served from (the CSP's
/// `frame-src` lists exactly these).
pub struct EmbedService {
    pub name: &'static str,
    pub frame_origins: &'static [&'static str],
}

/// The services an `embed` page may show, by name.
pub const EMBED_SERVICES: &[EmbedService] = &[
    EmbedService { name: "Figma", frame_origins: &["https://www.figma.com"] },
    EmbedService { name: "Loom", frame_origins: &["https://www.loom.com"] },
    EmbedService { name: "YouTube", frame_origins: &["https://www.youtube-nocookie.com"] },
    EmbedService { name: "Vimeo", frame_origins: &["https://player.vimeo.com"] },
    EmbedService { name: "Google Docs, Sheets and Slides", frame_origins: &["https://docs.google.com"] },
    EmbedService { name: "Miro", frame_origins: &["https://miro.com"] },
];

/// Every origin an embed may be framed from, for the CSP's `frame-src`.
pub fn frame_origins() -> impl Iterator<Item = &'static str> {
    EMBED_SERVICES.iter().flat_map(|s| s.frame_origins.iter().copied())
}

/// Parses an absolute address of one of `schemes`, refusing anything else (relative, other
/// schemes such as `javascript:` or `data:`, a user name or password, no host) as 422 on `field`.
fn parse(field: &'static str, raw: &str, schemes: &[&str]) -> Result<Url> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(Error::invalid(field, "is required"));
    }
    if raw.chars().count() > URL_MAX {
        return Err(Error::invalid(field, format!("must be at most {URL_MAX} characters")));
    }
    crate::validate::line_chars(field, raw)?;
    let url = Url::parse(raw).map_err(|_| Error::invalid(field, "must be an absolute web address"))?;
    if !schemes.contains(&url.scheme()) {
        return Err(Error::invalid(field, format!("must start with {}", schemes.join(": or ") + ":")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(field, "must not contain a user name or password"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid(field, "must name a host"));
    }
    Ok(url)
}

/// A link card's address: `http` or `https`, normalised.
pub fn link_url(raw: &str) -> Result<String> {
    Ok(parse("url", raw, &["https", "http"])?.to_string())
}

/// An embed page's address: its normalised form (stored) and the embeddable form the iframe
/// shows. Only `https` addresses of [`EMBED_SERVICES`] are accepted; anything else is 422 `url`.
pub fn embed_url(raw: &str) -> Result<(String, String)> {
    let url = parse("url", raw, &["https"])?;
    if url.port().is_some() {
        return Err(Error::invalid("url", "must not name a port"));
    }
    let embed = embeddable(&url).ok_or_else(|| {
        let names: Vec<&str> = EMBED_SERVICES.iter().map(|s| s.name).collect();
        Error::invalid("url", format!("must be a shareable address of {}", names.join(", ")))
    })?;
    Ok((url.to_string(), embed))
}

/// The first path segments of `url`.
fn segments(url: &Url) -> Vec<&str> {
    url.path_segments().map(|s| s.filter(|p| !p.is_empty()).collect()).unwrap_or_default()
}

/// An id made only of letters, digits, `-` and `_` (what every service's ids are), so nothing
/// of the input but the id reaches the embeddable address.
fn plain_id(s: &str) -> Option<&str> {
    (!s.is_empty() && s.len() <= 128 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .then_some(s)
}

fn embeddable(url: &Url) -> Option<String> {
    let host = url.host_str()?.to_ascii_lowercase();
    let seg = segments(url);
    let query = |key: &str| url.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned());
    match host.as_str() {
        "youtube.com" | "www.youtube.com" | "m.youtube.com" | "youtube-nocookie.com" | "www.youtube-nocookie.com" => {
            let id = match seg.as_slice() {
                ["watch"] => query("v")?,
                ["embed" | "shorts" | "live", id] => (*id).to_string(),
                _ => return None,
            };
            Some(format!("https://www.youtube-nocookie.com/embed/{}", plain_id(&id)?))
        }
        "youtu.be" => match seg.as_slice() {
            [id] => Some(format!("https://www.youtube-nocookie.com/embed/{}", plain_id(id)?)),
            _ => None,
        },
        "vimeo.com" | "www.vimeo.com" => match seg.as_slice() {
            [id] | [id, _] if id.chars().all(|c| c.is_ascii_digit()) => {
                Some(format!("https://player.vimeo.com/video/{}", plain_id(id)?))
            }
            _ => None,
        },
        "player.vimeo.com" => match seg.as_slice() {
            ["video", id] if id.chars().all(|c| c.is_ascii_digit()) => {
                Some(format!("https://player.vimeo.com/video/{}", plain_id(id)?))
            }
            _ => None,
        },
        "loom.com" | "www.loom.com" => match seg.as_slice() {
            ["share" | "embed", id] => Some(format!("https://www.loom.com/embed/{}", plain_id(id)?)),
            _ => None,
        },
        "figma.com" | "www.figma.com" => match seg.as_slice() {
            ["file" | "design" | "proto" | "board" | "slides", key, ..] => {
                plain_id(key)?;
                let mut e = Url::parse("https://www.figma.com/embed").ok()?;
                e.query_pairs_mut().append_pair("embed_host", "atrium").append_pair("url", url.as_str());
                Some(e.to_string())
            }
            _ => None,
        },
        "docs.google.com" => match seg.as_slice() {
            [kind @ ("document" | "spreadsheets" | "presentation"), "d", id, ..] => {
                Some(format!("https://docs.google.com/{kind}/d/{}/preview", plain_id(id)?))
            }
            _ => None,
        },
        "miro.com" => match seg.as_slice() {
            ["app", "board" | "live-embed", id, ..] => {
                // Board ids may end in `=` (base64 padding).
                plain_id(id.trim_end_matches('='))?;
                Some(format!("https://miro.com/app/live-embed/{id}/"))
            }
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embed(raw: &str) -> String {
        embed_url(raw).unwrap_or_else(|e| panic!("{raw}: {e}")).1
    }

    fn refused(raw: &str) -> String {
        match embed_url(raw) {
            Err(Error::Invalid { field, message }) => {
                assert_eq!(field, "url", "{raw}");
                message
            }
            other => panic!("{raw} should be refused: {other:?}"),
        }
    }

    #[test]
    fn each_service_becomes_its_embeddable_form() {
        assert_eq!(
            embed("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=3"),
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"
        );
        assert_eq!(embed("https://youtu.be/dQw4w9WgXcQ"), "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ");
        assert_eq!(embed("https://vimeo.com/76979871"), "https://player.vimeo.com/video/76979871");
        assert_eq!(
            embed("https://www.loom.com/share/0281766fa2d04bb788eaf19e65135184"),
            "https://www.loom.com/embed/0281766fa2d04bb788eaf19e65135184"
        );
        assert_eq!(
            embed("https://www.figma.com/file/AbC123/Site?node-id=1"),
            "https://www.figma.com/embed?embed_host=atrium&url=https%3A%2F%2Fwww.figma.com%2Ffile%2FAbC123%2FSite%3Fnode-id%3D1"
        );
        assert_eq!(
            embed("https://docs.google.com/document/d/1aBc_D-e/edit#heading=h.1"),
            "https://docs.google.com/document/d/1aBc_D-e/preview"
        );
        assert_eq!(
            embed("https://docs.google.com/spreadsheets/d/1xYz/edit"),
            "https://docs.google.com/spreadsheets/d/1xYz/preview"
        );
        assert_eq!(
            embed("https://docs.google.com/presentation/d/1pQ/edit"),
            "https://docs.google.com/presentation/d/1pQ/preview"
        );
        assert_eq!(embed("https://miro.com/app/board/uXjVO1a2b3c=/"), "https://miro.com/app/live-embed/uXjVO1a2b3c=/");
    }

    #[test]
    fn every_embeddable_form_is_served_from_an_allowed_frame_origin() {
        for raw in [
            "https://www.youtube.com/watch?v=a",
            "https://vimeo.com/1",
            "https://www.loom.com/share/a",
            "https://www.figma.com/design/a/b",
            "https://docs.google.com/document/d/a/edit",
            "https://miro.com/app/board/a=/",
        ] {
            let e = Url::parse(&embed(raw)).expect("embeddable form parses");
            let origin = e.origin().ascii_serialization();
            assert!(frame_origins().any(|o| o == origin), "{raw} → {origin}");
        }
    }

    #[test]
    fn anything_outside_the_allow_list_is_refused() {
        assert!(refused("javascript:alert(1)").contains("https"));
        refused("http://www.youtube.com/watch?v=abc");
        refused("https://evil.example/watch?v=abc");
        refused("https://www.youtube.com.evil.example/watch?v=abc");
        refused("https://user:pw@www.youtube.com/watch?v=abc");
        refused("https://www.youtube.com:8443/watch?v=abc");
        refused("https://www.youtube.com/watch?v=abc\"onload=x");
        refused("https://www.youtube.com/results?q=x");
        refused("https://docs.google.com/forms/d/abc/viewform");
        refused("data:text/html,<script>alert(1)</script>");
        refused("//www.youtube.com/watch?v=abc");
        refused("");
        refused(&format!("https://www.youtube.com/watch?v={}", "a".repeat(URL_MAX)));
    }

    #[test]
    fn links_are_web_addresses_only() {
        assert_eq!(link_url("https://example.com/brief").unwrap(), "https://example.com/brief");
        assert_eq!(link_url("http://example.com").unwrap(), "http://example.com/");
        for bad in
            ["javascript:alert(1)", "ftp://example.com", "https://a:b@example.com", "example.com", "mailto:x@y.z"]
        {
            assert!(matches!(link_url(bad), Err(Error::Invalid { field, .. }) if field == "url"), "{bad}");
        }
    }
}

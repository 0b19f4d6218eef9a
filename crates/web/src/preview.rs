//! Previews of stored files: thumbnails of images and of a PDF's first page (re-encoded PNGs,
//! so nothing of the original's metadata survives), and text or markdown rendered safely.
//!
//! Everything here works on bytes already read within the limits below and runs on a blocking
//! thread; a file that cannot be decoded or rendered simply has no preview.

use atrium_core::Error;

/// Longest side of a thumbnail on the Files tab, in pixels.
pub const THUMB_SIZE: u32 = 320;
/// Longest side of the large preview on a file's page, in pixels.
pub const LARGE_SIZE: u32 = 1200;
/// Largest image file a thumbnail is made from (it is decoded in memory).
pub const IMAGE_MAX_BYTES: u64 = 40 * 1024 * 1024;
/// Largest PDF whose first page is rendered (it is parsed in memory).
pub const PDF_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// How much of a text file its page shows.
pub const TEXT_MAX_BYTES: u64 = 256 * 1024;

/// How a file's page previews a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A picture: thumbnail and the image itself.
    Image,
    /// A PDF: its first page rendered, and the browser's own viewer in a new tab.
    Pdf,
    /// A video player (Range downloads).
    Video,
    /// An audio player.
    Audio,
    /// Plain text, shown escaped.
    Text,
    /// Markdown, rendered and sanitised like comments.
    Markdown,
    /// Nothing to show: download it.
    None,
}

impl Kind {
    /// The preview for a file with this sniffed content type and name.
    pub fn of(content_type: &str, name: &str) -> Kind {
        match content_type {
            "image/png" | "image/jpeg" | "image/gif" | "image/webp" => Kind::Image,
            "application/pdf" => Kind::Pdf,
            "video/mp4" | "video/webm" => Kind::Video,
            "audio/mpeg" | "audio/ogg" | "audio/x-wav" => Kind::Audio,
            "text/plain" => {
                let lower = name.to_ascii_lowercase();
                if lower.ends_with(".md") || lower.ends_with(".markdown") { Kind::Markdown } else { Kind::Text }
            }
            _ => Kind::None,
        }
    }

    /// Name used by templates.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::Pdf => "pdf",
            Kind::Video => "video",
            Kind::Audio => "audio",
            Kind::Text => "text",
            Kind::Markdown => "markdown",
            Kind::None => "",
        }
    }

    /// Whether a thumbnail can be made, and the most bytes it is made from.
    pub fn thumbnail_limit(self) -> Option<u64> {
        match self {
            Kind::Image => Some(IMAGE_MAX_BYTES),
            Kind::Pdf => Some(PDF_MAX_BYTES),
            _ => None,
        }
    }
}

/// A PNG of at most `size` pixels on its longest side: an image decoded within limits, or a
/// PDF's first page rendered. `Error::NotFound` when it cannot be made.
pub fn thumbnail(kind: Kind, bytes: Vec<u8>, size: u32) -> Result<Vec<u8>, Error> {
    match kind {
        Kind::Image => image_thumbnail(&bytes, size),
        Kind::Pdf => {
            // A renderer bug on a hostile file must cost one preview, not the worker thread.
            std::panic::catch_unwind(move || pdf_thumbnail(bytes, size)).unwrap_or(Err(Error::NotFound))
        }
        _ => Err(Error::NotFound),
    }
}

/// Decodes an image within limits and encodes a PNG thumbnail of it.
pub fn image_thumbnail(bytes: &[u8], size: u32) -> Result<Vec<u8>, Error> {
    let mut reader =
        image::ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format().map_err(|_| Error::NotFound)?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(8000);
    limits.max_image_height = Some(8000);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    // An image that cannot be decoded simply has no thumbnail.
    let img = reader.decode().map_err(|_| Error::NotFound)?;
    let thumb = if img.width() > size || img.height() > size { img.thumbnail(size, size) } else { img };
    let mut out = std::io::Cursor::new(Vec::new());
    thumb.write_to(&mut out, image::ImageFormat::Png).map_err(|e| Error::Internal(format!("thumbnail: {e}")))?;
    Ok(out.into_inner())
}

/// Renders a PDF's first page (pure Rust, `hayro`) on white, scaled to `size` pixels.
pub fn pdf_thumbnail(bytes: Vec<u8>, size: u32) -> Result<Vec<u8>, Error> {
    use hayro::hayro_interpret::InterpreterSettings;
    use hayro::hayro_syntax::Pdf;
    use hayro::vello_cpu::color::palette::css::WHITE;
    use hayro::{PixmapSettings, RenderCache, RenderSettings, render};

    let pdf = Pdf::new(bytes).map_err(|_| Error::NotFound)?;
    let pages = pdf.pages();
    let page = pages.first().ok_or(Error::NotFound)?;
    let (w, h) = page.render_dimensions();
    let longest = w.max(h);
    if !(longest.is_finite() && w >= 1.0 && h >= 1.0) {
        return Err(Error::NotFound);
    }
    // Never larger than asked, and never a huge canvas for a tiny page.
    let scale = (size as f32 / longest).min(4.0);
    let settings = PixmapSettings { x_scale: scale, y_scale: scale, bg_color: WHITE };
    let pixmap =
        render(page, &RenderCache::new(), &InterpreterSettings::default(), &RenderSettings::default(), &settings);
    pixmap.into_png().map_err(|e| Error::Internal(format!("pdf thumbnail: {e:?}")))
}

/// The HTML of a text file's preview: markdown rendered and sanitised, plain text escaped in a
/// `<pre>`. `None` when the bytes are not UTF-8 text. A cut multi-byte character at the end (the
/// preview reads at most [`TEXT_MAX_BYTES`]) is dropped.
pub fn text_html(bytes: &[u8], markdown: bool) -> Option<String> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&bytes[..e.valid_up_to()]).ok()?,
        Err(_) => return None,
    };
    if text.contains('\0') {
        return None;
    }
    Some(if markdown {
        atrium_core::markdown::to_html(text)
    } else {
        format!("<pre class=\"text-preview\">{}</pre>", escape(text))
    })
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-page A4 PDF with a red square and a line of text (shared with the HTTP and browser
    /// tests).
    fn sample_pdf() -> Vec<u8> {
        include_bytes!("../tests/fixtures/proposal.pdf").to_vec()
    }

    #[test]
    fn a_pdf_first_page_is_rendered_to_a_png_of_the_asked_size() {
        let png = thumbnail(Kind::Pdf, sample_pdf(), THUMB_SIZE).expect("rendered");
        let img = image::load_from_memory(&png).expect("a PNG").to_rgba8();
        assert_eq!(img.height(), THUMB_SIZE, "the longest side of A4 portrait");
        assert!((img.width() as i64 - 226).abs() <= 1, "A4 ratio: {}", img.width());
        // The red square is there (the page is white elsewhere).
        let (x, y) = (img.width() * 250 / 595, img.height() * (842 - 650) / 842);
        let p = img.get_pixel(x, y).0;
        assert!(p[0] > 200 && p[1] < 60 && p[2] < 60, "red at ({x},{y}): {p:?}");
        assert_eq!(img.get_pixel(2, 2).0, [255, 255, 255, 255], "white background");
    }

    #[test]
    fn broken_or_hostile_pdfs_have_no_preview_and_never_panic() {
        let pdf = sample_pdf();
        for bad in [
            b"%PDF-1.4\n".to_vec(),
            b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 1 0 R >> endobj trailer << /Root 1 0 R >>".to_vec(),
            pdf[..pdf.len() / 2].to_vec(),
            vec![0u8; 4096],
        ] {
            assert!(matches!(thumbnail(Kind::Pdf, bad, THUMB_SIZE), Err(Error::NotFound) | Ok(_)));
        }
    }

    #[test]
    fn kinds_come_from_the_sniffed_type_and_markdown_from_the_name() {
        assert_eq!(Kind::of("application/pdf", "x.txt"), Kind::Pdf);
        assert_eq!(Kind::of("text/plain", "Notes.MD"), Kind::Markdown);
        assert_eq!(Kind::of("text/plain", "notes.txt"), Kind::Text);
        assert_eq!(Kind::of("text/html", "page.md"), Kind::None, "the name never makes HTML a preview");
        assert_eq!(Kind::of("image/svg+xml", "x.svg"), Kind::None);
    }

    #[test]
    fn text_is_escaped_and_markdown_sanitised() {
        let t = text_html(b"<script>alert(1)</script> & more", false).unwrap();
        assert_eq!(t, "<pre class=\"text-preview\">&lt;script&gt;alert(1)&lt;/script&gt; &amp; more</pre>");
        let m = text_html(b"# Brief\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) **bold**", true).unwrap();
        assert!(m.contains("<h1>Brief</h1>") && m.contains("<strong>bold</strong>"), "{m}");
        assert!(!m.contains("<script") && !m.contains("javascript:"), "{m}");
        assert_eq!(text_html(b"caf\xc3", false).unwrap(), "<pre class=\"text-preview\">caf</pre>", "cut character");
        assert!(text_html(b"\xff\xfe binary", false).is_none());
        assert!(text_html(b"nul\0inside", false).is_none());
    }
}

//! Previews of stored files: thumbnails of images and of a PDF's first page (re-encoded PNGs,
//! so nothing of the original's metadata survives), and text or markdown rendered safely.
//!
//! Thumbnails are made in a separate process, the preview worker (`atrium preview-worker`, see
//! [`worker_main`] and `crate::preview_service`), under an address-space, CPU and wall-clock
//! limit; the server itself never parses an image or a PDF. Before a PDF is rendered,
//! [`pdf_precheck`] counts its first page's operations and checks its images' sizes, so hostile
//! files are refused before they reach the rasteriser. A file that cannot be decoded, is refused
//! or kills its worker simply has no preview.

use atrium_core::Error;

/// Longest side of a thumbnail on the Files tab, in pixels.
pub const THUMB_SIZE: u32 = 320;
/// Longest side of the large preview on a file's page, in pixels.
pub const LARGE_SIZE: u32 = 1200;
/// Largest image file a thumbnail is made from (it is decoded in memory).
pub const IMAGE_MAX_BYTES: u64 = 40 * 1024 * 1024;
/// Largest PDF whose first page is rendered (it is parsed in memory).
pub const PDF_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Most content-stream operations a PDF's first page may have (its own content and the form
/// XObjects it draws, counted each time one is drawn) to be rendered. A typical page has a few
/// thousand; 3,000,000 line operations took the rasteriser to 2.9 GB.
pub const PDF_MAX_OPERATIONS: u64 = 100_000;
/// Most decoded content-stream bytes a PDF's first page may have (forms counted each time drawn).
pub const PDF_MAX_CONTENT_BYTES: u64 = 16 * 1024 * 1024;
/// Deepest nesting of form XObjects followed (deeper is refused, which also stops cycles).
pub const PDF_MAX_FORM_DEPTH: usize = 12;
/// Most pixels (width × height) of one image inside a PDF: 40 MP is a 600 dpi A4 scan or a
/// 7,700 × 5,200 photo, 160 MB as decoded RGBA; a 30000 × 30000 image (900 MP) is refused.
pub const PDF_MAX_IMAGE_PIXELS: u64 = 40_000_000;
/// Longest side of an image file a thumbnail is made from, in pixels.
pub const IMAGE_MAX_SIDE: u32 = 8000;
/// Most memory the image decoder may allocate for one image file.
pub const IMAGE_MAX_ALLOC: u64 = 256 * 1024 * 1024;
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

/// Why a file has no preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoPreview {
    /// The bytes cannot be parsed or decoded.
    Unreadable,
    /// The PDF page has more than [`PDF_MAX_OPERATIONS`] operations (counted up to one past it).
    Operations(u64),
    /// The PDF page has more than [`PDF_MAX_CONTENT_BYTES`] of decoded content.
    ContentBytes(u64),
    /// Form XObjects nested deeper than [`PDF_MAX_FORM_DEPTH`].
    FormDepth,
    /// An image in the PDF larger than [`PDF_MAX_IMAGE_PIXELS`] (width, height).
    ImagePixels(u64, u64),
}

impl std::fmt::Display for NoPreview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoPreview::Unreadable => write!(f, "cannot be decoded"),
            NoPreview::Operations(n) => write!(f, "over {PDF_MAX_OPERATIONS} operations ({n} counted)"),
            NoPreview::ContentBytes(n) => write!(f, "over {PDF_MAX_CONTENT_BYTES} content bytes ({n})"),
            NoPreview::FormDepth => write!(f, "forms nested deeper than {PDF_MAX_FORM_DEPTH}"),
            NoPreview::ImagePixels(w, h) => write!(f, "an image of {w}x{h} is over {PDF_MAX_IMAGE_PIXELS} pixels"),
        }
    }
}

impl From<NoPreview> for Error {
    fn from(_: NoPreview) -> Self {
        Error::NotFound
    }
}

/// A PNG of at most `size` pixels on its longest side: an image decoded within limits, or a
/// PDF's first page rendered once [`pdf_precheck`] passed. Runs in the preview worker.
pub fn thumbnail(kind: Kind, bytes: Vec<u8>, size: u32) -> Result<Vec<u8>, NoPreview> {
    match kind {
        Kind::Image => image_thumbnail(&bytes, size),
        Kind::Pdf => pdf_thumbnail(bytes, size),
        _ => Err(NoPreview::Unreadable),
    }
}

/// Exit status of a worker that made no preview on purpose (refused or undecodable input); any
/// other failure (killed by a limit, a panic) is a different status or a signal.
pub const WORKER_NO_PREVIEW: u8 = 3;
/// Exit status of a worker called with wrong arguments.
pub const WORKER_USAGE: u8 = 2;

/// The preview worker: `<pdf|image> <size>` as arguments, the file on stdin (at most
/// [`PDF_MAX_BYTES`]), the PNG on stdout and exit 0; [`WORKER_NO_PREVIEW`] with the reason on
/// stderr when there is none. The parent sets its limits (`crate::preview_service`).
pub fn worker_main(args: &[String]) -> std::process::ExitCode {
    use std::io::{Read, Write};
    let (kind, size) = match args {
        [kind, size] => match (kind.as_str(), size.parse::<u32>()) {
            ("pdf", Ok(s)) if (1..=LARGE_SIZE).contains(&s) => (Kind::Pdf, s),
            ("image", Ok(s)) if (1..=LARGE_SIZE).contains(&s) => (Kind::Image, s),
            _ => return usage(),
        },
        _ => return usage(),
    };
    let mut bytes = Vec::new();
    let limit = PDF_MAX_BYTES.max(IMAGE_MAX_BYTES);
    if std::io::stdin().lock().take(limit + 1).read_to_end(&mut bytes).is_err() || bytes.len() as u64 > limit {
        eprintln!("no preview: the input cannot be read or is over {limit} bytes");
        return std::process::ExitCode::from(WORKER_NO_PREVIEW);
    }
    match thumbnail(kind, bytes, size) {
        Ok(png) => {
            let mut out = std::io::stdout().lock();
            if out.write_all(&png).and_then(|()| out.flush()).is_err() {
                return std::process::ExitCode::FAILURE;
            }
            std::process::ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("no preview: {why}");
            std::process::ExitCode::from(WORKER_NO_PREVIEW)
        }
    }
}

fn usage() -> std::process::ExitCode {
    eprintln!("usage: preview-worker <pdf|image> <size 1..={LARGE_SIZE}> < file > thumbnail.png");
    std::process::ExitCode::from(WORKER_USAGE)
}

/// Decodes an image within limits and encodes a PNG thumbnail of it.
pub fn image_thumbnail(bytes: &[u8], size: u32) -> Result<Vec<u8>, NoPreview> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| NoPreview::Unreadable)?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(IMAGE_MAX_SIDE);
    limits.max_image_height = Some(IMAGE_MAX_SIDE);
    limits.max_alloc = Some(IMAGE_MAX_ALLOC);
    reader.limits(limits);
    // An image that cannot be decoded simply has no thumbnail.
    let img = reader.decode().map_err(|_| NoPreview::Unreadable)?;
    let thumb = if img.width() > size || img.height() > size { img.thumbnail(size, size) } else { img };
    let mut out = std::io::Cursor::new(Vec::new());
    thumb.write_to(&mut out, image::ImageFormat::Png).map_err(|_| NoPreview::Unreadable)?;
    Ok(out.into_inner())
}

/// Renders a PDF's first page (pure Rust, `hayro`) on white, scaled to `size` pixels, once
/// [`pdf_precheck`] has passed it.
pub fn pdf_thumbnail(bytes: Vec<u8>, size: u32) -> Result<Vec<u8>, NoPreview> {
    use hayro::hayro_interpret::InterpreterSettings;
    use hayro::hayro_syntax::Pdf;
    use hayro::vello_cpu::color::palette::css::WHITE;
    use hayro::{PixmapSettings, RenderCache, RenderSettings, render};

    let pdf = Pdf::new(bytes).map_err(|_| NoPreview::Unreadable)?;
    let pages = pdf.pages();
    let page = pages.first().ok_or(NoPreview::Unreadable)?;
    let (w, h) = page.render_dimensions();
    let longest = w.max(h);
    if !(longest.is_finite() && w >= 1.0 && h >= 1.0) {
        return Err(NoPreview::Unreadable);
    }
    page_precheck(page)?;
    // Never larger than asked, and never a huge canvas for a tiny page.
    let scale = (size as f32 / longest).min(4.0);
    let settings = PixmapSettings { x_scale: scale, y_scale: scale, bg_color: WHITE };
    let pixmap =
        render(page, &RenderCache::new(), &InterpreterSettings::default(), &RenderSettings::default(), &settings);
    pixmap.into_png().map_err(|_| NoPreview::Unreadable)
}

/// Checks a PDF's first page before rendering, without rasterising anything: at most
/// [`PDF_MAX_OPERATIONS`] operations and [`PDF_MAX_CONTENT_BYTES`] of content (its content
/// streams and the form XObjects it draws, each time drawn, nested at most
/// [`PDF_MAX_FORM_DEPTH`] deep), and no image (XObject, its soft mask, or inline) over
/// [`PDF_MAX_IMAGE_PIXELS`]. Tiling patterns, Type 3 glyphs and the like are not counted: the
/// worker's memory and CPU limits bound those.
pub fn pdf_precheck(bytes: Vec<u8>) -> Result<(), NoPreview> {
    let pdf = hayro::hayro_syntax::Pdf::new(bytes).map_err(|_| NoPreview::Unreadable)?;
    let pages = pdf.pages();
    page_precheck(pages.first().ok_or(NoPreview::Unreadable)?)
}

fn page_precheck(page: &hayro::hayro_syntax::page::Page<'_>) -> Result<(), NoPreview> {
    let mut count = Count { operations: 0, content_bytes: 0 };
    count.content(page.page_stream().unwrap_or_default(), page.resources(), 0)
}

/// Work counted so far by the pre-check.
struct Count {
    operations: u64,
    content_bytes: u64,
}

impl Count {
    fn content(
        &mut self,
        data: &[u8],
        resources: &hayro::hayro_syntax::page::Resources<'_>,
        depth: usize,
    ) -> Result<(), NoPreview> {
        use hayro::hayro_syntax::content::UntypedIter;
        use hayro::hayro_syntax::object::Object;

        self.content_bytes = self.content_bytes.saturating_add(data.len() as u64);
        if self.content_bytes > PDF_MAX_CONTENT_BYTES {
            return Err(NoPreview::ContentBytes(self.content_bytes));
        }
        let mut ops = UntypedIter::new(data);
        while let Some(op) = ops.next() {
            self.operations += 1;
            if self.operations > PDF_MAX_OPERATIONS {
                return Err(NoPreview::Operations(self.operations));
            }
            match op.operator.as_ref() {
                b"Do" => {
                    let name = op.operands().find_map(|o| match o {
                        Object::Name(n) => Some(n.clone()),
                        _ => None,
                    });
                    if let Some(x) = name.and_then(|n| resources.get_x_object(&n)) {
                        self.xobject(&x, resources, depth)?;
                    }
                }
                b"BI" => {
                    for o in op.operands() {
                        if let Object::Stream(s) = o {
                            image_size(s.dict(), b"W", b"H")?;
                            image_size(s.dict(), b"Width", b"Height")?;
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn xobject(
        &mut self,
        x: &hayro::hayro_syntax::object::Stream<'_>,
        parent: &hayro::hayro_syntax::page::Resources<'_>,
        depth: usize,
    ) -> Result<(), NoPreview> {
        use hayro::hayro_syntax::object::{Dict, Name, Stream};
        use hayro::hayro_syntax::page::Resources;

        let dict = x.dict();
        match dict.get::<Name<'_>>(b"Subtype").as_deref() {
            Some(b"Image") => {
                image_size(dict, b"Width", b"Height")?;
                if let Some(mask) = dict.get::<Stream<'_>>(b"SMask") {
                    image_size(mask.dict(), b"Width", b"Height")?;
                }
                Ok(())
            }
            Some(b"Form") => {
                if depth >= PDF_MAX_FORM_DEPTH {
                    return Err(NoPreview::FormDepth);
                }
                let data = x.decoded().map_err(|_| NoPreview::Unreadable)?;
                let resources =
                    dict.get::<Dict<'_>>(b"Resources").map(Resources::new).unwrap_or_else(|| parent.clone());
                self.content(&data, &resources, depth + 1)
            }
            _ => Ok(()),
        }
    }
}

/// Refuses an image whose `w` × `h` entries are over [`PDF_MAX_IMAGE_PIXELS`].
fn image_size(dict: &hayro::hayro_syntax::object::Dict<'_>, w: &[u8], h: &[u8]) -> Result<(), NoPreview> {
    let (Some(width), Some(height)) = (dict.get::<f64>(w), dict.get::<f64>(h)) else { return Ok(()) };
    let (width, height) = (width.max(0.0) as u64, height.max(0.0) as u64);
    if width.saturating_mul(height) > PDF_MAX_IMAGE_PIXELS {
        return Err(NoPreview::ImagePixels(width, height));
    }
    Ok(())
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
        format!("<pre class=\"text-preview\">{}</pre>", atrium_core::markdown::escape(text))
    })
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
            // hayro recovers what it can (half a file is a blank page): either is fine, no panic.
            assert!(matches!(thumbnail(Kind::Pdf, bad, THUMB_SIZE), Err(NoPreview::Unreadable) | Ok(_)));
        }
    }

    include!("../tests/fixtures/hostile_pdf.rs");

    // SEC-IO-7
    #[test]
    fn a_page_of_millions_of_line_operations_is_refused_before_rendering() {
        // The file: 3,000,000 lines in a 131 KB file, 42 MB of content once inflated.
        let pdf = many_lines_pdf(3_000_000);
        assert!(pdf.len() < 200 * 1024, "a small file: {} bytes", pdf.len());
        assert_eq!(pdf_precheck(pdf.clone()), Err(NoPreview::ContentBytes(42_000_000)));
        // The thumbnail goes through the same check, so the rasteriser never sees the page.
        assert_eq!(thumbnail(Kind::Pdf, pdf, THUMB_SIZE), Err(NoPreview::ContentBytes(42_000_000)));
        // Within the byte limit, the operations are counted, and counting stops one past the limit.
        let pdf = many_lines_pdf(1_000_000);
        assert_eq!(pdf_precheck(pdf.clone()), Err(NoPreview::Operations(PDF_MAX_OPERATIONS + 1)));
        assert_eq!(thumbnail(Kind::Pdf, pdf, THUMB_SIZE), Err(NoPreview::Operations(PDF_MAX_OPERATIONS + 1)));
        // Under the limit it renders.
        let ok = many_lines_pdf((PDF_MAX_OPERATIONS / 3) as usize);
        assert_eq!(pdf_precheck(ok.clone()), Ok(()));
        assert!(thumbnail(Kind::Pdf, ok, THUMB_SIZE).is_ok());
    }

    // SEC-IO-7
    #[test]
    fn a_huge_image_inside_a_pdf_is_refused_before_it_is_decoded() {
        let pdf = big_image_pdf(30_000, 30_000);
        assert_eq!(pdf_precheck(pdf.clone()), Err(NoPreview::ImagePixels(30_000, 30_000)));
        assert_eq!(thumbnail(Kind::Pdf, pdf, THUMB_SIZE), Err(NoPreview::ImagePixels(30_000, 30_000)));
        assert_eq!(pdf_precheck(big_image_pdf(8000, 5000)), Ok(()), "40 MP is allowed");
        assert_eq!(pdf_precheck(big_image_pdf(8001, 5000)), Err(NoPreview::ImagePixels(8001, 5000)));
    }

    /// A form XObject whose content is `body` and whose `/F` is object `target`.
    fn form(target: usize, body: &str) -> Vec<u8> {
        format!(
            "<< /Type /XObject /Subtype /Form /BBox [0 0 1 1] /Resources << /XObject << /F {} 0 R >> >> \
             /Length {} >>\nstream\n{body}\nendstream",
            target,
            body.len()
        )
        .into_bytes()
    }

    // SEC-IO-7
    #[test]
    fn nested_forms_count_each_time_drawn_and_are_bounded_in_depth() {
        // Each of six forms draws the next ten times: 10^6 draws from a file of a few hundred
        // bytes (the last form's /F is the page content, not a form, and draws nothing).
        let forms: Vec<Vec<u8>> = (0..6).map(|n| form(5 + n, &"/F Do ".repeat(10))).collect();
        let pdf = pdf_with(b"/F Do", "<< /XObject << /F 4 0 R >> >>", &forms);
        assert!(pdf.len() < 2048);
        assert_eq!(pdf_precheck(pdf), Err(NoPreview::Operations(PDF_MAX_OPERATIONS + 1)));
        // A chain of forms deeper than the limit is refused, each drawn once.
        let chain: Vec<Vec<u8>> = (0..PDF_MAX_FORM_DEPTH + 2).map(|n| form(5 + n, "/F Do")).collect();
        let pdf = pdf_with(b"/F Do", "<< /XObject << /F 4 0 R >> >>", &chain);
        assert_eq!(pdf_precheck(pdf), Err(NoPreview::FormDepth));
        let chain: Vec<Vec<u8>> = (0..PDF_MAX_FORM_DEPTH - 1).map(|n| form(5 + n, "/F Do")).collect();
        let pdf = pdf_with(b"/F Do", "<< /XObject << /F 4 0 R >> >>", &chain);
        assert_eq!(pdf_precheck(pdf), Ok(()), "{} levels are fine", PDF_MAX_FORM_DEPTH - 1);
        // Two forms that draw each other: the walk ends (hayro does not follow the reference back).
        let pdf = pdf_with(b"/F Do", "<< /XObject << /F 4 0 R >> >>", &[form(5, "/F Do"), form(4, "/F Do")]);
        assert!(matches!(pdf_precheck(pdf), Ok(()) | Err(NoPreview::FormDepth)));
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

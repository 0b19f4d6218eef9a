//! The agency's logo upload: only PNG, JPEG or WebP (told by the bytes, never the name or the
//! claimed type), at most [`LOGO_MAX_BYTES`] and [`LOGO_MAX_SIDE`] pixels a side, decoded within
//! [`image::Limits`] and re-encoded as PNG, so nothing of the upload but its pixels survives
//! (no EXIF, text chunks, ICC profile or trailing data). The stored logo fits
//! [`LOGO_STORED_SIDE`]; a square favicon of [`ICON_SIDE`] pixels is made from it.
//!
//! Only owners and admins upload a logo (the policy is asked before a byte is read), one decode
//! at a time per process ([`LOGO_DECODES`]), on a blocking thread.

use std::io::Cursor;

pub use atrium_core::branding::{ICON_SIDE, LOGO_MAX_BYTES, LOGO_MAX_SIDE, LOGO_STORED_SIDE};
use atrium_core::{Error, Result};
use image::{DynamicImage, ImageFormat, ImageReader, Limits, RgbaImage};

/// Most memory the decoder may allocate for one logo (a 4,096 × 4,096 RGBA image is 64 MiB).
pub const LOGO_MAX_ALLOC: u64 = 96 * 1024 * 1024;
/// Logos decoded at once in one process; others wait.
pub const LOGO_DECODES: usize = 1;
/// Largest body of a logo upload: the file and room for the form's boundaries and part headers
/// (larger is 413 before the file is even looked at).
pub const LOGO_BODY_LIMIT: usize = LOGO_MAX_BYTES as usize + 16 * 1024;

static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(LOGO_DECODES);

/// A re-encoded logo and its favicon.
#[derive(Debug)]
pub struct Processed {
    /// The logo as PNG.
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// The square favicon as PNG.
    pub icon: Vec<u8>,
}

/// The format of an accepted upload, from its first bytes; anything else (SVG, GIF, ...) is
/// a 422 naming `file`.
pub fn format_of(bytes: &[u8]) -> Result<ImageFormat> {
    match infer::get(bytes).map(|t| t.mime_type()) {
        Some("image/png") => Ok(ImageFormat::Png),
        Some("image/jpeg") => Ok(ImageFormat::Jpeg),
        Some("image/webp") => Ok(ImageFormat::WebP),
        _ => Err(Error::invalid("file", "must be a PNG, JPEG or WebP image")),
    }
}

/// Checks, decodes and re-encodes an upload (on a blocking thread, one at a time).
pub async fn process(bytes: Vec<u8>) -> Result<Processed> {
    let _permit = DECODING.acquire().await.map_err(|e| Error::internal("logo decoding", e))?;
    tokio::task::spawn_blocking(move || process_now(&bytes)).await.map_err(|e| Error::internal("logo decoding", e))?
}

fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(LOGO_MAX_SIDE);
    l.max_image_height = Some(LOGO_MAX_SIDE);
    l.max_alloc = Some(LOGO_MAX_ALLOC);
    l
}

/// [`process`] on the calling thread.
pub fn process_now(bytes: &[u8]) -> Result<Processed> {
    if bytes.len() as u64 > LOGO_MAX_BYTES {
        return Err(Error::TooLarge);
    }
    let format = format_of(bytes)?;
    let unreadable = || Error::invalid("file", "cannot be read as an image");
    // The size first, from the header alone: a huge image is refused before it is decoded.
    let (w, h) = ImageReader::with_format(Cursor::new(bytes), format).into_dimensions().map_err(|_| unreadable())?;
    if w > LOGO_MAX_SIDE || h > LOGO_MAX_SIDE {
        return Err(Error::invalid(
            "file",
            format!("is {w} × {h} pixels; a logo may be at most {LOGO_MAX_SIDE} pixels a side"),
        ));
    }
    if w == 0 || h == 0 {
        return Err(unreadable());
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits());
    let img = reader.decode().map_err(|_| unreadable())?;
    let img = if img.width() > LOGO_STORED_SIDE || img.height() > LOGO_STORED_SIDE {
        img.thumbnail(LOGO_STORED_SIDE, LOGO_STORED_SIDE)
    } else {
        img
    };
    let icon = square_icon(&img);
    Ok(Processed { width: img.width(), height: img.height(), png: png(&img)?, icon: png(&icon)? })
}

/// The logo scaled to fit a transparent [`ICON_SIDE`] square, centred.
fn square_icon(img: &DynamicImage) -> DynamicImage {
    let fitted = img.thumbnail(ICON_SIDE, ICON_SIDE).to_rgba8();
    let mut canvas = RgbaImage::new(ICON_SIDE, ICON_SIDE);
    let x = i64::from((ICON_SIDE - fitted.width().min(ICON_SIDE)) / 2);
    let y = i64::from((ICON_SIDE - fitted.height().min(ICON_SIDE)) / 2);
    image::imageops::overlay(&mut canvas, &fitted, x, y);
    DynamicImage::ImageRgba8(canvas)
}

fn png(img: &DynamicImage) -> Result<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).map_err(|e| Error::internal("logo encoding", e))?;
    Ok(out.into_inner())
}

/// The RGBA pixels of a stored logo (a PNG this module made), decoded within the same limits.
pub fn rgba_of_stored(png: &[u8]) -> Option<(Vec<u8>, u32, u32)> {
    let mut reader = ImageReader::with_format(Cursor::new(png), ImageFormat::Png);
    reader.limits(limits());
    let img = reader.decode().ok()?.to_rgba8();
    let (w, h) = img.dimensions();
    Some((img.into_raw(), w, h))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A `w` × `h` PNG (a gradient, so it does not compress to nothing).
    pub fn png_of(w: u32, h: u32) -> Vec<u8> {
        let img = RgbaImage::from_fn(w, h, |x, y| image::Rgba([(x % 256) as u8, (y % 256) as u8, 128, 255]));
        png(&DynamicImage::ImageRgba8(img)).unwrap()
    }

    /// Inserts a `tEXt` chunk after the PNG's header chunk.
    fn with_text_chunk(png: &[u8], text: &[u8]) -> Vec<u8> {
        let ihdr_end = 8 + 4 + 4 + 13 + 4;
        let mut chunk = Vec::new();
        chunk.extend_from_slice(&(text.len() as u32).to_be_bytes());
        chunk.extend_from_slice(b"tEXt");
        chunk.extend_from_slice(text);
        chunk.extend_from_slice(&crc(b"tEXt", text).to_be_bytes());
        [&png[..ihdr_end], &chunk, &png[ihdr_end..]].concat()
    }

    fn crc(kind: &[u8], data: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for &b in kind.iter().chain(data) {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 == 1 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
            }
        }
        !c
    }

    #[test]
    fn a_png_is_re_encoded_without_its_metadata() {
        let marked = with_text_chunk(&png_of(40, 20), b"Comment\0secret-metadata-marker");
        assert!(marked.windows(22).any(|w| w == b"secret-metadata-marker"));
        let p = process_now(&marked).unwrap();
        assert_eq!((p.width, p.height), (40, 20));
        assert!(!p.png.windows(22).any(|w| w == b"secret-metadata-marker"));
        assert!(!p.png.windows(4).any(|w| w == b"tEXt"));
        assert_eq!(format_of(&p.png).unwrap(), ImageFormat::Png);
        let icon = image::load_from_memory(&p.icon).unwrap();
        assert_eq!((icon.width(), icon.height()), (ICON_SIDE, ICON_SIDE));
    }

    #[test]
    fn big_logos_are_scaled_to_fit() {
        let p = process_now(&png_of(1200, 300)).unwrap();
        assert_eq!((p.width, p.height), (LOGO_STORED_SIDE, LOGO_STORED_SIDE / 4));
    }

    #[test]
    fn only_png_jpeg_and_webp_are_taken() {
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>"#;
        let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
        for bad in [&svg[..], &gif[..], b"not an image at all", b""] {
            match process_now(bad) {
                Err(Error::Invalid { field, .. }) => assert_eq!(field, "file"),
                other => panic!("{other:?}"),
            }
        }
        // A PNG signature with garbage after it is unreadable, not a crash.
        let mut broken = png_of(4, 4);
        broken.truncate(30);
        assert!(matches!(process_now(&broken), Err(Error::Invalid { .. })));
    }

    #[test]
    fn limits_are_enforced() {
        assert!(matches!(process_now(&png_of(LOGO_MAX_SIDE + 1, 1)), Err(Error::Invalid { .. })));
        assert!(process_now(&png_of(LOGO_MAX_SIDE, 2)).is_ok());
        let big = vec![0u8; LOGO_MAX_BYTES as usize + 1];
        assert!(matches!(process_now(&big), Err(Error::TooLarge)));
    }
}

//! The agency's branding: its name, accent colour, welcome text and logo, with the rules they
//! must meet. An accent colour must carry white text at WCAG 2.x AA contrast (4.5:1); the
//! shades the pages use (a darker hover, a light tint) are derived from it here, so every page
//! and mail gets the same ones.

use crate::{Error, Result};

/// Longest agency name (characters).
pub const AGENCY_NAME_MAX: usize = 100;
/// Longest welcome text (characters).
pub const WELCOME_TEXT_MAX: usize = 2_000;
/// Least contrast an accent colour must have against white text (WCAG 2.x AA, normal text).
pub const MIN_CONTRAST: f64 = 4.5;
/// The accent when none is set: the calm default blue of the stylesheet.
pub const DEFAULT_ACCENT: Rgb = Rgb(0x25, 0x63, 0xeb);
/// Largest logo upload (bytes); bigger is 413.
pub const LOGO_MAX_BYTES: u64 = 1024 * 1024;
/// Longest side of an uploaded logo (pixels); longer is 422.
pub const LOGO_MAX_SIDE: u32 = 4096;
/// Longest side of the stored logo (pixels): larger uploads are scaled down to fit.
pub const LOGO_STORED_SIDE: u32 = 512;
/// Side of the square favicon made from the logo (pixels).
pub const ICON_SIDE: u32 = 64;

/// An sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// Parses `#rrggbb` (either case; surrounding whitespace ignored). Anything else is a 422
    /// naming `field`.
    pub fn parse(field: &'static str, s: &str) -> Result<Rgb> {
        let bad = || Error::invalid(field, "must be a colour written #rrggbb");
        let hex = s.trim().strip_prefix('#').ok_or_else(bad)?;
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad());
        Ok(Rgb(byte(0)?, byte(2)?, byte(4)?))
    }

    /// `#rrggbb`, lower case.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// Relative luminance (WCAG 2.x): 0 for black, 1 for white.
    pub fn luminance(self) -> f64 {
        fn channel(c: u8) -> f64 {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        }
        0.2126 * channel(self.0) + 0.7152 * channel(self.1) + 0.0722 * channel(self.2)
    }

    /// Contrast ratio with `other` (WCAG 2.x): from 1 (same) to 21 (black on white).
    pub fn contrast(self, other: Rgb) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
        (hi + 0.05) / (lo + 0.05)
    }

    /// This colour mixed with `other`: `amount` 0 is this colour, 1 is `other`.
    pub fn mix(self, other: Rgb, amount: f64) -> Rgb {
        let t = amount.clamp(0.0, 1.0);
        let m = |a: u8, b: u8| {
            let v = f64::from(a) + (f64::from(b) - f64::from(a)) * t;
            // In range by construction (a convex combination of two bytes).
            v.round().clamp(0.0, 255.0) as u8
        };
        Rgb(m(self.0, other.0), m(self.1, other.1), m(self.2, other.2))
    }
}

/// White.
pub const WHITE: Rgb = Rgb(0xff, 0xff, 0xff);
const BLACK: Rgb = Rgb(0, 0, 0);

/// Parses an accent colour and checks it carries white text (contrast at least
/// [`MIN_CONTRAST`]); else 422 naming `field`.
pub fn accent(field: &'static str, s: &str) -> Result<Rgb> {
    let c = Rgb::parse(field, s)?;
    let ratio = c.contrast(WHITE);
    if ratio < MIN_CONTRAST {
        return Err(Error::invalid(
            field,
            format!(
                "{} has a contrast of {:.2}:1 with white text; at least {MIN_CONTRAST}:1 is needed (WCAG AA), choose a darker colour",
                c.hex(),
                (ratio * 100.0).floor() / 100.0
            ),
        ));
    }
    Ok(c)
}

/// The shades pages use, derived from the accent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Palette {
    /// Buttons, links, the current navigation item's text.
    pub accent: Rgb,
    /// Buttons under the pointer: darker than the accent (so even more contrast with white).
    pub hover: Rgb,
    /// A light background (the current navigation item): the accent on it keeps AA contrast.
    pub tint: Rgb,
}

impl Palette {
    /// The palette of `accent`.
    pub fn of(accent: Rgb) -> Palette {
        let hover = accent.mix(BLACK, 0.18);
        // The lightest tint that still reads as the accent, made lighter until the accent on it
        // has AA contrast (white at worst, which the accent has by construction).
        let mut tint = WHITE;
        for step in 0..=10 {
            let candidate = accent.mix(WHITE, 0.90 + f64::from(step) * 0.01);
            if accent.contrast(candidate) >= MIN_CONTRAST {
                tint = candidate;
                break;
            }
        }
        Palette { accent, hover, tint }
    }
}

/// The agency's branding as stored; unset parts fall back to the installation's defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Branding {
    /// The agency's name (`None`: the configured name).
    pub agency_name: Option<String>,
    /// The accent colour (`None`: [`DEFAULT_ACCENT`]).
    pub accent_color: Option<Rgb>,
    /// Shown on the portal's Home and the sign-in page (may be empty).
    pub welcome_text: String,
    /// The logo, if one is set.
    pub logo: Option<Logo>,
    /// When it last changed (a version for caches).
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A stored logo: the re-encoded image and its favicon, by content hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logo {
    /// SHA-256 of the stored (re-encoded) image.
    pub sha256: String,
    /// Its type (always `image/png`: every upload is re-encoded).
    pub content_type: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// SHA-256 of the square favicon made from it ([`ICON_SIDE`] pixels, PNG).
    pub icon_sha256: String,
}

impl Branding {
    /// The accent in effect.
    pub fn accent(&self) -> Rgb {
        self.accent_color.unwrap_or(DEFAULT_ACCENT)
    }
}

/// The checked agency name: empty means "use the configured name".
pub fn agency_name(field: &'static str, s: &str) -> Result<Option<String>> {
    let v = crate::validate::optional_line(field, s, AGENCY_NAME_MAX)?;
    Ok(if v.is_empty() { None } else { Some(v) })
}

/// The checked welcome text (may be empty).
pub fn welcome_text(field: &'static str, s: &str) -> Result<String> {
    crate::validate::optional_text(field, s, WELCOME_TEXT_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb(s: &str) -> Rgb {
        Rgb::parse("c", s).unwrap()
    }

    #[test]
    fn known_contrast_ratios() {
        // The WCAG reference points: black on white 21:1, #767676 just passes AA, #777777 not.
        assert!((rgb("#000000").contrast(WHITE) - 21.0).abs() < 1e-9);
        assert!((rgb("#ffffff").contrast(WHITE) - 1.0).abs() < 1e-9);
        assert!((rgb("#767676").contrast(WHITE) - 4.54).abs() < 0.01);
        assert!((rgb("#777777").contrast(WHITE) - 4.48).abs() < 0.01);
        // Symmetric.
        assert_eq!(rgb("#2563eb").contrast(WHITE), WHITE.contrast(rgb("#2563eb")));
        assert!((DEFAULT_ACCENT.contrast(WHITE) - 5.17).abs() < 0.01);
    }

    #[test]
    fn accents_need_aa_contrast_with_white() {
        assert_eq!(accent("accent_color", "#767676").unwrap(), Rgb(0x76, 0x76, 0x76));
        assert_eq!(accent("accent_color", " #2563EB ").unwrap().hex(), "#2563eb");
        for low in ["#777777", "#ffff00", "#ffffff", "#60a5fa"] {
            match accent("accent_color", low) {
                Err(Error::Invalid { field, message }) => {
                    assert_eq!(field, "accent_color");
                    assert!(message.contains("4.5:1"), "{message}");
                }
                other => panic!("{low}: {other:?}"),
            }
        }
    }

    #[test]
    fn only_rrggbb_parses() {
        for bad in ["", "2563eb", "#2563e", "#2563ebb", "#25 3eb", "#gggggg", "red", "#fff", "＃2563eb", "#2563eé"] {
            assert!(matches!(Rgb::parse("accent_color", bad), Err(Error::Invalid { .. })), "{bad:?}");
        }
        assert_eq!(rgb("#0a0B0c"), Rgb(10, 11, 12));
        assert_eq!(Rgb(10, 11, 12).hex(), "#0a0b0c");
    }

    #[test]
    fn derived_shades_keep_contrast() {
        for s in ["#767676", "#2563eb", "#000000", "#b91c1c", "#15803d", "#7c3aed"] {
            let p = Palette::of(accent("c", s).unwrap());
            assert!(p.hover.luminance() < p.accent.luminance() || p.accent == Rgb(0, 0, 0), "{s}: hover is darker");
            assert!(p.hover.contrast(WHITE) >= p.accent.contrast(WHITE), "{s}: hover has more contrast with white");
            assert!(p.tint.luminance() > 0.75, "{s}: the tint is a light background ({:?})", p.tint);
            assert!(p.accent.contrast(p.tint) >= MIN_CONTRAST, "{s}: the accent on its tint stays AA");
        }
        // A dark accent gets a visible tint, not plain white.
        assert_ne!(Palette::of(rgb("#1e3a8a")).tint, WHITE);
        assert_eq!(Palette::of(rgb("#2563eb")).hover, rgb("#2563eb").mix(Rgb(0, 0, 0), 0.18));
    }

    #[test]
    fn names_and_texts_are_bounded() {
        assert_eq!(agency_name("agency_name", "  ").unwrap(), None);
        assert_eq!(agency_name("agency_name", " Acme ").unwrap().as_deref(), Some("Acme"));
        assert!(agency_name("agency_name", &"x".repeat(AGENCY_NAME_MAX + 1)).is_err());
        assert!(agency_name("agency_name", "A\u{202e}B").is_err());
        assert!(welcome_text("welcome_text", &"x".repeat(WELCOME_TEXT_MAX + 1)).is_err());
        assert_eq!(welcome_text("welcome_text", "Hello\nthere").unwrap(), "Hello\nthere");
    }
}

//! The agency's branding in effect ([`Brand`]: what is set, and the installation's defaults for
//! the rest) and the [`BrandCache`] pages are rendered from. It is reloaded from the database by
//! `branding::refresh` when older than [`BRAND_REFRESH`] (so a change made on another server
//! process shows within that time); a change made by this process replaces it at once. Mail jobs
//! read the database themselves ([`Brand::load`]).

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use atrium_core::Result;
use atrium_core::branding::{Branding, Logo, Palette};
use atrium_store::Store;

/// How long a server process shows a branding it loaded before reading it again.
pub const BRAND_REFRESH: Duration = Duration::from_secs(5);
/// The path of the public logo (the API's `GET /branding/logo`).
pub const LOGO_PATH: &str = "/api/v1/branding/logo";

/// The version a content hash gives an asset's URL (`?v=`): its first 16 hex digits.
pub fn version(sha256: &str) -> &str {
    sha256.get(..16).unwrap_or(sha256)
}

/// The branding in effect: what is set, and the installation's defaults for the rest.
#[derive(Clone, Debug)]
pub struct Brand {
    /// The agency's name (the configured one unless set).
    pub name: String,
    /// The accent and its shades, when one is set (otherwise the stylesheet's defaults apply).
    pub palette: Option<Palette>,
    /// The accent in effect, `#rrggbb`.
    pub accent: String,
    /// The welcome text (may be empty).
    pub welcome_text: String,
    /// The logo, if set.
    pub logo: Option<Logo>,
}

impl Brand {
    /// The effective branding of `b`, with `configured` as the name when none is set.
    pub fn of(b: Branding, configured: &str) -> Brand {
        Brand {
            name: b.agency_name.clone().unwrap_or_else(|| configured.to_string()),
            palette: b.accent_color.map(Palette::of),
            accent: b.accent().hex(),
            welcome_text: b.welcome_text,
            logo: b.logo,
        }
    }

    /// Reads it from the database (mail jobs, which run outside requests).
    pub async fn load(store: &Store, configured: &str) -> Result<Brand> {
        Ok(Brand::of(store.branding().await?, configured))
    }

    /// The logo's URL path, versioned by its content.
    pub fn logo_path(&self) -> Option<String> {
        self.logo.as_ref().map(|l| format!("{LOGO_PATH}?v={}", version(&l.sha256)))
    }

    /// The accent stylesheet's URL path (versioned by the colour), when an accent is set.
    pub fn css_path(&self) -> Option<String> {
        self.palette.map(|p| format!("/branding.css?v={}", &p.accent.hex()[1..]))
    }

    /// The favicon's URL path, versioned by the logo.
    pub fn favicon_path(&self) -> String {
        match &self.logo {
            Some(l) => format!("/favicon.ico?v={}", version(&l.icon_sha256)),
            None => "/favicon.ico".into(),
        }
    }

    /// The stylesheet setting the accent's custom properties (empty without an accent).
    pub fn css(&self) -> String {
        match self.palette {
            Some(p) => format!(
                ":root{{--accent:{};--accent-hover:{};--accent-tint:{}}}\n",
                p.accent.hex(),
                p.hover.hex(),
                p.tint.hex()
            ),
            None => String::new(),
        }
    }

    /// The accent as krilla-ready bytes, for the invoice PDF.
    pub fn accent_rgb(&self) -> (u8, u8, u8) {
        let c = self.palette.map_or(atrium_core::branding::DEFAULT_ACCENT, |p| p.accent);
        (c.0, c.1, c.2)
    }
}

/// The branding pages are rendered with (see the module documentation).
pub struct BrandCache {
    configured: String,
    current: RwLock<Arc<Brand>>,
    loaded: Mutex<Option<Instant>>,
    refreshing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for BrandCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrandCache").field("configured", &self.configured).finish()
    }
}

impl BrandCache {
    /// A cache showing the defaults (with `configured` as the name) until first loaded.
    pub fn new(configured: &str) -> Self {
        BrandCache {
            configured: configured.to_string(),
            current: RwLock::new(Arc::new(Brand::of(Branding::default(), configured))),
            loaded: Mutex::new(None),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    /// The branding in effect.
    pub fn current(&self) -> Arc<Brand> {
        match self.current.read() {
            Ok(b) => b.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces it (after a change made by this process).
    pub fn set(&self, b: Branding) {
        let brand = Arc::new(Brand::of(b, &self.configured));
        match self.current.write() {
            Ok(mut c) => *c = brand,
            Err(poisoned) => *poisoned.into_inner() = brand,
        }
        if let Ok(mut l) = self.loaded.lock() {
            *l = Some(Instant::now());
        }
    }

    fn stale(&self) -> bool {
        self.loaded.lock().map_or(true, |l| l.is_none_or(|at| at.elapsed() >= BRAND_REFRESH))
    }

    /// Reloads from `store` when stale; one request reloads, the others go on with what is there.
    pub async fn refresh(&self, store: &Store) {
        if !self.stale() {
            return;
        }
        let Ok(_one) = self.refreshing.try_lock() else { return };
        if !self.stale() {
            return;
        }
        match store.branding().await {
            Ok(b) => self.set(b),
            Err(e) => tracing::warn!(error = %e, "could not load the branding"),
        }
    }
}

/// Marks a response whose `Cache-Control` the security headers keep: public, non-personal
/// content (the logo, favicon and accent stylesheet).
#[derive(Clone, Copy, Debug)]
pub struct PublicCache;

/// What mail shows of the brand, with the logo as an absolute URL under the public URL.
pub struct MailBrand {
    name: String,
    logo_url: Option<String>,
    accent: String,
}

impl MailBrand {
    /// The mail view of `brand`.
    pub fn of(brand: &Brand, config: &crate::config::WebConfig) -> Self {
        MailBrand {
            name: brand.name.clone(),
            logo_url: brand.logo_path().map(|p| config.link(&p)),
            accent: brand.accent.clone(),
        }
    }

    /// Borrowed for the mail templates.
    pub fn get(&self) -> atrium_mail::templates::Brand<'_> {
        atrium_mail::templates::Brand { name: &self.name, logo_url: self.logo_url.as_deref(), accent: &self.accent }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atrium_core::branding::Rgb;

    #[test]
    fn defaults_emit_no_stylesheet() {
        let b = Brand::of(Branding::default(), "Atrium");
        assert_eq!(b.name, "Atrium");
        assert_eq!(b.accent, "#2563eb");
        assert!(b.css().is_empty() && b.css_path().is_none() && b.logo_path().is_none());
        assert_eq!(b.favicon_path(), "/favicon.ico");
    }

    #[test]
    fn an_accent_sets_the_custom_properties() {
        let set = Branding {
            agency_name: Some("Acme".into()),
            accent_color: Some(Rgb(0x7c, 0x3a, 0xed)),
            ..Default::default()
        };
        let b = Brand::of(set, "Atrium");
        assert_eq!(b.name, "Acme");
        let p = Palette::of(Rgb(0x7c, 0x3a, 0xed));
        assert_eq!(
            b.css(),
            format!(":root{{--accent:#7c3aed;--accent-hover:{};--accent-tint:{}}}\n", p.hover.hex(), p.tint.hex())
        );
        assert_eq!(b.css_path().as_deref(), Some("/branding.css?v=7c3aed"));
    }
}

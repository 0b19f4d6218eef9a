//! The agency's branding (one row): read by everyone, changed by owners and admins
//! ([`Actor::may_manage_branding`]), every change audited in its transaction. The logo's bytes
//! live in the blob store under their hash; this row only names them, and the blobs it names
//! count as referenced (backups copy them, purges and file deletions keep them).

use atrium_core::branding::{self, Branding, Logo, Rgb};
use atrium_core::policy::Actor;
use atrium_core::{Error, Result};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};

use crate::audit::{self, AuditAction, Entry};
use crate::db::{Store, db_err};
use crate::entity::branding as row;

const ROW: &str = "default";

/// Changes to the branding; `None` leaves a part as it is.
#[derive(Clone, Debug, Default)]
pub struct BrandingPatch {
    /// The agency's name; empty: back to the configured name.
    pub agency_name: Option<String>,
    /// `#rrggbb`; empty: back to the default accent.
    pub accent_color: Option<String>,
    /// The welcome text (may be empty).
    pub welcome_text: Option<String>,
}

/// A logo already re-encoded and stored in the blob store.
#[derive(Clone, Debug)]
pub struct NewLogo {
    /// SHA-256 of the stored PNG.
    pub sha256: String,
    /// Its size in pixels.
    pub width: u32,
    pub height: u32,
    /// SHA-256 of the stored favicon PNG.
    pub icon_sha256: String,
}

impl Store {
    /// The branding as its settings page edits it (owners and admins).
    pub async fn branding_settings(&self, actor: &Actor) -> Result<Branding> {
        actor.may_manage_branding()?;
        self.branding().await
    }

    /// The branding (anyone: the sign-in page shows it).
    pub async fn branding(&self) -> Result<Branding> {
        load(&self.db).await.map(|r| of_row(&r))
    }

    /// Changes the name, accent colour or welcome text (owners and admins); 422 naming the
    /// field for a bad value, an accent below AA contrast with white text included.
    pub async fn update_branding(&self, actor: &Actor, p: BrandingPatch, ip: Option<&str>) -> Result<Branding> {
        actor.may_manage_branding()?;
        // Everything is checked before the transaction starts.
        let name = p.agency_name.as_deref().map(|n| branding::agency_name("agency_name", n)).transpose()?;
        let accent = match p.accent_color.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(c) => Some(Some(branding::accent("accent_color", c)?)),
        };
        let welcome = p.welcome_text.as_deref().map(|t| branding::welcome_text("welcome_text", t)).transpose()?;
        let tx = self.write_tx().await?;
        let mut am: row::ActiveModel = load(&tx).await?.into();
        let mut changed = Vec::new();
        if let Some(n) = name {
            am.agency_name = Set(n);
            changed.push("agency_name");
        }
        if let Some(a) = accent {
            am.accent_color = Set(a.map(Rgb::hex));
            changed.push("accent_color");
        }
        if let Some(w) = welcome {
            am.welcome_text = Set(w);
            changed.push("welcome_text");
        }
        am.updated_at = Set(Utc::now());
        let saved = am.update(&tx).await.map_err(db_err)?;
        let detail = serde_json::json!({ "changed": changed, "accent_color": saved.accent_color });
        audit::write(&tx, Some(actor), Entry::branding(AuditAction::BrandingUpdate, ip).with_detail(detail)).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(of_row(&saved))
    }

    /// Sets the logo (owners and admins) to blobs already stored; returns the branding and the
    /// hashes the previous logo used, which the caller may delete from storage if nothing else
    /// references them ([`Store::blob_referenced`]).
    pub async fn set_logo(&self, actor: &Actor, logo: NewLogo, ip: Option<&str>) -> Result<(Branding, Vec<String>)> {
        actor.may_manage_branding()?;
        let width = i32::try_from(logo.width).map_err(|_| Error::invalid("file", "is too wide"))?;
        let height = i32::try_from(logo.height).map_err(|_| Error::invalid("file", "is too tall"))?;
        let tx = self.write_tx().await?;
        let before = load(&tx).await?;
        let old = hashes(&before);
        let mut am: row::ActiveModel = before.into();
        am.logo_sha256 = Set(Some(logo.sha256.clone()));
        am.logo_content_type = Set(Some("image/png".into()));
        am.logo_width = Set(Some(width));
        am.logo_height = Set(Some(height));
        am.icon_sha256 = Set(Some(logo.icon_sha256.clone()));
        am.updated_at = Set(Utc::now());
        let saved = am.update(&tx).await.map_err(db_err)?;
        let detail = serde_json::json!({ "sha256": logo.sha256, "width": logo.width, "height": logo.height });
        audit::write(&tx, Some(actor), Entry::branding(AuditAction::BrandingLogoSet, ip).with_detail(detail)).await?;
        tx.commit().await.map_err(db_err)?;
        Ok((of_row(&saved), old))
    }

    /// Removes the logo (owners and admins); returns the hashes it used (see [`Store::set_logo`]).
    /// Removing no logo changes nothing and is not an error.
    pub async fn remove_logo(&self, actor: &Actor, ip: Option<&str>) -> Result<Vec<String>> {
        actor.may_manage_branding()?;
        let tx = self.write_tx().await?;
        let before = load(&tx).await?;
        let old = hashes(&before);
        if old.is_empty() {
            return Ok(old);
        }
        let mut am: row::ActiveModel = before.into();
        am.logo_sha256 = Set(None);
        am.logo_content_type = Set(None);
        am.logo_width = Set(None);
        am.logo_height = Set(None);
        am.icon_sha256 = Set(None);
        am.updated_at = Set(Utc::now());
        am.update(&tx).await.map_err(db_err)?;
        audit::write(&tx, Some(actor), Entry::branding(AuditAction::BrandingLogoRemove, ip)).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(old)
    }
}

/// The blobs the branding references (the logo and its favicon).
pub(crate) async fn referenced<C: ConnectionTrait>(c: &C) -> Result<Vec<String>> {
    load(c).await.map(|r| hashes(&r))
}

fn hashes(r: &row::Model) -> Vec<String> {
    r.logo_sha256.iter().chain(r.icon_sha256.iter()).cloned().collect()
}

async fn load<C: ConnectionTrait>(c: &C) -> Result<row::Model> {
    row::Entity::find_by_id(ROW)
        .one(c)
        .await
        .map_err(db_err)?
        .ok_or_else(|| Error::internal_msg("branding row missing"))
}

fn of_row(r: &row::Model) -> Branding {
    let logo = match (&r.logo_sha256, &r.icon_sha256, r.logo_width, r.logo_height) {
        (Some(sha), Some(icon), Some(w), Some(h)) => Some(Logo {
            sha256: sha.clone(),
            content_type: r.logo_content_type.clone().unwrap_or_else(|| "image/png".into()),
            width: u32::try_from(w).unwrap_or(0),
            height: u32::try_from(h).unwrap_or(0),
            icon_sha256: icon.clone(),
        }),
        _ => None,
    };
    Branding {
        agency_name: r.agency_name.clone(),
        // Stored only after the check; a value that no longer parses falls back to the default.
        accent_color: r.accent_color.as_deref().and_then(|c| Rgb::parse("accent_color", c).ok()),
        welcome_text: r.welcome_text.clone(),
        logo,
        updated_at: Some(r.updated_at),
    }
}

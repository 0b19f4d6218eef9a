//! The branding settings (owners and admins; other staff 403, client users never reach the
//! staff area): the agency's name, accent colour, welcome text and logo. A refused value shows
//! the form again with the message naming the field.

use askama::Template;
use atrium_core::Error;
use atrium_core::branding::{AGENCY_NAME_MAX, LOGO_MAX_SIDE, WELCOME_TEXT_MAX};
use atrium_store::branding::BrandingPatch;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::audience::StaffAuth;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Q};
use crate::pages::account::Notice;
use crate::pages::{Chrome, render, see_other};
use crate::state::AppState;

/// Where the settings page lives.
pub const PATH: &str = "/staff/settings/branding";

#[derive(Template)]
#[template(path = "staff_branding.html")]
struct BrandingPage {
    chrome: Chrome,
    error: Option<String>,
    agency_name: String,
    configured_name: String,
    accent_color: String,
    default_accent: String,
    welcome_text: String,
    logo: Option<String>,
    logo_size: String,
    name_max: usize,
    welcome_max: usize,
    logo_max_kib: u64,
    logo_max_side: u32,
}

/// What the form shows: the stored values, or what was just sent (after a refusal).
struct Values {
    agency_name: String,
    accent_color: String,
    welcome_text: String,
}

async fn show(
    st: &AppState,
    auth: &StaffAuth,
    csrf: &CsrfToken,
    values: Option<Values>,
    error: Option<Error>,
    notice: Option<&str>,
) -> AppResult<Response> {
    let stored = st.store.branding_settings(&auth.actor).await?;
    let values = values.unwrap_or_else(|| Values {
        agency_name: stored.agency_name.clone().unwrap_or_default(),
        accent_color: stored.accent_color.map(|c| c.hex()).unwrap_or_default(),
        welcome_text: stored.welcome_text.clone(),
    });
    let brand = st.brand();
    let mut chrome = Chrome::signed_in(st, auth, csrf, "Branding", PATH);
    chrome.flash = match notice {
        Some("saved") => Some("Branding saved.".into()),
        Some("logo_set") => Some("Logo saved.".into()),
        Some("logo_removed") => Some("Logo removed.".into()),
        _ => None,
    };
    let status = error.as_ref().map_or(StatusCode::OK, crate::error::status);
    let page = BrandingPage {
        chrome,
        error: error.map(|e| e.to_string()),
        agency_name: values.agency_name,
        configured_name: st.config.agency_name.clone(),
        accent_color: values.accent_color,
        default_accent: atrium_core::branding::DEFAULT_ACCENT.hex(),
        welcome_text: values.welcome_text,
        logo: brand.logo_path(),
        logo_size: stored.logo.map(|l| format!("{} × {} px", l.width, l.height)).unwrap_or_default(),
        name_max: AGENCY_NAME_MAX,
        welcome_max: WELCOME_TEXT_MAX,
        logo_max_kib: crate::logo::LOGO_MAX_BYTES / 1024,
        logo_max_side: LOGO_MAX_SIDE,
    };
    Ok((status, render(&page)?).into_response())
}

/// The settings page.
pub async fn page(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Q(n): Q<Notice>,
) -> AppResult<Response> {
    show(&st, &auth, &csrf, None, None, n.notice.as_deref()).await
}

/// The name, accent and welcome text form (every field is sent; empty name or accent: the
/// default).
#[derive(Deserialize)]
pub struct BrandingForm {
    #[serde(default)]
    agency_name: String,
    #[serde(default)]
    accent_color: String,
    #[serde(default)]
    welcome_text: String,
}

/// Saves the name, accent and welcome text.
pub async fn save(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    FormBody(f): FormBody<BrandingForm>,
) -> AppResult<Response> {
    let p = BrandingPatch {
        agency_name: Some(f.agency_name.clone()),
        accent_color: Some(f.accent_color.clone()),
        welcome_text: Some(f.welcome_text.clone()),
    };
    match crate::branding::update(&st, &auth, &ip, p).await {
        Ok(_) => Ok(see_other(&format!("{PATH}?notice=saved"))),
        Err(e) => {
            let e = super::input_error(e.0)?;
            let values =
                Values { agency_name: f.agency_name, accent_color: f.accent_color, welcome_text: f.welcome_text };
            show(&st, &auth, &csrf, Some(values), Some(e), None).await
        }
    }
}

/// Uploads a new logo (multipart `file`).
pub async fn upload_logo(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    form: Multipart,
) -> AppResult<Response> {
    match crate::branding::receive_logo(&st, &auth, &ip, form).await {
        Ok(_) => Ok(see_other(&format!("{PATH}?notice=logo_set"))),
        Err(e) => {
            let e = super::input_error(e.0)?;
            show(&st, &auth, &csrf, None, Some(e), None).await
        }
    }
}

/// Removes the logo.
pub async fn remove_logo(State(st): State<AppState>, auth: StaffAuth, ClientIp(ip): ClientIp) -> AppResult<Response> {
    crate::branding::remove_logo(&st, &auth, &ip).await?;
    Ok(see_other(&format!("{PATH}?notice=logo_removed")))
}

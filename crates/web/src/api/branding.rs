//! The agency's branding over the API (`../shared/spec/api-v1.md`, "Portal settings and
//! branding"): anyone signed in reads it, owners and admins change it; the logo is public (the
//! sign-in page shows it). The policy decides in the store (`may_manage_branding`).

use atrium_core::branding::Branding;
use atrium_store::branding::BrandingPatch;
use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::auth::Authed;
use crate::brand::Brand;
use crate::error::AppResult;
use crate::extract::{ApiJson, ClientIp};
use crate::state::AppState;

/// The branding in effect.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BrandingView {
    /// The agency's name (the configured one unless set).
    pub agency_name: String,
    /// `#rrggbb` (the default accent unless set).
    #[schema(pattern = "^#[0-9a-f]{6}$")]
    pub accent_color: String,
    /// Absolute URL of the logo (versioned by its content), `null` without one.
    pub logo_url: Option<String>,
    /// Shown on the portal's Home (may be empty).
    pub welcome_text: String,
}

impl BrandingView {
    fn of(st: &AppState, b: Branding) -> Self {
        let brand = Brand::of(b, &st.config.agency_name);
        BrandingView {
            logo_url: brand.logo_path().map(|p| st.config.link(&p)),
            agency_name: brand.name,
            accent_color: brand.accent,
            welcome_text: brand.welcome_text,
        }
    }
}

/// `PUT /branding`: every field optional. An empty `agency_name` or `accent_color` goes back
/// to the default.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BrandingBody {
    /// At most 100 characters, one line.
    #[schema(max_length = 100)]
    pub agency_name: Option<String>,
    /// `#rrggbb` whose contrast with white text is at least 4.5:1 (WCAG AA), else 422.
    #[schema(pattern = "^(#[0-9a-fA-F]{6})?$")]
    pub accent_color: Option<String>,
    /// At most 2,000 characters.
    #[schema(max_length = 2000)]
    pub welcome_text: Option<String>,
}

/// The agency's branding (anyone signed in).
#[utoipa::path(get, path = "/api/v1/branding", tag = "branding", responses((status = 200, body = BrandingView)))]
pub async fn get_branding(State(st): State<AppState>, _auth: Authed) -> AppResult<Json<BrandingView>> {
    Ok(Json(BrandingView::of(&st, st.store.branding().await?)))
}

/// Change the agency's name, accent colour or welcome text (owners and admins).
#[utoipa::path(put, path = "/api/v1/branding", tag = "branding", request_body = BrandingBody,
    responses((status = 200, body = BrandingView), (status = 403), (status = 404), (status = 422)))]
pub async fn put_branding(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<BrandingBody>,
) -> AppResult<Json<BrandingView>> {
    let p = BrandingPatch { agency_name: b.agency_name, accent_color: b.accent_color, welcome_text: b.welcome_text };
    let saved = crate::branding::update(&st, &auth, &ip, p).await?;
    Ok(Json(BrandingView::of(&st, saved)))
}

/// The multipart form of a logo upload (for the OpenAPI document).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct LogoForm {
    /// PNG, JPEG or WebP (told by the bytes), at most 1 MiB and 4,096 pixels a side.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Set the logo (owners and admins; multipart `file`): PNG, JPEG or WebP only (SVG, GIF or
/// anything else 422), larger than 1 MiB 413, more than 4,096 px a side 422. It is re-encoded
/// as PNG, so no metadata of the upload survives, and scaled to fit 512 px.
#[utoipa::path(put, path = "/api/v1/branding/logo", tag = "branding",
    request_body(content = LogoForm, content_type = "multipart/form-data"),
    responses((status = 200, body = BrandingView), (status = 403), (status = 404), (status = 413), (status = 422)))]
pub async fn put_logo(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    form: Multipart,
) -> AppResult<Json<BrandingView>> {
    let saved = crate::branding::receive_logo(&st, &auth, &ip, form).await?;
    Ok(Json(BrandingView::of(&st, saved)))
}

/// Remove the logo (owners and admins).
#[utoipa::path(delete, path = "/api/v1/branding/logo", tag = "branding",
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_logo(State(st): State<AppState>, auth: Authed, ClientIp(ip): ClientIp) -> AppResult<StatusCode> {
    crate::branding::remove_logo(&st, &auth, &ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The logo (anyone; the sign-in page shows it): the re-encoded PNG with an `ETag` of its
/// content hash (304 on a match) and `Cache-Control: public` (a year for the versioned URL
/// `logo_url` gives). 404 when none is set.
#[utoipa::path(get, path = "/api/v1/branding/logo", tag = "branding", security(()),
    responses((status = 200, content_type = "image/png", body = Vec<u8>), (status = 304), (status = 404)))]
pub async fn get_logo(State(st): State<AppState>, headers: HeaderMap, uri: Uri) -> AppResult<Response> {
    crate::branding::serve_logo(&st, &headers, uri.query()).await
}

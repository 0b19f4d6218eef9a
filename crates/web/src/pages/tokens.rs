//! `/account/tokens`: the signed-in person's API tokens (staff and client users alike) — list,
//! make (the secret is shown on the answer to the form, once, never in a URL) and revoke. A
//! refused value shows the form again with what was typed and the field named.

use askama::Template;
use atrium_core::Error;
use atrium_core::api_token::{self, Access, NAME_MAX, TokenArea, TokenScope, TokenScopes};
use atrium_core::ids::ApiTokenId;
use atrium_store::api_tokens::{ApiToken, NewApiToken};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::account::Notice;
use super::{Chrome, render, see_other};
use crate::auth::Authed;
use crate::csrf::CsrfToken;
use crate::error::{AppError, AppResult};
use crate::extract::{ClientIp, FormPairs, Id, Q};
use crate::state::AppState;

/// Where the page lives.
pub const PATH: &str = "/account/tokens";

struct TokenRow {
    id: String,
    name: String,
    prefix: String,
    scopes: String,
    created: String,
    last_used: String,
    expires: String,
    expired: bool,
}

/// One scope checkbox.
struct ScopeBox {
    value: String,
    label: String,
    checked: bool,
}

/// The scopes of one area, as a row of the form.
struct AreaRow {
    name: &'static str,
    read: ScopeBox,
    write: ScopeBox,
}

#[derive(Template)]
#[template(path = "account_tokens.html")]
struct TokensPage {
    chrome: Chrome,
    tokens: Vec<TokenRow>,
    error: Option<String>,
    /// The secret of the token just made: shown this once.
    created: Option<String>,
    name: String,
    expires_at: String,
    everything: Vec<ScopeBox>,
    areas: Vec<AreaRow>,
    name_max: usize,
    today: String,
    last_day: String,
}

/// What the form sent (kept to show it again after a refusal).
#[derive(Default)]
struct Sent {
    name: String,
    scopes: Vec<String>,
    expires_at: String,
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%b %-d, %Y").to_string()
}

fn row(t: ApiToken, now: DateTime<Utc>) -> TokenRow {
    TokenRow {
        id: t.id.to_string(),
        expired: t.expired(now),
        name: t.name,
        prefix: format!("{}{}…", api_token::PREFIX, t.display_prefix),
        scopes: t.scopes.names().join(", "),
        created: day(t.created_at),
        last_used: t.last_used_at.map_or_else(|| "never".to_string(), |at| at.format("%b %-d, %Y %H:%M").to_string()),
        expires: t.expires_at.map_or_else(|| "never".to_string(), day),
    }
}

fn scope_box(scope: TokenScope, label: &str, sent: &[String]) -> ScopeBox {
    let value = scope.to_string();
    ScopeBox { checked: sent.contains(&value), value, label: label.to_string() }
}

async fn show(
    st: &AppState,
    auth: &Authed,
    csrf: &CsrfToken,
    sent: Sent,
    error: Option<Error>,
    created: Option<String>,
    notice: Option<&str>,
) -> AppResult<Response> {
    let now = Utc::now();
    let tokens = st.store.api_tokens(&auth.actor).await?.into_iter().map(|t| row(t, now)).collect();
    let mut chrome = Chrome::signed_in(st, auth, csrf, "API tokens", "");
    chrome.flash = match notice {
        Some("revoked") => Some("The token was revoked: it stopped working at once.".into()),
        _ => None,
    };
    let status = error.as_ref().map_or(StatusCode::OK, crate::error::status);
    let everything = vec![
        scope_box(TokenScope::All(Access::Read), "Read everything", &sent.scopes),
        scope_box(TokenScope::All(Access::Write), "Read and change everything", &sent.scopes),
    ];
    let areas = TokenArea::ALL
        .iter()
        .map(|a| AreaRow {
            name: a.as_str(),
            read: scope_box(TokenScope::Area(*a, Access::Read), "read", &sent.scopes),
            write: scope_box(TokenScope::Area(*a, Access::Write), "write", &sent.scopes),
        })
        .collect();
    let page = TokensPage {
        chrome,
        tokens,
        error: error.map(|e| e.to_string()),
        created,
        name: sent.name,
        expires_at: sent.expires_at,
        everything,
        areas,
        name_max: NAME_MAX,
        today: (now + Duration::days(1)).date_naive().to_string(),
        last_day: (now + Duration::days(api_token::LIFETIME_MAX_DAYS - 1)).date_naive().to_string(),
    };
    Ok((status, render(&page)?).into_response())
}

/// The page.
pub async fn page(State(st): State<AppState>, auth: Authed, csrf: CsrfToken, Q(n): Q<Notice>) -> AppResult<Response> {
    show(&st, &auth, &csrf, Sent::default(), None, None, n.notice.as_deref()).await
}

/// Reads the form: `name`, repeated `scopes`, `expires_at` (a date: the token works through
/// that day, UTC).
fn read_form(pairs: Vec<(String, String)>) -> Result<Sent, Error> {
    let mut sent = Sent::default();
    for (k, v) in pairs {
        match k.as_str() {
            "name" => sent.name = v,
            "scopes" => sent.scopes.push(v),
            "expires_at" => sent.expires_at = v,
            other => return Err(Error::invalid(other.to_string(), "is not a field of this form")),
        }
    }
    Ok(sent)
}

/// The moment a form's expiry date ends: the start of the next day, UTC.
fn end_of(date: NaiveDate) -> Option<DateTime<Utc>> {
    date.succ_opt()?.and_hms_opt(0, 0, 0).map(|t| t.and_utc())
}

fn new_token(sent: &Sent) -> Result<NewApiToken, Error> {
    let scopes = TokenScopes::parse(&sent.scopes)?;
    let expires_at = match atrium_core::validate::date("expires_at", Some(sent.expires_at.trim()))? {
        Some(d) => Some(end_of(d).ok_or_else(|| Error::invalid("expires_at", "is not a date"))?),
        None => None,
    };
    Ok(NewApiToken { name: sent.name.clone(), scopes, expires_at })
}

/// Makes a token and shows its secret once, on this answer.
pub async fn create(
    State(st): State<AppState>,
    auth: Authed,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    FormPairs(pairs): FormPairs,
) -> AppResult<Response> {
    let sent = match read_form(pairs) {
        Ok(s) => s,
        Err(e) => return show(&st, &auth, &csrf, Sent::default(), Some(e), None, None).await,
    };
    let made = match new_token(&sent) {
        Ok(n) => st.store.create_api_token(&auth.actor, n, Some(&ip)).await,
        Err(e) => Err(e),
    };
    match made {
        Ok((_, secret)) => show(&st, &auth, &csrf, Sent::default(), None, Some(secret), None).await,
        Err(e @ (Error::Invalid { .. } | Error::TooLarge)) => show(&st, &auth, &csrf, sent, Some(e), None, None).await,
        Err(e) => Err(AppError(e)),
    }
}

/// Revokes one of the person's tokens.
pub async fn revoke(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    Id(id): Id<ApiTokenId>,
) -> AppResult<Response> {
    st.store.revoke_api_token(&auth.actor, id, Some(&ip)).await?;
    Ok(see_other(&format!("{PATH}?notice=revoked")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_form_is_read_with_its_repeated_scopes_and_an_expiry_day() {
        let sent = read_form(pairs(&[
            ("name", "CI"),
            ("scopes", "read"),
            ("scopes", "tasks:write"),
            ("expires_at", "2099-03-31"),
        ]))
        .unwrap();
        let n = new_token(&sent).unwrap();
        assert_eq!(n.name, "CI");
        assert_eq!(n.scopes.names(), vec!["read", "tasks:write"]);
        assert_eq!(n.expires_at.unwrap().to_rfc3339(), "2099-04-01T00:00:00+00:00", "works through that day");
        let none =
            new_token(&read_form(pairs(&[("name", "x"), ("scopes", "read"), ("expires_at", "")])).unwrap()).unwrap();
        assert_eq!(none.expires_at, None);
    }

    #[test]
    fn bad_values_name_their_field() {
        let field = |e: Error| match e {
            Error::Invalid { field, .. } => field.into_owned(),
            other => panic!("{other:?}"),
        };
        let e = new_token(&read_form(pairs(&[("name", "x"), ("expires_at", "")])).unwrap()).unwrap_err();
        assert_eq!(field(e), "scopes");
        let e = new_token(&read_form(pairs(&[("name", "x"), ("scopes", "root")])).unwrap()).unwrap_err();
        assert_eq!(field(e), "scopes[0]");
        let e = new_token(&read_form(pairs(&[("scopes", "read"), ("expires_at", "soon")])).unwrap()).unwrap_err();
        assert_eq!(field(e), "expires_at");
        assert_eq!(field(read_form(pairs(&[("admin", "true")])).err().unwrap()), "admin");
    }
}

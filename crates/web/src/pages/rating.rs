//! The "How did we do?" links of the mail sent when a ticket is solved: the page shows the
//! choice with a confirm button and an optional comment (a GET records nothing: mail scanners
//! follow links); the POST records it. The signed link is the credential, as for unsubscribing.

use askama::Template;
use atrium_core::helpdesk::{Satisfaction, ticket_label};
use atrium_core::ids::TicketId;
use atrium_store::ticket_rating::RatingLink;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::{Chrome, page};
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Id};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "rate.html")]
struct RatePage {
    chrome: Chrome,
    label: String,
    subject: String,
    good: bool,
    done: bool,
}

async fn checked(st: &AppState, ticket: TicketId, rating: &str, sig: &str) -> AppResult<RatingLink> {
    let rating: Satisfaction = rating.parse().map_err(|_| atrium_core::Error::NotFound)?;
    Ok(st.store.verify_rating_link(ticket, rating, sig).await?)
}

async fn show(st: &AppState, csrf: &CsrfToken, link: &RatingLink, done: bool) -> AppResult<Response> {
    let t = st.store.rating_link_ticket(link).await?;
    let title = if done { "Thank you" } else { "How did we do?" };
    page(&RatePage {
        chrome: Chrome::public(st, csrf, title),
        label: ticket_label(t.number),
        subject: t.subject,
        good: link.rating() == Satisfaction::Good,
        done,
    })
}

/// `GET /rate/{ticket}/{rating}/{sig}`: the choice, to confirm.
pub async fn rate_page(
    State(st): State<AppState>,
    csrf: CsrfToken,
    Id((ticket, rating, sig)): Id<(TicketId, String, String)>,
) -> AppResult<Response> {
    let link = checked(&st, ticket, &rating, &sig).await?;
    show(&st, &csrf, &link, false).await
}

/// The confirm form: an optional comment.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateForm {
    #[serde(default)]
    pub comment: Option<String>,
}

/// `POST /rate/{ticket}/{rating}/{sig}`: records the rating.
pub async fn rate(
    State(st): State<AppState>,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    Id((ticket, rating, sig)): Id<(TicketId, String, String)>,
    FormBody(f): FormBody<RateForm>,
) -> AppResult<Response> {
    let link = checked(&st, ticket, &rating, &sig).await?;
    st.store.rate_by_link(&link, f.comment, Some(&ip)).await?;
    show(&st, &csrf, &link, true).await
}

//! Sign-in pages: password, magic link (GET shows a confirm button, POST consumes the token),
//! invitation acceptance, password reset, sign-out.

use askama::Template;
use atrium_core::model::{Role, TokenPurpose};
use atrium_core::policy::Side;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::{Chrome, page, render};
use crate::auth::{Authed, MaybeAuthed, clear_session_cookie, session_cookie};
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody};
use crate::flows;
use crate::state::AppState;

fn ua(h: &HeaderMap) -> Option<&str> {
    h.get(header::USER_AGENT).and_then(|v| v.to_str().ok())
}

/// Where a user lands after signing in.
fn home_for(role: Role) -> &'static str {
    super::prefix(if role.is_staff() { Side::Staff } else { Side::Portal })
}

/// `/`: signed-out visitors go to sign-in; staff to their dashboard; clients to their Home.
pub async fn index(MaybeAuthed(auth): MaybeAuthed) -> Redirect {
    match auth {
        Some(a) => Redirect::to(super::prefix(Side::of(&a.actor))),
        None => Redirect::to("/login"),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    email: String,
    error: Option<String>,
}

/// The sign-in page.
pub async fn login_page(
    State(st): State<AppState>,
    csrf: CsrfToken,
    MaybeAuthed(auth): MaybeAuthed,
) -> AppResult<Response> {
    if let Some(a) = auth {
        return Ok(Redirect::to(super::prefix(Side::of(&a.actor))).into_response());
    }
    page(&LoginPage { chrome: Chrome::public(&st, &csrf, "Sign in"), email: String::new(), error: None })
}

/// Sign-in form fields.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// Password sign-in.
pub async fn login(
    State(st): State<AppState>,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    FormBody(f): FormBody<LoginForm>,
) -> AppResult<Response> {
    match flows::password_login(&st, &ip, ua(&headers), &f.email, &f.password).await {
        Ok((token, user)) => {
            Ok((jar.add(session_cookie(&st.config, token.secret)), Redirect::to(home_for(user.role))).into_response())
        }
        Err(atrium_core::Error::BadCredentials) => {
            let page = LoginPage {
                chrome: Chrome::public(&st, &csrf, "Sign in"),
                email: f.email,
                error: Some("That email and password do not match an account.".into()),
            };
            Ok((axum::http::StatusCode::UNAUTHORIZED, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticePage {
    chrome: Chrome,
    heading: String,
    message: String,
}

/// Email form fields.
#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

/// "Email me a link": same answer whether or not the account exists.
pub async fn request_magic_link(
    State(st): State<AppState>,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    FormBody(f): FormBody<EmailForm>,
) -> AppResult<Response> {
    flows::request_link(&st, &ip, &f.email, TokenPurpose::MagicLink).await?;
    page(&NoticePage {
        chrome: Chrome::public(&st, &csrf, "Check your email"),
        heading: "Check your email".into(),
        message: "If that address has an account, we have sent it a sign-in link. It works once, for 15 minutes."
            .into(),
    })
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    heading: String,
    message: String,
    action: String,
    button: String,
}

/// A magic link opened: only a confirm button (mail scanners must not use the link up).
pub async fn magic_page(State(st): State<AppState>, csrf: CsrfToken, Path(token): Path<String>) -> AppResult<Response> {
    st.store.sign_in().check_login_token(&token, TokenPurpose::MagicLink).await?;
    page(&ConfirmPage {
        chrome: Chrome::public(&st, &csrf, "Sign in"),
        heading: format!("Sign in to {}", st.brand().name),
        message: "Press the button to finish signing in.".into(),
        action: format!("/magic/{token}"),
        button: "Sign in".into(),
    })
}

/// The confirm button: consumes the magic link and signs in.
pub async fn magic_login(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let (t, user) = flows::use_magic_link(&st, &ip, ua(&headers), &token).await?;
    Ok((jar.add(session_cookie(&st.config, t.secret)), Redirect::to(home_for(user.role))).into_response())
}

#[derive(Template)]
#[template(path = "password_form.html")]
struct PasswordFormPage {
    chrome: Chrome,
    heading: String,
    intro: String,
    action: String,
    ask_name: bool,
    name: String,
    button: String,
    error: Option<String>,
}

/// An invitation link opened: a form to choose a name and password.
pub async fn invite_page(
    State(st): State<AppState>,
    csrf: CsrfToken,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let inv = st.store.sign_in().invitation_by_token(&token).await?;
    page(&PasswordFormPage {
        chrome: Chrome::public(&st, &csrf, "Accept invitation"),
        heading: format!("Welcome to {}", st.brand().name),
        intro: format!("You were invited as {}. Choose a password to finish setting up your account.", inv.email),
        action: format!("/invite/{token}"),
        ask_name: true,
        name: inv.name,
        button: "Create my account".into(),
        error: None,
    })
}

/// Invitation form fields.
#[derive(Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

/// Accepts an invitation and signs in.
pub async fn accept_invite(
    State(st): State<AppState>,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    Path(token): Path<String>,
    FormBody(f): FormBody<AcceptForm>,
) -> AppResult<Response> {
    match flows::accept_invitation(&st, &ip, ua(&headers), &token, Some(&f.name), &f.password).await {
        Ok((t, user)) => {
            Ok((jar.add(session_cookie(&st.config, t.secret)), Redirect::to(home_for(user.role))).into_response())
        }
        Err(atrium_core::Error::Invalid { message, field }) => {
            let page = PasswordFormPage {
                chrome: Chrome::public(&st, &csrf, "Accept invitation"),
                heading: format!("Welcome to {}", st.brand().name),
                intro: "Choose a password to finish setting up your account.".into(),
                action: format!("/invite/{token}"),
                ask_name: true,
                name: f.name,
                button: "Create my account".into(),
                error: Some(format!("{}: {message}", field_label(&field))),
            };
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

fn field_label(f: &str) -> String {
    let mut s = f.replace('_', " ");
    if let Some(c) = s.get_mut(0..1) {
        c.make_ascii_uppercase();
    }
    s
}

#[derive(Template)]
#[template(path = "reset_request.html")]
struct ResetRequestPage {
    chrome: Chrome,
}

/// "Forgot your password?"
pub async fn reset_request_page(State(st): State<AppState>, csrf: CsrfToken) -> AppResult<Response> {
    page(&ResetRequestPage { chrome: Chrome::public(&st, &csrf, "Reset password") })
}

/// Sends a reset link; same answer whether or not the account exists.
pub async fn reset_request(
    State(st): State<AppState>,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    FormBody(f): FormBody<EmailForm>,
) -> AppResult<Response> {
    flows::request_link(&st, &ip, &f.email, TokenPurpose::PasswordReset).await?;
    page(&NoticePage {
        chrome: Chrome::public(&st, &csrf, "Check your email"),
        heading: "Check your email".into(),
        message: "If that address has an account, we have sent it a link to choose a new password. It works once, for 1 hour.".into(),
    })
}

/// A reset link opened: the new-password form.
pub async fn reset_page(State(st): State<AppState>, csrf: CsrfToken, Path(token): Path<String>) -> AppResult<Response> {
    st.store.sign_in().check_login_token(&token, TokenPurpose::PasswordReset).await?;
    page(&PasswordFormPage {
        chrome: Chrome::public(&st, &csrf, "Choose a new password"),
        heading: "Choose a new password".into(),
        intro: "At least 10 characters. Every other session will be signed out.".into(),
        action: format!("/reset/{token}"),
        ask_name: false,
        name: String::new(),
        button: "Save password".into(),
        error: None,
    })
}

/// Sets the new password and signs in.
pub async fn reset(
    State(st): State<AppState>,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    Path(token): Path<String>,
    FormBody(f): FormBody<AcceptForm>,
) -> AppResult<Response> {
    match flows::use_reset_link(&st, &ip, ua(&headers), &token, &f.password).await {
        Ok((t, user)) => {
            Ok((jar.add(session_cookie(&st.config, t.secret)), Redirect::to(home_for(user.role))).into_response())
        }
        Err(atrium_core::Error::Invalid { message, .. }) => {
            let page = PasswordFormPage {
                chrome: Chrome::public(&st, &csrf, "Choose a new password"),
                heading: "Choose a new password".into(),
                intro: "At least 10 characters. Every other session will be signed out.".into(),
                action: format!("/reset/{token}"),
                ask_name: false,
                name: String::new(),
                button: "Save password".into(),
                error: Some(format!("Password: {message}")),
            };
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Signs out: the session is revoked server-side.
pub async fn logout(
    State(st): State<AppState>,
    auth: Authed,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
) -> AppResult<Response> {
    let session = auth.session()?;
    st.store.revoke_session(&auth.actor, session.user_id, session.id, Some(&ip)).await?;
    Ok((jar.add(clear_session_cookie(&st.config)), Redirect::to("/login")).into_response())
}

//! Sign-in flows shared by the JSON API and the HTML pages: password login, magic links,
//! invitations and password resets, with their rate limits (SEC-AUTH-*).

use atrium_core::model::{TokenPurpose, User};
use atrium_core::policy::Actor;
use atrium_core::token::NewToken;
use atrium_core::{Error, Result, password, validate};
use atrium_store::audit::{AuditAction, Entry};
use atrium_store::auth::Invitation;

use crate::api::input::{InvitationBody, name};
use crate::state::AppState;

fn window(st: &AppState) -> chrono::Duration {
    chrono::Duration::from_std(st.config.rate_window).unwrap_or(chrono::Duration::minutes(15))
}

/// One account's password sign-in from all addresses together may be tried this many times
/// `login_per_account` in a window before it is refused from everywhere.
pub const LOGIN_ACCOUNT_ALL_ADDRESSES: u32 = 10;

/// Counts an attempt of `kind` from `ip` and for `email` (SEC-AUTH-4).
///
/// Password sign-in (`login`) is limited per address, per account *from that address*
/// (`login_per_account`, 10 per 15 minutes), and per account from all addresses together (ten
/// times that): a stranger guessing from one address locks out only that address, never the
/// account's owner elsewhere, while a guess spread over many addresses is still bounded. Sign-in
/// by email link has counters of its own, so it keeps working while password sign-in is limited.
/// Links and resets are limited per address and per account (each request sends a mail).
pub async fn rate_limit(st: &AppState, kind: &str, ip: &str, email: &str) -> Result<()> {
    let w = window(st);
    st.store.hit_rate_limit(&format!("{kind}:ip:{ip}"), st.config.login_per_ip, w).await?;
    // Keyed by a hash of what was typed: any input (however long, or with bytes a database
    // rejects) becomes a key of fixed length.
    let account = atrium_core::token::hash(&email.trim().to_lowercase());
    if kind != "login" {
        return st.store.hit_rate_limit(&format!("{kind}:account:{account}"), st.config.login_per_account, w).await;
    }
    let here = atrium_core::token::hash(&format!("{account}\0{ip}"));
    st.store.hit_rate_limit(&format!("login:account-ip:{here}"), st.config.login_per_account, w).await?;
    let everywhere = st.config.login_per_account.saturating_mul(LOGIN_ACCOUNT_ALL_ADDRESSES);
    st.store.hit_rate_limit(&format!("login:account:{account}"), everywhere, w).await
}

/// Starts a session for an active user and audits it.
pub async fn start_session(
    st: &AppState,
    user: atrium_core::ids::UserId,
    ip: &str,
    ua: Option<&str>,
    how: AuditAction,
) -> Result<(NewToken, User)> {
    let acc = st.store.sign_in().account(user).await?.filter(|a| a.user.active).ok_or(Error::Gone)?;
    let lifetime = chrono::Duration::from_std(st.config.session_lifetime).unwrap_or(chrono::Duration::days(30));
    let token = st.store.sign_in().create_session(user, lifetime, Some(ip), ua).await?;
    // The sign-in is audited as the session it started, resolved like any request's.
    let (_, actor) = st.store.session_actor(&token.secret, lifetime).await?.ok_or(Error::Gone)?;
    st.store.audit(&actor, Entry::user(how, acc.user.id, acc.user.client_id, Some(ip))).await?;
    Ok((token, acc.user))
}

/// Email + password sign-in. Unknown email and wrong password answer the same, in about the
/// same time (SEC-AUTH-3).
pub async fn password_login(
    st: &AppState,
    ip: &str,
    ua: Option<&str>,
    email: &str,
    pw: &str,
) -> Result<(NewToken, User)> {
    rate_limit(st, "login", ip, email).await?;
    let email = validate::email("email", email).unwrap_or_default();
    let account = if email.is_empty() { None } else { st.store.sign_in().account_by_email(&email).await? };
    let ok = password::verify(pw, account.as_ref().and_then(|a| a.password_hash.as_deref()));
    match account {
        Some(a) if ok && a.user.active => start_session(st, a.user.id, ip, ua, AuditAction::SessionLoginPassword).await,
        _ => {
            tracing::info!("failed sign-in");
            Err(Error::BadCredentials)
        }
    }
}

/// Emails a one-time link of `purpose` when the address belongs to an active user; answers the
/// same either way.
pub async fn request_link(st: &AppState, ip: &str, email: &str, purpose: TokenPurpose) -> Result<()> {
    let kind = match purpose {
        TokenPurpose::MagicLink => "magic",
        TokenPurpose::PasswordReset => "reset",
    };
    rate_limit(st, kind, ip, email).await?;
    let Ok(email) = validate::email("email", email) else { return Ok(()) };
    let Some(acc) = st.store.sign_in().account_by_email(&email).await? else { return Ok(()) };
    if !acc.user.active {
        return Ok(());
    }
    let token = st.store.sign_in().issue_login_token(acc.user.id, purpose).await?;
    let brand = st.mail_brand();
    let mail = match purpose {
        TokenPurpose::MagicLink => atrium_mail::templates::magic_link(
            &acc.user.email,
            &brand.get(),
            &acc.user.name,
            &st.config.link(&format!("/magic/{}", token.secret)),
        ),
        TokenPurpose::PasswordReset => atrium_mail::templates::password_reset(
            &acc.user.email,
            &brand.get(),
            &acc.user.name,
            &st.config.link(&format!("/reset/{}", token.secret)),
        ),
    };
    st.send_mail(mail).await;
    Ok(())
}

/// Signs in with a magic link (the POST behind the confirm button, SEC-AUTH-7).
pub async fn use_magic_link(st: &AppState, ip: &str, ua: Option<&str>, secret: &str) -> Result<(NewToken, User)> {
    st.store.hit_rate_limit(&format!("token:ip:{ip}"), st.config.login_per_ip, window(st)).await?;
    let user = st.store.sign_in().consume_login_token(secret, TokenPurpose::MagicLink).await?;
    start_session(st, user, ip, ua, AuditAction::SessionLoginMagicLink).await
}

/// Sets a new password from a reset link; every other session and link of the user ends.
pub async fn use_reset_link(
    st: &AppState,
    ip: &str,
    ua: Option<&str>,
    secret: &str,
    new_password: &str,
) -> Result<(NewToken, User)> {
    st.store.hit_rate_limit(&format!("token:ip:{ip}"), st.config.login_per_ip, window(st)).await?;
    password::check("password", new_password)?;
    st.store.sign_in().check_login_token(secret, TokenPurpose::PasswordReset).await?;
    let hash = password::hash(new_password)?;
    let user = st.store.sign_in().consume_login_token(secret, TokenPurpose::PasswordReset).await?;
    st.store.sign_in().set_password(user, hash).await?;
    start_session(st, user, ip, ua, AuditAction::SessionLoginPasswordReset).await
}

/// Invites someone and emails them the link (with their client's invitation text, if it has
/// one); returns the invitation and its absolute accept URL.
pub async fn invite(st: &AppState, actor: &Actor, ip: &str, body: InvitationBody) -> Result<(Invitation, String)> {
    actor.may_invite(body.role)?;
    let email = validate::email("email", &body.email)?;
    let person = name("name", &body.name)?;
    let (inv, token) = st.store.create_invitation(actor, email, person, body.role, body.client_id, Some(ip)).await?;
    let url = st.config.link(&format!("/invite/{}", token.secret));
    let note = match body.client_id {
        Some(c) => st.store.invitation_text(&actor.client_scope(), c).await?,
        None => String::new(),
    };
    let brand = st.mail_brand();
    st.send_mail(atrium_mail::templates::invitation(&inv.email, &brand.get(), &inv.name, actor.name(), &url, &note))
        .await;
    Ok((inv, url))
}

/// Accepts an invitation, creating the account, and signs the new user in.
pub async fn accept_invitation(
    st: &AppState,
    ip: &str,
    ua: Option<&str>,
    secret: &str,
    person: Option<&str>,
    pw: &str,
) -> Result<(NewToken, User)> {
    st.store.hit_rate_limit(&format!("token:ip:{ip}"), st.config.login_per_ip, window(st)).await?;
    st.store.sign_in().invitation_by_token(secret).await?;
    password::check("password", pw)?;
    let person = match person.map(str::trim) {
        Some(n) if !n.is_empty() => Some(name("name", n)?),
        _ => None,
    };
    let hash = password::hash(pw)?;
    let user = st.store.sign_in().accept_invitation(secret, person, hash, Some(ip)).await?;
    start_session(st, user, ip, ua, AuditAction::SessionLoginInvitation).await
}

/// Changes the signed-in user's password; needs the current one (SEC-AUTH-3).
pub async fn change_password(st: &AppState, actor: &Actor, ip: &str, current: &str, new: &str) -> Result<()> {
    actor.may_change_own_password()?;
    rate_limit(st, "login", ip, actor.email()).await?;
    let acc = st.store.own_account(actor).await?;
    if !password::verify(current, acc.password_hash.as_deref()) {
        return Err(Error::invalid("current_password", "is not your current password"));
    }
    password::check("new_password", new)?;
    st.store.change_own_password(actor, password::hash(new)?, Some(ip)).await
}

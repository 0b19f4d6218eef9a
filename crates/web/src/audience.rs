//! Audiences, enforced by the router's structure: every route is registered under one
//! [`Audience`], and the router wraps each audience's routes in [`admit`], which asks the policy
//! ([`Actor::may_enter`](atrium_core::policy::Actor::may_enter)) before any handler runs.
//!
//! Handlers take the caller as [`StaffAuth`], [`PortalAuth`] or [`Authed`]. Those extractors
//! only succeed behind the matching layer: the layer leaves an [`Admission`] in the request that
//! only this module can make. So a staff handler registered under the portal audience (or outside
//! any audience) is refused whatever its body does, and a handler that forgets every policy call
//! is still behind its audience's check.

use atrium_core::Error;
use atrium_core::policy::{PortalPage, Side};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::Authed;
use crate::error::AppError;

/// Who a route is for; the authorization matrix checks each audience is enforced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Anyone, signed in or not (sign-in pages, health).
    Public,
    /// Any signed-in user; what they reach is scoped by the store.
    SignedIn,
    /// Staff acting as themselves: everyone else gets 404.
    Staff,
    /// The client portal: client users and staff viewing as one; staff acting as themselves get 404.
    Portal,
}

impl Audience {
    /// The side of Atrium this audience is, if it is one.
    pub fn side(self) -> Option<Side> {
        match self {
            Audience::Staff => Some(Side::Staff),
            Audience::Portal => Some(Side::Portal),
            Audience::Public | Audience::SignedIn => None,
        }
    }
}

/// Proof that the request passed [`admit`] for `audience`. Its field is private, so only this
/// module makes one.
#[derive(Clone, Copy, Debug)]
pub struct Admission {
    audience: Audience,
}

/// Middleware for one audience's routes: anonymous callers of a signed-in audience get 401,
/// callers on the wrong side the policy's refusal (404), before the handler runs.
pub async fn admit(State(audience): State<Audience>, mut req: Request, next: Next) -> Response {
    if audience != Audience::Public {
        let Some(auth) = req.extensions().get::<Authed>() else {
            return AppError(Error::Unauthorized).into_response();
        };
        if let Some(side) = audience.side()
            && let Err(e) = auth.actor.may_enter(side)
        {
            return AppError(e).into_response();
        }
    }
    req.extensions_mut().insert(Admission { audience });
    next.run(req).await
}

/// Middleware for the routes of one portal area (its pages and API operations), inside
/// [`admit`]: a caller whose client's portal hides the area gets 404
/// ([`Actor::may_use_area`](atrium_core::policy::Actor::may_use_area)) before the handler runs;
/// staff keep every area.
pub async fn area(State(page): State<PortalPage>, req: Request, next: Next) -> Response {
    // Inside `admit`, every caller is signed in; a request without a caller here means the area
    // layer was put outside the audience layer: refused, never served unchecked.
    let decision = match req.extensions().get::<Authed>() {
        Some(auth) => auth.actor.may_use_area(page),
        None => {
            tracing::error!(path = %req.uri().path(), "an area layer runs outside its audience layer; refused");
            Err(Error::NotFound)
        }
    };
    match decision {
        Ok(()) => next.run(req).await,
        Err(e) => AppError(e).into_response(),
    }
}

/// The audience the request was admitted under; a route outside every audience is a mistake in
/// the router and is refused (404, logged), never served.
fn admitted(parts: &Parts) -> Result<Audience, AppError> {
    match parts.extensions.get::<Admission>() {
        Some(a) => Ok(a.audience),
        None => Err(misregistered(parts, "outside every audience")),
    }
}

fn misregistered(parts: &Parts, what: &str) -> AppError {
    tracing::error!(path = %parts.uri.path(), "a handler is registered {what}; refused");
    AppError(Error::NotFound)
}

/// The signed-in caller of a route admitted under `wanted`'s side.
fn on_side(parts: &Parts, wanted: Audience) -> Result<Authed, AppError> {
    let audience = admitted(parts)?;
    if audience != wanted {
        return Err(misregistered(parts, &format!("under {audience:?} but needs {wanted:?}")));
    }
    let auth = parts.extensions.get::<Authed>().cloned().ok_or(AppError(Error::Unauthorized))?;
    // The layer asked already; asking again costs nothing and keeps the extractor sound alone.
    if let Some(side) = wanted.side() {
        auth.actor.may_enter(side)?;
    }
    Ok(auth)
}

impl<S: Send + Sync> FromRequestParts<S> for Authed {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        admitted(parts)?;
        parts.extensions.get::<Authed>().cloned().ok_or(AppError(Error::Unauthorized))
    }
}

macro_rules! side_extractor {
    ($(#[$doc:meta])* $name:ident, $audience:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name(Authed);

        impl std::ops::Deref for $name {
            type Target = Authed;

            fn deref(&self) -> &Authed {
                &self.0
            }
        }

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = AppError;

            async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
                on_side(parts, $audience).map($name)
            }
        }
    };
}

side_extractor!(
    /// A staff member acting as themselves, on a route of the [`Audience::Staff`] audience.
    StaffAuth,
    Audience::Staff
);

side_extractor!(
    /// A client user (or staff viewing as one), on a route of the [`Audience::Portal`] audience.
    PortalAuth,
    Audience::Portal
);

/// A caller admitted to one side, and which side: for the handlers both sides share (files,
/// conversations, approvals), so the side a page renders for is the side its caller was
/// admitted to, never a separate flag.
#[derive(Clone, Debug)]
pub struct SideAuth {
    side: Side,
    auth: Authed,
}

impl SideAuth {
    /// The side the caller was admitted to.
    pub fn side(&self) -> Side {
        self.side
    }
}

impl std::ops::Deref for SideAuth {
    type Target = Authed;

    fn deref(&self) -> &Authed {
        &self.auth
    }
}

impl From<StaffAuth> for SideAuth {
    fn from(a: StaffAuth) -> Self {
        SideAuth { side: Side::Staff, auth: a.0 }
    }
}

impl From<PortalAuth> for SideAuth {
    fn from(a: PortalAuth) -> Self {
        SideAuth { side: Side::Portal, auth: a.0 }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SideAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match admitted(parts)? {
            Audience::Staff => on_side(parts, Audience::Staff).map(|auth| SideAuth { side: Side::Staff, auth }),
            Audience::Portal => on_side(parts, Audience::Portal).map(|auth| SideAuth { side: Side::Portal, auth }),
            other => Err(misregistered(parts, &format!("under {other:?} but needs a side"))),
        }
    }
}

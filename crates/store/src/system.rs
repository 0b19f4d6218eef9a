//! The system principals: who asks when no signed-in person does.
//!
//! Every public store function works for someone. Most take the [`Actor`] they act for (or a
//! [`Scope`] made from one); a few take a capability that only a verified secret yields (an
//! [`UnsubscribeLink`]). The rest is work done on nobody's behalf, and it is reachable only
//! through one of the handles here, so each call names its principal:
//!
//! - [`SignIn`] (`store.sign_in()`): before there is an actor — sessions, one-time links,
//!   invitations, password resets, looking up the account an email or a link belongs to.
//! - [`JobRunner`] (`store.job_runner()`): the durable queue and the mail it sends
//!   (notification mail, digests, unsubscribe signatures).
//! - [`MailIn`] (`store.mail_in()`): inbound mail — claiming each message once, resolving a
//!   signed reply address into its sender's actor, holding mail for staff.
//! - [`Operator`] (`store.operator()`): the person at the command line (`atrium admin …`,
//!   `atrium demo`, `atrium backup`) — creating users, purging clients, loading data.
//!
//! Infrastructure with no subject (connecting, migrating, health, rate-limit counters, the
//! revocation feed, blob bookkeeping) stays on [`Store`]; `crates/atrium/tests/principals.rs`
//! lists it with the reason and fails on any other public `Store` method that takes no actor,
//! scope or capability, and on a handle used outside the code it belongs to.
//!
//! [`Actor`]: atrium_core::policy::Actor
//! [`Scope`]: atrium_core::policy::Scope
//! [`UnsubscribeLink`]: crate::notifications::UnsubscribeLink

use crate::db::Store;

/// Signing someone in, on nobody's behalf yet (the web crate's sign-in flows).
#[derive(Clone, Copy)]
pub struct SignIn<'a> {
    pub(crate) store: &'a Store,
}

/// The background job runner: the queue and the mail it sends.
#[derive(Clone, Copy)]
pub struct JobRunner<'a> {
    pub(crate) store: &'a Store,
}

/// The inbound mail handler (IMAP poller and `atrium mail-in`).
#[derive(Clone, Copy)]
pub struct MailIn<'a> {
    pub(crate) store: &'a Store,
}

/// The operator at the command line of the `atrium` binary.
#[derive(Clone, Copy)]
pub struct Operator<'a> {
    pub(crate) store: &'a Store,
}

impl Store {
    /// The sign-in principal: sessions, one-time links, invitations and resets.
    pub fn sign_in(&self) -> SignIn<'_> {
        SignIn { store: self }
    }

    /// The job runner principal: the durable queue and outgoing notification mail.
    pub fn job_runner(&self) -> JobRunner<'_> {
        JobRunner { store: self }
    }

    /// The mail-in principal: inbound replies and mail to the help desk.
    pub fn mail_in(&self) -> MailIn<'_> {
        MailIn { store: self }
    }

    /// The operator principal: command-line administration.
    pub fn operator(&self) -> Operator<'_> {
        Operator { store: self }
    }
}

//! Rating a solved ticket from the "How did we do?" mail: a link signed by the instance names
//! the ticket and the rating; its page shows the choice (a GET records nothing, so mail
//! scanners cannot vote) and the confirm button posts it. The link is the authority, as an
//! unsubscribe link is: no one is signed in.

use atrium_core::helpdesk::{Satisfaction, Ticket, TicketStatus};
use atrium_core::ids::TicketId;
use atrium_core::live::LiveEvent;
use atrium_core::{Error, Result, validate};
use sea_orm::{ActiveModelTrait, EntityTrait, QueryFilter, Set};

use crate::audit::{self, AuditAction, Entry};
use crate::db::{Store, db_err};
use crate::entity::ticket;
use crate::jobs::{NewJob, enqueue};
use crate::system::JobRunner;
use crate::ticket_rows::to_ticket;

/// Longest satisfaction comment.
pub const RATING_COMMENT_MAX: usize = 2_000;

/// The job kind that mails the requester of a solved ticket the rating links.
pub const SATISFACTION_JOB: &str = "satisfaction";

/// A rating link whose signature has been checked: the authority for [`Store::rate_by_link`].
/// Only [`Store::verify_rating_link`] makes one.
#[derive(Debug)]
pub struct RatingLink {
    ticket: TicketId,
    rating: Satisfaction,
}

impl RatingLink {
    /// The rating the link stands for.
    pub fn rating(&self) -> Satisfaction {
        self.rating
    }
}

/// What the rating mail needs: the ticket and its requester.
#[derive(Clone, Debug)]
pub struct RatingMail {
    pub ticket: Ticket,
    pub recipient: crate::notifications::Person,
}

/// Queues the rating mail for a ticket just solved (in the solving transaction).
pub(crate) async fn queue_rating_mail<C: sea_orm::ConnectionTrait>(c: &C, ticket: TicketId) -> Result<()> {
    let job = NewJob::new(SATISFACTION_JOB, serde_json::json!({ "ticket_id": ticket }))
        .dedupe(format!("satisfaction:{ticket}"));
    enqueue(c, job).await.map(|_| ())
}

impl Store {
    async fn rating_mac(&self, ticket: &ticket::Model, rating: Satisfaction) -> Result<hmac::Hmac<sha2::Sha256>> {
        use hmac::Mac;
        let key = self.instance_secret("ticket-rating").await?;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).map_err(|e| Error::internal("hmac key", e))?;
        mac.update(format!("rating:{}:{}:{}", ticket.id, ticket.requester_id, rating.as_str()).as_bytes());
        Ok(mac)
    }

    /// Checks a rating link (404 for a bad signature, an unknown ticket, or one that is no
    /// longer solved or closed).
    pub async fn verify_rating_link(
        &self,
        ticket: TicketId,
        rating: Satisfaction,
        signature: &str,
    ) -> Result<RatingLink> {
        use hmac::Mac;
        let given = hex::decode(signature).map_err(|_| Error::NotFound)?;
        if given.len() != 16 {
            return Err(Error::NotFound);
        }
        let row = ticket::Entity::find_by_id(ticket.0).one(&self.db).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        self.rating_mac(&row, rating).await?.verify_truncated_left(&given).map_err(|_| Error::NotFound)?;
        Ok(RatingLink { ticket, rating })
    }

    /// The ticket a checked link rates (its page shows the number and subject).
    pub async fn rating_link_ticket(&self, link: &RatingLink) -> Result<Ticket> {
        let row = ticket::Entity::find_by_id(link.ticket.0).one(&self.db).await.map_err(db_err)?;
        to_ticket(row.ok_or(Error::NotFound)?)
    }

    /// Records the rating of a checked link, with an optional comment: only while the ticket is
    /// solved or closed (409 otherwise); a later rating replaces the earlier one.
    pub async fn rate_by_link(&self, link: &RatingLink, comment: Option<String>, ip: Option<&str>) -> Result<Ticket> {
        let comment = comment
            .as_deref()
            .map(|c| validate::optional_text("comment", c, RATING_COMMENT_MAX))
            .transpose()?
            .filter(|c| !c.is_empty());
        let tx = self.write_tx().await?;
        let row = ticket::Entity::find_by_id(link.ticket.0).one(&tx).await.map_err(db_err)?.ok_or(Error::NotFound)?;
        let status: TicketStatus = crate::conv::parse("ticket status", &row.status)?;
        if !matches!(status, TicketStatus::Solved | TicketStatus::Closed) {
            return Err(Error::Conflict("this request was opened again; rate it once it is solved".into()));
        }
        let requester = row.requester_id;
        let mut am: ticket::ActiveModel = row.into();
        am.satisfaction = Set(Some(link.rating.as_str().into()));
        am.satisfaction_comment = Set(comment);
        am.updated_at = Set(self.now());
        let t = to_ticket(am.update(&tx).await.map_err(db_err)?)?;
        audit::write(
            &tx,
            None,
            Entry::ticket(AuditAction::TicketRate, t.id, t.client_id, ip)
                .with_detail(serde_json::json!({ "rating": link.rating, "by": requester, "via": "mail link" })),
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        self.publish(LiveEvent::ticket("updated", &t, None, false)).await;
        Ok(t)
    }
}

impl JobRunner<'_> {
    /// The signature of the link that rates `ticket` with `rating` (for its mail).
    pub async fn rating_signature(self, ticket: &Ticket, rating: Satisfaction) -> Result<String> {
        use hmac::Mac;
        let row = ticket::Entity::find_by_id(ticket.id.0).one(&self.store.db).await.map_err(db_err)?;
        let mac = self.store.rating_mac(&row.ok_or(Error::NotFound)?, rating).await?;
        Ok(hex::encode(&mac.finalize().into_bytes()[..16]))
    }

    /// The solved ticket and its requester, if the mail should still go out: the ticket is
    /// still solved, the requester active, their client not deleted and its portal showing the
    /// Help desk.
    pub async fn rating_mail(self, ticket: TicketId) -> Result<Option<RatingMail>> {
        let Some(row) = ticket::Entity::find_by_id(ticket.0).one(&self.store.db).await.map_err(db_err)? else {
            return Ok(None);
        };
        let t = to_ticket(row)?;
        if t.status != TicketStatus::Solved {
            return Ok(None);
        }
        let cond = crate::ticket_rows::live_clients_condition();
        let visible =
            ticket::Entity::find_by_id(ticket.0).filter(cond).one(&self.store.db).await.map_err(db_err)?.is_some();
        let people = crate::notifications::staff_and_users_of(&self.store.db, t.client_id).await?;
        let Some(p) = people.into_iter().find(|p| p.id == t.requester_id && !p.role.is_staff()) else {
            return Ok(None);
        };
        let pages = crate::portal::client_pages(&self.store.db, t.client_id).await?;
        let hears =
            atrium_core::policy::person_hears_of(p.role, pages, atrium_core::model::NotificationSubject::Ticket);
        Ok((visible && hears).then_some(RatingMail { ticket: t, recipient: p }))
    }
}

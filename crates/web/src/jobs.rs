//! The background jobs of the web layer: every mail Atrium sends (one-time links, invitations,
//! notifications, daily digests) goes out from a job, with retries, never inside a request.

use std::sync::Arc;

use atrium_core::helpdesk::{Satisfaction, ticket_label};
use atrium_core::ids::{AutomationRunId, NotificationId, TicketId, UserId};
use atrium_core::model::{NotificationKind, NotificationSubject};
use atrium_jobs::{BoxFuture, Handler, Job, JobError, NewJob};
use atrium_mail::templates::{AutomatedMail, DigestItem, DigestMail, NotificationMail, SatisfactionMail};
use atrium_mail::{Mail, MailError, Mailer};
use atrium_store::Store;
use atrium_store::automation_fire::AUTOMATION_RUN_JOB;
use atrium_store::automation_sweep::AUTOMATION_SWEEP_JOB;
use atrium_store::billing::{ISSUE_EVERY, RECURRING_INVOICES_JOB};
use atrium_store::notifications::{DIGEST_JOB, NOTIFY_JOB};
use atrium_store::ticket_rating::SATISFACTION_JOB;
use atrium_store::ticket_sweeps::{HELPDESK_SWEEP_JOB, SWEEP_EVERY};
use chrono::{DateTime, Duration, Timelike, Utc};

use crate::config::WebConfig;

/// The job kind that sends one pre-rendered mail (`Mail` as payload).
pub const MAIL_JOB: &str = "mail";

/// The hour of the day, in each recipient's own timezone (else the agency's), at which their
/// daily digest goes out. The digest job runs hourly and sends to those whose hour it is.
pub const DIGEST_LOCAL_HOUR: u32 = 8;

/// Runs mail jobs.
pub struct MailJobs {
    store: Store,
    mailer: Mailer,
    config: Arc<WebConfig>,
}

impl MailJobs {
    /// A handler sending through `mailer`, with links under the configured public URL.
    pub fn new(store: Store, mailer: Mailer, config: Arc<WebConfig>) -> Self {
        MailJobs { store, mailer, config }
    }

    /// Sends `mail` with a unique Message-ID on the public URL's host.
    async fn send(&self, mut mail: Mail) -> Result<(), JobError> {
        if mail.message_id.is_none() {
            mail.message_id = Some(atrium_mail::new_message_id(self.config.mail_host()));
        }
        self.mailer.send(mail).await.map_err(mail_error)
    }

    async fn unsubscribe_url(&self, user: UserId, what: &str) -> Result<String, JobError> {
        let sig = self.store.job_runner().unsubscribe_signature(user, what).await.map_err(store_error)?;
        Ok(self.config.link(&format!("/unsubscribe/{user}/{what}/{sig}")))
    }

    /// The branding as mail shows it, read now (a job may run long after it was queued).
    async fn brand(&self) -> Result<crate::brand::MailBrand, JobError> {
        let b = crate::brand::Brand::load(&self.store, &self.config.agency_name).await.map_err(store_error)?;
        Ok(crate::brand::MailBrand::of(&b, &self.config))
    }

    async fn notify(&self, id: NotificationId) -> Result<(), JobError> {
        // Already read, already mailed, or the recipient lost access: nothing to send.
        let Some(n) = self.store.job_runner().notification_to_mail(id).await.map_err(store_error)? else {
            return Ok(());
        };
        let kind = n.notification.kind;
        let url = self.config.link(&n.notification.url);
        let unsubscribe = self.unsubscribe_url(n.recipient.id, kind.as_str()).await?;
        let settings = self.config.link("/account/notifications");
        let brand = self.brand().await?;
        let action = match n.notification.subject_type {
            NotificationSubject::Task => "Open the task",
            NotificationSubject::Approval => "Review and decide",
            NotificationSubject::Project => "Open the conversation",
            NotificationSubject::Invoice => "Open the invoice",
            NotificationSubject::Ticket => "Open the request",
        };
        let mail = atrium_mail::templates::notification(
            &n.recipient.email,
            &NotificationMail {
                brand: brand.get(),
                name: &n.recipient.name,
                headline: &n.notification.text,
                excerpt: None,
                url: &url,
                action,
                kind_label: kind.label(),
                unsubscribe_url: &unsubscribe,
                settings_url: &settings,
            },
        )
        .map_err(mail_error)?;
        let mut mail = mail;
        if let Some(thread) = n.thread {
            mail.thread_id = Some(thread.header_id(self.config.mail_host()));
            if let Some(inbound) = &self.config.inbound {
                let token = self.store.job_runner().reply_token(n.recipient.id, thread).await.map_err(store_error)?;
                mail.reply_to = Some(inbound.reply_address(&token));
            }
        }
        self.send(mail).await?;
        self.store.job_runner().mark_notifications_emailed(&[id]).await.map_err(store_error)
    }

    /// "How did we do?" to the requester of a solved ticket (nothing when it was reopened, the
    /// requester lost access, or their portal hides the Help desk).
    async fn satisfaction(&self, ticket: TicketId) -> Result<(), JobError> {
        let runner = self.store.job_runner();
        let Some(m) = runner.rating_mail(ticket).await.map_err(store_error)? else {
            return Ok(());
        };
        let mut links = Vec::with_capacity(2);
        for rating in [Satisfaction::Good, Satisfaction::Bad] {
            let sig = runner.rating_signature(&m.ticket, rating).await.map_err(store_error)?;
            links.push(self.config.link(&format!("/rate/{ticket}/{rating}/{sig}")));
        }
        let (good, bad) = (&links[0], &links[1]);
        let brand = self.brand().await?;
        let mail = atrium_mail::templates::satisfaction(
            &m.recipient.email,
            &SatisfactionMail {
                brand: brand.get(),
                name: &m.recipient.name,
                ticket: &ticket_label(m.ticket.number),
                subject: &m.ticket.subject,
                good_url: good,
                bad_url: bad,
                ticket_url: &self.config.link(&format!("/portal/helpdesk/{ticket}")),
            },
        )
        .map_err(mail_error)?;
        self.send(mail).await
    }

    /// Queues the next sweep (first, so a failing sweep does not end the chain), then closes
    /// long-solved tickets and warns of nearly due ones.
    async fn helpdesk_sweep(&self) -> Result<(), JobError> {
        schedule_helpdesk_sweep(&self.store, Utc::now()).await.map_err(store_error)?;
        let runner = self.store.job_runner();
        let closed = runner.close_solved_tickets().await.map_err(store_error)?;
        let warned = runner.warn_due_tickets().await.map_err(store_error)?;
        runner.prune_sweep_jobs().await.map_err(store_error)?;
        if closed + warned > 0 {
            tracing::info!(closed, warned, "help desk sweep");
        }
        Ok(())
    }

    /// Queues the next automations sweep (first, so a failing sweep does not end the chain),
    /// then queues the runs whose moment has come.
    async fn automation_sweep(&self) -> Result<(), JobError> {
        schedule_automation_sweep(&self.store, Utc::now()).await.map_err(store_error)?;
        let queued = self.store.job_runner().sweep_automations().await.map_err(store_error)?;
        if queued > 0 {
            tracing::info!(queued, "automations sweep");
        }
        Ok(())
    }

    /// Does one automation run: renders its mails per recipient, then hands them to the store,
    /// which does the run's actions and queues the mails in one transaction (once).
    async fn automation_run(&self, run: AutomationRunId) -> Result<(), JobError> {
        let brand = self.brand().await?;
        let agency = brand.get().name.to_string();
        let runner = self.store.job_runner();
        let Some(plan) = runner.plan_automation_run(run, &agency).await.map_err(store_error)? else {
            return Ok(());
        };
        let settings = self.config.link("/account/notifications");
        let mut mails = Vec::with_capacity(plan.mails.len());
        for m in &plan.mails {
            let unsubscribe = self.unsubscribe_url(m.user, NotificationKind::Automated.as_str()).await?;
            let url = self.config.link(&m.path);
            let mail = atrium_mail::templates::automated(
                &m.email,
                &AutomatedMail {
                    brand: brand.get(),
                    subject: &m.subject,
                    body: &m.body,
                    url: &url,
                    action: "Open the portal",
                    unsubscribe_url: &unsubscribe,
                    settings_url: &settings,
                },
            )
            .map_err(mail_error)?;
            mails.push(serde_json::to_value(&mail).map_err(|e| JobError::Permanent(format!("mail: {e}")))?);
        }
        let mut token_hash = None;
        if let Some(inv) = &plan.invitation {
            let token = atrium_core::token::generate();
            let url = self.config.link(&format!("/invite/{}", token.secret));
            let mail =
                atrium_mail::templates::invitation(&inv.email, &brand.get(), &inv.name, &agency, &url, &inv.note)
                    .map_err(mail_error)?;
            mails.push(serde_json::to_value(&mail).map_err(|e| JobError::Permanent(format!("mail: {e}")))?);
            token_hash = Some(token.hash);
        }
        runner.finish_automation_run(&plan, mails, MAIL_JOB, token_hash, &agency).await.map_err(store_error)?;
        Ok(())
    }

    /// Queues the next run (first, so a failing run does not end the chain), then issues the
    /// recurring invoices that are due; the mail of those sent goes out as notification jobs.
    async fn recurring_invoices(&self) -> Result<(), JobError> {
        schedule_recurring_invoices(&self.store, Utc::now()).await.map_err(store_error)?;
        let runner = self.store.job_runner();
        let issued = runner.issue_recurring_invoices().await.map_err(store_error)?;
        runner.prune_sweep_jobs().await.map_err(store_error)?;
        if issued > 0 {
            tracing::info!(issued, "recurring invoices issued");
        }
        Ok(())
    }

    /// Sends the digests of everyone whose local hour is [`DIGEST_LOCAL_HOUR`] (by the store's
    /// clock), then queues the next hourly run.
    async fn digest(&self) -> Result<(), JobError> {
        let now = self.store.job_runner().now();
        let brand = self.brand().await?;
        for d in self.store.job_runner().pending_digests(now).await.map_err(store_error)? {
            if now.with_timezone(&d.local.tz()).hour() != DIGEST_LOCAL_HOUR {
                continue;
            }
            let items: Vec<DigestItem> = d
                .items
                .iter()
                .map(|n| DigestItem {
                    headline: n.text.clone(),
                    url: self.config.link(&n.url),
                    at: d.local.named(n.created_at),
                })
                .collect();
            let unsubscribe = self.unsubscribe_url(d.recipient.id, "digest").await?;
            let mail = atrium_mail::templates::digest(
                &d.recipient.email,
                &DigestMail {
                    brand: brand.get(),
                    name: &d.recipient.name,
                    items: &items,
                    url: &self.config.link("/notifications"),
                    settings_url: &self.config.link("/account/notifications"),
                    unsubscribe_url: &unsubscribe,
                },
            )
            .map_err(mail_error)?;
            self.send(mail).await?;
            let ids: Vec<NotificationId> = d.items.iter().map(|n| n.id).collect();
            self.store.job_runner().mark_notifications_emailed(&ids).await.map_err(store_error)?;
        }
        schedule_digest(&self.store, now).await.map_err(store_error)
    }
}

impl Handler for MailJobs {
    fn handle<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            match job.kind.as_str() {
                MAIL_JOB => {
                    let mail: Mail = job.payload().map_err(|e| JobError::Permanent(format!("payload: {e}")))?;
                    self.send(mail).await
                }
                NOTIFY_JOB => {
                    #[derive(serde::Deserialize)]
                    struct P {
                        notification_id: NotificationId,
                    }
                    let p: P = job.payload().map_err(|e| JobError::Permanent(format!("payload: {e}")))?;
                    self.notify(p.notification_id).await
                }
                DIGEST_JOB => self.digest().await,
                SATISFACTION_JOB => {
                    #[derive(serde::Deserialize)]
                    struct P {
                        ticket_id: TicketId,
                    }
                    let p: P = job.payload().map_err(|e| JobError::Permanent(format!("payload: {e}")))?;
                    self.satisfaction(p.ticket_id).await
                }
                HELPDESK_SWEEP_JOB => self.helpdesk_sweep().await,
                AUTOMATION_SWEEP_JOB => self.automation_sweep().await,
                AUTOMATION_RUN_JOB => {
                    #[derive(serde::Deserialize)]
                    struct P {
                        run_id: AutomationRunId,
                    }
                    let p: P = job.payload().map_err(|e| JobError::Permanent(format!("payload: {e}")))?;
                    let r = self.automation_run(p.run_id).await;
                    if let Err(e) = &r
                        && (matches!(e, JobError::Permanent(_)) || job.attempts >= job.max_attempts)
                    {
                        // The log shows it failed, rather than pending for ever.
                        let runner = self.store.job_runner();
                        runner.fail_automation_run(p.run_id, &e.to_string()).await.map_err(store_error)?;
                    }
                    r
                }
                RECURRING_INVOICES_JOB => self.recurring_invoices().await,
                other => Err(JobError::Permanent(format!("unknown job kind {other:?}"))),
            }
        })
    }
}

/// Queues the next digest run at the top of the next hour (once per hour, however many
/// processes ask): each run mails those whose local hour it is.
pub async fn schedule_digest(store: &Store, now: DateTime<Utc>) -> atrium_core::Result<()> {
    let hour = now.timestamp() / 3600 + 1;
    let next = DateTime::from_timestamp(hour * 3600, 0).unwrap_or(now + Duration::hours(1));
    let key = format!("digest:{}", next.format("%Y-%m-%dT%H"));
    store.job_runner().enqueue(NewJob::new(DIGEST_JOB, serde_json::json!({})).dedupe(key).run_at(next)).await?;
    Ok(())
}

/// Queues the next help-desk sweep at the next multiple of [`SWEEP_EVERY`] (once per slot,
/// however many processes ask).
pub async fn schedule_helpdesk_sweep(store: &Store, now: DateTime<Utc>) -> atrium_core::Result<()> {
    let every = SWEEP_EVERY.num_seconds().max(1);
    let next = (now.timestamp() / every + 1) * every;
    let at = DateTime::from_timestamp(next, 0).unwrap_or(now);
    let key = format!("helpdesk-sweep:{next}");
    store.job_runner().enqueue(NewJob::new(HELPDESK_SWEEP_JOB, serde_json::json!({})).dedupe(key).run_at(at)).await?;
    Ok(())
}

/// Queues the next automations sweep at the next multiple of its interval (once per slot,
/// however many processes ask).
pub async fn schedule_automation_sweep(store: &Store, now: DateTime<Utc>) -> atrium_core::Result<()> {
    let every = atrium_store::automation_sweep::SWEEP_EVERY.num_seconds().max(1);
    let next = (now.timestamp() / every + 1) * every;
    let at = DateTime::from_timestamp(next, 0).unwrap_or(now);
    let job = NewJob::new(AUTOMATION_SWEEP_JOB, serde_json::json!({})).dedupe(format!("automations-sweep:{next}"));
    store.job_runner().enqueue(job.run_at(at)).await?;
    Ok(())
}

/// Queues the next run of the recurring invoices' job at the next multiple of
/// [`ISSUE_EVERY`] (once per slot, however many processes ask).
pub async fn schedule_recurring_invoices(store: &Store, now: DateTime<Utc>) -> atrium_core::Result<()> {
    let every = ISSUE_EVERY.num_seconds().max(1);
    let next = (now.timestamp() / every + 1) * every;
    let at = DateTime::from_timestamp(next, 0).unwrap_or(now);
    let job = NewJob::new(RECURRING_INVOICES_JOB, serde_json::json!({})).dedupe(format!("recurring-invoices:{next}"));
    store.job_runner().enqueue(job.run_at(at)).await?;
    Ok(())
}

fn mail_error(e: MailError) -> JobError {
    if e.is_permanent() { JobError::Permanent(e.to_string()) } else { JobError::Transient(e.to_string()) }
}

fn store_error(e: atrium_core::Error) -> JobError {
    JobError::Transient(e.to_string())
}

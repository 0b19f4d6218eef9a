//! Billing: invoices with their lines, numbered from the agency's gap-free sequence, and the
//! payments recorded against them. By subject: `invoices` (drafts, sending, voiding,
//! re-issuing), `payments`, `numbering` (the sequence and the invoice settings), `listing` (what
//! a caller may see, as [`atrium_core::model::Invoice`]s) and `lines` (an invoice's lines as
//! stored).
//!
//! * **Numbers.** Creating an invoice takes the next number from the one `invoice_settings`
//!   row *in the invoice's own transaction*: an `UPDATE … SET next_seq = next_seq + 1` first
//!   (a row lock on PostgreSQL; on SQLite the transaction already holds the write lock, `BEGIN
//!   IMMEDIATE`), then the insert. A failed insert rolls the increment back, so numbers are
//!   consecutive with no gaps, and unique (also enforced by unique indexes). Invoices are never
//!   deleted — a mistake is voided — so no number disappears either.
//! * **Immutability.** Only a draft can be edited. A sent invoice changes only by payments, or by
//!   voiding it; re-issuing a void invoice creates a new draft copy with a new number that
//!   points at the one it replaces. Every step is audit-logged.
//! * **Payments.** Recorded in one transaction with the balance check: the invoice row is
//!   locked by an update first, then its payments are summed, so two concurrent payments can
//!   never together exceed the balance (the second sees the first).
//! * **Visibility.** Reads go through [`Actor::billing_scope`](atrium_core::policy::Actor::billing_scope): staff see everything, a client
//!   admin or finance user their client's invoices except drafts, anyone else nothing (404).
//!   Money is parsed and computed by `atrium_core::money` only.
//! * **Recurring invoices.** `recurring` keeps the schedules (staff only); `recurring_issue` is
//!   the periodic job that issues each due period once, through the same `write_draft` (and
//!   `mark_sent`) as a hand-made invoice, so it is numbered from the same sequence.

mod invoices;
mod lines;
mod listing;
mod numbering;
mod payments;
mod recurring;
mod recurring_issue;

pub use invoices::{InvoicePatch, NewInvoice};
pub use listing::{InvoiceFilter, outstanding_by_currency};
pub use numbering::{PADDING_MAX, PREFIX_MAX, SettingsPatch};
pub use payments::{NewPayment, REFERENCE_MAX};
pub use recurring::{NewRecurringInvoice, RecurringPatch};
pub use recurring_issue::{ISSUE_EVERY, RECURRING_INVOICES_JOB};

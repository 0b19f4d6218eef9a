//! Billing's domain types: invoice and payment statuses, invoices, their lines, taxes and
//! payments, and the invoice settings.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};

use super::string_enum;
use crate::ids::{ClientId, InvoiceId, PaymentId, ProjectId};

string_enum!(
    /// Where an invoice stands. `overdue` is not a status: it is derived from the due date and
    /// the balance (see [`Invoice::overdue`]).
    InvoiceStatus {
        /// Being prepared; editable; never visible to the client.
        Draft = "draft",
        /// Issued to the client; immutable from now on.
        Sent = "sent",
        /// Some payments recorded, a balance remains.
        PartiallyPaid = "partially_paid",
        /// Fully paid.
        Paid = "paid",
        /// Cancelled (replaced by a re-issued copy, if any).
        Void = "void",
    }
);

impl InvoiceStatus {
    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            InvoiceStatus::Draft => "Draft",
            InvoiceStatus::Sent => "Unpaid",
            InvoiceStatus::PartiallyPaid => "Partially paid",
            InvoiceStatus::Paid => "Paid",
            InvoiceStatus::Void => "Void",
        }
    }

    /// Whether money is still expected (sent or partially paid).
    pub fn is_open(self) -> bool {
        matches!(self, InvoiceStatus::Sent | InvoiceStatus::PartiallyPaid)
    }
}

string_enum!(
    /// How a payment was made.
    PaymentMethod {
        /// A bank transfer.
        BankTransfer = "bank_transfer",
        /// A card payment.
        Card = "card",
        /// Cash.
        Cash = "cash",
        /// A cheque.
        Cheque = "cheque",
        /// Anything else (say what in the reference).
        Other = "other",
    }
);

impl PaymentMethod {
    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            PaymentMethod::BankTransfer => "Bank transfer",
            PaymentMethod::Card => "Card",
            PaymentMethod::Cash => "Cash",
            PaymentMethod::Cheque => "Cheque",
            PaymentMethod::Other => "Other",
        }
    }
}

/// One line of an invoice. Every number is a decimal string.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct InvoiceLine {
    pub description: String,
    pub quantity: String,
    pub unit_price: String,
    /// Percent.
    pub tax_rate: String,
    /// Percent off this line.
    pub discount: String,
    /// `quantity × unit_price × (1 − discount/100)`, rounded to the currency's minor unit.
    pub net: String,
}

/// Tax at one rate: `rate/100 × base`, rounded.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct InvoiceTax {
    pub rate: String,
    pub base: String,
    pub amount: String,
}

/// A payment recorded against an invoice.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Payment {
    #[schema(value_type = String)]
    pub id: PaymentId,
    pub amount: String,
    pub date: NaiveDate,
    pub method: PaymentMethod,
    pub reference: String,
    pub recorded_at: DateTime<Utc>,
}

/// An invoice with its lines, taxes and payments. Money is a decimal string with exactly the
/// currency's minor-unit decimals.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Invoice {
    #[schema(value_type = String)]
    pub id: InvoiceId,
    /// From the agency's gap-free sequence, e.g. `INV-0042`.
    pub number: String,
    #[schema(value_type = String)]
    pub client_id: ClientId,
    pub client_name: String,
    #[schema(value_type = Option<String>)]
    pub project_id: Option<ProjectId>,
    pub status: InvoiceStatus,
    /// Sent or partially paid, with a balance, past its due date.
    pub overdue: bool,
    /// ISO 4217.
    pub currency: String,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub notes: String,
    /// Bank details and how to pay.
    pub payment_instructions: String,
    pub subtotal: String,
    /// One entry per tax rate.
    pub taxes: Vec<InvoiceTax>,
    pub tax_total: String,
    pub total: String,
    pub paid: String,
    pub balance: String,
    pub lines: Vec<InvoiceLine>,
    /// Oldest first.
    pub payments: Vec<Payment>,
    /// The voided invoice this one re-issues.
    #[schema(value_type = Option<String>)]
    pub replaces_id: Option<InvoiceId>,
    /// The re-issued copy of this (void) invoice.
    #[schema(value_type = Option<String>)]
    pub replaced_by_id: Option<InvoiceId>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The agency's invoice numbering and default payment instructions.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct InvoiceSettings {
    /// Put before the number, e.g. `INV-` (must not end with a digit).
    pub prefix: String,
    /// Digits the number is zero-padded to.
    pub padding: u32,
    /// The number the next invoice gets.
    pub next_number: u64,
    /// Copied into new invoices that do not give their own.
    pub payment_instructions: String,
}

//! Reading invoices through [`Actor::billing_scope`]: staff see everything, a client admin or
//! finance user their client's invoices except drafts, anyone else nothing (404).

use std::collections::{BTreeMap, HashMap};

use atrium_core::ids::{ClientId, InvoiceId, PaymentId, ProjectId};
use atrium_core::model::{Invoice, InvoiceLine, InvoiceStatus, InvoiceTax, Payment};
use atrium_core::money::{self, Currency, Decimal, LineInput};
use atrium_core::policy::{Actor, ClientFilter, Scope};
use atrium_core::{Error, Result};
use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::conv::parse;
use crate::db::{Store, db_err};
use crate::entity::{client, invoice, invoice_line, payment};
use crate::paging::{Page, PageRequest, page, page_rows};
use crate::scoping::deleted_clients;

use super::lines::line_input;

/// Which invoices to list.
#[derive(Clone, Debug, Default)]
pub struct InvoiceFilter {
    pub client_id: Option<ClientId>,
    pub status: Option<InvoiceStatus>,
    /// `Some(true)`: only overdue ones; `Some(false)`: only those not overdue.
    pub overdue: Option<bool>,
}

/// Sums the balance of open invoices per currency (the staff list's "outstanding"), as
/// (code, amount for people such as `EUR 1,234.50`).
pub fn outstanding_by_currency(list: &[Invoice]) -> Vec<(String, String)> {
    let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
    for i in list.iter().filter(|i| i.status.is_open()) {
        let Ok(b) = money::stored(&i.balance) else { continue };
        *sums.entry(i.currency.clone()).or_insert(Decimal::ZERO) += b;
    }
    sums.into_iter().filter_map(|(c, d)| Currency::parse("currency", &c).ok().map(|cur| (c, cur.display(d)))).collect()
}

impl Store {
    /// Loads an invoice row through the billing scope: a client's invoice for that client's
    /// admins and finance users (never a draft, never of a deleted client), anything for staff.
    pub(super) async fn visible_invoice_row<C: ConnectionTrait>(
        &self,
        c: &C,
        scope: &Scope,
        id: InvoiceId,
    ) -> Result<invoice::Model> {
        let mut q = invoice::Entity::find_by_id(id.0);
        match scope.clients() {
            ClientFilter::All => {}
            ClientFilter::Only(cid) => {
                q = q
                    .filter(invoice::Column::ClientId.eq(cid.0))
                    .filter(invoice::Column::Status.ne(InvoiceStatus::Draft.as_str()))
                    .filter(invoice::Column::ClientId.not_in_subquery(deleted_clients()))
            }
            ClientFilter::Nothing => return Err(Error::NotFound),
        }
        if !scope.includes_notes() {
            q = q.filter(invoice::Column::Status.ne(InvoiceStatus::Draft.as_str()));
        }
        q.one(c).await.map_err(db_err)?.ok_or(Error::NotFound)
    }

    /// An invoice visible to `actor` (else 404) that they may manage (staff; else 403).
    pub(super) async fn managed_invoice_row(&self, actor: &Actor, id: InvoiceId) -> Result<invoice::Model> {
        let row = self.visible_invoice_row(&self.db, &actor.billing_scope(), id).await?;
        actor.may_manage_invoices()?;
        Ok(row)
    }

    /// One invoice the actor can see, with lines, taxes and payments.
    pub async fn invoice(&self, actor: &Actor, id: InvoiceId) -> Result<Invoice> {
        let row = self.visible_invoice_row(&self.db, &actor.billing_scope(), id).await?;
        self.build_invoices(vec![row]).await?.pop().ok_or(Error::NotFound)
    }

    /// The invoices the actor can see, newest first (by number), filtered. A `client_id` outside
    /// the caller's billing scope is 404; viewers get 404 for the list itself.
    pub async fn invoices(&self, actor: &Actor, f: &InvoiceFilter) -> Result<Vec<Invoice>> {
        let rows =
            self.invoice_query(actor, f)?.order_by_desc(invoice::Column::Seq).all(&self.db).await.map_err(db_err)?;
        self.build_invoices(rows).await
    }

    /// One page of [`Store::invoices`]: at most `req.limit`, after its cursor (an invoice of this list).
    pub async fn invoices_page(&self, actor: &Actor, f: &InvoiceFilter, req: PageRequest) -> Result<Page<Invoice>> {
        let q = self.invoice_query(actor, f)?;
        let rows = page_rows(&self.db, q, req, invoice::Column::Id, invoice::Column::Seq).await?;
        let items = self.build_invoices(rows).await?;
        Ok(page(items, req, |i| i.id.0))
    }

    fn invoice_query(&self, actor: &Actor, f: &InvoiceFilter) -> Result<sea_orm::Select<invoice::Entity>> {
        let scope = actor.billing_scope();
        let mut q = invoice::Entity::find().filter(invoice::Column::ClientId.not_in_subquery(deleted_clients()));
        match scope.clients() {
            ClientFilter::All => {}
            ClientFilter::Only(c) => q = q.filter(invoice::Column::ClientId.eq(c.0)),
            ClientFilter::Nothing => return Err(Error::NotFound),
        }
        if !scope.includes_notes() {
            q = q.filter(invoice::Column::Status.ne(InvoiceStatus::Draft.as_str()));
        }
        if let Some(c) = f.client_id {
            if !scope.allows(c) {
                return Err(Error::NotFound);
            }
            q = q.filter(invoice::Column::ClientId.eq(c.0));
        }
        if let Some(s) = f.status {
            q = q.filter(invoice::Column::Status.eq(s.as_str()));
        }
        let open = [InvoiceStatus::Sent.as_str(), InvoiceStatus::PartiallyPaid.as_str()];
        let today = Utc::now().date_naive();
        match f.overdue {
            Some(true) => q = q.filter(invoice::Column::Status.is_in(open)).filter(invoice::Column::DueDate.lt(today)),
            Some(false) => {
                q = q.filter(
                    sea_orm::Condition::any()
                        .add(invoice::Column::Status.is_not_in(open))
                        .add(invoice::Column::DueDate.gte(today)),
                )
            }
            None => {}
        }
        Ok(q)
    }

    async fn build_invoices(&self, rows: Vec<invoice::Model>) -> Result<Vec<Invoice>> {
        if rows.is_empty() {
            return Ok(vec![]);
        }
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let client_ids: Vec<Uuid> = rows.iter().map(|r| r.client_id).collect();
        let names = client_names(&self.db, client_ids).await?;
        let mut lines: HashMap<Uuid, Vec<invoice_line::Model>> = HashMap::new();
        for l in invoice_line::Entity::find()
            .filter(invoice_line::Column::InvoiceId.is_in(ids.clone()))
            .order_by_asc(invoice_line::Column::Position)
            .all(&self.db)
            .await
            .map_err(db_err)?
        {
            lines.entry(l.invoice_id).or_default().push(l);
        }
        let mut payments: HashMap<Uuid, Vec<payment::Model>> = HashMap::new();
        for p in payment::Entity::find()
            .filter(payment::Column::InvoiceId.is_in(ids.clone()))
            .order_by_asc(payment::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_err)?
        {
            payments.entry(p.invoice_id).or_default().push(p);
        }
        let replaced_by: HashMap<Uuid, Uuid> = invoice::Entity::find()
            .filter(invoice::Column::ReplacesId.is_in(ids))
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .filter_map(|r| r.replaces_id.map(|old| (old, r.id)))
            .collect();
        let today = Utc::now().date_naive();
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let currency = Currency::parse("currency", &r.currency)
                .map_err(|e| Error::internal(format!("stored currency {:?}", r.currency), e))?;
            let my_lines = lines.remove(&r.id).unwrap_or_default();
            let inputs: Vec<LineInput> = my_lines.iter().map(line_input).collect();
            let totals = money::compute(currency, &inputs)
                .map_err(|e| Error::internal(format!("stored lines of invoice {}", r.id), e))?;
            let pays = payments.remove(&r.id).unwrap_or_default();
            let mut paid = Decimal::ZERO;
            let mut payment_views = Vec::with_capacity(pays.len());
            for p in pays {
                paid += money::stored(&p.amount)?;
                payment_views.push(Payment {
                    id: PaymentId(p.id),
                    amount: p.amount,
                    date: p.paid_on,
                    method: parse("payment method", &p.method)?,
                    reference: p.reference,
                    recorded_at: p.created_at,
                });
            }
            let status: InvoiceStatus = parse("invoice status", &r.status)?;
            let balance = if status == InvoiceStatus::Void { Decimal::ZERO } else { totals.total - paid };
            out.push(Invoice {
                id: InvoiceId(r.id),
                number: r.number,
                client_id: ClientId(r.client_id),
                client_name: names.get(&r.client_id).cloned().unwrap_or_default(),
                project_id: r.project_id.map(ProjectId),
                status,
                overdue: status.is_open() && r.due_date < today && balance > Decimal::ZERO,
                currency: currency.code().into(),
                issue_date: r.issue_date,
                due_date: r.due_date,
                notes: r.notes,
                payment_instructions: r.payment_instructions,
                subtotal: currency.format(totals.subtotal),
                taxes: totals
                    .taxes
                    .iter()
                    .map(|t| InvoiceTax {
                        rate: t.rate.normalize().to_string(),
                        base: currency.format(t.base),
                        amount: currency.format(t.amount),
                    })
                    .collect(),
                tax_total: currency.format(totals.tax_total),
                total: currency.format(totals.total),
                paid: currency.format(paid),
                balance: currency.format(balance),
                lines: totals
                    .lines
                    .iter()
                    .map(|l| InvoiceLine {
                        description: l.description.clone(),
                        quantity: l.quantity.normalize().to_string(),
                        unit_price: price_text(currency, l.unit_price),
                        tax_rate: l.tax_rate.normalize().to_string(),
                        discount: l.discount.normalize().to_string(),
                        net: currency.format(l.net),
                    })
                    .collect(),
                payments: payment_views,
                replaces_id: r.replaces_id.map(InvoiceId),
                replaced_by_id: replaced_by.get(&r.id).copied().map(InvoiceId),
                created_at: r.created_at,
                sent_at: r.sent_at,
            });
        }
        Ok(out)
    }
}

/// A unit price as shown: at least the currency's decimals (`3000.00`), more when entered
/// (`33.333`).
fn price_text(currency: Currency, price: Decimal) -> String {
    let mut p = price.normalize();
    if p.scale() < currency.exponent() {
        p.rescale(currency.exponent());
    }
    p.to_string()
}

/// The names of the clients `ids`, by id (billing lists show them beside each item).
pub(super) async fn client_names<C: sea_orm::ConnectionTrait>(c: &C, ids: Vec<Uuid>) -> Result<HashMap<Uuid, String>> {
    Ok(client::Entity::find()
        .filter(client::Column::Id.is_in(ids))
        .all(c)
        .await
        .map_err(db_err)?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_show_at_least_the_minor_unit() {
        let eur = Currency::parse("currency", "EUR").unwrap();
        let jpy = Currency::parse("currency", "JPY").unwrap();
        assert_eq!(price_text(eur, Decimal::from(3000)), "3000.00");
        assert_eq!(price_text(eur, "33.333".parse().unwrap()), "33.333");
        assert_eq!(price_text(jpy, "1200".parse().unwrap()), "1200");
    }
}

//! An invoice's lines as stored: written from computed totals, read back as the input they were
//! computed from.

use atrium_core::Result;
use atrium_core::ids::{InvoiceId, InvoiceLineId};
use atrium_core::money::{Currency, LineInput, Totals};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::db::db_err;
use crate::entity::invoice_line;

pub(super) fn line_input(l: &invoice_line::Model) -> LineInput {
    LineInput {
        description: l.description.clone(),
        quantity: l.quantity.clone(),
        unit_price: l.unit_price.clone(),
        tax_rate: l.tax_rate.clone(),
        discount: l.discount.clone(),
    }
}

pub(super) async fn stored_lines<C: ConnectionTrait>(c: &C, id: Uuid) -> Result<Vec<LineInput>> {
    Ok(invoice_line::Entity::find()
        .filter(invoice_line::Column::InvoiceId.eq(id))
        .order_by_asc(invoice_line::Column::Position)
        .all(c)
        .await
        .map_err(db_err)?
        .iter()
        .map(line_input)
        .collect())
}

pub(super) async fn insert_lines<C: ConnectionTrait>(
    c: &C,
    id: InvoiceId,
    currency: Currency,
    totals: &Totals,
) -> Result<()> {
    let rows: Vec<invoice_line::ActiveModel> = totals
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| invoice_line::ActiveModel {
            id: Set(InvoiceLineId::new().0),
            invoice_id: Set(id.0),
            position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
            description: Set(l.description.clone()),
            quantity: Set(l.quantity.normalize().to_string()),
            unit_price: Set(l.unit_price.normalize().to_string()),
            tax_rate: Set(l.tax_rate.normalize().to_string()),
            discount: Set(l.discount.normalize().to_string()),
            net: Set(currency.format(l.net)),
        })
        .collect();
    invoice_line::Entity::insert_many(rows).exec(c).await.map_err(db_err)?;
    Ok(())
}

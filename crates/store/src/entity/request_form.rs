//! The `request_forms` table: a project's ticket form (its fields as JSON text, checked by
//! `atrium_core::request_form` before it is written). No row: the form has no fields.

use sea_orm::entity::prelude::*;

/// A project's request form.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "request_forms")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub project_id: Uuid,
    /// `[{"key","label","type","required","options"?,"help"?}]`.
    pub fields: String,
    pub updated_by: Uuid,
    pub updated_at: DateTimeUtc,
}

/// Relations are expressed in queries, not here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

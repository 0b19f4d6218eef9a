//! The `helpdesk_settings` table: one row (`id = "default"`) with the business hours, their
//! timezone and the service-level targets per priority (business minutes).

use sea_orm::entity::prelude::*;

/// The help desk's settings.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "helpdesk_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// An IANA name.
    pub timezone: String,
    /// ISO weekdays, comma-separated (`1,2,3,4,5`).
    pub days: String,
    /// Opening and closing, minutes after local midnight.
    pub start_minute: i32,
    pub end_minute: i32,
    pub low_first_response_minutes: i64,
    pub low_resolution_minutes: i64,
    pub normal_first_response_minutes: i64,
    pub normal_resolution_minutes: i64,
    pub high_first_response_minutes: i64,
    pub high_resolution_minutes: i64,
    pub urgent_first_response_minutes: i64,
    pub urgent_resolution_minutes: i64,
    pub updated_by: Option<Uuid>,
    pub updated_at: DateTimeUtc,
}

/// Relations are expressed in queries, not here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

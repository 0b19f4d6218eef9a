//! Schema migrations, written in Rust with only what both SQLite and PostgreSQL support.

use sea_orm_migration::prelude::*;

mod m0001_init;
mod m0002_contacts;
mod m0003_collaboration;
mod m0004_jobs;
mod m0005_files;
mod m0006_approvals;
mod m0007_billing;
mod m0008_revocations;
mod m0009_branding;
mod m0010_portal_pages;
mod m0011_project_pages;
mod m0012_quick_actions;
mod m0013_tickets;
mod m0014_helpdesk;
mod m0015_mail_in;
mod m0016_ticket_files;
mod m0017_project_templates;
mod m0018_client_onboarding;
mod m0019_automations;
mod m0020_recurring_invoices;
mod m0021_user_timezones;
mod m0022_api_tokens;

/// All of Atrium's migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_init::Migration),
            Box::new(m0002_contacts::Migration),
            Box::new(m0003_collaboration::Migration),
            Box::new(m0004_jobs::Migration),
            Box::new(m0005_files::Migration),
            Box::new(m0006_approvals::Migration),
            Box::new(m0007_billing::Migration),
            Box::new(m0008_revocations::Migration),
            Box::new(m0009_branding::Migration),
            Box::new(m0010_portal_pages::Migration),
            Box::new(m0011_project_pages::Migration),
            Box::new(m0012_quick_actions::Migration),
            Box::new(m0013_tickets::Migration),
            Box::new(m0014_helpdesk::Migration),
            Box::new(m0015_mail_in::Migration),
            Box::new(m0016_ticket_files::Migration),
            Box::new(m0017_project_templates::Migration),
            Box::new(m0018_client_onboarding::Migration),
            Box::new(m0019_automations::Migration),
            Box::new(m0020_recurring_invoices::Migration),
            Box::new(m0021_user_timezones::Migration),
            Box::new(m0022_api_tokens::Migration),
        ]
    }
}

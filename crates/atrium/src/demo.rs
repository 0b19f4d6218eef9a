//! TEMPORARY stub until the demo generator lands (being written in parallel).
#![allow(dead_code)]
pub const STAFF_EMAIL: &str = "ana@northwind.test";
pub const CLIENT_EMAIL: &str = "client@acme.test";
pub const PASSWORD: &str = "atrium-demo-2026";
#[derive(Clone, Debug)]
pub struct DemoScale {
    pub clients: usize,
    pub projects: usize,
    pub tasks: usize,
}
impl DemoScale {
    pub fn small() -> Self {
        DemoScale { clients: 4, projects: 8, tasks: 150 }
    }
    pub fn bench() -> Self {
        DemoScale { clients: 200, projects: 2000, tasks: 100_000 }
    }
}
#[derive(Clone, Debug)]
pub struct DemoLogins {
    pub staff_email: String,
    pub client_email: String,
    pub password: String,
    pub client_project_id: atrium_core::ids::ProjectId,
}
pub async fn seed(_store: &atrium_store::Store, _scale: &DemoScale) -> anyhow::Result<DemoLogins> {
    anyhow::bail!("demo generator not yet available")
}

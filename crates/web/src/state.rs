//! Shared application state passed to every handler.

use std::sync::Arc;

use atrium_mail::Mailer;
use atrium_store::Store;

use crate::config::WebConfig;

/// Everything a handler may use; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Web settings.
    pub config: Arc<WebConfig>,
    /// Outgoing mail.
    pub mailer: Mailer,
}

impl AppState {
    /// Builds the state.
    pub fn new(store: Store, config: WebConfig, mailer: Mailer) -> Self {
        AppState { store, config: Arc::new(config), mailer }
    }

    /// Sends a mail in the background so response time does not reveal whether it was sent
    /// (SEC-AUTH-3). Failures are logged.
    pub fn send_mail(&self, mail: Result<atrium_mail::Mail, atrium_mail::MailError>) {
        let mailer = self.mailer.clone();
        tokio::spawn(async move {
            let result = match mail {
                Ok(m) => mailer.send(m).await,
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                tracing::error!(error = %e, "mail not sent");
            }
        });
    }
}

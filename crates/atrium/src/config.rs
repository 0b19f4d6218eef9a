//! Typed configuration from flags, environment variables and defaults (flags win over env).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Atrium: a self-hosted client portal for agencies, consultancies and freelancers.
#[derive(Debug, Parser)]
#[command(name = "atrium", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (migrations are applied on start).
    Serve(ServeArgs),
    /// Fill a fresh data dir with a believable demo agency, then serve it.
    Demo(DemoArgs),
    /// Apply database migrations and exit.
    Migrate(DbArgs),
    /// Administrative commands.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Reads one RFC 5322 message on stdin (an MTA's pipe delivery) and hands it to mail in;
    /// exits 0 when taken, 67 for an unknown recipient, 65 for a malformed or oversize message,
    /// 75 when the database failed (the MTA retries). Takes the same options as `serve`.
    MailIn(ServeArgs),
    /// Renders one thumbnail (started by the server, within its limits): the file on stdin,
    /// the PNG on stdout.
    #[command(hide = true)]
    PreviewWorker {
        /// `pdf` or `image`, then the size in pixels.
        #[arg(num_args = 0.., trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// Administrative commands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create the first owner account (or another owner).
    CreateOwner(CreateOwnerArgs),
    /// Write a consistent backup while the server runs: the SQLite database and every stored
    /// file it references, into a new directory (PostgreSQL: use pg_dump).
    Backup(BackupArgs),
    /// Remove a deleted client for good: its projects, tasks, comments, contacts and portal users.
    PurgeClient(PurgeClientArgs),
}

/// `admin purge-client`.
#[derive(Debug, Args)]
pub struct PurgeClientArgs {
    /// The client's id (it must have been deleted in the app first).
    #[arg(long)]
    pub id: String,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// `admin backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The directory to write (must not exist yet, or be empty): it gets `atrium.db` and
    /// `files/`, laid out like a data dir. With `--database-only`, the database file to write.
    #[arg(long)]
    pub to: PathBuf,
    /// Copy only the SQLite database, to the file `--to` (the file contents are left out).
    #[arg(long)]
    pub database_only: bool,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// Where file contents are stored.
#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Store file contents in an S3-compatible bucket, `s3://BUCKET[/PREFIX]`; credentials,
    /// region and endpoint come from the standard `AWS_*` variables. Default: `<data-dir>/files`.
    #[arg(long, env = "ATRIUM_STORAGE_URL", value_parser = StorageUrlParser)]
    pub storage_url: Option<StorageUrl>,
}

impl StorageArgs {
    /// Opens the configured storage (`<data-dir>/files` without a URL).
    pub fn blobs(&self, data_dir: &std::path::Path) -> atrium_core::Result<atrium_store::blobs::Blobs> {
        atrium_store::blobs::Blobs::open(self.storage_url.as_ref().map(|u| u.0.as_str()), &data_dir.join("files"))
    }
}

/// A checked storage URL (`s3://bucket[/prefix]`); Debug output hides anything secret.
#[derive(Clone)]
pub struct StorageUrl(pub String);

impl std::fmt::Debug for StorageUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

/// Checks `--storage-url` without repeating the value in the error (it may hold a secret).
#[derive(Clone, Copy, Debug)]
pub struct StorageUrlParser;

impl clap::builder::TypedValueParser for StorageUrlParser {
    type Value = StorageUrl;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<StorageUrl, clap::Error> {
        let refuse = |message: String| {
            clap::Error::raw(clap::error::ErrorKind::ValueValidation, format!("--storage-url: {message}\n"))
                .with_cmd(cmd)
        };
        let url = value.to_str().ok_or_else(|| refuse("must be UTF-8".into()))?;
        match atrium_store::blobs::parse_storage_url(url) {
            Ok(_) => Ok(StorageUrl(url.to_string())),
            Err(atrium_core::Error::Invalid { message, .. }) => Err(refuse(message)),
            Err(e) => Err(refuse(e.to_string())),
        }
    }
}

/// Where the data lives.
#[derive(Clone, Args)]
pub struct DbArgs {
    /// Folder for the SQLite database, uploaded files (unless `--storage-url`) and the mail outbox.
    #[arg(long, env = "ATRIUM_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://PATH` or `postgres://USER@HOST/DB`. Default: SQLite in the data dir.
    #[arg(long, env = "ATRIUM_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Most database connections this process opens (default: 4 per CPU core, 4–32).
    #[arg(long, env = "ATRIUM_DATABASE_POOL", value_parser = clap::value_parser!(u32).range(1..=512))]
    pub database_pool: Option<u32>,
}

impl std::fmt::Debug for DbArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbArgs")
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_deref().map(redact_url))
            .field("database_pool", &self.database_pool)
            .finish()
    }
}

/// Hides the password of a URL (`postgres://user:secret@host` → `postgres://user:***@host`).
pub fn redact_url(u: &str) -> String {
    match url::Url::parse(u) {
        Ok(mut parsed) if parsed.password().is_some() => {
            if parsed.set_password(Some("***")).is_ok() {
                parsed.to_string()
            } else {
                // URLs without a host cannot carry a password: hide everything after the scheme.
                format!("{}:***", parsed.scheme())
            }
        }
        _ => u.to_string(),
    }
}

impl DbArgs {
    /// The database URL to use.
    pub fn url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("atrium.db").display()),
        }
    }
}

/// Server settings.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Address to listen on.
    #[arg(long, env = "ATRIUM_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// The URL people reach Atrium at; every link in mail and API answers is built from it.
    /// Default: `http://<bind>`.
    #[arg(long, env = "ATRIUM_PUBLIC_URL")]
    pub public_url: Option<url::Url>,
    /// The agency's name, shown in the portal and in mail.
    #[arg(long, env = "ATRIUM_AGENCY_NAME", default_value = DEFAULT_AGENCY_NAME)]
    pub agency_name: String,
    /// Sender address of outgoing mail.
    #[arg(long, env = "ATRIUM_MAIL_FROM", default_value = "Atrium <portal@localhost.localdomain>")]
    pub mail_from: String,
    /// Send mail through this SMTP server (`smtp://host:port`, `smtps://user:pass@host`,
    /// `smtp://host:587?tls=required`). Default: `.eml` files in `<data-dir>/outbox`.
    #[arg(long, env = "ATRIUM_SMTP_URL")]
    pub smtp_url: Option<SmtpUrl>,
    /// Sessions unused for this many days expire.
    #[arg(long, env = "ATRIUM_SESSION_IDLE_DAYS", default_value_t = 14)]
    pub session_idle_days: u64,
    /// Trust `X-Forwarded-For` for client addresses (only behind your own reverse proxy).
    #[arg(long, env = "ATRIUM_TRUST_PROXY")]
    pub trust_proxy: bool,
    /// Live-update streams one user may hold open on this process (one per browser tab).
    #[arg(long, env = "ATRIUM_MAX_STREAMS_PER_USER", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_streams_per_user: u32,
    /// Largest file one upload may store, in MiB.
    #[arg(long, env = "ATRIUM_MAX_UPLOAD_MIB", default_value_t = 2048, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub max_upload_mib: u64,
    /// Storage each client's files may use in all (every version counts), in GiB.
    #[arg(long, env = "ATRIUM_CLIENT_QUOTA_GIB", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub client_quota_gib: u64,
    /// Seconds a request's head may take to arrive (also how long an idle keep-alive
    /// connection stays open); then the connection is closed.
    #[arg(long, env = "ATRIUM_HEADER_READ_TIMEOUT_SECS", default_value_t = atrium_web::config::HEADER_READ_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_read_timeout_secs: u64,
    /// Seconds a request body may go without sending a byte; then it is answered 408.
    #[arg(long, env = "ATRIUM_BODY_READ_TIMEOUT_SECS", default_value_t = atrium_web::config::BODY_READ_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_read_timeout_secs: u64,
    /// The address mail in reads (`support@portal.example`): notification mail is answerable
    /// at `<local>+<token>@<domain>`, and mail to the address itself opens a ticket.
    #[arg(long, env = "ATRIUM_INBOUND_ADDRESS", value_parser = parse_inbound)]
    pub inbound_address: Option<atrium_mail::inbound::InboundAddress>,
    /// Read inbound mail from this IMAP mailbox (`imaps://user:pass@host/INBOX`; `imap://`
    /// only on loopback). Needs `--inbound-address`.
    #[arg(long, env = "ATRIUM_IMAP_URL", value_parser = parse_imap, requires = "inbound_address")]
    pub imap_url: Option<atrium_web::mail_in::imap::ImapUrl>,
}

fn parse_inbound(s: &str) -> Result<atrium_mail::inbound::InboundAddress, String> {
    atrium_mail::inbound::InboundAddress::parse(s, atrium_store::mail_in::TOKEN_LEN)
}

/// Checks `--imap-url` without repeating it in the error (it holds a password).
fn parse_imap(s: &str) -> Result<atrium_web::mail_in::imap::ImapUrl, String> {
    atrium_web::mail_in::imap::ImapUrl::parse(s)
}

/// An SMTP server URL; its password never reaches Debug output or logs.
#[derive(Clone)]
pub struct SmtpUrl(pub String);

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

impl std::str::FromStr for SmtpUrl {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match url::Url::parse(s) {
            Ok(u) if matches!(u.scheme(), "smtp" | "smtps") && u.host_str().is_some() => Ok(SmtpUrl(s.to_string())),
            _ => Err("must be smtp://host[:port] or smtps://host[:port]".into()),
        }
    }
}

/// The agency name when none is configured.
pub const DEFAULT_AGENCY_NAME: &str = "Atrium";

/// How much demo data to create.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Scale {
    /// 4 clients, 8 projects, ~150 tasks.
    Small,
    /// 200 clients, 2,000 projects, 100,000 tasks (benchmarks).
    Bench,
}

/// `demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
    /// How much data to create.
    #[arg(long, value_enum, default_value = "small")]
    pub scale: Scale,
    /// Create the data and exit instead of serving.
    #[arg(long)]
    pub seed_only: bool,
}

/// `admin create-owner`.
#[derive(Debug, Args)]
pub struct CreateOwnerArgs {
    /// Email address (the sign-in name).
    #[arg(long)]
    pub email: String,
    /// Display name.
    #[arg(long)]
    pub name: String,
    /// Password (at least 10 characters, not a common one).
    #[arg(long)]
    pub password: String,
    #[command(flatten)]
    pub db: DbArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("atrium").chain(args.iter().copied()))
    }

    #[test]
    fn storage_url_on_serve_demo_and_the_admin_commands() {
        let Command::Serve(serve) = parse(&["serve", "--storage-url", "s3://atrium-files/prod"]).unwrap().command
        else {
            panic!("serve")
        };
        assert_eq!(serve.storage.storage_url.map(|u| u.0).as_deref(), Some("s3://atrium-files/prod"));
        let Command::Demo(demo) = parse(&["demo", "--storage-url", "s3://atrium-files"]).unwrap().command else {
            panic!("demo")
        };
        assert!(demo.serve.storage.storage_url.is_some());
        let cli = parse(&["admin", "backup", "--to", "/b", "--storage-url", "s3://atrium-files"]).unwrap();
        let Command::Admin(AdminCommand::Backup(b)) = cli.command else { panic!("backup") };
        assert!(b.storage.storage_url.is_some() && !b.database_only);
        let cli = parse(&["admin", "purge-client", "--id", "x", "--storage-url", "s3://atrium-files"]).unwrap();
        let Command::Admin(AdminCommand::PurgeClient(p)) = cli.command else { panic!("purge-client") };
        assert!(p.storage.storage_url.is_some());
        // Absent: the local directory in the data dir.
        let Command::Serve(serve) = parse(&["serve", "--data-dir", "/srv/atrium"]).unwrap().command else {
            panic!("serve")
        };
        assert!(serve.storage.storage_url.is_none());
        let blobs = serve.storage.blobs(&std::env::temp_dir().join(format!("atrium-cfg-{}", std::process::id())));
        let blobs = blobs.unwrap();
        assert!(blobs.location().ends_with("files"), "{}", blobs.location());
        let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("atrium-cfg-{}", std::process::id())));
    }

    #[test]
    fn connection_timeouts_default_and_refuse_zero() {
        let Command::Serve(serve) = parse(&["serve"]).unwrap().command else { panic!("serve") };
        assert_eq!((serve.header_read_timeout_secs, serve.body_read_timeout_secs), (30, 30));
        let cli = parse(&["serve", "--header-read-timeout-secs", "5", "--body-read-timeout-secs", "60"]).unwrap();
        let Command::Serve(serve) = cli.command else { panic!("serve") };
        assert_eq!((serve.header_read_timeout_secs, serve.body_read_timeout_secs), (5, 60));
        for flag in ["--header-read-timeout-secs", "--body-read-timeout-secs"] {
            assert!(parse(&["serve", flag, "0"]).is_err(), "{flag} 0 would mean no timeout");
        }
    }

    #[test]
    fn other_storage_schemes_are_a_startup_error() {
        for (url, says) in [
            ("gs://bucket/files", "unsupported storage URL scheme \"gs\""),
            ("file:///srv/files", "unsupported storage URL scheme \"file\""),
            ("./files", "must be s3://bucket[/prefix]"),
            ("s3://AKIAEXAMPLE:topsecret@bucket", "must not contain credentials"),
        ] {
            let err = parse(&["serve", "--storage-url", url]).unwrap_err().to_string();
            assert!(err.contains("--storage-url") && err.contains(says), "{url}: {err}");
            assert!(!err.contains("topsecret"), "{url}: the error repeats a secret: {err}");
        }
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let shown = format!("{:?}", StorageUrl("s3://AKIAEXAMPLE:topsecret@bucket/prefix".into()));
        assert!(!shown.contains("topsecret") && shown.contains("bucket/prefix"), "{shown}");
        let cli = parse(&[
            "serve",
            "--database-url",
            "postgres://atrium:dbsecret@db.internal/atrium",
            "--smtp-url",
            "smtps://mailer:smtpsecret@mail.example.com",
            "--storage-url",
            "s3://atrium-files/prod",
        ])
        .unwrap();
        let shown = format!("{cli:?}");
        assert!(!shown.contains("dbsecret") && !shown.contains("smtpsecret"), "{shown}");
        assert!(shown.contains("s3://atrium-files/prod") && shown.contains("atrium:***@db.internal"), "{shown}");
    }
}

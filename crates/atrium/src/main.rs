//! The `atrium` binary: serve, demo, migrate and admin commands.

mod config;
mod demo;

use std::time::Duration;

use anyhow::{Context, Result, bail};
use atrium_core::model::Role;
use atrium_core::{password, validate};
use atrium_store::people::NewUser;
use atrium_web::{AppState, WebConfig};
use clap::Parser;

use config::{AdminCommand, BackupArgs, Cli, Command, DbArgs, DemoArgs, Scale, ServeArgs, redact_url};

/// mimalloc instead of the system allocator: request handling allocates many small, short-lived
/// buffers across threads; see docs/benchmarks.md for the measured difference.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<std::process::ExitCode> {
    let cli = Cli::parse();
    // The preview worker renders one thumbnail and exits: no runtime, no threads, no logging.
    if let Command::PreviewWorker { args } = &cli.command {
        return Ok(atrium_web::preview::worker_main(args));
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(run(cli))
}

async fn run(cli: Cli) -> Result<std::process::ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let done = match cli.command {
        Command::MailIn(args) => return mail_in(args).await,
        Command::PreviewWorker { .. } => Ok(()),
        Command::Serve(args) => serve(args).await,
        Command::Demo(args) => demo(args).await,
        Command::Migrate(db) => {
            let store = open(&db).await?;
            store.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::Admin(AdminCommand::CreateOwner(a)) => {
            let store = open(&a.db).await?;
            let email = validate::email("email", &a.email).map_err(|e| anyhow::anyhow!("{e}"))?;
            let name = validate::line("name", &a.name, validate::NAME_MAX).map_err(|e| anyhow::anyhow!("{e}"))?;
            password::check("password", &a.password).map_err(|e| anyhow::anyhow!("{e}"))?;
            let hash = password::hash(&a.password).map_err(|e| anyhow::anyhow!("{e}"))?;
            store
                .operator()
                .create_user(NewUser {
                    email: email.clone(),
                    name,
                    password_hash: Some(hash),
                    role: Role::Owner,
                    client_id: None,
                })
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            store.close().await;
            println!("owner {email} created");
            Ok(())
        }
        Command::Admin(AdminCommand::Backup(b)) => backup(b).await,
        Command::Admin(AdminCommand::PurgeClient(p)) => {
            let id: atrium_core::ids::ClientId =
                p.id.parse().map_err(|_| anyhow::anyhow!("--id: not a client id: {:?}", p.id))?;
            // Storage first: a storage that cannot be opened stops the purge before it starts.
            let blobs = p.storage.blobs(&p.db.data_dir).map_err(cli_error)?;
            let store = open(&p.db).await?;
            let purged = store.operator().purge_client(id).await.map_err(|e| anyhow::anyhow!("{e}"));
            store.close().await;
            let purged = purged?;
            // Its files' contents go too (those no other file shares), SEC-DATA-2.
            for h in &purged.unreferenced_blobs {
                blobs.delete(h).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            println!(
                "purged client {:?}, {} portal user(s) and {} stored file(s)",
                purged.client,
                purged.users,
                purged.unreferenced_blobs.len()
            );
            Ok(())
        }
    };
    done.map(|()| std::process::ExitCode::SUCCESS)
}

/// `mail-in`: one message on stdin (at most `MAX_RAW` bytes are read), handed to mail in. The
/// exit code tells the MTA what happened (sysexits: 65 data error, 67 no such user, 75
/// temporary failure).
async fn mail_in(args: ServeArgs) -> Result<std::process::ExitCode> {
    use atrium_web::mail_in::{MailIn, MailInError, Outcome};
    use tokio::io::AsyncReadExt;
    if args.inbound_address.is_none() {
        bail!("mail-in needs --inbound-address (ATRIUM_INBOUND_ADDRESS)");
    }
    let limit = atrium_mail::inbound::MAX_RAW as u64 + 1;
    let mut raw = Vec::new();
    tokio::io::stdin().take(limit).read_to_end(&mut raw).await.context("reading the message on stdin")?;
    let (web, blobs) = settings(&args)?;
    let store = open(&args.db).await?;
    let handler = MailIn::new(store.clone(), blobs, std::sync::Arc::new(web)).context("no inbound address")?;
    let code = match handler.deliver(&raw).await {
        Ok(Outcome::UnknownRecipient) => {
            eprintln!("mail-in: the message is not addressed to the inbound address");
            67
        }
        Ok(outcome) => {
            tracing::info!(?outcome, "mail-in: message taken");
            0
        }
        Err(MailInError::Malformed(e)) => {
            eprintln!("mail-in: {e}");
            65
        }
        Err(MailInError::Store(e)) => {
            eprintln!("mail-in: {}", cli_error(e));
            75
        }
    };
    store.close().await;
    Ok(std::process::ExitCode::from(code))
}

/// The web settings and file storage that `serve` and `mail-in` share.
fn settings(args: &ServeArgs) -> Result<(WebConfig, atrium_store::blobs::Blobs)> {
    let public_url = match args.public_url.clone() {
        Some(u) => u,
        None => url::Url::parse(&format!("http://{}", args.bind)).context("public URL from --bind")?,
    };
    let mut web = WebConfig::new(public_url);
    web.agency_name = args.agency_name.clone();
    web.session_idle = Duration::from_secs(args.session_idle_days.max(1) * 24 * 3600);
    web.trust_proxy = args.trust_proxy;
    web.max_streams_per_user = usize::try_from(args.max_streams_per_user).unwrap_or(20);
    web.max_upload = args.max_upload_mib.saturating_mul(1024 * 1024);
    web.client_quota = args.client_quota_gib.saturating_mul(1024 * 1024 * 1024);
    web.header_read_timeout = Duration::from_secs(args.header_read_timeout_secs);
    web.body_read_timeout = Duration::from_secs(args.body_read_timeout_secs);
    web.inbound = args.inbound_address.clone();
    let blobs = args.storage.blobs(&args.db.data_dir).map_err(cli_error)?;
    if let Some(max) = blobs.max_blob()
        && web.max_upload > max
    {
        tracing::warn!(
            max_upload_mib = max / (1024 * 1024),
            "--max-upload-mib lowered to what this storage holds in one file"
        );
        web.max_upload = max;
    }
    Ok((web, blobs))
}

/// `admin backup`: the database, then every file content it references (SEC-DATA-3).
async fn backup(b: BackupArgs) -> Result<()> {
    if b.database_only {
        let store = open(&b.db).await?;
        let done = store.operator().backup_to(&b.to).await.map_err(cli_error);
        store.close().await;
        done?;
        println!("database copied to {} (file contents not included)", b.to.display());
        return Ok(());
    }
    if b.to.extension().is_some_and(|e| e == "db" || e == "sqlite") {
        bail!(
            "--to names a directory now (it gets atrium.db and files/); to copy only the database to a file, \
             add --database-only"
        );
    }
    // Storage first: a wrong --storage-url fails before anything is written.
    let blobs = b.storage.blobs(&b.db.data_dir).map_err(cli_error)?;
    let store = open(&b.db).await?;
    let done = atrium_store::backup::backup(store.operator(), &blobs, &b.to).await.map_err(cli_error);
    store.close().await;
    let report = done?;
    println!(
        "backup written to {}: the database and {} stored file(s), {} bytes, each checked against its SHA-256",
        b.to.display(),
        report.blobs,
        report.bytes
    );
    Ok(())
}

/// An error for the operator at the terminal: the detail of an internal error is shown, with
/// the errors that caused it (the web layer only logs it).
fn cli_error(e: atrium_core::Error) -> anyhow::Error {
    match e {
        atrium_core::Error::Internal(detail) => anyhow::Error::new(detail),
        e => anyhow::anyhow!("{e}"),
    }
}

/// Connects (creating the data dir for SQLite) and migrates.
async fn open(db: &DbArgs) -> Result<atrium_store::Store> {
    let url = db.url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&db.data_dir).with_context(|| format!("creating {}", db.data_dir.display()))?;
    }
    let store = atrium_store::connect_with(&url, db.database_pool).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    store.migrate().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(database = %redact_url(&url), "database ready");
    Ok(store)
}

async fn demo(mut args: DemoArgs) -> Result<()> {
    // The demo agency has a name of its own unless one was chosen.
    if args.serve.agency_name == config::DEFAULT_AGENCY_NAME {
        args.serve.agency_name = demo::AGENCY_NAME.to_string();
    }
    let store = open(&args.serve.db).await?;
    let scale = match args.scale {
        Scale::Small => demo::DemoScale::small(),
        Scale::Bench => demo::DemoScale::bench(),
    };
    let fresh = store.operator().has_no_users().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if fresh {
        let started = std::time::Instant::now();
        let l = demo::seed(&store, &scale).await?;
        tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, ?scale, "demo data created");
        print_logins(&l.staff_email, &l.client_email, &l.password);
        println!("  A project the client sees: /portal/projects/{}", l.client_project_id);
        println!();
    } else if store.sign_in().account_by_email(demo::STAFF_EMAIL).await.ok().flatten().is_some() {
        println!("  (demo data already present in this data dir)");
        print_logins(demo::STAFF_EMAIL, demo::CLIENT_EMAIL, demo::PASSWORD);
    } else {
        bail!("this data dir already holds a real installation; run the demo with an empty --data-dir");
    }
    store.close().await;
    if args.seed_only { Ok(()) } else { serve(args.serve).await }
}

async fn serve(args: ServeArgs) -> Result<()> {
    let store = open(&args.db).await?;
    let (web, blobs) = settings(&args)?;
    let public_url = web.public_url.clone();
    let mailer = match &args.smtp_url {
        Some(u) => atrium_mail::Mailer::smtp(&args.mail_from, &u.0),
        None => atrium_mail::Mailer::outbox(&args.mail_from, args.db.data_dir.join("outbox")),
    }
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(storage = %blobs.location(), "file storage ready");
    // Uploads cut off by a crash leave temporary objects; sweep those older than an hour, hourly.
    // Rate-limit counters of windows that ended a day ago go in the same sweep.
    let sweeper = blobs.clone();
    let counters = store.clone();
    let counters_kept = chrono::Duration::days(1).max(chrono::Duration::from_std(web.rate_window).unwrap_or_default());
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every.tick().await;
            match sweeper.sweep_temporary(Duration::from_secs(3600)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "swept abandoned uploads"),
                Err(e) => tracing::warn!(error = %e, "sweeping abandoned uploads failed"),
            }
            if let Err(e) = counters.prune_rate_limits(counters_kept).await {
                tracing::warn!(error = %e, "pruning rate-limit counters failed");
            }
        }
    });
    let state = AppState::new(store.clone(), blobs, web, mailer);
    atrium_web::jobs::schedule_digest(&store, chrono::Utc::now()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    atrium_web::jobs::schedule_helpdesk_sweep(&store, chrono::Utc::now()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    atrium_web::jobs::schedule_automation_sweep(&store, chrono::Utc::now())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // Also at start-up: a server that was down issues the periods it missed within the hour.
    atrium_web::jobs::schedule_recurring_invoices(&store, chrono::Utc::now())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let listener = tokio::net::TcpListener::bind(args.bind).await.with_context(|| format!("binding {}", args.bind))?;
    tracing::info!(bind = %args.bind, public_url = %public_url, "Atrium is listening");
    println!("Atrium is running at {public_url}");
    // One signal stops both the server and the job worker (which finishes the job in hand).
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut worker_stop = stopped.clone();
    let worker = state.queue().spawn(async move {
        let _ = worker_stop.wait_for(|s| *s).await;
    });
    // Mail in from the IMAP mailbox, until the same signal.
    let imap = match (
        &args.imap_url,
        atrium_web::mail_in::MailIn::new(store.clone(), state.blobs.clone(), state.config.clone()),
    ) {
        (Some(url), Some(handler)) => {
            Some(tokio::spawn(atrium_web::mail_in::imap::run(url.clone(), handler, stopped.clone())))
        }
        _ => None,
    };
    atrium_web::serve(listener, state, async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    })
    .await?;
    drop(stopped);
    let _ = worker.await;
    if let Some(imap) = imap {
        let _ = imap.await;
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

fn print_logins(staff: &str, client: &str, password: &str) {
    println!();
    println!("  Demo agency ready.");
    println!("  Staff login:  {staff} / {password}");
    println!("  Client login: {client} / {password}");
    println!();
}

/// Resolves on ctrl-c or SIGTERM; the server then stops accepting and lets requests finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

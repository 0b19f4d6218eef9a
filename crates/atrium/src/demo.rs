//! `atrium demo`: a believable agency — staff, clients with portal users, projects with
//! milestones, tasks in every state and due-date bucket, replies and internal notes — so a
//! newcomer sees a living portal at once. The same generator, scaled up, feeds the benchmarks.
//!
//! Generation is deterministic (a fixed seed) and relative to today, so "overdue", "due today"
//! and "this week" always have something in them.

use anyhow::{Context, Result, bail};
use atrium_core::ids::{ClientId, CommentId, MilestoneId, ProjectId, TaskId, UserId};
use atrium_core::model::{Priority, ProjectStatus, Role, TaskStatus, Visibility};
use atrium_store::Store;
use atrium_store::bulk::{Bulk, BulkClient, BulkComment, BulkMilestone, BulkProject, BulkTask, BulkUser};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The demo agency's name, shown in the header when no `--agency-name` is given.
pub const AGENCY_NAME: &str = "Northwind Studio";
/// The staff login the demo prints.
pub const STAFF_EMAIL: &str = "ana@northwind.test";
/// The client login the demo prints (client admin of Acme).
pub const CLIENT_EMAIL: &str = "client@acme.test";
/// The one password every demo user has.
pub const PASSWORD: &str = "atrium-demo-2026";

/// How much data to create.
#[derive(Clone, Debug)]
pub struct DemoScale {
    pub clients: usize,
    pub projects: usize,
    pub tasks: usize,
}

impl DemoScale {
    /// The newcomer's agency: 4 clients, 8 projects, ~150 tasks.
    pub fn small() -> Self {
        DemoScale { clients: 4, projects: 8, tasks: 150 }
    }

    /// The benchmark data set: 200 clients, 2,000 projects, 100,000 tasks.
    pub fn bench() -> Self {
        DemoScale { clients: 200, projects: 2000, tasks: 100_000 }
    }
}

/// What the demo prints so someone can sign in.
#[derive(Clone, Debug)]
pub struct DemoLogins {
    pub staff_email: String,
    pub client_email: String,
    pub password: String,
    /// A project the printed client user can see (benchmarks request it).
    pub client_project_id: ProjectId,
}

const STAFF: [(&str, &str, Role); 3] = [
    ("Ana Ruiz", STAFF_EMAIL, Role::Owner),
    ("Ben Okafor", "ben@northwind.test", Role::Admin),
    ("Chloé Martin", "chloe@northwind.test", Role::Staff),
];

/// Named clients first; beyond them, generated names.
const CLIENTS: [(&str, &str); 4] = [
    ("Acme Corporation", "acme"),
    ("Globex Retail", "globex"),
    ("Initech Health", "initech"),
    ("Umbrella Foods", "umbrella"),
];

const CLIENT_PEOPLE: [&str; 12] = [
    "Dana Whitfield",
    "Frank Li",
    "Grace Park",
    "Hugo Almeida",
    "Iris Novak",
    "Jonas Berg",
    "Kira Osei",
    "Luis Romero",
    "Maya Singh",
    "Noah Fischer",
    "Olga Petrova",
    "Priya Nair",
];

const NAME_PARTS: [&str; 20] = [
    "Blue", "Cedar", "Delta", "Ember", "Fjord", "Granite", "Harbor", "Indigo", "Juniper", "Kestrel", "Lumen", "Maple",
    "Nimbus", "Orchid", "Pioneer", "Quartz", "Redwood", "Summit", "Tidal", "Vertex",
];
const NAME_KINDS: [&str; 10] =
    ["Labs", "Logistics", "Bakery", "Clinic", "Outfitters", "Capital", "Studios", "Energy", "Foods", "Travel"];

const PROJECTS: [(&str, &str); 8] = [
    ("Website redesign", "A faster, friendlier website that turns visitors into enquiries."),
    ("Brand refresh", "New logo, colours and type that still feel like *you*."),
    ("Mobile app MVP", "The first release of the customer app for iOS and Android."),
    ("SEO audit", "Find what keeps the site off page one, and fix the top ten issues."),
    ("Spring campaign", "Landing pages, email sequence and ads for the spring launch."),
    ("Customer portal", "Self-service orders and invoices for **your** customers."),
    ("Analytics dashboard", "One page that shows the numbers the board asks about."),
    ("Product launch", "Everything needed for launch day: press kit, site, socials."),
];

const MILESTONES: [&str; 4] = ["Discovery", "Design", "Build", "Launch"];

/// Tasks the client does (approvals, content) — assigned to a client user.
const CLIENT_TASKS: [&str; 10] = [
    "Approve the homepage wireframes",
    "Send product photos",
    "Review the colour palette",
    "Provide brand guidelines",
    "Sign off the sitemap",
    "Confirm launch date",
    "Share analytics access",
    "Review draft copy for About page",
    "Approve the email sequence",
    "Send the list of team bios",
];

/// Tasks the agency does — assigned to staff.
const STAFF_TASKS: [&str; 14] = [
    "Draft the sitemap",
    "Design homepage mock-up",
    "Set up staging environment",
    "Write meta descriptions",
    "Build the contact form",
    "Run accessibility audit",
    "Prepare launch checklist",
    "Configure analytics events",
    "Optimise images",
    "Write release notes",
    "Fix mobile navigation",
    "Create social media templates",
    "Set up email automation",
    "Migrate blog posts",
];

const REPLIES: [&str; 6] = [
    "Thanks! I've shared this with the team and will come back by Friday.",
    "Uploaded the latest version — let me know what you think.",
    "Looks great. One small thing: could the button be a bit larger on phones?",
    "Approved from our side. 🎉",
    "Quick question: do you need the files in **PNG** or **SVG**?",
    "We moved this to next week so the copy can be finalised first.",
];

const NOTES: [&str; 4] = [
    "Internal: client is slow on approvals — nudge on Monday.",
    "Budget check: this is past the estimate, don't offer more revisions.",
    "Ben to pair on this; the API is flakier than it looks.",
    "Note to self: invoice the extra photo session separately.",
];

/// Creates the demo data in an empty database.
pub async fn seed(store: &Store, scale: &DemoScale) -> Result<DemoLogins> {
    if !store.operator().has_no_users().await.map_err(|e| anyhow::anyhow!("{e}"))? {
        bail!("the database already has users; demo data only loads into an empty data dir");
    }
    let hash = atrium_core::password::hash(PASSWORD).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (bulk, logins) = generate(scale, &hash, Utc::now().date_naive())?;
    store.operator().load_bulk(bulk).await.map_err(|e| anyhow::anyhow!("{e}")).context("loading demo data")?;
    conversation(store, &logins).await.context("demo conversation")?;
    billing(store).await.context("demo invoices")?;
    team_and_pages(store, &logins).await.context("demo team and pages")?;
    welcome(store).await.context("demo welcome text")?;
    helpdesk(store, &logins).await.context("demo help desk")?;
    from_templates(store).await.context("demo projects from templates")?;
    Ok(logins)
}

/// Job titles, the team of the printed client's project and two of its own pages (a brief and
/// a link card), through the real store functions.
async fn team_and_pages(store: &Store, logins: &DemoLogins) -> Result<()> {
    use atrium_core::project_page::PageKind;
    use atrium_store::project_pages::NewPage;
    let err = |e: atrium_core::Error| anyhow::anyhow!("{e}");
    let ana = sign_in_as(store, STAFF_EMAIL).await?;
    let mut team = Vec::new();
    for ((_, email, _), title) in STAFF.iter().zip(["Founder & creative director", "Account manager", "Designer"]) {
        let id = store.sign_in().account_by_email(email).await.map_err(err)?.context("demo staff")?.user.id;
        store.set_job_title(&ana, id, title.into(), None).await.map_err(err)?;
        team.push(id);
    }
    let p = logins.client_project_id;
    store.set_project_team(&ana, p, team, None).await.map_err(err)?;
    let page = |title: &str, kind, body: &str, url: Option<&str>| NewPage {
        title: title.into(),
        kind,
        body: body.into(),
        url: url.map(Into::into),
        staff_only: false,
        position: None,
    };
    let brief = "## Goals\n\n- A homepage that explains the offer in five seconds\n- Booking in two clicks\n\n\
                 ## Out of scope\n\nThe online shop (next year).";
    store.create_project_page(&ana, p, page("Brief", PageKind::Markdown, brief, None), None).await.map_err(err)?;
    let staging =
        page("Staging site", PageKind::Link, "Where the work in progress lives.", Some("https://staging.example.com/"));
    store.create_project_page(&ana, p, staging, None).await.map_err(err)?;
    Ok(())
}

/// Three requests of the printed client user, through the real store functions: one about
/// the project, assigned and answered (with an internal note); a general one nobody has taken
/// yet; one solved and rated.
async fn helpdesk(store: &Store, logins: &DemoLogins) -> Result<()> {
    use atrium_core::helpdesk::{Satisfaction, TicketStatus};
    use atrium_core::model::{Priority, Visibility};
    use atrium_store::tickets::{NewTicket, TicketPatch};
    let err = |e: atrium_core::Error| anyhow::anyhow!("{e}");
    let ana = sign_in_as(store, STAFF_EMAIL).await?;
    let chloe = sign_in_as(store, "chloe@northwind.test").await?;
    let dana = sign_in_as(store, CLIENT_EMAIL).await?;
    let ask = |subject: &str, body: &str, project, priority| NewTicket {
        project_id: project,
        subject: subject.into(),
        body: body.into(),
        priority: Some(priority),
        ..Default::default()
    };
    let calendar = ask(
        "Can the booking page show a second calendar?",
        "Our second studio opens in March. Could visitors choose between the two locations when they book?",
        Some(logins.client_project_id),
        Priority::Normal,
    );
    let t = store.create_ticket(&dana, calendar, None).await.map_err(err)?;
    let assign = TicketPatch { assignee_id: Some(Some(chloe.user_id())), ..Default::default() };
    store.update_ticket(&ana, t.id, assign, None).await.map_err(err)?;
    let reply = "Good idea — yes, the booking widget supports several calendars. I'll add a location choice to the \
                 design and show you on Thursday.";
    store.create_ticket_comment(&chloe, t.id, reply.into(), Visibility::Reply, None).await.map_err(err)?;
    let note = "Needs the second calendar's API key from their office manager; about half a day of work.";
    store.create_ticket_comment(&chloe, t.id, note.into(), Visibility::Note, None).await.map_err(err)?;
    let access = ask(
        "Access for our new marketing manager",
        "Priya joins us on Monday. Could she get access to the portal?",
        None,
        Priority::Low,
    );
    store.create_ticket(&dana, access, None).await.map_err(err)?;
    let form = ask(
        "The contact form sends to an old address",
        "Messages from the contact form still go to info@ — could they go to hello@ instead?",
        Some(logins.client_project_id),
        Priority::High,
    );
    let t = store.create_ticket(&dana, form, None).await.map_err(err)?;
    let done = "Done: the form now sends to hello@. I sent a test message to check.";
    store.create_ticket_comment(&ana, t.id, done.into(), Visibility::Reply, None).await.map_err(err)?;
    let solve = TicketPatch { status: Some(TicketStatus::Solved), ..Default::default() };
    store.update_ticket(&ana, t.id, solve, None).await.map_err(err)?;
    store.rate_ticket(&dana, t.id, Satisfaction::Good, Some("Quick, thank you!".into()), None).await.map_err(err)?;
    Ok(())
}

/// Two projects made from the starter templates, as staff make them: Acme's retainer for
/// this month (led by Ben) and Globex's brand identity, started ten days ago.
async fn from_templates(store: &Store) -> Result<()> {
    use atrium_store::template_projects::FromTemplate;
    use atrium_store::work::NewProject;
    let err = |e: atrium_core::Error| anyhow::anyhow!("{e}");
    let ana = sign_in_as(store, STAFF_EMAIL).await?;
    let templates = store.project_templates(&ana).await.map_err(err)?;
    let template = |name: &str| templates.iter().find(|t| t.name == name).map(|t| t.id).context("starter template");
    let account = |email: &'static str| async move {
        store.sign_in().account_by_email(email).await.map_err(err)?.context("demo account")
    };
    let ben = account("ben@northwind.test").await?.user.id;
    let today = Utc::now().date_naive();
    let month_start = today.with_day(1).unwrap_or(today);
    let plan = [
        (CLIENT_EMAIL, "Monthly retainer", format!("Retainer — {}", today.format("%B %Y")), month_start, Some(ben)),
        ("admin@globex.test", "Brand identity", "Brand identity refresh".to_string(), today - Duration::days(10), None),
    ];
    for (email, name, project, start, lead) in plan {
        let client = account(email).await?.user.client_id.context("demo client")?;
        let n = NewProject {
            client_id: client,
            name: project,
            description: String::new(),
            status: ProjectStatus::Active,
            start_date: Some(start),
            due_date: None,
        };
        let from = FromTemplate { template: template(name)?, lead };
        store.create_project_from_template(&ana, n, from, None).await.map_err(err)?;
    }
    Ok(())
}

/// The agency's welcome text on the portal's Home (the name comes from `--agency-name`; the
/// accent and logo stay the calm defaults).
async fn welcome(store: &Store) -> Result<()> {
    let ana = sign_in_as(store, STAFF_EMAIL).await?;
    let text = "Welcome to your Northwind Studio portal: everything we are working on together, in one place. \
                Reply to a task or write to us under Messages — we answer within one working day.";
    let patch = atrium_store::branding::BrandingPatch { welcome_text: Some(text.into()), ..Default::default() };
    store.update_branding(&ana, patch, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

/// The demo acts as its people the way a request does: through a session, resolved like any
/// other (an `Actor` is only ever made where a session is resolved). The session lasts a minute.
async fn sign_in_as(store: &Store, email: &str) -> Result<atrium_core::policy::Actor> {
    let err = |e: atrium_core::Error| anyhow::anyhow!("{e}");
    let acc = store.sign_in().account_by_email(email).await.map_err(err)?.context("demo user")?;
    let minute = Duration::minutes(1);
    let token = store.sign_in().create_session(acc.user.id, minute, None, Some("atrium demo")).await.map_err(err)?;
    let (_, actor) = store.session_actor(&token.secret, minute).await.map_err(err)?.context("demo session")?;
    Ok(actor)
}

/// A few invoices in every state for the first two clients, through the real store functions
/// (numbers from the sequence, totals computed exactly, audit entries as in use).
async fn billing(store: &Store) -> Result<()> {
    use atrium_core::model::PaymentMethod;
    use atrium_core::money::LineInput;
    use atrium_store::billing::{NewInvoice, NewPayment, SettingsPatch};
    let err = |e: atrium_core::Error| anyhow::anyhow!("{e}");
    let ana = sign_in_as(store, STAFF_EMAIL).await?;
    store
        .update_invoice_settings(
            &ana,
            SettingsPatch {
                prefix: Some("NW-".into()),
                padding: Some(4),
                payment_instructions: Some(
                    "Northwind Studio · IBAN DE89 3704 0044 0532 0130 00 · BIC COBADEFFXXX\nPlease quote the invoice number."
                        .into(),
                ),
            },
            None,
        )
        .await
        .map_err(err)?;
    let today = Utc::now().date_naive();
    let line = |d: &str, q: &str, p: &str, t: &str| LineInput {
        description: d.into(),
        quantity: q.into(),
        unit_price: p.into(),
        tax_rate: t.into(),
        discount: String::new(),
    };
    let client_of = |email: &'static str| async move {
        store
            .sign_in()
            .account_by_email(email)
            .await
            .map_err(err)?
            .and_then(|a| a.user.client_id)
            .context("demo client")
    };
    let acme = client_of(CLIENT_EMAIL).await?;
    let globex = client_of("admin@globex.test").await?;
    // (client, days ago issued, lines, payments as fractions: paid in full / part / none, send?)
    let plan = vec![
        (
            acme,
            75,
            vec![line("Discovery workshop", "1", "2400.00", "19"), line("Brand audit", "12", "95.00", "19")],
            Some("all"),
            true,
        ),
        (
            acme,
            45,
            vec![line("Homepage design", "1", "4800.00", "19"), line("Stock photography licences", "6", "49.90", "7")],
            Some("1500.00"),
            true,
        ),
        (
            acme,
            10,
            vec![
                line("Development sprint 1", "38.5", "110.00", "19"),
                line("Hosting (annual)", "1", "240.00", "19"),
                line("Printed style guide", "2", "35.00", "7"),
            ],
            None,
            true,
        ),
        (acme, 0, vec![line("Development sprint 2", "40", "110.00", "19")], None, false),
        (globex, 20, vec![line("Campaign concept", "1", "3200.00", "20")], None, true),
    ];
    for (client, ago, lines, paid, send) in plan {
        let issue = today - chrono::Duration::days(ago);
        let inv = store
            .create_invoice(
                &ana,
                NewInvoice {
                    client_id: client,
                    project_id: None,
                    currency: "EUR".into(),
                    issue_date: issue,
                    due_date: issue + chrono::Duration::days(30),
                    lines,
                    notes: "Thank you for working with us.".into(),
                    payment_instructions: None,
                },
                None,
            )
            .await
            .map_err(err)?;
        if send {
            store.send_invoice(&ana, inv.id, None).await.map_err(err)?;
        }
        if let Some(amount) = paid {
            let amount = if amount == "all" { inv.total.clone() } else { amount.to_string() };
            let p = NewPayment {
                amount,
                date: issue + chrono::Duration::days(20),
                method: PaymentMethod::BankTransfer,
                reference: format!("Transfer {}", inv.number),
            };
            store.record_payment(&ana, inv.id, p, None).await.map_err(err)?;
        }
    }
    // A monthly retainer that sends itself on the first of next month.
    let first = today.with_day(1).and_then(|d| d.checked_add_months(chrono::Months::new(1))).unwrap_or(today);
    let retainer = atrium_store::billing::NewRecurringInvoice {
        client_id: acme,
        project_id: None,
        name: "Maintenance retainer".into(),
        currency: "EUR".into(),
        lines: vec![line("Website care and small changes (monthly)", "1", "650.00", "19")],
        notes: "Thank you for working with us.".into(),
        interval: atrium_core::model::RecurringInterval::Monthly,
        next_issue_date: first,
        due_days: 14,
        auto_send: true,
    };
    store.create_recurring_invoice(&ana, retainer, None).await.map_err(err)?;
    Ok(())
}

/// A short conversation on the printed client's project, through the real store functions (so
/// read receipts, mentions and notifications are as in use; their mail waits in the job queue).
async fn conversation(store: &Store, logins: &DemoLogins) -> Result<()> {
    use atrium_core::model::Channel;
    let err = |e: atrium_core::Error| anyhow::anyhow!("{e}");
    let ana = sign_in_as(store, STAFF_EMAIL).await?;
    let chloe = sign_in_as(store, "chloe@northwind.test").await?;
    let dana = sign_in_as(store, CLIENT_EMAIL).await?;
    let p = logins.client_project_id;
    let say = |who: &atrium_core::policy::Actor, channel: Channel, text: &str| {
        let who = who.clone();
        let text = text.to_string();
        async move { store.create_message(&who, p, channel, text, None).await.map_err(err) }
    };
    say(&ana, Channel::Client, "Hi Dana, the homepage drafts are up. Could you have a look before Thursday's call?")
        .await?;
    let reply = say(
        &dana,
        Channel::Client,
        "Thanks @[Ana Ruiz]! I'll go through them tomorrow morning and leave comments on the tasks.",
    )
    .await?;
    store.mark_messages_read(&ana, p, reply.id).await.map_err(err)?;
    say(
        &chloe,
        Channel::Staff,
        "Heads-up: Acme's legal review of the copy may slip a week. Let's not promise the launch date yet.",
    )
    .await?;
    Ok(())
}

/// Builds the rows; pure so it can be tested without a database.
fn generate(scale: &DemoScale, hash: &str, today: NaiveDate) -> Result<(Bulk, DemoLogins)> {
    if scale.clients == 0 || scale.projects < scale.clients || scale.tasks < scale.projects {
        bail!("demo scale needs at least one client, a project per client and a task per project");
    }
    let mut rng = StdRng::seed_from_u64(2026);
    let mut b = Bulk::default();

    let staff: Vec<UserId> = STAFF
        .iter()
        .map(|(name, email, role)| {
            let id = UserId::new();
            b.users.push(BulkUser {
                id,
                email: (*email).into(),
                name: (*name).into(),
                password_hash: Some(hash.into()),
                role: *role,
                client_id: None,
            });
            id
        })
        .collect();

    // Clients and their portal users: a client admin (assignee of client tasks), a finance
    // contact, and for every other client a viewer.
    let mut client_admins: Vec<(ClientId, UserId)> = Vec::with_capacity(scale.clients);
    for i in 0..scale.clients {
        let (name, domain) = match CLIENTS.get(i) {
            Some((n, d)) => ((*n).to_string(), (*d).to_string()),
            None => {
                let n = format!(
                    "{} {} {}",
                    NAME_PARTS[i % NAME_PARTS.len()],
                    NAME_KINDS[(i / NAME_PARTS.len()) % NAME_KINDS.len()],
                    i
                );
                (n, format!("client{i}"))
            }
        };
        let client = ClientId::new();
        b.clients.push(BulkClient { id: client, name });
        let person = |k: usize| CLIENT_PEOPLE[(i * 3 + k) % CLIENT_PEOPLE.len()].to_string();
        let admin_email = if i == 0 { CLIENT_EMAIL.to_string() } else { format!("admin@{domain}.test") };
        let mut people = vec![
            (admin_email, person(0), Role::ClientAdmin),
            (format!("finance@{domain}.test"), person(1), Role::ClientFinance),
        ];
        if i % 2 == 0 {
            people.push((format!("viewer@{domain}.test"), person(2), Role::ClientViewer));
        }
        for (k, (email, name, role)) in people.into_iter().enumerate() {
            let id = UserId::new();
            if k == 0 {
                client_admins.push((client, id));
            }
            b.users.push(BulkUser { id, email, name, password_hash: Some(hash.into()), role, client_id: Some(client) });
        }
    }

    // Projects spread round-robin over clients, so client 0 owns projects 0, n, 2n, …
    let mut projects: Vec<(ProjectId, usize, Vec<MilestoneId>, NaiveDate)> = Vec::with_capacity(scale.projects);
    for p in 0..scale.projects {
        let ci = p % scale.clients;
        let (client, _) = client_admins[ci];
        let (name, description) = PROJECTS[p % PROJECTS.len()];
        let name = if p < PROJECTS.len() { name.to_string() } else { format!("{name} {}", p / PROJECTS.len() + 1) };
        let start = today - Duration::days(rng.random_range(10..120));
        let due = today + Duration::days(rng.random_range(14..150));
        let status = match p % 8 {
            6 => ProjectStatus::Planned,
            7 => ProjectStatus::OnHold,
            _ => ProjectStatus::Active,
        };
        let id = ProjectId::new();
        b.projects.push(BulkProject {
            id,
            client_id: client,
            name,
            description: description.into(),
            status,
            start_date: Some(start),
            due_date: Some(due),
        });
        let span = (due - start).num_days().max(4);
        let milestones: Vec<MilestoneId> = MILESTONES
            .iter()
            .enumerate()
            .map(|(k, m)| {
                let mid = MilestoneId::new();
                let m_due = start + Duration::days(span * (k as i64 + 1) / MILESTONES.len() as i64);
                b.milestones.push(BulkMilestone {
                    id: mid,
                    project_id: id,
                    name: (*m).into(),
                    due_date: Some(m_due),
                    done: m_due < today,
                    position: k as i32,
                });
                mid
            })
            .collect();
        projects.push((id, ci, milestones, start));
    }

    // Tasks: spread evenly over projects; client tasks go to the client admin, the rest to staff.
    // Due dates fall into every "My work" bucket: overdue, today, this week, later, none.
    for t in 0..scale.tasks {
        let (pid, ci, ref milestones, _) = projects[t % scale.projects];
        let is_client_task = t % 3 == 0;
        let (title, assignee) = if is_client_task {
            (CLIENT_TASKS[(t / 3) % CLIENT_TASKS.len()], client_admins[ci].1)
        } else {
            (STAFF_TASKS[t % STAFF_TASKS.len()], staff[(t / 3) % staff.len()])
        };
        let due_offset = match rng.random_range(0..10) {
            0 | 1 => Some(-rng.random_range(1..10)),
            2 => Some(0),
            3..=5 => Some(rng.random_range(1..7)),
            6..=8 => Some(rng.random_range(7..60)),
            _ => None,
        };
        let status = match rng.random_range(0..10) {
            0..=3 => TaskStatus::Done,
            4..=5 => TaskStatus::InProgress,
            _ => TaskStatus::Todo,
        };
        let priority = match rng.random_range(0..10) {
            0 => Priority::Urgent,
            1 | 2 => Priority::High,
            3 => Priority::Low,
            _ => Priority::Normal,
        };
        let id = TaskId::new();
        b.tasks.push(BulkTask {
            id,
            project_id: pid,
            milestone_id: Some(milestones[(t / scale.projects) % milestones.len()]),
            title: title.into(),
            description: if is_client_task {
                "Everything you need is in the project files. Reply here with any questions.".into()
            } else {
                String::new()
            },
            status,
            priority,
            due_date: due_offset.map(|d| today + Duration::days(d)),
            assignee_id: Some(assignee),
            created_by: staff[t % staff.len()],
        });

        // A conversation on roughly every fourth task (every tenth at benchmark scale).
        let every = if scale.tasks > 10_000 { 10 } else { 4 };
        if t % every == 0 {
            let base = Utc::now() - Duration::hours(rng.random_range(2..240));
            let thread: [(UserId, Visibility, &str); 3] = [
                (staff[t % staff.len()], Visibility::Reply, REPLIES[t % REPLIES.len()]),
                (client_admins[ci].1, Visibility::Reply, REPLIES[(t + 3) % REPLIES.len()]),
                (staff[(t + 1) % staff.len()], Visibility::Note, NOTES[t % NOTES.len()]),
            ];
            let len = 1 + t % 3;
            for (k, (author, visibility, body)) in thread.into_iter().take(len).enumerate() {
                b.comments.push(BulkComment {
                    id: CommentId::new(),
                    task_id: id,
                    author_id: author,
                    body: body.into(),
                    visibility,
                    created_at: base + Duration::minutes(37 * k as i64),
                });
            }
        }
    }

    let logins = DemoLogins {
        staff_email: STAFF_EMAIL.into(),
        client_email: CLIENT_EMAIL.into(),
        password: PASSWORD.into(),
        client_project_id: projects[0].0,
    };
    Ok((b, logins))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    #[test]
    fn small_demo_matches_the_brief() {
        let (b, logins) = generate(&DemoScale::small(), "hash", today()).unwrap();
        assert_eq!(b.users.iter().filter(|u| u.role.is_staff()).count(), 3);
        assert_eq!(b.clients.len(), 4);
        for c in &b.clients {
            let users = b.users.iter().filter(|u| u.client_id == Some(c.id)).count();
            assert!((2..=3).contains(&users), "{} has {users} users", c.name);
        }
        assert_eq!(b.projects.len(), 8);
        assert_eq!(b.tasks.len(), 150);
        assert!(b.comments.iter().any(|c| c.visibility == Visibility::Note));
        assert!(b.comments.iter().any(|c| c.visibility == Visibility::Reply));
        // The printed client can see the printed project.
        let client = b.users.iter().find(|u| u.email == logins.client_email).unwrap();
        let project = b.projects.iter().find(|p| p.id == logins.client_project_id).unwrap();
        assert_eq!(client.client_id, Some(project.client_id));
        // …and has open work of their own, some of it overdue.
        let mine: Vec<_> =
            b.tasks.iter().filter(|t| t.assignee_id == Some(client.id) && t.status != TaskStatus::Done).collect();
        assert!(mine.len() >= 5, "client has {} open tasks", mine.len());
        assert!(b.users.iter().any(|u| u.email == logins.staff_email && u.role == Role::Owner));
        // Every staff member has open work in "My work".
        for s in b.users.iter().filter(|u| u.role.is_staff()) {
            let open = b.tasks.iter().filter(|t| t.assignee_id == Some(s.id) && t.status != TaskStatus::Done).count();
            assert!(open >= 10, "{} has {open} open tasks", s.name);
        }
    }

    #[test]
    fn tasks_only_go_to_people_who_can_see_them() {
        let (b, _) = generate(&DemoScale::small(), "hash", today()).unwrap();
        for t in &b.tasks {
            let project = b.projects.iter().find(|p| p.id == t.project_id).unwrap();
            let assignee = b.users.iter().find(|u| Some(u.id) == t.assignee_id).unwrap();
            assert!(assignee.role.is_staff() || assignee.client_id == Some(project.client_id));
        }
        for c in &b.comments {
            let author = b.users.iter().find(|u| u.id == c.author_id).unwrap();
            assert!(c.visibility == Visibility::Reply || author.role.is_staff(), "a client wrote a note");
        }
    }

    #[test]
    fn emails_are_unique_at_benchmark_scale() {
        let (b, _) = generate(&DemoScale::bench(), "hash", today()).unwrap();
        let mut emails: Vec<_> = b.users.iter().map(|u| u.email.as_str()).collect();
        emails.sort_unstable();
        let n = emails.len();
        emails.dedup();
        assert_eq!(emails.len(), n);
        assert_eq!((b.clients.len(), b.projects.len(), b.tasks.len()), (200, 2000, 100_000));
    }

    #[test]
    fn nonsense_scale_is_refused() {
        let scale = DemoScale { clients: 3, projects: 2, tasks: 10 };
        assert!(generate(&scale, "hash", today()).is_err());
    }

    /// A fresh database: SQLite in a temp dir, or a new PostgreSQL database when
    /// `ATRIUM_TEST_DB=postgres` (the same switch as the web suites).
    async fn fresh_store() -> (Store, Option<String>) {
        use sea_orm::ConnectionTrait;
        let id = uuid::Uuid::now_v7().simple().to_string();
        if std::env::var("ATRIUM_TEST_DB").is_ok_and(|v| v == "postgres") {
            let base =
                std::env::var("ATRIUM_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
            let admin = sea_orm::Database::connect(format!("{base}/postgres")).await.unwrap();
            admin.execute_unprepared(&format!("CREATE DATABASE atrium_demo_{id}")).await.unwrap();
            admin.close().await.unwrap();
            (atrium_store::connect(&format!("{base}/atrium_demo_{id}")).await.unwrap(), None)
        } else {
            let dir = std::env::temp_dir().join(format!("atrium-demo-test-{id}"));
            std::fs::create_dir_all(&dir).unwrap();
            let url = format!("sqlite://{}?mode=rwc", dir.join("atrium.db").display());
            (atrium_store::connect(&url).await.unwrap(), Some(dir.display().to_string()))
        }
    }

    #[tokio::test]
    async fn demo_loads_once_and_its_client_sees_only_its_own_projects() {
        use atrium_store::paging::PageRequest;
        let (store, dir) = fresh_store().await;
        store.migrate().await.unwrap();
        let logins = seed(&store, &DemoScale::small()).await.unwrap();

        let client = sign_in_as(&store, &logins.client_email).await.unwrap();
        let visible = store.projects(&client.work_scope(), None, PageRequest::all()).await.unwrap().items;
        assert_eq!(visible.len(), 3, "Acme owns two of the eight generated projects and its retainer");
        assert!(visible.iter().all(|p| Some(p.client_id) == client.client_id()));
        assert!(visible.iter().any(|p| p.id == logins.client_project_id));
        // The client sees who works on their project, and its own pages.
        let team = store.project_team(&client.work_scope(), logins.client_project_id).await.unwrap();
        assert_eq!(team.len(), 3);
        assert!(team.iter().all(|m| !m.title.is_empty()), "every member has a job title");
        let pages = store.project_pages(&client.work_scope(), logins.client_project_id).await.unwrap();
        assert_eq!(pages.iter().map(|p| p.title.as_str()).collect::<Vec<_>>(), vec!["Brief", "Staging site"]);

        let staff = sign_in_as(&store, &logins.staff_email).await.unwrap();
        let all = store.projects(&staff.work_scope(), None, PageRequest::all()).await.unwrap().items;
        assert_eq!(all.len(), 10, "eight generated, two from templates");
        // The retainer was made from its template: its tasks are dated from the first of the
        // month and its lead's tasks are Ben's.
        let retainer = visible.iter().find(|p| p.name.starts_with("Retainer")).expect("the retainer");
        assert_eq!(retainer.start_date.map(|d| d.day()), Some(1));
        let tasks =
            store.tasks(&staff.work_scope(), retainer.id, &Default::default(), PageRequest::all()).await.unwrap().items;
        assert_eq!(tasks.len(), 5);
        let ben = store.sign_in().account_by_email("ben@northwind.test").await.unwrap().unwrap().user.id;
        assert!(tasks.iter().any(|t| t.assignee_id == Some(ben)));
        assert_eq!(
            tasks.iter().filter(|t| t.assignee_id.is_some()).count(),
            4,
            "the lead's three and the client admin's one"
        );

        // A second run never mixes invented data into a database that has users.
        assert!(seed(&store, &DemoScale::small()).await.is_err());
        store.close().await;
        if let Some(dir) = dir {
            std::fs::remove_dir_all(dir).ok();
        }
    }
}

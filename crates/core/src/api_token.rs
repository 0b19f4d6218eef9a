//! Personal API tokens (SEC-INT-3): the secret's shape, the scopes a token carries and the
//! limits of making one. A token is `atr_` and 256 random bits (base64url), shown once and stored
//! only as its SHA-256 hash ([`crate::token`]); the prefix lets secret scanners recognise a
//! leaked one. A token acts as its user — it can do no more than they can — and only within its
//! scopes: `read` or `write` for everything, or `<area>:read` / `<area>:write` for one area of
//! the API ([`TokenArea`]). `write` grants `read` of the same reach.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};

use crate::token::{self, NewToken};
use crate::validate;
use crate::{Error, Result};

/// What every API token starts with (and no session token does).
pub const PREFIX: &str = "atr_";
/// A token's name: 1–100 characters of one line.
pub const NAME_MAX: usize = 100;
/// Scopes one token may carry: 1–20.
pub const SCOPES_MAX: usize = 20;
/// Live (not revoked, not expired) tokens one user may have.
pub const LIVE_MAX: u64 = 50;
/// The longest a token may be valid when it has an expiry: 366 days from its creation.
pub const LIFETIME_MAX_DAYS: i64 = 366;
/// How many characters of the secret after [`PREFIX`] are kept to tell tokens apart in lists
/// (48 of the 256 bits: a hint, never enough to guess the rest).
pub const DISPLAY_PREFIX_LEN: usize = 8;

/// Reading or changing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    /// `GET` and `HEAD`.
    Read,
    /// Every other method.
    Write,
}

impl Access {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }

    /// What a request of `method` needs: `GET` and `HEAD` read, everything else writes.
    pub fn of_method(method: &str) -> Access {
        if method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD") {
            Access::Read
        } else {
            Access::Write
        }
    }
}

macro_rules! token_areas {
    ($($(#[$doc:meta])* $variant:ident = $s:literal),* $(,)?) => {
        /// An area of the API a scope may be limited to. Each API path belongs to exactly one
        /// (the web crate's `api::token_scope::area_of`; a test walks the OpenAPI document).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum TokenArea { $($(#[$doc])* $variant),* }

        impl TokenArea {
            /// Every area, in declaration order.
            pub const ALL: &'static [TokenArea] = &[$(TokenArea::$variant),*];

            /// The wire name (the part before `:` of a scope).
            pub fn as_str(self) -> &'static str {
                match self { $(TokenArea::$variant => $s),* }
            }
        }

        impl FromStr for TokenArea {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                match s { $($s => Ok(TokenArea::$variant),)* _ => Err(()) }
            }
        }
    };
}

token_areas!(
    /// Clients, their contacts and portal settings, the agency's portal defaults.
    Clients = "clients",
    /// Projects, milestones, project pages and teams.
    Projects = "projects",
    /// Tasks and their comments.
    Tasks = "tasks",
    /// Folders, files, versions, downloads.
    Files = "files",
    /// Project conversations.
    Messages = "messages",
    /// Approval requests and decisions.
    Approvals = "approvals",
    /// Invoices, payments, recurring invoices, the invoice settings.
    Billing = "billing",
    /// Tickets, request forms, saved replies, the help desk's settings.
    Helpdesk = "helpdesk",
    /// Automation rules and their runs.
    Automations = "automations",
    /// Project templates and what new clients start with.
    Templates = "templates",
    /// The caller's own account: profile, sessions, notifications and their settings.
    Account = "account",
    /// Running the agency: people, invitations, the activity log, failed mail, branding.
    Admin = "admin",
);

/// One scope of a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TokenScope {
    /// `read` or `write`: every area.
    All(Access),
    /// `<area>:read` or `<area>:write`.
    Area(TokenArea, Access),
}

/// What a request needs of a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// One area, read or written.
    Area(TokenArea, Access),
    /// Every area at once (the live event stream spans them all): `read` or `write`.
    Everything(Access),
}

impl Need {
    /// The smallest scope that grants this, for the refusal's message.
    pub fn scope(self) -> TokenScope {
        match self {
            Need::Area(area, access) => TokenScope::Area(area, access),
            Need::Everything(access) => TokenScope::All(access),
        }
    }
}

impl TokenScope {
    /// Whether this scope alone grants `need` (`write` includes `read` of the same reach).
    pub fn grants(self, need: Need) -> bool {
        let covers = |have: Access, want: Access| have == Access::Write || want == Access::Read;
        match (self, need) {
            (TokenScope::All(have), Need::Area(_, want) | Need::Everything(want)) => covers(have, want),
            (TokenScope::Area(area, have), Need::Area(wanted, want)) => area == wanted && covers(have, want),
            (TokenScope::Area(..), Need::Everything(_)) => false,
        }
    }
}

impl fmt::Display for TokenScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenScope::All(a) => f.write_str(a.as_str()),
            TokenScope::Area(area, a) => write!(f, "{}:{}", area.as_str(), a.as_str()),
        }
    }
}

impl FromStr for TokenScope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let access = |a: &str| match a {
            "read" => Some(Access::Read),
            "write" => Some(Access::Write),
            _ => None,
        };
        let parsed = match s.split_once(':') {
            None => access(s).map(TokenScope::All),
            Some((area, a)) => area.parse::<TokenArea>().ok().zip(access(a)).map(|(ar, ac)| TokenScope::Area(ar, ac)),
        };
        parsed.ok_or_else(|| {
            let areas: Vec<&str> = TokenArea::ALL.iter().map(|a| a.as_str()).collect();
            format!("is not a scope: use read, write or <area>:read|write with an area of {}", areas.join(", "))
        })
    }
}

/// The scopes of one token: 1–[`SCOPES_MAX`], each once, in a stable order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenScopes(Vec<TokenScope>);

impl TokenScopes {
    /// Parses the scopes a caller sent; a bad one is refused naming `scopes[i]`. Duplicates
    /// are kept once.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<TokenScopes> {
        if items.is_empty() {
            return Err(Error::invalid("scopes", "choose at least one scope"));
        }
        if items.len() > SCOPES_MAX {
            return Err(Error::invalid("scopes", format!("at most {SCOPES_MAX} scopes")));
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, s) in items.iter().enumerate() {
            let scope = s.as_ref().parse::<TokenScope>().map_err(|m| Error::invalid(format!("scopes[{i}]"), m))?;
            out.push(scope);
        }
        out.sort();
        out.dedup();
        Ok(TokenScopes(out))
    }

    /// Reads the stored form (space-separated names, as [`TokenScopes::stored`] writes them).
    pub fn from_stored(s: &str) -> Result<TokenScopes> {
        let items: Vec<&str> = s.split_whitespace().collect();
        TokenScopes::parse(&items).map_err(|e| Error::internal_msg(format!("stored API token scopes: {e}")))
    }

    /// The stored form: the names, space-separated.
    pub fn stored(&self) -> String {
        self.names().join(" ")
    }

    /// The scopes' wire names.
    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }

    /// Whether any scope grants `need`.
    pub fn allows(&self, need: Need) -> bool {
        self.0.iter().any(|s| s.grants(need))
    }

    /// `Ok` when the scopes grant `need`; else the refusal naming the scope it would take.
    pub fn check(&self, need: Need) -> Result<()> {
        if self.allows(need) { Ok(()) } else { Err(Error::MissingScope(need.scope().to_string())) }
    }
}

/// A freshly made API token: the secret to show once, the hash to store, the display prefix.
pub struct NewApiSecret {
    /// `atr_…`: give it to the user once; never store it.
    pub secret: String,
    /// What is stored and looked up.
    pub hash: String,
    /// The first [`DISPLAY_PREFIX_LEN`] characters after [`PREFIX`], for lists.
    pub display_prefix: String,
}

impl fmt::Debug for NewApiSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewApiSecret")
            .field("secret", &"<redacted>")
            .field("display_prefix", &self.display_prefix)
            .finish()
    }
}

/// Makes a new API token secret (256 bits from the OS CSPRNG).
pub fn generate() -> NewApiSecret {
    let NewToken { secret, .. } = token::generate();
    let display_prefix = secret.chars().take(DISPLAY_PREFIX_LEN).collect();
    let secret = format!("{PREFIX}{secret}");
    NewApiSecret { hash: token::hash(&secret), secret, display_prefix }
}

/// Whether a presented bearer value is meant as an API token: it carries the prefix and is
/// not shaped like a session token (43 characters, which could begin with `atr_` by chance).
pub fn is_api_token(presented: &str) -> bool {
    presented.starts_with(PREFIX) && !token::well_formed(presented)
}

/// Whether a presented API token has the shape of one (cheap rejection before any lookup).
pub fn well_formed(presented: &str) -> bool {
    presented.strip_prefix(PREFIX).is_some_and(token::well_formed)
}

/// Checks a token's name (`name`: 1–[`NAME_MAX`] characters, one line).
pub fn name(value: &str) -> Result<String> {
    validate::line("name", value.trim(), NAME_MAX)
}

/// Checks an expiry against `now`: in the future and at most [`LIFETIME_MAX_DAYS`] ahead
/// (`expires_at`).
pub fn check_expiry(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
    let Some(at) = expires_at else { return Ok(None) };
    if at <= now {
        return Err(Error::invalid("expires_at", "must be in the future"));
    }
    if at > now + Duration::days(LIFETIME_MAX_DAYS) {
        return Err(Error::invalid("expires_at", format!("must be at most {LIFETIME_MAX_DAYS} days from now")));
    }
    Ok(Some(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(s: &[&str]) -> TokenScopes {
        TokenScopes::parse(s).unwrap()
    }

    fn field(e: Error) -> String {
        match e {
            Error::Invalid { field, .. } => field.into_owned(),
            other => panic!("not an input error: {other:?}"),
        }
    }

    #[test]
    fn scopes_parse_and_print_alike() {
        for s in ["read", "write", "projects:read", "billing:write", "account:read", "admin:write"] {
            assert_eq!(s.parse::<TokenScope>().unwrap().to_string(), s);
        }
        for area in TokenArea::ALL {
            let s = format!("{}:write", area.as_str());
            assert_eq!(s.parse::<TokenScope>().unwrap(), TokenScope::Area(*area, Access::Write));
        }
        for bad in ["", "READ", "admin", "projects", "projects:", ":read", "projects:delete", "nope:read", "read:write"]
        {
            assert!(bad.parse::<TokenScope>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn unknown_scopes_are_refused_naming_their_index() {
        assert_eq!(field(TokenScopes::parse(&["read", "files:read", "files:delete"]).unwrap_err()), "scopes[2]");
        assert_eq!(field(TokenScopes::parse::<&str>(&[]).unwrap_err()), "scopes");
        let many: Vec<String> = (0..=SCOPES_MAX).map(|_| "read".to_string()).collect();
        assert_eq!(field(TokenScopes::parse(&many).unwrap_err()), "scopes");
        let most: Vec<String> = (0..SCOPES_MAX).map(|_| "read".to_string()).collect();
        assert_eq!(TokenScopes::parse(&most).unwrap().names(), vec!["read"], "duplicates are kept once");
    }

    #[test]
    fn write_grants_read_of_the_same_reach_only() {
        let s = scopes(&["projects:write"]);
        assert!(s.allows(Need::Area(TokenArea::Projects, Access::Read)));
        assert!(s.allows(Need::Area(TokenArea::Projects, Access::Write)));
        assert!(!s.allows(Need::Area(TokenArea::Tasks, Access::Read)));
        assert!(!s.allows(Need::Everything(Access::Read)));
        let r = scopes(&["read"]);
        assert!(r.allows(Need::Area(TokenArea::Billing, Access::Read)));
        assert!(r.allows(Need::Everything(Access::Read)));
        assert!(!r.allows(Need::Area(TokenArea::Billing, Access::Write)));
        let w = scopes(&["write"]);
        assert!(TokenArea::ALL.iter().all(|a| w.allows(Need::Area(*a, Access::Read))));
        assert!(w.allows(Need::Everything(Access::Write)));
        let ro = scopes(&["tasks:read"]);
        assert!(!ro.allows(Need::Area(TokenArea::Tasks, Access::Write)));
    }

    #[test]
    fn a_refusal_names_the_scope_it_would_take() {
        let e = scopes(&["read"]).check(Need::Area(TokenArea::Projects, Access::Write)).unwrap_err();
        assert_eq!(e.to_string(), "this API token lacks the scope projects:write");
        assert_eq!(e.code(), "forbidden");
        let e = scopes(&["tasks:read"]).check(Need::Everything(Access::Read)).unwrap_err();
        assert_eq!(e.to_string(), "this API token lacks the scope read");
    }

    #[test]
    fn the_stored_form_round_trips() {
        let s = scopes(&["tasks:write", "read", "tasks:write", "billing:read"]);
        assert_eq!(s.stored(), "read tasks:write billing:read", "all first, then areas in their order");
        assert_eq!(TokenScopes::from_stored(&s.stored()).unwrap(), s);
        assert!(TokenScopes::from_stored("").is_err());
    }

    #[test]
    fn methods_read_or_write() {
        assert_eq!(Access::of_method("GET"), Access::Read);
        assert_eq!(Access::of_method("HEAD"), Access::Read);
        for m in ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
            assert_eq!(Access::of_method(m), Access::Write, "{m}");
        }
    }

    #[test]
    fn secrets_are_prefixed_long_hashed_and_redacted() {
        // SEC-INT-3: shown once, stored hashed; `atr_` for secret scanners.
        let a = generate();
        let b = generate();
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with("atr_") && a.secret.len() == 4 + 43);
        assert!(is_api_token(&a.secret) && well_formed(&a.secret));
        assert_eq!(a.hash, token::hash(&a.secret));
        assert_eq!(a.display_prefix, a.secret[4..4 + DISPLAY_PREFIX_LEN]);
        assert!(!format!("{a:?}").contains(&a.secret));
        assert!(!well_formed("atr_short") && !well_formed(&a.secret[4..]));
        assert!(is_api_token("atr_short"), "a malformed token is still refused as a token");
        let session_shaped = format!("atr_{}", &token::generate().secret[4..]);
        assert!(!is_api_token(&session_shaped), "a session secret that begins with atr_ stays a session");
    }

    #[test]
    fn names_are_one_line_of_at_most_100_characters() {
        assert_eq!(name("  CI deploys ").unwrap(), "CI deploys");
        assert_eq!(field(name("").unwrap_err()), "name");
        assert_eq!(field(name("   ").unwrap_err()), "name");
        assert_eq!(field(name(&"x".repeat(NAME_MAX + 1)).unwrap_err()), "name");
        assert!(name(&"x".repeat(NAME_MAX)).is_ok());
        assert_eq!(field(name("two\nlines").unwrap_err()), "name");
    }

    #[test]
    fn expiry_is_in_the_future_and_within_a_year() {
        let now = Utc::now();
        assert_eq!(check_expiry(None, now).unwrap(), None);
        assert!(check_expiry(Some(now + Duration::hours(1)), now).is_ok());
        assert!(check_expiry(Some(now + Duration::days(LIFETIME_MAX_DAYS)), now).is_ok());
        assert_eq!(field(check_expiry(Some(now), now).unwrap_err()), "expires_at");
        assert_eq!(field(check_expiry(Some(now - Duration::days(1)), now).unwrap_err()), "expires_at");
        let late = now + Duration::days(LIFETIME_MAX_DAYS) + Duration::seconds(1);
        assert_eq!(field(check_expiry(Some(late), now).unwrap_err()), "expires_at");
    }
}

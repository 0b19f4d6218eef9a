//! Home quick actions: the buttons under the portal Home greeting. The agency chooses which are
//! on and its scheduling link; a client may override both. Which of them a user actually gets is
//! the policy's answer ([`crate::policy::Actor::sees_quick_action`]).

use url::Url;

use crate::{Error, Result};

/// The longest scheduling link, in characters.
pub const SCHEDULING_URL_MAX: usize = 2_048;

/// One quick action of the portal Home.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuickAction {
    /// "View projects" (the Projects page).
    Projects,
    /// "Pay invoices" (the Billing page).
    Billing,
    /// "Ask for help" (the Help desk page).
    HelpDesk,
    /// "Book a meeting" (the agency's or the client's scheduling link).
    Meeting,
}

impl QuickAction {
    /// Every quick action, in the order Home shows them.
    pub const ALL: [QuickAction; 4] =
        [QuickAction::Projects, QuickAction::Billing, QuickAction::HelpDesk, QuickAction::Meeting];

    /// The action's name in the API and the database.
    pub fn slug(self) -> &'static str {
        match self {
            QuickAction::Projects => "projects",
            QuickAction::Billing => "billing",
            QuickAction::HelpDesk => "helpdesk",
            QuickAction::Meeting => "meeting",
        }
    }

    /// The button's text.
    pub fn label(self) -> &'static str {
        match self {
            QuickAction::Projects => "View projects",
            QuickAction::Billing => "Pay invoices",
            QuickAction::HelpDesk => "Ask for help",
            QuickAction::Meeting => "Book a meeting",
        }
    }

    /// Where the button leads: its portal page, or for Book a meeting the scheduling link
    /// (`None` without one).
    pub fn href(self, scheduling_url: Option<&str>) -> Option<String> {
        match self {
            QuickAction::Projects => Some("/portal/projects".into()),
            QuickAction::Billing => Some("/portal/billing".into()),
            QuickAction::HelpDesk => Some("/portal/helpdesk".into()),
            QuickAction::Meeting => scheduling_url.map(str::to_string),
        }
    }

    /// The action named `slug`, if any.
    pub fn from_slug(slug: &str) -> Option<QuickAction> {
        QuickAction::ALL.into_iter().find(|a| a.slug() == slug)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of quick actions that are on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct QuickActions {
    on: u8,
}

impl Default for QuickActions {
    /// The agency's choice until it sets one: View projects and Pay invoices.
    fn default() -> Self {
        QuickActions::NONE.with(QuickAction::Projects, true).with(QuickAction::Billing, true)
    }
}

impl QuickActions {
    /// No action on.
    pub const NONE: QuickActions = QuickActions { on: 0 };

    /// Whether `action` is on.
    pub fn has(self, action: QuickAction) -> bool {
        self.on & action.bit() != 0
    }

    /// This set with `action` switched on or off.
    pub fn with(self, action: QuickAction, on: bool) -> QuickActions {
        QuickActions { on: if on { self.on | action.bit() } else { self.on & !action.bit() } }
    }

    /// The actions that are on, in Home order.
    pub fn list(self) -> Vec<QuickAction> {
        QuickAction::ALL.into_iter().filter(|a| self.has(*a)).collect()
    }

    /// The stored form: the slugs of the actions that are on, comma-separated.
    pub fn to_stored(self) -> String {
        self.list().iter().map(|a| a.slug()).collect::<Vec<_>>().join(",")
    }

    /// Parses [`QuickActions::to_stored`]'s form; an unknown name is an error (a corrupt row).
    pub fn from_stored(s: &str) -> Result<QuickActions> {
        s.split(',').map(str::trim).filter(|s| !s.is_empty()).try_fold(QuickActions::NONE, |set, slug| {
            QuickAction::from_slug(slug)
                .map(|a| set.with(a, true))
                .ok_or_else(|| Error::internal_msg(format!("unknown quick action {slug:?} stored")))
        })
    }

    /// Refuses "Book a meeting" without a scheduling link (422 naming `scheduling_url`).
    pub fn check(self, scheduling_url: Option<&str>) -> Result<()> {
        if self.has(QuickAction::Meeting) && scheduling_url.is_none() {
            return Err(Error::invalid("scheduling_url", "\"Book a meeting\" needs a scheduling link"));
        }
        Ok(())
    }
}

/// A scheduling link, validated: `https` only, at most [`SCHEDULING_URL_MAX`] characters, with a
/// host and no user name or password (422 naming `field`). Returns the normalised link.
pub fn scheduling_url(field: &'static str, raw: &str) -> Result<String> {
    let raw = raw.trim();
    if raw.chars().count() > SCHEDULING_URL_MAX {
        return Err(Error::invalid(field, format!("at most {SCHEDULING_URL_MAX} characters")));
    }
    let url = Url::parse(raw).map_err(|_| Error::invalid(field, "not a valid link"))?;
    if url.scheme() != "https" {
        return Err(Error::invalid(field, "must be an https:// link"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid(field, "must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(field, "must not carry a user name or password"));
    }
    let out = url.to_string();
    if out.chars().count() > SCHEDULING_URL_MAX {
        return Err(Error::invalid(field, format!("at most {SCHEDULING_URL_MAX} characters")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: Error) -> String {
        match e {
            Error::Invalid { field, .. } => field.into_owned(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn the_set_round_trips_and_defaults_to_projects_and_billing() {
        let d = QuickActions::default();
        assert_eq!(d.list(), vec![QuickAction::Projects, QuickAction::Billing]);
        let s = d.with(QuickAction::Meeting, true).with(QuickAction::Projects, false);
        assert_eq!(s.to_stored(), "billing,meeting");
        assert_eq!(QuickActions::from_stored("billing,meeting").unwrap(), s);
        assert_eq!(QuickActions::from_stored("").unwrap(), QuickActions::NONE);
        assert!(QuickActions::from_stored("nonsense").is_err());
        for a in QuickAction::ALL {
            assert_eq!(QuickAction::from_slug(a.slug()), Some(a));
        }
    }

    #[test]
    fn a_meeting_needs_a_link() {
        let s = QuickActions::NONE.with(QuickAction::Meeting, true);
        assert_eq!(field_of(s.check(None).unwrap_err()), "scheduling_url");
        assert!(s.check(Some("https://cal.example/x")).is_ok());
        assert!(QuickActions::default().check(None).is_ok());
    }

    #[test]
    fn scheduling_links_are_https_without_credentials() {
        assert_eq!(scheduling_url("f", " https://cal.com/acme ").unwrap(), "https://cal.com/acme");
        for bad in [
            "http://cal.com/acme",
            "javascript:alert(1)",
            "https://user:pw@cal.com/",
            "https://user@cal.com/",
            "cal.com/acme",
            "",
            "data:text/html,x",
        ] {
            assert_eq!(field_of(scheduling_url("f", bad).unwrap_err()), "f", "{bad}");
        }
        let long = format!("https://cal.com/{}", "a".repeat(SCHEDULING_URL_MAX));
        assert_eq!(field_of(scheduling_url("f", &long).unwrap_err()), "f");
        let edge = format!("https://cal.com/{}", "a".repeat(SCHEDULING_URL_MAX - "https://cal.com/".len()));
        assert!(scheduling_url("f", &edge).is_ok());
    }
}

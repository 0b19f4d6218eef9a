//! The pages of the client portal and which of them a client's portal shows. Home, Projects and
//! My tasks are always there; Files, Messages, Approvals, Billing and Help desk can be hidden per
//! client (with an agency-wide default for new clients). The policy
//! ([`crate::policy::Actor::sees_portal_page`]) combines this with the role rules.

use crate::{Error, Result};

/// The longest welcome text a client's portal may have, in characters.
pub const WELCOME_TEXT_MAX: usize = 2_000;

/// The pages (and so the areas) of the client portal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PortalPage {
    Home,
    Projects,
    MyTasks,
    Files,
    Messages,
    Approvals,
    Billing,
    HelpDesk,
}

impl PortalPage {
    /// Every portal page, in navigation order.
    pub const ALL: [PortalPage; 8] = [
        PortalPage::Home,
        PortalPage::Projects,
        PortalPage::MyTasks,
        PortalPage::Files,
        PortalPage::Messages,
        PortalPage::Approvals,
        PortalPage::Billing,
        PortalPage::HelpDesk,
    ];

    /// The pages a client's portal may hide, in navigation order.
    pub const HIDEABLE: [PortalPage; 5] =
        [PortalPage::Files, PortalPage::Messages, PortalPage::Approvals, PortalPage::Billing, PortalPage::HelpDesk];

    /// The page's name in the API (`pages` keys) and in the database.
    pub fn slug(self) -> &'static str {
        match self {
            PortalPage::Home => "home",
            PortalPage::Projects => "projects",
            PortalPage::MyTasks => "my_tasks",
            PortalPage::Files => "files",
            PortalPage::Messages => "messages",
            PortalPage::Approvals => "approvals",
            PortalPage::Billing => "billing",
            PortalPage::HelpDesk => "helpdesk",
        }
    }

    /// The page named `slug`, if any.
    pub fn from_slug(slug: &str) -> Option<PortalPage> {
        PortalPage::ALL.into_iter().find(|p| p.slug() == slug)
    }

    /// Whether a client's portal may hide this page (Home, Projects and My tasks: never).
    pub fn hideable(self) -> bool {
        PortalPage::HIDEABLE.contains(&self)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// Which pages one client's portal shows (a set of hidden hideable pages). The default shows
/// everything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PortalPages {
    hidden: u8,
}

impl PortalPages {
    /// Every page shown.
    pub const ALL_SHOWN: PortalPages = PortalPages { hidden: 0 };

    /// Whether the portal shows `page` (pages that cannot be hidden always).
    pub fn shows(self, page: PortalPage) -> bool {
        self.hidden & page.bit() == 0
    }

    /// This set with `page` shown or hidden; hiding a page that cannot be hidden is refused
    /// (422 naming `pages.<page>`).
    pub fn with(self, page: PortalPage, shown: bool) -> Result<PortalPages> {
        if shown {
            return Ok(PortalPages { hidden: self.hidden & !page.bit() });
        }
        if !page.hideable() {
            return Err(Error::invalid(format!("pages.{}", page.slug()), "this page cannot be hidden"));
        }
        Ok(PortalPages { hidden: self.hidden | page.bit() })
    }

    /// The hidden pages, in navigation order.
    pub fn hidden(self) -> Vec<PortalPage> {
        PortalPage::HIDEABLE.into_iter().filter(|p| !self.shows(*p)).collect()
    }

    /// The stored form: the hidden pages' slugs, comma-separated (`""` = everything shown).
    pub fn to_stored(self) -> String {
        self.hidden().iter().map(|p| p.slug()).collect::<Vec<_>>().join(",")
    }

    /// Parses [`PortalPages::to_stored`]'s form; an unknown or unhideable name is an error (a
    /// corrupt row, never user input).
    pub fn from_stored(s: &str) -> Result<PortalPages> {
        let mut pages = PortalPages::ALL_SHOWN;
        for slug in s.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let page = PortalPage::from_slug(slug)
                .ok_or_else(|| Error::internal_msg(format!("unknown portal page {slug:?} stored")))?;
            pages = pages.with(page, false).map_err(|_| Error::internal_msg(format!("{slug} stored as hidden")))?;
        }
        Ok(pages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hideable_pages_hide_and_the_stored_form_round_trips() {
        let p =
            PortalPages::ALL_SHOWN.with(PortalPage::Files, false).unwrap().with(PortalPage::Billing, false).unwrap();
        assert!(!p.shows(PortalPage::Files) && !p.shows(PortalPage::Billing) && p.shows(PortalPage::Messages));
        assert_eq!(p.to_stored(), "files,billing");
        assert_eq!(PortalPages::from_stored("files,billing").unwrap(), p);
        assert_eq!(PortalPages::from_stored("").unwrap(), PortalPages::ALL_SHOWN);
        assert!(p.with(PortalPage::Files, true).unwrap().shows(PortalPage::Files));
        for page in [PortalPage::Home, PortalPage::Projects, PortalPage::MyTasks] {
            let e = PortalPages::ALL_SHOWN.with(page, false).unwrap_err();
            assert!(matches!(e, Error::Invalid { ref field, .. } if field == &format!("pages.{}", page.slug())));
            assert!(PortalPages::from_stored(page.slug()).is_err());
        }
        assert!(PortalPages::from_stored("nonsense").is_err());
        for page in PortalPage::ALL {
            assert_eq!(PortalPage::from_slug(page.slug()), Some(page));
        }
    }
}

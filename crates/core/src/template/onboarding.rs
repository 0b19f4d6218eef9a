//! What every new client starts with, beyond the portal pages of the agency's defaults: its
//! invitation mail text, its own welcome text and projects made from templates (each starting
//! the day the client is added).

use std::collections::HashSet;

use crate::ids::ProjectTemplateId;
use crate::validate::{self, INVITATION_TEXT_MAX};
use crate::{Error, Result};

/// The most templates a new client's projects are made from.
pub const ONBOARDING_TEMPLATES_MAX: usize = 10;

/// The onboarding of new clients (`GET|PUT /onboarding`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Onboarding {
    /// Copied into each new client's invitation text; `null`: none.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub invitation_text: Option<String>,
    /// Copied into each new client's own welcome text; `null`: the agency's (branding).
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub welcome_text: Option<String>,
    /// A project is made from each (at most 10, each once), named after it, starting the day
    /// the client is added, led by whoever adds the client.
    #[serde(default)]
    #[schema(value_type = Vec<String>, max_items = 10)]
    pub project_templates: Vec<ProjectTemplateId>,
}

fn text(field: &'static str, v: Option<String>, max: usize) -> Result<Option<String>> {
    match v {
        None => Ok(None),
        Some(t) => Ok(Some(validate::optional_text(field, &t, max)?).filter(|t| !t.is_empty())),
    }
}

impl Onboarding {
    /// Checks lengths and the template list (whether each template exists is the store's
    /// check): 422 naming `invitation_text`, `welcome_text` or `project_templates`.
    pub fn check(self) -> Result<Onboarding> {
        if self.project_templates.len() > ONBOARDING_TEMPLATES_MAX {
            return Err(Error::invalid(
                "project_templates",
                format!("at most {ONBOARDING_TEMPLATES_MAX} templates make a new client's projects"),
            ));
        }
        let mut seen = HashSet::new();
        if let Some(i) = self.project_templates.iter().position(|t| !seen.insert(*t)) {
            return Err(Error::invalid(format!("project_templates[{i}]"), "is listed twice"));
        }
        Ok(Onboarding {
            invitation_text: text("invitation_text", self.invitation_text, INVITATION_TEXT_MAX)?,
            welcome_text: text("welcome_text", self.welcome_text, crate::portal::WELCOME_TEXT_MAX)?,
            project_templates: self.project_templates,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_bounded_and_empty_means_none_and_templates_are_listed_once() {
        let t = ProjectTemplateId::new();
        let ok = Onboarding {
            invitation_text: Some("  ".into()),
            welcome_text: Some(" Hi ".into()),
            project_templates: vec![t],
        };
        let ok = ok.check().expect("valid");
        assert_eq!((ok.invitation_text, ok.welcome_text.as_deref()), (None, Some("Hi")));
        let twice = Onboarding { project_templates: vec![t, t], ..Default::default() };
        assert!(matches!(twice.check(), Err(Error::Invalid { field, .. }) if field == "project_templates[1]"));
        let many =
            Onboarding { project_templates: (0..11).map(|_| ProjectTemplateId::new()).collect(), ..Default::default() };
        assert!(matches!(many.check(), Err(Error::Invalid { field, .. }) if field == "project_templates"));
        let long = Onboarding { welcome_text: Some("x".repeat(2001)), ..Default::default() };
        assert!(matches!(long.check(), Err(Error::Invalid { field, .. }) if field == "welcome_text"));
    }
}

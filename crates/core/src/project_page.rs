//! A project's own pages (markdown, an embed, a link card), shown as tabs of the project, and
//! the team of staff working on it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::ids::{ProjectId, ProjectPageId, UserId};

/// The most custom pages one project may have.
pub const PAGES_PER_PROJECT: usize = 20;

/// The most staff members on one project's team.
pub const TEAM_MAX: usize = 50;

/// What a project page shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PageKind {
    /// Markdown text, rendered with the comments' sanitiser.
    Markdown,
    /// A service of the embed allow-list in a sandboxed iframe.
    Embed,
    /// A card linking to a web address.
    Link,
}

impl PageKind {
    /// Every kind, in form order.
    pub const ALL: &'static [PageKind] = &[PageKind::Markdown, PageKind::Embed, PageKind::Link];

    /// The stored / wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PageKind::Markdown => "markdown",
            PageKind::Embed => "embed",
            PageKind::Link => "link",
        }
    }

    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            PageKind::Markdown => "Text (markdown)",
            PageKind::Embed => "Embed (Figma, Loom, YouTube, Vimeo, Google Docs, Miro)",
            PageKind::Link => "Link card",
        }
    }
}

impl fmt::Display for PageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PageKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        PageKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| "must be one of: markdown, embed, link".to_string())
    }
}

/// A custom page of a project.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ProjectPage {
    #[schema(value_type = String)]
    pub id: ProjectPageId,
    #[schema(value_type = String)]
    pub project_id: ProjectId,
    pub title: String,
    pub kind: PageKind,
    /// Markdown (`markdown` pages; empty otherwise).
    pub body: String,
    /// Sanitized HTML rendering of `body`.
    pub body_html: String,
    /// The address given (`embed` and `link` pages), normalised.
    pub url: Option<String>,
    /// The service's embeddable address (`embed` pages).
    pub embed_url: Option<String>,
    /// Hidden from the client (404 for client users).
    pub staff_only: bool,
    /// Tab order, from 0.
    pub position: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A staff member on a project's team, as the client sees them.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TeamMember {
    #[schema(value_type = String)]
    pub id: UserId,
    pub name: String,
    /// Job title (empty when none is set).
    pub title: String,
}

//! The three templates a new Atrium starts with (added once, by the migration that made the
//! library; an agency edits or deletes them like its own).

use super::TemplateContent;
use crate::{Error, Result};

/// A starter template: name, description and content.
#[derive(Clone, Debug)]
pub struct Starter {
    pub name: &'static str,
    pub description: &'static str,
    pub content: TemplateContent,
}

const WEBSITE: &str = r###"{
  "milestones": [
    {"key": "discovery", "name": "Discovery complete", "offset_days": 10},
    {"key": "design", "name": "Design approved", "offset_days": 28},
    {"key": "build", "name": "Build complete", "offset_days": 56},
    {"key": "launch", "name": "Launch", "offset_days": 70}
  ],
  "tasks": [
    {"title": "Kick-off call", "description": "Goals, audience, must-haves and who signs off.", "priority": "high", "offset_days": 2, "milestone": "discovery", "assignee": "project_lead"},
    {"title": "Send logins for the current site and analytics", "description": "Hosting, CMS and analytics access, so we can audit what you have.", "offset_days": 5, "milestone": "discovery", "assignee": "client_admin"},
    {"title": "Content inventory and sitemap", "offset_days": 10, "milestone": "discovery", "assignee": "project_lead"},
    {"title": "Wireframes of the key pages", "offset_days": 17, "milestone": "design", "assignee": "project_lead"},
    {"title": "Visual design of the home page", "priority": "high", "offset_days": 24, "milestone": "design", "assignee": "project_lead"},
    {"title": "Review and approve the designs", "description": "Comment on anything you want changed; approve when you are happy.", "priority": "high", "offset_days": 28, "milestone": "design", "assignee": "client_admin"},
    {"title": "Provide final page copy and images", "offset_days": 35, "milestone": "build", "assignee": "client_admin"},
    {"title": "Build templates and components", "offset_days": 49, "milestone": "build", "assignee": "project_lead"},
    {"title": "Migrate content", "offset_days": 54, "milestone": "build"},
    {"title": "Test on phones, tablets and browsers", "offset_days": 63, "milestone": "launch", "assignee": "project_lead"},
    {"title": "Set up redirects from the old addresses", "offset_days": 66, "milestone": "launch"},
    {"title": "Go live", "priority": "urgent", "offset_days": 70, "milestone": "launch", "assignee": "project_lead"}
  ],
  "folders": [
    {"name": "Brief and research"},
    {"name": "Designs"},
    {"name": "Content from you"},
    {"name": "Internal working files", "staff_only": true}
  ],
  "pages": [
    {"title": "How we work", "kind": "markdown", "body": "## How this project runs\n\n1. **Discovery** — we learn what the site must do.\n2. **Design** — wireframes, then the look. You approve before we build.\n3. **Build** — we build it; you send the final copy.\n4. **Launch** — we test everything and go live.\n\nAsk anything in **Messages**; we answer within one working day."}
  ],
  "request_form": {"fields": [
    {"key": "page", "label": "Which page?", "type": "text", "required": false, "help": "The address or the page's name."},
    {"key": "kind", "label": "What is it?", "type": "select", "required": true, "options": ["Something is broken", "A content change", "A new idea"]}
  ]}
}"###;

const BRAND: &str = r###"{
  "milestones": [
    {"key": "research", "name": "Research and strategy", "offset_days": 14},
    {"key": "concepts", "name": "Concepts presented", "offset_days": 28},
    {"key": "refine", "name": "Direction refined", "offset_days": 42},
    {"key": "handover", "name": "Brand guidelines delivered", "offset_days": 56}
  ],
  "tasks": [
    {"title": "Brand questionnaire", "description": "Tell us who you are, who you serve and who you are not.", "priority": "high", "offset_days": 5, "milestone": "research", "assignee": "client_admin"},
    {"title": "Competitor and market review", "offset_days": 10, "milestone": "research", "assignee": "project_lead"},
    {"title": "Positioning workshop", "offset_days": 14, "milestone": "research", "assignee": "project_lead"},
    {"title": "Three logo concepts", "priority": "high", "offset_days": 26, "milestone": "concepts", "assignee": "project_lead"},
    {"title": "Choose a concept", "description": "Pick the direction we refine; tell us what you like in the others.", "priority": "high", "offset_days": 31, "milestone": "concepts", "assignee": "client_admin"},
    {"title": "Colour palette and typography", "offset_days": 38, "milestone": "refine", "assignee": "project_lead"},
    {"title": "Stationery and social templates", "offset_days": 45, "milestone": "refine"},
    {"title": "Brand guidelines document", "offset_days": 54, "milestone": "handover", "assignee": "project_lead"},
    {"title": "Approve the final files", "priority": "high", "offset_days": 56, "milestone": "handover", "assignee": "client_admin"}
  ],
  "folders": [
    {"name": "Questionnaire and research"},
    {"name": "Concepts"},
    {"name": "Final brand files"},
    {"name": "Sketches", "staff_only": true}
  ],
  "pages": [
    {"title": "About this project", "kind": "markdown", "body": "We build your brand in four steps: research, concepts, refinement and handover. Each step ends with something for you to review in **Approvals**."}
  ]
}"###;

const RETAINER: &str = r###"{
  "milestones": [
    {"key": "month", "name": "Month wrapped up", "offset_days": 30}
  ],
  "tasks": [
    {"title": "Agree this month's priorities", "priority": "high", "offset_days": 2, "milestone": "month", "assignee": "project_lead"},
    {"title": "Send this month's requests", "description": "Anything you want done this month: add it to the help desk or reply here.", "offset_days": 3, "milestone": "month", "assignee": "client_admin"},
    {"title": "Mid-month check-in", "offset_days": 15, "milestone": "month", "assignee": "project_lead"},
    {"title": "Monthly report", "offset_days": 28, "milestone": "month", "assignee": "project_lead"},
    {"title": "Hours used and next month's plan", "offset_days": 30, "milestone": "month"}
  ],
  "folders": [
    {"name": "Reports"},
    {"name": "Deliverables"},
    {"name": "Time sheets", "staff_only": true}
  ],
  "pages": [
    {"title": "Your retainer", "kind": "markdown", "body": "Your retainer covers a set number of hours each month. Send requests through the **Help desk**; we plan them at the start of the month and report at the end."}
  ],
  "request_form": {"fields": [
    {"key": "kind", "label": "What do you need?", "type": "select", "required": true, "options": ["A change to something live", "Something new", "A question"]},
    {"key": "deadline", "label": "Needed by", "type": "date", "required": false}
  ]}
}"###;

/// The starter templates: website redesign, brand identity, monthly retainer.
pub fn starters() -> Result<Vec<Starter>> {
    let parse = |json: &str| -> Result<TemplateContent> {
        serde_json::from_str::<TemplateContent>(json).map_err(|e| Error::internal("starter template", e))?.check()
    };
    Ok(vec![
        Starter {
            name: "Website redesign",
            description: "Ten weeks from kick-off to launch: discovery, design, build and launch, with the client's approvals on the way.",
            content: parse(WEBSITE)?,
        },
        Starter {
            name: "Brand identity",
            description: "Eight weeks: research, three concepts, refinement and the brand guidelines.",
            content: parse(BRAND)?,
        },
        Starter {
            name: "Monthly retainer",
            description: "One month of ongoing work: priorities, requests through the help desk, a check-in and a report.",
            content: parse(RETAINER)?,
        },
    ])
}

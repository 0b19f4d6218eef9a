//! The editor of a project's request form (staff): one group of inputs per field (key, label,
//! type, required, options one per line, help text, position, remove) and a blank group to add
//! one — usable without JS; reordering is by the position numbers. A refusal shows the form
//! again as sent, with the message naming the field's group.

use askama::Template;
use atrium_core::Error;
use atrium_core::ids::ProjectId;
use atrium_core::request_form::{FIELDS_MAX, FieldType, FormField, RequestForm};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::audience::StaffAuth;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::{ClientIp, FormBody, Id, Q};
use crate::pages::account::Notice;
use crate::pages::view::{Opt, opts};
use crate::pages::{Chrome, render, see_other};
use crate::state::AppState;

/// One field's group of inputs (`fields[<index>].<part>`).
struct Row {
    index: usize,
    key: String,
    label: String,
    types: Vec<Opt>,
    required: bool,
    options: String,
    help: String,
    position: String,
    /// The blank group for a new field.
    new: bool,
}

impl Row {
    fn of(index: usize, f: &FormField) -> Row {
        Row {
            index,
            key: f.key.clone(),
            label: f.label.clone(),
            types: opts(FieldType::ALL, Some(f.kind), FieldType::as_str, FieldType::label),
            required: f.required,
            options: f.options().join("\n"),
            help: f.help.clone().unwrap_or_default(),
            position: (index + 1).to_string(),
            new: false,
        }
    }

    fn blank(index: usize) -> Row {
        Row {
            index,
            key: String::new(),
            label: String::new(),
            types: opts(FieldType::ALL, Some(FieldType::Text), FieldType::as_str, FieldType::label),
            required: false,
            options: String::new(),
            help: String::new(),
            position: (index + 1).to_string(),
            new: true,
        }
    }
}

#[derive(Template)]
#[template(path = "staff_request_form.html")]
struct RequestFormPage {
    chrome: Chrome,
    error: Option<String>,
    project_id: String,
    project_name: String,
    rows: Vec<Row>,
    fields_max: usize,
}

/// One group as sent.
#[derive(Default)]
struct Sent {
    key: String,
    label: String,
    kind: String,
    required: bool,
    options: String,
    help: String,
    position: String,
    remove: bool,
}

impl Sent {
    fn is_blank(&self) -> bool {
        [&self.key, &self.label, &self.options, &self.help].iter().all(|s| s.trim().is_empty())
    }
}

/// The groups of the form, by index (`fields[3].label` → group 3); other names are ignored,
/// and so is any index past what the editor can show.
fn groups(pairs: &[(String, String)]) -> Vec<Sent> {
    let mut out: Vec<Sent> = Vec::new();
    for (name, value) in pairs {
        let Some((i, part)) = name
            .strip_prefix("fields[")
            .and_then(|r| r.split_once("]."))
            .and_then(|(i, part)| Some((i.parse::<usize>().ok()?, part)))
        else {
            continue;
        };
        if i > FIELDS_MAX + 1 {
            continue;
        }
        if out.len() <= i {
            out.resize_with(i + 1, Sent::default);
        }
        let g = &mut out[i];
        match part {
            "key" => g.key = value.trim().to_string(),
            "label" => g.label = value.clone(),
            "type" => g.kind = value.clone(),
            "required" => g.required = true,
            "options" => g.options = value.clone(),
            "help" => g.help = value.clone(),
            "position" => g.position = value.clone(),
            "remove" => g.remove = true,
            _ => {}
        }
    }
    out
}

/// The form the groups define, and for each of its fields the group it came from; 422
/// `fields[<group>].type` for an unknown type.
fn definition(groups: &[Sent]) -> Result<(RequestForm, Vec<usize>), Error> {
    let mut kept: Vec<(i64, usize, FormField)> = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        if g.remove || g.is_blank() {
            continue;
        }
        let kind: FieldType =
            g.kind.parse().map_err(|_| Error::invalid(format!("fields[{i}].type"), "is not a field type"))?;
        let lines: Vec<String> = g.options.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect();
        let options = (kind.has_options() || !lines.is_empty()).then_some(lines);
        let help = Some(g.help.clone()).filter(|h| !h.trim().is_empty());
        let position = g.position.trim().parse::<i64>().unwrap_or(i as i64 + 1);
        let field = FormField { key: g.key.clone(), label: g.label.clone(), kind, required: g.required, options, help };
        kept.push((position, i, field));
    }
    kept.sort_by_key(|(p, i, _)| (*p, *i));
    let origin = kept.iter().map(|(_, i, _)| *i).collect();
    Ok((RequestForm { fields: kept.into_iter().map(|(_, _, f)| f).collect() }, origin))
}

/// `e` with `fields[<n>]` (an index of the checked form) named as the editor's group it came
/// from, so the message points at the inputs shown.
fn in_groups(e: Error, origin: &[usize]) -> Error {
    match e {
        Error::Invalid { field, message } => {
            let renamed = field
                .strip_prefix("fields[")
                .and_then(|r| r.split_once(']'))
                .and_then(|(n, rest)| Some((origin.get(n.parse::<usize>().ok()?)?, rest)))
                .map(|(g, rest)| format!("fields[{g}]{rest}"));
            Error::invalid(renamed.unwrap_or_else(|| field.into_owned()), message)
        }
        other => other,
    }
}

/// A readable form of an input error: `Field 3, options: …`.
fn message(e: &Error) -> String {
    match e {
        Error::Invalid { field, message } => {
            let group = field
                .strip_prefix("fields[")
                .and_then(|r| r.split_once("]."))
                .and_then(|(n, part)| Some((n.parse::<usize>().ok()? + 1, part)));
            match group {
                Some((n, part)) => format!("Field {n}, {part}: {message}"),
                None => e.to_string(),
            }
        }
        other => other.to_string(),
    }
}

async fn show(
    st: &AppState,
    auth: &StaffAuth,
    csrf: &CsrfToken,
    pid: ProjectId,
    sent: Option<Vec<Sent>>,
    error: Option<Error>,
    notice: Option<&str>,
) -> AppResult<Response> {
    let scope = auth.actor.work_scope();
    let project = st.store.project(&scope, pid).await?;
    let form = st.store.request_form(&scope, pid).await?;
    let mut rows: Vec<Row> = match sent {
        None => form.fields.iter().enumerate().map(|(i, f)| Row::of(i, f)).collect(),
        Some(groups) => groups
            .into_iter()
            .enumerate()
            .filter(|(_, g)| !g.is_blank())
            .map(|(i, g)| {
                let kind = g.kind.parse().unwrap_or(FieldType::Text);
                Row {
                    index: i,
                    types: opts(FieldType::ALL, Some(kind), FieldType::as_str, FieldType::label),
                    key: g.key,
                    label: g.label,
                    required: g.required,
                    options: g.options,
                    help: g.help,
                    position: g.position,
                    new: false,
                }
            })
            .collect(),
    };
    if rows.len() < FIELDS_MAX {
        rows.push(Row::blank(rows.iter().map(|r| r.index + 1).max().unwrap_or(0)));
    }
    let mut chrome = Chrome::signed_in(st, auth, csrf, format!("Request form · {}", project.name), "/staff/clients");
    chrome.flash = (notice == Some("saved")).then(|| "Request form saved.".into());
    let status = error.as_ref().map_or(StatusCode::OK, crate::error::status);
    let page = RequestFormPage {
        chrome,
        error: error.as_ref().map(message),
        project_id: pid.to_string(),
        project_name: project.name,
        rows,
        fields_max: FIELDS_MAX,
    };
    Ok((status, render(&page)?).into_response())
}

/// The editor.
pub async fn page(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    Id(pid): Id<ProjectId>,
    Q(n): Q<Notice>,
) -> AppResult<Response> {
    show(&st, &auth, &csrf, pid, None, None, n.notice.as_deref()).await
}

/// Saves the form as the groups define it.
pub async fn save(
    State(st): State<AppState>,
    auth: StaffAuth,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    Id(pid): Id<ProjectId>,
    FormBody(pairs): FormBody<Vec<(String, String)>>,
) -> AppResult<Response> {
    let sent = groups(&pairs);
    let result = match definition(&sent) {
        Ok((form, origin)) => st
            .store
            .set_request_form(&auth.actor, pid, form, Some(&ip))
            .await
            .map(|_| ())
            .map_err(|e| in_groups(e, &origin)),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/staff/projects/{pid}/request-form?notice=saved"))),
        Err(e) => show(&st, &auth, &csrf, pid, Some(sent), Some(super::input_error(e)?), None).await,
    }
}

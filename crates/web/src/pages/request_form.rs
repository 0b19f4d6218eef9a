//! A project's request form on pages: the inputs the portal's ticket form shows
//! ([`form_inputs`], rendered by `request_form_fields.html`), and the answers a ticket shows
//! ([`answer_rows`], rendered by `request_form_answers.html`). The rules are
//! `atrium_core::request_form`'s; this only turns them into template data.

use atrium_core::request_form::{FieldType, RequestForm};
use serde_json::{Map, Value};

/// One choice of a `select` or `multiselect` input.
pub struct FormOption {
    pub value: String,
    pub selected: bool,
}

/// One input of the form, ready for `request_form_fields.html`.
pub struct FormInput {
    /// `field.<key>` (`file.<key>` for a file: the upload is the ticket form's).
    pub name: String,
    /// The element id, `rf-<key>`.
    pub id: String,
    pub label: String,
    /// `text`, `textarea`, `select`, `multiselect`, `checkbox`, `date` or `file`.
    pub kind: &'static str,
    pub required: bool,
    /// Empty when there is no help text.
    pub help: String,
    /// `rf-<key>-help`, for `aria-describedby`.
    pub help_id: String,
    /// What was sent before (text, textarea, date).
    pub value: String,
    /// A ticked checkbox.
    pub checked: bool,
    pub options: Vec<FormOption>,
}

/// The inputs of `form`, filled with `answers` (what the visitor sent before a refusal; an
/// empty map for a new ticket).
pub fn form_inputs(form: &RequestForm, answers: &Map<String, Value>) -> Vec<FormInput> {
    form.fields
        .iter()
        .map(|f| {
            let given = answers.get(&f.key);
            let picked = |o: &str| match given {
                Some(Value::String(s)) => s == o,
                Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(o)),
                _ => false,
            };
            let prefix = if f.kind == FieldType::File { "file" } else { "field" };
            FormInput {
                name: format!("{prefix}.{}", f.key),
                id: format!("rf-{}", f.key),
                label: f.label.clone(),
                kind: f.kind.as_str(),
                required: f.required,
                help: f.help.clone().unwrap_or_default(),
                help_id: format!("rf-{}-help", f.key),
                value: given.and_then(Value::as_str).unwrap_or_default().to_string(),
                checked: given.and_then(Value::as_bool).unwrap_or(false),
                options: f.options().iter().map(|o| FormOption { value: o.clone(), selected: picked(o) }).collect(),
            }
        })
        .collect()
}

/// One answered field as a ticket shows it.
pub struct AnswerRow {
    pub label: String,
    /// The answer as text (choices joined with commas, a checkbox Yes / No; a file its id,
    /// which the ticket page may link).
    pub value: String,
    /// The file id of a `file` answer.
    pub file_id: Option<String>,
}

/// The answered fields of a ticket, in the form's order (answers to fields since removed from
/// the form are shown by their key).
pub fn answer_rows(form: &RequestForm, answers: &Map<String, Value>) -> Vec<AnswerRow> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "Yes".into(),
        Value::Bool(false) => "No".into(),
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    };
    let mut rows: Vec<AnswerRow> = form
        .fields
        .iter()
        .filter_map(|f| {
            let v = answers.get(&f.key)?;
            let file_id = (f.kind == FieldType::File).then(|| text(v));
            Some(AnswerRow { label: f.label.clone(), value: text(v), file_id })
        })
        .collect();
    for (k, v) in answers {
        if !form.fields.iter().any(|f| &f.key == k) {
            rows.push(AnswerRow { label: k.clone(), value: text(v), file_id: None });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use askama::Template;
    use serde_json::json;

    use super::*;

    /// What a ticket page does: include the partials with `form_inputs` / `answer_rows`.
    #[derive(Template)]
    #[template(
        source = r#"{% include "request_form_fields.html" %}{% include "request_form_answers.html" %}"#,
        ext = "html"
    )]
    struct Partials {
        form_inputs: Vec<FormInput>,
        answer_rows: Vec<AnswerRow>,
    }

    fn form() -> RequestForm {
        serde_json::from_value(json!({"fields": [
            {"key": "url", "label": "Page <address>", "type": "text", "required": true, "help": "Where it happens"},
            {"key": "browser", "label": "Browser", "type": "select", "required": false, "options": ["Firefox", "Chrome"]},
            {"key": "areas", "label": "Areas", "type": "multiselect", "required": true, "options": ["Login", "Files"]},
            {"key": "agree", "label": "I read the FAQ", "type": "checkbox", "required": true},
            {"key": "since", "label": "Since", "type": "date", "required": false},
            {"key": "details", "label": "Details", "type": "textarea", "required": false},
            {"key": "shot", "label": "Screenshot", "type": "file", "required": false}
        ]}))
        .expect("form")
    }

    #[test]
    fn the_partials_render_labelled_inputs_and_answers() {
        let sent = json!({"url": "https://x.test/\"q", "browser": "Chrome", "areas": ["Files"], "agree": true});
        let sent = sent.as_object().expect("object");
        let html = Partials { form_inputs: form_inputs(&form(), sent), answer_rows: answer_rows(&form(), sent) }
            .render()
            .expect("renders");
        assert!(
            html.contains(
                r#"<label for="rf-url">Page &#60;address&#62; <span class="req" aria-hidden="true">*</span></label>"#
            ),
            "{html}"
        );
        assert!(html.contains(r#"name="field.url" id="rf-url" value="https://x.test/&#34;q" maxlength="500" required aria-describedby="rf-url-help""#), "{html}");
        assert!(html.contains(r#"<p class="muted small" id="rf-url-help">Where it happens</p>"#), "{html}");
        assert!(html.contains(r#"<option value="Chrome" selected>Chrome</option>"#), "{html}");
        assert!(html.contains(r#"<input type="checkbox" name="field.areas" value="Files" checked>"#), "{html}");
        assert!(html.contains(r#"name="field.agree" id="rf-agree" value="true" checked required"#), "{html}");
        assert!(html.contains(r#"<input type="file" name="file.shot" id="rf-shot">"#), "{html}");
        assert!(html.contains(r#"<input type="date" name="field.since" id="rf-since" value="">"#), "{html}");
        assert!(
            html.contains("<dt>Browser</dt><dd>Chrome</dd>") && html.contains("<dt>I read the FAQ</dt><dd>Yes</dd>")
        );
        let pairs = vec![("field.url".to_string(), "u".to_string()), ("field.areas".into(), "Login".into())];
        let answers = form().answers_from_form(&pairs);
        assert_eq!(serde_json::Value::Object(answers), json!({"url": "u", "areas": ["Login"]}));
    }
}

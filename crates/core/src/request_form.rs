//! A project's request form: the fields staff define for the tickets asked about the project
//! (text, long text, choice, multiple choice, checkbox, date, file), the rules of a definition
//! ([`RequestForm::check`]), and the check of a ticket's answers against it
//! ([`RequestForm::check_answers`], 422 naming `fields.<key>`). [`RequestForm::answers_from_form`]
//! reads the answers from an HTML form's `field.<key>` inputs.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::validate::{self, named};
use crate::{Error, Result};

/// The most fields a form has.
pub const FIELDS_MAX: usize = 30;
/// The longest field key (`[a-z0-9_]`).
pub const KEY_MAX: usize = 40;
/// The longest label, and the longest option.
pub const LABEL_MAX: usize = 120;
/// The longest help text.
pub const HELP_MAX: usize = 500;
/// The most options of a choice.
pub const OPTIONS_MAX: usize = 50;
/// The longest answer to a `text` field (one line).
pub const TEXT_ANSWER_MAX: usize = 500;
/// The longest answer to a `textarea` field.
pub const TEXTAREA_ANSWER_MAX: usize = 10_000;

/// What kind of input a field is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// One line of text.
    Text,
    /// Several lines of text.
    Textarea,
    /// One of the options.
    Select,
    /// Any of the options.
    Multiselect,
    /// Yes or no (a required checkbox must be ticked).
    Checkbox,
    /// A date, `YYYY-MM-DD`.
    Date,
    /// A file of the project (its id).
    File,
}

impl FieldType {
    /// Every type, in declaration order.
    pub const ALL: &'static [FieldType] = &[
        FieldType::Text,
        FieldType::Textarea,
        FieldType::Select,
        FieldType::Multiselect,
        FieldType::Checkbox,
        FieldType::Date,
        FieldType::File,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Textarea => "textarea",
            FieldType::Select => "select",
            FieldType::Multiselect => "multiselect",
            FieldType::Checkbox => "checkbox",
            FieldType::Date => "date",
            FieldType::File => "file",
        }
    }

    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            FieldType::Text => "Text",
            FieldType::Textarea => "Long text",
            FieldType::Select => "Choice",
            FieldType::Multiselect => "Multiple choice",
            FieldType::Checkbox => "Checkbox",
            FieldType::Date => "Date",
            FieldType::File => "File",
        }
    }

    /// Whether the field offers options.
    pub fn has_options(self) -> bool {
        matches!(self, FieldType::Select | FieldType::Multiselect)
    }
}

impl std::str::FromStr for FieldType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        FieldType::ALL.iter().copied().find(|t| t.as_str() == s).ok_or_else(|| {
            Error::invalid("type", "must be one of: text, textarea, select, multiselect, checkbox, date, file")
        })
    }
}

/// One field of a request form.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormField {
    /// `[a-z0-9_]{1,40}`, unique in the form: the answer's name.
    #[schema(pattern = "^[a-z0-9_]{1,40}$")]
    pub key: String,
    /// At most 120 characters, one line.
    #[schema(max_length = 120)]
    pub label: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// Whether an answer is needed (a required checkbox must be ticked).
    pub required: bool,
    /// The choices of `select` and `multiselect` (1–50, unique, each one line of at most 120
    /// characters); refused for other types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
    /// Shown under the input; at most 500 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub help: Option<String>,
}

/// A project's request form (no fields: tickets ask only subject and text).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestForm {
    /// At most 30, in the order the form shows them.
    pub fields: Vec<FormField>,
}

/// Whether `key` is a well-formed field key.
pub fn is_key(key: &str) -> bool {
    (1..=KEY_MAX).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The error name of an answer to `key`: `fields.<key>` (plain `fields` for a malformed key, so
/// an error never repeats arbitrary input).
fn answer_field(key: &str) -> String {
    if is_key(key) { format!("fields.{key}") } else { "fields".into() }
}

impl FormField {
    fn check(self, i: usize) -> Result<FormField> {
        let at = |part: &str| format!("fields[{i}].{part}");
        if !is_key(&self.key) {
            return Err(Error::invalid(at("key"), "must be at least 1 and at most 40 characters of a–z, 0–9 and _"));
        }
        let label = named(&at("label"), validate::line("label", &self.label, LABEL_MAX))?;
        let help = match self.help.as_deref() {
            None => None,
            Some(h) => {
                Some(named(&at("help"), validate::optional_text("help", h, HELP_MAX))?).filter(|h| !h.is_empty())
            }
        };
        let options = match (self.kind.has_options(), self.options) {
            (false, None) => None,
            (false, Some(_)) => return Err(Error::invalid(at("options"), "only choices have options")),
            (true, None) => return Err(Error::invalid(at("options"), "a choice needs at least one option")),
            (true, Some(opts)) => {
                if opts.is_empty() {
                    return Err(Error::invalid(at("options"), "a choice needs at least one option"));
                }
                if opts.len() > OPTIONS_MAX {
                    return Err(Error::invalid(at("options"), format!("must be at most {OPTIONS_MAX} options")));
                }
                let mut seen = HashSet::new();
                let mut out = Vec::with_capacity(opts.len());
                for o in opts {
                    let o = named(&at("options"), validate::line("options", &o, LABEL_MAX))?;
                    if !seen.insert(o.clone()) {
                        return Err(Error::invalid(at("options"), "must not repeat an option"));
                    }
                    out.push(o);
                }
                Some(out)
            }
        };
        Ok(FormField { key: self.key, label, kind: self.kind, required: self.required, options, help })
    }

    /// The options (empty for types without).
    pub fn options(&self) -> &[String] {
        self.options.as_deref().unwrap_or_default()
    }

    /// The checked answer of this field, `None` when it is left out.
    fn answer(&self, value: Option<&Value>) -> Result<Option<Value>> {
        let field = answer_field(&self.key);
        let missing = || if self.required { Err(Error::invalid(field.clone(), "is required")) } else { Ok(None) };
        let value = match value {
            None | Some(Value::Null) => return missing(),
            Some(Value::String(s)) if s.trim().is_empty() && self.kind != FieldType::Checkbox => return missing(),
            Some(Value::Array(a)) if a.is_empty() && self.kind == FieldType::Multiselect => return missing(),
            Some(v) => v,
        };
        let text = |what: &str| value.as_str().ok_or_else(|| Error::invalid(field.clone(), format!("must be {what}")));
        let out = match self.kind {
            FieldType::Text => Value::String(named(&field, validate::line("text", text("text")?, TEXT_ANSWER_MAX))?),
            FieldType::Textarea => {
                Value::String(named(&field, validate::text("text", text("text")?, TEXTAREA_ANSWER_MAX))?)
            }
            FieldType::Select => {
                let s = text("one of the options")?.trim();
                if !self.options().iter().any(|o| o == s) {
                    return Err(Error::invalid(field, "must be one of the options"));
                }
                Value::String(s.to_string())
            }
            FieldType::Multiselect => {
                let items =
                    value.as_array().ok_or_else(|| Error::invalid(field.clone(), "must be a list of options"))?;
                let mut seen = HashSet::new();
                for item in items {
                    let s = item.as_str().map(str::trim).filter(|s| self.options().iter().any(|o| o == s));
                    let s = s.ok_or_else(|| Error::invalid(field.clone(), "must list only the options"))?;
                    if !seen.insert(s) {
                        return Err(Error::invalid(field, "must not repeat an option"));
                    }
                }
                // In the form's order, whatever order they came in.
                let picked = self.options().iter().filter(|o| seen.contains(o.as_str()));
                Value::Array(picked.cloned().map(Value::String).collect())
            }
            FieldType::Checkbox => {
                let b = value.as_bool().ok_or_else(|| Error::invalid(field.clone(), "must be true or false"))?;
                if self.required && !b {
                    return Err(Error::invalid(field, "must be ticked"));
                }
                Value::Bool(b)
            }
            FieldType::Date => {
                let s = text("a date written YYYY-MM-DD")?.trim();
                let ok = s.len() == 10 && NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok();
                if !ok {
                    return Err(Error::invalid(field, "must be a date written YYYY-MM-DD"));
                }
                Value::String(s.to_string())
            }
            FieldType::File => {
                let s = text("a file id")?.trim();
                let id = uuid::Uuid::parse_str(s).map_err(|_| Error::invalid(field, "must be a file id"))?;
                Value::String(id.hyphenated().to_string())
            }
        };
        Ok(Some(out))
    }
}

impl RequestForm {
    /// Checks a definition sent by staff and returns it normalised (labels, options and help
    /// trimmed, empty help left out): 422 naming the field (`fields`, `fields[2].key`,
    /// `fields[2].options`, …).
    pub fn check(self) -> Result<RequestForm> {
        if self.fields.len() > FIELDS_MAX {
            return Err(Error::invalid("fields", format!("a form has at most {FIELDS_MAX} fields")));
        }
        let mut keys = HashSet::new();
        let mut fields = Vec::with_capacity(self.fields.len());
        for (i, f) in self.fields.into_iter().enumerate() {
            let f = f.check(i)?;
            if !keys.insert(f.key.clone()) {
                return Err(Error::invalid(format!("fields[{i}].key"), "is used by another field"));
            }
            fields.push(f);
        }
        Ok(RequestForm { fields })
    }

    /// Whether the form has no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Checks a ticket's answers and returns them normalised (only the fields answered, in the
    /// form's order): unknown keys, missing required answers and answers of the wrong shape are
    /// 422 naming `fields.<key>`. A `file` answer is a well-formed id; whether that file exists
    /// in the project is the caller's check.
    pub fn check_answers(&self, answers: &Map<String, Value>) -> Result<Map<String, Value>> {
        if let Some(k) = answers.keys().find(|k| !self.fields.iter().any(|f| &f.key == *k)) {
            return Err(Error::invalid(answer_field(k), "is not a field of this form"));
        }
        let mut out = Map::new();
        for f in &self.fields {
            if let Some(v) = f.answer(answers.get(&f.key))? {
                out.insert(f.key.clone(), v);
            }
        }
        Ok(out)
    }

    /// The answers an HTML form sent in its `field.<key>` inputs (other names are ignored): a
    /// ticked checkbox is `true`, a multiple choice the repeated values, a file field the id the
    /// caller put there after its upload. Empty inputs are left out, so
    /// [`RequestForm::check_answers`] names a missing required one.
    pub fn answers_from_form(&self, pairs: &[(String, String)]) -> Map<String, Value> {
        let mut out = Map::new();
        for f in &self.fields {
            let name = format!("field.{}", f.key);
            let values: Vec<&str> = pairs
                .iter()
                .filter(|(k, _)| *k == name)
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.trim().is_empty())
                .collect();
            let v = match f.kind {
                FieldType::Checkbox => (!values.is_empty()).then_some(Value::Bool(true)),
                FieldType::Multiselect => (!values.is_empty())
                    .then(|| Value::Array(values.iter().map(|v| Value::String((*v).into())).collect())),
                _ => values.first().map(|v| Value::String((*v).into())),
            };
            if let Some(v) = v {
                out.insert(f.key.clone(), v);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;

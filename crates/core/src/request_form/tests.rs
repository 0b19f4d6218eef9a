use serde_json::json;

use super::*;

fn form(v: Value) -> RequestForm {
    serde_json::from_value::<RequestForm>(v).expect("parses").check().expect("valid form")
}

fn field_of(e: Error) -> String {
    match e {
        Error::Invalid { field, .. } => field.into_owned(),
        other => panic!("not a field error: {other:?}"),
    }
}

fn bad_definition(v: Value) -> String {
    field_of(serde_json::from_value::<RequestForm>(v).expect("parses").check().unwrap_err())
}

fn sample() -> RequestForm {
    form(json!({"fields": [
        {"key": "url", "label": "Page address", "type": "text", "required": true, "help": "Where it happens"},
        {"key": "steps", "label": "Steps", "type": "textarea", "required": false},
        {"key": "browser", "label": "Browser", "type": "select", "required": true, "options": ["Firefox", "Chrome"]},
        {"key": "areas", "label": "Areas", "type": "multiselect", "required": false, "options": ["Login", "Billing", "Files"]},
        {"key": "agree", "label": "I checked the FAQ", "type": "checkbox", "required": true},
        {"key": "since", "label": "Since", "type": "date", "required": false},
        {"key": "shot", "label": "Screenshot", "type": "file", "required": false, "help": "  "}
    ]}))
}

fn answers(v: Value) -> Map<String, Value> {
    v.as_object().cloned().expect("an object")
}

#[test]
fn a_definition_is_normalised() {
    let f = form(json!({"fields": [
        {"key": "a", "label": "  A  ", "type": "select", "required": false, "options": [" x ", "y"], "help": " h "},
        {"key": "b", "label": "B", "type": "text", "required": true, "help": ""}
    ]}));
    assert_eq!(f.fields[0].label, "A");
    assert_eq!(f.fields[0].options(), ["x", "y"]);
    assert_eq!(f.fields[0].help.as_deref(), Some("h"));
    assert_eq!(f.fields[1].help, None);
    assert!(RequestForm::default().check().expect("empty").is_empty());
}

#[test]
fn a_bad_definition_names_the_field() {
    let text = |key: &str| json!({"key": key, "label": "L", "type": "text", "required": false});
    assert_eq!(bad_definition(json!({"fields": [text("ok"), text("Bad Key")]})), "fields[1].key");
    assert_eq!(bad_definition(json!({"fields": [text(&"k".repeat(41))]})), "fields[0].key");
    assert_eq!(bad_definition(json!({"fields": [text("")]})), "fields[0].key");
    assert_eq!(bad_definition(json!({"fields": [text("a"), text("a")]})), "fields[1].key");
    let many: Vec<Value> = (0..31).map(|i| text(&format!("k{i}"))).collect();
    assert_eq!(bad_definition(json!({ "fields": many })), "fields");
    let label = |l: &str| json!({"fields": [{"key": "a", "label": l, "type": "text", "required": false}]});
    assert_eq!(bad_definition(label("")), "fields[0].label");
    assert_eq!(bad_definition(label(&"x".repeat(121))), "fields[0].label");
    assert_eq!(bad_definition(label("a\u{202E}b")), "fields[0].label");
    let help =
        json!({"fields": [{"key": "a", "label": "L", "type": "text", "required": false, "help": "h".repeat(501)}]});
    assert_eq!(bad_definition(help), "fields[0].help");
    let opts = |t: &str, o: Value| json!({"fields": [text("z"), {"key": "a", "label": "L", "type": t, "required": false, "options": o}]});
    assert_eq!(bad_definition(opts("select", json!([]))), "fields[1].options");
    assert_eq!(bad_definition(opts("multiselect", json!(["a", "a"]))), "fields[1].options");
    assert_eq!(bad_definition(opts("select", json!([""]))), "fields[1].options");
    let fifty_one: Vec<String> = (0..51).map(|i| format!("o{i}")).collect();
    assert_eq!(bad_definition(opts("select", json!(fifty_one))), "fields[1].options");
    assert_eq!(bad_definition(opts("text", json!(["a"]))), "fields[1].options");
    let no_opts = json!({"fields": [{"key": "a", "label": "L", "type": "select", "required": false}]});
    assert_eq!(bad_definition(no_opts), "fields[0].options");
    // Unknown properties and types are refused while parsing.
    assert!(
        serde_json::from_value::<RequestForm>(
            json!({"fields": [{"key": "a", "label": "L", "type": "colour", "required": false}]})
        )
        .is_err()
    );
    assert!(serde_json::from_value::<RequestForm>(json!({"fields": [], "extra": 1})).is_err());
}

#[test]
fn answers_are_checked_and_normalised() {
    let f = sample();
    let id = uuid::Uuid::now_v7();
    let got = f
        .check_answers(&answers(json!({
            "url": " https://example.test/a ", "browser": "Chrome", "areas": ["Files", "Login"],
            "agree": true, "since": "2026-11-30", "shot": id.to_string().to_uppercase(), "steps": ""
        })))
        .expect("valid answers");
    assert_eq!(
        Value::Object(got),
        json!({"url": "https://example.test/a", "browser": "Chrome", "areas": ["Login", "Files"], "agree": true,
               "since": "2026-11-30", "shot": id.to_string()})
    );
}

#[test]
fn bad_answers_name_the_field() {
    let f = sample();
    let ok = json!({"url": "u", "browser": "Firefox", "agree": true});
    let bad = |patch: Value| {
        let mut a = answers(ok.clone());
        for (k, v) in patch.as_object().expect("object") {
            a.insert(k.clone(), v.clone());
        }
        field_of(f.check_answers(&a).unwrap_err())
    };
    assert!(f.check_answers(&answers(ok.clone())).is_ok());
    assert_eq!(bad(json!({"nope": 1})), "fields.nope");
    assert_eq!(bad(json!({"Not A Key\u{202E}": 1})), "fields");
    assert_eq!(bad(json!({"url": null})), "fields.url");
    assert_eq!(bad(json!({"url": " "})), "fields.url");
    assert_eq!(bad(json!({"url": "a\nb"})), "fields.url");
    assert_eq!(bad(json!({"url": 5})), "fields.url");
    assert_eq!(bad(json!({"url": "x".repeat(501)})), "fields.url");
    assert_eq!(bad(json!({"steps": "x".repeat(10_001)})), "fields.steps");
    assert_eq!(bad(json!({"browser": "Safari"})), "fields.browser");
    assert_eq!(bad(json!({"areas": "Login"})), "fields.areas");
    assert_eq!(bad(json!({"areas": ["Login", "Login"]})), "fields.areas");
    assert_eq!(bad(json!({"areas": ["Other"]})), "fields.areas");
    assert_eq!(bad(json!({"agree": false})), "fields.agree");
    assert_eq!(bad(json!({"agree": "yes"})), "fields.agree");
    assert_eq!(bad(json!({"since": "30.11.2026"})), "fields.since");
    assert_eq!(bad(json!({"since": "2026-02-30"})), "fields.since");
    assert_eq!(bad(json!({"shot": "not-a-uuid"})), "fields.shot");
    let mut missing = answers(ok);
    missing.remove("browser");
    assert_eq!(field_of(f.check_answers(&missing).unwrap_err()), "fields.browser");
    assert!(RequestForm::default().check_answers(&Map::new()).expect("nothing asked").is_empty());
}

#[test]
fn answers_come_from_form_inputs() {
    let f = sample();
    let pairs: Vec<(String, String)> = [
        ("field.url", "https://example.test"),
        ("field.areas", "Login"),
        ("field.areas", "Billing"),
        ("field.agree", "on"),
        ("field.steps", ""),
        ("field.browser", "Chrome"),
        ("subject", "ignored"),
        ("field.unknown", "ignored"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let a = f.answers_from_form(&pairs);
    assert_eq!(
        Value::Object(a.clone()),
        json!({"url": "https://example.test", "areas": ["Login", "Billing"], "agree": true, "browser": "Chrome"})
    );
    assert!(f.check_answers(&a).is_ok());
    // An unticked required checkbox is missing, so the check names it.
    let without: Vec<_> = pairs.into_iter().filter(|(k, _)| k != "field.agree").collect();
    assert_eq!(field_of(f.check_answers(&f.answers_from_form(&without)).unwrap_err()), "fields.agree");
}

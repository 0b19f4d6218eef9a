//! Project templates end to end on both databases: the library (the starters, CRUD, copy,
//! audited, 404 for client users), a project made from a template (dates from the start,
//! assignees by role, the lead on the team, folders, pages and request form, in one
//! transaction), a project saved as a template, every bad value a 422 naming the field, and the
//! staff pages (library, editor, the client page's template choice, "Save as template").

use crate::common::*;
use serde_json::{Value, json};

fn msg(v: &Value) -> &str {
    v["error"]["message"].as_str().unwrap_or_default()
}

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().cloned().unwrap_or_default()
}

/// A template naming every kind of assignee, with a staff member as the named person.
fn template_body(person: &str) -> Value {
    json!({
        "name": "Launch kit",
        "description": "Two milestones and four tasks.",
        "milestones": [
            {"key": "kickoff", "name": "Kick-off done", "offset_days": 0},
            {"key": "live", "name": "Live", "offset_days": 40}
        ],
        "tasks": [
            {"title": "Plan", "priority": "high", "offset_days": 3, "milestone": "kickoff", "assignee": "project_lead"},
            {"title": "Send the logo", "offset_days": 5, "milestone": "kickoff", "assignee": "client_admin"},
            {"title": "Build", "offset_days": 38, "milestone": "live", "assignee": person},
            {"title": "Someday", "description": "No date, nobody."}
        ],
        "folders": [{"name": "Assets"}, {"name": "Internal", "staff_only": true}],
        "pages": [
            {"title": "How we work", "kind": "markdown", "body": "**Hello**"},
            {"title": "Board", "kind": "link", "url": "https://example.com/board", "staff_only": true}
        ],
        "request_form": {"fields": [{"key": "kind", "label": "Kind", "type": "select", "required": true, "options": ["Bug", "Idea"]}]}
    })
}

async fn count(app: &TestApp, table: &str) -> usize {
    app.query_strings(&format!("SELECT CAST(COUNT(*) AS TEXT) AS n FROM {table}"), vec![], &["n"]).await[0][0]
        .parse()
        .unwrap()
}

#[tokio::test]
async fn the_library_starts_with_three_templates_and_is_the_staffs() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let staff = app.token_for(w.staff).await;
    let (s, v) = call(&app, &staff, "GET", "/project-templates", None).await;
    assert_eq!(s, 200, "{v}");
    let names: Vec<&str> = v["items"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Brand identity", "Monthly retainer", "Website redesign"], "the starters, by name");
    let website = &v["items"][2];
    assert!(website["tasks"].as_array().unwrap().len() >= 10 && website["request_form"]["fields"].is_array());

    // Add, read, change, copy, delete: any staff member; each audited.
    let (s, t) = call(&app, &staff, "POST", "/project-templates", Some(template_body(&w.staff.to_string()))).await;
    assert_eq!(s, 201, "{t}");
    let id = t["id"].as_str().unwrap().to_string();
    assert_eq!(t["tasks"][1]["assignee"], "client_admin");
    assert_eq!(t["tasks"][3]["priority"], "normal", "the default priority is stored");
    assert_eq!(call(&app, &staff, "GET", &format!("/project-templates/{id}"), None).await.1, t);
    let (s, p) = call(
        &app,
        &staff,
        "PATCH",
        &format!("/project-templates/{id}"),
        Some(json!({"name": "Launch kit v2", "folders": []})),
    )
    .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!((p["name"].as_str(), p["folders"].as_array().map(Vec::len)), (Some("Launch kit v2"), Some(0)));
    assert_eq!(p["tasks"], t["tasks"], "parts not sent are kept");
    let (s, c) = call(&app, &staff, "POST", &format!("/project-templates/{id}/copy"), Some(json!({}))).await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(c["name"], "Copy of Launch kit v2");
    assert_ne!(c["id"], p["id"]);
    assert_eq!(c["tasks"], p["tasks"]);
    let (s, _) =
        call(&app, &staff, "POST", &format!("/project-templates/{id}/copy"), Some(json!({"name": "Named copy"}))).await;
    assert_eq!(s, 201);
    assert_eq!(call(&app, &staff, "DELETE", &format!("/project-templates/{id}"), None).await.0, 204);
    assert_eq!(call(&app, &staff, "GET", &format!("/project-templates/{id}"), None).await.0, 404);
    assert_eq!(call(&app, &staff, "DELETE", &format!("/project-templates/{id}"), None).await.0, 404);
    let audit = app
        .query_strings(
            "SELECT action FROM audit_log WHERE subject_type = 'project_template' ORDER BY at, id",
            vec![],
            &["action"],
        )
        .await;
    let actions: Vec<&str> = audit.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        actions,
        [
            "project_template.create",
            "project_template.update",
            "project_template.create",
            "project_template.create",
            "project_template.delete"
        ]
    );

    // Client users never learn the library exists: 404 for every operation, nothing changes.
    let before = count(&app, "project_templates").await;
    let any = c["id"].as_str().unwrap();
    for u in [w.a.admin, w.a.finance, w.a.viewer] {
        let t = app.token_for(u).await;
        for (m, path, body) in [
            ("GET", "/project-templates".to_string(), None),
            ("POST", "/project-templates".to_string(), Some(json!({"name": "Mine"}))),
            ("GET", format!("/project-templates/{any}"), None),
            ("PATCH", format!("/project-templates/{any}"), Some(json!({"name": "Mine"}))),
            ("DELETE", format!("/project-templates/{any}"), None),
            ("POST", format!("/project-templates/{any}/copy"), Some(json!({}))),
            ("POST", format!("/projects/{}/template", w.a.project), Some(json!({"name": "Mine"}))),
        ] {
            let (s, v) = call(&app, &t, m, &path, body).await;
            assert_eq!(s, 404, "{m} {path}: {v}");
        }
    }
    assert_eq!(count(&app, "project_templates").await, before);
}

#[tokio::test]
async fn a_project_from_a_template_is_dated_from_its_start_and_staffed_by_role() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    let (_, t) = call(&app, &owner, "POST", "/project-templates", Some(template_body(&w.staff.to_string()))).await;
    let tid = t["id"].as_str().unwrap();
    // The start is the last Friday of March 2027: offsets run across a weekend and the
    // European clock change; dates are calendar days either way.
    let body = json!({"client_id": w.a.id, "name": "Spring launch", "template_id": tid,
        "start_date": "2027-03-26", "lead_id": w.admin});
    let (s, p) = call(&app, &owner, "POST", "/projects", Some(body)).await;
    assert_eq!(s, 201, "{p}");
    let pid = p["id"].as_str().unwrap();
    assert_eq!(
        (p["start_date"].as_str(), p["due_date"].as_str()),
        (Some("2027-03-26"), Some("2027-05-05")),
        "due: the last offset (40 days)"
    );

    let (_, ms) = call(&app, &owner, "GET", &format!("/projects/{pid}/milestones"), None).await;
    let ms: Vec<(String, String)> = items(&ms)
        .iter()
        .map(|m| (m["name"].as_str().unwrap().into(), m["due_date"].as_str().unwrap_or_default().into()))
        .collect();
    assert_eq!(ms, [("Kick-off done".to_string(), "2027-03-26".to_string()), ("Live".into(), "2027-05-05".into())]);
    let milestone_ids: Vec<String> = {
        let (_, v) = call(&app, &owner, "GET", &format!("/projects/{pid}/milestones"), None).await;
        items(&v).iter().map(|m| m["id"].as_str().unwrap().to_string()).collect()
    };
    let (_, ts) = call(&app, &owner, "GET", &format!("/projects/{pid}/tasks?limit=100"), None).await;
    let by_title =
        |title: &str| items(&ts).into_iter().find(|t| t["title"] == title).unwrap_or_else(|| panic!("{title}: {ts}"));
    let plan = by_title("Plan");
    assert_eq!(
        (plan["due_date"].as_str(), plan["assignee_id"].as_str()),
        (Some("2027-03-29"), Some(w.admin.to_string().as_str())),
        "the lead, over the weekend"
    );
    assert_eq!((plan["priority"].as_str(), plan["status"].as_str()), (Some("high"), Some("todo")));
    assert_eq!(plan["milestone_id"].as_str(), Some(milestone_ids[0].as_str()));
    let logo = by_title("Send the logo");
    assert_eq!(logo["assignee_id"].as_str(), Some(w.a.admin.to_string().as_str()), "the client's admin");
    let build = by_title("Build");
    assert_eq!(
        (build["due_date"].as_str(), build["assignee_id"].as_str()),
        (Some("2027-05-03"), Some(w.staff.to_string().as_str()))
    );
    assert_eq!(build["milestone_id"].as_str(), Some(milestone_ids[1].as_str()));
    let someday = by_title("Someday");
    assert!(someday["due_date"].is_null() && someday["assignee_id"].is_null() && someday["milestone_id"].is_null());
    assert_eq!(someday["description"], "No date, nobody.");

    let (_, team) = call(&app, &owner, "GET", &format!("/projects/{pid}/team"), None).await;
    assert_eq!(
        items(&team).iter().map(|m| m["id"].clone()).collect::<Vec<_>>(),
        [json!(w.admin)],
        "the lead joins the team"
    );
    let (_, form) = call(&app, &owner, "GET", &format!("/projects/{pid}/request-form"), None).await;
    assert_eq!(form, t["request_form"]);
    // Staff see every folder and page; the client sees only what is not staff-only.
    let names = |v: &Value, key: &str| -> Vec<String> {
        let mut n: Vec<String> = items(v).iter().map(|x| x[key].as_str().unwrap().to_string()).collect();
        n.sort();
        n
    };
    let (_, f) = call(&app, &owner, "GET", &format!("/projects/{pid}/folders"), None).await;
    assert!(
        names(&f, "name").contains(&"Internal".to_string()) && names(&f, "name").contains(&"Assets".to_string()),
        "{f}"
    );
    let client = app.token_for(w.a.admin).await;
    let (_, f) = call(&app, &client, "GET", &format!("/projects/{pid}/folders"), None).await;
    assert!(
        names(&f, "name").contains(&"Assets".to_string()) && !names(&f, "name").contains(&"Internal".to_string()),
        "{f}"
    );
    let (_, pages) = call(&app, &owner, "GET", &format!("/projects/{pid}/pages"), None).await;
    assert_eq!(names(&pages, "title"), ["Board", "How we work"]);
    let (_, pages) = call(&app, &client, "GET", &format!("/projects/{pid}/pages"), None).await;
    assert_eq!(names(&pages, "title"), ["How we work"]);
    let audit = app
        .query_strings(
            "SELECT detail FROM audit_log WHERE action = 'project.create' AND subject_id = ?",
            vec![pid.into()],
            &["detail"],
        )
        .await;
    assert!(audit[0][0].contains("Launch kit"), "the audit names the template: {audit:?}");

    // Without a start date the project starts today (the agency's timezone, UTC here); without
    // a lead the caller leads. A template whose tasks name a person no longer active leaves
    // that task unassigned rather than refusing the project.
    app.store.set_user_active(&app.actor(w.owner).await, w.staff, false, None).await.expect("deactivate");
    let (s, p) =
        call(&app, &owner, "POST", "/projects", Some(json!({"client_id": w.b.id, "name": "Now", "template_id": tid})))
            .await;
    assert_eq!(s, 201, "{p}");
    let today = chrono::Utc::now().date_naive();
    assert_eq!(p["start_date"].as_str(), Some(today.to_string().as_str()));
    let pid = p["id"].as_str().unwrap();
    let (_, ts) = call(&app, &owner, "GET", &format!("/projects/{pid}/tasks?limit=100"), None).await;
    let of = |title: &str| items(&ts).into_iter().find(|t| t["title"] == title).unwrap()["assignee_id"].clone();
    assert_eq!((of("Plan"), of("Send the logo"), of("Build")), (json!(w.owner), json!(w.b.admin), Value::Null));
}

#[tokio::test]
async fn a_project_saved_as_a_template_makes_the_same_project_again() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    let (_, t) = call(&app, &owner, "POST", "/project-templates", Some(template_body(&w.staff.to_string()))).await;
    let body = json!({"client_id": w.a.id, "name": "Original", "template_id": t["id"], "start_date": "2027-01-04"});
    let (_, p) = call(&app, &owner, "POST", "/projects", Some(body)).await;
    // A second top folder named like one from the template (folders may share a name): the
    // template keeps the older.
    let (s, _) = call(
        &app,
        &owner,
        "POST",
        &format!("/projects/{}/folders", p["id"].as_str().unwrap()),
        Some(json!({"name": "assets"})),
    )
    .await;
    assert_eq!(s, 201);
    let (s, saved) = call(
        &app,
        &owner,
        "POST",
        &format!("/projects/{}/template", p["id"].as_str().unwrap()),
        Some(json!({"name": "From Original"})),
    )
    .await;
    assert_eq!(s, 201, "{saved}");
    assert_eq!(saved["name"], "From Original");
    assert!(saved["description"].as_str().unwrap().contains("Original"));
    let offsets = |v: &Value, part: &str| -> Vec<Value> {
        v[part].as_array().unwrap().iter().map(|x| x["offset_days"].clone()).collect()
    };
    assert_eq!(offsets(&saved, "milestones"), offsets(&t, "milestones"));
    assert_eq!(offsets(&saved, "tasks"), offsets(&t, "tasks"));
    let assignees: Vec<Value> = saved["tasks"].as_array().unwrap().iter().map(|x| x["assignee"].clone()).collect();
    // The lead (the owner, by default) is a person in the saved template; the client's admin
    // stays a role.
    assert_eq!(assignees, [json!(w.owner), json!("client_admin"), json!(w.staff), Value::Null]);
    let milestone_of: Vec<Value> = saved["tasks"].as_array().unwrap().iter().map(|x| x["milestone"].clone()).collect();
    assert_eq!(milestone_of, [json!("m1"), json!("m1"), json!("m2"), Value::Null]);
    let mut folders: Vec<Value> = saved["folders"].as_array().unwrap().clone();
    folders.sort_by_key(|f| f["name"].as_str().unwrap().to_string());
    assert_eq!(Value::Array(folders), t["folders"]);
    assert_eq!(saved["pages"], t["pages"]);
    assert_eq!(saved["request_form"], t["request_form"]);
    // Another client's user cannot save A's project; staff cannot save a project that does not exist.
    let b = app.token_for(w.b.admin).await;
    assert_eq!(
        call(&app, &b, "POST", &format!("/projects/{}/template", w.a.project), Some(json!({"name": "x"}))).await.0,
        404
    );
    let nothing = atrium_core::ids::ProjectId::new();
    assert_eq!(
        call(&app, &owner, "POST", &format!("/projects/{nothing}/template"), Some(json!({"name": "x"}))).await.0,
        404
    );
}

#[tokio::test]
async fn every_bad_template_value_is_a_422_naming_it_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.token_for(w.owner).await;
    let staff = w.staff.to_string();
    let with = |f: &dyn Fn(&mut Value)| {
        let mut b = template_body(&staff);
        f(&mut b);
        b
    };
    let cases: Vec<(Value, &str)> = vec![
        (with(&|b| b["name"] = json!("  ")), "name"),
        (with(&|b| b["description"] = json!("d".repeat(2001))), "description"),
        (with(&|b| b["milestones"][1]["offset_days"] = json!(-1)), "milestones[1].offset_days"),
        (with(&|b| b["milestones"][0]["offset_days"] = json!(3651)), "milestones[0].offset_days"),
        (with(&|b| b["milestones"][1]["key"] = json!("kickoff")), "milestones[1].key"),
        (with(&|b| b["tasks"][0]["offset_days"] = json!(-5)), "tasks[0].offset_days"),
        (with(&|b| b["tasks"][2]["milestone"] = json!("nope")), "tasks[2].milestone"),
        (with(&|b| b["tasks"][0]["assignee"] = json!("the_boss")), "project_lead, client_admin"),
        (with(&|b| b["tasks"][1]["assignee"] = json!(atrium_core::ids::UserId::new())), "tasks[1].assignee"),
        (with(&|b| b["tasks"][1]["priority"] = json!("whenever")), "priority"),
        (with(&|b| b["folders"][0]["name"] = json!("a/b")), "folders[0].name"),
        (with(&|b| b["pages"][1]["url"] = json!("javascript:alert(1)")), "pages[1].url"),
        (with(&|b| b["pages"][0]["kind"] = json!("iframe")), "kind"),
        (with(&|b| b["request_form"]["fields"][0]["options"] = json!([])), "request_form.fields[0].options"),
        (with(&|b| b["trigger"] = json!({"kind": "task.due"})), "trigger"),
        (with(&|b| b["tasks"][0]["owner"] = json!("x")), "owner"),
    ];
    let before = count(&app, "project_templates").await;
    for (body, name) in &cases {
        let (s, v) = call(&app, &owner, "POST", "/project-templates", Some(body.clone())).await;
        assert_eq!(s, 422, "{name}: {v}");
        assert!(msg(&v).contains(name), "{name}: {v}");
    }
    // A client's user is never a template's assignee (a template serves every client).
    let (s, v) =
        call(&app, &owner, "POST", "/project-templates", Some(with(&|b| b["tasks"][2]["assignee"] = json!(w.a.admin))))
            .await;
    assert_eq!((s, msg(&v).contains("tasks[2].assignee")), (422, true), "{v}");
    assert_eq!(count(&app, "project_templates").await, before, "nothing was added");
    // The same checks on a change, which keeps the template as it was.
    let (_, t) = call(&app, &owner, "POST", "/project-templates", Some(template_body(&staff))).await;
    let path = format!("/project-templates/{}", t["id"].as_str().unwrap());
    let (s, v) = call(&app, &owner, "PATCH", &path, Some(json!({"milestones": []}))).await;
    assert_eq!((s, msg(&v).contains("tasks[0].milestone")), (422, true), "removing milestones its tasks name: {v}");
    assert_eq!(call(&app, &owner, "GET", &path, None).await.1, t);

    // Making a project: an unknown template, a lead who is not staff, a lead without a template.
    let projects = count(&app, "projects").await;
    for (body, name) in [
        (
            json!({"client_id": w.a.id, "name": "X", "template_id": atrium_core::ids::ProjectTemplateId::new()}),
            "template_id",
        ),
        (json!({"client_id": w.a.id, "name": "X", "template_id": t["id"], "lead_id": w.a.admin}), "lead_id"),
        (json!({"client_id": w.a.id, "name": "X", "lead_id": w.admin}), "lead_id"),
        (json!({"client_id": w.a.id, "name": "X", "template_id": "not-an-id"}), "template_id"),
        (
            json!({"client_id": w.a.id, "name": "X", "template_id": t["id"], "start_date": "2027-01-10", "due_date": "2027-01-01"}),
            "due_date",
        ),
    ] {
        let (s, v) = call(&app, &owner, "POST", "/projects", Some(body)).await;
        assert_eq!(s, 422, "{name}: {v}");
        assert!(msg(&v).contains(name), "{name}: {v}");
    }
    assert_eq!(count(&app, "projects").await, projects, "no project, milestone or task was left behind");
}

#[tokio::test]
async fn staff_keep_templates_in_the_browser() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let page = |path: String| {
        let app = &app;
        async move {
            let creds = app.browser_creds(Some(w.owner)).await;
            Answer::of(browser().get(app.url(&path)).header("cookie", &creds.cookie).send().await.unwrap()).await
        }
    };
    let post = |path: String, fields: Vec<(String, String)>| {
        let app = &app;
        async move {
            let creds = app.browser_creds(Some(w.owner)).await;
            let mut f = fields;
            f.push(("_csrf".into(), creds.csrf.clone()));
            Answer::of(browser().post(app.url(&path)).header("cookie", &creds.cookie).form(&f).send().await.unwrap())
                .await
        }
    };
    let kv = |v: &[(&str, &str)]| v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
    let list = page("/staff/templates".into()).await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("Website redesign") && list.body.contains("Monthly retainer"), "{}", list.body);
    assert!(page("/staff/clients".into()).await.body.contains("href=\"/staff/templates\""), "linked from Clients");

    let a = post("/staff/templates".into(), kv(&[("name", "Audit"), ("description", "A website audit.")])).await;
    assert_eq!(a.status, 303);
    let editor_path = a.location().unwrap().split('?').next().unwrap().to_string();
    let editor = page(a.location().unwrap().to_string()).await;
    assert_eq!(editor.status, 200);
    assert!(editor.body.contains("Template added"), "{}", editor.body);
    let form = kv(&[
        ("name", "Audit"),
        ("description", "A website audit."),
        ("m_key", ""),
        ("m_name", "Report delivered"),
        ("m_offset", "14"),
        ("m_key", ""),
        ("m_name", ""),
        ("m_offset", ""),
        ("t_title", "Crawl the site"),
        ("t_offset", "2"),
        ("t_milestone", ""),
        ("t_assignee", "project_lead"),
        ("t_priority", "high"),
        ("t_description", "Every page."),
        ("t_title", ""),
        ("t_offset", ""),
        ("t_milestone", ""),
        ("t_assignee", ""),
        ("t_priority", "normal"),
        ("t_description", ""),
        ("f_name", "Findings"),
        ("f_staff_only", "true"),
        ("p_title", "Scope"),
        ("p_kind", "markdown"),
        ("p_staff_only", "false"),
        ("p_url", ""),
        ("p_body", "What we look at."),
    ]);
    let a = post(editor_path.clone(), form.clone()).await;
    assert_eq!((a.status, a.location()), (303, Some(format!("{editor_path}?notice=saved").as_str())));
    let owner = app.token_for(w.owner).await;
    let id = editor_path.rsplit('/').next().unwrap();
    let (_, t) = call(&app, &owner, "GET", &format!("/project-templates/{id}"), None).await;
    assert_eq!(t["milestones"], json!([{"key": "report_delivered", "name": "Report delivered", "offset_days": 14}]));
    assert_eq!(t["tasks"][0]["assignee"], "project_lead");
    assert_eq!(t["tasks"].as_array().unwrap().len(), 1, "empty rows are dropped");
    assert_eq!(t["folders"], json!([{"name": "Findings", "staff_only": true}]));
    assert_eq!(t["pages"][0]["title"], "Scope");
    // The editor shows the saved rows, and the new milestone is now a task's choice.
    let editor = page(editor_path.clone()).await;
    assert!(
        editor.body.contains("value=\"Crawl the site\"") && editor.body.contains("<option value=\"report_delivered\""),
        "{}",
        editor.body
    );

    // A bad value: the form again, 422 naming the row, with what was sent.
    let mut bad = form.clone();
    bad.iter_mut().find(|(k, _)| k == "t_offset").unwrap().1 = "-3".into();
    let a = post(editor_path.clone(), bad).await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.body.contains("tasks[0].offset_days") && a.body.contains("value=\"Crawl the site\""), "{}", a.body);
    let mut bad = form.clone();
    bad.iter_mut().find(|(k, _)| k == "t_offset").unwrap().1 = "soon".into();
    let a = post(editor_path.clone(), bad).await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("whole number"), "{}", a.body);

    // The client page offers the templates; a project made there starts with them.
    let client_page = page(format!("/staff/clients/{}", w.a.id)).await;
    assert!(client_page.body.contains(&format!("<option value=\"{id}\">Audit</option>")), "{}", client_page.body);
    let a = post(
        format!("/staff/clients/{}/projects", w.a.id),
        kv(&[
            ("name", "Audit for A"),
            ("template_id", id),
            ("start_date", "2027-02-01"),
            ("lead_id", ""),
            ("status", "active"),
            ("description", ""),
            ("due_date", ""),
        ]),
    )
    .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let project_path = a.location().unwrap().to_string();
    let project = page(project_path.clone()).await;
    assert!(project.body.contains("Report delivered") && project.body.contains("Crawl the site"), "{}", project.body);
    assert!(project.body.contains("Save as template"));

    // Save as template, copy, delete.
    let a = post(format!("{project_path}/template"), kv(&[("name", "Audit again")])).await;
    assert_eq!(a.status, 303);
    assert!(page(a.location().unwrap().to_string()).await.body.contains("value=\"Audit again\""));
    let a = post(format!("/staff/templates/{id}/copy"), vec![]).await;
    assert_eq!(a.status, 303);
    assert!(page(a.location().unwrap().to_string()).await.body.contains("Copy of Audit"));
    // What new clients start with, chosen on the library page.
    let a = post(
        "/staff/onboarding".into(),
        kv(&[("project_templates", id), ("invitation_text", "Hi there"), ("welcome_text", "")]),
    )
    .await;
    assert_eq!((a.status, a.location()), (303, Some("/staff/templates?notice=onboarding")));
    let list = page("/staff/templates?notice=onboarding".into()).await;
    assert!(list.body.contains(&format!("value=\"{id}\" checked")) && list.body.contains("Hi there"), "{}", list.body);
    let a = post("/staff/onboarding".into(), kv(&[("project_templates", "not-an-id")])).await;
    assert_eq!(a.status, 422);
    let a = post(format!("/staff/templates/{id}/delete"), vec![]).await;
    assert_eq!((a.status, a.location()), (303, Some("/staff/templates?notice=deleted")));
    assert_eq!(page(editor_path).await.status, 404);
}

#[tokio::test]
async fn a_new_client_starts_with_the_onboarding_and_its_first_admin_gets_their_tasks() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (owner, staff) = (app.token_for(w.owner).await, app.token_for(w.staff).await);
    let (_, lib) = call(&app, &staff, "GET", "/project-templates", None).await;
    let website = items(&lib).into_iter().find(|t| t["name"] == "Website redesign").unwrap()["id"].clone();
    let (s, v) = call(&app, &staff, "GET", "/onboarding", None).await;
    assert_eq!((s, &v), (200, &json!({"invitation_text": null, "welcome_text": null, "project_templates": []})));
    let body = json!({"invitation_text": "Welcome aboard!", "welcome_text": "Your project lives here.", "project_templates": [website]});
    assert_eq!(call(&app, &staff, "PUT", "/onboarding", Some(body.clone())).await.0, 403, "owners and admins only");
    for u in [w.a.admin, w.a.viewer] {
        let t = app.token_for(u).await;
        assert_eq!(call(&app, &t, "GET", "/onboarding", None).await.0, 404);
        assert_eq!(call(&app, &t, "PUT", "/onboarding", Some(body.clone())).await.0, 404);
    }
    for (bad, name) in [
        (json!({"project_templates": [atrium_core::ids::ProjectTemplateId::new()]}), "project_templates[0]"),
        (json!({"project_templates": [website, website]}), "project_templates[1]"),
        (json!({"welcome_text": "x".repeat(2001)}), "welcome_text"),
        (json!({"project_templates": ["nope"]}), "project_templates"),
        (json!({"pages": []}), "pages"),
    ] {
        let (s, v) = call(&app, &owner, "PUT", "/onboarding", Some(bad)).await;
        assert_eq!(s, 422, "{name}: {v}");
        assert!(msg(&v).contains(name), "{name}: {v}");
    }
    let (s, v) = call(&app, &owner, "PUT", "/onboarding", Some(body.clone())).await;
    assert_eq!((s, &v), (200, &body));
    assert_eq!(call(&app, &staff, "GET", "/onboarding", None).await.1, body);

    // A new client: its texts, and the project made from the template, today, led by whoever
    // added the client; the client's admin tasks wait for one.
    let (s, c) = call(&app, &staff, "POST", "/clients", Some(json!({"name": "Newco"}))).await;
    assert_eq!(s, 201, "{c}");
    let cid = c["id"].as_str().unwrap().to_string();
    let texts = app
        .query_strings(
            "SELECT invitation_text, welcome_text FROM clients WHERE name = 'Newco'",
            vec![],
            &["invitation_text", "welcome_text"],
        )
        .await;
    assert_eq!(texts, [["Welcome aboard!".to_string(), "Your project lives here.".to_string()]]);
    let (_, ps) = call(&app, &staff, "GET", &format!("/projects?client_id={cid}"), None).await;
    let ps = items(&ps);
    assert_eq!(ps.len(), 1, "{ps:?}");
    assert_eq!(ps[0]["name"], "Website redesign");
    assert_eq!(ps[0]["start_date"].as_str(), Some(chrono::Utc::now().date_naive().to_string().as_str()));
    let pid = ps[0]["id"].as_str().unwrap().to_string();
    let task_of =
        |ts: &Value, title: &str| items(ts).into_iter().find(|t| t["title"] == title).unwrap()["assignee_id"].clone();
    let (_, ts) = call(&app, &staff, "GET", &format!("/projects/{pid}/tasks?limit=100"), None).await;
    assert_eq!(task_of(&ts, "Kick-off call"), json!(w.staff));
    assert_eq!(task_of(&ts, "Send logins for the current site and analytics"), Value::Null);

    // Its first Client Admin joins and gets them; a viewer who joins first gets none.
    let invite = |email: &'static str, role: &'static str| {
        let (app, owner, cid) = (&app, owner.clone(), cid.clone());
        async move {
            let (s, inv) = call(
                app,
                &owner,
                "POST",
                "/invitations",
                Some(json!({"email": email, "name": email, "role": role, "client_id": cid})),
            )
            .await;
            assert_eq!(s, 201, "{inv}");
            let token = inv["accept_url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
            let r = api()
                .post(app.url(&format!("/api/v1/invitations/{token}/accept")))
                .json(&json!({"password": "a long enough phrase"}))
                .send()
                .await
                .unwrap();
            let a = Answer::of(r).await;
            assert_eq!(a.status, 201, "accepted: {}", a.body);
            a.json()["user"]["id"].clone()
        }
    };
    invite("viewer@newco.test", "client_viewer").await;
    let (_, ts) = call(&app, &staff, "GET", &format!("/projects/{pid}/tasks?limit=100"), None).await;
    assert_eq!(task_of(&ts, "Send logins for the current site and analytics"), Value::Null);
    let boss = invite("boss@newco.test", "client_admin").await;
    let (_, ts) = call(&app, &staff, "GET", &format!("/projects/{pid}/tasks?limit=100"), None).await;
    for title in [
        "Send logins for the current site and analytics",
        "Review and approve the designs",
        "Provide final page copy and images",
    ] {
        assert_eq!(task_of(&ts, title), boss, "{title}");
    }
    assert_eq!(task_of(&ts, "Kick-off call"), json!(w.staff), "staff tasks stay");
    // A second admin gets nothing: the tasks were handed over once.
    invite("deputy@newco.test", "client_admin").await;
    let (_, again) = call(&app, &staff, "GET", &format!("/projects/{pid}/tasks?limit=100"), None).await;
    assert_eq!(task_of(&again, "Review and approve the designs"), task_of(&ts, "Review and approve the designs"));

    // A template deleted later is left out of the onboarding; other clients are untouched.
    assert_eq!(
        call(&app, &owner, "DELETE", &format!("/project-templates/{}", website.as_str().unwrap()), None).await.0,
        204
    );
    assert_eq!(call(&app, &staff, "GET", "/onboarding", None).await.1["project_templates"], json!([]));
    let (s, c) = call(&app, &staff, "POST", "/clients", Some(json!({"name": "Laterco"}))).await;
    assert_eq!(s, 201);
    let (_, ps) = call(&app, &staff, "GET", &format!("/projects?client_id={}", c["id"].as_str().unwrap()), None).await;
    assert!(items(&ps).is_empty());
}

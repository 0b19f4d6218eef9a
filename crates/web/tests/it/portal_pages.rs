//! What the client portal's pages show: the project page's tasks, assignees, progress and
//! milestones come from one overview read and must match the data.

use crate::common::*;

#[tokio::test]
async fn project_page_shows_tasks_assignees_progress_and_milestones() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let owner = app.actor(w.owner).await;
    app.store.create_milestone(&owner, w.a.project, "Design sign-off".into(), None, None).await.expect("milestone");

    let (c, _) = sign_in(&app, "admin@a.test", PASSWORD).await;
    let res = c.get(app.url(&format!("/portal/projects/{}", w.a.project))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains(&w.a.project_name));
    assert!(page.contains(&w.a.task_title), "open task listed");
    assert!(page.contains(&w.a.chore_title), "done task listed");
    assert!(page.contains("Admina Person"), "the client's assignee is named");
    assert!(page.contains("Sam Staff"), "the staff assignee is named");
    assert!(page.contains("50% done"), "one of two tasks is done");
    assert!(page.contains("Design sign-off"), "milestones on the timeline");
    assert!(!page.contains(&w.a.note_text));
    for secret in w.b.secrets() {
        assert!(!page.contains(&secret), "client B's {secret:?} leaked");
    }

    // Another client's project is simply not there.
    let res = c.get(app.url(&format!("/portal/projects/{}", w.b.project))).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let page = res.text().await.unwrap();
    assert!(page.contains("Page not found"));
    assert!(page.contains("href=\"/portal/tasks\""), "the error page keeps the signed-in navigation");
    for secret in w.b.secrets() {
        assert!(!page.contains(&secret), "client B's {secret:?} leaked");
    }
    app.stop().await;
}

#[tokio::test]
async fn mark_done_answers_htmx_with_the_row_in_its_context() {
    let app = TestApp::spawn().await;
    let w = seed(&app).await;
    let (c, csrf) = sign_in(&app, "admin@a.test", PASSWORD).await;
    let url = app.url(&format!("/portal/tasks/{}/status", w.a.task));
    let send = |fields: Vec<(&'static str, &'static str)>| {
        let mut form = vec![("_csrf", csrf.clone())];
        form.extend(fields.into_iter().map(|(k, v)| (k, v.to_string())));
        c.post(&url).header("hx-request", "true").form(&form).send()
    };
    // From Home / My tasks: the row names its project.
    let res = send(vec![("status", "done")]).await.unwrap();
    assert_eq!(res.status(), 200);
    let row = res.text().await.unwrap();
    assert!(row.starts_with("<li") && row.contains("Reopen"), "{row}");
    assert!(row.contains(&w.a.project_name));
    // From the project page: it does not repeat it.
    let res = send(vec![("status", "todo"), ("in_project", "true")]).await.unwrap();
    let row = res.text().await.unwrap();
    assert!(row.contains("Mark done"), "{row}");
    assert!(!row.contains(&w.a.project_name), "{row}");
    app.stop().await;
}

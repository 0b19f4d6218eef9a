//! Unit tests of the access policy.

use super::*;

#[test]
fn portal_pages_follow_the_role() {
    let c = ClientId::new();
    let pages = |r| actor(r, Some(c)).portal_pages();
    use PortalPage::*;
    assert_eq!(pages(Role::ClientAdmin), vec![Home, Projects, MyTasks, Files, Messages, Approvals, Billing, HelpDesk]);
    assert_eq!(pages(Role::ClientViewer), vec![Home, Projects, MyTasks, Files, Messages, Approvals, HelpDesk]);
    assert_eq!(pages(Role::ClientFinance), vec![Home, Billing, HelpDesk]);
    assert!(actor(Role::ClientFinance, Some(c)).portal_is_billing_only());
    assert!(!actor(Role::ClientAdmin, Some(c)).portal_is_billing_only());
    assert!(!actor(Role::ClientViewer, Some(c)).portal_is_billing_only());
}

#[test]
fn view_as_needs_staff_and_an_active_user_of_that_client() {
    let (c, other) = (ClientId::new(), ClientId::new());
    let user = |role: Role, client: Option<ClientId>, active: bool| User {
        id: UserId::new(),
        email: "u@x.io".into(),
        name: "U".into(),
        role,
        client_id: client,
        active,
        timezone: None,
    };
    let staff = actor(Role::Staff, None);
    assert!(staff.may_view_as(c, &user(Role::ClientViewer, Some(c), true)).is_ok());
    assert!(matches!(staff.may_view_as(c, &user(Role::ClientAdmin, Some(other), true)), Err(Error::Invalid { .. })));
    assert!(matches!(staff.may_view_as(c, &user(Role::ClientAdmin, Some(c), false)), Err(Error::Invalid { .. })));
    assert!(matches!(staff.may_view_as(c, &user(Role::Admin, None, true)), Err(Error::Invalid { .. })));
    let client = actor(Role::ClientAdmin, Some(c));
    assert!(matches!(client.may_view_as(c, &user(Role::ClientViewer, Some(c), true)), Err(Error::NotFound)));
    let viewing = actor(Role::ClientAdmin, Some(c)).viewed_by(staff.user_id());
    assert!(viewing.may_view_as(c, &user(Role::ClientViewer, Some(c), true)).is_err());
}

#[test]
fn each_side_admits_only_its_own() {
    let c = ClientId::new();
    let staff = actor(Role::Staff, None);
    let client = actor(Role::ClientAdmin, Some(c));
    let viewing = actor(Role::ClientViewer, Some(c)).viewed_by(staff.user_id());
    assert!(staff.may_enter(Side::Staff).is_ok());
    assert!(matches!(staff.may_enter(Side::Portal), Err(Error::NotFound)));
    assert!(matches!(client.may_enter(Side::Staff), Err(Error::NotFound)));
    assert!(client.may_enter(Side::Portal).is_ok());
    assert!(viewing.may_enter(Side::Portal).is_ok());
    assert!(viewing.may_enter(Side::Staff).is_err());
    assert_eq!(Side::of(&staff), Side::Staff);
    assert_eq!(Side::of(&viewing), Side::Portal);
}

#[test]
fn live_events_reach_only_their_audience() {
    use crate::ids::{ProjectId, TaskId};
    let mine = ClientId::new();
    let other = ClientId::new();
    let admin = actor(Role::ClientAdmin, Some(mine));
    let finance = actor(Role::ClientFinance, Some(mine));
    let staff = actor(Role::Staff, None);
    let ev = |c| LiveEvent::task_updated(c, ProjectId::new(), TaskId::new(), crate::model::TaskStatus::Done);
    assert!(admin.may_receive(&ev(mine)));
    assert!(!admin.may_receive(&ev(other)), "another client's event");
    assert!(!finance.may_receive(&ev(mine)), "finance sees no project work");
    assert!(staff.may_receive(&ev(other)));
    let note = LiveEvent::comment_created(
        mine,
        ProjectId::new(),
        TaskId::new(),
        crate::ids::CommentId::new(),
        Visibility::Note,
    );
    assert!(!admin.may_receive(&note), "a note never reaches a client");
    assert!(staff.may_receive(&note));
    let n = LiveEvent::notification_created(admin.user_id(), crate::ids::NotificationId::new(), 1);
    assert!(admin.may_receive(&n) && !staff.may_receive(&n));
    assert!(admin.may_receive(&LiveEvent::reload()) && finance.may_receive(&LiveEvent::reload()));
    let mut carrying = LiveEvent::reload();
    carrying.data = serde_json::json!({ "task_id": "x" });
    assert!(!admin.may_receive(&carrying), "an event for everyone may carry nothing");
}

#[test]
fn staff_channel_is_invisible_to_clients_and_viewers_only_read() {
    let mine = ClientId::new();
    let admin = actor(Role::ClientAdmin, Some(mine));
    assert!(matches!(admin.may_read_channel(Channel::Staff), Err(Error::NotFound)));
    assert!(admin.may_post_message(Channel::Client).is_ok());
    let viewer = actor(Role::ClientViewer, Some(mine));
    assert!(viewer.may_read_channel(Channel::Client).is_ok());
    assert!(matches!(viewer.may_post_message(Channel::Client), Err(Error::Forbidden(_))));
    assert!(actor(Role::Staff, None).may_post_message(Channel::Staff).is_ok());
}

#[test]
fn messages_change_only_by_their_author_within_the_window() {
    let a = actor(Role::Staff, None);
    let now = chrono::Utc::now();
    assert!(a.may_change_message(a.user_id(), now - chrono::Duration::minutes(5), now).is_ok());
    assert!(a.may_change_message(a.user_id(), now - chrono::Duration::minutes(16), now).is_err());
    assert!(a.may_change_message(UserId::new(), now, now).is_err());
}

#[test]
fn who_sees_work_decides_mentions() {
    let c = ClientId::new();
    assert!(person_sees_work(Role::Staff, None, c, true));
    assert!(person_sees_work(Role::ClientViewer, Some(c), c, false));
    assert!(!person_sees_work(Role::ClientAdmin, Some(c), c, true), "internal");
    assert!(!person_sees_work(Role::ClientAdmin, Some(ClientId::new()), c, false), "other client");
    assert!(!person_sees_work(Role::ClientFinance, Some(c), c, false), "finance");
}

fn actor(role: Role, client: Option<ClientId>) -> Actor {
    Actor::new(UserId::new(), "A".into(), "a@x.io".into(), role, client).unwrap()
}

#[test]
fn inconsistent_actors_are_refused() {
    assert!(Actor::new(UserId::new(), "A".into(), "a".into(), Role::Staff, Some(ClientId::new())).is_err());
    assert!(Actor::new(UserId::new(), "A".into(), "a".into(), Role::ClientAdmin, None).is_err());
}

#[test]
fn client_scopes_are_their_own_client_only() {
    let mine = ClientId::new();
    let other = ClientId::new();
    let a = actor(Role::ClientAdmin, Some(mine));
    assert!(a.work_scope().allows(mine));
    assert!(!a.work_scope().allows(other));
    assert!(!a.work_scope().includes_notes());
    assert!(!a.client_scope().allows(mine));
    let f = actor(Role::ClientFinance, Some(mine));
    assert!(!f.work_scope().allows(mine), "finance sees no projects");
    let s = actor(Role::Staff, None);
    assert!(s.work_scope().allows(other) && s.work_scope().includes_notes());
}

#[test]
fn deactivating_accounts() {
    let c = Some(ClientId::new());
    let other = UserId::new();
    let owner = actor(Role::Owner, None);
    let admin = actor(Role::Admin, None);
    let staff = actor(Role::Staff, None);
    for a in [&owner, &admin, &staff] {
        assert!(a.may_set_user_active(other, Role::ClientViewer).is_ok());
        assert!(matches!(a.may_set_user_active(a.user_id(), a.role()), Err(Error::Forbidden(_))), "not yourself");
    }
    assert!(owner.may_set_user_active(other, Role::Owner).is_ok());
    assert!(admin.may_set_user_active(other, Role::Staff).is_ok());
    assert!(matches!(admin.may_set_user_active(other, Role::Owner), Err(Error::Forbidden(_))));
    assert!(matches!(staff.may_set_user_active(other, Role::Staff), Err(Error::Forbidden(_))));
    let client = actor(Role::ClientAdmin, c);
    assert!(matches!(client.may_set_user_active(other, Role::ClientViewer), Err(Error::NotFound)));
    let viewing = actor(Role::ClientAdmin, c).viewed_by(owner.user_id());
    assert!(viewing.may_set_user_active(other, Role::ClientViewer).is_err(), "view-as is read-only");
}

#[test]
fn portal_use_and_completing_own_tasks() {
    let c = Some(ClientId::new());
    assert!(matches!(actor(Role::Staff, None).may_use_portal(), Err(Error::NotFound)));
    assert!(actor(Role::ClientViewer, c).may_use_portal().is_ok());
    let staff = actor(Role::Owner, None);
    assert!(actor(Role::ClientAdmin, c).viewed_by(staff.user_id()).may_use_portal().is_ok());
    assert!(actor(Role::ClientAdmin, c).may_complete_own_tasks());
    assert!(!actor(Role::ClientViewer, c).may_complete_own_tasks());
    assert!(!actor(Role::ClientAdmin, c).viewed_by(staff.user_id()).may_complete_own_tasks(), "read-only");
}

#[test]
fn only_owners_and_admins_delete_clients() {
    assert!(actor(Role::Owner, None).may_delete_client().is_ok());
    assert!(actor(Role::Admin, None).may_delete_client().is_ok());
    assert!(matches!(actor(Role::Staff, None).may_delete_client(), Err(Error::Forbidden(_))));
    assert!(matches!(actor(Role::ClientAdmin, Some(ClientId::new())).may_delete_client(), Err(Error::NotFound)));
}

#[test]
fn only_owners_and_admins_read_the_audit_log() {
    assert!(actor(Role::Owner, None).may_read_audit().is_ok());
    assert!(actor(Role::Admin, None).may_read_audit().is_ok());
    assert!(matches!(actor(Role::Staff, None).may_read_audit(), Err(Error::Forbidden(_))));
    assert!(matches!(actor(Role::ClientAdmin, Some(ClientId::new())).may_read_audit(), Err(Error::NotFound)));
}

#[test]
fn staff_review_held_mail_and_clients_never_see_it() {
    for r in [Role::Owner, Role::Admin, Role::Staff] {
        assert!(actor(r, None).may_review_held_mail().is_ok(), "{r:?}");
    }
    let c = ClientId::new();
    for r in [Role::ClientAdmin, Role::ClientViewer, Role::ClientFinance] {
        assert!(matches!(actor(r, Some(c)).may_review_held_mail(), Err(Error::NotFound)), "{r:?}");
    }
    let staff = actor(Role::Staff, None);
    let viewing = actor(Role::ClientAdmin, Some(c)).viewed_by(staff.user_id());
    assert!(viewing.may_review_held_mail().is_err());
}

#[test]
fn task_updates() {
    let c = ClientId::new();
    let a = actor(Role::ClientAdmin, Some(c));
    let me = Some(a.user_id());
    assert!(a.may_update_task(me, TaskChange::StatusOnly).is_ok());
    assert!(a.may_update_task(me, TaskChange::Other).is_err());
    assert!(a.may_update_task(Some(UserId::new()), TaskChange::StatusOnly).is_err());
    let v = actor(Role::ClientViewer, Some(c));
    assert!(v.may_update_task(Some(v.user_id()), TaskChange::StatusOnly).is_err());
    assert!(actor(Role::Staff, None).may_update_task(None, TaskChange::Other).is_ok());
}

#[test]
fn comments_and_view_as() {
    let c = ClientId::new();
    let a = actor(Role::ClientAdmin, Some(c));
    assert!(a.may_comment(Visibility::Reply).is_ok());
    assert!(matches!(a.may_comment(Visibility::Note), Err(Error::Forbidden(_))));
    assert!(actor(Role::ClientViewer, Some(c)).may_comment(Visibility::Reply).is_err());
    let viewed = a.clone().viewed_by(UserId::new());
    assert!(viewed.may_comment(Visibility::Reply).is_err(), "view as client is read-only");
    assert!(viewed.may_update_task(Some(viewed.user_id()), TaskChange::StatusOnly).is_err());
}

#[test]
fn invitations() {
    assert!(actor(Role::Staff, None).may_invite(Role::ClientViewer).is_ok());
    assert!(actor(Role::Staff, None).may_invite(Role::Admin).is_err());
    assert!(actor(Role::Admin, None).may_invite(Role::Staff).is_ok());
    assert!(actor(Role::ClientAdmin, Some(ClientId::new())).may_invite(Role::ClientViewer).is_err());
}

#[test]
fn approvals() {
    let c = ClientId::new();
    let staff = actor(Role::Staff, None);
    assert!(staff.may_request_approval().is_ok());
    assert!(matches!(actor(Role::ClientAdmin, Some(c)).may_request_approval(), Err(Error::Forbidden(_))));
    let a = actor(Role::ClientAdmin, Some(c));
    assert!(a.may_decide(&[a.user_id()]).is_ok());
    assert!(a.may_decide(&[UserId::new()]).is_err(), "not a named approver");
    assert!(a.clone().viewed_by(staff.user_id()).may_decide(&[a.user_id()]).is_err(), "view-as is read-only");
    let v = actor(Role::ClientViewer, Some(c));
    assert!(v.may_decide(&[v.user_id()]).is_err(), "viewers do not decide");
    assert!(staff.may_decide(&[staff.user_id()]).is_err(), "staff do not approve for the client");
    assert!(check_approver(c, Role::ClientAdmin, Some(c)).is_ok());
    assert!(check_approver(c, Role::ClientViewer, Some(c)).is_err());
    assert!(check_approver(c, Role::ClientFinance, Some(c)).is_err());
    assert!(check_approver(c, Role::ClientAdmin, Some(ClientId::new())).is_err());
    assert!(check_approver(c, Role::Staff, None).is_err());
}

#[test]
fn billing_is_for_staff_client_admins_and_finance_only() {
    let c = ClientId::new();
    let other = ClientId::new();
    let staff = actor(Role::Staff, None);
    assert!(staff.billing_scope().allows(other) && staff.billing_scope().includes_notes(), "staff see drafts");
    for role in [Role::ClientAdmin, Role::ClientFinance] {
        let a = actor(role, Some(c));
        assert!(a.billing_scope().allows(c) && !a.billing_scope().allows(other));
        assert!(!a.billing_scope().includes_notes(), "clients never see drafts");
        assert!(a.sees_billing());
        assert!(matches!(a.may_manage_invoices(), Err(Error::Forbidden(_))));
    }
    let viewer = actor(Role::ClientViewer, Some(c));
    assert!(!viewer.billing_scope().allows(c) && !viewer.sees_billing());
    assert!(staff.may_manage_invoices().is_ok());
    let viewing = actor(Role::ClientFinance, Some(c)).viewed_by(staff.user_id());
    assert!(viewing.may_manage_invoices().is_err(), "view-as is read-only");
    assert!(actor(Role::Admin, None).may_configure_billing().is_ok());
    assert!(matches!(staff.may_configure_billing(), Err(Error::Forbidden(_))));
    assert!(matches!(actor(Role::ClientAdmin, Some(c)).may_configure_billing(), Err(Error::NotFound)));
}

#[test]
fn assignees() {
    let c = ClientId::new();
    assert!(check_assignee(c, Role::Staff, None).is_ok());
    assert!(check_assignee(c, Role::ClientViewer, Some(c)).is_ok());
    assert!(check_assignee(c, Role::ClientAdmin, Some(ClientId::new())).is_err());
}

#[test]
fn invoices_are_announced_to_the_clients_admins_and_finance_users_only() {
    let (a, b) = (ClientId::new(), ClientId::new());
    assert!(person_receives_invoices(Role::ClientAdmin, Some(a), a));
    assert!(person_receives_invoices(Role::ClientFinance, Some(a), a));
    assert!(!person_receives_invoices(Role::ClientViewer, Some(a), a));
    assert!(!person_receives_invoices(Role::ClientFinance, Some(b), a));
    assert!(!person_receives_invoices(Role::Owner, None, a));
}

#[test]
fn invoice_exports_are_for_staff_and_invisible_to_those_without_billing() {
    let c = ClientId::new();
    let actor = |role, client| Actor::new(UserId::new(), "A".into(), "a@x.test".into(), role, client).unwrap();
    assert!(actor(Role::Staff, None).may_export_invoices().is_ok());
    assert!(matches!(actor(Role::ClientFinance, Some(c)).may_export_invoices(), Err(Error::Forbidden(_))));
    assert!(matches!(actor(Role::ClientAdmin, Some(c)).may_export_invoices(), Err(Error::Forbidden(_))));
    assert!(matches!(actor(Role::ClientViewer, Some(c)).may_export_invoices(), Err(Error::NotFound)));
}

#[test]
fn project_pages_and_teams_are_staff_work_the_client_sees_without_staff_only_pages() {
    let c = ClientId::new();
    let staff = actor(Role::Staff, None);
    let client = actor(Role::ClientAdmin, Some(c));
    let viewing = actor(Role::ClientAdmin, Some(c)).viewed_by(staff.user_id());
    assert!(staff.may_manage_project_pages().is_ok() && staff.may_set_project_team().is_ok());
    for a in [&client, &viewing] {
        assert!(matches!(a.may_manage_project_pages(), Err(Error::Forbidden(_))));
        assert!(matches!(a.may_set_project_team(), Err(Error::Forbidden(_))));
    }
    assert!(staff.work_scope().includes_staff_only());
    assert!(!client.work_scope().includes_staff_only() && !viewing.work_scope().includes_staff_only());
    assert!(check_team_member(Role::Staff).is_ok() && check_team_member(Role::Owner).is_ok());
    assert!(matches!(check_team_member(Role::ClientAdmin), Err(Error::Invalid { field, .. }) if field == "user_ids"));
}

#[test]
fn job_titles_are_staff_only_and_set_by_admins_or_oneself() {
    let staff = actor(Role::Staff, None);
    let admin = actor(Role::Admin, None);
    let colleague = UserId::new();
    assert!(admin.may_set_job_title(colleague, Role::Staff).is_ok());
    assert!(staff.may_set_job_title(staff.user_id(), Role::Staff).is_ok());
    assert!(matches!(staff.may_set_job_title(colleague, Role::Staff), Err(Error::Forbidden(_))));
    assert!(matches!(admin.may_set_job_title(colleague, Role::ClientAdmin), Err(Error::Invalid { .. })));
    let client = actor(Role::ClientAdmin, Some(ClientId::new()));
    assert!(matches!(client.may_set_job_title(client.user_id(), Role::ClientAdmin), Err(Error::NotFound)));
}

#[test]
fn only_client_users_acting_as_themselves_finish_onboarding() {
    let c = ClientId::new();
    let staff = actor(Role::Staff, None);
    let client = actor(Role::ClientViewer, Some(c));
    let viewing = actor(Role::ClientAdmin, Some(c)).viewed_by(staff.user_id());
    assert!(client.may_finish_onboarding().is_ok());
    assert!(client.sees_onboarding(false) && !client.sees_onboarding(true));
    assert!(matches!(staff.may_finish_onboarding(), Err(Error::NotFound)));
    assert!(matches!(viewing.may_finish_onboarding(), Err(Error::Forbidden(_))));
    assert!(!viewing.sees_onboarding(false) && !staff.sees_onboarding(false));
}

#[test]
fn branding_is_for_owners_and_admins() {
    let c = ClientId::new();
    let actor = |role, client| Actor::new(UserId::new(), "A".into(), "a@x.test".into(), role, client).unwrap();
    assert!(actor(Role::Owner, None).may_manage_branding().is_ok());
    assert!(actor(Role::Admin, None).may_manage_branding().is_ok());
    assert!(matches!(actor(Role::Staff, None).may_manage_branding(), Err(Error::Forbidden(_))));
    for role in [Role::ClientAdmin, Role::ClientFinance, Role::ClientViewer] {
        assert!(matches!(actor(role, Some(c)).may_manage_branding(), Err(Error::NotFound)), "{role:?}");
    }
    let owner = actor(Role::Owner, None);
    let viewing = actor(Role::ClientAdmin, Some(c)).viewed_by(owner.user_id());
    assert!(viewing.may_manage_branding().is_err(), "view-as is read-only");
}

fn hiding(pages: &[PortalPage]) -> PortalPages {
    pages.iter().fold(PortalPages::ALL_SHOWN, |p, page| p.with(*page, false).unwrap())
}

#[test]
fn a_hidden_page_is_gone_for_the_clients_users_and_kept_for_staff() {
    use PortalPage::*;
    let c = ClientId::new();
    let hidden = hiding(&[Files, Messages, Approvals, Billing, HelpDesk]);
    let admin = actor(Role::ClientAdmin, Some(c)).showing(hidden);
    assert_eq!(admin.portal_pages(), vec![Home, Projects, MyTasks]);
    for page in PortalPage::HIDEABLE {
        assert!(matches!(admin.may_use_area(page), Err(Error::NotFound)), "{page:?}");
        assert!(!admin.area_scope(page).allows(c), "{page:?}");
    }
    assert!(!admin.sees_billing() && !admin.billing_scope().allows(c));
    // Projects and My tasks are untouched: the work scope stays.
    assert!(admin.work_scope().allows(c) && admin.may_use_area(Projects).is_ok());
    // "View as client" sees what the viewed user sees.
    let viewing = actor(Role::ClientAdmin, Some(c)).showing(hidden).viewed_by(UserId::new());
    assert!(viewing.may_use_area(Files).is_err() && viewing.may_use_area(MyTasks).is_ok());
    // Staff ignore a client's settings (and `showing` does not apply to them).
    let staff = actor(Role::Staff, None).showing(hidden);
    for page in PortalPage::ALL {
        assert!(staff.may_use_area(page).is_ok(), "{page:?}");
        assert!(staff.area_scope(page).allows(c), "{page:?}");
    }
    // Only the hidden one goes; roles still apply to the rest.
    let no_files = hiding(&[Files]);
    let viewer = actor(Role::ClientViewer, Some(c)).showing(no_files);
    assert!(viewer.may_use_area(Files).is_err() && viewer.may_use_area(Messages).is_ok());
    assert!(!viewer.sees_portal_page(Billing), "viewers never have billing");
    let finance = actor(Role::ClientFinance, Some(c)).showing(hiding(&[Messages]));
    assert!(finance.may_use_area(Billing).is_ok() && finance.may_use_area(Messages).is_err());
    assert!(!finance.sees_portal_page(Files), "finance users see no project work");
}

#[test]
fn events_of_a_hidden_area_do_not_reach_the_client() {
    use crate::ids::{ApprovalId, MessageId, ProjectId, TaskId};
    let c = ClientId::new();
    let msg = LiveEvent::message("created", c, ProjectId::new(), MessageId::new(), Channel::Client);
    let appr = LiveEvent::approval_updated(c, ProjectId::new(), ApprovalId::new());
    let task = LiveEvent::task_updated(c, ProjectId::new(), TaskId::new(), crate::model::TaskStatus::Done);
    assert_eq!(msg.area(), Some(PortalPage::Messages));
    assert_eq!(appr.area(), Some(PortalPage::Approvals));
    assert_eq!(task.area(), None);
    let hidden = actor(Role::ClientAdmin, Some(c)).showing(hiding(&[PortalPage::Messages]));
    assert!(!hidden.may_receive(&msg) && hidden.may_receive(&appr) && hidden.may_receive(&task));
    let shown = actor(Role::ClientAdmin, Some(c));
    assert!(shown.may_receive(&msg));
    assert!(actor(Role::Staff, None).showing(hiding(&[PortalPage::Messages])).may_receive(&msg));
}

#[test]
fn notifications_of_a_hidden_area_are_not_heard() {
    use crate::model::NotificationSubject as S;
    let pages = hiding(&[PortalPage::Approvals, PortalPage::Billing]);
    assert!(!person_hears_of(Role::ClientAdmin, pages, S::Approval));
    assert!(!person_hears_of(Role::ClientFinance, pages, S::Invoice));
    assert!(person_hears_of(Role::ClientAdmin, pages, S::Project));
    assert!(person_hears_of(Role::ClientAdmin, pages, S::Task));
    assert!(person_hears_of(Role::Staff, pages, S::Approval));
    let a = actor(Role::ClientViewer, Some(ClientId::new())).showing(pages);
    assert!(!a.hears_of(S::Approval) && a.hears_of(S::Project));
}

#[test]
fn quick_actions_follow_the_pages_the_user_sees() {
    use crate::quick_actions::QuickAction;
    use PortalPage::Billing;
    let c = ClientId::new();
    let viewer = actor(Role::ClientViewer, Some(c)).showing(PortalPages::ALL_SHOWN);
    assert!(viewer.sees_quick_action(QuickAction::Projects) && !viewer.sees_quick_action(QuickAction::Billing));
    let admin = actor(Role::ClientAdmin, Some(c)).showing(PortalPages::ALL_SHOWN);
    assert!(admin.sees_quick_action(QuickAction::Billing) && admin.sees_quick_action(QuickAction::Meeting));
    let no_billing = PortalPages::ALL_SHOWN.with(Billing, false).unwrap();
    let admin = actor(Role::ClientAdmin, Some(c)).showing(no_billing);
    assert!(!admin.sees_quick_action(QuickAction::Billing) && admin.sees_quick_action(QuickAction::Projects));
    let finance = actor(Role::ClientFinance, Some(c)).showing(PortalPages::ALL_SHOWN);
    assert!(finance.sees_quick_action(QuickAction::Billing) && !finance.sees_quick_action(QuickAction::Projects));
    // Ask for help: for those who may open a ticket, while the Help desk shows.
    assert!(finance.sees_quick_action(QuickAction::HelpDesk) && admin.sees_quick_action(QuickAction::HelpDesk));
    assert!(!viewer.sees_quick_action(QuickAction::HelpDesk), "viewers only read tickets");
    let no_desk = PortalPages::ALL_SHOWN.with(PortalPage::HelpDesk, false).unwrap();
    assert!(!actor(Role::ClientAdmin, Some(c)).showing(no_desk).sees_quick_action(QuickAction::HelpDesk));
}

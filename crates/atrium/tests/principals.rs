//! Every public store function works for someone (issue 12, "an explicit system principal").
//!
//! 1. Each `pub fn` of an `impl Store` block in `crates/store/src` takes the `Actor` it acts
//!    for, a `Scope` made from one, or a capability only a verified secret yields
//!    (`UnsubscribeLink`, `RatingLink`), or the help desk's `TicketScope` — or it is infrastructure listed in [`INFRASTRUCTURE`] with the
//!    reason. Work done on nobody's behalf is a method of a principal handle instead
//!    (`SignIn`, `JobRunner`, `Operator` in `crates/store/src/system.rs`), never of `Store`.
//! 2. Each handle is taken only by the code it belongs to ([`HANDLE_USERS`]): a page handler
//!    cannot reach for `store.operator()` to purge a client or `store.sign_in()` to mint a
//!    session.
//!
//! Items under `#[cfg(test)]` or `#[cfg(any(test, feature = "test-support"))]` are test
//! helpers and not checked; neither are test files (`tests/`, `tests.rs`).

use std::collections::BTreeSet;
mod sources;

use sources::{rel, root, rust_files};

use syn::{FnArg, ImplItem, Item, Type, Visibility};

/// Public `Store` methods that take no actor, on purpose, and why.
const INFRASTRUCTURE: &[(&str, &str)] = &[
    ("migrate", "start-up: applies migrations"),
    ("ping", "readiness probe"),
    ("backend", "which database: no data"),
    ("close", "shutdown"),
    ("subscribe", "the live event bus: each event is filtered by Actor::may_receive before it is sent"),
    ("revocations", "the revocation feed: ids only, consumed by session caches and streams"),
    ("prune_revocations", "maintenance of the revocation feed (age-based delete)"),
    ("hit_rate_limit", "a counter keyed by what the caller hashes: no data"),
    ("prune_rate_limits", "maintenance of the rate-limit counters"),
    ("session_actor", "where actors come from: the presented session secret is the authority"),
    ("session_alive", "re-checks a session id that session_actor already resolved"),
    ("api_token_actor", "where a token's actor comes from: the presented API token secret is the authority"),
    ("api_token_alive", "re-checks a token id that api_token_actor already resolved"),
    ("verify_unsubscribe", "checks a signature and yields the UnsubscribeLink capability"),
    ("verify_rating_link", "checks a signature and yields the RatingLink capability"),
    ("branding", "public: the agency's name, colours and logo are shown to everyone (the sign-in page)"),
    ("blob_referenced", "blob bookkeeping after a failed upload: answers only whether to delete a hash"),
    ("sign_in", "returns the SignIn principal (see HANDLE_USERS)"),
    ("job_runner", "returns the JobRunner principal (see HANDLE_USERS)"),
    ("operator", "returns the Operator principal (see HANDLE_USERS)"),
    ("mail_in", "returns the MailIn principal (see HANDLE_USERS)"),
];

/// Where each principal handle may be taken (paths relative to the workspace root; a trailing
/// `/` means a directory).
const HANDLE_USERS: &[(&str, &[&str])] = &[
    // The sign-in flows, the public pages that check a link before showing its form, and the
    // demo (it signs its people in, and looks for its logins).
    ("sign_in", &["crates/web/src/flows.rs", "crates/web/src/pages/public.rs", "crates/atrium/src/"]),
    // The queue's workers, the mail jobs, and handing a mail to the queue.
    ("job_runner", &["crates/jobs/src/", "crates/web/src/jobs.rs", "crates/web/src/state.rs"]),
    // The inbound mail handler (the IMAP poller and `atrium mail-in` both call it).
    ("mail_in", &["crates/web/src/mail_in/"]),
    // The command line.
    ("operator", &["crates/atrium/src/"]),
];

/// Parameter types that say whom a call works for.
const PRINCIPAL_TYPES: &[&str] = &["Actor", "Scope", "TicketScope", "UnsubscribeLink", "RatingLink"];

/// Whether attributes put an item under test configuration only.
fn test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg") && {
            let t = a.meta.require_list().map(|l| l.tokens.to_string()).unwrap_or_default();
            t == "test" || t.starts_with("any (test") || t.contains("feature = \"test-support\"")
        }
    })
}

/// A type as text (`& atrium_core :: policy :: Actor`).
fn type_names(ty: &Type) -> String {
    use quote::ToTokens;
    ty.to_token_stream().to_string()
}

/// The public `Store` methods of one source file that take no principal: `(name, line)`.
fn unprincipled(src: &str) -> Vec<String> {
    let Ok(file) = syn::parse_file(src) else { return vec!["<unparsable file>".into()] };
    let mut out = Vec::new();
    collect(&file.items, &mut out);
    out
}

fn collect(items: &[Item], out: &mut Vec<String>) {
    for item in items {
        match item {
            Item::Mod(m) if !test_only(&m.attrs) => {
                if let Some((_, items)) = &m.content {
                    collect(items, out);
                }
            }
            Item::Impl(i) if i.trait_.is_none() && !test_only(&i.attrs) => {
                let Type::Path(p) = &*i.self_ty else { continue };
                if p.path.segments.last().is_none_or(|s| s.ident != "Store") {
                    continue;
                }
                for f in &i.items {
                    let ImplItem::Fn(f) = f else { continue };
                    if !matches!(f.vis, Visibility::Public(_)) || test_only(&f.attrs) {
                        continue;
                    }
                    let principled = f.sig.inputs.iter().any(|a| match a {
                        FnArg::Typed(t) => {
                            let names = type_names(&t.ty);
                            PRINCIPAL_TYPES.iter().any(|p| names.split(|c: char| !c.is_alphanumeric()).any(|w| w == *p))
                        }
                        FnArg::Receiver(_) => false,
                    });
                    if !principled {
                        out.push(f.sig.ident.to_string());
                    }
                }
            }
            _ => {}
        }
    }
}

#[test]
fn every_public_store_method_names_whom_it_works_for() {
    let mut files = Vec::new();
    rust_files(&root().join("crates/store/src"), &mut files);
    assert!(files.len() > 30, "the store's sources were found ({})", files.len());
    let allowed: BTreeSet<&str> = INFRASTRUCTURE.iter().map(|(n, _)| *n).collect();
    let mut seen = BTreeSet::new();
    let mut wrong = Vec::new();
    for f in &files {
        let r = rel(f);
        if r.ends_with("/tests.rs") || r.contains("/entity/") || r.contains("/migration/") {
            continue;
        }
        for name in unprincipled(&std::fs::read_to_string(f).expect("read")) {
            if allowed.contains(name.as_str()) {
                seen.insert(name);
            } else {
                wrong.push(format!("{r}: Store::{name}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "public Store methods that take no Actor, Scope or capability (take one, or move the method onto a \
         principal in system.rs, or list it in INFRASTRUCTURE with the reason):\n  {}",
        wrong.join("\n  ")
    );
    let stale: Vec<_> = allowed.iter().filter(|n| !seen.contains(**n)).collect();
    assert!(stale.is_empty(), "INFRASTRUCTURE lists methods that no longer exist or now take an actor: {stale:?}");
}

/// The `line`s of `src` outside its `#[cfg(test)]` tail that call `.{handle}()`.
fn handle_calls(src: &str, handle: &str) -> Vec<usize> {
    let code = src.split("#[cfg(test)]").next().unwrap_or("");
    let needle = format!(".{handle}()");
    code.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//") && l.contains(&needle))
        .map(|(i, _)| i + 1)
        .collect()
}

#[test]
fn principal_handles_are_taken_only_where_they_belong() {
    let mut files = Vec::new();
    for krate in std::fs::read_dir(root().join("crates")).expect("crates/").flatten() {
        rust_files(&krate.path().join("src"), &mut files);
    }
    let mut wrong = Vec::new();
    let mut used = BTreeSet::new();
    for f in &files {
        let r = rel(f);
        if r.starts_with("crates/store/src/") || r.ends_with("/tests.rs") {
            continue;
        }
        let src = std::fs::read_to_string(f).expect("read");
        for (handle, places) in HANDLE_USERS {
            for line in handle_calls(&src, handle) {
                if places.iter().any(|p| if p.ends_with('/') { r.starts_with(p) } else { r == *p }) {
                    used.insert(*handle);
                } else {
                    wrong.push(format!("{r}:{line}: store.{handle}()"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "a principal taken outside the code it belongs to:\n  {}", wrong.join("\n  "));
    assert_eq!(used.len(), HANDLE_USERS.len(), "every principal is used where listed: {used:?}");
}

#[test]
fn the_scans_find_what_they_look_for() {
    let src = r#"
        impl Store {
            pub async fn open(&self, a: &Actor) {}
            pub async fn scoped(&self, s: &atrium_core::policy::Scope, id: u8) {}
            pub async fn bare(&self, id: UserId) {}
            pub(crate) async fn internal(&self) {}
            #[cfg(any(test, feature = "test-support"))]
            pub async fn helper(&self) {}
            pub fn actors(&self, n: Actors) {}
        }
        impl Other { pub fn free(&self) {} }
        #[cfg(test)]
        mod tests { impl Store { pub fn t(&self) {} } }
    "#;
    assert_eq!(unprincipled(src), vec!["bare".to_string(), "actors".to_string()]);
    let calls = "fn f() {\n    st.store.operator().purge(x);\n}\n// store.operator() in a comment\n#[cfg(test)]\nfn t() { s.operator(); }\n";
    assert_eq!(handle_calls(calls, "operator"), vec![2]);
}

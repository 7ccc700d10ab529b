//! `/admin/audit`: the audit log viewer. The chain's verification status on
//! top (verified up to entry N, or broken at entry N and why), then the
//! entries newest first with filters and paging. Reads go through
//! `Admin::verify_audit` and `Admin::search_audit` (permission ViewAudit).

use super::layout;
use super::session::{Console, Refusal};
use axum::extract::Query;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use nexaguard_access::Permission;
use nexaguard_admin::audit_log::{AuditFilter, AuditPage, ChainStatus};
use nexaguard_audit::{Action, Actor, AuditEntry, Outcome};
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration};

use crate::app::AppState;

/// Entries per page.
const PAGE: usize = 50;

/// The viewer's routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/admin/audit", get(viewer))
}

/// The query string.
#[derive(Debug, Default, Deserialize)]
struct Params {
    action: Option<String>,
    actor: Option<String>,
    outcome: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The filter the fields ask for, or a sentence saying which is wrong.
fn filter(params: &Params) -> Result<AuditFilter, String> {
    let day = |text: &str, field: &str| {
        Date::parse(
            text,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|_| format!("The {field} date {text:?} is not a date (2026-11-24)."))
    };
    Ok(AuditFilter {
        action: given(&params.action)
            .map(|a| a.parse::<Action>())
            .transpose()
            .map_err(|_| "Choose an action from the list.".to_owned())?,
        actor: given(&params.actor)
            .map(Actor::parse)
            .transpose()
            .map_err(|_| {
                "The actor is system, user:UUID or token:UUID, as the log shows it.".to_owned()
            })?,
        outcome: given(&params.outcome)
            .map(|o| o.parse::<Outcome>())
            .transpose()
            .map_err(|_| "The outcome is success, failure or denied.".to_owned())?,
        from: given(&params.from)
            .map(|d| day(d, "from"))
            .transpose()?
            .map(|d| d.midnight().assume_utc()),
        to: given(&params.to)
            .map(|d| day(d, "to"))
            .transpose()?
            .map(|d| d.midnight().assume_utc() + Duration::days(1)),
        before: given(&params.before)
            .map(|b| b.parse::<u64>())
            .transpose()
            .map_err(|_| "That page does not exist.".to_owned())?,
        limit: PAGE,
    })
}

/// `GET /admin/audit`.
async fn viewer(console: Console, uri: Uri) -> Result<Response, Refusal> {
    console.require(Permission::ViewAudit)?;
    let params = Query::<Params>::try_from_uri(&uri)
        .map(|Query(p)| p)
        .map_err(|e| Refusal::Page(StatusCode::BAD_REQUEST, e.body_text()))?;
    let status = console.admin.verify_audit(&console.principal).await?;
    let mut code = StatusCode::OK;
    let page = match filter(&params) {
        Ok(filter) => match console
            .admin
            .search_audit(&console.principal, &filter)
            .await
        {
            Ok(page) => Ok(page),
            Err(error) => match Refusal::from(error) {
                Refusal::Page(c, message) if c.is_client_error() => {
                    code = c;
                    Err(message)
                }
                other => return Err(other),
            },
        },
        Err(message) => {
            code = StatusCode::UNPROCESSABLE_ENTITY;
            Err(message)
        }
    };
    let content = html! {
        h1 { "Audit log" }
        (status_box(&status))
        (filters(&params))
        @match &page {
            Err(message) => p.error role="alert" { (message) },
            Ok(page) => (entries(page, &params)),
        }
    };
    Ok((code, layout::console_page(&console, "Audit log", content)).into_response())
}

/// The verification result, first thing on the page.
fn status_box(status: &ChainStatus) -> Markup {
    html! {
        @match &status.result {
            Ok(report) => {
                div.status.ok #chain-status role="status" {
                    @match &report.head {
                        Some(head) => {
                            "Chain verified up to entry " (head.seq) ": " (report.entries) " entries, "
                            (report.checkpoints) " signed checkpoint(s)."
                        }
                        None => "Chain verified: no entries yet.",
                    }
                }
            }
            Err(broken) => {
                div.status.broken #chain-status role="alert" {
                    "Chain broken at entry " (broken.seq) ": " (broken.reason) "."
                    @if let Some(id) = broken.id { " Entry id " code { (id) } "." }
                    " Entries from there on cannot be trusted; see docs/security.md."
                }
            }
        }
    }
}

fn filters(params: &Params) -> Markup {
    let outcome = given(&params.outcome);
    let action = given(&params.action);
    html! {
        form.filters method="get" action="/admin/audit" {
            label {
                "Action"
                select name="action" {
                    option value="" selected[action.is_none()] { "Any" }
                    @for a in Action::ALL {
                        option value=(a.as_str()) selected[action == Some(a.as_str())] { (a.as_str()) }
                    }
                }
            }
            label { "Actor" input type="text" name="actor" placeholder="user:…, token:… or system"
                autocomplete="off" spellcheck="false" value=[given(&params.actor)]; }
            label {
                "Outcome"
                select name="outcome" {
                    option value="" selected[outcome.is_none()] { "Any" }
                    @for o in [Outcome::Success, Outcome::Failure, Outcome::Denied] {
                        option value=(o.as_str()) selected[outcome == Some(o.as_str())] { (o.as_str()) }
                    }
                }
            }
            label { "From (UTC day)" input type="date" name="from" value=[given(&params.from)]; }
            label { "To (UTC day)" input type="date" name="to" value=[given(&params.to)]; }
            button type="submit" { "Filter" }
        }
    }
}

/// The viewer with the filters of `params`, at the page below `before`
/// (the newest page without it).
fn page_link(params: &Params, before: Option<u64>) -> String {
    let mut parts: Vec<String> = before.map(|b| format!("before={b}")).into_iter().collect();
    for (key, value) in [
        ("action", &params.action),
        ("actor", &params.actor),
        ("outcome", &params.outcome),
        ("from", &params.from),
        ("to", &params.to),
    ] {
        if let Some(v) = given(value) {
            parts.push(format!("{key}={}", query_escape(v)));
        }
    }
    if parts.is_empty() {
        "/admin/audit".to_owned()
    } else {
        format!("/admin/audit?{}", parts.join("&"))
    }
}

/// Percent-encodes what is not unreserved in a query value.
fn query_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn entries(page: &AuditPage, params: &Params) -> Markup {
    html! {
        @if page.entries.is_empty() {
            p #no-entries { "No entries match." }
        } @else {
            div.table-wrap role="region" aria-label="Audit entries" tabindex="0" {
                table #audit-entries {
                    caption { "Entries, newest first" }
                    thead { tr {
                        th scope="col" { "Entry" }
                        th scope="col" { "Time (UTC)" }
                        th scope="col" { "Action" }
                        th scope="col" { "Actor" }
                        th scope="col" { "Target" }
                        th scope="col" { "Outcome" }
                        th scope="col" { "Network" }
                        th scope="col" { "Details" }
                    } }
                    tbody {
                        @for e in &page.entries { (entry_row(e)) }
                    }
                }
            }
        }
        nav.pager aria-label="Pages" {
            @if given(&params.before).is_some() {
                a href=(page_link(params, None)) { "Newest entries" }
            }
            @if let Some(before) = page.next_before {
                a #older href=(page_link(params, Some(before))) rel="next" { "Older entries" }
            }
        }
    }
}

fn entry_row(entry: &AuditEntry) -> Markup {
    let e = &entry.event;
    let details = match &e.details {
        serde_json::Value::Object(map) if map.is_empty() => String::new(),
        other => other.to_string(),
    };
    let outcome_class = match e.outcome {
        Outcome::Success => "success",
        Outcome::Failure => "failure",
        Outcome::Denied => "denied-outcome",
    };
    html! {
        tr {
            th scope="row" { (entry.seq) }
            td { (entry.at.format(&Rfc3339).unwrap_or_default()) }
            td { code { (e.action.as_str()) } }
            td { code.value { (e.actor.to_text()) } }
            td { code.value { (e.target) } }
            td class=(outcome_class) { (e.outcome.as_str()) }
            td { (e.client_network.as_deref().unwrap_or("")) }
            td { code.value { (details) } }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        let mut p = Params::default();
        for (k, v) in pairs {
            let v = Some((*v).to_owned());
            match *k {
                "action" => p.action = v,
                "actor" => p.actor = v,
                "outcome" => p.outcome = v,
                "from" => p.from = v,
                "to" => p.to = v,
                "before" => p.before = v,
                _ => unreachable!(),
            }
        }
        p
    }

    #[test]
    fn fields_become_a_filter() {
        let f = filter(&params(&[
            ("action", "auth.login"),
            ("actor", "system"),
            ("outcome", "failure"),
            ("from", "2026-11-01"),
            ("to", "2026-11-01"),
            ("before", "40"),
        ]))
        .unwrap();
        assert_eq!(f.action, Some(Action::LoginSucceeded));
        assert_eq!(f.actor, Some(Actor::System));
        assert_eq!(f.outcome, Some(Outcome::Failure));
        assert_eq!(f.to.unwrap() - f.from.unwrap(), Duration::days(1));
        assert_eq!(f.before, Some(40));
        assert_eq!(f.limit, PAGE);
        // Empty fields are no condition.
        assert_eq!(
            filter(&params(&[("action", ""), ("actor", " ")])).unwrap(),
            AuditFilter {
                limit: PAGE,
                ..AuditFilter::default()
            }
        );
    }

    #[test]
    fn bad_fields_get_a_sentence() {
        assert!(filter(&params(&[("action", "nope")]))
            .unwrap_err()
            .contains("action"));
        assert!(filter(&params(&[("actor", "alice")]))
            .unwrap_err()
            .contains("user:UUID"));
        assert!(filter(&params(&[("from", "2026-13-01")]))
            .unwrap_err()
            .contains("not a date"));
    }

    #[test]
    fn the_next_page_keeps_the_filters() {
        let p = params(&[("action", "auth.login"), ("actor", "user:a b")]);
        assert_eq!(
            page_link(&p, Some(7)),
            "/admin/audit?before=7&action=auth.login&actor=user%3Aa%20b"
        );
        assert_eq!(
            page_link(&p, None),
            "/admin/audit?action=auth.login&actor=user%3Aa%20b"
        );
        assert_eq!(page_link(&Params::default(), None), "/admin/audit");
    }
}

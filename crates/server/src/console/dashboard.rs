//! `/admin/sites/{site}/consents`: the consent dashboard. Opt-in rates by
//! day as a chart (and a table), breakdowns by action, purpose, vendor,
//! country and device class, a record lookup by consent token or event id,
//! and export links. Every number comes from the same `Admin` calls as the
//! admin API (`consent_stats`, `search_consents`), with their permission
//! checks.

mod chart;

use super::layout;
use super::session::{Console, Refusal};
use crate::app::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chart::{bar_chart, Bar};
use maud::{html, Markup};
use nexaguard_access::Permission;
use nexaguard_admin::consents::{ConsentFilter, ConsentStats, Rate};
use nexaguard_consent::event::ConsentEvent;
use nexaguard_consent::Environment;
use nexaguard_store::SiteId;
use nexaguard_tcf::gvl::Gvl;
use serde::Deserialize;
use std::collections::BTreeMap;
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

/// Days shown when no range is chosen.
const DEFAULT_DAYS: i64 = 30;
/// The widest range one page charts, day by day.
const MAX_DAYS: i64 = 366;
/// Records one lookup lists.
const LOOKUP_LIMIT: u32 = 20;

/// The dashboard's routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/admin/sites/{site}/consents", get(dashboard))
}

/// The query string: the environment, the date range (inclusive days,
/// UTC) and a lookup.
#[derive(Debug, Default, Deserialize)]
struct Params {
    environment: Option<String>,
    from: Option<String>,
    to: Option<String>,
    token: Option<String>,
    event: Option<String>,
}

/// A form field's value, `None` when left empty.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The chosen range: first and last day, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    first: Date,
    last: Date,
}

impl Range {
    /// From the `from`/`to` fields, the last [`DEFAULT_DAYS`] up to `today` by default.
    fn parse(from: Option<&str>, to: Option<&str>, today: Date) -> Result<Range, String> {
        let day = |text: &str, field: &str| {
            Date::parse(
                text,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map_err(|_| format!("The {field} date {text:?} is not a date (2026-11-24)."))
        };
        let last = to.map(|t| day(t, "to")).transpose()?.unwrap_or(today);
        let first = match from {
            Some(f) => day(f, "from")?,
            None => last - Duration::days(DEFAULT_DAYS - 1),
        };
        if first > last {
            return Err("The from date must not be after the to date.".to_owned());
        }
        if (last - first).whole_days() >= MAX_DAYS {
            return Err(format!(
                "Choose at most {MAX_DAYS} days; for longer periods, export the records."
            ));
        }
        Ok(Range { first, last })
    }

    fn start(self) -> OffsetDateTime {
        self.first.midnight().assume_utc()
    }

    /// Midnight after the last day.
    fn end(self) -> OffsetDateTime {
        self.last.midnight().assume_utc() + Duration::days(1)
    }

    fn days(self) -> impl Iterator<Item = Date> {
        let mut day = Some(self.first);
        std::iter::from_fn(move || {
            let current = day.filter(|d| *d <= self.last)?;
            day = current.next_day();
            Some(current)
        })
    }
}

/// One day of the chart and its table.
#[derive(Debug, Clone, PartialEq)]
struct DayRow {
    day: String,
    rate: Rate,
}

/// Every day of `range`, with zero records where `per_day` has none.
fn day_rows(range: Range, per_day: &BTreeMap<String, Rate>) -> Vec<DayRow> {
    range
        .days()
        .map(|day| {
            let key = day.to_string();
            let rate = per_day.get(&key).cloned().unwrap_or_default();
            DayRow { day: key, rate }
        })
        .collect()
}

fn percent(rate: f64) -> String {
    format!("{:.1} %", rate * 100.0)
}

/// Shares of a total, as the rate table needs them.
fn share(part: u64, total: u64) -> f64 {
    // Counts stay far below 2^52, where f64 is exact.
    #[allow(clippy::cast_precision_loss)]
    let share = part as f64 / total.max(1) as f64;
    share
}

/// `accept_all` as people say it.
fn action_label(action: &str) -> String {
    match action {
        "accept_all" => "Accept all".to_owned(),
        "reject_all" => "Reject all".to_owned(),
        "custom" => "Custom choice".to_owned(),
        "withdraw" => "Withdrawal".to_owned(),
        "reconsent" => "Re-consent".to_owned(),
        other => other.to_owned(),
    }
}

/// `GET /admin/sites/{site}/consents`.
async fn dashboard(
    State(state): State<AppState>,
    console: Console,
    Path(site): Path<String>,
    uri: Uri,
) -> Result<Response, Refusal> {
    console.require(Permission::ViewConsents)?;
    let Ok(site_id) = Uuid::parse_str(&site).map(SiteId) else {
        return Err(Refusal::Page(
            StatusCode::NOT_FOUND,
            "There is no such site.".into(),
        ));
    };
    let params = Query::<Params>::try_from_uri(&uri)
        .map(|Query(p)| p)
        .map_err(|e| Refusal::Page(StatusCode::BAD_REQUEST, e.body_text()))?;
    let environment = match given(&params.environment) {
        None | Some("production") => Environment::Production,
        Some("staging") => Environment::Staging,
        Some(_) => {
            return Err(Refusal::Page(
                StatusCode::BAD_REQUEST,
                "The environment is production or staging.".into(),
            ))
        }
    };
    let today = OffsetDateTime::now_utc().date();
    let range = Range::parse(given(&params.from), given(&params.to), today);
    let admin = &console.admin;
    let principal = &console.principal;
    // The name is a nicety: a role without ViewSites still sees the numbers.
    let name = admin
        .site(principal, site_id)
        .await
        .map(|s| s.name)
        .unwrap_or_else(|_| site.clone());
    let mut status = StatusCode::OK;
    let stats = match range {
        Ok(range) => {
            let filter = ConsentFilter {
                from: Some(range.start()),
                to: Some(range.end()),
                ..ConsentFilter::default()
            };
            match admin
                .consent_stats(principal, site_id, environment, &filter)
                .await
            {
                Ok(stats) => Ok((range, stats)),
                Err(error) => match Refusal::from(error) {
                    Refusal::Page(code, message) if code.is_client_error() => {
                        status = code;
                        Err(message)
                    }
                    other => return Err(other),
                },
            }
        }
        Err(message) => {
            status = StatusCode::UNPROCESSABLE_ENTITY;
            Err(message)
        }
    };
    let lookup = lookup(&console, site_id, environment, &params).await?;
    if let Some(Err(_)) = &lookup {
        status = StatusCode::UNPROCESSABLE_ENTITY;
    }
    let view = View {
        site: &site,
        name: &name,
        environment,
        params: &params,
        gvl: &state.gvl,
        can_export: principal.require(Permission::ExportConsents).is_ok(),
    };
    let content = view.render(&stats, lookup.as_ref());
    let title = format!("Consents · {name}");
    Ok((status, layout::console_page(&console, &title, content)).into_response())
}

/// The records a lookup found, or why it could not run; `None` without one.
type Lookup = Option<Result<Vec<ConsentEvent>, String>>;

async fn lookup(
    console: &Console,
    site: SiteId,
    environment: Environment,
    params: &Params,
) -> Result<Lookup, Refusal> {
    let token = given(&params.token);
    let event = given(&params.event);
    if token.is_none() && event.is_none() {
        return Ok(None);
    }
    let event_id = match event.map(Uuid::parse_str).transpose() {
        Ok(id) => id,
        Err(_) => {
            return Ok(Some(Err(
                "That event id is not a UUID (e.g. 0192f7a4-7c1e-7a51-9d3b-2f6c0b1e4d2a).".into(),
            )))
        }
    };
    let filter = ConsentFilter {
        token: token.map(str::to_owned),
        event_id,
        limit: Some(LOOKUP_LIMIT),
        ..ConsentFilter::default()
    };
    match console
        .admin
        .search_consents(&console.principal, site, environment, &filter)
        .await
    {
        Ok(records) => Ok(Some(Ok(records))),
        Err(error) => match Refusal::from(error) {
            Refusal::Page(code, message) if code.is_client_error() => Ok(Some(Err(message))),
            other => Err(other),
        },
    }
}

struct View<'a> {
    site: &'a str,
    name: &'a str,
    environment: Environment,
    params: &'a Params,
    gvl: &'a Gvl,
    can_export: bool,
}

impl View<'_> {
    fn link(&self, environment: Environment) -> String {
        let mut link = format!(
            "/admin/sites/{}/consents?environment={}",
            self.site,
            environment.as_str()
        );
        for (key, value) in [("from", &self.params.from), ("to", &self.params.to)] {
            if let Some(v) = given(value) {
                link.push_str(&format!("&{key}={v}"));
            }
        }
        link
    }

    fn render(
        &self,
        stats: &Result<(Range, ConsentStats), String>,
        lookup: Option<&Result<Vec<ConsentEvent>, String>>,
    ) -> Markup {
        let env = self.environment.as_str();
        html! {
            h1 { "Consents: " (self.name) }
            p { a href=(format!("/admin/sites/{}", self.site)) { "Back to the site" } }
            nav aria-label="Environment" {
                ul.tabs {
                    @for e in Environment::ALL {
                        li {
                            @if e == self.environment {
                                a href=(self.link(e)) aria-current="page" { (title_case(e.as_str())) }
                            } @else {
                                a href=(self.link(e)) { (title_case(e.as_str())) }
                            }
                        }
                    }
                }
            }
            form.filters method="get" action=(format!("/admin/sites/{}/consents", self.site)) {
                input type="hidden" name="environment" value=(env);
                label { "From (UTC day)" input type="date" name="from" value=[given(&self.params.from)]; }
                label { "To (UTC day)" input type="date" name="to" value=[given(&self.params.to)]; }
                button type="submit" { "Show" }
            }
            @match stats {
                Err(message) => p.error role="alert" { (message) },
                Ok((range, stats)) => (self.stats(*range, stats)),
            }
            (self.lookup_form(lookup))
            @if self.can_export {
                (self.export(stats.as_ref().ok().map(|(r, _)| *r)))
            }
        }
    }

    fn stats(&self, range: Range, stats: &ConsentStats) -> Markup {
        let days = day_rows(range, &stats.per_day);
        let opt_ins: u64 = days.iter().map(|d| d.rate.opt_ins).sum();
        let bars: Vec<Bar> = days
            .iter()
            .map(|d| Bar {
                label: d.day.get(5..).unwrap_or(&d.day).to_owned(),
                value: d.rate.opt_in_rate,
                text: format!(
                    "{}: {} of {} records",
                    d.day,
                    percent(d.rate.opt_in_rate),
                    d.rate.events
                ),
            })
            .collect();
        let chart_title = format!(
            "Opt-in rate by day, {} to {} ({})",
            range.first,
            range.last,
            self.environment.as_str()
        );
        html! {
            p.summary #summary {
                strong #total { (stats.events) } " consent records from " (range.first) " to " (range.last)
                " (" (self.environment.as_str()) "); "
                strong #opt-in-rate { (percent(share(opt_ins, stats.events))) } " opted in to something."
            }
            h2 { "Opt-in rate over time" }
            (bar_chart("opt-in-chart", &chart_title, &bars))
            details {
                summary { "The numbers by day" }
                (table("Opt-in rate by day", "per-day", &["Day", "Records", "Opt-ins", "Opt-in rate"],
                    days.iter().map(|d| row(&d.day, [d.rate.events.to_string(), d.rate.opt_ins.to_string(), percent(d.rate.opt_in_rate)]))))
            }
            h2 { "Breakdowns" }
            div.grid-2 {
                div {
                    (table("By action", "per-action", &["Action", "Records", "Share"],
                        stats.per_action.iter().map(|(action, n)| row(&action_label(action), [n.to_string(), percent(share(*n, stats.events))]))))
                    (table("By device class", "per-device", &["Device class", "Records", "Opt-in rate"],
                        stats.per_device_class.iter().map(|(class, r)| row(class, [r.events.to_string(), percent(r.opt_in_rate)]))))
                    (table("By country", "per-country", &["Country", "Records", "Opt-in rate"],
                        stats.per_country.iter().map(|(country, r)| row(country, [r.events.to_string(), percent(r.opt_in_rate)]))))
                }
                div {
                    (table("By purpose", "per-purpose", &["Purpose", "Granted", "Share of records"],
                        stats.per_purpose.iter().map(|(id, r)| {
                            let name = self.gvl.purposes.get(id).map_or_else(|| format!("Purpose {id}"), |p| format!("{id}. {}", p.name));
                            row(&name, [r.opt_ins.to_string(), percent(r.opt_in_rate)])
                        })))
                    @if !stats.per_custom_purpose.is_empty() {
                        (table("By custom purpose", "per-custom-purpose", &["Custom purpose", "Granted", "Share of records"],
                            stats.per_custom_purpose.iter().map(|(id, r)| row(id, [r.opt_ins.to_string(), percent(r.opt_in_rate)]))))
                    }
                    (table("By vendor", "per-vendor", &["Vendor", "Granted", "Share of records"],
                        stats.per_vendor.iter().map(|(id, r)| {
                            let name = self.gvl.vendor(*id).map_or_else(|| format!("Vendor {id}"), |v| format!("{} ({id})", v.name));
                            row(&name, [r.opt_ins.to_string(), percent(r.opt_in_rate)])
                        })))
                }
            }
        }
    }

    fn lookup_form(&self, lookup: Option<&Result<Vec<ConsentEvent>, String>>) -> Markup {
        html! {
            h2 #lookup { "Find a record" }
            p { "By the consent token a visitor's browser holds, or by an event id from a receipt." }
            form.filters method="get" action=(format!("/admin/sites/{}/consents#lookup", self.site)) {
                input type="hidden" name="environment" value=(self.environment.as_str());
                @if let Some(from) = given(&self.params.from) { input type="hidden" name="from" value=(from); }
                @if let Some(to) = given(&self.params.to) { input type="hidden" name="to" value=(to); }
                label { "Consent token" input type="text" name="token" autocomplete="off" spellcheck="false" value=[given(&self.params.token)]; }
                label { "Event id" input type="text" name="event" autocomplete="off" spellcheck="false" value=[given(&self.params.event)]; }
                button type="submit" { "Find" }
            }
            @match lookup {
                None => {}
                Some(Err(message)) => p.error role="alert" { (message) },
                Some(Ok(records)) if records.is_empty() => p #lookup-result role="status" { "No record found in " (self.environment.as_str()) "." },
                Some(Ok(records)) => {
                    p #lookup-result role="status" { (records.len()) " record(s) found, newest first." }
                    (records_table(records))
                }
            }
        }
    }

    fn export(&self, range: Option<Range>) -> Markup {
        let mut query = format!("environment={}", self.environment.as_str());
        if let Some(range) = range {
            for (key, at) in [("from", range.start()), ("to", range.end())] {
                if let Ok(text) = at.format(&Rfc3339) {
                    query.push_str(&format!("&{key}={text}"));
                }
            }
        }
        let base = format!("/admin/api/v1/sites/{}/consents/export?{query}", self.site);
        html! {
            h2 { "Export" }
            p { "The records of this range and environment, as recorded (the export is written to the audit log)." }
            ul.export {
                li { a #export-csv href=(format!("{base}&format=csv")) download { "CSV" } }
                li { a #export-jsonl href=(format!("{base}&format=jsonl")) download { "JSON Lines" } }
            }
        }
    }
}

fn title_case(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A table row: a row header and its cells.
fn row<const N: usize>(head: &str, cells: [String; N]) -> Markup {
    html! {
        tr {
            th scope="row" { (head) }
            @for cell in cells { td.num { (cell) } }
        }
    }
}

/// A captioned table in a sideways-scrolling box.
fn table(caption: &str, id: &str, columns: &[&str], rows: impl Iterator<Item = Markup>) -> Markup {
    let rows: Vec<Markup> = rows.collect();
    html! {
        div.table-wrap role="region" aria-label=(caption) tabindex="0" {
            table #(id) {
                caption { (caption) }
                thead { tr { @for c in columns { th scope="col" { (c) } } } }
                tbody {
                    @if rows.is_empty() {
                        tr { td colspan=(columns.len()) { "No records." } }
                    }
                    @for r in &rows { (r) }
                }
            }
        }
    }
}

fn records_table(records: &[ConsentEvent]) -> Markup {
    let ids = |ids: &[u32]| {
        if ids.is_empty() {
            "none".to_owned()
        } else {
            ids.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    html! {
        div.table-wrap role="region" aria-label="Records found" tabindex="0" {
            table #records {
                caption { "Records found" }
                thead { tr {
                    th scope="col" { "Event id" }
                    th scope="col" { "Recorded" }
                    th scope="col" { "Action" }
                    th scope="col" { "Purposes" }
                    th scope="col" { "Vendors" }
                    th scope="col" { "Country" }
                    th scope="col" { "Configuration" }
                } }
                tbody {
                    @for r in records {
                        tr {
                            th scope="row" { code { (r.event_id) } }
                            td { (r.recorded_at.format(&Rfc3339).unwrap_or_default()) }
                            td { (action_label(&serde_label(&r.action))) }
                            td { (ids(&r.purposes)) }
                            td { (ids(&r.vendors)) }
                            td { (r.context.country.as_deref().unwrap_or("unknown")) }
                            td { "version " (r.config_version) }
                        }
                    }
                }
            }
        }
    }
}

/// A unit enum's serialised text (`accept_all`).
fn serde_label<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::date;

    #[test]
    fn the_default_range_is_the_last_thirty_days() {
        let range = Range::parse(None, None, date!(2026 - 11 - 30)).unwrap();
        assert_eq!(range.first, date!(2026 - 11 - 01));
        assert_eq!(range.last, date!(2026 - 11 - 30));
        assert_eq!(range.days().count(), 30);
        assert_eq!(range.end() - range.start(), Duration::days(30));
    }

    #[test]
    fn chosen_ranges_are_checked() {
        let today = date!(2026 - 11 - 30);
        let range = Range::parse(Some("2026-11-02"), Some("2026-11-04"), today).unwrap();
        assert_eq!(range.days().count(), 3);
        let before_to = Range::parse(None, Some("2026-01-31"), today).unwrap();
        assert_eq!(before_to.first, date!(2026 - 01 - 02));
        assert!(Range::parse(Some("2026-11-05"), Some("2026-11-04"), today)
            .unwrap_err()
            .contains("must not be after"));
        assert!(Range::parse(Some("yesterday"), None, today)
            .unwrap_err()
            .contains("not a date"));
        assert!(Range::parse(Some("2020-01-01"), None, today)
            .unwrap_err()
            .contains("at most 366 days"));
    }

    #[test]
    fn day_rows_fill_days_without_records() {
        let range = Range::parse(
            Some("2026-11-01"),
            Some("2026-11-03"),
            date!(2026 - 12 - 01),
        )
        .unwrap();
        let mut per_day = BTreeMap::new();
        per_day.insert(
            "2026-11-02".to_owned(),
            Rate {
                events: 4,
                opt_ins: 3,
                opt_in_rate: 0.75,
            },
        );
        let rows = day_rows(range, &per_day);
        let days: Vec<&str> = rows.iter().map(|r| r.day.as_str()).collect();
        assert_eq!(days, ["2026-11-01", "2026-11-02", "2026-11-03"]);
        assert_eq!(rows[0].rate.events, 0);
        assert_eq!(rows[1].rate.opt_ins, 3);
        assert_eq!(percent(rows[1].rate.opt_in_rate), "75.0 %");
        assert_eq!(percent(share(1, 3)), "33.3 %");
    }

    #[test]
    fn labels_read_as_words() {
        assert_eq!(action_label("accept_all"), "Accept all");
        assert_eq!(action_label("reject_all"), "Reject all");
        assert_eq!(action_label("custom"), "Custom choice");
        assert_eq!(title_case("staging"), "Staging");
    }
}

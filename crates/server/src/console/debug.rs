//! The debug tool: a TC string or an AC string in, its decoded fields,
//! policy findings, Consent Mode values and `IABTCF_*` keys out; or a GPP
//! string in, its header, sections, validation findings and `IABGPP_*` keys
//! out. Public at `/debug`, and in the console shell at `/admin/debug`.
//!
//! It stores nothing and logs nothing of what is pasted (TC strings are
//! personal data of whoever they were taken from): no tracing here, the
//! string travels only in a POST body, and the answer is `no-store`. The
//! public POST is rate-limited per client network, so that the server is
//! not a free decoding service.

mod gpp;
mod inspect;

use super::layout;
use super::session::{no_store, Console, Refusal, CSRF_FIELD, MFA};
use crate::app::AppState;
use crate::extract::client_ip;
use crate::ratelimit::Limiter;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use inspect::{inspect, AcView, Decoded, PurposeRow, TcView};
use maud::{html, Markup};
use serde::Deserialize;
use std::net::SocketAddr;

/// Decodes per client network and minute, with this burst: plenty for a
/// person pasting strings, little for a script.
const PER_MINUTE: u32 = 30;
const BURST: u32 = 10;

/// The limiter of public decodes, one per server (in its state).
pub fn limiter() -> Limiter {
    Limiter::new(PER_MINUTE, BURST)
}

/// The public path.
const PUBLIC: &str = "/debug";
/// The path in the console.
const CONSOLE: &str = "/admin/debug";

/// The debug tool's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(PUBLIC, get(public_form).post(public_decode))
        .route(CONSOLE, get(console_form).post(console_decode))
}

/// The form's fields.
#[derive(Debug, Default, Deserialize)]
struct DebugForm {
    #[serde(default)]
    input: String,
    /// `true` (the default) or `false`.
    #[serde(default, rename = "gdprApplies")]
    gdpr_applies: Option<String>,
    /// The Global Privacy Control signal, for GPP strings: `true`, `false`
    /// or anything else (the default) for not known.
    #[serde(default)]
    gpc: Option<String>,
    #[serde(default)]
    csrf: String,
}

impl DebugForm {
    fn gdpr_applies(&self) -> bool {
        self.gdpr_applies.as_deref() != Some("false")
    }

    fn gpc_signal(&self) -> Option<bool> {
        match self.gpc.as_deref() {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        }
    }
}

/// What one page shows below the form.
enum Outcome {
    Empty,
    Decoded(Decoded),
    Error(String),
}

/// Where the form posts and with which CSRF token (console only).
struct Target<'a> {
    action: &'static str,
    csrf: Option<&'a str>,
}

/// `GET /debug`.
async fn public_form() -> Response {
    let target = Target {
        action: PUBLIC,
        csrf: None,
    };
    answer(
        StatusCode::OK,
        layout::page(TITLE, body(&target, &DebugForm::default(), &Outcome::Empty)),
    )
}

/// `POST /debug`.
async fn public_decode(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<DebugForm>, FormRejection>,
) -> Response {
    let target = Target {
        action: PUBLIC,
        csrf: None,
    };
    if let Err(wait) = state
        .debug_limiter
        .check(client_ip(&state, &headers, peer))
        .await
    {
        let outcome = Outcome::Error(format!(
            "Too many strings decoded from your network; try again in {} seconds.",
            wait.as_secs().max(1)
        ));
        let mut response = answer(
            StatusCode::TOO_MANY_REQUESTS,
            layout::page(TITLE, body(&target, &DebugForm::default(), &outcome)),
        );
        if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let (status, form, outcome) = decode(form, &state);
    answer(status, layout::page(TITLE, body(&target, &form, &outcome)))
}

/// `GET /admin/debug`.
async fn console_form(console: Console) -> Result<Response, Refusal> {
    signed_in(&console)?;
    let target = Target {
        action: CONSOLE,
        csrf: Some(&console.csrf),
    };
    let content = body(&target, &DebugForm::default(), &Outcome::Empty);
    Ok(answer(
        StatusCode::OK,
        layout::console_page(&console, TITLE, content),
    ))
}

/// `POST /admin/debug`.
async fn console_decode(
    State(state): State<AppState>,
    console: Console,
    uri: Uri,
    headers: HeaderMap,
    form: Result<Form<DebugForm>, FormRejection>,
) -> Result<Response, Refusal> {
    signed_in(&console)?;
    let csrf = form.as_ref().map(|f| f.csrf.as_str()).unwrap_or_default();
    console.check_form(&uri, &headers, csrf)?;
    let (status, form, outcome) = decode(form, &state);
    let target = Target {
        action: CONSOLE,
        csrf: Some(&console.csrf),
    };
    let content = body(&target, &form, &outcome);
    Ok(answer(
        status,
        layout::console_page(&console, TITLE, content),
    ))
}

/// Any signed-in user may use the tool (it is public anyway), once the
/// second factor is done.
fn signed_in(console: &Console) -> Result<(), Refusal> {
    console
        .principal
        .require_mfa_done()
        .map_err(|_| Refusal::Redirect(MFA.into()))
}

fn decode(
    form: Result<Form<DebugForm>, FormRejection>,
    state: &AppState,
) -> (StatusCode, DebugForm, Outcome) {
    match form {
        Err(rejection) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            DebugForm::default(),
            Outcome::Error(format!(
                "The form could not be read: {}",
                rejection.body_text()
            )),
        ),
        Ok(Form(form)) => {
            match inspect(
                &form.input,
                form.gdpr_applies(),
                form.gpc_signal(),
                &state.gvl,
                inspect::now(),
            ) {
                Ok(decoded) => (StatusCode::OK, form, Outcome::Decoded(decoded)),
                Err(error) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    form,
                    Outcome::Error(error.0),
                ),
            }
        }
    }
}

/// The page with `no-store`: what was pasted stays out of every cache.
fn answer(status: StatusCode, page: Markup) -> Response {
    no_store((status, page).into_response())
}

const TITLE: &str = "Debug tool";

fn body(target: &Target<'_>, form: &DebugForm, outcome: &Outcome) -> Markup {
    let gdpr = form.gdpr_applies();
    let gpc = form.gpc_signal();
    html! {
        h1 { (TITLE) }
        p.lead {
            "Paste a TC string (IAB TCF v2), a Google Additional Consent string (starting with "
            code { "2~" } " or " code { "1~" } ") or an IAB GPP string (starting with "
            code { "DB" } ") to see what it says. "
            "Nothing you paste is stored or logged."
        }
        form.debug-form method="post" action=(target.action) {
            @if let Some(csrf) = target.csrf {
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
            }
            label for="input" { "GPP string, TC string or AC string" }
            textarea #input name="input" rows="4" spellcheck="false" autocomplete="off"
                autocapitalize="off" required { (form.input) }
            fieldset.choice {
                legend { "Does the GDPR apply to the user?" }
                label {
                    input type="radio" name="gdprApplies" value="true" checked[gdpr];
                    " Yes (gdprApplies = true)"
                }
                label {
                    input type="radio" name="gdprApplies" value="false" checked[!gdpr];
                    " No (gdprApplies = false)"
                }
            }
            fieldset.choice {
                legend { "GPP strings: did the request carry a Global Privacy Control signal?" }
                label {
                    input type="radio" name="gpc" value="unknown" checked[gpc.is_none()];
                    " Unknown (GPC sub-sections not checked)"
                }
                label {
                    input type="radio" name="gpc" value="true" checked[gpc == Some(true)];
                    " Present (Sec-GPC: 1)"
                }
                label {
                    input type="radio" name="gpc" value="false" checked[gpc == Some(false)];
                    " Absent"
                }
            }
            button type="submit" { "Decode" }
        }
        @match outcome {
            Outcome::Empty => {}
            Outcome::Error(message) => p.error #error role="alert" { (message) },
            Outcome::Decoded(Decoded::Tc(view)) => (tc_section(view)),
            Outcome::Decoded(Decoded::Ac(view)) => (ac_section(view)),
            Outcome::Decoded(Decoded::Gpp(view)) => (gpp::gpp_section(view, target, gdpr)),
        }
    }
}

/// A table in a box that scrolls sideways on a narrow screen rather than
/// widening the page; focusable, so a keyboard can scroll it.
fn wrapped(label: &str, table: Markup) -> Markup {
    html! {
        div.table-wrap role="region" aria-label=(label) tabindex="0" { (table) }
    }
}

fn yes_no(flag: bool) -> Markup {
    html! {
        @if flag { td.yes { "yes" } } @else { td.no { "no" } }
    }
}

fn name_cell(name: Option<&str>, missing: &str) -> Markup {
    html! {
        @match name {
            Some(name) => td { (name) },
            None => td.unknown { (missing) },
        }
    }
}

fn purpose_table(caption: &str, rows: &[PurposeRow], consent: &str, li: Option<&str>) -> Markup {
    wrapped(
        caption,
        html! {
            table {
                caption { (caption) }
                thead { tr {
                    th scope="col" { "ID" }
                    th scope="col" { "Name" }
                    th scope="col" { (consent) }
                    @if let Some(li) = li { th scope="col" { (li) } }
                } }
                tbody {
                    @for row in rows {
                        tr {
                            th scope="row" { (row.id) }
                            (name_cell(row.name.as_deref(), "not on the GVL"))
                            (yes_no(row.consent))
                            @if li.is_some() { (yes_no(row.legitimate_interest)) }
                        }
                    }
                }
            }
        },
    )
}

fn tc_section(view: &TcView) -> Markup {
    let errors = view.findings.iter().filter(|f| f.is_error()).count();
    let warnings = view.findings.len() - errors;
    html! {
        section #result aria-labelledby="result-title" {
            h2 #result-title { "TC string" }
            (wrapped("Core fields", html! {
                table.fields {
                    caption { "Core fields" }
                    tbody {
                        @for field in &view.core {
                            tr { th scope="row" { (field.name) } td { (field.value) } }
                        }
                    }
                }
            }))
            h3 { "Purposes" }
            (purpose_table("Purposes", &view.purposes, "Consent", Some("Legitimate interest")))
            (purpose_table("Special features", &view.special_features, "Opted in", None))
            h3 { "Vendors" }
            p {
                (view.vendors.iter().filter(|v| v.consent).count()) " with consent, "
                (view.vendors.iter().filter(|v| v.legitimate_interest).count()) " with legitimate interest, "
                @if view.has_disclosed_segment {
                    (view.vendors.iter().filter(|v| v.disclosed).count()) " disclosed."
                } @else {
                    "no disclosed vendors segment."
                }
            }
            @if !view.vendors.is_empty() {
                (wrapped("Vendors", html! {
                    table {
                        caption { "Vendors" }
                        thead { tr {
                            th scope="col" { "ID" }
                            th scope="col" { "Vendor" }
                            th scope="col" { "Consent" }
                            th scope="col" { "Legitimate interest" }
                            th scope="col" { "Disclosed" }
                        } }
                        tbody {
                            @for v in &view.vendors {
                                tr {
                                    th scope="row" { (v.id) }
                                    (name_cell(v.name.as_deref(), "not on the GVL"))
                                    (yes_no(v.consent))
                                    (yes_no(v.legitimate_interest))
                                    (yes_no(v.disclosed))
                                }
                            }
                        }
                    }
                }))
            }
            @if let Some(allowed) = &view.vendors_allowed {
                p { "Allowed vendors segment: " (allowed) }
            }
            h3 { "Publisher restrictions" }
            @if view.restrictions.is_empty() {
                p { "None." }
            } @else {
                (wrapped("Publisher restrictions", html! {
                    table {
                        caption { "Publisher restrictions" }
                        thead { tr {
                            th scope="col" { "Purpose" }
                            th scope="col" { "Restriction" }
                            th scope="col" { "Vendors" }
                        } }
                        tbody {
                            @for r in &view.restrictions {
                                tr {
                                    th scope="row" {
                                        (r.purpose_id)
                                        @if let Some(name) = &r.purpose_name { " " (name) }
                                    }
                                    td { (r.restriction) }
                                    td { (r.vendors) }
                                }
                            }
                        }
                    }
                }))
            }
            h3 { "Publisher TC" }
            @match &view.publisher {
                None => p { "No publisher TC segment." },
                Some(publisher) => {
                    (purpose_table("Publisher purposes", &publisher.purposes, "Consent", Some("Legitimate interest")))
                    @if !publisher.custom_purposes.is_empty() {
                        (purpose_table("Publisher custom purposes", &publisher.custom_purposes, "Consent", Some("Legitimate interest")))
                    }
                }
            }
            h3 #findings { "Policy findings" }
            p.findings-summary {
                "Checked against the Global Vendor List version " (view.gvl_version) ": "
                (errors) " error(s), " (warnings) " warning(s)."
            }
            @if !view.findings.is_empty() {
                (wrapped("Policy findings", html! {
                    table {
                        caption { "Policy findings" }
                        thead { tr {
                            th scope="col" { "Severity" }
                            th scope="col" { "Code" }
                            th scope="col" { "Finding" }
                        } }
                        tbody {
                            @for f in &view.findings {
                                tr {
                                    td class=(f.severity.as_str()) { (f.severity.as_str()) }
                                    td { code { (f.code.as_str()) } }
                                    td { (f.message) }
                                }
                            }
                        }
                    }
                }))
            }
            h3 { "Consent Mode" }
            (wrapped("Consent Mode", html! {
                table #consent-mode {
                    caption { "Google Consent Mode v2 values" }
                    tbody {
                        @for (key, value) in &view.consent_mode {
                            tr { th scope="row" { code { (key) } } td class=(value) { (value) } }
                        }
                    }
                }
            }))
            h3 { "IABTCF keys" }
            (wrapped("IABTCF keys", html! {
                table #iabtcf {
                    caption { "IABTCF_* keys a CMP stores in-app" }
                    tbody {
                        @for (key, value) in &view.iabtcf {
                            tr { th scope="row" { code { (key) } } td { code.value { (value) } } }
                        }
                    }
                }
            }))
        }
    }
}

fn ac_section(view: &AcView) -> Markup {
    let list = |ids: &[u32]| {
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
        section #result aria-labelledby="result-title" {
            h2 #result-title { "Additional Consent string" }
            (wrapped("Google Ad Tech Providers", html! {
                table.fields #ac {
                    caption { "Google Ad Tech Providers (ATP ids)" }
                    tbody {
                        tr { th scope="row" { "Version" } td { (view.version) } }
                        tr { th scope="row" { "Consented" } td #ac-consented { (list(&view.consented)) } }
                        tr {
                            th scope="row" { "Disclosed without consent" }
                            td #ac-disclosed {
                                @if view.version == 1 { "not recorded by version 1" } @else { (list(&view.disclosed)) }
                            }
                        }
                    }
                }
            }))
        }
    }
}

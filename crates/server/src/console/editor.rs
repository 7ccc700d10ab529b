//! The configuration editor over a site's draft: the form reads the draft
//! JSON, the post writes the form's fields back into it (keeping whatever
//! the form does not show) and saves it with the revision it was read at.
//! Validation findings (`Admin::validate`) are shown next to the fields
//! whose JSON path they name. The regional rules (`regions.rs`) are part of
//! the same form and the same save; their errors refuse the save, with
//! nothing written, and the form comes back as posted.

use super::layout;
use super::picker::{self, Filters};
use super::regions::{self, Action, Preview};
use super::session::{lenient_query, see_other, Console, Refusal};
use super::sites::{site_id, site_path};
use crate::app::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use maud::{html, Markup};
use nexaguard_access::Permission;
use nexaguard_admin::AdminError;
use nexaguard_consent::config::{ConfigProblem, ConsentModeType};
use nexaguard_tcf::gvl::{Gvl, Translations, BASE_LANGUAGE};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// The editor's route.
pub fn router() -> Router<AppState> {
    Router::new().route("/admin/sites/{site}/edit", get(edit).post(save))
}

/// The banner's text fields, by their JSON name and label.
const TEXTS: [(&str, &str); 7] = [
    ("title", "Title"),
    ("description", "Description"),
    ("acceptAll", "Accept all button"),
    ("rejectAll", "Reject all button"),
    ("manage", "Manage button"),
    ("save", "Save button"),
    ("privacyPolicyUrl", "Privacy policy URL"),
];

/// The theme colours, by JSON name and label.
const COLOURS: [(&str, &str); 3] = [
    ("primaryColor", "Accent colour"),
    ("backgroundColor", "Background colour"),
    ("textColor", "Text colour"),
];

/// What the page says above the form about the last post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Note {
    /// Nothing to say.
    None,
    /// The draft was saved.
    Saved,
    /// An action on the rules, not saved yet (what was done).
    Unsaved(&'static str),
    /// The save was refused for the rules' errors; nothing was written.
    Refused,
}

/// What the editor page shows besides the draft.
struct View<'a> {
    config: &'a Value,
    revision: u32,
    problems: &'a [ConfigProblem],
    warnings: &'a [ConfigProblem],
    gvl: &'a Gvl,
    /// The GVL translations the server holds: which languages show the
    /// IAB's texts in their own language.
    translations: &'a Translations,
    filters: &'a Filters,
    preview: &'a Preview,
    note: Note,
}

/// Every finding of a configuration: the validation's problems and the
/// form's own (errors), and the warnings of the regional rules.
struct Checks {
    problems: Vec<ConfigProblem>,
    warnings: Vec<ConfigProblem>,
    /// Whether the rules have an error, which refuses the save.
    blocking: bool,
}

fn checks(console: &Console, json: &str, config: &Value, form: Vec<ConfigProblem>) -> Checks {
    let mut problems = console.admin.validate(json).problems;
    let (errors, warnings) = regions::findings_of(config);
    let blocking = !form.is_empty() || !errors.is_empty();
    // The validation names the rules' errors too when the whole draft
    // reads; when it does not, they come from the rules alone.
    for p in form.into_iter().chain(errors) {
        if !problems.contains(&p) {
            problems.push(p);
        }
    }
    Checks {
        problems,
        warnings,
        blocking,
    }
}

/// `GET /admin/sites/{site}/edit`.
async fn edit(
    State(state): State<AppState>,
    console: Console,
    Path(site): Path<String>,
    uri: Uri,
) -> Result<Markup, Refusal> {
    console.require(Permission::EditSites)?;
    let site = console
        .admin
        .site(&console.principal, site_id(&site)?)
        .await?;
    let draft = console.admin.draft(&console.principal, site.id).await?;
    let config: Value = serde_json::from_str(&draft.config_json).unwrap_or_else(|_| json!({}));
    let checks = checks(&console, &draft.config_json, &config, Vec::new());
    let filters: Filters = lenient_query(&uri);
    let preview = regions::preview_of(&config, filters.region.as_deref());
    let view = View {
        config: &config,
        revision: draft.revision,
        problems: &checks.problems,
        warnings: &checks.warnings,
        gvl: &state.gvl,
        translations: &state.translations,
        filters: &filters,
        preview: &preview,
        note: if filters.saved.is_some() {
            Note::Saved
        } else {
            Note::None
        },
    };
    Ok(page(&console, &site, &view))
}

fn page(console: &Console, site: &nexaguard_store::Site, view: &View<'_>) -> Markup {
    let path = site_path(site.id);
    layout::console_page(
        console,
        &format!("Edit {}", site.name),
        html! {
            h1 { "Edit " (site.name) }
            p { "Draft revision " (view.revision) ". " a href=(format!("{path}/preview")) { "Preview the draft" } " · " a href=(path) { "Back to the site" } }
            @match view.note {
                Note::Saved => { p.notice role="status" { "Draft saved." } }
                Note::Unsaved(done) => { p.notice #unsaved role="status" { (done) " Not saved yet: " strong { "Save draft" } " to keep the changes." } }
                Note::Refused => { p.error #not-saved role="alert" { "Nothing was saved: the regional rules have errors, shown next to the rules below. Fix them and save again." } }
                Note::None => {}
            }
            (summary(view.problems))
            (warnings_summary(view.warnings))
            (picker::search_form(&path, view.filters))
            form #editor method="post" action=(format!("{path}/edit")) {
                (console.csrf_input())
                // Enter in a field submits the form's first button: this one,
                // so that it saves rather than moving or removing a rule.
                button.default-submit type="submit" tabindex="-1" aria-hidden="true" { "Save draft" }
                input type="hidden" name="revision" value=(view.revision);
                (general(view))
                (regions::section(&regions::Section {
                    config: view.config,
                    problems: view.problems,
                    warnings: view.warnings,
                    preview: view.preview,
                    site_path: &path,
                }))
                (purposes(view))
                (picker::vendors(view.config, view.gvl, view.filters, view.problems))
                (custom_purposes(view))
                (custom_vendors(view))
                (consent_mode(view))
                (texts(view))
                (theme(view))
                button type="submit" { "Save draft" }
            }
        },
    )
}

/// Every finding, linked to its field, above the form.
fn summary(problems: &[ConfigProblem]) -> Markup {
    html! {
        @if problems.is_empty() {
            p.notice #validation role="status" { "No problems: the draft may be published." }
        } @else {
            div.error #validation role="alert" {
                p { (problems.len()) " problem(s) to fix before publishing:" }
                ul { @for p in problems { li { a href=(format!("#{}", regions::anchor(&p.path))) { code { (display_path(&p.path)) } } ": " (p.message) } } }
            }
        }
    }
}

/// The rules' warnings, linked to their fields: they do not stop a save
/// or a publication.
fn warnings_summary(warnings: &[ConfigProblem]) -> Markup {
    html! {
        @if !warnings.is_empty() {
            div.warning #warnings role="status" {
                p { (warnings.len()) " warning(s), which do not stop publishing:" }
                ul { @for p in warnings { li { a href=(format!("#{}", regions::anchor(&p.path))) { code { (display_path(&p.path)) } } ": " (p.message) } } }
            }
        }
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() {
        "(configuration)"
    } else {
        path
    }
}

/// The id of the field a JSON path is shown at.
pub fn field_id(path: &str) -> String {
    let id: String = path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("f-{}", id.trim_matches('-'))
}

/// The findings that concern the field at `path` (or inside it), shown
/// under it and named by its `aria-describedby`.
pub fn findings(problems: &[ConfigProblem], path: &str) -> Markup {
    let mine: Vec<&ConfigProblem> = problems
        .iter()
        .filter(|p| {
            p.path == path
                || p.path.starts_with(&format!("{path}."))
                || p.path.starts_with(&format!("{path}["))
        })
        .collect();
    html! {
        @if !mine.is_empty() {
            p.field-error id=(format!("{}-error", field_id(path))) {
                @for p in &mine { (p.message) " " }
            }
        }
    }
}

fn described_by(problems: &[ConfigProblem], path: &str) -> Option<String> {
    problems
        .iter()
        .any(|p| {
            p.path == path
                || p.path.starts_with(&format!("{path}."))
                || p.path.starts_with(&format!("{path}["))
        })
        .then(|| format!("{}-error", field_id(path)))
}

fn text_at<'a>(config: &'a Value, pointer: &str) -> &'a str {
    config
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// A text input for the JSON path `path`, named `name`.
fn text_field(view: &View<'_>, label: &str, name: &str, path: &str, value: &str) -> Markup {
    let id = field_id(path);
    html! {
        div {
            label for=(id) { (label) }
            input id=(id) name=(name) value=(value) aria-describedby=[described_by(view.problems, path)];
            (findings(view.problems, path))
        }
    }
}

fn general(view: &View<'_>) -> Markup {
    let c = view.config;
    let regulation = text_at(c, "/regulation");
    html! {
        fieldset {
            legend { "General" }
            div.row {
                div {
                    label for="f-regulation" { "Regulation" }
                    select #f-regulation name="regulation" {
                        option value="tcf" selected[regulation != "opt_in"] { "IAB TCF v2.3" }
                        option value="opt_in" selected[regulation == "opt_in"] { "Opt-in categories (no TCF)" }
                    }
                    (findings(view.problems, "regulation"))
                }
                (text_field(view, "Publisher country (ISO code)", "publisherCountry", "publisherCountry", text_at(c, "/publisherCountry")))
                (text_field(view, "CMP id", "cmpId", "cmpId", &c.get("cmpId").map(|v| v.to_string()).unwrap_or_default()))
                (text_field(view, "Consent lifetime (days)", "consentLifetimeDays", "consentLifetimeDays", &c.get("consentLifetimeDays").map(|v| v.to_string()).unwrap_or_default()))
            }
        }
    }
}

fn ids_at(config: &Value, key: &str) -> BTreeSet<u64> {
    config
        .get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

fn purposes(view: &View<'_>) -> Markup {
    let chosen = ids_at(view.config, "purposes");
    let features = ids_at(view.config, "specialFeatures");
    html! {
        fieldset #f-purposes aria-describedby=[described_by(view.problems, "purposes")] {
            legend { "IAB purposes" }
            (findings(view.problems, "purposes"))
            ul.checks {
                @for (id, purpose) in &view.gvl.purposes {
                    li.check { label { input type="checkbox" name="purpose" value=(id) checked[chosen.contains(&u64::from(*id))]; (id) ". " (purpose.name) } }
                }
            }
        }
        fieldset #f-specialFeatures aria-describedby=[described_by(view.problems, "specialFeatures")] {
            legend { "Special features (opt-in)" }
            (findings(view.problems, "specialFeatures"))
            ul.checks {
                @for (id, feature) in &view.gvl.special_features {
                    li.check { label { input type="checkbox" name="specialFeature" value=(id) checked[features.contains(&u64::from(*id))]; (id) ". " (feature.name) } }
                }
            }
        }
    }
}

fn rows(config: &Value, key: &str) -> Vec<Value> {
    let mut rows = config
        .get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // One empty row to add another.
    rows.push(json!({}));
    rows
}

fn default_language(config: &Value) -> String {
    let lang = text_at(config, "/defaultLanguage");
    if lang.is_empty() { "en" } else { lang }.to_owned()
}

fn custom_purposes(view: &View<'_>) -> Markup {
    let lang = default_language(view.config);
    html! {
        fieldset #f-customPurposes {
            legend { "Custom purposes" }
            p.hint { "Purposes of your own (analytics, chat). Leave the id empty to remove a row; fill the last row to add one." }
            @for (i, row) in rows(view.config, "customPurposes").iter().enumerate() {
                div.row {
                    (text_field(view, &format!("Purpose {} id", i + 1), &format!("cp.{i}.id"), &format!("customPurposes[{i}].id"), text_at(row, "/id")))
                    (text_field(view, &format!("Purpose {} name ({lang})", i + 1), &format!("cp.{i}.name"), &format!("customPurposes[{i}].name"), text_at(row, &format!("/name/{lang}"))))
                    div.check { label { input type="checkbox" name=(format!("cp.{i}.necessary")) checked[row.get("necessary").and_then(Value::as_bool).unwrap_or(false)]; "Strictly necessary" } }
                }
            }
        }
    }
}

fn custom_vendors(view: &View<'_>) -> Markup {
    html! {
        fieldset #f-customVendors {
            legend { "Custom vendors" }
            p.hint { "Vendors not on the Global Vendor List. Purposes: custom purpose ids, separated by commas." }
            @for (i, row) in rows(view.config, "customVendors").iter().enumerate() {
                @let purposes = row.get("purposes").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")).unwrap_or_default();
                div.row {
                    (text_field(view, &format!("Vendor {} id", i + 1), &format!("cv.{i}.id"), &format!("customVendors[{i}].id"), text_at(row, "/id")))
                    (text_field(view, &format!("Vendor {} name", i + 1), &format!("cv.{i}.name"), &format!("customVendors[{i}].name"), text_at(row, "/name")))
                    (text_field(view, &format!("Vendor {} purposes", i + 1), &format!("cv.{i}.purposes"), &format!("customVendors[{i}].purposes"), &purposes))
                    (text_field(view, &format!("Vendor {} privacy policy URL", i + 1), &format!("cv.{i}.privacy"), &format!("customVendors[{i}].privacyPolicyUrl"), text_at(row, "/privacyPolicyUrl")))
                }
            }
        }
    }
}

fn joined(value: Option<&Value>) -> String {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn consent_mode(view: &View<'_>) -> Markup {
    let cm = view
        .config
        .get("consentMode")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let enabled = cm.get("enabled").and_then(Value::as_bool).unwrap_or(false);
    html! {
        fieldset #f-consentMode {
            legend { "Google Consent Mode v2" }
            (findings(view.problems, "consentMode.enabled"))
            div.check { label { input type="checkbox" name="cmEnabled" checked[enabled]; "Send Consent Mode signals" } }
            p.hint { "Each type is granted when all its purposes are: IAB purpose ids and custom purpose ids, separated by commas." }
            div.table-scroll {
                table {
                    caption { "Mapping" }
                    thead { tr { th scope="col" { "Type" } th scope="col" { "IAB purposes" } th scope="col" { "Custom purposes" } } }
                    tbody {
                        @for t in ConsentModeType::ALL {
                            @let name = t.as_str();
                            @let mapping = cm.pointer(&format!("/mapping/{name}"));
                            @let path = format!("consentMode.mapping.{name}");
                            tr {
                                th scope="row" { code { (name) } }
                                td {
                                    input id=(field_id(&path)) name=(format!("cm.{name}.purposes")) value=(joined(mapping.and_then(|m| m.get("purposes")))) aria-label=(format!("{name}: IAB purposes")) aria-describedby=[described_by(view.problems, &path)];
                                    (findings(view.problems, &path))
                                }
                                td { input name=(format!("cm.{name}.custom")) value=(joined(mapping.and_then(|m| m.get("customPurposes")))) aria-label=(format!("{name}: custom purposes")); }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn texts(view: &View<'_>) -> Markup {
    let languages: Vec<(String, Value)> = view
        .config
        .get("languages")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    html! {
        fieldset #f-languages {
            legend { "Texts" }
            (findings(view.problems, "languages"))
            div.row {
                (text_field(view, "Default language", "defaultLanguage", "defaultLanguage", text_at(view.config, "/defaultLanguage")))
                div {
                    label for="f-newLanguage" { "Add a language (code)" }
                    input #f-newLanguage name="newLanguage" placeholder="de";
                }
            }
            @for (code, texts) in &languages {
                h3 { "Language " code { (code) } }
                (iab_texts_note(view.translations, code))
                div.row {
                    @for (key, label) in TEXTS {
                        (text_field(view, &format!("{label} ({code})"), &format!("lang.{code}.{key}"), &format!("languages.{code}.{key}"), text_at(texts, &format!("/{key}"))))
                    }
                }
            }
        }
    }
}

/// Which IAB texts a language's visitors read: the translation the server
/// holds for it, or English for the whole banner where the TCF applies
/// (the registry's rule: one language per view).
fn iab_texts_note(translations: &Translations, code: &str) -> Markup {
    if nexaguard_consent::ui_strings::primary(code) == BASE_LANGUAGE {
        return html! {};
    }
    html! {
        @match translations.find(code) {
            Some((held, _)) => p.hint { "IAB texts (purposes, features, stacks): the " code { (held) } " translation of the Global Vendor List." },
            None => p.hint.warning { "The server holds no IAB translation for this language: where the TCF applies, its visitors see the whole banner in English, and the TC string says EN. See docs/localization.md." },
        }
    }
}

fn theme(view: &View<'_>) -> Markup {
    let banner = view
        .config
        .get("banner")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let layout = text_at(&banner, "/layout");
    let floating = banner
        .get("floatingButton")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    html! {
        fieldset #f-banner {
            legend { "Theme" }
            div.row {
                div {
                    label for="f-banner-layout" { "Layout" }
                    select #f-banner-layout name="banner.layout" {
                        @for (value, label) in [("bar", "Bar at the bottom"), ("box", "Box in a corner"), ("modal", "Centred dialog")] {
                            option value=(value) selected[layout == value] { (label) }
                        }
                    }
                }
                @for (key, label) in COLOURS {
                    (text_field(view, &format!("{label} (#rrggbb)"), &format!("banner.{key}"), &format!("banner.{key}"), text_at(&banner, &format!("/{key}"))))
                }
            }
            div.check { label { input type="checkbox" name="banner.floatingButton" checked[floating]; "Floating button to reopen the preferences" } }
        }
    }
}

/// `POST /admin/sites/{site}/edit`: the fields back into the draft, saved
/// over the revision the form was read at.
async fn save(
    State(state): State<AppState>,
    console: Console,
    Path(site): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    console.check_form(&uri, &headers, get("csrf").unwrap_or_default())?;
    // The actions that only answer the form again must not show the
    // editor to a role that may not open it.
    console.require(Permission::EditSites)?;
    let site = site_id(&site)?;
    let revision: u32 = get("revision")
        .and_then(|r| r.parse().ok())
        .ok_or_else(|| {
            Refusal::Page(
                StatusCode::BAD_REQUEST,
                "The form has no draft revision.".into(),
            )
        })?;
    let draft = console.admin.draft(&console.principal, site).await?;
    let mut config: Value = serde_json::from_str(&draft.config_json).unwrap_or_else(|_| json!({}));
    if !config.is_object() {
        config = json!({});
    }
    let action = Action::of(get(regions::ACTION));
    let form = apply(&mut config, &fields, action);
    let preview = regions::preview_of(&config, get(regions::PREVIEW_FIELD));
    let json = serde_json::to_string(&config).map_err(|e| {
        Refusal::Page(
            StatusCode::BAD_REQUEST,
            format!("The form does not make a configuration: {e}"),
        )
    })?;
    let checks = checks(&console, &json, &config, form);
    if action != Action::Save || checks.blocking {
        let (note, status) = if action == Action::Save {
            (Note::Refused, StatusCode::UNPROCESSABLE_ENTITY)
        } else {
            (Note::Unsaved(action.note()), StatusCode::OK)
        };
        let site = console.admin.site(&console.principal, site).await?;
        let filters = Filters::default();
        let view = View {
            config: &config,
            revision,
            problems: &checks.problems,
            warnings: &checks.warnings,
            gvl: &state.gvl,
            translations: &state.translations,
            filters: &filters,
            preview: &preview,
            note,
        };
        return Ok((status, page(&console, &site, &view)).into_response());
    }
    match console
        .admin
        .save_draft(&console.principal, site, &config, revision)
        .await
    {
        Ok((saved, _)) => {
            // The preview stays on the region it showed.
            let region = preview
                .region_text()
                .filter(|_| matches!(preview, Preview::Shown(_)))
                .map(|r| format!("&region={r}"))
                .unwrap_or_default();
            Ok(see_other(&format!(
                "{}/edit?saved={saved}{region}",
                site_path(site)
            )))
        }
        Err(AdminError::Conflict(message)) => Ok(stale(&console, site, &message)),
        Err(error) => Err(error.into()),
    }
}

/// 409: someone saved the draft since this form was read; nothing was
/// saved, and the page says so rather than overwriting their work.
fn stale(console: &Console, site: nexaguard_store::SiteId, message: &str) -> Response {
    let path = site_path(site);
    let body = layout::console_page(
        console,
        "Draft changed",
        html! {
            h1 { "The draft changed while you edited it" }
            p.error role="alert" #stale { "Your changes were not saved: " (message) "." }
            p { a.button href=(format!("{path}/edit")) { "Reload the editor" } }
        },
    );
    (StatusCode::CONFLICT, body).into_response()
}

/// Writes the form's fields into `config`, with `action` done to the
/// regional rules; returns the form's own findings (values it could not
/// have offered), which refuse a save.
fn apply(config: &mut Value, fields: &[(String, String)], action: Action) -> Vec<ConfigProblem> {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
    };
    let all = |name: &str| -> Vec<&str> {
        fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let Some(map) = config.as_object_mut() else {
        return Vec::new();
    };
    map.insert(
        "regulation".into(),
        json!(get("regulation").unwrap_or("tcf")),
    );
    set_text(map, "publisherCountry", get("publisherCountry"));
    set_number(map, "cmpId", get("cmpId"));
    set_number(map, "consentLifetimeDays", get("consentLifetimeDays"));
    map.insert("purposes".into(), json!(numbers(&all("purpose"))));
    map.insert(
        "specialFeatures".into(),
        json!(numbers(&all("specialFeature"))),
    );
    let mut vendors = numbers(&all("vendor"));
    vendors.sort_unstable();
    vendors.dedup();
    map.insert("vendors".into(), json!(vendors));
    let lang = get("defaultLanguage")
        .filter(|l| !l.is_empty())
        .unwrap_or("en")
        .to_owned();
    map.insert(
        "customPurposes".into(),
        Value::Array(custom_purpose_rows(map, &get, &lang)),
    );
    map.insert(
        "customVendors".into(),
        Value::Array(custom_vendor_rows(&get)),
    );
    apply_consent_mode(map, &get);
    apply_texts(map, fields, &get, &lang);
    apply_theme(map, &get);
    regions::apply(map, &get, action)
}

fn set_text(map: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(value) = value {
        map.insert(key.into(), json!(value));
    }
}

/// A number field: a number when it is one, else the text as typed, so
/// that validation names the field rather than the form dropping it.
fn set_number(map: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    match value {
        Some("") | None => {
            map.remove(key);
        }
        Some(text) => {
            let value = text
                .parse::<u64>()
                .map_or_else(|_| json!(text), |n| json!(n));
            map.insert(key.into(), value);
        }
    }
}

fn numbers(values: &[&str]) -> Vec<u64> {
    values
        .iter()
        .filter_map(|v| v.trim().parse().ok())
        .collect()
}

fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn custom_purpose_rows<'a>(
    map: &Map<String, Value>,
    get: &impl Fn(&str) -> Option<&'a str>,
    lang: &str,
) -> Vec<Value> {
    let old = map
        .get("customPurposes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for i in 0.. {
        let Some(id) = get(&format!("cp.{i}.id")) else {
            break;
        };
        if id.is_empty() {
            continue;
        }
        // Keep what the form does not show (other languages, cookies).
        let mut row = old
            .iter()
            .find(|p| p.get("id").and_then(Value::as_str) == Some(id))
            .cloned()
            .unwrap_or_else(|| json!({"name": {}}));
        put(&mut row, "id", json!(id));
        put(
            child(&mut row, "name"),
            lang,
            json!(get(&format!("cp.{i}.name")).unwrap_or_default()),
        );
        put(
            &mut row,
            "necessary",
            json!(get(&format!("cp.{i}.necessary")).is_some()),
        );
        out.push(row);
    }
    out
}

fn custom_vendor_rows<'a>(get: &impl Fn(&str) -> Option<&'a str>) -> Vec<Value> {
    let mut out = Vec::new();
    for i in 0.. {
        let Some(id) = get(&format!("cv.{i}.id")) else {
            break;
        };
        if id.is_empty() {
            continue;
        }
        let mut row = json!({
            "id": id,
            "name": get(&format!("cv.{i}.name")).unwrap_or_default(),
            "purposes": list(get(&format!("cv.{i}.purposes")).unwrap_or_default()),
        });
        if let Some(url) = get(&format!("cv.{i}.privacy")).filter(|u| !u.is_empty()) {
            put(&mut row, "privacyPolicyUrl", json!(url));
        }
        out.push(row);
    }
    out
}

fn apply_consent_mode<'a>(map: &mut Map<String, Value>, get: &impl Fn(&str) -> Option<&'a str>) {
    let cm = map.entry("consentMode").or_insert_with(|| json!({}));
    if !cm.is_object() {
        *cm = json!({});
    }
    put(cm, "enabled", json!(get("cmEnabled").is_some()));
    let mut mapping = Map::new();
    for t in ConsentModeType::ALL {
        let name = t.as_str();
        let purposes = list(get(&format!("cm.{name}.purposes")).unwrap_or_default());
        let custom = list(get(&format!("cm.{name}.custom")).unwrap_or_default());
        if purposes.is_empty() && custom.is_empty() {
            continue;
        }
        let purposes: Vec<Value> = purposes
            .iter()
            .map(|p| p.parse::<u64>().map_or_else(|_| json!(p), |n| json!(n)))
            .collect();
        mapping.insert(
            name.into(),
            json!({"purposes": purposes, "customPurposes": custom}),
        );
    }
    put(cm, "mapping", Value::Object(mapping));
}

fn apply_texts<'a>(
    map: &mut Map<String, Value>,
    fields: &[(String, String)],
    get: &impl Fn(&str) -> Option<&'a str>,
    lang: &str,
) {
    map.insert("defaultLanguage".into(), json!(lang));
    let languages = map.entry("languages").or_insert_with(|| json!({}));
    if !languages.is_object() {
        *languages = json!({});
    }
    for (name, value) in fields {
        let Some(rest) = name.strip_prefix("lang.") else {
            continue;
        };
        let Some((code, key)) = rest.split_once('.') else {
            continue;
        };
        if !TEXTS.iter().any(|(k, _)| *k == key) {
            continue;
        }
        let value = value.trim();
        if key == "privacyPolicyUrl" && value.is_empty() {
            if let Some(texts) = languages.get_mut(code).and_then(Value::as_object_mut) {
                texts.remove(key);
            }
            continue;
        }
        put(child(languages, code), key, json!(value));
    }
    if let Some(code) = get("newLanguage")
        .map(str::to_lowercase)
        .filter(|c| !c.is_empty())
    {
        if languages.get(&code).is_none() {
            // Start from the default language's texts, to translate.
            let base = languages.get(lang).cloned().unwrap_or_else(|| {
                let empty: Map<String, Value> = TEXTS
                    .iter()
                    .filter(|(k, _)| *k != "privacyPolicyUrl")
                    .map(|(k, _)| ((*k).to_owned(), json!("")))
                    .collect();
                Value::Object(empty)
            });
            put(languages, &code, base);
        }
    }
}

fn apply_theme<'a>(map: &mut Map<String, Value>, get: &impl Fn(&str) -> Option<&'a str>) {
    let banner = map.entry("banner").or_insert_with(|| json!({}));
    if !banner.is_object() {
        *banner = json!({});
    }
    if let Some(layout) = get("banner.layout") {
        put(banner, "layout", json!(layout));
    }
    for (key, _) in COLOURS {
        if let Some(colour) = get(&format!("banner.{key}")).filter(|c| !c.is_empty()) {
            put(banner, key, json!(colour));
        }
    }
    put(
        banner,
        "floatingButton",
        json!(get("banner.floatingButton").is_some()),
    );
}

/// Sets `key` of the object `value` (made an object if it is not one: a
/// draft may hold anything).
fn put(value: &mut Value, key: &str, new: Value) {
    match value.as_object_mut() {
        Some(map) => {
            map.insert(key.to_owned(), new);
        }
        None => *value = json!({ key: new }),
    }
}

/// The object at `key` of `value`, made one if it is missing or not one.
fn child<'a>(value: &'a mut Value, key: &str) -> &'a mut Value {
    if !value.get(key).is_some_and(Value::is_object) {
        put(value, key, json!({}));
    }
    match value {
        Value::Object(map) => map.entry(key.to_owned()).or_insert_with(|| json!({})),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_form_writes_into_the_draft_and_keeps_the_rest() {
        let mut config = json!({
            "cookieDomain": "example.com",
            "customPurposes": [{"id": "analytics", "name": {"en": "Analytics", "de": "Analyse"}, "cookies": ["_ga*"]}],
            "languages": {"en": {"title": "Old"}},
        });
        apply(
            &mut config,
            &form(&[
                ("regulation", "tcf"),
                ("publisherCountry", "DE"),
                ("cmpId", "abc"),
                ("purpose", "1"),
                ("purpose", "3"),
                ("vendor", "8"),
                ("vendor", "2"),
                ("vendor", "8"),
                ("cp.0.id", "analytics"),
                ("cp.0.name", "Stats"),
                ("cp.1.id", ""),
                ("cv.0.id", "chat"),
                ("cv.0.name", "Chat Inc"),
                ("cv.0.purposes", "analytics, x"),
                ("cm.analytics_storage.purposes", "1, 9"),
                ("cm.analytics_storage.custom", "analytics"),
                ("defaultLanguage", "en"),
                ("lang.en.title", "New"),
                ("newLanguage", "DE"),
                ("banner.primaryColor", "red"),
            ]),
            Action::Save,
        );
        assert_eq!(config["cookieDomain"], "example.com");
        assert_eq!(
            config["cmpId"], "abc",
            "kept as typed, for validation to name"
        );
        assert_eq!(config["purposes"], json!([1, 3]));
        assert_eq!(config["vendors"], json!([2, 8]));
        let purpose = &config["customPurposes"][0];
        assert_eq!(purpose["name"], json!({"en": "Stats", "de": "Analyse"}));
        assert_eq!(purpose["cookies"], json!(["_ga*"]));
        assert_eq!(config["customPurposes"].as_array().unwrap().len(), 1);
        assert_eq!(
            config["customVendors"][0]["purposes"],
            json!(["analytics", "x"])
        );
        assert_eq!(
            config["consentMode"]["mapping"]["analytics_storage"]["purposes"],
            json!([1, 9])
        );
        assert_eq!(config["consentMode"]["enabled"], false);
        assert_eq!(config["languages"]["en"]["title"], "New");
        assert_eq!(config["languages"]["de"]["title"], "New");
        assert_eq!(config["banner"]["primaryColor"], "red");
    }

    #[test]
    fn findings_are_matched_to_fields_by_path() {
        let problems = vec![ConfigProblem {
            path: "banner.primaryColor".into(),
            message: "not a colour".into(),
        }];
        assert!(findings(&problems, "banner.primaryColor")
            .into_string()
            .contains("not a colour"));
        assert!(findings(&problems, "banner")
            .into_string()
            .contains("not a colour"));
        assert!(findings(&problems, "banner.textColor")
            .into_string()
            .is_empty());
        assert_eq!(field_id("customPurposes[0].id"), "f-customPurposes-0--id");
    }
}

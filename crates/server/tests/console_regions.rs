//! The configuration editor's regional rules in process: the real router
//! over a real SQLite store, an owner signed in with TOTP, and the editor's
//! form posted as a browser would post it (every field the page shows, as
//! it shows it, with the changes a user makes), so that what is tested is
//! the page and its one save path, not a hand-made request. Also what the
//! editor says of each language's IAB texts.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{send, sign_in, user, Answer, Client, Env, Seed, HOST, ORIGIN};
use nexaguard_access::Role;
use serde_json::{json, Value};

const TCF_CONFIG: &str = include_str!("fixtures/tcf-site.json");

/// An owner signed in (TOTP enrolled) with a site whose draft is the TCF
/// fixture, without rules.
struct Setup {
    env: Env,
    owner: Client,
    site: String,
}

async fn setup() -> Setup {
    let env = common::env().await;
    let tenant = Seed(&env.admin).tenant("acme").await.id;
    user(&env, Some(tenant), Role::Owner, "owner@acme.example").await;
    let owner = sign_in(&env, "owner@acme.example").await;
    let created = owner
        .call(
            &env,
            Method::POST,
            "/sites",
            Some(json!({"name": "Shop", "origins": ["https://shop.example"]})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json());
    let site = created.json()["id"].as_str().unwrap().to_owned();
    let s = Setup { env, owner, site };
    s.save_draft(0, serde_json::from_str(TCF_CONFIG).unwrap())
        .await;
    s
}

impl Setup {
    /// Saves `config` as the draft over `revision`, through the admin API.
    async fn save_draft(&self, revision: u32, config: Value) {
        let saved = self
            .owner
            .call(
                &self.env,
                Method::PUT,
                &format!("/sites/{}/draft", self.site),
                Some(json!({"revision": revision, "config": config})),
            )
            .await;
        assert_eq!(saved.status, StatusCode::OK, "{:?}", saved.json());
    }

    fn edit_path(&self) -> String {
        format!("/admin/sites/{}/edit", self.site)
    }

    async fn get(&self, path: &str) -> Answer {
        let request = Request::get(path)
            .header(header::HOST, HOST)
            .header(header::COOKIE, self.owner.cookie.as_deref().unwrap())
            .body(Body::empty())
            .unwrap();
        send(&self.env.app, request).await
    }

    /// The editor as the browser gets it.
    async fn editor(&self) -> Form {
        let page = self.get(&self.edit_path()).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        Form::of(&page.text())
    }

    /// Posts `form` with the button `action` pressed (`None`: Enter, the
    /// default button, which saves).
    async fn post(&self, form: &Form, action: Option<&str>) -> Answer {
        self.post_as(&self.owner, form, action).await
    }

    /// [`Setup::post`] with another user's session and CSRF token.
    async fn post_as(&self, who: &Client, form: &Form, action: Option<&str>) -> Answer {
        let mut fields = form.fields.clone();
        if let Some(csrf) = &who.csrf {
            fields.retain(|(k, _)| k != "csrf");
            fields.push(("csrf".into(), csrf.clone()));
        }
        if let Some(action) = action {
            fields.push(("rgAction".into(), action.into()));
        }
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let request = Request::post(self.edit_path())
            .header(header::HOST, HOST)
            .header(header::ORIGIN, ORIGIN)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, who.cookie.as_deref().unwrap())
            .body(Body::from(body))
            .unwrap();
        send(&self.env.app, request).await
    }

    /// The draft as the admin API reads it.
    async fn draft(&self) -> Value {
        let answer = self
            .owner
            .call(
                &self.env,
                Method::GET,
                &format!("/sites/{}/draft", self.site),
                None,
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json());
        answer.json()
    }

    /// Adds a rule through the new row and "Add the rule"; returns the
    /// page that answers (not saved).
    async fn add_rule(&self, form: &mut Form, matches: &str, kind: &str) -> Form {
        form.set("rg.new.match", matches);
        form.set("rg.new.kind", kind);
        let page = self.post(form, Some("add")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        assert!(page.text().contains("Rule added."), "{}", page.text());
        Form::of(&page.text())
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The value of `name="..."` in one tag.
fn attr(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = start + tag[start..].find('"')?;
    Some(unescape(&tag[start..end]))
}

/// The editor's form as the page shows it: the fields a browser would
/// post (text and hidden inputs, ticked boxes, chosen options; not the
/// vendor search, which belongs to another form), and the page itself.
#[derive(Clone)]
struct Form {
    fields: Vec<(String, String)>,
    html: String,
}

impl Form {
    fn of(html: &str) -> Form {
        let start = html.find("<form id=\"editor\"").expect("the editor's form");
        let end = start + html[start..].find("</form>").unwrap();
        let form = &html[start..end];
        let mut fields = Vec::new();
        let mut at = 0;
        while let Some(open) = form[at..].find('<') {
            let tag_start = at + open;
            let tag_end = tag_start + form[tag_start..].find('>').unwrap();
            let tag = &form[tag_start..=tag_end];
            at = tag_end + 1;
            let Some(name) = attr(tag, "name") else {
                continue;
            };
            if attr(tag, "form").is_some() {
                continue;
            }
            if tag.starts_with("<input") {
                let kind = attr(tag, "type").unwrap_or_else(|| "text".into());
                if kind == "checkbox" {
                    if tag.contains(" checked") {
                        fields.push((name, attr(tag, "value").unwrap_or_else(|| "on".into())));
                    }
                } else {
                    fields.push((name, attr(tag, "value").unwrap_or_default()));
                }
            } else if tag.starts_with("<select") {
                let options_end = at + form[at..].find("</select>").unwrap();
                let options: Vec<&str> = form[at..options_end].split("<option").skip(1).collect();
                let chosen = options
                    .iter()
                    .find(|o| o.split('>').next().unwrap().contains(" selected"))
                    .or(options.first())
                    .and_then(|o| attr(o, "value"))
                    .unwrap_or_default();
                fields.push((name, chosen));
            }
        }
        Form {
            fields,
            html: html.to_owned(),
        }
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Types `value` into the field `name` (or chooses it).
    fn set(&mut self, name: &str, value: &str) {
        match self.fields.iter_mut().find(|(k, _)| k == name) {
            Some(field) => field.1 = value.to_owned(),
            None => panic!("no field {name} in the form"),
        }
    }

    /// Ticks (or unticks) the box `name`.
    fn tick(&mut self, name: &str, on: bool) {
        self.fields.retain(|(k, _)| k != name);
        if on {
            self.fields.push((name.to_owned(), "on".to_owned()));
        }
    }

    /// The text of the element with id `id` (tags dropped).
    fn text_of(&self, id: &str) -> String {
        let marker = format!("id=\"{id}\"");
        let start = self
            .html
            .find(&marker)
            .unwrap_or_else(|| panic!("#{id} not in the page: {}", self.html));
        let rest = &self.html[start..];
        let open = rest.find('>').unwrap() + 1;
        let mut depth = 1;
        let mut text = String::new();
        let mut chars = rest[open..].char_indices();
        let body = &rest[open..];
        while let Some((i, c)) = chars.next() {
            if c == '<' {
                let close = body[i..].find('>').unwrap();
                let tag = &body[i..=i + close];
                if tag.starts_with("</") {
                    depth -= 1;
                } else if !tag.ends_with("/>") && !tag.starts_with("<input") {
                    depth += 1;
                }
                if depth == 0 {
                    break;
                }
                for _ in 0..close {
                    chars.next();
                }
            } else {
                text.push(c);
            }
        }
        unescape(&text)
    }
}

#[tokio::test]
async fn rules_are_added_and_reordered_in_the_editor_and_saved_only_with_save_draft() {
    let s = setup().await;
    let mut form = s.editor().await;
    assert!(form.html.contains("No rules yet"), "no rules at first");
    let revision = s.draft().await["revision"].clone();

    let mut form = s.add_rule(&mut form, "US-CA, US-VA", "us").await;
    assert_eq!(form.value("rg.0.match"), Some("US-CA, US-VA"));
    assert_eq!(form.value("rg.0.kind"), Some("us"));
    assert_eq!(form.value("rg.new.match"), Some(""), "a fresh new row");
    form.set("rg.0.gpp", "state");
    let form = s.add_rule(&mut form, "JP", "none").await;
    assert_eq!(form.value("rg.0.gpp"), Some("state"), "earlier edits stay");
    assert_eq!(form.value("rg.1.match"), Some("JP"));
    assert!(form.html.contains("Not saved yet"));
    assert_eq!(
        s.draft().await["revision"],
        revision,
        "adding rules saves nothing"
    );

    let moved = s.post(&form, Some("up.1")).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text());
    let mut form = Form::of(&moved.text());
    assert_eq!(form.value("rg.0.match"), Some("JP"));
    assert_eq!(form.value("rg.0.kind"), Some("none"));
    assert_eq!(form.value("rg.1.match"), Some("US-CA, US-VA"));
    assert_eq!(
        form.value("rg.1.gpp"),
        Some("state"),
        "the rule moved whole"
    );
    assert_eq!(
        form.value("rg.1.gpc"),
        Some("on"),
        "GPC honoured by default"
    );
    form.tick("rg.1.gpc", false);
    form.set("rg.1.cm.analytics_storage", "denied");

    let saved = s.post(&form, None).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let draft = s.draft().await;
    let config = &draft["config"];
    assert_eq!(
        config["regions"],
        json!([
            {"match": ["JP"], "experience": {"kind": "none"}},
            {"match": ["US-CA", "US-VA"],
             "experience": {"kind": "us", "gppSections": "state", "honourGpc": false},
             "consentModeDefaults": {"analytics_storage": "denied"}},
        ])
    );
    assert_eq!(
        config["vendors"],
        json!([1, 2, 5, 6]),
        "the rest of the draft is kept"
    );

    // Removing every rule leaves no regions field, as before rules existed.
    let mut form = s.editor().await;
    let removed = s.post(&form, Some("remove.0")).await;
    form = Form::of(&removed.text());
    assert_eq!(form.value("rg.0.match"), Some("US-CA, US-VA"));
    let removed = s.post(&form, Some("remove.0")).await;
    form = Form::of(&removed.text());
    assert!(form.value("rg.0.match").is_none());
    assert_eq!(
        s.post(&form, None).await.status,
        StatusCode::SEE_OTHER,
        "saved"
    );
    assert!(s.draft().await["config"].get("regions").is_none());
}

#[tokio::test]
async fn a_rule_after_everywhere_is_refused_next_to_the_rule_and_nothing_is_saved() {
    let s = setup().await;
    let mut form = s.editor().await;
    let mut form = s.add_rule(&mut form, "everywhere", "notice_only").await;
    let mut form = s.add_rule(&mut form, "JP", "none").await;
    assert!(
        form.text_of("f-regions-1-error")
            .contains("comes after regions[0], which matches everywhere"),
        "the finding shows before saving"
    );
    form.set("rg.0.match", "everywhere, fr");
    let before = s.draft().await;

    let refused = s.post(&form, None).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = Form::of(&refused.text());
    assert!(page.text_of("not-saved").contains("Nothing was saved"));
    let rule = page.text_of("f-regions-1-error");
    assert!(rule.contains("can never apply"), "{rule}");
    let entry = page.text_of("f-regions-0--match-error");
    assert!(entry.contains("\"FR\", not \"fr\""), "{entry}");
    assert!(
        page.html.contains("aria-describedby=\"f-regions-1-error\""),
        "the rule's fieldset names its finding"
    );
    assert_eq!(
        page.value("rg.1.match"),
        Some("JP"),
        "the form comes back as posted"
    );
    assert_eq!(s.draft().await, before, "nothing was saved");

    // An experience the form does not offer is a finding too, not a 500.
    let mut forged = page.clone();
    forged.set("rg.0.match", "everywhere");
    forged.set("rg.1.kind", "gdpr_please");
    let refused = s.post(&forged, None).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Form::of(&refused.text())
        .text_of("f-regions-1--experience-error")
        .contains("is not an experience"));
    assert_eq!(s.draft().await, before);
}

#[tokio::test]
async fn warnings_are_shown_by_their_field_and_do_not_stop_the_save() {
    let s = setup().await;
    let mut form = s.editor().await;
    let mut form = s.add_rule(&mut form, "US-CA", "us").await;
    let mut form = s.add_rule(&mut form, "US", "notice_only").await;
    form.set("rg.new.match", "eea_uk_ch, FR");
    form.set("rg.new.kind", "tcf");
    let saved = s.post(&form, None).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let location = saved.headers[header::LOCATION].to_str().unwrap().to_owned();
    let page = Form::of(&s.get(&location).await.text());
    assert!(page.text_of("f-regions-1--match-warning").contains("US-CA"));
    assert!(page
        .text_of("f-regions-2--match-warning")
        .contains("already covered by \"eea_uk_ch\""));
    assert!(page.text_of("warnings").contains("2 warning(s)"));
    assert!(page.text_of("validation").contains("No problems"));
    assert_eq!(
        s.draft().await["config"]["regions"][2]["match"],
        json!(["eea_uk_ch", "FR"])
    );
}

#[tokio::test]
async fn the_editor_says_which_languages_show_the_iab_texts_in_their_own_language() {
    let s = setup().await;
    let mut config: Value = serde_json::from_str(TCF_CONFIG).unwrap();
    let english = config["languages"]["en"].clone();
    config["languages"]["de"] = english.clone();
    config["languages"]["it"] = english;
    s.save_draft(1, config).await;
    let page = s.get(&s.edit_path()).await.text();
    // In code order: de, en, it.
    let at = |code: &str| {
        page.find(&format!("Language <code>{code}</code>"))
            .unwrap_or_else(|| panic!("the {code} texts"))
    };
    let (german, english, italian) = (at("de"), at("en"), at("it"));
    assert!(
        page[german..english].contains("the <code>de</code> translation of the Global Vendor List"),
        "German has the sample's translation"
    );
    assert!(
        !page[english..italian].contains("IAB"),
        "English needs no translation"
    );
    assert!(
        page[italian..].contains("holds no IAB translation for this language"),
        "Italian has none: its visitors see English"
    );
}

/// The editor's page with the preview of `region`, on the saved draft.
async fn preview(s: &Setup, region: &str) -> Form {
    let path = format!("{}?region={region}", s.edit_path());
    Form::of(&s.get(&path).await.text())
}

#[tokio::test]
async fn the_preview_shows_what_visitors_from_us_ca_fr_and_jp_get_and_the_published_rules_match() {
    let s = setup().await;
    let mut form = s.editor().await;
    let mut form = s.add_rule(&mut form, "eea_uk_ch", "tcf").await;
    let mut form = s.add_rule(&mut form, "us_comprehensive", "us").await;
    form.set("rg.1.gpp", "state");
    let mut form = s.add_rule(&mut form, "JP", "none").await;

    // The preview of rules not saved yet.
    form.set("previewRegion", "us-ca");
    let shown = s.post(&form, Some("preview")).await;
    assert_eq!(shown.status, StatusCode::OK);
    let page = Form::of(&shown.text());
    assert_eq!(page.value("previewRegion"), Some("US-CA"));
    assert_eq!(page.text_of("preview-rule"), "Rule 2: us_comprehensive");
    assert!(page.text_of("preview-experience").starts_with("us:"));
    assert_eq!(page.text_of("preview-gdpr"), "false");
    assert_eq!(page.text_of("preview-gpp"), "8 (usca)");
    assert!(page
        .text_of("preview-consent-mode")
        .contains("ad_storage: granted"));
    assert_eq!(page.text_of("preview-notice").len(), 32);

    let saved = s.post(&page, None).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let location = saved.headers[header::LOCATION].to_str().unwrap().to_owned();
    assert!(
        location.ends_with("&region=US-CA"),
        "the preview keeps its region: {location}"
    );

    let fr = preview(&s, "FR").await;
    assert_eq!(fr.text_of("preview-rule"), "Rule 1: eea_uk_ch");
    assert!(fr.text_of("preview-experience").starts_with("tcf:"));
    assert_eq!(fr.text_of("preview-gdpr"), "true");
    assert_eq!(fr.text_of("preview-gpp"), "2 (tcfeuv2)");
    assert!(fr
        .text_of("preview-consent-mode")
        .contains("ad_storage: denied"));
    let jp = preview(&s, "JP").await;
    assert_eq!(jp.text_of("preview-rule"), "Rule 3: JP");
    assert!(jp.text_of("preview-experience").starts_with("none:"));
    assert_eq!(jp.text_of("preview-gpp"), "none");
    let unknown = preview(&s, "unknown").await;
    assert!(unknown
        .text_of("preview-rule")
        .contains("No rule matches: the site's regulation (tcf) applies"));
    let bad = preview(&s, "FRA").await;
    assert!(bad
        .text_of("f-previewRegion-error")
        .contains("\"FRA\" is not a region code"));

    // Published, the rules are the ones the editor saved, in order.
    let published = s
        .owner
        .call(
            &s.env,
            Method::POST,
            &format!("/sites/{}/publish", s.site),
            None,
        )
        .await;
    assert_eq!(
        published.status,
        StatusCode::CREATED,
        "{:?}",
        published.json()
    );
    let site = s
        .owner
        .call(&s.env, Method::GET, &format!("/sites/{}", s.site), None)
        .await
        .json();
    let key = site["stagingKey"].as_str().unwrap();
    let served = s.get(&format!("/v1/sites/{key}/config.json")).await.json();
    let kinds: Vec<&str> = served["config"]["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["experience"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["tcf", "us", "none"]);
}

#[tokio::test]
async fn the_preview_page_shows_a_region_and_hands_it_to_the_frame_as_the_staging_override() {
    let s = setup().await;
    let mut form = s.editor().await;
    let form = s.add_rule(&mut form, "FR", "notice_only").await;
    assert_eq!(s.post(&form, None).await.status, StatusCode::SEE_OTHER);

    let page = s
        .get(&format!("/admin/sites/{}/preview?region=fr", s.site))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let page = page.text();
    assert!(page.contains("src=\"/admin/sites/"), "{page}");
    assert!(
        page.contains("/preview/frame?nexaguard_region=FR\""),
        "{page}"
    );
    assert!(page.contains("/region?nexaguard_region=FR\""), "{page}");
    let shown = Form {
        fields: Vec::new(),
        html: page,
    };
    assert_eq!(shown.text_of("preview-rule"), "Rule 1: FR");
    assert!(shown
        .text_of("preview-experience")
        .starts_with("notice_only:"));
    assert_eq!(shown.text_of("preview-gdpr"), "false");

    let bad = s
        .get(&format!("/admin/sites/{}/preview?region=%3Cs%3E", s.site))
        .await;
    assert_eq!(bad.status, StatusCode::OK);
    let bad = bad.text();
    assert!(bad.contains("/preview/frame\""), "no region for the frame");
    assert!(
        bad.contains("&quot;&lt;s&gt;&quot; is not a region code"),
        "{bad}"
    );
}

#[tokio::test]
async fn a_viewer_may_neither_save_rules_nor_get_the_editor_back_from_a_rule_button() {
    let s = setup().await;
    let mut form = s.editor().await;
    form.set("rg.new.match", "JP");
    form.set("rg.new.kind", "none");
    let tenant = s.env.store.tenants().await.unwrap()[0].id;
    user(&s.env, Some(tenant), Role::Viewer, "viewer@acme.example").await;
    let viewer = sign_in(&s.env, "viewer@acme.example").await;
    let before = s.draft().await;
    for action in [Some("add"), Some("preview"), None] {
        let answer = s.post_as(&viewer, &form, action).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{action:?}");
        assert!(!answer.text().contains("rg.0.match"), "{action:?}");
    }
    assert_eq!(s.draft().await, before);
}

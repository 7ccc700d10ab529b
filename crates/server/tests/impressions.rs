//! Proof of consent with schema version 2, end to end in process: the
//! impression that records a notice was shown, the choice that names it
//! with the region, experience, GPP string, GPC and notice version, each
//! refusal code, version 1 events still recorded, and the admin lookup
//! pairing a record with its impression.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{send, Answer, Env, Seed};
use nexaguard_access::Role;
use nexaguard_admin::consents::ConsentFilter;
use nexaguard_admin::{Authentication, Principal};
use nexaguard_audit::Actor;
use nexaguard_consent::config::SiteConfig;
use nexaguard_consent::regions::notice_version;
use nexaguard_consent::Environment;
use nexaguard_gpp::{GppString, Section, TcfEuV2};
use nexaguard_store::admin::ApiTokenId;
use nexaguard_store::{Site, Tenant};
use nexaguard_tcf::{PurposeSet, TcModel, Timestamp, VendorSet};
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

const TCF_CONFIG: &str = include_str!("fixtures/tcf-site.json");
const SITE_ORIGIN: &str = "https://shop.example";

/// The TCF fixture with rules: the TCF in Europe, the US notice with the
/// states' GPP sections, nothing in Japan, opt-in elsewhere.
fn regional_config() -> String {
    let mut config: Value = serde_json::from_str(TCF_CONFIG).unwrap();
    config["customPurposes"] = json!([{"id": "analytics", "name": {"en": "Analytics"}}]);
    config["regions"] = json!([
        { "match": ["eea_uk_ch"], "experience": { "kind": "tcf" } },
        { "match": ["us_comprehensive"],
          "experience": { "kind": "us", "gppSections": "state" } },
        { "match": ["JP"], "experience": { "kind": "none" } },
        { "match": ["everywhere"], "experience": { "kind": "opt_in" } }
    ]);
    config.to_string()
}

struct Shop {
    env: Env,
    tenant: Tenant,
    site: Site,
    config: SiteConfig,
}

impl Shop {
    fn key(&self) -> &str {
        &self.site.production_key
    }

    /// The notice version the published configuration gives `region`.
    fn notice_for(&self, region: Option<&str>) -> String {
        let region = region.map(|code| code.parse().unwrap());
        notice_version(&self.config, &self.config.experience_for(region.as_ref()))
    }

    async fn post(&self, body: &Value) -> Answer {
        self.post_from(body, SITE_ORIGIN).await
    }

    async fn post_from(&self, body: &Value, origin: &str) -> Answer {
        let request = Request::post("/v1/consents")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ORIGIN, origin)
            .header(
                header::USER_AGENT,
                "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
            )
            .body(Body::from(body.to_string()))
            .unwrap();
        send(&self.env.app, request).await
    }

    /// An analyst of the shop's tenant, by API token.
    fn analyst(&self) -> Principal {
        Principal {
            actor: Actor::Token(Uuid::new_v4()),
            tenant: Some(self.tenant.id),
            role: Role::Analyst,
            auth: Authentication::Token {
                id: ApiTokenId(Uuid::new_v4()),
                expires_at: OffsetDateTime::now_utc() + time::Duration::hours(1),
                step_up_scopes: Vec::new(),
            },
            network: None,
        }
    }

    async fn consents(&self) -> u64 {
        self.env
            .store
            .count_consents(self.site.id, Environment::Production)
            .await
            .unwrap()
    }

    async fn impressions(&self, ids: &[Uuid]) -> usize {
        self.env
            .store
            .impressions_by_event_ids(self.site.id, Environment::Production, ids)
            .await
            .unwrap()
            .len()
    }
}

async fn shop() -> Shop {
    let env = common::env().await;
    let seed = Seed(&env.admin);
    let tenant = seed.tenant("Shop").await;
    let site = seed.site(tenant.id, "shop", &[SITE_ORIGIN]).await;
    let config = regional_config();
    seed.publish(&site, &config, Environment::Production).await;
    env.state.refresh_sites().await.unwrap();
    Shop {
        env,
        tenant,
        site,
        config: serde_json::from_str(&config).unwrap(),
    }
}

fn now_iso() -> String {
    OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn tc_model() -> TcModel {
    let millis = OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let mut m = TcModel::default();
    m.created = Timestamp::from_unix_millis(millis).unwrap();
    m.last_updated = m.created;
    m.cmp_id = 300;
    m.cmp_version = 1;
    m.vendor_list_version = 42;
    m.policy_version = 5;
    m.purpose_consents = PurposeSet::try_from(&[1u32, 2, 3, 4, 7][..]).unwrap();
    m.vendor_consents = VendorSet::try_from(&[1u32, 2][..]).unwrap();
    m.vendors_disclosed = Some(VendorSet::try_from(&[1u32, 2, 5, 6][..]).unwrap());
    m
}

fn gpp_of(sections: Vec<Section>) -> String {
    nexaguard_gpp::encode(&GppString { sections }).unwrap()
}

fn impression(shop: &Shop) -> Value {
    json!({
        "eventId": Uuid::new_v4(),
        "schemaVersion": 2,
        "kind": "impression",
        "siteKey": shop.key(),
        "environment": "production",
        "configVersion": 1,
        "timestamp": now_iso(),
        "region": "US-CA",
        "experience": "us",
        "noticeVersion": shop.notice_for(Some("US-CA")),
        "language": "en",
        "sdkVersion": "2.0.0"
    })
}

/// A schema version 1 TCF choice, as SDKs cached in browsers post it.
fn v1_choice(shop: &Shop) -> Value {
    json!({
        "eventId": Uuid::new_v4(),
        "schemaVersion": 1,
        "siteKey": shop.key(),
        "environment": "production",
        "configVersion": 1,
        "timestamp": now_iso(),
        "action": "accept_all",
        "source": "banner",
        "tcString": nexaguard_tcf::encode(&tc_model()).unwrap(),
        "consentMode": {
            "ad_storage": "granted", "ad_user_data": "granted", "ad_personalization": "granted",
            "analytics_storage": "granted", "functionality_storage": "granted",
            "personalization_storage": "granted", "security_storage": "granted"
        },
        "purposes": [1, 2, 3, 4, 7],
        "vendors": [1, 2],
        "language": "en",
        "sdkVersion": "1.0.0"
    })
}

/// A Californian's opt-out by Global Privacy Control under the US notice,
/// naming the impression that showed it.
fn us_choice(shop: &Shop, impression_id: Value) -> Value {
    json!({
        "eventId": Uuid::new_v4(),
        "schemaVersion": 2,
        "kind": "choice",
        "siteKey": shop.key(),
        "environment": "production",
        "configVersion": 1,
        "timestamp": now_iso(),
        "action": "custom",
        "source": "gpc",
        "consentMode": {
            "ad_storage": "granted", "ad_user_data": "denied", "ad_personalization": "denied",
            "analytics_storage": "granted", "functionality_storage": "granted",
            "personalization_storage": "granted", "security_storage": "granted"
        },
        "customPurposes": ["analytics"],
        "language": "en",
        "sdkVersion": "2.0.0",
        "region": "US-CA",
        "experience": "us",
        "gppString": gpp_of(vec![Section::default_for(8).unwrap()]),
        "gppSectionIds": [8],
        "gpc": {"present": true, "applied": true},
        "noticeVersion": shop.notice_for(Some("US-CA")),
        "impressionId": impression_id
    })
}

/// A French visitor's TCF choice, its TC string also in the GPP string.
fn tcf_choice(shop: &Shop) -> Value {
    let mut e = v1_choice(shop);
    e["schemaVersion"] = json!(2);
    e["region"] = json!("FR");
    e["experience"] = json!("tcf");
    e["gppString"] = json!(gpp_of(vec![Section::TcfEuV2(TcfEuV2(tc_model()))]));
    e["gppSectionIds"] = json!([2]);
    e["noticeVersion"] = json!(shop.notice_for(Some("FR")));
    e
}

fn assert_created(answer: &Answer) {
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
}

#[tokio::test]
async fn an_impression_is_recorded_and_a_retry_gets_the_same_answer() {
    let shop = shop().await;
    let posted = impression(&shop);
    let first = shop.post(&posted).await;
    assert_created(&first);
    let receipt = first.json();
    assert_eq!(receipt["eventId"], posted["eventId"]);
    assert!(receipt["recordedAt"].is_string());
    assert_eq!(
        receipt.as_object().unwrap().len(),
        2,
        "an impression gets no consent token: {receipt}"
    );
    assert!(first.headers.get("idempotent-replayed").is_none());

    let retry = shop.post(&posted).await;
    assert_created(&retry);
    assert_eq!(retry.json(), receipt);
    assert_eq!(retry.headers["idempotent-replayed"], "true");

    let mut changed = posted.clone();
    changed["sdkVersion"] = json!("2.0.1");
    let conflict = shop.post(&changed).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert_eq!(conflict.code(), "event_id_conflict");

    let id: Uuid = serde_json::from_value(posted["eventId"].clone()).unwrap();
    let stored = shop
        .env
        .store
        .impressions_by_event_ids(shop.site.id, Environment::Production, &[id])
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    let stored = serde_json::to_value(&stored[0]).unwrap();
    assert_eq!(stored["noticeVersion"], posted["noticeVersion"]);
    assert_eq!(stored["recordedAt"], receipt["recordedAt"]);
    let text = stored.to_string();
    assert!(
        !text.contains("Firefox") && !text.contains("192.0.2"),
        "{text}"
    );
    assert_eq!(shop.consents().await, 0, "an impression is not a consent");
}

#[tokio::test]
async fn a_choice_naming_its_impression_is_recorded_read_back_and_paired_in_the_lookup() {
    let shop = shop().await;
    let shown = impression(&shop);
    assert_created(&shop.post(&shown).await);
    let posted = us_choice(&shop, shown["eventId"].clone());
    let answer = shop.post(&posted).await;
    assert_created(&answer);
    let token = answer.json()["consentToken"].as_str().unwrap().to_owned();

    let restored = send(
        &shop.env.app,
        Request::get(format!("/v1/consents/{token}?siteKey={}", shop.key()))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.text());
    let event = &restored.json()["event"];
    assert_eq!(event["schemaVersion"], 2);
    assert_eq!(event["source"], "gpc");
    for field in [
        "region",
        "experience",
        "gppString",
        "gppSectionIds",
        "gpc",
        "noticeVersion",
        "impressionId",
    ] {
        assert_eq!(event[field], posted[field], "{field}");
    }

    let filter = ConsentFilter {
        token: Some(token),
        ..ConsentFilter::default()
    };
    let records = shop
        .env
        .admin
        .consent_records(
            &shop.analyst(),
            shop.site.id,
            Environment::Production,
            &filter,
        )
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    let record = serde_json::to_value(&records[0]).unwrap();
    assert_eq!(record["eventId"], posted["eventId"]);
    assert_eq!(record["noticeVersion"], posted["noticeVersion"]);
    let paired = &record["impression"];
    assert_eq!(paired["eventId"], shown["eventId"]);
    assert_eq!(paired["timestamp"], shown["timestamp"]);
    assert_eq!(paired["noticeVersion"], shown["noticeVersion"]);
    assert_eq!(paired["experience"], "us");
    assert_eq!(paired["region"], "US-CA");

    // The admin API's search answers the same pairing.
    common::user(
        &shop.env,
        Some(shop.tenant.id),
        Role::Analyst,
        "auditor@shop.example",
    )
    .await;
    let auditor = common::sign_in(&shop.env, "auditor@shop.example").await;
    let found = auditor
        .call(
            &shop.env,
            axum::http::Method::GET,
            &format!("/sites/{}/consents", shop.site.id.0),
            None,
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text());
    let found = found.json();
    let over_http = found
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["eventId"] == posted["eventId"])
        .expect("the choice is listed");
    assert_eq!(over_http["impression"], record["impression"]);
}

#[tokio::test]
async fn a_record_naming_an_impression_that_is_not_stored_is_looked_up_without_one() {
    let shop = shop().await;
    let posted = us_choice(&shop, json!(Uuid::new_v4()));
    assert_created(&shop.post(&posted).await);
    let event_id: Uuid = serde_json::from_value(posted["eventId"].clone()).unwrap();
    let filter = ConsentFilter {
        event_id: Some(event_id),
        ..ConsentFilter::default()
    };
    let records = shop
        .env
        .admin
        .consent_records(
            &shop.analyst(),
            shop.site.id,
            Environment::Production,
            &filter,
        )
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].impression, None);
    let record = serde_json::to_value(&records[0]).unwrap();
    assert!(record.get("impression").is_none());
    assert_eq!(record["impressionId"], posted["impressionId"]);
}

#[tokio::test]
async fn schema_version_1_and_version_2_tcf_choices_are_both_recorded() {
    let shop = shop().await;
    let v1 = shop.post(&v1_choice(&shop)).await;
    assert_created(&v1);
    assert_created(&shop.post(&tcf_choice(&shop)).await);
    let mut kind = tcf_choice(&shop);
    kind["kind"] = json!("choice");
    assert_created(&shop.post(&kind).await);
    assert_eq!(shop.consents().await, 3);

    let token = v1.json()["consentToken"].as_str().unwrap().to_owned();
    let restored = send(
        &shop.env.app,
        Request::get(format!("/v1/consents/{token}?siteKey={}", shop.key()))
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .json();
    let event = restored["event"].as_object().unwrap();
    assert_eq!(event["schemaVersion"], 1);
    for field in [
        "region",
        "experience",
        "gpc",
        "noticeVersion",
        "impressionId",
    ] {
        assert!(!event.contains_key(field), "{field} in a v1 record");
    }
}

#[tokio::test]
async fn each_refused_choice_gets_its_code_and_stores_nothing() {
    let shop = shop().await;
    let us = |edit: &dyn Fn(&mut Value)| {
        let mut e = us_choice(&shop, json!(Uuid::new_v4()));
        edit(&mut e);
        e
    };
    let tcf = |edit: &dyn Fn(&mut Value)| {
        let mut e = tcf_choice(&shop);
        edit(&mut e);
        e
    };
    let mut other_tc = tc_model();
    other_tc.purpose_consents = PurposeSet::try_from(&[1u32][..]).unwrap();
    let other_gpp = gpp_of(vec![Section::TcfEuV2(TcfEuV2(other_tc))]);
    let fr_notice = shop.notice_for(Some("FR"));
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "undecodable GPP string",
            us(&|e| e["gppString"] = json!("DBABM~???")),
            "invalid_gpp_string",
        ),
        (
            "other section ids",
            us(&|e| e["gppSectionIds"] = json!([7])),
            "gpp_sections_mismatch",
        ),
        (
            "another TC string in the GPP string",
            tcf(&|e| e["gppString"] = json!(other_gpp)),
            "gpp_tcf_mismatch",
        ),
        (
            "another region's experience",
            us(&|e| e["region"] = json!("JP")),
            "experience_mismatch",
        ),
        (
            "another notice's version",
            us(&|e| e["noticeVersion"] = json!(fr_notice)),
            "notice_version_mismatch",
        ),
        (
            "GPC not applied",
            us(&|e| e["gpc"] = json!({"present": true, "applied": false})),
            "gpc_not_applied",
        ),
        (
            "a v2 field with schemaVersion 1",
            us(&|e| {
                e["schemaVersion"] = json!(1);
                e.as_object_mut().unwrap().remove("kind");
            }),
            "schema_version_mismatch",
        ),
        (
            "schemaVersion 3",
            us(&|e| e["schemaVersion"] = json!(3)),
            "unsupported_schema_version",
        ),
        (
            "a malformed notice version",
            us(&|e| e["noticeVersion"] = json!("v1")),
            "invalid_event",
        ),
        (
            "an unknown experience",
            us(&|e| e["experience"] = json!("gdpr")),
            "invalid_event",
        ),
        (
            "an unknown kind",
            us(&|e| e["kind"] = json!("click")),
            "invalid_event",
        ),
        (
            "a malformed region",
            us(&|e| e["region"] = json!("California")),
            "invalid_event",
        ),
    ];
    for (what, body, code) in cases {
        let answer = shop.post(&body).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{what}: {}",
            answer.text()
        );
        assert_eq!(answer.code(), code, "{what}: {}", answer.text());
    }
    assert_eq!(shop.consents().await, 0);
}

#[tokio::test]
async fn each_refused_impression_gets_its_code_and_stores_nothing() {
    let shop = shop().await;
    let edited = |edit: &dyn Fn(&mut Value)| {
        let mut e = impression(&shop);
        edit(&mut e);
        e
    };
    let fr_notice = shop.notice_for(Some("FR"));
    let cases: Vec<(&str, Value, StatusCode, &str)> = vec![
        (
            "schemaVersion 1",
            edited(&|e| e["schemaVersion"] = json!(1)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unsupported_schema_version",
        ),
        (
            "another region's experience",
            edited(&|e| e["region"] = json!("FR")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "experience_mismatch",
        ),
        (
            "another notice's version",
            edited(&|e| e["noticeVersion"] = json!(fr_notice)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "notice_version_mismatch",
        ),
        (
            "a consent field",
            edited(&|e| e["action"] = json!("accept_all")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_event",
        ),
        (
            "no notice version",
            edited(&|e| {
                e.as_object_mut().unwrap().remove("noticeVersion");
            }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_event",
        ),
        (
            "an unknown language",
            edited(&|e| e["language"] = json!("fr")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_language",
        ),
        (
            "a future configuration version",
            edited(&|e| e["configVersion"] = json!(9)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_config_version",
        ),
        (
            "the staging environment",
            edited(&|e| e["environment"] = json!("staging")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_environment",
        ),
        (
            "an unknown site key",
            edited(&|e| e["siteKey"] = json!("ngp_nope")),
            StatusCode::NOT_FOUND,
            "unknown_site_key",
        ),
    ];
    let mut ids = Vec::new();
    for (what, body, status, code) in cases {
        ids.push(serde_json::from_value(body["eventId"].clone()).unwrap());
        let answer = shop.post(&body).await;
        assert_eq!(answer.status, status, "{what}: {}", answer.text());
        assert_eq!(answer.code(), code, "{what}: {}", answer.text());
    }
    let foreign = shop
        .post_from(&impression(&shop), "https://evil.example")
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    assert_eq!(foreign.code(), "origin_not_allowed");
    assert_eq!(shop.impressions(&ids).await, 0);
}

#[tokio::test]
async fn an_event_id_used_by_an_impression_cannot_be_reused_by_a_choice() {
    let shop = shop().await;
    let shown = impression(&shop);
    assert_created(&shop.post(&shown).await);
    let mut choice = us_choice(&shop, shown["eventId"].clone());
    choice["eventId"] = shown["eventId"].clone();
    let answer = shop.post(&choice).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(answer.code(), "event_id_conflict");
    assert_eq!(shop.consents().await, 0);
}

#[tokio::test]
async fn the_schema_and_the_openapi_document_describe_the_new_fields_and_impressions() {
    let shop = shop().await;
    let get = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
    let schema = send(&shop.env.app, get("/v1/schema/consent-event.json"))
        .await
        .json();
    let props = schema["properties"].as_object().unwrap();
    for field in [
        "region",
        "experience",
        "gppString",
        "gppSectionIds",
        "gpc",
        "noticeVersion",
        "impressionId",
    ] {
        assert!(props.contains_key(field), "{field} missing from the schema");
    }
    let required = schema["required"].as_array().unwrap();
    assert!(
        !required.contains(&json!("region")),
        "v1 records must validate"
    );

    let doc = send(&shop.env.app, get("/v1/openapi.json")).await.json();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "ConsentEventInput",
        "ImpressionInput",
        "ImpressionReceipt",
        "Receipt",
    ] {
        assert!(schemas.contains_key(name), "{name} missing from components");
    }
    let input = &schemas["ConsentEventInput"]["properties"];
    for field in ["kind", "region", "experience", "gpc", "noticeVersion"] {
        assert!(input[field].is_object(), "ConsentEventInput.{field}");
    }
    let body = &doc["paths"]["/v1/consents"]["post"]["requestBody"]["content"]["application/json"];
    assert_eq!(body["schema"]["$ref"], "#/components/schemas/PostedEvent");
    let kinds = schemas["PostedEvent"].to_string();
    assert!(
        kinds.contains("#/components/schemas/ImpressionInput")
            && kinds.contains("#/components/schemas/ConsentEventInput"),
        "{kinds}"
    );
    let answers = schemas["RecordAnswer"].to_string();
    assert!(answers.contains("ImpressionReceipt"), "{answers}");
}

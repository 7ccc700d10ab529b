//! The GVL model, translations and trimming, on a small hand-made fixture
//! and (when present) the real GVL v17.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use nexaguard_tcf::gvl::{
    normalize_language, Gvl, GvlError, Translation, Translations, IAB_LANGUAGES,
};
use serde_json::{json, Value};

const FIXTURE: &str = include_str!("fixtures/gvl/vendor-list.json");
const GERMAN: &str = include_str!("fixtures/gvl/purposes-de.json");
const REAL_GVL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/gvl/vendor-list-v17.json"
);

fn fixture() -> Gvl {
    Gvl::from_json(FIXTURE).unwrap()
}

fn real_gvl() -> Option<String> {
    match std::fs::read_to_string(REAL_GVL) {
        Ok(s) => Some(s),
        Err(_) => {
            eprintln!("notice: {REAL_GVL} is absent; skipping the real-GVL test");
            None
        }
    }
}

fn as_value(gvl: &Gvl) -> Value {
    serde_json::from_str(&serde_json::to_string(gvl).unwrap()).unwrap()
}

#[test]
fn parses_every_field_of_the_fixture() {
    let gvl = fixture();
    assert_eq!(gvl.gvl_specification_version, 3);
    assert_eq!(gvl.vendor_list_version, 42);
    assert_eq!(gvl.tcf_policy_version, 5);
    assert_eq!(gvl.last_updated.unix_timestamp(), 1_749_139_200);
    assert_eq!(gvl.purposes.len(), 11);
    assert_eq!(gvl.purposes[&1].illustrations, ["Example for purpose 1."]);
    assert_eq!(gvl.stacks[&2].special_features, [2]);
    assert_eq!(gvl.data_categories[&3].name, "Device identifiers");

    let alpha = gvl.vendor(1).unwrap();
    assert_eq!(alpha.purposes, [1, 2, 3, 4, 7]);
    assert_eq!(alpha.flexible_purposes, [2, 7]);
    assert_eq!(alpha.cookie_max_age_seconds, Some(31_536_000));
    assert_eq!(
        alpha.urls[0].leg_int_claim.as_deref(),
        Some("https://vendor1.example/li")
    );
    assert_eq!(alpha.data_declaration.as_deref(), Some(&[1, 2][..]));

    let beta = gvl.vendor(2).unwrap();
    assert_eq!(beta.cookie_max_age_seconds, None);
    assert!(beta.uses_non_cookie_access);
    assert_eq!(beta.overflow.as_ref().unwrap().http_get_limit, 32);

    let gamma = gvl.vendor(3).unwrap();
    let retention = gamma.data_retention.as_ref().unwrap();
    assert_eq!(retention.std_retention, None);
    assert_eq!(retention.special_purposes.get(&2), Some(&90));
    assert_eq!(gamma.data_declaration, None);

    assert!(gvl.vendor(4).unwrap().is_deleted());
    assert!(!alpha.is_deleted());
    assert_eq!(gvl.vendor(5).unwrap().urls[0].leg_int_claim, None);
    assert!(gvl.vendor(99).is_none());
}

#[test]
fn unknown_fields_survive_a_round_trip() {
    let gvl = fixture();
    assert_eq!(
        gvl.extra["futureTopLevel"]["added"],
        "in a later format revision"
    );
    assert_eq!(
        gvl.vendor(5).unwrap().extra["futureField"]["note"],
        "kept on round trip"
    );
    let original: Value = serde_json::from_str(FIXTURE).unwrap();
    assert_eq!(as_value(&gvl), original);
}

#[test]
fn summary_counts_everything() {
    let s = fixture().summary();
    assert_eq!(
        serde_json::to_value(&s).unwrap(),
        json!({
            "gvlSpecificationVersion": 3, "vendorListVersion": 42, "tcfPolicyVersion": 5,
            "lastUpdated": "2025-06-05T16:00:00Z", "language": "en",
            "purposes": 11, "specialPurposes": 2, "features": 3, "specialFeatures": 2,
            "stacks": 5, "dataCategories": 3, "vendors": 6, "deletedVendors": 1
        })
    );
}

#[test]
fn bad_json_is_a_typed_error() {
    let err = Gvl::from_json("{\"vendors\": ").unwrap_err();
    assert_eq!(err.code(), "invalid_json");
    let err = Gvl::from_slice(b"not json").unwrap_err();
    assert_eq!(err.code(), "invalid_json");
}

#[test]
fn json_of_the_wrong_shape_is_a_typed_error() {
    let err = Gvl::from_json("{\"vendorListVersion\": 3}").unwrap_err();
    assert_eq!(err.code(), "invalid_gvl");
    assert!(err.to_string().contains("gvlSpecificationVersion"), "{err}");

    let mut doc: Value = serde_json::from_str(FIXTURE).unwrap();
    doc["vendors"]["1"]["purposes"] = json!("all");
    let err = Gvl::from_json(&doc.to_string()).unwrap_err();
    assert!(matches!(err, GvlError::Shape { .. }), "{err:?}");

    let mut doc: Value = serde_json::from_str(FIXTURE).unwrap();
    doc["lastUpdated"] = json!("yesterday");
    assert_eq!(
        Gvl::from_json(&doc.to_string()).unwrap_err().code(),
        "invalid_gvl"
    );
}

#[test]
fn an_entry_under_another_id_is_rejected() {
    let mut doc: Value = serde_json::from_str(FIXTURE).unwrap();
    doc["vendors"]["2"]["id"] = json!(7);
    let err = Gvl::from_json(&doc.to_string()).unwrap_err();
    assert_eq!(
        err,
        GvlError::IdMismatch {
            section: "vendors",
            key: 2,
            id: 7
        }
    );
    assert_eq!(err.code(), "id_mismatch");
}

#[test]
fn lists_before_format_3_are_rejected() {
    let mut doc: Value = serde_json::from_str(FIXTURE).unwrap();
    doc["gvlSpecificationVersion"] = json!(2);
    let err = Gvl::from_json(&doc.to_string()).unwrap_err();
    assert_eq!(err.code(), "unsupported_specification_version");
}

#[test]
fn translation_replaces_texts_and_keeps_missing_ids_in_english() {
    let mut gvl = fixture();
    let untranslated = gvl.apply_translation(&Translation::from_json(GERMAN).unwrap());
    assert_eq!(gvl.language(), "de");
    assert_eq!(gvl.purposes[&7].name, "Werbeleistung messen");
    assert_eq!(gvl.purposes[&1].illustrations, ["Beispiel für Zweck 1."]);
    assert_eq!(gvl.features[&2].name, "Verschiedene Endgeräte verknüpfen");
    assert_eq!(gvl.stacks[&3].name, "Messung und Entwicklung");
    assert_eq!(gvl.data_categories[&1].name, "IP-Adressen");
    // Not in the translation: English stays.
    assert_eq!(gvl.purposes[&11].name, "Use limited data to select content");
    assert_eq!(
        gvl.stacks[&2].name,
        "Audience statistics with device scanning"
    );
    assert_eq!(
        untranslated,
        [
            ("purposes", 11),
            ("features", 3),
            ("stacks", 2),
            ("stacks", 4),
            ("stacks", 5),
            ("dataCategories", 2),
            ("dataCategories", 3)
        ]
    );
    // Ids and declarations are the list's own: a translation changes texts only.
    assert_eq!(gvl.stacks[&3].purposes, [7, 8, 9, 10]);
    assert_eq!(gvl.vendors, fixture().vendors);
}

#[test]
fn translation_language_is_recorded_lowercased_or_undetermined() {
    let mut gvl = fixture();
    let mut t = Translation::from_json(GERMAN).unwrap();
    t.language = Some("PT-BR".into());
    gvl.apply_translation(&t);
    assert_eq!(gvl.language(), "pt-br");
    t.language = None;
    gvl.apply_translation(&t);
    assert_eq!(gvl.language(), "und");
}

#[test]
fn translation_language_from_file_name() {
    let lang = Translation::language_from_file_name;
    assert_eq!(lang("purposes-de.json").as_deref(), Some("de"));
    assert_eq!(lang("purposes-PT-br.json").as_deref(), Some("pt-br"));
    assert_eq!(lang("purposes-.json"), None);
    assert_eq!(lang("vendor-list.json"), None);
    assert_eq!(lang("purposes-d e.json"), None);
}

#[test]
fn language_tags_are_normalised_and_norwegian_is_no() {
    assert_eq!(normalize_language("de_AT"), "de-at");
    assert_eq!(normalize_language(" PT-BR "), "pt-br");
    assert_eq!(normalize_language("nb-NO"), "no-no");
    assert_eq!(normalize_language("nn"), "no");
    assert_eq!(normalize_language(""), "");
}

#[test]
fn a_visitors_language_finds_its_translation_as_the_iab_resolves_it() {
    let mut held = Translations::default();
    for code in ["de", "pt-BR", "pt-pt", "sr-latn", "sr-cyrl", "no"] {
        held.insert(code, Translation::default());
    }
    let find = |l: &str| held.find(l).map(|(code, _)| code.to_owned());
    assert_eq!(find("de").as_deref(), Some("de"));
    assert_eq!(
        find("de-AT").as_deref(),
        Some("de"),
        "a region reads its language"
    );
    assert_eq!(find("pt-br").as_deref(), Some("pt-br"));
    assert_eq!(find("pt").as_deref(), Some("pt-pt"), "pt is pt-pt");
    assert_eq!(find("pt-AO").as_deref(), Some("pt-pt"));
    assert_eq!(
        find("sr").as_deref(),
        Some("sr-cyrl"),
        "the first variant held"
    );
    assert_eq!(find("nb-NO").as_deref(), Some("no"));
    assert_eq!(find("fr"), None, "not held");
    assert_eq!(find("en"), None, "English is the list itself");
    assert_eq!(find("s"), None);
    assert_eq!(held.len(), 6);
    assert_eq!(
        held.languages().collect::<Vec<_>>(),
        ["de", "no", "pt-br", "pt-pt", "sr-cyrl", "sr-latn"]
    );
}

#[test]
fn the_iab_languages_are_lowercase_sorted_and_named_like_their_files() {
    let mut sorted = IAB_LANGUAGES.to_vec();
    sorted.sort_unstable();
    assert_eq!(sorted, IAB_LANGUAGES, "sorted, no duplicates");
    sorted.dedup();
    assert_eq!(sorted.len(), IAB_LANGUAGES.len());
    for code in IAB_LANGUAGES {
        assert_eq!(normalize_language(code), code);
        let file = format!("purposes-{code}.json");
        assert_eq!(
            Translation::language_from_file_name(&file).as_deref(),
            Some(code)
        );
    }
}

#[test]
fn a_bad_translation_is_a_typed_error() {
    assert_eq!(
        Translation::from_json("{").unwrap_err().code(),
        "invalid_json"
    );
    let err = Translation::from_json("{\"purposes\": []}").unwrap_err();
    assert_eq!(err.code(), "invalid_gvl");
    assert!(err.to_string().contains("translation"), "{err}");
}

#[test]
fn trim_keeps_only_the_chosen_vendors_and_reports_unknown_ids() {
    let gvl = fixture();
    let trimmed = gvl.trim([2, 1, 77, 2, 4, 0]);
    assert_eq!(trimmed.unknown, [0, 77]);
    assert_eq!(trimmed.deleted, [4]);
    let t = &trimmed.gvl;
    assert_eq!(t.vendors.keys().copied().collect::<Vec<_>>(), [1, 2, 4]);
    assert_eq!(t.vendors[&2], gvl.vendors[&2]);
    // Declarations, data categories and metadata stay whole.
    assert_eq!(t.purposes, gvl.purposes);
    assert_eq!(t.special_features, gvl.special_features);
    assert_eq!(t.data_categories, gvl.data_categories);
    assert_eq!(t.vendor_list_version, 42);
    assert_eq!(t.extra, gvl.extra);
}

#[test]
fn trim_keeps_stacks_whose_purposes_and_special_features_are_all_used() {
    let gvl = fixture();
    let stacks = |ids: &[u32]| -> Vec<u32> {
        gvl.trim(ids.iter().copied())
            .gvl
            .stacks
            .keys()
            .copied()
            .collect()
    };
    // Vendor 1 uses 1,2,3,4,7 and special feature 1; vendor 2 uses 1,7,8,9,10.
    assert_eq!(stacks(&[1]), [1, 4]);
    assert_eq!(stacks(&[1, 2]), [1, 3, 4]);
    // Stack 2 needs special feature 2, which only vendor 5 declares.
    assert_eq!(stacks(&[2]), [3]);
    assert_eq!(stacks(&[2, 5]), [2, 3]);
    // A deleted vendor's purposes do not count.
    assert_eq!(stacks(&[4]), Vec::<u32>::new());
    // Stack 5 names purpose 11, which no vendor uses.
    assert_eq!(stacks(&[1, 2, 3, 4, 5, 6]), [1, 2, 3, 4]);
}

#[test]
fn a_trimmed_list_is_a_valid_list_with_the_same_top_level_keys() {
    let gvl = fixture();
    let trimmed = gvl.trim([1, 5]).gvl;
    let text = serde_json::to_string(&trimmed).unwrap();
    let reparsed = Gvl::from_json(&text).unwrap();
    assert_eq!(reparsed, trimmed);
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    let original: Value = serde_json::from_str(FIXTURE).unwrap();
    assert_eq!(keys(&serde_json::from_str(&text).unwrap()), keys(&original));
    // Deterministic: the same request gives the same bytes.
    assert_eq!(serde_json::to_string(&gvl.trim([5, 1]).gvl).unwrap(), text);
}

#[test]
fn trim_carries_a_translation() {
    let mut gvl = fixture();
    gvl.apply_translation(&Translation::from_json(GERMAN).unwrap());
    let trimmed = gvl.trim([1]).gvl;
    assert_eq!(trimmed.language(), "de");
    assert_eq!(
        trimmed.stacks[&1].name,
        "Gerätespeicher und eingeschränkte Werbung"
    );
}

#[test]
fn the_real_gvl_parses_and_round_trips() {
    let Some(text) = real_gvl() else { return };
    let gvl = Gvl::from_json(&text).unwrap();
    let s = gvl.summary();
    assert_eq!((s.vendor_list_version, s.tcf_policy_version), (17, 4));
    assert_eq!((s.vendors, s.deleted_vendors), (692, 1));
    assert_eq!((s.purposes, s.special_purposes, s.features), (11, 2, 3));
    assert_eq!(
        (s.special_features, s.stacks, s.data_categories),
        (2, 43, 11)
    );
    assert!(gvl.vendor(468).unwrap().is_deleted());
    let original: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(as_value(&gvl), original);
}

#[test]
fn the_real_gvl_trims_to_a_small_valid_list() {
    let Some(text) = real_gvl() else { return };
    let gvl = Gvl::from_json(&text).unwrap();
    let trimmed = gvl.trim([1, 2, 755, 60000]);
    assert_eq!(trimmed.unknown, [60000]);
    assert_eq!(trimmed.gvl.vendors.len(), 3);
    let out = serde_json::to_string(&trimmed.gvl).unwrap();
    assert!(out.len() < text.len() / 10, "{} bytes", out.len());
    assert_eq!(Gvl::from_json(&out).unwrap(), trimmed.gvl);
    for stack in trimmed.gvl.stacks.values() {
        for p in &stack.purposes {
            assert!(
                trimmed.gvl.vendors.values().any(|v| v.uses_purpose(*p)),
                "stack {} keeps unused purpose {p}",
                stack.id
            );
        }
    }
}

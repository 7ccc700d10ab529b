//! Decode and encode speed for three shapes of TC string: a typical one
//! (about 100 vendors with consent), a dense one (about 700) and one with
//! publisher restrictions. Inputs are built deterministically from a
//! [`TcModel`], so every run measures the same strings.
//!
//! `cargo bench -p nexaguard-tcf --bench codec`

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use nexaguard_tcf::json::TcModelJson;
use nexaguard_tcf::{
    IdSet, Letters, PublisherRestriction, PublisherTc, RestrictionType, TcModel, Timestamp,
    VendorSet,
};
use std::hint::black_box;
use std::time::Duration;

/// A fixed xorshift generator: the inputs must not change between runs.
struct Xorshift(u64);

impl Xorshift {
    fn below(&mut self, n: u32) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % u64::from(n)) as u32
    }

    /// `count` distinct vendor ids in `1..=max`.
    fn vendors(&mut self, count: usize, max: u32) -> VendorSet {
        let mut set = VendorSet::new();
        while set.len() < count {
            set.insert(1 + self.below(max)).unwrap();
        }
        set
    }
}

fn ids<const N: u32>(list: &[u32]) -> IdSet<N> {
    IdSet::try_from(list).unwrap()
}

fn base_model() -> TcModel {
    let created = Timestamp::from_unix_millis(1_767_225_600_000).unwrap();
    TcModel {
        created,
        last_updated: created,
        cmp_id: 300,
        cmp_version: 12,
        consent_screen: 2,
        consent_language: Letters::parse("FR").unwrap(),
        vendor_list_version: 120,
        special_feature_optins: ids::<12>(&[1]),
        purpose_consents: ids::<24>(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
        purpose_legitimate_interests: ids::<24>(&[2, 7, 8, 9, 10, 11]),
        publisher_country_code: Letters::parse("FR").unwrap(),
        publisher_tc: Some(PublisherTc {
            purpose_consents: ids::<24>(&[1, 3, 4]),
            purpose_legitimate_interests: ids::<24>(&[2, 7]),
            num_custom_purposes: 2,
            custom_purpose_consents: ids::<63>(&[1]),
            custom_purpose_legitimate_interests: ids::<63>(&[2]),
        }),
        ..TcModel::default()
    }
}

/// About 100 of ~900 vendors consented, scattered as on a typical site.
fn typical() -> TcModel {
    let mut rng = Xorshift(0x5eed_0001);
    TcModel {
        vendor_consents: rng.vendors(100, 900),
        vendor_legitimate_interests: rng.vendors(60, 900),
        vendors_disclosed: Some(rng.vendors(140, 900)),
        ..base_model()
    }
}

/// About 700 of 750 vendors consented: "accept all" on a large list.
fn dense() -> TcModel {
    let mut rng = Xorshift(0x5eed_0002);
    TcModel {
        vendor_consents: rng.vendors(700, 750),
        vendor_legitimate_interests: rng.vendors(650, 750),
        vendors_disclosed: Some(rng.vendors(740, 750)),
        ..base_model()
    }
}

/// The typical string plus eight restrictions over runs and single vendors.
fn with_restrictions() -> TcModel {
    let mut rng = Xorshift(0x5eed_0003);
    let mut model = typical();
    let types = [
        RestrictionType::NotAllowed,
        RestrictionType::RequireConsent,
        RestrictionType::RequireLegitimateInterest,
    ];
    for (i, purpose_id) in [1u8, 2, 3, 4, 7, 9, 10, 11].into_iter().enumerate() {
        let mut vendors = rng.vendors(6, 900);
        let start = 1 + rng.below(800);
        vendors.insert_range(start, start + rng.below(60)).unwrap();
        model.publisher_restrictions.push(PublisherRestriction {
            purpose_id,
            restriction_type: types[i % types.len()],
            vendors,
        });
    }
    model
}

fn inputs() -> Vec<(&'static str, TcModel, String)> {
    [
        ("typical", typical()),
        ("dense", dense()),
        ("restrictions", with_restrictions()),
    ]
    .into_iter()
    .map(|(name, model)| {
        let tc = nexaguard_tcf::encode(&model).unwrap();
        // The benches are only meaningful if the strings round-trip.
        assert_eq!(nexaguard_tcf::decode(&tc).unwrap(), model, "{name}");
        (name, model, tc)
    })
    .collect()
}

fn bench_decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(1));
    for (name, _, tc) in inputs() {
        group.bench_with_input(BenchmarkId::from_parameter(name), &tc, |b, tc| {
            b.iter(|| nexaguard_tcf::decode(black_box(tc)).unwrap())
        });
    }
    group.finish();
}

fn bench_encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(1));
    for (name, model, _) in inputs() {
        group.bench_with_input(BenchmarkId::from_parameter(name), &model, |b, model| {
            b.iter(|| nexaguard_tcf::encode(black_box(model)).unwrap())
        });
    }
    group.finish();
}

/// What `nexaguard tcf decode` does per line: decode, then write the JSON.
fn bench_decode_to_json(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode_to_json");
    group.throughput(Throughput::Elements(1));
    for (name, _, tc) in inputs() {
        let mut out = Vec::with_capacity(16 * 1024);
        group.bench_with_input(BenchmarkId::from_parameter(name), &tc, |b, tc| {
            b.iter(|| {
                out.clear();
                let model = nexaguard_tcf::decode(black_box(tc)).unwrap();
                TcModelJson(&model).write_to(&mut out);
                black_box(out.len())
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // Two cores and a shared machine: short, modest runs.
    config = Criterion::default()
        .sample_size(40)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench_decode, bench_encode, bench_decode_to_json
}
criterion_main!(benches);

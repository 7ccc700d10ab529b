//! Decode, encode and decode-to-JSON speed for three shapes of GPP string:
//! one US state section (`usca` with GPC), the US national section with
//! two states and `uspv1`, and `tcfeuv2` with `usnat`. Inputs are fixed
//! strings written by the reference library, so every run measures the
//! same work.
//!
//! `cargo bench -p nexaguard-gpp --bench codec`

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

fn inputs() -> Vec<(&'static str, String)> {
    let usca = nexaguard_gpp::encode(&nexaguard_gpp::json::from_json(
        r#"{"sections":{"usca":{"SaleOptOutNotice":1,"SharingOptOutNotice":1,"SaleOptOut":2,"SharingOptOut":1,"SensitiveDataProcessing":[1,2,0,0,1,2,0,0,1],"Gpc":true}}}"#,
        time::OffsetDateTime::UNIX_EPOCH,
    ).unwrap()).unwrap();
    let us = nexaguard_gpp::encode(&nexaguard_gpp::json::from_json(
        r#"{"sections":{"uspv1":{"Notice":"Y","OptOutSale":"N","LspaCovered":"Y"},"usnat":{"SharingNotice":1,"SaleOptOutNotice":1,"SaleOptOut":2,"SensitiveDataProcessing":[1,2,1,2,1,2,1,2,1,2,1,2,1,2,1,2]},"usva":{"SaleOptOutNotice":1,"SaleOptOut":1},"usco":{"SaleOptOutNotice":1,"SaleOptOut":2}}}"#,
        time::OffsetDateTime::UNIX_EPOCH,
    ).unwrap()).unwrap();
    let tcf = "DBACMMA~CQC_HXtQC_HXtUQ4CeEN5jFhfxqA5wDrRAAABoh-ADgAAIAB8APgAwBwAD8HB4AHg4AXwAOcPgcHARABqAD0AMIAbABDgE4AOAAgwBDICNQErgJyAVwAr8BaIDNAHBgAAAAA.IG7QFgAtgB7AFWANcAboBAQCmgFTALIAX0A3YB1gD6gIcASmAooBWQDNQGrANuAbmA3Y.ci9J1hPoQAAA~BVQqAAAAAgA.QA".to_owned();
    vec![
        ("usca", usca),
        ("us_four_sections", us),
        ("tcfeuv2_usnat", tcf),
    ]
}

fn bench_decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(1));
    for (name, s) in inputs() {
        nexaguard_gpp::decode(&s).unwrap();
        group.bench_with_input(BenchmarkId::from_parameter(name), &s, |b, s| {
            b.iter(|| nexaguard_gpp::decode(black_box(s)).unwrap())
        });
    }
    group.finish();
}

fn bench_encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(1));
    for (name, s) in inputs() {
        let model = nexaguard_gpp::decode(&s).unwrap();
        group.bench_with_input(BenchmarkId::from_parameter(name), &model, |b, m| {
            b.iter(|| nexaguard_gpp::encode(black_box(m)).unwrap())
        });
    }
    group.finish();
}

/// What `nexaguard gpp decode` does per line: decode, then write the JSON.
fn bench_decode_to_json(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode_to_json");
    group.throughput(Throughput::Elements(1));
    for (name, s) in inputs() {
        let mut out = Vec::with_capacity(16 * 1024);
        group.bench_with_input(BenchmarkId::from_parameter(name), &s, |b, s| {
            b.iter(|| {
                out.clear();
                nexaguard_gpp::json::decode_to_json(black_box(s), &mut out).unwrap();
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

//! `reference_parse`: the hand-written reference parser against the regular-expression oracle
//! built from Docker's grammar, on the same 10,000 realistic references.
//!
//! Both parse the whole mix per iteration, so criterion's elements/s is references per
//! second; ns per parse is the iteration time divided by 10,000.
//!
//! Run with `cargo xtask bench` (or `cargo bench -p imgsvc-benches --bench reference_parse`).
#![expect(
    clippy::panic,
    reason = "a benchmark whose parsers disagree, or refuse valid input, must stop loudly"
)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use imgsvc_reference_oracle::Parts;

const COUNT: usize = 10_000;

fn reference_parse(c: &mut Criterion) {
    let mix = imgsvc_benches::reference_mix(COUNT);
    check(&mix);

    let mut group = c.benchmark_group("reference_parse");
    group.throughput(Throughput::Elements(COUNT as u64));
    group.bench_function("imgsvc_reference", |b| {
        b.iter(|| {
            for text in &mix {
                let _ = black_box(imgsvc_reference::parse(black_box(text)));
            }
        })
    });
    group.bench_function("regex_oracle", |b| {
        b.iter(|| {
            for text in &mix {
                let _ = black_box(imgsvc_reference_oracle::parse(black_box(text)));
            }
        })
    });
    group.finish();
}

/// Both parsers accept every reference of the mix, with the same parts.
fn check(mix: &[String]) {
    for text in mix {
        let ours = imgsvc_reference::parse(text).map(|r| Parts {
            domain: r.domain().to_owned(),
            path: r.path().to_owned(),
            tag: r.tag().map(|t| t.as_str().to_owned()),
            digest: r.digest().map(|d| d.to_string()),
        });
        let oracle = imgsvc_reference_oracle::parse(text);
        match (ours, oracle) {
            (Ok(ours), Ok(oracle)) if ours == oracle => {}
            (ours, oracle) => panic!("{text:?}: ours {ours:?}, oracle {oracle:?}"),
        }
    }
}

criterion_group!(benches, reference_parse);
criterion_main!(benches);

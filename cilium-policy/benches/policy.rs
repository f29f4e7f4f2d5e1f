//! Policy engine benchmarks (criterion):
//! - `mapstate_full`: resolving one endpoint's full map state with 10k identities and 500
//!   rules (goal ≤ 1 s);
//! - `identity_delta`: one identity added → its delta (goal ≤ 1 ms);
//! - `parse_corpus`: parsing and compiling the valid files of the CNP corpus.
//!
//! `cargo bench -p cilium-policy --bench policy`

use std::hint::black_box;

use cilium_core::{LabelSet, NumericIdentity};
use cilium_policy::{
    CompileOptions, EndpointInfo, EngineConfig, NamedPortTable, PolicyEngine, compile_text,
};
use criterion::{Criterion, criterion_group, criterion_main};

const IDENTITIES: u32 = 10_000;
const RULES: u32 = 500;

fn rules() -> String {
    let mut text = String::new();
    for j in 0..RULES {
        // Mostly L3L4 allows from one app (100 identities each), some L4-only allows, some
        // L3 denies: every kind of map-state interaction.
        let body = match j % 10 {
            0 => format!(
                "  ingress:\n  - toPorts: [{{ports: [{{port: \"{}\", protocol: TCP}}]}}]\n",
                2000 + j
            ),
            1 => format!(
                "  ingressDeny:\n  - fromEndpoints: [{{matchLabels: {{app: a{}}}}}]\n",
                j % 100
            ),
            _ => format!(
                "  ingress:\n  - fromEndpoints: [{{matchLabels: {{app: a{}}}}}]\n    toPorts: [{{ports: [{{port: \"{}\", endPort: {}, protocol: TCP}}]}}]\n",
                j % 100,
                1000 + j,
                1000 + j + (j % 4)
            ),
        };
        text.push_str(&format!(
            "---\napiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {{name: r{j}}}\nspec:\n  endpointSelector: {{matchLabels: {{app: web}}}}\n{body}"
        ));
    }
    text
}

fn engine() -> (PolicyEngine, EndpointInfo) {
    let mut engine = PolicyEngine::new(EngineConfig::default());
    engine.load_text("bench", &rules()).unwrap();
    for i in 0..IDENTITIES {
        let labels =
            LabelSet::parse_list(&[format!("k8s:app=a{}", i % 100), format!("k8s:pod=p{i}")]);
        engine.upsert_identity(NumericIdentity::new(256 + i), labels);
    }
    let web = LabelSet::parse_list(&["k8s:app=web"]);
    engine.upsert_identity(NumericIdentity::new(100_000), web.clone());
    (
        engine,
        EndpointInfo::new(NumericIdentity::new(100_000), web),
    )
}

fn bench(c: &mut Criterion) {
    let (mut engine, ep) = engine();
    let ports = NamedPortTable::new();
    let policy = engine.resolve(&ep, &ports).unwrap();
    println!(
        "map state: {} entries for {IDENTITIES} identities x {RULES} rules",
        policy.map_state.len()
    );
    let mut g = c.benchmark_group("policy");
    g.sample_size(10);
    g.bench_function("mapstate_full_10k_ids_500_rules", |b| {
        b.iter(|| black_box(engine.resolve(&ep, &ports).unwrap().map_state.len()))
    });
    let mut policy = policy;
    let mut next = 200_000u32;
    g.bench_function("identity_delta", |b| {
        b.iter(|| {
            let id = NumericIdentity::new(next);
            next += 1;
            engine.upsert_identity(
                id,
                LabelSet::parse_list(&[format!("k8s:app=a{}", next % 100)]),
            );
            let delta = engine.update_identity(&mut policy, id, &ports);
            black_box(delta.upserts.len())
        })
    });
    let corpus: Vec<String> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cnp"))
            .unwrap()
            .filter_map(|e| {
                let p = e.unwrap().path();
                let text = std::fs::read_to_string(&p).ok()?;
                (p.extension()? == "yaml"
                    && compile_text(&text, &CompileOptions::default()).is_ok())
                .then_some(text)
            })
            .collect();
    let bytes: usize = corpus.iter().map(String::len).sum();
    g.throughput(criterion::Throughput::Bytes(bytes as u64));
    g.sample_size(50);
    g.bench_function("parse_corpus", |b| {
        b.iter(|| {
            for text in &corpus {
                black_box(compile_text(text, &CompileOptions::default()).unwrap());
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

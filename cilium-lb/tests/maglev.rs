//! Maglev conformance: every case of `tests/data/maglev_vectors.json` (a copy of
//! `shared/conformance/lb/maglev_vectors.json`, taken from Cilium's `pkg/maglev` tests) is
//! either checked here or skipped with a printed reason.

use std::collections::BTreeMap;
use std::net::IpAddr;

use cilium_core::Protocol;
use cilium_lb::maglev::{
    self, DEFAULT_HASH_SEED, DEFAULT_TABLE_SIZE, MaglevBackend, MaglevConfig,
    SUPPORTED_TABLE_SIZES, build_table, hash_string,
};
use cilium_lb::murmur3;
use serde_json::Value;

const DATA: &str = include_str!("data/maglev_vectors.json");

fn data() -> Value {
    serde_json::from_str(DATA).expect("maglev_vectors.json parses")
}

fn u64_of(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a u64: {v}"))
}

fn backends_of(case: &Value) -> Vec<MaglevBackend> {
    case["backends"]
        .as_array()
        .expect("backends")
        .iter()
        .map(|b| MaglevBackend {
            id: u32::try_from(u64_of(&b["id"])).unwrap(),
            addr: b["addr"].as_str().unwrap().parse().unwrap(),
            port: u16::try_from(u64_of(&b["port"])).unwrap(),
            protocol: b["proto"].as_str().unwrap().parse().unwrap(),
            weight: u16::try_from(u64_of(&b["weight"])).unwrap(),
            internal_scope: false,
        })
        .collect()
}

fn config_of(case: &Value) -> MaglevConfig {
    let m = u32::try_from(u64_of(&case["M"])).unwrap();
    MaglevConfig::new(m, case["seed"].as_str()).unwrap()
}

fn counts(table: &[u32]) -> BTreeMap<u32, usize> {
    let mut c = BTreeMap::new();
    for &id in table {
        *c.entry(id).or_default() += 1;
    }
    c
}

fn expected_counts(v: &Value) -> BTreeMap<u32, usize> {
    v.as_object()
        .expect("counts object")
        .iter()
        .map(|(k, v)| (k.parse().unwrap(), usize::try_from(u64_of(v)).unwrap()))
        .collect()
}

/// Cilium's test format: `id(run length)` joined by commas.
fn run_length(table: &[u32]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < table.len() {
        let mut j = i;
        while j < table.len() && table[j] == table[i] {
            j += 1;
        }
        out.push(format!("{}({})", table[i], j - i));
        i = j;
    }
    out.join(",")
}

/// Slots owned before and after by backends other than `removed` whose owner changed.
fn changed_among_survivors(before: &[u32], after: &[u32], removed: u32) -> usize {
    before
        .iter()
        .zip(after)
        .filter(|(b, a)| **b != removed && b != a)
        .count()
}

#[test]
fn copy_matches_shared_conformance_data() {
    let shared = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/conformance/lb/maglev_vectors.json"
    );
    match std::fs::read_to_string(shared) {
        Ok(text) => assert_eq!(
            text, DATA,
            "tests/data/maglev_vectors.json differs from {shared}: copy it again"
        ),
        Err(e) => println!("skipped: {shared} is not readable here ({e}); the copy is used"),
    }
}

#[test]
fn constants_and_seeds() {
    let d = data();
    assert_eq!(
        u64_of(&d["default_table_size"]),
        u64::from(DEFAULT_TABLE_SIZE)
    );
    let sizes: Vec<u32> = d["supported_table_sizes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| u32::try_from(u64_of(v)).unwrap())
        .collect();
    assert_eq!(sizes, SUPPORTED_TABLE_SIZES);
    assert_eq!(d["default_hash_seed_b64"].as_str(), Some(DEFAULT_HASH_SEED));
    let seeds = &d["default_seeds"];
    let c = MaglevConfig::new(DEFAULT_TABLE_SIZE, d["default_hash_seed_b64"].as_str()).unwrap();
    assert_eq!(u64::from(c.seed_murmur()), u64_of(&seeds["seedMurmur"]));
    assert_eq!(u64::from(c.seed_jhash0()), u64_of(&seeds["SeedJhash0"]));
    assert_eq!(u64::from(c.seed_jhash1()), u64_of(&seeds["SeedJhash1"]));
    assert_eq!(
        format!("{:#x}", c.seed_murmur()),
        seeds["seedMurmur_hex"].as_str().unwrap()
    );
    assert_eq!(
        format!("{:#x}", c.seed_jhash0()),
        seeds["SeedJhash0_hex"].as_str().unwrap()
    );
    assert_eq!(
        format!("{:#x}", c.seed_jhash1()),
        seeds["SeedJhash1_hex"].as_str().unwrap()
    );
    assert_eq!(
        format!("{:#x}", maglev::EMPTY_SLOT),
        d["empty_slot_sentinel"].as_str().unwrap()
    );
}

#[test]
fn murmur3_vectors_and_hash_strings() {
    let d = data();
    let seed = MaglevConfig::default().seed_murmur();
    let vectors = d["murmur3_vectors"].as_array().unwrap();
    assert!(!vectors.is_empty());
    for v in vectors {
        let input = v["input"].as_str().unwrap();
        assert_eq!(
            murmur3::hash128(input.as_bytes(), seed),
            (u64_of(&v["h1"]), u64_of(&v["h2"])),
            "{input}"
        );
    }
    // The example spelled out in `hash_string_format`.
    let format = d["hash_string_format"].as_str().unwrap();
    let example = hash_string("0.0.0.1".parse().unwrap(), 1, Protocol::Tcp, false);
    assert!(format.contains(&format!("'{example}'")), "{format}");
}

#[test]
fn every_case() {
    let d = data();
    for case in d["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        match name {
            "TestReproducible" => reproducible(case),
            "TestWeightedBackendWithRemoval" => weighted_with_removal(case),
            "TestBackendRemoval" => backend_removal(case),
            other => panic!("case {other} is neither checked nor skipped: handle it"),
        }
        println!("checked: {name}");
    }
}

fn reproducible(case: &Value) {
    let table = build_table(&config_of(case), &backends_of(case)).unwrap();
    let expected: Vec<u32> = case["expected_table"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| u32::try_from(u64_of(v)).unwrap())
        .collect();
    assert_eq!(table.len(), expected.len());
    for (slot, (got, want)) in table.iter().zip(&expected).enumerate() {
        assert_eq!(got, want, "TestReproducible: slot {slot}");
    }
    assert_eq!(run_length(&table), case["expected_rle"].as_str().unwrap());
    assert_eq!(counts(&table), expected_counts(&case["expected_counts"]));
}

fn weighted_with_removal(case: &Value) {
    let config = config_of(case);
    let mut backends = backends_of(case);
    let before = build_table(&config, &backends).unwrap();
    assert_eq!(
        counts(&before),
        expected_counts(&case["expected_counts_asserted"])
    );
    let removed = backends.remove(0);
    assert_eq!(removed.id, 1);
    let after = build_table(&config, &backends).unwrap();
    let changed = changed_among_survivors(&before, &after, removed.id);
    let m = before.len();
    println!("TestWeightedBackendWithRemoval: {changed} of {m} slots changed owner (reference: 7)");
    assert!(
        changed * 100 < m,
        "{changed} changed slots is not under 1% of {m}"
    );
    assert_eq!(changed, 7, "the independent port measured 7");
    assert!(!after.contains(&removed.id));
}

fn backend_removal(case: &Value) {
    let config = config_of(case);
    let mut backends = backends_of(case);
    let before = build_table(&config, &backends).unwrap();
    assert_eq!(
        counts(&before),
        expected_counts(&case["python_port_counts_before"])
    );
    let removed = backends.pop().unwrap();
    assert_eq!(removed.id, 3);
    let after = build_table(&config, &backends).unwrap();
    for (slot, (b, a)) in before.iter().zip(&after).enumerate() {
        if *b == removed.id {
            assert!(*a == 1 || *a == 2, "slot {slot} of backend 3 went to {a}");
        }
    }
    let changed = changed_among_survivors(&before, &after, removed.id);
    let m = before.len();
    assert!(
        changed * 100 < m,
        "{changed} changed slots is not under 1% of {m}"
    );
    assert_eq!(
        changed as u64,
        u64_of(&case["python_port_changed_existing"])
    );
    assert_eq!(
        counts(&after),
        expected_counts(&case["python_port_counts_after"])
    );
}

/// `TestPermutations` checks that Cilium's parallel permutation equals its serial one. Here
/// no permutation is stored: check the on-the-fly one against the serial formula for the same
/// backend counts and table sizes.
#[test]
fn permutation_test() {
    let d = data();
    println!(
        "partly skipped: {}: the numCPU dimension does not apply (the permutation is computed \
         on the fly, serially); the bCount x M grid is checked against the serial formula",
        d["permutation_test"].as_str().unwrap()
    );
    for m in [251u32, 509, 1021] {
        let config = MaglevConfig::new(m, None).unwrap();
        for count in [0u32, 1, 2, 5, 111, 222, 333, 1001] {
            for i in 0..count {
                let addr = IpAddr::from((i + 1).to_be_bytes());
                let port = u16::try_from(i % 65535 + 1).unwrap();
                let hs = hash_string(addr, port, Protocol::Tcp, false);
                let (h1, h2) = murmur3::hash128(hs.as_bytes(), config.seed_murmur());
                let m64 = u64::from(m);
                let (offset, skip) = (h1 % m64, h2 % (m64 - 1) + 1);
                let perm = config.permutation(&hs);
                assert_eq!(perm.len(), m as usize);
                for (j, slot) in perm.enumerate() {
                    let want = (offset + j as u64 * skip) % m64;
                    assert_eq!(u64::from(slot), want, "M={m} backend {i} j={j}");
                }
            }
        }
    }
}

#[test]
fn benchmark_case_is_skipped() {
    let d = data();
    println!(
        "skipped: benchmark {} ({} backends): benchmarks are not tests; {}",
        d["benchmark"]["name"].as_str().unwrap(),
        d["benchmark"]["backends"],
        d["benchmark"]["note"].as_str().unwrap()
    );
}

//! Maglev properties on pseudo-random backend sets (a fixed-seed xorshift, no rand crate):
//! every slot is filled with a valid id, unweighted tables are balanced, weights are honoured,
//! and removing or adding one backend moves few slots.

use std::collections::BTreeMap;
use std::net::IpAddr;

use cilium_core::Protocol;
use cilium_lb::maglev::{MaglevBackend, MaglevConfig, SUPPORTED_TABLE_SIZES, build_table};

/// xorshift64* with a fixed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_backend(rng: &mut Rng, id: u32) -> MaglevBackend {
    let addr: IpAddr = if rng.below(4) == 0 {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&0x2001_0db8_0000_0000u64.to_be_bytes());
        b[8..].copy_from_slice(&rng.next().to_be_bytes());
        IpAddr::from(b)
    } else {
        IpAddr::from((0x0a00_0000 | (rng.next() as u32 & 0x00ff_ffff)).to_be_bytes())
    };
    let protocol = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp][rng.below(3) as usize];
    MaglevBackend {
        id,
        addr,
        port: 1 + rng.below(65535) as u16,
        protocol,
        weight: 1,
        internal_scope: rng.below(8) == 0,
    }
}

fn backends(rng: &mut Rng, n: usize) -> Vec<MaglevBackend> {
    // Distinct addresses by construction (ids as the low bits would be too regular).
    let mut out: Vec<MaglevBackend> = Vec::with_capacity(n);
    while out.len() < n {
        let b = random_backend(rng, out.len() as u32 + 100);
        if !out.iter().any(|o| o.hash_string() == b.hash_string()) {
            out.push(b);
        }
    }
    out
}

fn counts(table: &[u32]) -> BTreeMap<u32, usize> {
    let mut c = BTreeMap::new();
    for &id in table {
        *c.entry(id).or_default() += 1;
    }
    c
}

#[test]
fn every_slot_holds_a_valid_id() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..60 {
        let m = SUPPORTED_TABLE_SIZES[rng.below(5) as usize];
        let n = 1 + rng.below(300) as usize;
        let mut bs = backends(&mut rng, n);
        let weighted = round % 2 == 0;
        if weighted {
            for b in &mut bs {
                b.weight = rng.below(20) as u16; // some 0: left out
            }
        }
        let config = MaglevConfig::new(m, None).unwrap();
        let table = build_table(&config, &bs).unwrap();
        let live: Vec<u32> = bs.iter().filter(|b| b.weight > 0).map(|b| b.id).collect();
        if live.is_empty() {
            assert!(table.is_empty());
            continue;
        }
        assert_eq!(table.len(), m as usize, "round {round}");
        for (slot, id) in table.iter().enumerate() {
            assert!(live.contains(id), "round {round}: slot {slot} holds {id}");
        }
        if !weighted && n <= m as usize {
            // Unweighted with N <= M: everyone owns at least one slot.
            assert_eq!(counts(&table).len(), n, "round {round}");
        }
    }
}

#[test]
fn unweighted_tables_are_balanced() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let config = MaglevConfig::new(16381, None).unwrap();
    let bs = backends(&mut rng, 100);
    let table = build_table(&config, &bs).unwrap();
    let c = counts(&table);
    let max = *c.values().max().unwrap() as f64;
    let min = *c.values().min().unwrap() as f64;
    let avg = 16381.0 / 100.0;
    println!(
        "M=16381 N=100: max/avg {:.4}, min/avg {:.4} (yardstick max/avg 1.0012)",
        max / avg,
        min / avg
    );
    assert!(max / avg < 1.05, "max/avg {}", max / avg);
    assert!(min / avg > 0.95, "min/avg {}", min / avg);
}

#[test]
fn weights_are_honoured() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let config = MaglevConfig::new(16381, None).unwrap();
    let mut bs = backends(&mut rng, 20);
    for b in &mut bs {
        b.weight = 1 + rng.below(10) as u16;
    }
    let total: u64 = bs.iter().map(|b| u64::from(b.weight)).sum();
    let table = build_table(&config, &bs).unwrap();
    let c = counts(&table);
    let mut worst: f64 = 0.0;
    for b in &bs {
        let want = 16381.0 * f64::from(b.weight) / total as f64;
        let got = c.get(&b.id).copied().unwrap_or(0) as f64;
        worst = worst.max((got - want).abs() / want);
    }
    println!("weighted M=16381 N=20: worst relative deviation from the weight share {worst:.4}");
    assert!(worst < 0.05, "worst deviation {worst}");
}

#[test]
fn removing_or_adding_one_of_100_moves_few_slots() {
    let mut rng = Rng(0x5555_aaaa_3333_cccc);
    let config = MaglevConfig::new(16381, None).unwrap();
    let m = 16381usize;
    let mut worst_remove: usize = 0;
    let mut worst_add: usize = 0;
    for _ in 0..5 {
        let bs = backends(&mut rng, 101);
        let (hundred, extra) = bs.split_at(100);
        let before = build_table(&config, hundred).unwrap();

        let gone = rng.below(100) as usize;
        let mut fewer = hundred.to_vec();
        let removed = fewer.remove(gone);
        let after = build_table(&config, &fewer).unwrap();
        let moved = before.iter().zip(&after).filter(|(b, a)| b != a).count();
        let moved_survivors = before
            .iter()
            .zip(&after)
            .filter(|(b, a)| **b != removed.id && b != a)
            .count();
        assert!(!after.contains(&removed.id));
        worst_remove = worst_remove.max(moved);
        assert!(moved * 100 < 3 * m, "removal moved {moved} of {m}");
        assert!(
            moved_survivors * 100 < 2 * m,
            "{moved_survivors} survivor slots moved"
        );

        let mut more = hundred.to_vec();
        more.push(extra[0]);
        let grown = build_table(&config, &more).unwrap();
        let moved = before.iter().zip(&grown).filter(|(b, a)| b != a).count();
        worst_add = worst_add.max(moved);
        assert!(moved * 100 < 3 * m, "addition moved {moved} of {m}");
    }
    println!(
        "M=16381 N=100: removing one moved at most {:.2}% of slots, adding one {:.2}% \
         (yardstick 2.36%, ideal 1%)",
        worst_remove as f64 * 100.0 / m as f64,
        worst_add as f64 * 100.0 / m as f64
    );
}

#[test]
fn more_backends_than_slots() {
    let mut rng = Rng(42);
    let config = MaglevConfig::new(251, None).unwrap();
    let bs = backends(&mut rng, 400);
    let table = build_table(&config, &bs).unwrap();
    assert_eq!(table.len(), 251);
    // Unweighted: turn n picks backend n, so the first 251 in hash-string order own one slot.
    assert_eq!(counts(&table).len(), 251);
}

//! Properties of `PortRange::to_prefixes`, checked on ranges drawn from a fixed-seed
//! xorshift generator plus the edge cases: the prefixes are valid, ascending and disjoint,
//! cover exactly the range, and are as few as possible.

use cilium_core::{PortPrefix, PortRange};

/// xorshift64 with a fixed seed: the same ranges on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn port(&mut self) -> u16 {
        // Mix short and long distances: sometimes a random 16-bit port, sometimes one near a
        // power of two.
        match self.next() % 4 {
            0 => {
                let bit = self.next() % 16;
                let delta = (self.next() % 5) as i64 - 2;
                ((1i64 << bit) + delta).clamp(0, 65535) as u16
            }
            _ => (self.next() & 0xFFFF) as u16,
        }
    }
}

/// The minimal number of aligned blocks covering `lo..=hi`, by walking the binary trie of
/// ports: a node entirely inside the range costs one block, a node outside costs nothing,
/// and a partly covered node splits. This is a different algorithm from the greedy one under
/// test, and is optimal because every aligned block is a trie node.
fn minimal_count(lo: u32, hi: u32) -> usize {
    fn walk(node_lo: u32, node_bits: u32, lo: u32, hi: u32) -> usize {
        let node_hi = node_lo + (1 << node_bits) - 1;
        if node_hi < lo || node_lo > hi {
            0
        } else if lo <= node_lo && node_hi <= hi {
            1
        } else {
            let half = node_bits - 1;
            walk(node_lo, half, lo, hi) + walk(node_lo + (1 << half), half, lo, hi)
        }
    }
    walk(0, 16, lo, hi)
}

fn check(range: PortRange) {
    let prefixes = range.to_prefixes();
    let (lo, hi) = (u32::from(range.start()), u32::from(range.end()));
    assert!(!prefixes.is_empty(), "{range}");

    let mut next = lo;
    for p in &prefixes {
        // Valid: re-validating through the constructor gives the same prefix.
        assert_eq!(
            PortPrefix::new(p.port(), p.prefix_len()),
            Ok(*p),
            "{range}: {p}"
        );
        // Ascending, adjacent and therefore disjoint, with no gap.
        assert_eq!(u32::from(p.port()), next, "{range}: gap or overlap at {p}");
        next = u32::from(p.last()) + 1;
        assert!(p.contains(p.port()) && p.contains(p.last()));
        assert_eq!(p.to_range().len(), 1 << (16 - u32::from(p.prefix_len())));
    }
    assert_eq!(next, hi + 1, "{range}: coverage ends at {}", next - 1);

    // Exactly the range, port by port (sampled at the edges of every prefix).
    for p in &prefixes {
        for port in [p.port(), p.last()] {
            assert_eq!(prefixes.iter().filter(|q| q.contains(port)).count(), 1);
        }
    }
    if lo > 0 {
        assert!(
            !prefixes.iter().any(|p| p.contains((lo - 1) as u16)),
            "{range}"
        );
    }
    if hi < 65535 {
        assert!(
            !prefixes.iter().any(|p| p.contains((hi + 1) as u16)),
            "{range}"
        );
    }

    assert_eq!(
        prefixes.len(),
        minimal_count(lo, hi),
        "{range}: not minimal"
    );
}

#[test]
fn edge_ranges() {
    for (lo, hi) in [
        (0, 0),
        (0, 65535),
        (1, 65535),
        (0, 65534),
        (1, 65534),
        (65535, 65535),
        (80, 80),
        (1024, 2047),
        (1023, 2048),
        (32767, 32768),
        (8080, 8090),
    ] {
        check(PortRange::new(lo, hi).expect("valid"));
    }
    assert_eq!(PortRange::ALL.to_prefixes(), [PortPrefix::ANY]);
    assert_eq!(
        PortRange::single(443).to_prefixes(),
        [PortPrefix::exact(443)]
    );
}

#[test]
fn random_ranges() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let (a, b) = (rng.port(), rng.port());
        check(PortRange::new(a.min(b), a.max(b)).expect("ordered"));
    }
}

#[test]
fn exhaustive_small_ports_every_port_checked() {
    // Every range within 0..=300: check port by port that exactly the range is covered.
    for lo in 0..=300u16 {
        for hi in lo..=300u16 {
            let range = PortRange::new(lo, hi).expect("ordered");
            let prefixes = range.to_prefixes();
            for port in 0..=320u16 {
                let hits = prefixes.iter().filter(|p| p.contains(port)).count();
                assert_eq!(
                    hits,
                    usize::from(range.contains(port)),
                    "{range} port {port}"
                );
            }
            assert_eq!(
                prefixes.len(),
                minimal_count(lo.into(), hi.into()),
                "{range}"
            );
        }
    }
}

//! A range of identities with a used/free bit per identity and a seeded random choice.

use std::ops::RangeInclusive;

use cilium_core::NumericIdentity;
use cilium_core::identity::IdentityScope;

/// SplitMix64: a tiny seeded generator. Randomness in the pure core is always seeded.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The identities of one range, each used or free.
///
/// The bitmap is allocated on first use (the local scope has 16M identities).
#[derive(Debug, Clone)]
pub(crate) struct IdPool {
    scope: IdentityScope,
    first: u32,
    last: u32,
    bits: Vec<u64>,
    used: u32,
}

impl IdPool {
    pub(crate) fn new(scope: IdentityScope, range: RangeInclusive<NumericIdentity>) -> IdPool {
        IdPool {
            scope,
            first: range.start().0,
            last: range.end().0,
            bits: Vec::new(),
            used: 0,
        }
    }

    pub(crate) fn scope(&self) -> IdentityScope {
        self.scope
    }

    pub(crate) fn first(&self) -> NumericIdentity {
        NumericIdentity(self.first)
    }

    pub(crate) fn last(&self) -> NumericIdentity {
        NumericIdentity(self.last)
    }

    /// How many identities the range holds.
    pub(crate) fn total(&self) -> u32 {
        self.last - self.first + 1
    }

    /// How many are used.
    pub(crate) fn used(&self) -> u32 {
        self.used
    }

    pub(crate) fn contains(&self, id: NumericIdentity) -> bool {
        (self.first..=self.last).contains(&id.0)
    }

    fn slot(&self, id: NumericIdentity) -> Option<(usize, u64)> {
        self.contains(id).then(|| {
            let off = (id.0 - self.first) as usize;
            (off / 64, 1u64 << (off % 64))
        })
    }

    fn ensure_bits(&mut self) {
        if self.bits.is_empty() {
            self.bits = vec![0; (self.total() as usize).div_ceil(64)];
        }
    }

    /// Marks `id` used; `false` if it was already used or is outside the range.
    pub(crate) fn mark(&mut self, id: NumericIdentity) -> bool {
        let Some((word, bit)) = self.slot(id) else {
            return false;
        };
        self.ensure_bits();
        if self.bits[word] & bit != 0 {
            return false;
        }
        self.bits[word] |= bit;
        self.used += 1;
        true
    }

    /// Marks `id` free; `false` if it was already free or is outside the range.
    pub(crate) fn unmark(&mut self, id: NumericIdentity) -> bool {
        let Some((word, bit)) = self.slot(id) else {
            return false;
        };
        match self.bits.get_mut(word) {
            Some(w) if *w & bit != 0 => {
                *w &= !bit;
                self.used -= 1;
                true
            }
            _ => false,
        }
    }

    /// Picks a free identity at random, marks it used and returns it; `None` when the range
    /// is full. Scans from a random offset to the next free bit, so the cost is bounded by
    /// the bitmap's size.
    pub(crate) fn pick(&mut self, rng: &mut SplitMix64) -> Option<NumericIdentity> {
        let total = self.total();
        if self.used >= total {
            return None;
        }
        self.ensure_bits();
        let start = (rng.next_u64() % u64::from(total)) as usize;
        let words = self.bits.len();
        let (start_word, start_bit) = (start / 64, start % 64);
        for step in 0..=words {
            let word = (start_word + step) % words;
            let mut free = !self.bits[word];
            if step == 0 {
                // First word: only bits at or after the start offset.
                free &= u64::MAX << start_bit;
            }
            if step == words {
                // Wrapped back to the first word: the bits before the start offset.
                free = !self.bits[word] & !(u64::MAX << start_bit);
            }
            while free != 0 {
                let bit = free.trailing_zeros() as usize;
                let off = word * 64 + bit;
                if off < total as usize {
                    let id = NumericIdentity(self.first + off as u32);
                    self.mark(id);
                    return Some(id);
                }
                free &= free - 1;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_every_identity_once_then_none() {
        let mut pool = IdPool::new(
            IdentityScope::Global,
            NumericIdentity(256)..=NumericIdentity(256 + 199),
        );
        let mut rng = SplitMix64::new(7);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let id = pool.pick(&mut rng).unwrap();
            assert!(pool.contains(id));
            assert!(seen.insert(id), "{id} picked twice");
        }
        assert_eq!(pool.used(), 200);
        assert_eq!(pool.pick(&mut rng), None);
        assert!(pool.unmark(NumericIdentity(300)));
        assert!(!pool.unmark(NumericIdentity(300)));
        assert_eq!(pool.pick(&mut rng), Some(NumericIdentity(300)));
    }

    #[test]
    fn free_bit_before_start_is_found() {
        let mut pool = IdPool::new(
            IdentityScope::Global,
            NumericIdentity(1000)..=NumericIdentity(1009),
        );
        for id in 1001..=1009 {
            assert!(pool.mark(NumericIdentity(id)));
        }
        for seed in 0..20 {
            let mut p = pool.clone();
            assert_eq!(
                p.pick(&mut SplitMix64::new(seed)),
                Some(NumericIdentity(1000))
            );
        }
        assert!(!pool.mark(NumericIdentity(999)));
        assert!(!pool.mark(NumericIdentity(1010)), "outside the range");
    }
}

//! MurmurHash3 x64_128, the hash Maglev uses to place backends.
//!
//! This is Austin Appleby's public-domain MurmurHash3 (x64, 128-bit output), written from the
//! algorithm's description. Blocks and the tail are read as little-endian `u64`s, which is what
//! Cilium's Go implementation does on the little-endian machines it runs on, so the output is the
//! same on every platform this crate builds for.

const C1: u64 = 0x87c3_7b91_1142_53d5;
const C2: u64 = 0x4cf5_ad43_2745_937f;

/// Hashes `data` with a 32-bit `seed` and returns the two 64-bit halves `(h1, h2)`.
///
/// Both halves start from the seed widened to `u64`, as Cilium's `murmur3.Hash128` does.
///
/// ```
/// use cilium_lb::murmur3::hash128;
///
/// assert_eq!(hash128(b"", 0), (0, 0));
/// assert_eq!(
///     hash128(b"[0.0.0.1:1/TCP,State:active]", 0x24b7_ef82),
///     (16_547_947_091_327_308_854, 6_047_843_010_194_048_566)
/// );
/// ```
#[doc(alias = "Hash128")]
pub fn hash128(data: &[u8], seed: u32) -> (u64, u64) {
    let mut h1 = u64::from(seed);
    let mut h2 = u64::from(seed);

    let mut blocks = data.chunks_exact(16);
    for block in &mut blocks {
        let (lo, hi) = block.split_at(8);
        let k1 = u64::from_le_bytes(lo.try_into().unwrap_or([0; 8]));
        let k2 = u64::from_le_bytes(hi.try_into().unwrap_or([0; 8]));

        h1 ^= mix_k1(k1);
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);

        h2 ^= mix_k2(k2);
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }

    let tail = blocks.remainder();
    if !tail.is_empty() {
        let mut k1 = 0u64;
        let mut k2 = 0u64;
        for (i, &byte) in tail.iter().enumerate() {
            if i < 8 {
                k1 |= u64::from(byte) << (8 * i);
            } else {
                k2 |= u64::from(byte) << (8 * (i - 8));
            }
        }
        if tail.len() > 8 {
            h2 ^= mix_k2(k2);
        }
        h1 ^= mix_k1(k1);
    }

    let len = data.len() as u64;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (h1, h2)
}

fn mix_k1(k1: u64) -> u64 {
    k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2)
}

fn mix_k2(k2: u64) -> u64 {
    k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1)
}

fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

#[cfg(test)]
mod tests {
    use super::hash128;

    /// `(length of the prefix of 0, 1, 2, ... 39, seed, h1, h2)`, computed with the `mmh3`
    /// Python package (`hash128(data, seed, x64arch=True)`, split into low and high halves).
    /// The lengths cover an empty input, every tail branch (below and above 8 bytes) and one,
    /// two and more full blocks.
    const VECTORS: [(usize, u32, u64, u64); 21] = [
        (0, 0x0000_0000, 0x0000_0000_0000_0000, 0x0000_0000_0000_0000),
        (0, 0x24b7_ef82, 0xf3d3_1520_ad22_ab4c, 0x5fd1_0d9c_3dde_784f),
        (0, 0xffff_ffff, 0x6af1_df4d_9d3b_c9ec, 0x8574_2112_1ee6_446b),
        (1, 0x0000_0000, 0x4610_abe5_6eff_5cb5, 0x5162_2daa_78f8_3583),
        (3, 0x24b7_ef82, 0xe540_6787_bcc6_12ba, 0x230b_93a4_9c5f_bc6b),
        (7, 0xffff_ffff, 0x833e_b1c4_46a2_41db, 0x2dbb_2bd3_98b1_460e),
        (8, 0x0000_0000, 0x47a7_e1bd_d68e_2fc8, 0x60e6_ee02_ec31_dcc7),
        (8, 0x24b7_ef82, 0x8dcc_7f8e_823d_c82e, 0x77cf_66be_1896_51f1),
        (9, 0x0000_0000, 0xfbb4_cb0f_6e81_2d32, 0x78de_751d_0200_ffb9),
        (9, 0xffff_ffff, 0xb022_69a8_c6e3_ea7c, 0x64d3_b971_d431_b738),
        (
            15,
            0x0000_0000,
            0x4723_1598_fd49_25e9,
            0xcd84_6dee_88c6_7de9,
        ),
        (
            15,
            0x24b7_ef82,
            0xc5c0_aa60_5266_28d4,
            0xf248_43fe_484d_4b20,
        ),
        (
            16,
            0x0000_0000,
            0x4449_24b5_9190_3f30,
            0xab90_6456_762f_e845,
        ),
        (
            16,
            0xffff_ffff,
            0x7529_8e93_8ac0_05bf,
            0x2687_3cd6_ed1b_3b1e,
        ),
        (
            17,
            0x0000_0000,
            0x5c76_f40f_9fe7_c20e,
            0xc15f_026b_9eda_a824,
        ),
        (
            17,
            0x24b7_ef82,
            0xf7b8_e81e_4459_3708,
            0xa7f1_e7b3_8a17_febe,
        ),
        (
            31,
            0xffff_ffff,
            0x872f_4d7d_5fd9_858b,
            0xcc1c_ece8_a493_c79b,
        ),
        (
            32,
            0x0000_0000,
            0xc66d_9022_b62f_500f,
            0x1c05_0a6e_34c3_1151,
        ),
        (
            33,
            0x24b7_ef82,
            0x6c3c_8b1f_0f97_6835,
            0xc72d_7d09_fead_f52f,
        ),
        (
            40,
            0x0000_0000,
            0xc3a0_54d8_418c_8064,
            0xa001_ca30_974c_12ad,
        ),
        (
            40,
            0xffff_ffff,
            0xc36a_8f50_de88_472b,
            0x8492_47b0_4dd4_f364,
        ),
    ];

    #[test]
    fn known_vectors() {
        let data: Vec<u8> = (0u8..40).collect();
        for (len, seed, h1, h2) in VECTORS {
            assert_eq!(
                hash128(&data[..len], seed),
                (h1, h2),
                "len {len}, seed {seed:#x}"
            );
        }
    }

    #[test]
    fn text_vectors() {
        assert_eq!(
            hash128(b"The quick brown fox jumps over the lazy dog", 0),
            (0xe34b_bc7b_bc07_1b6c, 0x7a43_3ca9_c49a_9347)
        );
        assert_eq!(
            hash128(b"hello", 0),
            (0xcbd8_a7b3_41bd_9b02, 0x5b1e_906a_48ae_1d19)
        );
    }
}

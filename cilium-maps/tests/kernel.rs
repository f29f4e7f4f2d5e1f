//! Privileged tests: real kernel maps through the typed handles, checked against the
//! in-memory twin.
//!
//! They run whenever the process can create BPF maps. With `CILIUM_PRIVILEGED_TESTS=1` (set by
//! `cargo xtask test` as root, and by CI) a missing BPF is a failure, not a skip.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use cilium_maps::abi::{consts::*, *};
use cilium_maps::{
    AffinityMap, BackendMap, ConntrackMap, EndpointMap, IpCache, KernelMap, MaglevMap, Map, MapDef,
    MapError, MapKind, MapSpec, MemoryMap, MetricsMap, PolicyMap, PrefilterMap, RevNatMap,
    ServiceMap, SockRevNatMap,
};
use common::Rng;

/// Whether BPF maps can be created here; panics under `CILIUM_PRIVILEGED_TESTS=1` if not.
fn privileged(test: &str) -> bool {
    let probe = KernelMap::create(MapSpec {
        name: "cil_probe".into(),
        kind: MapKind::Hash,
        key_size: 4,
        value_size: 4,
        max_entries: 1,
    });
    match probe {
        Ok(_) => true,
        Err(e) => {
            if std::env::var("CILIUM_PRIVILEGED_TESTS").as_deref() == Ok("1") {
                panic!(
                    "{test}: CILIUM_PRIVILEGED_TESTS=1 but BPF maps cannot be created: {e} ({:?})",
                    e
                );
            }
            eprintln!("skipping {test}: BPF maps cannot be created here ({e}); run as root");
            false
        }
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Applies the same operations to a kernel map and its twin and checks they agree.
fn roundtrip<D: MapDef>(name: &str, entries: &[(D::Key, D::Value)]) {
    let mut k: Map<D, KernelMap> =
        Map::create(name, 64).unwrap_or_else(|e| panic!("create {name}: {e}"));
    let mut m: Map<D, MemoryMap> = Map::in_memory(name, 64);
    for (key, value) in entries {
        k.insert(key, value).unwrap();
        m.insert(key, value).unwrap();
    }
    for (key, value) in entries {
        let got = k.get(key).unwrap();
        assert_eq!(
            got.map(|v| bytemuck::bytes_of(&v).to_vec()),
            Some(bytemuck::bytes_of(&D::prepare(key, *value)).to_vec()),
            "{name}: {key}"
        );
    }
    assert_eq!(k.keys().unwrap().len(), entries.len(), "{name}: iteration");
    assert_eq!(
        k.dump().unwrap(),
        m.dump().unwrap(),
        "{name}: kernel and twin dumps differ"
    );
    let (first, _) = &entries[0];
    k.remove(first).unwrap();
    m.remove(first).unwrap();
    assert!(
        k.get(first).unwrap().is_none() || D::KIND == MapKind::LpmTrie,
        "{name}: removed"
    );
    assert!(
        matches!(k.remove(first), Err(MapError::NotFound { .. })),
        "{name}: second remove"
    );
    assert_eq!(k.dump().unwrap(), m.dump().unwrap(), "{name}: after remove");
}

#[test]
fn every_map_kind_roundtrips_like_its_twin() {
    if !privileged("every_map_kind_roundtrips_like_its_twin") {
        return;
    }
    roundtrip::<cilium_maps::PolicyMapDef>(
        "cil_policy_t",
        &[
            (
                PolicyKey::new(1234, CIL_DIR_INGRESS, 6, 80, 16),
                PolicyEntry::allow(0),
            ),
            (
                PolicyKey::new(0, CIL_DIR_EGRESS, 17, 53, 16),
                PolicyEntry::allow(15053),
            ),
            (
                PolicyKey::new(9, CIL_DIR_INGRESS, 0, 0, 0),
                PolicyEntry::deny(),
            ),
        ],
    );
    roundtrip::<cilium_maps::IpCacheDef>(
        "cil_ipcache_t",
        &[
            (
                IpCacheKey::new(ip("10.0.0.0"), 8, 0),
                IpCacheValue::identity(2),
            ),
            (
                IpCacheKey::new(ip("10.0.0.185"), 32, 0),
                IpCacheValue::identity(48312),
            ),
            (
                IpCacheKey::new(ip("f00d::1"), 128, 3),
                IpCacheValue::identity(7),
            ),
        ],
    );
    roundtrip::<cilium_maps::PrefilterDef>(
        "cil_prefilter_t",
        &[(
            IpCacheKey::new(ip("192.0.2.0"), 24, 0),
            PrefilterValue { drops: 0 },
        )],
    );
    let info = EndpointInfo {
        ifindex: 7,
        endpoint_id: 42,
        identity: 1234,
        ..bytemuck::Zeroable::zeroed()
    };
    roundtrip::<cilium_maps::EndpointMapDef>(
        "cil_lxc_t",
        &[
            (EndpointKey::new(ip("10.1.0.5")), info),
            (EndpointKey::new(ip("fd00::5")), info),
        ],
    );
    let svc = ServiceValue {
        count: 2,
        rev_nat_index: 1,
        algorithm: CIL_LB_ALG_MAGLEV,
        ..bytemuck::Zeroable::zeroed()
    };
    roundtrip::<cilium_maps::ServiceMapDef>(
        "cil_lb_svc_t",
        &[
            (
                ServiceKey::new(ip("10.96.0.10"), 53, 17, CIL_LB_SCOPE_EXT, 0),
                svc,
            ),
            (
                ServiceKey::new(ip("10.96.0.10"), 53, 17, CIL_LB_SCOPE_EXT, 1),
                ServiceValue {
                    backend_id: 5,
                    ..svc
                },
            ),
        ],
    );
    roundtrip::<cilium_maps::BackendMapDef>(
        "cil_lb_be_t",
        &[(
            BackendKey { backend_id: 5 },
            Backend::new(ip("10.1.0.9"), 5353, 17),
        )],
    );
    roundtrip::<cilium_maps::RevNatMapDef>(
        "cil_lb_rnat_t",
        &[(
            RevNatKey {
                rev_nat_index: 1,
                pad: 0,
            },
            RevNatValue::new(ip("10.96.0.10"), 53),
        )],
    );
    let aff = AffinityKey {
        client: [10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        rev_nat_index: 1,
        family: 1,
        flags: 0,
    };
    roundtrip::<cilium_maps::AffinityMapDef>(
        "cil_lb_aff_t",
        &[(
            aff,
            AffinityValue {
                last_used_ns: 5,
                backend_id: 5,
                pad: 0,
            },
        )],
    );
    let sk = SockRevNatKey {
        cookie: 77,
        addr: [10, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        port: Be16::new(5353),
        family: 1,
        pad: [0; 5],
    };
    let skv = SockRevNatValue {
        addr: [10, 96, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        port: Be16::new(53),
        rev_nat_index: 1,
        family: 1,
        pad: [0; 3],
    };
    roundtrip::<cilium_maps::SockRevNatMapDef>("cil_lb_sk_t", &[(sk, skv)]);
    let ct = CtEntry {
        lifetime: 100,
        tx_packets: 1,
        src_identity: 1234,
        ..bytemuck::Zeroable::zeroed()
    };
    roundtrip::<cilium_maps::ConntrackMapDef>(
        "cil_ct_t",
        &[(
            CtKey::new(
                ip("10.1.0.5"),
                40000,
                ip("10.1.0.9"),
                80,
                6,
                CIL_CT_F_EGRESS,
            ),
            ct,
        )],
    );
}

#[test]
fn per_cpu_metrics() {
    if !privileged("per_cpu_metrics") {
        return;
    }
    let mut m: MetricsMap = MetricsMap::create("cil_metrics_t", 0).unwrap();
    let key = MetricsKey {
        reason: CIL_DROP_POLICY,
        direction: CIL_DIR_EGRESS,
        pad: 0,
        pad2: 0,
    };
    m.insert(
        &key,
        &MetricsValue {
            packets: 3,
            bytes: 300,
        },
    )
    .unwrap();
    let cpus = aya::util::nr_cpus().unwrap();
    let per_cpu = m.get_per_cpu(&key).unwrap().unwrap();
    assert_eq!(per_cpu.len(), cpus);
    assert_eq!(
        m.get_sum(&key).unwrap(),
        Some(MetricsValue {
            packets: 3 * cpus as u64,
            bytes: 300 * cpus as u64
        })
    );
}

fn random_ipcache_key(rng: &mut Rng) -> IpCacheKey {
    if rng.below(4) == 0 {
        let mut b = [0u8; 16];
        b[0] = 0xfd;
        b[1..4].iter_mut().for_each(|x| *x = rng.below(4) as u8);
        let len = 8 + rng.below(121) as u8;
        IpCacheKey::new(IpAddr::V6(Ipv6Addr::from(b)), len, 0)
    } else {
        // A small address space so that prefixes overlap a lot.
        let a = Ipv4Addr::new(
            10,
            rng.below(4) as u8,
            rng.below(8) as u8,
            rng.below(256) as u8,
        );
        let len = rng.below(33) as u8;
        IpCacheKey::new(IpAddr::V4(a), len, rng.below(2) as u16)
    }
}

#[test]
fn lpm_longest_match_agrees_with_twin_on_random_data() {
    if !privileged("lpm_longest_match_agrees_with_twin_on_random_data") {
        return;
    }
    let mut rng = Rng(0x5eed_cafe_f00d_1234);
    let mut k: IpCache = IpCache::create("cil_ipc_rand", 4096).unwrap();
    let mut m: IpCache<MemoryMap> = IpCache::in_memory("cil_ipc_rand", 4096);
    let mut inserted = Vec::new();
    for i in 0..600u32 {
        let key = random_ipcache_key(&mut rng);
        let v = IpCacheValue::identity(1000 + i);
        k.insert(&key, &v).unwrap();
        m.insert(&key, &v).unwrap();
        inserted.push(key);
    }
    let check = |k: &IpCache, m: &IpCache<MemoryMap>, rng: &mut Rng| {
        for _ in 0..5000 {
            let probe = random_ipcache_key(rng);
            let lookup = IpCacheKey {
                prefixlen: CIL_IPCACHE_STATIC_PREFIX + if probe.family == 1 { 32 } else { 128 },
                ..probe
            };
            let a = k.get(&lookup).unwrap().map(|v| v.identity);
            let b = m.get(&lookup).unwrap().map(|v| v.identity);
            assert_eq!(a, b, "lookup {lookup}");
        }
    };
    check(&k, &m, &mut rng);
    assert_eq!(k.dump().unwrap(), m.dump().unwrap());
    for key in inserted.iter().step_by(2) {
        let a = k.remove(key).map_err(|e| e.to_string());
        let b = m.remove(key).map_err(|e| e.to_string());
        assert_eq!(a.is_ok(), b.is_ok(), "remove {key}: {a:?} vs {b:?}");
    }
    check(&k, &m, &mut rng);
    assert_eq!(k.dump().unwrap(), m.dump().unwrap());

    // The policy map too: random identities, protocols and port prefixes.
    let mut k: PolicyMap = PolicyMap::create("cil_pol_rand", 4096).unwrap();
    let mut m: PolicyMap<MemoryMap> = PolicyMap::in_memory("cil_pol_rand", 4096);
    for i in 0..800u32 {
        let id = rng.below(4) as u32 * 100;
        let proto = [0u8, 6, 17][rng.below(3) as usize];
        let key = PolicyKey::new(
            id,
            rng.below(2) as u8,
            proto,
            rng.below(1024) as u16,
            rng.below(17) as u8,
        );
        let v = if i % 3 == 0 {
            PolicyEntry::deny()
        } else {
            PolicyEntry::allow(i as u16)
        };
        k.insert(&key, &v).unwrap();
        m.insert(&key, &v).unwrap();
    }
    for _ in 0..5000 {
        let key = PolicyKey::lookup(
            rng.below(5) as u32 * 100,
            rng.below(2) as u8,
            [6u8, 17, 1][rng.below(3) as usize],
            rng.below(1100) as u16,
        );
        assert_eq!(k.get(&key).unwrap(), m.get(&key).unwrap(), "lookup {key}");
    }
}

#[test]
fn full_maps_are_reported_not_truncated() {
    if !privileged("full_maps_are_reported_not_truncated") {
        return;
    }
    let b = Backend::new(ip("10.0.0.1"), 80, 6);
    let mut k: BackendMap = BackendMap::create("cil_be_full", 4).unwrap();
    for i in 0..4 {
        k.insert(&BackendKey { backend_id: i }, &b).unwrap();
    }
    let err = k.insert(&BackendKey { backend_id: 99 }, &b).unwrap_err();
    assert!(
        matches!(&err, MapError::Full { map, capacity: 4 } if map == "cil_be_full"),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "map cil_be_full is full (4 entries)");
    assert_eq!(k.keys().unwrap().len(), 4);

    let mut lpm: PolicyMap = PolicyMap::create("cil_pol_full", 2).unwrap();
    lpm.insert(&PolicyKey::new(1, 0, 6, 80, 16), &PolicyEntry::allow(0))
        .unwrap();
    lpm.insert(&PolicyKey::new(2, 0, 6, 80, 16), &PolicyEntry::allow(0))
        .unwrap();
    let err = lpm
        .insert(&PolicyKey::new(3, 0, 6, 80, 16), &PolicyEntry::allow(0))
        .unwrap_err();
    assert!(err.is_full(), "{err:?}");
    // Overwriting an existing key of a full map still works.
    lpm.insert(&PolicyKey::new(2, 0, 6, 80, 16), &PolicyEntry::deny())
        .unwrap();

    // A batch that overflows stops and says how much it wrote, like the twin.
    let entries: Vec<_> = (0..15).map(|i| (BackendKey { backend_id: i }, b)).collect();
    let mut k: BackendMap = BackendMap::create("cil_be_batch", 10).unwrap();
    let mut m: BackendMap<MemoryMap> = BackendMap::in_memory("cil_be_batch", 10);
    for map_err in [
        k.insert_batch(&entries).unwrap_err(),
        m.insert_batch(&entries).unwrap_err(),
    ] {
        match map_err {
            MapError::BatchIncomplete {
                written: 10,
                total: 15,
                source,
                ..
            } => assert!(source.is_full()),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(k.dump().unwrap(), m.dump().unwrap());
}

#[test]
fn batch_updates_write_everything() {
    if !privileged("batch_updates_write_everything") {
        return;
    }
    let mut k: ConntrackMap = ConntrackMap::create("cil_ct_batch", 20_000).unwrap();
    let entries: Vec<_> = (0..10_000u32)
        .map(|i| {
            let key = CtKey::new(
                ip("10.0.0.1"),
                (i % 60000) as u16,
                ip("10.0.0.2"),
                80 + (i / 60000) as u16,
                6,
                0,
            );
            (
                key,
                CtEntry {
                    lifetime: i,
                    ..bytemuck::Zeroable::zeroed()
                },
            )
        })
        .collect();
    k.insert_batch(&entries).unwrap();
    assert_eq!(k.keys().unwrap().len(), 10_000);
    assert_eq!(k.get(&entries[4321].0).unwrap().unwrap().lifetime, 4321);
}

fn bpffs_dir(tag: &str) -> Option<std::path::PathBuf> {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    if !mounts.lines().any(|l| {
        l.split_whitespace().nth(1) == Some("/sys/fs/bpf")
            && l.split_whitespace().nth(2) == Some("bpf")
    }) {
        if std::env::var("CILIUM_PRIVILEGED_TESTS").as_deref() == Ok("1") {
            panic!(
                "CILIUM_PRIVILEGED_TESTS=1 but /sys/fs/bpf is not a bpffs (cargo xtask test mounts it)"
            );
        }
        eprintln!("skipping pin test: /sys/fs/bpf is not a bpffs");
        return None;
    }
    let dir = std::path::PathBuf::from(format!(
        "/sys/fs/bpf/cilium-rs-test-{tag}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    Some(dir)
}

#[test]
fn pinned_maps_reopen_with_their_contents() {
    if !privileged("pinned_maps_reopen_with_their_contents") {
        return;
    }
    let Some(dir) = bpffs_dir("pin") else { return };
    let path = dir.join("cil_policy_00042");
    {
        let mut k: PolicyMap = PolicyMap::create("cil_policy_00042", 0).unwrap();
        k.insert(
            &PolicyKey::new(1234, CIL_DIR_INGRESS, 6, 80, 16),
            &PolicyEntry::allow(0),
        )
        .unwrap();
        k.pin(&path).unwrap();
    } // our fd is closed; the pin keeps the map alive
    let reopened: PolicyMap = PolicyMap::from_pin(&path).unwrap();
    assert_eq!(reopened.capacity(), CIL_POLICY_MAP_DEFAULT_MAX);
    assert!(
        reopened
            .get(&PolicyKey::lookup(1234, CIL_DIR_INGRESS, 6, 80))
            .unwrap()
            .is_some()
    );
    // Opening it as the wrong kind of map is refused at the boundary.
    let err = BackendMap::from_pin(&path).unwrap_err();
    assert!(matches!(err, MapError::Kind { .. }), "{err:?}");
    let err = EndpointMap::from_pin(&path).unwrap_err();
    assert!(matches!(err, MapError::Kind { .. }), "{err:?}");
    std::fs::remove_file(&path).unwrap();
    std::fs::remove_dir(&dir).unwrap();
}

#[test]
fn maglev_tables_switch_atomically() {
    if !privileged("maglev_tables_switch_atomically") {
        return;
    }
    let mut k = MaglevMap::create("cil_lb_maglev_t", 251, 16).unwrap();
    let mut m = MaglevMap::in_memory("cil_lb_maglev_t", 251, 16);
    let t1: Vec<u32> = (0..251).map(|i| i % 3 + 1).collect();
    let t2: Vec<u32> = (0..251).map(|i| i % 5 + 10).collect();
    for map in [&mut k, &mut m] {
        map.set_table(7, &t1).unwrap();
        map.set_table(9, &t2).unwrap();
        assert_eq!(map.get_table(7).unwrap().as_deref(), Some(&t1[..]));
        map.set_table(7, &t2).unwrap();
        assert_eq!(map.get_table(7).unwrap().as_deref(), Some(&t2[..]));
        assert_eq!(map.services().unwrap(), vec![7, 9]);
        let err = map.set_table(7, &t1[..100]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "map cil_lb_maglev_t: value size is 1004 bytes, the Rust value type has 400"
        );
        map.remove(9).unwrap();
        assert!(map.get_table(9).unwrap().is_none());
        assert!(matches!(map.remove(9), Err(MapError::NotFound { .. })));
    }
    let mut small = MaglevMap::create("cil_lb_maglev_s", 251, 1).unwrap();
    small.set_table(1, &t1).unwrap();
    assert!(small.set_table(2, &t1).unwrap_err().is_full());
}

#[test]
fn unused_handles_are_constructible() {
    // Type-level check that every alias names a kernel-backed handle.
    fn _assert(
        _: Option<(
            ServiceMap,
            RevNatMap,
            AffinityMap,
            SockRevNatMap,
            PrefilterMap,
            ConntrackMap,
        )>,
    ) {
    }
}

//! The ABI encodings and the in-memory twin's semantics (no root needed).

mod common;

use std::net::IpAddr;

use cilium_maps::abi::{consts::*, *};
use cilium_maps::events::{Event, EventError};
use cilium_maps::{
    BackendMap, ConntrackMap, IpCache, MapError, MapKind, MapStore, MemoryMap, MetricsMap,
    PolicyMap, UpdateFlags, spec_of,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `ipcache_cases.json` `example_keys_little_endian_host`: our key bytes are Cilium's.
#[test]
fn ipcache_key_matches_cilium_encoding() {
    let data: serde_json::Value =
        serde_json::from_str(include_str!("data/ipcache_cases.json")).expect("ipcache_cases.json");
    let cases = data["example_keys_little_endian_host"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    for c in cases {
        let cidr: cilium_core::Cidr = c["cidr"].as_str().unwrap().parse().unwrap();
        let key = IpCacheKey::from_cidr(&cidr, c["cluster_id"].as_u64().unwrap() as u16);
        assert_eq!(
            u64::from(key.prefixlen),
            c["lpm_prefixlen"].as_u64().unwrap(),
            "{cidr}"
        );
        assert_eq!(
            u64::from(key.family),
            c["family"].as_u64().unwrap(),
            "{cidr}"
        );
        assert_eq!(
            hex(bytemuck::bytes_of(&key)),
            c["key_hex"].as_str().unwrap(),
            "{cidr}"
        );
    }
}

#[test]
fn shared_copy_of_ipcache_cases_is_current() {
    let shared = common::crate_dir().join("../../shared/conformance/identity/ipcache_cases.json");
    if let Ok(s) = std::fs::read_to_string(&shared) {
        assert_eq!(
            s,
            include_str!("data/ipcache_cases.json"),
            "tests/data copy drifted from {}",
            shared.display()
        );
    }
}

#[test]
fn policy_key_prefixes() {
    let k = PolicyKey::new(1234, CIL_DIR_INGRESS, 6, 80, 16);
    assert_eq!(k.prefixlen, 64);
    assert_eq!(
        bytemuck::bytes_of(&k),
        &[64, 0, 0, 0, 0xd2, 0x04, 0, 0, 0, 6, 0, 80]
    );
    let any_port = PolicyKey::new(0, CIL_DIR_EGRESS, 17, 0, 0);
    assert_eq!(any_port.prefixlen, 48);
    let any_proto = PolicyKey::new(7, CIL_DIR_EGRESS, 0, 443, 16);
    assert_eq!(
        (any_proto.prefixlen, any_proto.dport.get()),
        (40, 0),
        "wildcard protocol wildcards the port"
    );
    let range = PolicyKey::new(1, CIL_DIR_INGRESS, 6, 8083, 14);
    assert_eq!(
        (range.prefixlen, range.dport.get()),
        (62, 8080),
        "host bits of a port prefix are cleared"
    );
    assert_eq!(range.to_string(), "ingress id=1 proto=6 port=8080/14");
}

/// The six-level precedence of the datapath, expressed as LPM lookups on the twin: with the
/// peer identity, then with identity 0, the most specific entry of each lookup wins.
#[test]
fn policy_lpm_longest_match() {
    let mut m: PolicyMap<MemoryMap> = PolicyMap::in_memory("cil_policy_1", 0);
    m.insert(
        &PolicyKey::new(100, CIL_DIR_INGRESS, 0, 0, 0),
        &PolicyEntry::allow(0),
    )
    .unwrap();
    m.insert(
        &PolicyKey::new(100, CIL_DIR_INGRESS, 6, 0, 0),
        &PolicyEntry::deny(),
    )
    .unwrap();
    m.insert(
        &PolicyKey::new(100, CIL_DIR_INGRESS, 6, 80, 16),
        &PolicyEntry::allow(15001),
    )
    .unwrap();
    fn at(m: &PolicyMap<MemoryMap>, id: u32, proto: u8, port: u16) -> Option<PolicyEntry> {
        m.get(&PolicyKey::lookup(id, CIL_DIR_INGRESS, proto, port))
            .unwrap()
    }
    assert_eq!(at(&m, 100, 6, 80).unwrap().proxy_port.get(), 15001);
    assert!(at(&m, 100, 6, 81).unwrap().is_deny());
    assert!(!at(&m, 100, 17, 53).unwrap().is_deny());
    assert!(at(&m, 101, 6, 80).is_none());
    assert!(
        m.get(&PolicyKey::lookup(100, CIL_DIR_EGRESS, 6, 80))
            .unwrap()
            .is_none(),
        "direction is matched"
    );
    // Update and delete are exact.
    assert!(matches!(
        m.remove(&PolicyKey::new(100, CIL_DIR_INGRESS, 6, 80, 15)),
        Err(MapError::NotFound { .. })
    ));
    m.remove(&PolicyKey::new(100, CIL_DIR_INGRESS, 6, 80, 16))
        .unwrap();
    assert!(at(&m, 100, 6, 80).unwrap().is_deny());
}

#[test]
fn full_maps_are_reported_and_unchanged() {
    let mut m: BackendMap<MemoryMap> = BackendMap::in_memory("cil_lb_backends", 2);
    let b = Backend::new(ip("10.0.0.1"), 80, 6);
    m.insert(&BackendKey { backend_id: 1 }, &b).unwrap();
    m.insert(&BackendKey { backend_id: 2 }, &b).unwrap();
    let err = m.insert(&BackendKey { backend_id: 3 }, &b).unwrap_err();
    assert!(err.is_full());
    assert_eq!(err.to_string(), "map cil_lb_backends is full (2 entries)");
    assert_eq!(m.keys().unwrap().len(), 2);
    // Replacing an existing key still works when full.
    m.insert(
        &BackendKey { backend_id: 2 },
        &Backend::new(ip("10.0.0.2"), 80, 6),
    )
    .unwrap();

    let mut lpm: IpCache<MemoryMap> = IpCache::in_memory("cil_ipcache", 1);
    lpm.insert(
        &IpCacheKey::new(ip("10.0.0.0"), 8, 0),
        &IpCacheValue::identity(2),
    )
    .unwrap();
    assert!(
        lpm.insert(
            &IpCacheKey::new(ip("10.1.0.0"), 16, 0),
            &IpCacheValue::identity(3)
        )
        .unwrap_err()
        .is_full()
    );

    // A batch stops at the first failure and says how much it wrote.
    let mut m: BackendMap<MemoryMap> = BackendMap::in_memory("cil_lb_backends", 3);
    let entries: Vec<_> = (1..=5).map(|i| (BackendKey { backend_id: i }, b)).collect();
    match m.insert_batch(&entries) {
        Err(MapError::BatchIncomplete {
            written: 3,
            total: 5,
            source,
            ..
        }) => assert!(source.is_full()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn update_flags_and_lru_eviction() {
    let mut ct: ConntrackMap<MemoryMap> = ConntrackMap::in_memory("cil_ct", 2);
    let k = |p| CtKey::new(ip("10.0.0.1"), p, ip("10.0.0.2"), 80, 6, CIL_CT_F_EGRESS);
    let e = CtEntry {
        lifetime: 1,
        ..bytemuck::Zeroable::zeroed()
    };
    ct.insert_with(&k(1), &e, UpdateFlags::NoExist).unwrap();
    assert!(matches!(
        ct.insert_with(&k(1), &e, UpdateFlags::NoExist),
        Err(MapError::Exists { .. })
    ));
    assert!(matches!(
        ct.insert_with(&k(9), &e, UpdateFlags::Exist),
        Err(MapError::NotFound { .. })
    ));
    ct.insert(&k(2), &e).unwrap();
    ct.insert(&k(3), &e).unwrap(); // evicts k(1), the least recently written
    assert!(ct.get(&k(1)).unwrap().is_none());
    assert!(ct.get(&k(2)).unwrap().is_some() && ct.get(&k(3)).unwrap().is_some());
}

#[test]
fn arrays_and_per_cpu_values() {
    let spec = cilium_maps::MapSpec {
        name: "arr".into(),
        kind: MapKind::Array,
        key_size: 4,
        value_size: 8,
        max_entries: 4,
    };
    let mut a = MemoryMap::new(spec);
    assert_eq!(
        a.lookup(&2u32.to_ne_bytes()).unwrap(),
        Some(vec![0; 8]),
        "every index exists"
    );
    a.update(&2u32.to_ne_bytes(), &7u64.to_ne_bytes(), UpdateFlags::Any)
        .unwrap();
    assert!(matches!(
        a.update(&4u32.to_ne_bytes(), &[0; 8], UpdateFlags::Any),
        Err(MapError::InvalidKey { .. })
    ));
    assert!(matches!(
        a.delete(&2u32.to_ne_bytes()),
        Err(MapError::InvalidKey { .. })
    ));
    assert_eq!(a.keys().unwrap().len(), 4);

    let mut m: MetricsMap<MemoryMap> = MetricsMap::in_memory_with_cpus("cil_metrics", 0, 3);
    let key = MetricsKey {
        reason: CIL_DROP_POLICY,
        direction: CIL_DIR_INGRESS,
        pad: 0,
        pad2: 0,
    };
    m.insert(
        &key,
        &MetricsValue {
            packets: 2,
            bytes: 100,
        },
    )
    .unwrap();
    assert_eq!(m.get_per_cpu(&key).unwrap().unwrap().len(), 3);
    assert_eq!(
        m.get_sum(&key).unwrap(),
        Some(MetricsValue {
            packets: 6,
            bytes: 300
        })
    );
}

#[test]
fn sizes_are_checked_at_the_boundary() {
    // A store created for another value size is refused by the typed handle.
    let mut spec = spec_of::<cilium_maps::PolicyMapDef>("cil_policy_2", 16);
    spec.value_size = 16;
    let err = PolicyMap::new(MemoryMap::new(spec)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "map cil_policy_2: value size is 16 bytes, the Rust value type has 24"
    );
    let mut spec = spec_of::<cilium_maps::PolicyMapDef>("cil_policy_3", 16);
    spec.kind = MapKind::Hash;
    assert!(matches!(
        PolicyMap::new(MemoryMap::new(spec)),
        Err(MapError::Kind { .. })
    ));
}

#[test]
fn dump_is_deterministic() {
    let mut m: IpCache<MemoryMap> = IpCache::in_memory("cil_ipcache", 0);
    m.insert(
        &IpCacheKey::new(ip("10.0.0.0"), 8, 0),
        &IpCacheValue::identity(2),
    )
    .unwrap();
    m.insert(
        &IpCacheKey::new(ip("10.0.0.185"), 32, 0),
        &IpCacheValue::identity(48312),
    )
    .unwrap();
    m.insert(
        &IpCacheKey::new(ip("f00d::a0f:0:0:1"), 128, 0),
        &IpCacheValue::identity(7),
    )
    .unwrap();
    assert_eq!(
        m.dump().unwrap(),
        "# ipcache cil_ipcache (3 entries)\n\
         10.0.0.0/8 => identity=2\n\
         10.0.0.185/32 => identity=48312\n\
         f00d::a0f:0:0:1/128 => identity=7\n"
    );
    assert_eq!(
        m.get(&IpCacheKey::lookup(ip("10.9.9.9"), 0))
            .unwrap()
            .unwrap()
            .identity,
        2
    );
    assert!(
        m.get(&IpCacheKey::lookup(ip("11.0.0.1"), 0))
            .unwrap()
            .is_none()
    );
    assert!(
        m.get(&IpCacheKey::lookup(ip("10.0.0.1"), 1))
            .unwrap()
            .is_none(),
        "cluster id is part of the key"
    );
}

#[test]
fn events_decode_and_reject_short_records() {
    let mut ev: DropEvent = bytemuck::Zeroable::zeroed();
    ev.hdr.r#type = CIL_EVENT_DROP;
    ev.hdr.subtype = CIL_DROP_POLICY_DENY;
    ev.src_identity = 1234;
    let bytes = bytemuck::bytes_of(&ev);
    match Event::parse(bytes).unwrap() {
        Event::Drop(d) => assert_eq!((d.hdr.subtype, d.src_identity), (181, 1234)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        Event::parse(&bytes[..40]),
        Err(EventError::Truncated {
            kind: "drop",
            len: 40,
            expected: 72
        })
    );
    assert_eq!(
        Event::parse(&bytes[..3]),
        Err(EventError::ShortHeader { len: 3 })
    );
    let mut unknown = bytes.to_vec();
    unknown[0] = 99;
    assert_eq!(
        Event::parse(&unknown),
        Err(EventError::UnknownType { found: 99 })
    );
}

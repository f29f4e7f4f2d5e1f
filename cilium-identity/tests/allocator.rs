//! The pure allocator: reserved, global and local identities, references per user, grace
//! period collection, exhaustion and pressure, events, and the store-backed core's protocol.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use cilium_core::identity::IdentityScope;
use cilium_core::{LabelSet, NumericIdentity};
use cilium_identity::{
    Acquire, Allocator, AllocatorConfig, AllocatorCore, AllocatorError, IdentityEvent, UserId,
};

fn set(labels: &[&str]) -> LabelSet {
    LabelSet::parse_list(labels)
}

fn app(i: usize) -> LabelSet {
    LabelSet::parse_list(&[format!("k8s:app=a{i}")])
}

fn user(name: &str) -> UserId {
    UserId::new(name).unwrap()
}

const T0: Duration = Duration::ZERO;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn reserved_label_sets_get_reserved_identities_without_references() {
    let mut alloc = Allocator::new(AllocatorConfig::new(0).unwrap());
    let u = user("ep");
    for (id, name) in NumericIdentity::reserved().skip(1) {
        let a = alloc
            .allocate(&set(&[&format!("reserved:{name}")]), &u, T0)
            .unwrap();
        assert_eq!((a.id, a.is_new), (id, false), "{name}");
        assert_eq!(alloc.refs(id), 0);
        assert_eq!(alloc.release(id, &u, T0), Ok(0));
        assert_eq!(
            alloc.labels_of(id),
            Some(set(&[&format!("reserved:{name}")]))
        );
    }
    assert!(alloc.identities().is_empty());
    // The event queue starts with the ten reserved identities.
    let events = alloc.drain_events();
    assert_eq!(events.len(), 10);
    assert!(events.iter().all(IdentityEvent::is_added));
    assert_eq!(events[0].id(), NumericIdentity::HOST);
}

#[test]
fn global_identities_come_from_the_cluster_range_one_per_label_set() {
    for cluster in [0u32, 1, 42, 255] {
        let config = AllocatorConfig::new(cluster).unwrap();
        let range = config.global_range();
        let mut alloc = Allocator::new(config);
        let u = user("ep");
        let mut seen = BTreeMap::new();
        for i in 0..500 {
            let a = alloc.allocate(&app(i), &u, T0).unwrap();
            assert!(a.is_new);
            assert!(
                range.contains(&a.id),
                "cluster {cluster}: {} outside {range:?}",
                a.id
            );
            assert_eq!(a.id.cluster_id(&Default::default()), cluster);
            assert!(seen.insert(a.id, i).is_none(), "{} given twice", a.id);
        }
        // Same labels, same identity, one more reference.
        for i in 0..500 {
            let a = alloc.allocate(&app(i), &u, T0).unwrap();
            assert!(!a.is_new);
            assert_eq!(seen[&a.id], i);
            assert_eq!(alloc.refs(a.id), 2);
            assert_eq!(alloc.lookup(&app(i)), Some(a.id));
        }
        assert_eq!(alloc.pressure()[0].used, 500);
    }
}

#[test]
fn cidr_and_fqdn_sets_get_local_identities() {
    let mut alloc = Allocator::new(AllocatorConfig::new(7).unwrap());
    let u = user("fqdn-cache");
    let mut ids = BTreeSet::new();
    for labels in [
        set(&["cidr:10.0.0.0/8", "reserved:world"]),
        set(&["cidr:192.168.1.1/32"]),
        set(&["fqdn:example.com"]),
        set(&["cidr:2001-db8--0/32", "reserved:world-ipv6"]),
    ] {
        let id = alloc.allocate(&labels, &u, T0).unwrap().id;
        assert_eq!(id.scope(), IdentityScope::Local, "{labels}");
        assert!((0x0100_0001..=0x01FF_FFFF).contains(&id.as_u32()));
        assert!(ids.insert(id));
    }
    let rn = alloc
        .allocate(&set(&["reserved:remote-node", "cidr:10.1.2.3/32"]), &u, T0)
        .unwrap();
    assert_eq!(rn.id.scope(), IdentityScope::RemoteNode);
    let p = alloc.pressure();
    assert_eq!((p[0].used, p[1].used, p[2].used), (0, 4, 1));
}

#[test]
fn references_are_counted_per_user() {
    let mut alloc = Allocator::new(AllocatorConfig::new(0).unwrap());
    let (a, b) = (user("ep-a"), user("ep-b"));
    let id = alloc.allocate(&app(1), &a, T0).unwrap().id;
    alloc.allocate(&app(1), &a, T0).unwrap();
    alloc.allocate(&app(1), &b, T0).unwrap();
    let other = alloc.allocate(&app(2), &b, T0).unwrap().id;
    assert_eq!(alloc.refs(id), 3);
    assert_eq!(alloc.core().user_refs(id, &a), 2);
    assert_eq!(
        alloc.release(other, &a, T0),
        Err(AllocatorError::NotHeld {
            id: other,
            user: "ep-a".into()
        })
    );
    assert_eq!(alloc.release(id, &a, T0), Ok(2));
    assert_eq!(
        alloc.release_user(&b, secs(1)),
        vec![id.min(other), id.max(other)]
    );
    assert_eq!(alloc.refs(id), 1);
    assert_eq!(alloc.refs(other), 0);
    assert_eq!(alloc.release(id, &a, secs(1)), Ok(0));
    assert_eq!(
        alloc.release(id, &a, secs(1)),
        Err(AllocatorError::NotHeld {
            id,
            user: "ep-a".into()
        })
    );
    assert_eq!(
        alloc.release(NumericIdentity(4000), &a, T0),
        Err(AllocatorError::UnknownIdentity {
            id: NumericIdentity(4000)
        })
    );
    assert_eq!(UserId::new(""), Err(AllocatorError::EmptyUser));
}

#[test]
fn unused_identities_are_collected_after_the_grace_period() {
    let mut alloc = Allocator::new(AllocatorConfig::new(0).unwrap().with_gc_grace(secs(60)));
    let u = user("ep");
    let web = set(&["k8s:app=web"]);
    let id = alloc.allocate(&web, &u, T0).unwrap().id;
    alloc.drain_events();
    alloc.release(id, &u, secs(10)).unwrap();
    assert!(alloc.gc(secs(69)).is_empty(), "within the grace period");
    // Allocated again within the grace period: same identity, the clock stops.
    let again = alloc.allocate(&web, &u, secs(50)).unwrap();
    assert_eq!((again.id, again.is_new), (id, false));
    assert!(alloc.gc(secs(1000)).is_empty(), "referenced again");
    alloc.release(id, &u, secs(1000)).unwrap();
    let collected = alloc.gc(secs(1060));
    assert_eq!(collected.len(), 1);
    assert_eq!((collected[0].id, &collected[0].labels), (id, &web));
    assert_eq!(alloc.lookup(&web), None);
    assert_eq!(alloc.labels_of(id), None);
    assert_eq!(
        alloc.drain_events(),
        [IdentityEvent::Removed {
            id,
            labels: web.clone()
        }]
    );
    // The label set gets a fresh identity now.
    assert!(alloc.allocate(&web, &u, secs(2000)).unwrap().is_new);
}

#[test]
fn exhaustion_is_a_typed_error_and_shows_in_the_pressure() {
    let config = AllocatorConfig::new(0)
        .unwrap()
        .restrict_global(NumericIdentity(256)..=NumericIdentity(258))
        .unwrap()
        .with_gc_grace(T0);
    let mut alloc = Allocator::new(config);
    let u = user("ep");
    let ids: BTreeSet<_> = (0..3)
        .map(|i| alloc.allocate(&app(i), &u, T0).unwrap().id)
        .collect();
    assert_eq!(ids.len(), 3);
    let err = alloc.allocate(&app(3), &u, T0).unwrap_err();
    assert_eq!(
        err,
        AllocatorError::Exhausted {
            scope: IdentityScope::Global,
            first: NumericIdentity(256),
            last: NumericIdentity(258),
            total: 3
        }
    );
    assert_eq!(
        err.to_string(),
        "identity range 256..=258 (Global scope) is exhausted: all 3 identities are in use"
    );
    // Existing label sets still get their identity; reserved and local ones are unaffected.
    assert!(alloc.allocate(&app(0), &u, T0).is_ok());
    assert!(alloc.allocate(&set(&["fqdn:x.io"]), &u, T0).is_ok());
    let p = alloc.pressure()[0];
    assert_eq!((p.used, p.total, p.exhausted), (3, 3, 1));
    assert_eq!(p.ratio(), 1.0);
    // Releasing and collecting one makes room.
    let freed = alloc.lookup(&app(1)).unwrap();
    alloc.release(freed, &u, T0).unwrap();
    alloc.gc(T0);
    assert_eq!(alloc.allocate(&app(3), &u, T0).unwrap().id, freed);

    let local = AllocatorConfig::new(0)
        .unwrap()
        .restrict_local(NumericIdentity(0x0100_0001)..=NumericIdentity(0x0100_0001))
        .unwrap();
    let mut alloc = Allocator::new(local);
    alloc.allocate(&set(&["cidr:1.1.1.1/32"]), &u, T0).unwrap();
    assert!(matches!(
        alloc.allocate(&set(&["cidr:1.1.1.2/32"]), &u, T0),
        Err(AllocatorError::Exhausted {
            scope: IdentityScope::Local,
            total: 1,
            ..
        })
    ));
    assert_eq!(alloc.pressure()[1].exhausted, 1);
}

#[test]
fn bad_label_sets_are_refused_with_what_was_wrong() {
    let mut alloc = Allocator::new(AllocatorConfig::new(0).unwrap());
    let u = user("ep");
    assert_eq!(
        alloc.allocate(&LabelSet::new(), &u, T0),
        Err(AllocatorError::EmptyLabels)
    );
    let err = alloc
        .allocate(&set(&["reserved:health", "k8s:app=x"]), &u, T0)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "label set \"k8s:app=x,reserved:health\" mixes reserved label \"reserved:health\" with \
         other labels; only reserved:host takes extra labels, and reserved labels otherwise only \
         accompany cidr:/fqdn: labels"
    );
    assert!(alloc.identities().is_empty(), "nothing allocated on error");
}

#[test]
fn same_seed_same_choices() {
    let run = |seed| {
        let mut alloc = Allocator::new(AllocatorConfig::new(0).unwrap().with_seed(seed));
        (0..50)
            .map(|i| alloc.allocate(&app(i), &user("ep"), T0).unwrap().id)
            .collect::<Vec<_>>()
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}

/// Random operations against a simple model: the allocator's identities, references and
/// pressure always match.
#[test]
fn random_operations_keep_the_books_straight() {
    let config = AllocatorConfig::new(0)
        .unwrap()
        .restrict_global(NumericIdentity(256)..=NumericIdentity(300))
        .unwrap()
        .with_gc_grace(secs(5));
    let mut alloc = Allocator::new(config);
    let users: Vec<UserId> = (0..4).map(|i| user(&format!("u{i}"))).collect();
    // model: label index -> (user -> refs)
    let mut model: BTreeMap<usize, BTreeMap<usize, u32>> = BTreeMap::new();
    let mut x: u64 = 0x1234_5678;
    let mut rand = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n) as usize
    };
    for step in 0..5000u64 {
        let now = secs(step);
        let (label, u) = (rand(60), rand(4));
        match rand(10) {
            0..=5 => match alloc.allocate(&app(label), &users[u], now) {
                Ok(_) => *model.entry(label).or_default().entry(u).or_default() += 1,
                Err(AllocatorError::Exhausted { .. }) => {
                    assert!(alloc.lookup(&app(label)).is_none());
                    assert_eq!(alloc.pressure()[0].used, 45);
                }
                Err(e) => panic!("{e}"),
            },
            6..=8 => {
                let held = model
                    .get(&label)
                    .and_then(|m| m.get(&u))
                    .copied()
                    .unwrap_or(0);
                match alloc.lookup(&app(label)) {
                    Some(id) => {
                        let r = alloc.release(id, &users[u], now);
                        if held > 0 {
                            r.unwrap();
                            *model.get_mut(&label).unwrap().get_mut(&u).unwrap() -= 1;
                        } else {
                            assert!(matches!(r, Err(AllocatorError::NotHeld { .. })));
                        }
                    }
                    None => assert_eq!(held, 0),
                }
            }
            _ => {
                for c in alloc.gc(now) {
                    let idx: usize = c.labels.get("app").unwrap().value()[1..].parse().unwrap();
                    let total: u32 = model.get(&idx).map_or(0, |m| m.values().sum());
                    assert_eq!(total, 0, "collected {idx} while referenced");
                }
            }
        }
        for (label, refs) in &model {
            let total: u32 = refs.values().sum();
            if let Some(id) = alloc.lookup(&app(*label)) {
                assert_eq!(alloc.refs(id), u64::from(total));
            } else {
                assert_eq!(total, 0);
            }
        }
        assert_eq!(alloc.pressure()[0].used as usize, alloc.identities().len());
    }
}

#[test]
fn store_core_asks_the_backend_for_global_identities() {
    let mut core = AllocatorCore::with_store(AllocatorConfig::new(0).unwrap().with_gc_grace(T0));
    core.drain_events();
    let u = user("ep");
    let web = set(&["k8s:app=web"]);
    // Local identities need no store.
    assert!(matches!(
        core.acquire(&set(&["fqdn:a.io"]), &u),
        Ok(Acquire::Done(_))
    ));
    let Acquire::NeedsGlobal(req) = core.acquire(&web, &u).unwrap() else {
        panic!("global identities come from the store")
    };
    assert_eq!((req.key.as_str(), req.known), ("k8s:app=web;", None));
    let candidate = core.candidate().unwrap();
    // Someone else holds the candidate: it stays marked until the store deletes it.
    core.abandon_candidate(candidate, true);
    assert_ne!(core.candidate().unwrap(), candidate);
    // The store grants 300 (created by this node, reference revision 7).
    let a = core
        .commit_global(NumericIdentity(300), &web, &u, 7, true)
        .unwrap();
    assert_eq!((a.id, a.is_new), (NumericIdentity(300), true));
    assert!(
        matches!(core.acquire(&web, &u), Ok(Acquire::Done(_))),
        "held: no store trip"
    );
    // Released and collected: the backend gets its reference token back, the identity stays
    // known (other nodes may use it) until the store deletes it.
    core.release(NumericIdentity(300), &u, T0).unwrap();
    core.release(NumericIdentity(300), &u, T0).unwrap();
    let c = core.gc(T0);
    assert_eq!((c[0].id, c[0].store_ref), (NumericIdentity(300), Some(7)));
    assert_eq!(core.lookup(&web), Some(NumericIdentity(300)));
    let Acquire::NeedsGlobal(req) = core.acquire(&web, &u).unwrap() else {
        panic!("the reference must be secured again")
    };
    assert_eq!(req.known, Some(NumericIdentity(300)));
    assert!(core.forget(NumericIdentity(300)));
    assert_eq!(core.lookup(&web), None);
    // Other nodes' identities arrive through observe; foreign ranges are refused.
    assert_eq!(core.observe(NumericIdentity(400), &app(4)), Ok(true));
    assert_eq!(core.observe(NumericIdentity(400), &app(4)), Ok(false));
    assert_eq!(
        core.observe(NumericIdentity(70000), &app(5)),
        Err(AllocatorError::OutOfRange {
            id: NumericIdentity(70000),
            first: NumericIdentity(256),
            last: NumericIdentity(65535)
        })
    );
    // Two identities for one label set (a race a store without claims allows): the lowest
    // wins, and when it goes the other takes over.
    core.observe(NumericIdentity(500), &app(9)).unwrap();
    core.observe(NumericIdentity(450), &app(9)).unwrap();
    assert_eq!(core.lookup(&app(9)), Some(NumericIdentity(450)));
    core.forget(NumericIdentity(450));
    assert_eq!(core.lookup(&app(9)), Some(NumericIdentity(500)));
    let events = core.drain_events();
    assert!(events.contains(&IdentityEvent::Removed {
        id: NumericIdentity(300),
        labels: web
    }));
}

use std::collections::BTreeMap;
use std::net::IpAddr;

use cilium_core::Protocol;

use super::*;
use crate::maglev::MaglevConfig;
use crate::model::{
    Algorithm, Backend, BackendState, Scope, Service, ServiceError, ServiceId, ServiceType,
    TrafficPolicy,
};

fn backend(i: u8) -> Backend {
    Backend::new(IpAddr::from([10, 0, 0, i]), 8080, Protocol::Tcp)
}

fn key(i: u8) -> BackendKey {
    BackendKey {
        addr: IpAddr::from([10, 0, 0, i]),
        port: 8080,
        protocol: Protocol::Tcp,
    }
}

fn service(name: &str, vip: u8, backends: &[u8]) -> Service {
    let mut s = Service::new("default", name, ServiceType::ClusterIp);
    s.algorithm = Algorithm::Maglev;
    s.frontends.push(Frontend::new(
        IpAddr::from([10, 96, 0, vip]),
        80,
        Protocol::Tcp,
    ));
    s.backends = backends.iter().map(|&i| backend(i)).collect();
    s
}

fn empty() -> LbState {
    LbState::new(MaglevConfig::new(251, None).unwrap())
}

fn phases(ops: &[LbOp]) -> Vec<u8> {
    ops.iter().map(LbOp::phase).collect()
}

/// A model of the datapath maps that checks, after every operation, that nothing dangles.
#[derive(Default)]
struct Maps {
    backends: BTreeMap<BackendId, BackendEntry>,
    tables: BTreeMap<TableKey, Vec<u32>>,
    frontends: BTreeMap<Frontend, FrontendEntry>,
}

impl Maps {
    fn apply(&mut self, ops: &[LbOp]) {
        for op in ops {
            match op {
                LbOp::UpsertBackend { id, backend } => {
                    self.backends.insert(*id, *backend);
                }
                LbOp::UpsertMaglevTable { table, entries } => {
                    self.tables.insert(table.clone(), entries.clone());
                }
                LbOp::UpsertFrontend { frontend, entry } => {
                    self.frontends.insert(*frontend, (**entry).clone());
                }
                LbOp::DeleteFrontend { frontend } => {
                    assert!(self.frontends.remove(frontend).is_some(), "{op:?}");
                }
                LbOp::DeleteMaglevTable { table } => {
                    assert!(self.tables.remove(table).is_some(), "{op:?}");
                }
                LbOp::DeleteBackend { id } => {
                    assert!(self.backends.remove(id).is_some(), "{op:?}");
                }
            }
            self.check_consistent(op);
        }
    }

    fn check_consistent(&self, after: &LbOp) {
        for entries in self.tables.values() {
            for id in entries {
                let id = BackendId::new(*id).unwrap();
                assert!(
                    self.backends.contains_key(&id),
                    "table id {id} dangles after {after:?}"
                );
            }
        }
        for entry in self.frontends.values() {
            for id in &entry.backends {
                assert!(
                    self.backends.contains_key(id),
                    "slot id {id} dangles after {after:?}"
                );
            }
            if let Some(table) = &entry.table {
                assert!(
                    self.tables.contains_key(table),
                    "table dangles after {after:?}"
                );
            }
        }
    }

    fn matches(&self, state: &LbState) -> bool {
        &self.backends == state.backends()
            && &self.tables == state.tables()
            && &self.frontends == state.frontends()
    }
}

#[test]
fn first_sync_upserts_backends_then_table_then_frontend() {
    let old = empty();
    let new = old.update([service("web", 1, &[1, 2, 3])]).unwrap();
    let ops = diff(&old, &new);
    assert_eq!(phases(&ops), [1, 1, 1, 2, 3]);
    let ids: Vec<u32> = ops
        .iter()
        .filter_map(|op| match op {
            LbOp::UpsertBackend { id, .. } => Some(id.get()),
            _ => None,
        })
        .collect();
    assert_eq!(ids, [1, 2, 3]);
    assert!(diff(&new, &new).is_empty());
    let mut maps = Maps::default();
    maps.apply(&ops);
    assert!(maps.matches(&new));
}

#[test]
fn replaced_backend_is_added_first_and_deleted_last_without_id_reuse() {
    let s0 = empty().update([service("web", 1, &[1, 2, 3])]).unwrap();
    let s1 = s0.update([service("web", 1, &[1, 2, 4])]).unwrap();
    assert_eq!(s1.backend_id(&key(4)).map(BackendId::get), Some(4));
    let ops = diff(&s0, &s1);
    assert_eq!(phases(&ops), [1, 2, 3, 6]);
    assert_eq!(
        ops[0],
        LbOp::UpsertBackend {
            id: BackendId::new(4).unwrap(),
            backend: BackendEntry {
                key: key(4),
                state: BackendState::Active
            }
        }
    );
    assert_eq!(
        ops[3],
        LbOp::DeleteBackend {
            id: BackendId::new(3).unwrap()
        }
    );
    // The freed id 3 is not handed out again at the next update either: the counter moved on.
    let s2 = s1.update([service("web", 1, &[1, 2, 4, 5])]).unwrap();
    assert_eq!(s2.backend_id(&key(5)).map(BackendId::get), Some(5));
}

#[test]
fn terminating_backend_is_kept_but_leaves_slots_and_table() {
    let s0 = empty().update([service("web", 1, &[1, 2, 3])]).unwrap();
    let mut svc = service("web", 1, &[1, 2, 3]);
    svc.backends[2].state = BackendState::Terminating;
    let s1 = s0.update([svc]).unwrap();
    let ops = diff(&s0, &s1);
    assert_eq!(phases(&ops), [1, 2, 3]);
    let id3 = s1.backend_id(&key(3)).unwrap();
    assert_eq!(
        ops[0],
        LbOp::UpsertBackend {
            id: id3,
            backend: BackendEntry {
                key: key(3),
                state: BackendState::Terminating
            }
        }
    );
    let LbOp::UpsertMaglevTable { entries, .. } = &ops[1] else {
        panic!("{:?}", ops[1]);
    };
    assert!(!entries.contains(&id3.get()));
    let LbOp::UpsertFrontend { entry, .. } = &ops[2] else {
        panic!("{:?}", ops[2]);
    };
    assert_eq!(entry.backends.len(), 2);
    assert!(!entry.backends.contains(&id3));
    assert!(s1.backends().contains_key(&id3));

    // Gone from the service: now it is deleted, and only that.
    let s2 = s1.update([service("web", 1, &[1, 2])]).unwrap();
    assert_eq!(diff(&s1, &s2), [LbOp::DeleteBackend { id: id3 }]);
}

#[test]
fn removing_a_service_deletes_frontend_then_table_then_backends() {
    let s0 = empty()
        .update([service("web", 1, &[1, 2]), service("api", 2, &[2, 3])])
        .unwrap();
    let s1 = s0
        .without_service(&ServiceId::new("default", "web"))
        .unwrap();
    let ops = diff(&s0, &s1);
    // Backend 2 is shared with "api" and stays.
    assert_eq!(phases(&ops), [4, 5, 6]);
    assert_eq!(
        ops[2],
        LbOp::DeleteBackend {
            id: s0.backend_id(&key(1)).unwrap()
        }
    );
    let mut maps = Maps::default();
    maps.apply(&diff(&empty(), &s0));
    maps.apply(&ops);
    assert!(maps.matches(&s1));
}

#[test]
fn switching_algorithm_orders_table_around_the_frontend() {
    let s0 = empty().update([service("web", 1, &[1, 2])]).unwrap();
    let mut random = service("web", 1, &[1, 2]);
    random.algorithm = Algorithm::Random;
    let s1 = s0.update([random]).unwrap();
    assert_eq!(phases(&diff(&s0, &s1)), [3, 5]);
    assert_eq!(phases(&diff(&s1, &s0)), [2, 3]);
}

#[test]
fn two_scopes_get_two_tables() {
    let mut svc = service("web", 1, &[1, 2, 3]);
    svc.service_type = ServiceType::NodePort;
    svc.ext_traffic_policy = TrafficPolicy::Local;
    svc.backends[0].node_local = true;
    let s = empty().update([svc]).unwrap();
    assert_eq!(s.tables().len(), 2);
    let ext = &s.tables()[&TableKey {
        service: ServiceId::new("default", "web"),
        scope: Scope::External,
    }];
    let local_id = s.backend_id(&key(1)).unwrap().get();
    assert!(ext.iter().all(|&id| id == local_id));
    assert_eq!(s.frontends().len(), 2);
    let internal: Vec<_> = s
        .frontends()
        .iter()
        .filter(|(f, _)| f.scope == Scope::Internal)
        .collect();
    assert_eq!(internal.len(), 1);
    assert_eq!(internal[0].1.backends.len(), 3);
    assert!(internal[0].1.two_scopes);
}

#[test]
fn service_without_selectable_backends_has_no_table() {
    let mut svc = service("web", 1, &[1]);
    svc.backends[0].state = BackendState::Quarantined;
    let s = empty().update([svc]).unwrap();
    assert!(s.tables().is_empty());
    let entry = s.frontends().values().next().unwrap();
    assert!(entry.backends.is_empty());
    assert_eq!(entry.table, None);
    assert_eq!(s.backends().len(), 1);
}

#[test]
fn inconsistent_sets_are_refused() {
    let e = empty();
    let mut bad = service("web", 1, &[1]);
    bad.backends[0].port = 0;
    assert_eq!(
        e.update([bad]),
        Err(LbStateError::Service {
            service: ServiceId::new("default", "web"),
            error: ServiceError::ZeroPort {
                field: "backends[0].port".into()
            }
        })
    );
    assert_eq!(
        e.update([service("web", 1, &[1]), service("web", 2, &[2])])
            .unwrap_err()
            .to_string(),
        "service default/web: given twice"
    );
    assert_eq!(
        e.update([service("web", 1, &[1]), service("api", 1, &[2])])
            .unwrap_err()
            .to_string(),
        "service default/web: frontend 10.96.0.1:80/TCP already belongs to service default/api"
    );
    let mut draining = service("api", 2, &[1]);
    draining.backends[0].state = BackendState::Terminating;
    assert_eq!(
        e.update([service("web", 1, &[1]), draining])
            .unwrap_err()
            .to_string(),
        "service default/web: backend 10.0.0.1:8080/TCP is active here but terminating in service default/api"
    );
}

/// xorshift64*, fixed seed: random updates, applied op by op, never leave a dangling id and
/// always end in the new state.
#[test]
fn random_updates_stay_consistent() {
    let mut rand = xorshift(0x2545_f491_4f6c_dd1d);
    let mut state = empty();
    let mut maps = Maps::default();
    for round in 0..200u32 {
        let services: Vec<Service> = (0..4)
            .filter_map(|which| random_service(&mut rand, which, round))
            .collect();
        let next = state.update(services).unwrap();
        let ops = diff(&state, &next);
        let mut sorted = phases(&ops);
        sorted.sort_unstable();
        assert_eq!(phases(&ops), sorted);
        maps.apply(&ops);
        assert!(maps.matches(&next));
        state = next;
    }
}

/// xorshift64* from `seed`: `rand(n)` is a number in `0..n`.
fn xorshift(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut x = seed;
    move |n| {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// One random service of the set `a`..`d` (or `None`: it goes), as the random tests make them.
fn random_service(rand: &mut dyn FnMut(u64) -> u64, which: usize, round: u32) -> Option<Service> {
    let name = ["a", "b", "c", "d"][which];
    if rand(4) == 0 {
        return None;
    }
    let backends: Vec<u8> = (1..=12u8).filter(|_| rand(2) == 0).collect();
    let mut svc = service(name, which as u8 + 1, &backends);
    if rand(2) == 0 {
        svc.algorithm = Algorithm::Random;
    }
    if rand(3) == 0 {
        svc.service_type = ServiceType::NodePort;
        svc.ext_traffic_policy = TrafficPolicy::Local;
    }
    for b in &mut svc.backends {
        // States come from the endpoint, so they agree across services.
        let i = match b.addr {
            IpAddr::V4(a) => a.octets()[3],
            IpAddr::V6(_) => unreachable!(),
        };
        b.node_local = i % 3 == 0;
        b.weight = u16::from(i % 4 + 1);
        if (u32::from(i) + round).is_multiple_of(5) {
            b.state = BackendState::Terminating;
        }
    }
    Some(svc)
}

/// In-place upserts and removals give exactly the operations and the state that a whole-set
/// update and `diff` give, step after step (ids, tables, frontends, reference counts).
#[test]
fn in_place_changes_match_whole_set_diff() {
    let mut rand = xorshift(0x9e37_79b9_7f4a_7c15);
    let mut in_place = empty();
    let mut maps = Maps::default();
    let mut checked = [0usize; 2];
    for round in 0..600u32 {
        let which = rand(4) as usize;
        let before = in_place.clone();
        let ops = match random_service(&mut rand, which, round) {
            Some(svc) => {
                let whole = before.with_service(svc.clone());
                let ops = in_place.upsert_service(svc);
                match (whole, ops) {
                    (Ok(whole), Ok(ops)) => {
                        assert_eq!(in_place, whole, "round {round}");
                        assert_eq!(ops, diff(&before, &whole), "round {round}");
                        checked[0] += 1;
                        ops
                    }
                    (Err(a), Err(b)) => {
                        // With several conflicts each may name a different first one.
                        assert_eq!(
                            std::mem::discriminant(&a),
                            std::mem::discriminant(&b),
                            "round {round}: {a} / {b}"
                        );
                        assert_eq!(in_place, before, "a refused change changes nothing");
                        continue;
                    }
                    (a, b) => panic!("round {round}: whole-set {a:?} but in place {b:?}"),
                }
            }
            None => {
                let id = ServiceId::new("default", ["a", "b", "c", "d"][which]);
                let whole = before.without_service(&id).unwrap();
                let ops = in_place.remove_service(&id);
                assert_eq!(in_place, whole, "round {round}");
                assert_eq!(ops, diff(&before, &whole), "round {round}");
                checked[1] += 1;
                ops
            }
        };
        maps.apply(&ops);
        assert!(maps.matches(&in_place));
    }
    assert!(checked[0] > 100 && checked[1] > 50, "{checked:?}");
}

#[test]
fn in_place_conflicts_are_refused_and_change_nothing() {
    let mut s = empty();
    s.upsert_service(service("api", 1, &[1, 2])).unwrap();
    let before = s.clone();
    assert_eq!(
        s.upsert_service(service("web", 1, &[3]))
            .unwrap_err()
            .to_string(),
        "service default/web: frontend 10.96.0.1:80/TCP already belongs to service default/api"
    );
    let mut draining = service("web", 2, &[1]);
    draining.backends[0].state = BackendState::Terminating;
    assert_eq!(
        s.upsert_service(draining).unwrap_err().to_string(),
        "service default/web: backend 10.0.0.1:8080/TCP is terminating here but active in service default/api"
    );
    let mut bad = service("web", 2, &[1]);
    bad.backends[0].port = 0;
    assert!(matches!(
        s.upsert_service(bad),
        Err(LbStateError::Service { .. })
    ));
    assert_eq!(s, before);
    // The service itself may change the state of a backend only it lists.
    let mut api = service("api", 1, &[1, 2]);
    api.backends[1].state = BackendState::Terminating;
    let ops = s.upsert_service(api).unwrap();
    assert_eq!(phases(&ops), [1, 2, 3]);
}

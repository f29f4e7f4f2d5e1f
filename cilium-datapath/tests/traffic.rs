//! Real traffic through the endpoint programs: two "pods" in network namespaces behind a
//! "node" namespace that routes between them, the programs attached with TC (TCX on this
//! kernel) to the node-side veths, TCP connections allowed or dropped by policy.
//!
//! Privileged: with `CILIUM_PRIVILEGED_TESTS=1` a missing capability is a failure. Every
//! namespace the test creates is deleted when it ends (which removes the veths and the
//! attachments); the pins are removed too. No traffic leaves the test's namespaces.

mod support;

use std::time::Duration;

use cilium_datapath::{Datapath, DatapathConfig};
use cilium_maps::abi::{consts::*, *};
use cilium_maps::events::Event;
use support::*;

#[test]
fn policy_decides_real_tcp_connections_between_namespaces() {
    let Some(topo) = or_skip(
        "the test topology cannot be built",
        build("traffic", &["a", "b"]),
    ) else {
        return;
    };
    let (pod_a, pod_b) = (&topo.pods[0], &topo.pods[1]);
    let mut dp = Datapath::load(&DatapathConfig::new(&topo.pin_dir)).expect("load datapath");
    let mut events = dp.take_events().unwrap();
    // Endpoints and their policies: A may reach B on TCP 8080 only; B accepts A on 8080 only.
    let ready = CIL_ENDPOINT_F_POLICY_READY
        | CIL_ENDPOINT_F_ENFORCE_INGRESS
        | CIL_ENDPOINT_F_ENFORCE_EGRESS;
    let (id_a, id_b) = (1000u32, 2000u32);
    for (pod, ep_id, identity) in [(pod_a, 1u16, id_a), (pod_b, 2u16, id_b)] {
        add_endpoint(&dp, pod, ep_id, identity, ready);
    }
    dp.endpoint_policy(1)
        .unwrap()
        .insert(
            &PolicyKey::new(id_b, CIL_DIR_EGRESS, 6, 8080, 16),
            &PolicyEntry::allow(0),
        )
        .unwrap();
    let mut policy_b = dp.endpoint_policy(2).unwrap();
    policy_b
        .insert(
            &PolicyKey::new(id_a, CIL_DIR_INGRESS, 6, 8080, 16),
            &PolicyEntry::allow(0),
        )
        .unwrap();
    // B may send to A on 8080 (so that A's own ingress policy is what stops it).
    policy_b
        .insert(
            &PolicyKey::new(id_a, CIL_DIR_EGRESS, 6, 8080, 16),
            &PolicyEntry::allow(0),
        )
        .unwrap();
    // B is also allowed to be reached on 9090 at B, but A's egress does not allow it.
    policy_b
        .insert(
            &PolicyKey::new(id_a, CIL_DIR_INGRESS, 6, 9090, 16),
            &PolicyEntry::allow(0),
        )
        .unwrap();

    // Attach in the node namespace (TCX links, pinned under the instance directory).
    in_netns(&topo.node, || {
        for pod in [pod_a, pod_b] {
            dp.attach_endpoint(pod.ifindex)
                .expect("attach endpoint programs");
        }
    });
    assert_eq!(dp.links().unwrap().len(), 4, "{:?}", dp.links());

    name_servers(pod_b, 8080);
    name_servers(pod_b, 9090);
    name_servers(pod_a, 8080);
    let ask = |from: &Pod, to: &Pod, port| {
        in_netns(&from.ns, || {
            tcp_ask(to.sock(port), Duration::from_millis(700))
        })
        .map(|(name, _)| name)
    };

    while events.next().is_some() {}
    assert_eq!(
        ask(pod_a, pod_b, 8080),
        Ok("b".to_owned()),
        "A -> B:8080 is allowed both ways"
    );
    // A's egress policy does not allow 9090, although B would accept it.
    assert!(
        ask(pod_a, pod_b, 9090).is_err(),
        "A -> B:9090 must be dropped by A's egress policy"
    );
    // B may not open connections to A: B's egress allows it, A has no ingress allow.
    assert!(
        ask(pod_b, pod_a, 8080).is_err(),
        "B -> A:8080 must be dropped by A's ingress policy"
    );

    let mut seen = Vec::new();
    while let Some(item) = events.next() {
        seen.push(Event::parse(&item).unwrap());
    }
    let verdict = |ep: u16, dir: u8, dport: u16| {
        seen.iter().find_map(|e| match e {
            Event::PolicyVerdict(v)
                if v.hdr.endpoint_id == ep
                    && v.direction == dir
                    && v.tuple.dport.get() == dport =>
            {
                Some(*v)
            }
            _ => None,
        })
    };
    let allowed = verdict(1, CIL_DIR_EGRESS, 8080).expect("verdict for A's egress to 8080");
    assert_eq!(
        (allowed.flags, allowed.match_type, allowed.remote_identity),
        (0, CIL_POLICY_MATCH_L3_L4, id_b)
    );
    let ingress_b = verdict(2, CIL_DIR_INGRESS, 8080).expect("verdict for B's ingress on 8080");
    assert_eq!((ingress_b.flags, ingress_b.remote_identity), (0, id_a));
    let denied = verdict(1, CIL_DIR_EGRESS, 9090).expect("verdict for A's egress to 9090");
    assert_eq!(
        (denied.flags, denied.drop_reason),
        (CIL_VERDICT_F_DENY, CIL_DROP_POLICY)
    );
    let denied_in = verdict(1, CIL_DIR_INGRESS, 8080).expect("verdict for A's ingress on 8080");
    assert_eq!(
        (denied_in.drop_reason, denied_in.remote_identity),
        (CIL_DROP_POLICY, id_b)
    );
    assert!(
        seen.iter()
            .any(|e| matches!(e, Event::Drop(d) if d.hdr.subtype == CIL_DROP_POLICY))
    );

    // The allowed connection left conntrack entries with traffic in both directions.
    let ct = dp.conntrack().unwrap();
    let flows: Vec<_> = ct
        .entries()
        .unwrap()
        .into_iter()
        .filter(|(k, _)| k.dport.get() == 8080)
        .collect();
    assert!(
        flows
            .iter()
            .any(|(k, e)| k.flags == CIL_CT_F_EGRESS && e.tx_packets > 0 && e.rx_packets > 0),
        "{flows:?}"
    );
    drop(dp);
    drop(topo);
}

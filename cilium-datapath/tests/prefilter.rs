//! The XDP prefilter on a node interface, with real traffic: a source in the deny list cannot
//! reach a server behind the node, other sources can, and the drops are counted on the CIDR.
//!
//! Privileged: with `CILIUM_PRIVILEGED_TESTS=1` a missing capability is a failure.

mod support;

use std::time::Duration;

use cilium_datapath::{Datapath, DatapathConfig};
use cilium_maps::abi::{IpCacheKey, PrefilterValue};
use support::*;

#[test]
fn xdp_prefilter_drops_a_listed_source_and_passes_others() {
    let Some(topo) = or_skip(
        "the test topology cannot be built",
        build("xdp", &["a", "b", "server"]),
    ) else {
        return;
    };
    let (a, b, server) = (&topo.pods[0], &topo.pods[1], &topo.pods[2]);
    name_servers(server, 8080);
    let dp = Datapath::load(&DatapathConfig::new(&topo.pin_dir)).expect("load datapath");
    in_netns(&topo.node, || {
        for pod in [a, b] {
            dp.attach_prefilter(pod.ifindex).expect("attach XDP");
        }
    });
    let target = server.sock(8080);
    let ask = |pod: &Pod| in_netns(&pod.ns, || tcp_ask(target, Duration::from_millis(600)));
    assert_eq!(ask(a).map(|r| r.0), Ok("server".into()), "no deny list yet");

    let key = IpCacheKey::new(a.addr.parse().unwrap(), 32, 0);
    let mut list = dp.prefilter().unwrap();
    list.insert(&key, &PrefilterValue { drops: 0 }).unwrap();
    assert!(ask(a).is_err(), "a listed source is dropped");
    assert_eq!(ask(b).map(|r| r.0), Ok("server".into()), "others pass");
    assert!(list.get(&key).unwrap().unwrap().drops >= 1, "drops counted");

    list.remove(&key).unwrap();
    assert_eq!(ask(a).map(|r| r.0), Ok("server".into()), "unlisted again");
    assert_eq!(dp.detach_prefilter(a.ifindex).unwrap(), 1);
    dp.teardown().unwrap();
    drop(topo);
}

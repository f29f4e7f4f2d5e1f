//! Restart without a gap: under a long-lived TCP connection and a stream of new connects, the
//! loader process is killed and a new one started on the same pins. The long-lived connection
//! survives, no allowed connect fails and no denied connect succeeds at any moment: the pinned
//! links keep the old programs attached while no loader runs, and the new loader switches them
//! to its programs atomically.
//!
//! Privileged: with `CILIUM_PRIVILEGED_TESTS=1` a missing capability is a failure.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use cilium_datapath::{Datapath, DatapathConfig};
use cilium_maps::abi::{consts::*, *};
use support::*;

/// Not a test: the loader child process of `a_restarted_loader_neither_drops_nor_leaks`.
#[test]
#[ignore = "entry point of the loader child process the restart test spawns"]
fn loader_child_entry() {
    child_main();
}

#[test]
fn a_restarted_loader_neither_drops_nor_leaks() {
    let Some(topo) = or_skip(
        "the test topology cannot be built",
        build("restart", &["a", "b"]),
    ) else {
        return;
    };
    let (a, b) = (topo.pods[0].clone(), topo.pods[1].clone());
    name_servers(&b, 8080);
    name_servers(&b, 9090);

    // State first (endpoints, policies), by a Datapath of this process that attaches nothing.
    {
        let dp = Datapath::load(&DatapathConfig::new(&topo.pin_dir)).expect("load datapath");
        let ready = CIL_ENDPOINT_F_POLICY_READY
            | CIL_ENDPOINT_F_ENFORCE_INGRESS
            | CIL_ENDPOINT_F_ENFORCE_EGRESS;
        for (pod, id, identity) in [(&a, 1u16, 1000u32), (&b, 2, 2000)] {
            add_endpoint(&dp, pod, id, identity, ready);
        }
        dp.endpoint_policy(1)
            .unwrap()
            .insert(
                &PolicyKey::new(2000, CIL_DIR_EGRESS, 6, 8080, 16),
                &PolicyEntry::allow(0),
            )
            .unwrap();
        dp.endpoint_policy(1)
            .unwrap()
            .insert(
                &PolicyKey::new(2000, CIL_DIR_EGRESS, 6, 9090, 16),
                &PolicyEntry::allow(0),
            )
            .unwrap();
        dp.endpoint_policy(2)
            .unwrap()
            .insert(
                &PolicyKey::new(1000, CIL_DIR_INGRESS, 6, 8080, 16),
                &PolicyEntry::allow(0),
            )
            .unwrap();
        assert!(dp.links().unwrap().is_empty());
    }
    let ifindexes = format!("{},{}", a.ifindex, b.ifindex);
    let load = format!("load {} {ifindexes}", topo.pin_dir.display());

    let mut first = Client::spawn("loader_child_entry", &topo.node, None);
    assert_eq!(first.ask(&load), ["ok", "0"], "first loader attaches");

    let (allowed, denied) = (b.sock(8080), b.sock(9090));
    let mut long_lived = in_netns(&a.ns, || {
        TcpStream::connect_timeout(&allowed, Duration::from_secs(1)).expect("long-lived connect")
    });
    long_lived
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut long_reader = BufReader::new(long_lived.try_clone().unwrap());
    let mut ask = |s: &mut TcpStream| -> String {
        s.write_all(b"who\n").unwrap();
        let mut line = String::new();
        long_reader.read_line(&mut line).unwrap();
        line.trim().to_owned()
    };
    assert_eq!(ask(&mut long_lived), "b");

    // New connects all along: every allowed one must work, every denied one must fail.
    let stop = Arc::new(AtomicBool::new(false));
    let prober = {
        let stop = stop.clone();
        let ns = a.ns.clone();
        std::thread::spawn(move || {
            in_netns(&ns, || {
                let (mut ok, mut failed, mut leaked) = (0u32, Vec::new(), 0u32);
                while !stop.load(Ordering::Relaxed) {
                    match tcp_ask(allowed, Duration::from_millis(900)) {
                        Ok(_) => ok += 1,
                        Err(e) => failed.push(e),
                    }
                    if TcpStream::connect_timeout(&denied, Duration::from_millis(30)).is_ok() {
                        leaked += 1;
                    }
                }
                (ok, failed, leaked)
            })
        })
    };
    std::thread::sleep(Duration::from_millis(400));
    drop(first); // SIGKILL: no cleanup runs in the loader
    std::thread::sleep(Duration::from_millis(400));
    let mut second = Client::spawn("loader_child_entry", &topo.node, None);
    assert_eq!(
        second.ask(&load),
        ["ok", "4"],
        "the new loader switched all four links"
    );
    std::thread::sleep(Duration::from_millis(400));
    stop.store(true, Ordering::Relaxed);
    let (ok, failed, leaked) = prober.join().unwrap();
    assert!(ok > 10, "allowed connects during the restart: {ok}");
    assert!(failed.is_empty(), "allowed connects failed: {failed:?}");
    assert_eq!(leaked, 0, "denied connects succeeded");
    assert_eq!(
        ask(&mut long_lived),
        "b",
        "the long-lived connection survived"
    );
    drop(second);

    // Teardown by a last instance removes the links and pins.
    let dp = Datapath::load(&DatapathConfig::new(&topo.pin_dir)).unwrap();
    assert_eq!(dp.replaced_links(), 4);
    dp.teardown().unwrap();
    assert!(!topo.pin_dir.exists());
    drop(topo);
}

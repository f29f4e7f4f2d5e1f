//! Our side of the load-balancing benchmarks: the services as an [`LbState`], applied with
//! [`LbSync`] to a freshly loaded [`Datapath`] whose socket LB can be attached to a cgroup.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use cilium_datapath::{Datapath, DatapathConfig, LbSync, LbSyncStats};
use cilium_lb::diff::LbState;
use cilium_lb::model::{Service, ServiceId};

use crate::services::BenchService;
use crate::sys::{ScratchDir, pin_to_cpu, unique_name};

/// The state of `services`, built from the empty state (as an agent starting up would).
pub fn state(services: &[BenchService]) -> Result<LbState> {
    LbState::default()
        .update(services.iter().map(BenchService::to_model))
        .context("building the load-balancing state")
}

/// Entries of the service, backend and reverse-NAT maps in the benchmarks.
pub const LB_MAP_MAX: u32 = 262_144;

/// A datapath loaded for one benchmark run, with its pins under
/// `/sys/fs/bpf/cilrs-bench-<pid>-<tag>` and a thread draining its events (on `drain_cpu`);
/// torn down on drop (links removed, which detaches the programs; pins removed).
#[derive(Debug)]
pub struct OursLb {
    lb: Option<LbSync>,
    dp: Option<Datapath>,
    stop: Arc<AtomicBool>,
    drainer: Option<JoinHandle<()>>,
    _pins: ScratchDir,
}

impl OursLb {
    /// Loads the datapath; its service maps start empty.
    pub fn load(tag: &str, drain_cpu: usize) -> Result<Self> {
        let pins = ScratchDir::new(PathBuf::from(format!("/sys/fs/bpf/{}", unique_name(tag))));
        let mut config = DatapathConfig::new(pins.path());
        // Room for 30k services with several backend slots each (Cilium: --bpf-lb-map-max).
        config.lb_map_max = LB_MAP_MAX;
        let mut dp = Datapath::load(&config).context("loading the datapath")?;
        let lb = LbSync::new(&dp).context("opening the service maps")?;
        let stop = Arc::new(AtomicBool::new(false));
        let drainer = dp.take_events().map(|mut ring| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let _ = pin_to_cpu(drain_cpu);
                while !stop.load(Ordering::Relaxed) {
                    while ring.next().is_some() {}
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        });
        Ok(Self {
            lb: Some(lb),
            dp: Some(dp),
            stop,
            drainer,
            _pins: pins,
        })
    }

    /// Attaches the socket LB (and sock_ops) to the cgroup v2 directory `cgroup`.
    pub fn attach_cgroup(&mut self, cgroup: &Path) -> Result<()> {
        self.dp
            .as_ref()
            .expect("loaded")
            .attach_cgroup(cgroup)
            .with_context(|| format!("attaching the socket LB to {}", cgroup.display()))
    }

    /// Applies `state` (the diff from the previous one); returns the time it took and what
    /// it wrote.
    pub fn apply(&mut self, state: LbState) -> Result<(Duration, LbSyncStats)> {
        let lb = self.lb.as_mut().expect("loaded");
        let t0 = Instant::now();
        let stats = lb
            .apply(state)
            .context("applying the load-balancing state")?;
        Ok((t0.elapsed(), stats))
    }
}

impl OursLb {
    /// Adds or replaces one service in place; returns the time it took and what it wrote.
    pub fn upsert_service(&mut self, svc: Service) -> Result<(Duration, LbSyncStats)> {
        let lb = self.lb.as_mut().expect("loaded");
        let t0 = Instant::now();
        let stats = lb.upsert_service(svc).context("adding a service")?;
        Ok((t0.elapsed(), stats))
    }

    /// Removes one service in place; returns the time it took and what it wrote.
    pub fn remove_service(&mut self, id: &ServiceId) -> Result<(Duration, LbSyncStats)> {
        let lb = self.lb.as_mut().expect("loaded");
        let t0 = Instant::now();
        let stats = lb.remove_service(id).context("removing a service")?;
        Ok((t0.elapsed(), stats))
    }
}

impl Drop for OursLb {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.drainer.take() {
            let _ = t.join();
        }
        drop(self.lb.take());
        if let Some(dp) = self.dp.take()
            && let Err(e) = dp.teardown()
        {
            eprintln!("warning: datapath teardown: {e}");
        }
    }
}

//! Loading the endpoint programs and reaching their maps.

use std::path::{Path, PathBuf};

use aya::programs::SchedClassifier;
use aya::{Ebpf, EbpfLoader};
use cilium_maps::abi::consts;
use cilium_maps::{ConntrackMap, EndpointMap, IpCache, MapOfMaps, MetricsMap, PolicyMap};

use crate::error::DatapathError;

/// Run-time settings, written into the programs as load-time globals.
#[derive(Debug, Clone)]
pub struct DatapathConfig {
    /// The instance's bpffs directory; shared maps are pinned here by name.
    pub pin_dir: PathBuf,
    /// Established TCP timeout, seconds.
    pub ct_timeout_tcp: u32,
    /// TCP timeout before the handshake completes, seconds.
    pub ct_timeout_syn: u32,
    /// TCP timeout after FIN or RST, seconds.
    pub ct_timeout_fin: u32,
    /// Timeout of non-TCP flows, seconds.
    pub ct_timeout_any: u32,
    /// Emit a policy verdict event for every new flow.
    pub policy_verdicts: bool,
    /// Emit a trace event for every new flow.
    pub trace_new_flows: bool,
}

impl DatapathConfig {
    /// Cilium's defaults (TCP 8000 s, SYN 60 s, FIN 10 s, other 60 s), pinned under `pin_dir`.
    pub fn new(pin_dir: impl Into<PathBuf>) -> Self {
        Self {
            pin_dir: pin_dir.into(),
            ct_timeout_tcp: consts::CIL_CT_TIMEOUT_TCP_DEFAULT,
            ct_timeout_syn: consts::CIL_CT_TIMEOUT_SYN_DEFAULT,
            ct_timeout_fin: consts::CIL_CT_TIMEOUT_FIN_DEFAULT,
            ct_timeout_any: consts::CIL_CT_TIMEOUT_ANY_DEFAULT,
            policy_verdicts: true,
            trace_new_flows: false,
        }
    }
}

/// The programs of the endpoint object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program {
    /// TC ingress of the host-side veth: what the endpoint sends (its egress policy).
    FromEndpoint,
    /// TC egress of the host-side veth: what the endpoint receives (its ingress policy).
    ToEndpoint,
}

impl Program {
    /// The program's name in the object.
    pub const fn name(self) -> &'static str {
        match self {
            Self::FromEndpoint => "cil_from_endpoint",
            Self::ToEndpoint => "cil_to_endpoint",
        }
    }
}

fn convert_error(p: Program, e: aya::programs::ProgramError) -> DatapathError {
    DatapathError::Program {
        program: p.name(),
        action: "convert",
        source: Box::new(e),
    }
}

/// The loaded endpoint programs and their maps.
pub struct Datapath {
    ebpf: Ebpf,
    pin_dir: PathBuf,
}

impl std::fmt::Debug for Datapath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Datapath")
            .field("pin_dir", &self.pin_dir)
            .finish_non_exhaustive()
    }
}

impl Datapath {
    /// Loads the endpoint object: shared maps are created and pinned under `pin_dir`, or
    /// re-opened if a previous instance pinned them; both programs are verified and loaded.
    pub fn load(config: &DatapathConfig) -> Result<Self, DatapathError> {
        std::fs::create_dir_all(&config.pin_dir).map_err(|source| DatapathError::PinDir {
            path: config.pin_dir.display().to_string(),
            source,
        })?;
        let verdicts = u8::from(config.policy_verdicts);
        let trace = u8::from(config.trace_new_flows);
        let mut ebpf = EbpfLoader::new()
            .default_map_pin_directory(&config.pin_dir)
            .override_global("cil_ct_timeout_tcp", &config.ct_timeout_tcp, true)
            .override_global("cil_ct_timeout_syn", &config.ct_timeout_syn, true)
            .override_global("cil_ct_timeout_fin", &config.ct_timeout_fin, true)
            .override_global("cil_ct_timeout_any", &config.ct_timeout_any, true)
            .override_global("cil_policy_verdicts", &verdicts, true)
            .override_global("cil_trace_new_flows", &trace, true)
            .load(crate::LXC_OBJECT)
            .map_err(|e| DatapathError::Load {
                object: "bpf_lxc.o",
                source: Box::new(e),
            })?;
        for p in [Program::FromEndpoint, Program::ToEndpoint] {
            let prog: &mut SchedClassifier = ebpf
                .program_mut(p.name())
                .ok_or(DatapathError::NoSuchProgram { program: p.name() })?
                .try_into()
                .map_err(|e| convert_error(p, e))?;
            prog.load().map_err(|e| DatapathError::Program {
                program: p.name(),
                action: "load",
                source: Box::new(e),
            })?;
        }
        Ok(Self {
            ebpf,
            pin_dir: config.pin_dir.clone(),
        })
    }

    /// A loaded program (to attach it, or to run it with `BPF_PROG_TEST_RUN`).
    pub fn program(&self, p: Program) -> Result<&SchedClassifier, DatapathError> {
        self.ebpf
            .program(p.name())
            .ok_or(DatapathError::NoSuchProgram { program: p.name() })?
            .try_into()
            .map_err(|e| convert_error(p, e))
    }

    /// Mutable access to a loaded program (attach, detach).
    pub fn program_mut(&mut self, p: Program) -> Result<&mut SchedClassifier, DatapathError> {
        self.ebpf
            .program_mut(p.name())
            .ok_or(DatapathError::NoSuchProgram { program: p.name() })?
            .try_into()
            .map_err(|e| convert_error(p, e))
    }

    /// The instance's bpffs directory.
    pub fn pin_dir(&self) -> &Path {
        &self.pin_dir
    }

    fn pinned(&self, name: &str) -> PathBuf {
        self.pin_dir.join(name)
    }

    /// The local endpoint map.
    pub fn endpoints(&self) -> Result<EndpointMap, DatapathError> {
        Ok(EndpointMap::from_pin(self.pinned("cil_endpoints"))?)
    }

    /// The ipcache.
    pub fn ipcache(&self) -> Result<IpCache, DatapathError> {
        Ok(IpCache::from_pin(self.pinned("cil_ipcache"))?)
    }

    /// The conntrack map.
    pub fn conntrack(&self) -> Result<ConntrackMap, DatapathError> {
        Ok(ConntrackMap::from_pin(self.pinned("cil_ct"))?)
    }

    /// The per-CPU metrics map.
    pub fn metrics(&self) -> Result<MetricsMap, DatapathError> {
        Ok(MetricsMap::from_pin(self.pinned("cil_metrics"))?)
    }

    /// The map of per-endpoint policy maps.
    pub fn policy_maps(&self) -> Result<MapOfMaps, DatapathError> {
        Ok(MapOfMaps::from_pin(self.pinned("cil_policy_maps"))?)
    }

    /// The policy map of endpoint `endpoint_id`, pinned as `cil_policy_<id>` so it survives a
    /// restart: opened if it exists, else created, and installed in the map of policy maps.
    pub fn endpoint_policy(&self, endpoint_id: u16) -> Result<PolicyMap, DatapathError> {
        let name = format!("cil_policy_{endpoint_id:05}");
        let path = self.pinned(&name);
        let map = if path.exists() {
            PolicyMap::from_pin(&path)?
        } else {
            let map = PolicyMap::create(&name, 0)?;
            map.pin(&path)?;
            map
        };
        self.policy_maps()?
            .set(u32::from(endpoint_id), map.store())?;
        Ok(map)
    }

    /// The events ring buffer (aya's reader).
    pub fn take_events(&mut self) -> Option<aya::maps::RingBuf<aya::maps::MapData>> {
        self.ebpf
            .take_map("cil_events")
            .and_then(|m| m.try_into().ok())
    }
}

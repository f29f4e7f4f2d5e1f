//! Loading the programs, attaching them with pinned links, and reaching their maps.
//!
//! # Restart without a gap
//!
//! Every map the programs share is pinned by name under the instance's bpffs directory, and
//! every attachment is a BPF link pinned under `links/` beside them. A pinned link keeps its
//! program attached after the process that made it exits. [`Datapath::load`] re-opens the
//! pinned maps (so conntrack, policy and services survive) and then points every pinned link
//! at the freshly loaded program with `BPF_LINK_UPDATE`: one atomic switch per attachment, no
//! moment without a program, no flushed state.

use std::collections::BTreeMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aya::programs::{SchedClassifier, Xdp};
use aya::{Ebpf, EbpfLoader};
use cilium_maps::abi::consts;
use cilium_maps::{
    AffinityMap, BackendMap, ConntrackMap, EndpointMap, IpCache, MaglevMap, MapOfMaps, MetricsMap,
    PolicyMap, PrefilterMap, RevNatMap, ServiceMap, SockRevNatMap,
};

use crate::error::DatapathError;
use crate::link::{self, AttachType};

/// Run-time settings, written into the programs as load-time globals.
#[derive(Debug, Clone)]
pub struct DatapathConfig {
    /// The instance's bpffs directory; shared maps are pinned here by name, links under
    /// `links/`.
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
    /// Emit a trace event for every new flow (and for packets with TCP flags new to their
    /// flow and direction).
    pub trace_new_flows: bool,
    /// Entries of every Maglev table: one of Cilium's primes (default 16381).
    pub maglev_table_size: u32,
    /// At most one drop event per flow and direction in this interval (zero: every drop).
    pub drop_notify_interval: Duration,
    /// Translate service frontends in the endpoint TC programs too (for clients socket LB
    /// does not cover).
    pub tc_service_lb: bool,
    /// Entries of the service, backend, reverse-NAT and affinity maps (Cilium's
    /// `--bpf-lb-map-max`, default 65536). The service map holds one entry per frontend plus
    /// one per backend slot: 30k services with 2 backends need 90k. Fixed when the maps are
    /// first made; a restart on existing pins keeps their size.
    pub lb_map_max: u32,
}

impl DatapathConfig {
    /// Cilium's defaults (TCP 8000 s, SYN 60 s, FIN 10 s, other 60 s; Maglev M = 16381), one
    /// drop event per flow and second, pinned under `pin_dir`.
    pub fn new(pin_dir: impl Into<PathBuf>) -> Self {
        Self {
            pin_dir: pin_dir.into(),
            ct_timeout_tcp: consts::CIL_CT_TIMEOUT_TCP_DEFAULT,
            ct_timeout_syn: consts::CIL_CT_TIMEOUT_SYN_DEFAULT,
            ct_timeout_fin: consts::CIL_CT_TIMEOUT_FIN_DEFAULT,
            ct_timeout_any: consts::CIL_CT_TIMEOUT_ANY_DEFAULT,
            policy_verdicts: true,
            trace_new_flows: false,
            maglev_table_size: consts::CIL_MAGLEV_DEFAULT_TABLE_SIZE,
            drop_notify_interval: Duration::from_secs(1),
            tc_service_lb: true,
            lb_map_max: consts::CIL_LB_MAP_DEFAULT_MAX,
        }
    }
}

/// The compiled objects, one per attach point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Object {
    Lxc,
    Host,
    Sock,
    SockOps,
    Xdp,
}

impl Object {
    const ALL: [Object; 5] = [
        Object::Lxc,
        Object::Host,
        Object::Sock,
        Object::SockOps,
        Object::Xdp,
    ];

    fn bytes(self) -> &'static [u8] {
        match self {
            Object::Lxc => crate::LXC_OBJECT,
            Object::Host => crate::HOST_OBJECT,
            Object::Sock => crate::SOCK_OBJECT,
            Object::SockOps => crate::SOCKOPS_OBJECT,
            Object::Xdp => crate::XDP_OBJECT,
        }
    }

    fn file(self) -> &'static str {
        match self {
            Object::Lxc => "bpf_lxc.o",
            Object::Host => "bpf_host.o",
            Object::Sock => "bpf_sock.o",
            Object::SockOps => "bpf_sockops.o",
            Object::Xdp => "bpf_xdp.o",
        }
    }
}

/// The datapath's programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Program {
    /// TC ingress of the host-side veth: what the endpoint sends (its egress policy, service
    /// translation).
    FromEndpoint,
    /// TC egress of the host-side veth: what the endpoint receives (its ingress policy,
    /// reverse NAT).
    ToEndpoint,
    /// cgroup `connect4`: socket LB for TCP and connected UDP.
    SockConnect4,
    /// cgroup `sendmsg4`: socket LB for unconnected UDP.
    SockSendmsg4,
    /// cgroup `recvmsg4`: UDP replies back to the frontend.
    SockRecvmsg4,
    /// cgroup `getpeername4`: the peer back to the frontend.
    SockGetpeername4,
    /// `sock_ops`: established/closed events with the socket cookie.
    SockOps,
    /// XDP on a node interface: the CIDR prefilter.
    XdpPrefilter,
    /// TC ingress of a node interface: NodePort (and other externally exposed) frontends
    /// translated to a backend.
    FromNetdev,
    /// TC egress of a node interface: replies of those flows get the frontend back as their
    /// source.
    ToNetdev,
}

impl Program {
    /// Every program.
    pub const ALL: [Program; 10] = [
        Program::FromEndpoint,
        Program::ToEndpoint,
        Program::SockConnect4,
        Program::SockSendmsg4,
        Program::SockRecvmsg4,
        Program::SockGetpeername4,
        Program::SockOps,
        Program::XdpPrefilter,
        Program::FromNetdev,
        Program::ToNetdev,
    ];

    /// The programs [`Datapath::attach_cgroup`] attaches together to a cgroup: socket LB
    /// and `sock_ops`.
    pub const CGROUP: [Program; 5] = [
        Program::SockConnect4,
        Program::SockSendmsg4,
        Program::SockRecvmsg4,
        Program::SockGetpeername4,
        Program::SockOps,
    ];

    /// The program's name in its object.
    pub const fn name(self) -> &'static str {
        match self {
            Self::FromEndpoint => "cil_from_endpoint",
            Self::ToEndpoint => "cil_to_endpoint",
            Self::SockConnect4 => "cil_sock4_connect",
            Self::SockSendmsg4 => "cil_sock4_sendmsg",
            Self::SockRecvmsg4 => "cil_sock4_recvmsg",
            Self::SockGetpeername4 => "cil_sock4_getpeername",
            Self::SockOps => "cil_sockops",
            Self::XdpPrefilter => "cil_xdp_prefilter",
            Self::FromNetdev => "cil_from_netdev",
            Self::ToNetdev => "cil_to_netdev",
        }
    }

    const fn object(self) -> Object {
        match self {
            Self::FromEndpoint | Self::ToEndpoint => Object::Lxc,
            Self::SockConnect4
            | Self::SockSendmsg4
            | Self::SockRecvmsg4
            | Self::SockGetpeername4 => Object::Sock,
            Self::SockOps => Object::SockOps,
            Self::XdpPrefilter => Object::Xdp,
            Self::FromNetdev | Self::ToNetdev => Object::Host,
        }
    }

    const fn attach_type(self) -> AttachType {
        match self {
            Self::FromEndpoint => AttachType::TcxIngress,
            Self::ToEndpoint => AttachType::TcxEgress,
            Self::SockConnect4 => AttachType::Connect4,
            Self::SockSendmsg4 => AttachType::Sendmsg4,
            Self::SockRecvmsg4 => AttachType::Recvmsg4,
            Self::SockGetpeername4 => AttachType::Getpeername4,
            Self::SockOps => AttachType::SockOps,
            Self::XdpPrefilter => AttachType::Xdp,
            Self::FromNetdev => AttachType::TcxIngress,
            Self::ToNetdev => AttachType::TcxEgress,
        }
    }

    /// The suffix of the program's link pins (`<target>-<suffix>`).
    const fn link_suffix(self) -> &'static str {
        match self {
            Self::FromEndpoint => "from-endpoint",
            Self::ToEndpoint => "to-endpoint",
            Self::SockConnect4 => "connect4",
            Self::SockSendmsg4 => "sendmsg4",
            Self::SockRecvmsg4 => "recvmsg4",
            Self::SockGetpeername4 => "getpeername4",
            Self::SockOps => "sockops",
            Self::XdpPrefilter => "xdp-prefilter",
            Self::FromNetdev => "from-netdev",
            Self::ToNetdev => "to-netdev",
        }
    }

    fn from_link_suffix(s: &str) -> Option<Program> {
        Program::ALL.into_iter().find(|p| p.link_suffix() == s)
    }
}

/// Names of the shared maps pinned in the instance directory.
pub(crate) mod pins {
    pub(crate) const ENDPOINTS: &str = "cil_endpoints";
    pub(crate) const IPCACHE: &str = "cil_ipcache";
    pub(crate) const CONNTRACK: &str = "cil_ct";
    pub(crate) const METRICS: &str = "cil_metrics";
    pub(crate) const POLICY_MAPS: &str = "cil_policy_maps";
    pub(crate) const SERVICES: &str = "cil_services";
    pub(crate) const BACKENDS: &str = "cil_backends";
    pub(crate) const REV_NAT: &str = "cil_rev_nat";
    pub(crate) const MAGLEV: &str = "cil_maglev";
    pub(crate) const AFFINITY: &str = "cil_affinity";
    pub(crate) const SOCK_REVNAT: &str = "cil_sock_revnat";
    pub(crate) const PREFILTER: &str = "cil_prefilter";
    pub(crate) const EVENTS: &str = "cil_events";
    pub(crate) const EVENTS_LOST: &str = "cil_events_lost";
    pub(crate) const DROP_NOTIFY: &str = "cil_drop_notify";
    /// Per-endpoint policy maps: `cil_policy_<id>`.
    pub(crate) const POLICY_PREFIX: &str = "cil_policy_";
    pub(crate) const LINKS: &str = "links";
}

/// What a pinned link attaches to: `tc-<ifindex>-…`, `cgroup-<id>-…`, `xdp-<ifindex>-…`.
fn link_pin_name(target: &str, p: Program) -> String {
    format!("{target}-{}", p.link_suffix())
}

/// The loaded programs and their maps.
pub struct Datapath {
    objects: BTreeMap<Object, Ebpf>,
    pin_dir: PathBuf,
    maglev_table_size: u32,
    replaced_links: usize,
}

impl std::fmt::Debug for Datapath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Datapath")
            .field("pin_dir", &self.pin_dir)
            .field("replaced_links", &self.replaced_links)
            .finish_non_exhaustive()
    }
}

fn program_error(
    p: Program,
    action: &'static str,
) -> impl FnOnce(aya::programs::ProgramError) -> DatapathError {
    move |e| DatapathError::Program {
        program: p.name(),
        action,
        source: Box::new(e),
    }
}

fn io_error(what: String) -> impl FnOnce(std::io::Error) -> DatapathError {
    move |source| DatapathError::Io { what, source }
}

impl Datapath {
    /// Loads every object: shared maps are created and pinned under `pin_dir`, or re-opened if
    /// a previous instance pinned them; every program is verified and loaded; every link a
    /// previous instance pinned is switched to the new program atomically.
    pub fn load(config: &DatapathConfig) -> Result<Self, DatapathError> {
        let links = config.pin_dir.join(pins::LINKS);
        std::fs::create_dir_all(&links).map_err(|source| DatapathError::PinDir {
            path: links.display().to_string(),
            source,
        })?;
        if !crate::MAGLEV_TABLE_SIZES.contains(&config.maglev_table_size) {
            return Err(DatapathError::Config {
                field: "maglev_table_size",
                reason: format!(
                    "{} is not one of the supported primes {:?}",
                    config.maglev_table_size,
                    crate::MAGLEV_TABLE_SIZES
                ),
            });
        }
        if !(1..=1 << 24).contains(&config.lb_map_max) {
            return Err(DatapathError::Config {
                field: "lb_map_max",
                reason: format!("{} is not in 1..=16777216", config.lb_map_max),
            });
        }
        // The Maglev outer map is made here, since its inner size is a run-time setting.
        let maglev_pin = config.pin_dir.join(pins::MAGLEV);
        if maglev_pin.exists() {
            MaglevMap::from_pin(&maglev_pin, config.maglev_table_size)?;
        } else {
            MaglevMap::create(pins::MAGLEV, config.maglev_table_size, 0)?.pin(&maglev_pin)?;
        }

        let verdicts = u8::from(config.policy_verdicts);
        let trace = u8::from(config.trace_new_flows);
        let tc_lb = u8::from(config.tc_service_lb);
        let interval = u64::try_from(config.drop_notify_interval.as_nanos()).unwrap_or(u64::MAX);
        let mut objects = BTreeMap::new();
        for object in Object::ALL {
            let ebpf = EbpfLoader::new()
                .default_map_pin_directory(&config.pin_dir)
                .map_max_entries("cil_services", config.lb_map_max)
                .map_max_entries("cil_backends", config.lb_map_max)
                .map_max_entries("cil_rev_nat", config.lb_map_max)
                .map_max_entries("cil_affinity", config.lb_map_max)
                .override_global("cil_ct_timeout_tcp", &config.ct_timeout_tcp, true)
                .override_global("cil_ct_timeout_syn", &config.ct_timeout_syn, true)
                .override_global("cil_ct_timeout_fin", &config.ct_timeout_fin, true)
                .override_global("cil_ct_timeout_any", &config.ct_timeout_any, true)
                .override_global("cil_policy_verdicts", &verdicts, true)
                .override_global("cil_trace_new_flows", &trace, true)
                .override_global("cil_maglev_table_size", &config.maglev_table_size, true)
                .override_global("cil_drop_notify_interval_ns", &interval, true)
                .override_global("cil_tc_service_lb", &tc_lb, true)
                .load(object.bytes())
                .map_err(|e| DatapathError::Load {
                    object: object.file(),
                    source: Box::new(e),
                })?;
            objects.insert(object, ebpf);
        }
        let mut dp = Self {
            objects,
            pin_dir: config.pin_dir.clone(),
            maglev_table_size: config.maglev_table_size,
            replaced_links: 0,
        };
        for p in Program::ALL {
            dp.load_program(p)?;
        }
        dp.replaced_links = dp.replace_pinned_links()?;
        Ok(dp)
    }

    fn load_program(&mut self, p: Program) -> Result<(), DatapathError> {
        use aya::programs::Program as P;
        let prog = self
            .objects
            .get_mut(&p.object())
            .and_then(|o| o.program_mut(p.name()))
            .ok_or(DatapathError::NoSuchProgram { program: p.name() })?;
        let load = program_error(p, "load");
        match prog {
            P::SchedClassifier(x) => x.load().map_err(load),
            P::CgroupSockAddr(x) => x.load().map_err(load),
            P::SockOps(x) => x.load().map_err(load),
            P::Xdp(x) => x.load().map_err(load),
            _ => Err(DatapathError::NoSuchProgram { program: p.name() }),
        }
    }

    /// Points every link pinned under `links/` at the program loaded now.
    fn replace_pinned_links(&self) -> Result<usize, DatapathError> {
        let dir = self.links_dir();
        let mut replaced = 0;
        let entries = std::fs::read_dir(&dir).map_err(io_error(dir.display().to_string()))?;
        for entry in entries {
            let entry = entry.map_err(io_error(dir.display().to_string()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(p) = Self::program_of_link(&name) else {
                continue; // not one of ours
            };
            let path = entry.path();
            let link = link::open_pinned(&path)
                .map_err(io_error(format!("open pinned link {}", path.display())))?;
            link::update(link.as_fd(), self.program_fd(p)?).map_err(|source| {
                DatapathError::Link {
                    program: p.name(),
                    target: name.clone(),
                    action: "BPF_LINK_UPDATE",
                    source,
                }
            })?;
            replaced += 1;
        }
        Ok(replaced)
    }

    fn program_of_link(name: &str) -> Option<Program> {
        let mut parts = name.splitn(3, '-');
        let kind = parts.next()?;
        let _target = parts.next()?;
        let p = Program::from_link_suffix(parts.next()?)?;
        let expected = match p.attach_type() {
            AttachType::TcxIngress | AttachType::TcxEgress => "tc",
            AttachType::Xdp => "xdp",
            _ => "cgroup",
        };
        (kind == expected).then_some(p)
    }

    /// How many pinned links [`load`](Self::load) found and switched to the new programs.
    pub fn replaced_links(&self) -> usize {
        self.replaced_links
    }

    /// The file descriptor of a loaded program.
    pub fn program_fd(&self, p: Program) -> Result<BorrowedFd<'_>, DatapathError> {
        let prog = self
            .objects
            .get(&p.object())
            .and_then(|o| o.program(p.name()))
            .ok_or(DatapathError::NoSuchProgram { program: p.name() })?;
        Ok(prog.fd().map_err(program_error(p, "get fd"))?.as_fd())
    }

    /// A loaded endpoint TC program (to run it with `BPF_PROG_TEST_RUN`).
    pub fn program(&self, p: Program) -> Result<&SchedClassifier, DatapathError> {
        self.objects
            .get(&p.object())
            .and_then(|o| o.program(p.name()))
            .ok_or(DatapathError::NoSuchProgram { program: p.name() })?
            .try_into()
            .map_err(program_error(p, "convert"))
    }

    /// The loaded XDP prefilter (to run it with `BPF_PROG_TEST_RUN`).
    pub fn xdp_program(&self) -> Result<&Xdp, DatapathError> {
        let p = Program::XdpPrefilter;
        self.objects
            .get(&p.object())
            .and_then(|o| o.program(p.name()))
            .ok_or(DatapathError::NoSuchProgram { program: p.name() })?
            .try_into()
            .map_err(program_error(p, "convert"))
    }

    fn links_dir(&self) -> PathBuf {
        self.pin_dir.join(pins::LINKS)
    }

    /// Attaches `programs` to `target` (an interface index or a cgroup fd) and pins each link
    /// as `<kind>-<id>-<program>`. An attachment that already exists is switched to the loaded
    /// program instead. On failure the links made by this call are removed again.
    fn attach(
        &self,
        kind: &str,
        id: u64,
        target: u32,
        programs: &[Program],
    ) -> Result<(), DatapathError> {
        let mut made = Vec::new();
        for &p in programs {
            let name = link_pin_name(&format!("{kind}-{id}"), p);
            let path = self.links_dir().join(&name);
            let result = if path.exists() {
                link::open_pinned(&path)
                    .and_then(|l| link::update(l.as_fd(), self.program_fd(p).map_err(to_io)?))
            } else {
                link::create(self.program_fd(p)?, target, p.attach_type())
                    .and_then(|l: OwnedFd| link::pin(&l, &path))
                    .inspect(|()| made.push(path.clone()))
            };
            if let Err(source) = result {
                for path in &made {
                    let _ = std::fs::remove_file(path);
                }
                return Err(DatapathError::Link {
                    program: p.name(),
                    target: format!("{kind} {id}"),
                    action: "attach",
                    source,
                });
            }
        }
        Ok(())
    }

    fn detach(&self, kind: &str, id: u64, programs: &[Program]) -> Result<usize, DatapathError> {
        let mut removed = 0;
        for &p in programs {
            let path = self
                .links_dir()
                .join(link_pin_name(&format!("{kind}-{id}"), p));
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(format!("remove {}", path.display()))(e)),
            }
        }
        Ok(removed)
    }

    /// Attaches the endpoint programs (TCX ingress and egress) to the host-side interface
    /// `ifindex` of an endpoint, in the calling thread's network namespace.
    pub fn attach_endpoint(&self, ifindex: u32) -> Result<(), DatapathError> {
        self.attach(
            "tc",
            u64::from(ifindex),
            ifindex,
            &[Program::FromEndpoint, Program::ToEndpoint],
        )
    }

    /// Detaches the endpoint programs from `ifindex` (removing the link pins detaches them).
    /// Returns how many attachments were removed.
    pub fn detach_endpoint(&self, ifindex: u32) -> Result<usize, DatapathError> {
        self.detach(
            "tc",
            u64::from(ifindex),
            &[Program::FromEndpoint, Program::ToEndpoint],
        )
    }

    fn cgroup(path: &Path) -> Result<(std::fs::File, u64), DatapathError> {
        let file = std::fs::File::open(path)
            .map_err(io_error(format!("open cgroup {}", path.display())))?;
        let id = file
            .metadata()
            .map_err(io_error(format!("stat cgroup {}", path.display())))?
            .ino();
        Ok((file, id))
    }

    /// Attaches socket LB (`connect4`, `sendmsg4`, `recvmsg4`, `getpeername4`) and `sock_ops`
    /// to the cgroup v2 directory `cgroup`: every socket of its processes (and of its
    /// descendants) is load-balanced.
    pub fn attach_cgroup(&self, cgroup: &Path) -> Result<(), DatapathError> {
        let (file, id) = Self::cgroup(cgroup)?;
        self.attach("cgroup", id, file.as_raw_fd() as u32, &Program::CGROUP)
    }

    /// Detaches what [`attach_cgroup`](Self::attach_cgroup) attached.
    pub fn detach_cgroup(&self, cgroup: &Path) -> Result<usize, DatapathError> {
        let (_file, id) = Self::cgroup(cgroup)?;
        self.detach("cgroup", id, &Program::CGROUP)
    }

    /// Attaches the node-interface programs (NodePort translation and its reverse NAT) to
    /// the node interface `ifindex` (calling thread's network namespace), with TCX.
    pub fn attach_netdev(&self, ifindex: u32) -> Result<(), DatapathError> {
        self.attach(
            "tc",
            u64::from(ifindex),
            ifindex,
            &[Program::FromNetdev, Program::ToNetdev],
        )
    }

    /// Detaches what [`attach_netdev`](Self::attach_netdev) attached; returns how many
    /// attachments were removed.
    pub fn detach_netdev(&self, ifindex: u32) -> Result<usize, DatapathError> {
        self.detach(
            "tc",
            u64::from(ifindex),
            &[Program::FromNetdev, Program::ToNetdev],
        )
    }

    /// Attaches the XDP prefilter to the node interface `ifindex` (calling thread's network
    /// namespace).
    pub fn attach_prefilter(&self, ifindex: u32) -> Result<(), DatapathError> {
        self.attach("xdp", u64::from(ifindex), ifindex, &[Program::XdpPrefilter])
    }

    /// Detaches the XDP prefilter from `ifindex`.
    pub fn detach_prefilter(&self, ifindex: u32) -> Result<usize, DatapathError> {
        self.detach("xdp", u64::from(ifindex), &[Program::XdpPrefilter])
    }

    /// The names of the pinned links (`tc-<ifindex>-from-endpoint`, …), sorted.
    pub fn links(&self) -> Result<Vec<String>, DatapathError> {
        let dir = self.links_dir();
        let mut out: Vec<String> = std::fs::read_dir(&dir)
            .map_err(io_error(dir.display().to_string()))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| Self::program_of_link(n).is_some())
            .collect();
        out.sort();
        Ok(out)
    }

    /// Removes everything this instance pinned — its links (which detaches the programs), its
    /// maps, its per-endpoint policy maps — and the directories if nothing else is left in
    /// them. Files it does not know are left alone.
    pub fn teardown(self) -> Result<(), DatapathError> {
        let pin_dir = self.pin_dir.clone();
        let links = self.links_dir();
        for name in self.links()? {
            let path = links.join(&name);
            std::fs::remove_file(&path).map_err(io_error(format!("remove {}", path.display())))?;
        }
        let _ = std::fs::remove_dir(&links);
        drop(self);
        let ours = [
            pins::ENDPOINTS,
            pins::IPCACHE,
            pins::CONNTRACK,
            pins::METRICS,
            pins::POLICY_MAPS,
            pins::SERVICES,
            pins::BACKENDS,
            pins::REV_NAT,
            pins::MAGLEV,
            pins::AFFINITY,
            pins::SOCK_REVNAT,
            pins::PREFILTER,
            pins::EVENTS,
            pins::EVENTS_LOST,
            pins::DROP_NOTIFY,
        ];
        let entries =
            std::fs::read_dir(&pin_dir).map_err(io_error(pin_dir.display().to_string()))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let policy = name
                .strip_prefix(pins::POLICY_PREFIX)
                .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
            if ours.contains(&name.as_str()) || policy {
                let path = entry.path();
                std::fs::remove_file(&path)
                    .map_err(io_error(format!("remove {}", path.display())))?;
            }
        }
        let _ = std::fs::remove_dir(&pin_dir);
        Ok(())
    }

    /// The instance's bpffs directory.
    pub fn pin_dir(&self) -> &Path {
        &self.pin_dir
    }

    pub(crate) fn pinned(&self, name: &str) -> PathBuf {
        self.pin_dir.join(name)
    }

    /// The local endpoint map.
    pub fn endpoints(&self) -> Result<EndpointMap, DatapathError> {
        Ok(EndpointMap::from_pin(self.pinned(pins::ENDPOINTS))?)
    }

    /// The ipcache.
    pub fn ipcache(&self) -> Result<IpCache, DatapathError> {
        Ok(IpCache::from_pin(self.pinned(pins::IPCACHE))?)
    }

    /// The conntrack map.
    pub fn conntrack(&self) -> Result<ConntrackMap, DatapathError> {
        Ok(ConntrackMap::from_pin(self.pinned(pins::CONNTRACK))?)
    }

    /// The per-CPU metrics map.
    pub fn metrics(&self) -> Result<MetricsMap, DatapathError> {
        Ok(MetricsMap::from_pin(self.pinned(pins::METRICS))?)
    }

    /// The map of per-endpoint policy maps.
    pub fn policy_maps(&self) -> Result<MapOfMaps, DatapathError> {
        Ok(MapOfMaps::from_pin(self.pinned(pins::POLICY_MAPS))?)
    }

    /// The service map.
    pub fn services(&self) -> Result<ServiceMap, DatapathError> {
        Ok(ServiceMap::from_pin(self.pinned(pins::SERVICES))?)
    }

    /// The backend map.
    pub fn backends(&self) -> Result<BackendMap, DatapathError> {
        Ok(BackendMap::from_pin(self.pinned(pins::BACKENDS))?)
    }

    /// The reverse-NAT map.
    pub fn rev_nat(&self) -> Result<RevNatMap, DatapathError> {
        Ok(RevNatMap::from_pin(self.pinned(pins::REV_NAT))?)
    }

    /// The Maglev tables.
    pub fn maglev(&self) -> Result<MaglevMap, DatapathError> {
        Ok(MaglevMap::from_pin(
            self.pinned(pins::MAGLEV),
            self.maglev_table_size,
        )?)
    }

    /// The session-affinity map.
    pub fn affinity(&self) -> Result<AffinityMap, DatapathError> {
        Ok(AffinityMap::from_pin(self.pinned(pins::AFFINITY))?)
    }

    /// The socket-LB reverse translation map.
    pub fn sock_revnat(&self) -> Result<SockRevNatMap, DatapathError> {
        Ok(SockRevNatMap::from_pin(self.pinned(pins::SOCK_REVNAT))?)
    }

    /// The XDP prefilter's deny list (keys are ipcache keys: CIDRs).
    pub fn prefilter(&self) -> Result<PrefilterMap, DatapathError> {
        Ok(PrefilterMap::from_pin(self.pinned(pins::PREFILTER))?)
    }

    /// The policy map of endpoint `endpoint_id`, pinned as `cil_policy_<id>` so it survives a
    /// restart: opened if it exists, else created, and installed in the map of policy maps.
    pub fn endpoint_policy(&self, endpoint_id: u16) -> Result<PolicyMap, DatapathError> {
        let name = format!("{}{endpoint_id:05}", pins::POLICY_PREFIX);
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

    /// Removes endpoint `endpoint_id`'s policy map (from the map of maps, and its pin).
    pub fn remove_endpoint_policy(&self, endpoint_id: u16) -> Result<(), DatapathError> {
        match self.policy_maps()?.remove(u32::from(endpoint_id)) {
            Ok(()) | Err(cilium_maps::MapError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let path = self.pinned(&format!("{}{endpoint_id:05}", pins::POLICY_PREFIX));
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(format!("remove {}", path.display()))(e)),
        }
    }

    /// The events ring buffer (aya's reader). See [`EventStream`](crate::EventStream) for the
    /// async reader with lost-event accounting.
    pub fn take_events(&mut self) -> Option<aya::maps::RingBuf<aya::maps::MapData>> {
        self.objects
            .get_mut(&Object::Lxc)?
            .take_map(pins::EVENTS)
            .and_then(|m| m.try_into().ok())
    }

    /// Events the programs could not put in the ring buffer (full), summed over CPUs.
    pub fn events_lost(&self) -> Result<u64, DatapathError> {
        crate::events::lost_count(&self.pinned(pins::EVENTS_LOST))
    }
}

fn to_io(e: DatapathError) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

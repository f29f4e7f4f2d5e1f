//! The rtnetlink messages the plugin needs, written by hand: veth pairs, link state,
//! IPv4 addresses, routes and neighbours, and the dumps CHECK reads back.
//!
//! One [`Netlink`] is one `NETLINK_ROUTE` socket, bound to the namespace it was opened in
//! ([`Netlink::open`] for the caller's, [`Netlink::open_in`] for another). Each request
//! asks for an acknowledgement; the kernel's error comes back as [`NetlinkError::Kernel`]
//! with its errno and, when the kernel gives one, its extended-ack message.
//!
//! Message layouts (`include/uapi/linux/{netlink,rtnetlink,if_link,neighbour}.h`): a
//! 16-byte `nlmsghdr`, the family header (`ifinfomsg` 16 bytes, `ifaddrmsg` 8, `rtmsg` 12,
//! `ndmsg` 12), then attributes `{u16 len, u16 type, data}` padded to 4 bytes.

use std::cell::Cell;
use std::fmt;
use std::io;
use std::mem::size_of;
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::str::FromStr;

use crate::netns::NetNs;

const NLMSG_HDRLEN: usize = 16;
const NLMSG_NOOP: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;

const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_DUMP_INTR: u16 = 0x10;
const NLM_F_DUMP: u16 = 0x300;
const NLM_F_REPLACE: u16 = 0x100;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
/// In an acknowledgement: the request's payload was not echoed.
const NLM_F_CAPPED: u16 = 0x100;
/// In an acknowledgement: extended-ack attributes follow.
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;

const SOL_NETLINK: libc::c_int = 270;
const NETLINK_CAP_ACK: libc::c_int = 10;
const NETLINK_EXT_ACK: libc::c_int = 11;

const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_GETADDR: u16 = 22;
const RTM_NEWROUTE: u16 = 24;
const RTM_GETROUTE: u16 = 26;
const RTM_NEWNEIGH: u16 = 28;
const RTM_GETNEIGH: u16 = 30;

const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_LINKINFO: u16 = 18;
const IFLA_NET_NS_FD: u16 = 28;
const IFLA_EXT_MASK: u16 = 29;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const VETH_INFO_PEER: u16 = 1;
const RTEXT_FILTER_SKIP_STATS: u32 = 1 << 3;
const IFF_UP: u32 = 1;

const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;

const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_TABLE: u16 = 15;
const RT_TABLE_MAIN: u8 = 254;
const RTPROT_BOOT: u8 = 3;
const RTN_UNICAST: u8 = 1;

const NDA_DST: u16 = 1;
const NDA_LLADDR: u16 = 2;

const AF_INET: u8 = libc::AF_INET as u8;
const AF_UNSPEC: u8 = libc::AF_UNSPEC as u8;

/// Route scope `universe` (routes through a gateway).
pub const RT_SCOPE_UNIVERSE: u8 = 0;
/// Route scope `link` (directly reachable on the interface).
pub const RT_SCOPE_LINK: u8 = 253;
/// Neighbour state `PERMANENT`: never expires, never probed.
pub const NUD_PERMANENT: u16 = 0x80;

/// What a netlink request can end in.
#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    /// The kernel refused the request.
    #[error("{op}: {}{}", io::Error::from_raw_os_error(*errno), ext_suffix(ext))]
    Kernel {
        /// What was asked, naming the object.
        op: String,
        /// The errno (positive).
        errno: i32,
        /// The kernel's extended-ack message, if it gave one.
        ext: Option<String>,
    },
    /// The socket itself failed.
    #[error("{op}: netlink socket")]
    Socket {
        /// What was asked.
        op: String,
        /// The system call's error.
        #[source]
        source: io::Error,
    },
    /// The answer could not be parsed.
    #[error("{op}: malformed netlink answer: {what}")]
    Malformed {
        /// What was asked.
        op: String,
        /// What was wrong with it.
        what: &'static str,
    },
}

fn ext_suffix(ext: &Option<String>) -> String {
    ext.as_deref()
        .map(|m| format!(" ({m})"))
        .unwrap_or_default()
}

impl NetlinkError {
    /// The errno, for the kernel's and the socket's errors.
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetlinkError::Kernel { errno, .. } => Some(*errno),
            NetlinkError::Socket { source, .. } => source.raw_os_error(),
            NetlinkError::Malformed { .. } => None,
        }
    }
}

/// An Ethernet address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for MacAddr {
    type Err = String;

    /// Parses `aa:bb:cc:dd:ee:ff` (either case).
    fn from_str(s: &str) -> Result<MacAddr, String> {
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for b in &mut out {
            let p = parts.next().filter(|p| p.len() == 2);
            *b = p
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| format!("{s:?} is not a MAC address"))?;
        }
        if parts.next().is_some() {
            return Err(format!("{s:?} is not a MAC address"));
        }
        Ok(MacAddr(out))
    }
}

/// A network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Its index in its namespace.
    pub index: u32,
    /// Its name.
    pub name: String,
    /// Its hardware address (absent for some tunnel kinds).
    pub mac: Option<MacAddr>,
    /// Administratively up.
    pub up: bool,
    /// MTU.
    pub mtu: u32,
    /// `IFLA_INFO_KIND` (`veth`, `bridge`, …); `None` for physical devices and `lo`.
    pub kind: Option<String>,
}

/// An IPv4 route of the main table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Destination network.
    pub dst: Ipv4Addr,
    /// Its prefix length (0 = default route).
    pub dst_len: u8,
    /// Next hop, if any.
    pub gateway: Option<Ipv4Addr>,
    /// Output interface index, if any.
    pub oif: Option<u32>,
    /// Scope ([`RT_SCOPE_LINK`], [`RT_SCOPE_UNIVERSE`]).
    pub scope: u8,
}

/// An IPv4 neighbour entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Neigh {
    /// Interface index.
    pub ifindex: u32,
    /// The neighbour's address.
    pub ip: Ipv4Addr,
    /// Its hardware address, if resolved.
    pub mac: Option<MacAddr>,
    /// `NUD_*` state bits ([`NUD_PERMANENT`]).
    pub state: u16,
}

/// One request being built: header, family header, attributes.
struct Request {
    buf: Vec<u8>,
}

impl Request {
    fn new(kind: u16, flags: u16, family_header: &[u8]) -> Request {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&[0; 4]); // length, set by `finish`
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&[0; 8]); // sequence (set by `finish`), port id (kernel's)
        let mut r = Request { buf };
        r.raw(family_header);
        r
    }

    /// Appends bytes, padded to 4.
    fn raw(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
    }

    fn attr(&mut self, kind: u16, data: &[u8]) {
        let len = u16::try_from(4 + data.len()).expect("attribute fits 64 KiB");
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.raw(data);
    }

    fn attr_u32(&mut self, kind: u16, v: u32) {
        self.attr(kind, &v.to_ne_bytes());
    }

    /// A NUL-terminated string, as `IFLA_IFNAME` wants.
    fn attr_str(&mut self, kind: u16, s: &str) {
        let mut b = Vec::with_capacity(s.len() + 1);
        b.extend_from_slice(s.as_bytes());
        b.push(0);
        self.attr(kind, &b);
    }

    fn nested(&mut self, kind: u16, inner: impl FnOnce(&mut Request)) {
        let start = self.buf.len();
        self.buf.extend_from_slice(&[0, 0]);
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        inner(self);
        let len = u16::try_from(self.buf.len() - start).expect("attribute fits 64 KiB");
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
    }

    fn finish(mut self, seq: u32) -> Vec<u8> {
        let len = u32::try_from(self.buf.len()).expect("request fits 4 GiB");
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        self.buf
    }
}

fn ifinfomsg(index: u32, flags: u32, change: u32) -> [u8; 16] {
    let mut h = [0u8; 16];
    h[0] = AF_UNSPEC;
    h[4..8].copy_from_slice(&index.to_ne_bytes());
    h[8..12].copy_from_slice(&flags.to_ne_bytes());
    h[12..16].copy_from_slice(&change.to_ne_bytes());
    h
}

/// The attributes of a message body: `(type, data)`, stopping at the first malformed one.
struct Attrs<'a>(&'a [u8]);

impl<'a> Iterator for Attrs<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<(u16, &'a [u8])> {
        let b = self.0;
        if b.len() < 4 {
            return None;
        }
        let len = usize::from(u16::from_ne_bytes([b[0], b[1]]));
        if len < 4 || len > b.len() {
            self.0 = &[];
            return None;
        }
        // Without NLA_F_NESTED and NLA_F_NET_BYTEORDER.
        let kind = u16::from_ne_bytes([b[2], b[3]]) & 0x3fff;
        let data = &b[4..len];
        self.0 = &b[align4(len).min(b.len())..];
        Some((kind, data))
    }
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn ipv4(data: &[u8]) -> Option<Ipv4Addr> {
    <[u8; 4]>::try_from(data).ok().map(Ipv4Addr::from)
}

fn mac(data: &[u8]) -> Option<MacAddr> {
    <[u8; 6]>::try_from(data).ok().map(MacAddr)
}

fn c_string(data: &[u8]) -> String {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    String::from_utf8_lossy(&data[..end]).into_owned()
}

/// One message of an answer.
struct Reply {
    kind: u16,
    body: Vec<u8>,
}

/// A `NETLINK_ROUTE` socket.
#[derive(Debug)]
pub struct Netlink {
    fd: OwnedFd,
    seq: Cell<u32>,
}

impl Netlink {
    /// A socket in the calling thread's network namespace.
    ///
    /// # Errors
    ///
    /// `socket(2)` failing.
    pub fn open() -> Result<Netlink, NetlinkError> {
        // SAFETY: plain socket call; the descriptor is owned by OwnedFd below.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(NetlinkError::Socket {
                op: "open a NETLINK_ROUTE socket".into(),
                source: io::Error::last_os_error(),
            });
        }
        // SAFETY: `fd` is a new descriptor owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        for opt in [NETLINK_EXT_ACK, NETLINK_CAP_ACK] {
            let one: libc::c_int = 1;
            // SAFETY: `one` lives across the call and its size is passed. Failure only
            // means shorter error messages (kernels before 4.12).
            unsafe {
                libc::setsockopt(
                    fd.as_raw_fd(),
                    SOL_NETLINK,
                    opt,
                    (&raw const one).cast(),
                    size_of::<libc::c_int>() as libc::socklen_t,
                );
            }
        }
        // Start from a per-process value so concurrent plugins' traces are told apart.
        Ok(Netlink {
            fd,
            seq: Cell::new(std::process::id().wrapping_mul(1000)),
        })
    }

    /// A socket in the namespace `ns` (the socket stays there; the caller does not move).
    ///
    /// # Errors
    ///
    /// `setns` or `socket` failing.
    pub fn open_in(ns: &NetNs) -> Result<Netlink, NetlinkError> {
        ns.run(Netlink::open)
            .map_err(|source| NetlinkError::Socket {
                op: format!("enter network namespace {}", ns.path()),
                source,
            })?
    }

    /// Looks an interface up by name; `None` when there is none.
    ///
    /// # Errors
    ///
    /// The kernel's error, other than "no such device".
    pub fn link(&self, name: &str) -> Result<Option<Link>, NetlinkError> {
        let op = || format!("look up link {name}");
        let mut r = Request::new(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, &ifinfomsg(0, 0, 0));
        r.attr_str(IFLA_IFNAME, name);
        r.attr_u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        let replies = match self.transact(&op, r) {
            Err(e) if e.errno() == Some(libc::ENODEV) => return Ok(None),
            other => other?,
        };
        let reply = replies
            .iter()
            .find(|m| m.kind == RTM_NEWLINK)
            .ok_or_else(|| malformed(&op, "no link in the answer"))?;
        parse_link(&reply.body)
            .map(Some)
            .ok_or_else(|| malformed(&op, "short ifinfomsg"))
    }

    /// Creates a veth pair: `host` here, `peer` directly in the namespace `peer_ns`, both
    /// with `mtu`. Fails with `EEXIST` when either name is taken.
    ///
    /// # Errors
    ///
    /// The kernel's error.
    pub fn veth_add(
        &self,
        host: &str,
        peer: &str,
        mtu: u32,
        peer_ns: BorrowedFd<'_>,
    ) -> Result<(), NetlinkError> {
        let ns_fd = u32::try_from(peer_ns.as_raw_fd()).expect("descriptors are not negative");
        let mut r = Request::new(
            RTM_NEWLINK,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
            &ifinfomsg(0, 0, 0),
        );
        r.attr_str(IFLA_IFNAME, host);
        r.attr_u32(IFLA_MTU, mtu);
        r.nested(IFLA_LINKINFO, |r| {
            r.attr(IFLA_INFO_KIND, b"veth");
            r.nested(IFLA_INFO_DATA, |r| {
                r.nested(VETH_INFO_PEER, |r| {
                    r.raw(&ifinfomsg(0, 0, 0));
                    r.attr_str(IFLA_IFNAME, peer);
                    r.attr_u32(IFLA_MTU, mtu);
                    r.attr_u32(IFLA_NET_NS_FD, ns_fd);
                });
            });
        });
        self.transact(&|| format!("create veth {host} (peer {peer})"), r)
            .map(drop)
    }

    /// Sets an interface administratively up.
    ///
    /// # Errors
    ///
    /// The kernel's error.
    pub fn link_up(&self, link: &Link) -> Result<(), NetlinkError> {
        let r = Request::new(
            RTM_NEWLINK,
            NLM_F_REQUEST | NLM_F_ACK,
            &ifinfomsg(link.index, IFF_UP, IFF_UP),
        );
        self.transact(&|| format!("set link {} up", link.name), r)
            .map(drop)
    }

    /// Deletes an interface by name (a veth takes its peer along). `Ok(false)` when there
    /// was none.
    ///
    /// # Errors
    ///
    /// The kernel's error, other than "no such device".
    pub fn link_del(&self, name: &str) -> Result<bool, NetlinkError> {
        let mut r = Request::new(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, &ifinfomsg(0, 0, 0));
        r.attr_str(IFLA_IFNAME, name);
        match self.transact(&|| format!("delete link {name}"), r) {
            Ok(_) => Ok(true),
            Err(e) if e.errno() == Some(libc::ENODEV) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Adds (or keeps) `ip/prefix_len` on `link`.
    ///
    /// # Errors
    ///
    /// The kernel's error.
    pub fn addr_add(&self, link: &Link, ip: Ipv4Addr, prefix_len: u8) -> Result<(), NetlinkError> {
        let mut h = [0u8; 8];
        h[0] = AF_INET;
        h[1] = prefix_len;
        h[4..8].copy_from_slice(&link.index.to_ne_bytes());
        let mut r = Request::new(
            RTM_NEWADDR,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
            &h,
        );
        r.attr(IFA_LOCAL, &ip.octets());
        r.attr(IFA_ADDRESS, &ip.octets());
        self.transact(
            &|| format!("add address {ip}/{prefix_len} to {}", link.name),
            r,
        )
        .map(drop)
    }

    /// The IPv4 addresses of the interface with index `ifindex`.
    ///
    /// # Errors
    ///
    /// The kernel's error.
    pub fn addrs(&self, ifindex: u32) -> Result<Vec<(Ipv4Addr, u8)>, NetlinkError> {
        let h = [AF_INET, 0, 0, 0, 0, 0, 0, 0];
        let replies = self.dump(&|| "list addresses".into(), RTM_GETADDR, &h)?;
        Ok(replies
            .iter()
            .filter(|m| m.kind == RTM_NEWADDR && m.body.len() >= 8)
            .filter(|m| m.body[0] == AF_INET && u32_at(&m.body, 4) == Some(ifindex))
            .filter_map(|m| {
                let mut local = None;
                let mut address = None;
                for (kind, data) in Attrs(&m.body[8..]) {
                    match kind {
                        IFA_LOCAL => local = ipv4(data),
                        IFA_ADDRESS => address = ipv4(data),
                        _ => {}
                    }
                }
                Some((local.or(address)?, m.body[1]))
            })
            .collect())
    }

    /// Adds a route to the main table, replacing one to the same destination.
    ///
    /// # Errors
    ///
    /// The kernel's error.
    pub fn route_replace(&self, route: &Route) -> Result<(), NetlinkError> {
        let h = [
            AF_INET,
            route.dst_len,
            0,
            0,
            RT_TABLE_MAIN,
            RTPROT_BOOT,
            route.scope,
            RTN_UNICAST,
            0,
            0,
            0,
            0,
        ];
        let mut r = Request::new(
            RTM_NEWROUTE,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
            &h,
        );
        r.attr_u32(RTA_TABLE, u32::from(RT_TABLE_MAIN));
        if route.dst_len > 0 {
            r.attr(RTA_DST, &route.dst.octets());
        }
        if let Some(gw) = route.gateway {
            r.attr(RTA_GATEWAY, &gw.octets());
        }
        if let Some(oif) = route.oif {
            r.attr_u32(RTA_OIF, oif);
        }
        self.transact(&|| format!("add route {}", describe_route(route)), r)
            .map(drop)
    }

    /// The IPv4 unicast routes of the main table.
    ///
    /// # Errors
    ///
    /// The kernel's error.
    pub fn routes(&self) -> Result<Vec<Route>, NetlinkError> {
        let h = [AF_INET, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let replies = self.dump(&|| "list routes".into(), RTM_GETROUTE, &h)?;
        let mut out = Vec::new();
        for m in replies.iter().filter(|m| m.kind == RTM_NEWROUTE) {
            let b = &m.body;
            if b.len() < 12 || b[0] != AF_INET || b[7] != RTN_UNICAST {
                continue;
            }
            let mut table = u32::from(b[4]);
            let mut route = Route {
                dst: Ipv4Addr::UNSPECIFIED,
                dst_len: b[1],
                gateway: None,
                oif: None,
                scope: b[6],
            };
            for (kind, data) in Attrs(&b[12..]) {
                match kind {
                    RTA_DST => route.dst = ipv4(data).unwrap_or(route.dst),
                    RTA_GATEWAY => route.gateway = ipv4(data),
                    RTA_OIF => route.oif = u32_at(data, 0),
                    RTA_TABLE => table = u32_at(data, 0).unwrap_or(table),
                    _ => {}
                }
            }
            if table == u32::from(RT_TABLE_MAIN) {
                out.push(route);
            }
        }
        Ok(out)
    }

    /// Adds or replaces a permanent neighbour entry `ip → mac` on `link`.
    ///
    /// # Errors
    ///
    /// The kernel's error.
    pub fn neigh_replace(
        &self,
        link: &Link,
        ip: Ipv4Addr,
        mac: MacAddr,
    ) -> Result<(), NetlinkError> {
        let mut h = [0u8; 12];
        h[0] = AF_INET;
        h[4..8].copy_from_slice(&link.index.to_ne_bytes());
        h[8..10].copy_from_slice(&NUD_PERMANENT.to_ne_bytes());
        let mut r = Request::new(
            RTM_NEWNEIGH,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
            &h,
        );
        r.attr(NDA_DST, &ip.octets());
        r.attr(NDA_LLADDR, &mac.0);
        self.transact(
            &|| format!("add neighbour {ip} lladdr {mac} dev {}", link.name),
            r,
        )
        .map(drop)
    }

    /// The IPv4 neighbour entries.
    ///
    /// # Errors
    ///
    /// The kernel's error.
    pub fn neighs(&self) -> Result<Vec<Neigh>, NetlinkError> {
        let h = [AF_INET, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let replies = self.dump(&|| "list neighbours".into(), RTM_GETNEIGH, &h)?;
        let mut out = Vec::new();
        for m in replies.iter().filter(|m| m.kind == RTM_NEWNEIGH) {
            let b = &m.body;
            if b.len() < 12 || b[0] != AF_INET {
                continue;
            }
            let mut ip = None;
            let mut lladdr = None;
            for (kind, data) in Attrs(&b[12..]) {
                match kind {
                    NDA_DST => ip = ipv4(data),
                    NDA_LLADDR => lladdr = mac(data),
                    _ => {}
                }
            }
            if let (Some(ip), Some(ifindex)) = (ip, u32_at(b, 4)) {
                out.push(Neigh {
                    ifindex,
                    ip,
                    mac: lladdr,
                    state: u16::from_ne_bytes([b[8], b[9]]),
                });
            }
        }
        Ok(out)
    }

    /// A dump request, repeated (up to 3 times) when the kernel flags it as interrupted by
    /// a concurrent change.
    fn dump(
        &self,
        op: &dyn Fn() -> String,
        kind: u16,
        family_header: &[u8],
    ) -> Result<Vec<Reply>, NetlinkError> {
        let mut tries = 0;
        loop {
            let r = Request::new(kind, NLM_F_REQUEST | NLM_F_DUMP, family_header);
            match self.transact(op, r) {
                Err(e) if e.errno() == Some(libc::EINTR) && tries < 2 => tries += 1,
                other => return other,
            }
        }
    }

    /// Sends `req` and collects the answer up to its acknowledgement (or `NLMSG_DONE` for
    /// dumps).
    fn transact(&self, op: &dyn Fn() -> String, req: Request) -> Result<Vec<Reply>, NetlinkError> {
        let seq = self.seq.get().wrapping_add(1);
        self.seq.set(seq);
        let msg = req.finish(seq);
        let socket_error = |source| NetlinkError::Socket { op: op(), source };
        // SAFETY: a zeroed sockaddr_nl addresses the kernel.
        let mut to: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        to.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // SAFETY: `msg` and `to` are live for the call, with their sizes.
        let sent = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                msg.as_ptr().cast(),
                msg.len(),
                0,
                (&raw const to).cast(),
                size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if sent < 0 {
            return Err(socket_error(io::Error::last_os_error()));
        }
        let mut replies = Vec::new();
        let mut interrupted = false;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // SAFETY: `buf` is live and its size passed; MSG_TRUNC reports the real size.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_TRUNC,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(socket_error(e));
            }
            let n = n as usize;
            if n > buf.len() {
                return Err(malformed(op, "answer larger than 64 KiB"));
            }
            let mut rest = &buf[..n];
            while rest.len() >= NLMSG_HDRLEN {
                let len = u32_at(rest, 0).unwrap_or(0) as usize;
                if len < NLMSG_HDRLEN || len > rest.len() {
                    return Err(malformed(op, "bad message length"));
                }
                let kind = u16::from_ne_bytes([rest[4], rest[5]]);
                let flags = u16::from_ne_bytes([rest[6], rest[7]]);
                let msg_seq = u32_at(rest, 8).unwrap_or(0);
                let body = &rest[NLMSG_HDRLEN..len];
                rest = &rest[align4(len).min(rest.len())..];
                if msg_seq != seq {
                    continue; // a late answer to an earlier request
                }
                interrupted |= flags & NLM_F_DUMP_INTR != 0;
                match kind {
                    NLMSG_NOOP => {}
                    NLMSG_ERROR => {
                        let code = body
                            .get(..4)
                            .map(|c| i32::from_ne_bytes(c.try_into().expect("4 bytes")))
                            .ok_or_else(|| malformed(op, "short error message"))?;
                        if code == 0 {
                            return Ok(replies);
                        }
                        return Err(NetlinkError::Kernel {
                            op: op(),
                            errno: -code,
                            ext: ext_ack_message(flags, body),
                        });
                    }
                    NLMSG_DONE => {
                        let code = body
                            .get(..4)
                            .map(|c| i32::from_ne_bytes(c.try_into().expect("4 bytes")))
                            .unwrap_or(0);
                        if code < 0 {
                            return Err(NetlinkError::Kernel {
                                op: op(),
                                errno: -code,
                                ext: ext_ack_message(flags, body),
                            });
                        }
                        if interrupted {
                            return Err(NetlinkError::Kernel {
                                op: op(),
                                errno: libc::EINTR,
                                ext: Some("dump interrupted by a concurrent change".into()),
                            });
                        }
                        return Ok(replies);
                    }
                    _ => replies.push(Reply {
                        kind,
                        body: body.to_vec(),
                    }),
                }
            }
        }
    }
}

impl AsFd for Netlink {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

fn malformed(op: &dyn Fn() -> String, what: &'static str) -> NetlinkError {
    NetlinkError::Malformed { op: op(), what }
}

/// The `NLMSGERR_ATTR_MSG` of an error (or `NLMSG_DONE`) message body: after the errno
/// and the echoed request header (and the request's payload unless capped).
fn ext_ack_message(flags: u16, body: &[u8]) -> Option<String> {
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    let mut at = 4;
    if body.len() >= 4 + NLMSG_HDRLEN {
        let inner_len = u32_at(body, 4)? as usize;
        at += if flags & NLM_F_CAPPED != 0 {
            NLMSG_HDRLEN
        } else {
            align4(inner_len)
        };
    }
    Attrs(body.get(at..)?)
        .find(|(kind, _)| *kind == NLMSGERR_ATTR_MSG)
        .map(|(_, data)| c_string(data))
        .filter(|m| !m.is_empty())
}

fn parse_link(b: &[u8]) -> Option<Link> {
    if b.len() < 16 {
        return None;
    }
    let mut link = Link {
        index: u32_at(b, 4)?,
        name: String::new(),
        mac: None,
        up: u32_at(b, 8)? & IFF_UP != 0,
        mtu: 0,
        kind: None,
    };
    for (kind, data) in Attrs(&b[16..]) {
        match kind {
            IFLA_IFNAME => link.name = c_string(data),
            IFLA_ADDRESS => link.mac = mac(data),
            IFLA_MTU => link.mtu = u32_at(data, 0).unwrap_or(0),
            IFLA_LINKINFO => {
                link.kind = Attrs(data)
                    .find(|(k, _)| *k == IFLA_INFO_KIND)
                    .map(|(_, d)| c_string(d));
            }
            _ => {}
        }
    }
    Some(link)
}

/// `ip route`-style text of a route (`0.0.0.0/0 via 169.254.1.1 dev #5 scope link`).
pub fn describe_route(r: &Route) -> String {
    let mut s = if r.dst_len == 0 {
        "default".to_owned()
    } else {
        format!("{}/{}", r.dst, r.dst_len)
    };
    if let Some(gw) = r.gateway {
        s.push_str(&format!(" via {gw}"));
    }
    if let Some(oif) = r.oif {
        s.push_str(&format!(" dev #{oif}"));
    }
    if r.scope == RT_SCOPE_LINK {
        s.push_str(" scope link");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn veth_request_layout() {
        let mut r = Request::new(RTM_NEWLINK, NLM_F_REQUEST, &ifinfomsg(0, 0, 0));
        r.attr_str(IFLA_IFNAME, "lxc1");
        r.nested(IFLA_LINKINFO, |r| {
            r.attr(IFLA_INFO_KIND, b"veth");
            r.nested(IFLA_INFO_DATA, |r| {
                r.nested(VETH_INFO_PEER, |r| {
                    r.raw(&ifinfomsg(0, 0, 0));
                    r.attr_str(IFLA_IFNAME, "eth0");
                });
            });
        });
        let b = r.finish(7);
        assert_eq!(u32_at(&b, 0), Some(b.len() as u32));
        assert_eq!(b.len() % 4, 0);
        assert_eq!(u32_at(&b, 8), Some(7));
        let attrs: Vec<_> = Attrs(&b[32..]).collect();
        assert_eq!(attrs.len(), 2);
        assert_eq!(attrs[0], (IFLA_IFNAME, &b"lxc1\0"[..]));
        let (kind, info) = attrs[1];
        assert_eq!(kind, IFLA_LINKINFO);
        let inner: Vec<_> = Attrs(info).collect();
        assert_eq!(inner[0], (IFLA_INFO_KIND, &b"veth"[..]));
        let data: Vec<_> = Attrs(inner[1].1).collect();
        assert_eq!(data[0].0, VETH_INFO_PEER);
        let peer = data[0].1;
        assert_eq!(
            peer.len(),
            16 + 12,
            "ifinfomsg + IFLA_IFNAME eth0\\0 padded"
        );
        assert_eq!(
            Attrs(&peer[16..]).next(),
            Some((IFLA_IFNAME, &b"eth0\0"[..]))
        );
    }

    #[test]
    fn link_answer_parses() {
        let mut body = ifinfomsg(9, IFF_UP, 0).to_vec();
        let mut r = Request { buf: Vec::new() };
        r.attr_str(IFLA_IFNAME, "eth0");
        r.attr(IFLA_ADDRESS, &[2, 0, 0, 0, 0, 1]);
        r.attr_u32(IFLA_MTU, 1500);
        r.nested(IFLA_LINKINFO, |r| r.attr(IFLA_INFO_KIND, b"veth"));
        body.extend_from_slice(&r.buf);
        let l = parse_link(&body).unwrap();
        assert_eq!(
            l,
            Link {
                index: 9,
                name: "eth0".into(),
                mac: Some(MacAddr([2, 0, 0, 0, 0, 1])),
                up: true,
                mtu: 1500,
                kind: Some("veth".into()),
            }
        );
    }

    #[test]
    fn attrs_stop_at_garbage() {
        assert_eq!(Attrs(&[8, 0, 1, 0]).count(), 0, "length beyond the buffer");
        assert_eq!(Attrs(&[2, 0, 1, 0]).count(), 0, "length below the header");
        assert_eq!(
            Attrs(&[5, 0, 1, 0, 9]).collect::<Vec<_>>(),
            [(1, &[9u8][..])]
        );
    }

    #[test]
    fn ext_ack_is_found_after_the_capped_header() {
        let mut body = (-libc::EEXIST).to_ne_bytes().to_vec();
        body.extend_from_slice(&[0; NLMSG_HDRLEN]);
        body[4..8].copy_from_slice(&40u32.to_ne_bytes());
        let mut r = Request { buf: Vec::new() };
        r.attr_str(NLMSGERR_ATTR_MSG, "File exists");
        body.extend_from_slice(&r.buf);
        assert_eq!(
            ext_ack_message(NLM_F_CAPPED | NLM_F_ACK_TLVS, &body).as_deref(),
            Some("File exists")
        );
        assert_eq!(ext_ack_message(NLM_F_CAPPED, &body), None);
    }

    #[test]
    fn mac_text() {
        let m: MacAddr = "0A:58:a9:fe:01:01".parse().unwrap();
        assert_eq!(m.to_string(), "0a:58:a9:fe:01:01");
        for bad in [
            "",
            "0a:58:a9:fe:01",
            "0a:58:a9:fe:01:01:02",
            "0a:58:a9:fe:01:1",
        ] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn error_text_names_the_object() {
        let e = NetlinkError::Kernel {
            op: "create veth lxc1 (peer eth0)".into(),
            errno: libc::EEXIST,
            ext: None,
        };
        assert!(
            e.to_string()
                .starts_with("create veth lxc1 (peer eth0): File exists")
        );
    }
}

//! The policy routing the L7 redirect needs. A packet the endpoint programs assign to a proxy
//! socket keeps its original destination, which is not an address of this host; the stack
//! delivers it to the assigned socket only if it routes it locally. The programs mark such
//! packets with `CIL_MARK_MAGIC_TO_PROXY`; this module installs one rule ("that mark: look up
//! table T") and one route in T ("everything is local, via `lo`"), by rtnetlink messages
//! written here (two message kinds do not justify a netlink crate).
//!
//! Install is idempotent (a restarted agent finds its rule and route in place); [`remove`]
//! deletes exactly what [`install`] adds.

use std::io;
use std::mem::size_of;

use cilium_maps::abi::consts::{CIL_MARK_MAGIC_MASK, CIL_MARK_MAGIC_TO_PROXY};

/// Where the proxy routing lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyRouting {
    /// Routing table of the local route (Cilium uses 2004).
    pub table: u32,
    /// Priority of the rule (Cilium uses 9000; below the `local` table's 0 would be wrong,
    /// above `main`'s 32766 would be too late).
    pub priority: u32,
}

impl Default for ProxyRouting {
    fn default() -> ProxyRouting {
        ProxyRouting {
            table: 2004,
            priority: 9000,
        }
    }
}

const RTM_NEWROUTE: u16 = 24;
const RTM_DELROUTE: u16 = 25;
const RTM_NEWRULE: u16 = 32;
const RTM_DELRULE: u16 = 33;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const NLMSG_ERROR: u16 = 2;
const FRA_PRIORITY: u16 = 6;
const FRA_FWMARK: u16 = 10;
const FRA_TABLE: u16 = 15;
const FRA_FWMASK: u16 = 16;
const FR_ACT_TO_TBL: u8 = 1;
const RTA_OIF: u16 = 4;
const RTA_TABLE: u16 = 15;
const RTPROT_STATIC: u8 = 4;
const RT_SCOPE_HOST: u8 = 254;
const RTN_LOCAL: u8 = 2;

/// Installs the rule and the route (IPv4). Existing ones are kept.
///
/// # Errors
///
/// The kernel's answer, with which of the two failed (`EPERM` without `CAP_NET_ADMIN`).
pub fn install(r: ProxyRouting) -> io::Result<()> {
    let create = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    ignore_exists(request(RTM_NEWRULE, create, &rule_body(r)))
        .map_err(|e| io::Error::new(e.kind(), format!("proxy routing rule: {e}")))?;
    ignore_exists(request(RTM_NEWROUTE, create, &route_body(r)?))
        .map_err(|e| io::Error::new(e.kind(), format!("proxy routing route: {e}")))
}

/// Removes the rule and the route; missing ones are not an error.
///
/// # Errors
///
/// The kernel's answer, other than "not found".
pub fn remove(r: ProxyRouting) -> io::Result<()> {
    let del = NLM_F_REQUEST | NLM_F_ACK;
    ignore_missing(request(RTM_DELRULE, del, &rule_body(r)))
        .map_err(|e| io::Error::new(e.kind(), format!("proxy routing rule: {e}")))?;
    ignore_missing(request(RTM_DELROUTE, del, &route_body(r)?))
        .map_err(|e| io::Error::new(e.kind(), format!("proxy routing route: {e}")))
}

fn ignore_exists(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Ok(()),
        r => r,
    }
}

fn ignore_missing(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ESRCH)) => Ok(()),
        r => r,
    }
}

fn attr(out: &mut Vec<u8>, kind: u16, v: u32) {
    out.extend_from_slice(&8u16.to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(&v.to_ne_bytes());
}

fn table_byte(t: u32) -> u8 {
    u8::try_from(t).unwrap_or(0) // RT_TABLE_UNSPEC: the attribute carries it
}

/// `struct fib_rule_hdr` + attributes.
fn rule_body(r: ProxyRouting) -> Vec<u8> {
    let mut b = vec![
        libc::AF_INET as u8,
        0,
        0,
        0,
        table_byte(r.table),
        0,
        0,
        FR_ACT_TO_TBL,
    ];
    b.extend_from_slice(&0u32.to_ne_bytes());
    attr(&mut b, FRA_PRIORITY, r.priority);
    attr(&mut b, FRA_FWMARK, CIL_MARK_MAGIC_TO_PROXY);
    attr(&mut b, FRA_FWMASK, CIL_MARK_MAGIC_MASK);
    attr(&mut b, FRA_TABLE, r.table);
    b
}

/// `struct rtmsg` + attributes: `local 0.0.0.0/0 dev lo table T`.
fn route_body(r: ProxyRouting) -> io::Result<Vec<u8>> {
    // SAFETY: a NUL-terminated literal.
    let lo = unsafe { libc::if_nametoindex(c"lo".as_ptr()) };
    if lo == 0 {
        return Err(io::Error::other("no loopback interface in this namespace"));
    }
    let mut b = vec![
        libc::AF_INET as u8,
        0,
        0,
        0,
        table_byte(r.table),
        RTPROT_STATIC,
        RT_SCOPE_HOST,
        RTN_LOCAL,
    ];
    b.extend_from_slice(&0u32.to_ne_bytes());
    attr(&mut b, RTA_TABLE, r.table);
    attr(&mut b, RTA_OIF, lo);
    Ok(b)
}

/// Sends one request on a fresh NETLINK_ROUTE socket and reads its acknowledgement.
fn request(kind: u16, flags: u16, body: &[u8]) -> io::Result<()> {
    // SAFETY: plain socket call; the fd is closed by OwnedFd.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a new descriptor owned by nobody else.
    let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
    let len = 16 + body.len();
    let mut msg = Vec::with_capacity(len);
    msg.extend_from_slice(&(len as u32).to_ne_bytes());
    msg.extend_from_slice(&kind.to_ne_bytes());
    msg.extend_from_slice(&flags.to_ne_bytes());
    msg.extend_from_slice(&1u32.to_ne_bytes()); // sequence
    msg.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel fills it
    msg.extend_from_slice(body);
    // SAFETY: a zeroed sockaddr_nl addresses the kernel.
    let mut to: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    to.nl_family = libc::AF_NETLINK as u16;
    // SAFETY: `msg` and `to` are live for the call, with their sizes.
    let sent = unsafe {
        libc::sendto(
            raw,
            msg.as_ptr().cast(),
            msg.len(),
            0,
            (&raw const to).cast(),
            size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut buf = [0u8; 4096];
    // SAFETY: `buf` is live and its size passed.
    let n = unsafe { libc::recv(raw, buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = n as usize;
    if n < 20 || u16::from_ne_bytes([buf[4], buf[5]]) != NLMSG_ERROR {
        return Err(io::Error::other("unexpected netlink answer"));
    }
    let code = i32::from_ne_bytes([buf[16], buf[17], buf[18], buf[19]]);
    if code == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(-code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_the_mark_table_and_priority() {
        let r = ProxyRouting {
            table: 2004,
            priority: 9000,
        };
        let b = rule_body(r);
        assert_eq!(b.len(), 12 + 4 * 8);
        assert_eq!(b[4], 0, "2004 does not fit the header byte");
        assert_eq!(b[7], FR_ACT_TO_TBL);
        let word = |i: usize| u32::from_ne_bytes(b[i..i + 4].try_into().unwrap());
        assert_eq!(word(16), 9000);
        assert_eq!(word(24), 0x200);
        assert_eq!(word(32), 0xF00);
        assert_eq!(word(40), 2004);
        let small = rule_body(ProxyRouting { table: 200, ..r });
        assert_eq!(small[4], 200);
    }
}

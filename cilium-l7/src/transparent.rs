//! Sockets of a proxy that receives redirected traffic: transparent listeners (the datapath
//! assigns packets of other destinations to them, and the accepted socket's local address is
//! the original destination), UDP sockets that report each datagram's original destination
//! and answer from it, and upstream connections that carry the source identity in their mark.
//!
//! Transparent sockets need `CAP_NET_ADMIN` (`IP_TRANSPARENT`), marks `CAP_NET_ADMIN` as well.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol as SockProto, SockAddr, Socket, Type};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

fn domain_of(addr: &SocketAddr) -> Domain {
    if addr.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    }
}

fn set_transparent(s: &Socket, addr: &SocketAddr) -> io::Result<()> {
    if addr.is_ipv4() {
        s.set_ip_transparent_v4(true)
    } else {
        setsockopt_int(s, libc::SOL_IPV6, libc::IPV6_TRANSPARENT, 1)
    }
}

fn setsockopt_int(
    s: &Socket,
    level: libc::c_int,
    name: libc::c_int,
    v: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `v` outlives the call and its size is passed; the fd is owned by `s`.
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            level,
            name,
            (&raw const v).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A TCP listener on `addr` (usually `0.0.0.0:<proxy port>`) with `IP_TRANSPARENT`, so
/// connections the datapath assigns to it are accepted whatever their destination, and the
/// accepted socket answers from that destination. Must be called inside a tokio runtime.
///
/// # Errors
///
/// Socket, option, bind or listen errors (`EPERM` without `CAP_NET_ADMIN`).
pub fn tcp_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    let s = Socket::new(domain_of(&addr), Type::STREAM, Some(SockProto::TCP))?;
    s.set_reuse_address(true)?;
    set_transparent(&s, &addr)?;
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    s.listen(1024)?;
    TcpListener::from_std(s.into())
}

/// A UDP socket on `addr` with `IP_TRANSPARENT` that reports each datagram's original
/// destination (see [`recv_original_dst`]). Must be called inside a tokio runtime.
///
/// # Errors
///
/// Socket, option or bind errors.
pub fn udp_socket(addr: SocketAddr) -> io::Result<UdpSocket> {
    let s = Socket::new(domain_of(&addr), Type::DGRAM, Some(SockProto::UDP))?;
    s.set_reuse_address(true)?;
    set_transparent(&s, &addr)?;
    if addr.is_ipv4() {
        setsockopt_int(&s, libc::SOL_IP, libc::IP_RECVORIGDSTADDR, 1)?;
    } else {
        setsockopt_int(&s, libc::SOL_IPV6, libc::IPV6_RECVORIGDSTADDR, 1)?;
    }
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    UdpSocket::from_std(s.into())
}

/// Receives one datagram: its length, the sender, and the address it was sent to (the
/// original destination; the socket's own address when the kernel gave none).
///
/// # Errors
///
/// Receive errors.
pub async fn recv_original_dst(
    sock: &UdpSocket,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr, SocketAddr)> {
    loop {
        sock.readable().await?;
        match sock.try_io(tokio::io::Interest::READABLE, || recvmsg_orig(sock, buf)) {
            Ok((n, from, to)) => {
                let to = match to {
                    Some(t) => t,
                    None => sock.local_addr()?,
                };
                return Ok((n, from, to));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
}

fn recvmsg_orig(
    sock: &UdpSocket,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr, Option<SocketAddr>)> {
    // SAFETY: zeroed plain C structs.
    let mut from: libc::sockaddr_storage = unsafe { zeroed() };
    let mut cmsg = [0u64; 16];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: zeroed plain C struct, filled below.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&raw mut from).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<[u64; 16]>();
    // SAFETY: every pointer in `msg` points at live buffers of the given sizes.
    let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &raw mut msg, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel filled `from` with `msg_namelen` bytes of a socket address.
    let from = unsafe { sockaddr_to_std(&from) }
        .ok_or_else(|| io::Error::other("datagram from an address that is not IP"))?;
    let mut orig = None;
    // SAFETY: walking the control buffer the kernel filled, with the libc macros.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&raw const msg);
        while !c.is_null() {
            let (level, ty) = ((*c).cmsg_level, (*c).cmsg_type);
            if (level == libc::SOL_IP && ty == libc::IP_ORIGDSTADDR)
                || (level == libc::SOL_IPV6 && ty == libc::IPV6_ORIGDSTADDR)
            {
                let data = libc::CMSG_DATA(c).cast::<libc::sockaddr_storage>();
                let mut ss: libc::sockaddr_storage = zeroed();
                let len = ((*c).cmsg_len as usize)
                    .saturating_sub(libc::CMSG_LEN(0) as usize)
                    .min(size_of::<libc::sockaddr_storage>());
                std::ptr::copy_nonoverlapping(data.cast::<u8>(), (&raw mut ss).cast::<u8>(), len);
                orig = sockaddr_to_std(&ss);
            }
            c = libc::CMSG_NXTHDR(&raw const msg, c);
        }
    }
    Ok((n as usize, from, orig))
}

/// # Safety
///
/// `ss` must hold a socket address of the family it names.
unsafe fn sockaddr_to_std(ss: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(ss.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says this is a sockaddr_in.
            let a = unsafe { &*(std::ptr::from_ref(ss).cast::<libc::sockaddr_in>()) };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
                u16::from_be(a.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says this is a sockaddr_in6.
            let a = unsafe { &*(std::ptr::from_ref(ss).cast::<libc::sockaddr_in6>()) };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(a.sin6_addr.s6_addr),
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// Sends `data` to `to` from `from` (an address that need not be local: the original
/// destination a client sent its datagram to), through a transparent socket bound to `from`.
///
/// # Errors
///
/// Socket, bind or send errors.
pub async fn send_from(from: SocketAddr, to: SocketAddr, data: &[u8]) -> io::Result<usize> {
    let s = Socket::new(domain_of(&from), Type::DGRAM, Some(SockProto::UDP))?;
    s.set_reuse_address(true)?;
    s.set_reuse_port(true)?;
    set_transparent(&s, &from)?;
    s.set_nonblocking(true)?;
    s.bind(&from.into())?;
    let s = UdpSocket::from_std(s.into())?;
    s.send_to(data, to).await
}

/// Connects to `dst` with `SO_MARK` set to `mark` (see
/// `cilium_maps::abi::proxy_upstream_mark`), so the datapath applies the destination's
/// policy to the original client's identity.
///
/// # Errors
///
/// Socket, option or connect errors.
pub async fn connect_marked(dst: SocketAddr, mark: Option<u32>) -> io::Result<TcpStream> {
    let s = Socket::new(domain_of(&dst), Type::STREAM, Some(SockProto::TCP))?;
    if let Some(m) = mark {
        s.set_mark(m)?;
    }
    s.set_tcp_nodelay(true)?;
    s.set_nonblocking(true)?;
    match s.connect(&SockAddr::from(dst)) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    let stream = TcpStream::from_std(s.into())?;
    stream.writable().await?;
    if let Some(e) = stream.take_error()? {
        return Err(e);
    }
    Ok(stream)
}

/// A UDP socket for upstream queries, with `SO_MARK` set to `mark`.
///
/// # Errors
///
/// Socket, option or bind errors.
pub fn udp_marked(bind: SocketAddr, mark: Option<u32>) -> io::Result<UdpSocket> {
    let s = Socket::new(domain_of(&bind), Type::DGRAM, Some(SockProto::UDP))?;
    if let Some(m) = mark {
        s.set_mark(m)?;
    }
    s.set_nonblocking(true)?;
    s.bind(&bind.into())?;
    UdpSocket::from_std(s.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn udp_reports_the_destination_and_marked_connect_reaches_loopback() {
        // Without CAP_NET_ADMIN the transparent option fails; then there is nothing to test.
        let Ok(sock) = udp_socket("127.0.0.1:0".parse().unwrap()) else {
            return;
        };
        let at = sock.local_addr().unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.send_to(b"hi", at).await.unwrap();
        let mut buf = [0u8; 16];
        let (n, from, to) = recv_original_dst(&sock, &mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"hi");
        assert_eq!(from, client.local_addr().unwrap());
        assert_eq!(to, at);
        send_from(to, from, b"ok").await.unwrap();
        let (n, reply_from) = client.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], reply_from), (&b"ok"[..], at));

        let l = tcp_listener("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = l.local_addr().unwrap();
        let (c, s) = tokio::join!(connect_marked(addr, Some(0x0B00)), l.accept());
        let (c, s) = (c.unwrap(), s.unwrap().0);
        assert_eq!(s.local_addr().unwrap(), addr);
        assert_eq!(s.peer_addr().unwrap(), c.local_addr().unwrap());
    }
}

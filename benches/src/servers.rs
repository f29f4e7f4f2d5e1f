//! TCP servers inside a namespace, pinned to one CPU: accept-and-close (connect latency) and
//! one-byte echo (request/response). Stopped on drop.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use anyhow::Result;

use crate::sys::{in_netns, pin_to_cpu};

/// What a server does with each accepted connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// Close it at once.
    AcceptClose,
    /// Echo every byte until the peer closes (on a thread of its own, same CPU).
    Echo,
}

/// Listening threads, one per port; stopped on drop.
#[derive(Debug)]
pub struct Server {
    listeners: Vec<Arc<TcpListener>>,
    threads: Vec<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// Listens on `addr:port` for each port, in namespace `ns`, with every thread pinned to
    /// CPU `cpu`.
    pub fn start(
        ns: &str,
        addr: Ipv4Addr,
        ports: &[u16],
        cpu: usize,
        kind: ServerKind,
    ) -> Result<Self> {
        let mut server = Server {
            listeners: Vec::new(),
            threads: Vec::new(),
            stop: Arc::new(AtomicBool::new(false)),
        };
        for &port in ports {
            let listener = in_netns(ns, || Ok(TcpListener::bind((addr, port))?))?;
            // std listens with a backlog of 128; a client that outruns the server on the
            // same CPU would overflow it and wait a full SYN retransmission (1 s).
            // SAFETY: listen(2) again on our listening socket only raises its backlog.
            if unsafe { libc::listen(listener.as_raw_fd(), 4096) } != 0 {
                anyhow::bail!("listen: {}", std::io::Error::last_os_error());
            }
            let listener = Arc::new(listener);
            server.listeners.push(Arc::clone(&listener));
            let stop = Arc::clone(&server.stop);
            server.threads.push(std::thread::spawn(move || {
                if let Err(e) = pin_to_cpu(cpu) {
                    eprintln!("warning: server thread: {e}");
                }
                accept_loop(&listener, &stop, kind, cpu);
            }));
        }
        Ok(server)
    }
}

fn accept_loop(listener: &TcpListener, stop: &AtomicBool, kind: ServerKind, cpu: usize) {
    loop {
        match listener.accept() {
            Ok((conn, _)) => match kind {
                ServerKind::AcceptClose => drop(conn),
                ServerKind::Echo => {
                    std::thread::spawn(move || {
                        let _ = pin_to_cpu(cpu);
                        let _ = conn.set_nodelay(true);
                        echo(conn);
                    });
                }
            },
            Err(_) if stop.load(Ordering::Relaxed) => return,
            Err(_) => {}
        }
    }
}

fn echo(mut conn: std::net::TcpStream) {
    let mut buf = [0u8; 64];
    loop {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if conn.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for l in &self.listeners {
            // SAFETY: shutdown(2) on the listening socket, which `l` keeps open; it makes the
            // blocked accept() fail so the thread sees `stop` and returns.
            unsafe { libc::shutdown(l.as_raw_fd(), libc::SHUT_RDWR) };
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

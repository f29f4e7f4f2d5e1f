//! A throwaway single-member etcd on loopback, for tests and benchmarks.

use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::LocalEtcdError;

/// How long [`LocalEtcd::start`] waits for etcd to report healthy.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

static INSTANCE: AtomicU32 = AtomicU32::new(0);

/// An etcd server (Debian's `etcd-server`, or `$ETCD_BIN`) on free loopback ports with a
/// temporary data directory. [`kill`](LocalEtcd::kill) and [`restart`](LocalEtcd::restart)
/// keep the ports and the data; dropping it kills the process and removes the directory.
#[derive(Debug)]
pub struct LocalEtcd {
    binary: PathBuf,
    dir: PathBuf,
    client_port: u16,
    peer_port: u16,
    child: Option<Child>,
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> LocalEtcdError {
    let what = what.into();
    move |source| LocalEtcdError::Io { what, source }
}

fn free_port() -> Result<TcpListener, LocalEtcdError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(io("binding a free loopback port"))
}

impl LocalEtcd {
    /// Starts etcd with its data under the system's temporary directory.
    ///
    /// # Errors
    ///
    /// [`LocalEtcdError::NotInstalled`] if there is no etcd binary, otherwise an I/O error
    /// or [`LocalEtcdError::NotReady`] with the end of etcd's log.
    pub fn start() -> Result<LocalEtcd, LocalEtcdError> {
        LocalEtcd::start_in(&std::env::temp_dir())
    }

    /// Starts etcd with its data in a new directory under `base` (for example a tmpfs).
    ///
    /// # Errors
    ///
    /// As [`LocalEtcd::start`].
    pub fn start_in(base: &Path) -> Result<LocalEtcd, LocalEtcdError> {
        let binary =
            std::env::var_os("ETCD_BIN").map_or_else(|| PathBuf::from("etcd"), PathBuf::from);
        let n = INSTANCE.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("cilium-identity-etcd-{}-{n}", std::process::id()));
        fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
        // Ports are found by binding port 0 and released just before etcd binds them.
        let client = free_port()?;
        let peer = free_port()?;
        let port = |l: &TcpListener| {
            l.local_addr()
                .map(|a| a.port())
                .map_err(io("reading a port"))
        };
        let mut etcd = LocalEtcd {
            binary,
            client_port: port(&client)?,
            peer_port: port(&peer)?,
            dir,
            child: None,
        };
        drop((client, peer));
        etcd.spawn()?;
        Ok(etcd)
    }

    /// The client URL, `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the process is running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("etcd.log")
    }

    fn spawn(&mut self) -> Result<(), LocalEtcdError> {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(io("opening etcd's log file"))?;
        let log2 = log.try_clone().map_err(io("opening etcd's log file"))?;
        let client = format!("http://127.0.0.1:{}", self.client_port);
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let child = Command::new(&self.binary)
            .arg("--name=local")
            .arg(format!("--data-dir={}", self.dir.join("data").display()))
            .arg(format!("--listen-client-urls={client}"))
            .arg(format!("--advertise-client-urls={client}"))
            .arg(format!("--listen-peer-urls={peer}"))
            .arg(format!("--initial-advertise-peer-urls={peer}"))
            .arg(format!("--initial-cluster=local={peer}"))
            .arg("--logger=zap")
            .arg("--log-level=warn")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|source| LocalEtcdError::NotInstalled {
                binary: self.binary.clone(),
                source,
            })?;
        self.child = Some(child);
        self.wait_healthy()
    }

    fn healthy(&self) -> bool {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.client_port));
        let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
        if s.write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .is_err()
        {
            return false;
        }
        let mut body = String::new();
        let _ = s.read_to_string(&mut body);
        body.contains("\"health\":\"true\"")
    }

    fn wait_healthy(&mut self) -> Result<(), LocalEtcdError> {
        let start = Instant::now();
        while start.elapsed() < READY_TIMEOUT {
            if self.healthy() {
                return Ok(());
            }
            if !self.is_running() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let log = fs::read_to_string(self.log_path()).unwrap_or_default();
        let tail: String = log
            .lines()
            .rev()
            .take(5)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join(" | ");
        self.kill();
        Err(LocalEtcdError::NotReady {
            endpoint: self.endpoint(),
            waited_ms: start.elapsed().as_millis(),
            log_tail: tail,
        })
    }

    /// Kills the process (SIGKILL, no clean shutdown) and waits for it. The data stays.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the process again on the same ports and data (after [`kill`](Self::kill)).
    ///
    /// # Errors
    ///
    /// As [`LocalEtcd::start`].
    pub fn restart(&mut self) -> Result<(), LocalEtcdError> {
        self.kill();
        self.spawn()
    }
}

impl Drop for LocalEtcd {
    fn drop(&mut self) {
        self.kill();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

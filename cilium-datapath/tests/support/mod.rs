//! What the privileged traffic tests share: network namespaces ("pods" behind a "node" that
//! routes between them), a cgroup, echo servers that say who they are, and a client child
//! process driven line by line (socket LB needs the client inside a cgroup, and a process is
//! in one cgroup: tests running in parallel threads of one process cannot share that).
//!
//! Everything a test creates — namespaces (with their veths and attachments), the cgroup, the
//! pin directory — is removed when its guard drops. No traffic leaves the test's namespaces.

#![allow(dead_code, unreachable_pub)] // each test file uses its own part; a test-only module

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

pub fn strict() -> bool {
    std::env::var("CILIUM_PRIVILEGED_TESTS").as_deref() == Ok("1")
}

/// Skips (returns `None`) or, under `CILIUM_PRIVILEGED_TESTS=1`, fails.
pub fn or_skip<T>(what: &str, r: Result<T, String>) -> Option<T> {
    match r {
        Ok(t) => Some(t),
        Err(e) if strict() => panic!("CILIUM_PRIVILEGED_TESTS=1 but {what}: {e}"),
        Err(e) => {
            eprintln!("skipping: {what}: {e}");
            None
        }
    }
}

pub fn ip(args: &[&str]) -> Result<String, String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("run ip: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn enter_netns(ns: &str) {
    let file = File::open(format!("/var/run/netns/{ns}")).expect("open netns");
    // SAFETY: setns on the calling thread only, with a valid namespace fd.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(rc, 0, "setns {ns}: {}", std::io::Error::last_os_error());
}

/// Runs `f` on a thread that has entered network namespace `ns`.
pub fn in_netns<T: Send>(ns: &str, f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            enter_netns(ns);
            f()
        })
        .join()
        .expect("netns thread")
    })
}

/// One pod: namespace, address, and the node-side veth.
#[derive(Debug, Clone)]
pub struct Pod {
    pub ns: String,
    pub name: String,
    pub addr: String,
    pub veth: String,
    pub ifindex: u32,
}

impl Pod {
    pub fn sock(&self, port: u16) -> SocketAddr {
        SocketAddr::new(self.addr.parse().unwrap(), port)
    }
}

/// Namespaces and pins of one test, removed on drop.
pub struct Topology {
    pub node: String,
    pub pods: Vec<Pod>,
    pub pin_dir: PathBuf,
}

impl Drop for Topology {
    fn drop(&mut self) {
        for pod in &self.pods {
            let _ = ip(&["netns", "del", &pod.ns]);
        }
        let _ = ip(&["netns", "del", &self.node]);
        let _ = std::fs::remove_dir_all(&self.pin_dir);
    }
}

pub fn ifindex(ns: &str, dev: &str) -> u32 {
    let out = ip(&["-n", ns, "-o", "link", "show", dev]).unwrap();
    out.split(':').next().unwrap().trim().parse().unwrap()
}

/// A node namespace and `names.len()` pods `10.200.0.1`, `.2`, … behind it, with host-side
/// veths `cil<tag-letter><i>` in the node and `eth0` in each pod.
pub fn build(tag: &str, names: &[&str]) -> Result<Topology, String> {
    let pid = std::process::id();
    let mut topo = Topology {
        node: format!("cilrs-{tag}-node-{pid}"),
        pods: Vec::new(),
        pin_dir: PathBuf::from(format!("/sys/fs/bpf/cilium-rs-test-{tag}-{pid}")),
    };
    let _ = std::fs::remove_dir_all(&topo.pin_dir);
    ip(&["netns", "add", &topo.node])?;
    let node = topo.node.clone();
    ip(&["-n", &node, "link", "set", "lo", "up"])?;
    for (i, name) in names.iter().enumerate() {
        let n = i + 1;
        let pod = Pod {
            ns: format!("cilrs-{tag}-{name}-{pid}"),
            name: (*name).to_owned(),
            addr: format!("10.200.0.{n}"),
            veth: format!("cil{n}"),
            ifindex: 0,
        };
        let mac = format!("02:00:0a:c8:00:{n:02x}");
        let node_mac = format!("02:00:00:00:00:{n:02x}");
        ip(&["netns", "add", &pod.ns])?;
        topo.pods.push(pod.clone());
        let ns = pod.ns.as_str();
        ip(&[
            "-n", &node, "link", "add", &pod.veth, "address", &node_mac, "type", "veth", "peer",
            "name", "eth0", "netns", ns,
        ])?;
        ip(&["-n", ns, "link", "set", "eth0", "address", &mac])?;
        ip(&["-n", ns, "link", "set", "lo", "up"])?;
        ip(&["-n", ns, "link", "set", "eth0", "up"])?;
        ip(&[
            "-n",
            ns,
            "addr",
            "add",
            &format!("{}/32", pod.addr),
            "dev",
            "eth0",
        ])?;
        ip(&[
            "-n",
            ns,
            "route",
            "add",
            "169.254.1.1",
            "dev",
            "eth0",
            "scope",
            "link",
        ])?;
        ip(&[
            "-n",
            ns,
            "route",
            "add",
            "default",
            "via",
            "169.254.1.1",
            "dev",
            "eth0",
        ])?;
        ip(&[
            "-n",
            ns,
            "neigh",
            "add",
            "169.254.1.1",
            "lladdr",
            &node_mac,
            "dev",
            "eth0",
            "nud",
            "permanent",
        ])?;
        ip(&["-n", &node, "link", "set", &pod.veth, "up"])?;
        ip(&[
            "-n",
            &node,
            "route",
            "add",
            &format!("{}/32", pod.addr),
            "dev",
            &pod.veth,
        ])?;
        ip(&[
            "-n",
            &node,
            "neigh",
            "add",
            &pod.addr,
            "lladdr",
            &mac,
            "dev",
            &pod.veth,
            "nud",
            "permanent",
        ])?;
    }
    in_netns(&node, || {
        std::fs::write("/proc/sys/net/ipv4/ip_forward", "1")
    })
    .map_err(|e| format!("enable forwarding in the node namespace: {e}"))?;
    for pod in &mut topo.pods {
        pod.ifindex = ifindex(&node, &pod.veth);
    }
    Ok(topo)
}

/// A cgroup v2 directory of the test, removed on drop (after its processes are gone).
pub struct Cgroup {
    pub path: PathBuf,
}

impl Cgroup {
    pub fn new(tag: &str) -> Result<Self, String> {
        let root = Path::new("/sys/fs/cgroup/unified");
        let root = if root.join("cgroup.controllers").exists() {
            root
        } else if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
            Path::new("/sys/fs/cgroup")
        } else {
            return Err("no cgroup v2 hierarchy mounted".into());
        };
        let path = root.join(format!("cilrs-test-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&path).map_err(|e| format!("mkdir {}: {e}", path.display()))?;
        Ok(Self { path })
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        for _ in 0..50 {
            if std::fs::remove_dir(&self.path).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A TCP server in `pod` on `port` answering every line with the pod's name, and a UDP
/// server on the same port doing the same per datagram; both serve until the test ends.
pub fn name_servers(pod: &Pod, port: u16) {
    let (tcp, udp) = in_netns(&pod.ns, || {
        (
            TcpListener::bind((pod.addr.as_str(), port)).expect("bind tcp in pod"),
            UdpSocket::bind((pod.addr.as_str(), port)).expect("bind udp in pod"),
        )
    });
    let name = pod.name.clone();
    std::thread::spawn(move || {
        for conn in tcp.incoming().flatten() {
            let name = name.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut w = conn;
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    if w.write_all(format!("{name}\n").as_bytes()).is_err() {
                        break;
                    }
                    line.clear();
                }
            });
        }
    });
    let name = pod.name.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((_, from)) = udp.recv_from(&mut buf) {
            let _ = udp.send_to(format!("{name}\n").as_bytes(), from);
        }
    });
}

/// One exchange on a fresh TCP connection from the calling thread: the server's name and the
/// peer address the socket reports.
pub fn tcp_ask(to: SocketAddr, timeout: Duration) -> Result<(String, SocketAddr), String> {
    let mut s = TcpStream::connect_timeout(&to, timeout).map_err(|e| e.to_string())?;
    let peer = s.peer_addr().map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s.write_all(b"who\n").map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(s);
    let mut line = String::new();
    reader.read_line(&mut line).map_err(|e| e.to_string())?;
    Ok((line.trim().to_owned(), peer))
}

/// One datagram to `to` from a fresh unconnected socket: the server's name and the source
/// address the reply was received from.
pub fn udp_ask(to: SocketAddr) -> Result<(String, SocketAddr), String> {
    let s = UdpSocket::bind("0.0.0.0:0").map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    s.send_to(b"who", to).map_err(|e| e.to_string())?;
    let mut buf = [0u8; 64];
    let (n, from) = s.recv_from(&mut buf).map_err(|e| e.to_string())?;
    Ok((String::from_utf8_lossy(&buf[..n]).trim().to_owned(), from))
}

// ---- the client child process -------------------------------------------------------------

const CHILD_ENV: &str = "CILRS_TEST_CHILD";

/// The child's side: called by an `#[ignore]`d test of the file that spawns it. Joins the
/// cgroup and namespace named in its environment, then runs commands from stdin:
///   `tcp ADDR` (connect, keep it, answer `ok IDX NAME PEER`), `again IDX` (another line on
///   kept connection IDX: `ok NAME`), `udp ADDR` (`ok NAME FROM`), `load PIN_DIR IFINDEX,…`
///   (be the datapath's loader: load over the pins, attach the endpoint programs where no
///   pinned link exists yet, keep it loaded; `ok REPLACED_LINKS`), `quit`.
/// Errors answer `err MESSAGE`.
pub fn child_main() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return; // not spawned as a child: nothing to do
    };
    let mut parts = spec.split(',');
    let ns = parts.next().unwrap().to_owned();
    if let Some(cg) = parts.next().filter(|c| !c.is_empty()) {
        std::fs::write(
            Path::new(cg).join("cgroup.procs"),
            std::process::id().to_string(),
        )
        .expect("join cgroup");
    }
    enter_netns(&ns);
    let stdin = std::io::stdin();
    let mut kept: Vec<BufReader<TcpStream>> = Vec::new();
    let mut loaded = Vec::new();
    let mut out = std::io::stdout();
    for line in stdin.lock().lines() {
        let line = line.unwrap();
        let mut w = line.split_whitespace();
        let answer = match (w.next(), w.next()) {
            (Some("tcp"), Some(addr)) => {
                let to: SocketAddr = addr.parse().unwrap();
                match TcpStream::connect_timeout(&to, Duration::from_millis(1500)) {
                    Ok(mut s) => {
                        let peer = s.peer_addr().map(|p| p.to_string()).unwrap_or_default();
                        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                        let _ = s.write_all(b"who\n");
                        let mut r = BufReader::new(s);
                        let mut name = String::new();
                        match r.read_line(&mut name) {
                            Ok(n) if n > 0 => {
                                kept.push(r);
                                format!("ok {} {} {peer}", kept.len() - 1, name.trim())
                            }
                            Ok(_) => "err closed".into(),
                            Err(e) => format!("err {e}"),
                        }
                    }
                    Err(e) => format!("err {}", e.kind()),
                }
            }
            (Some("again"), Some(idx)) => {
                let r = &mut kept[idx.parse::<usize>().unwrap()];
                let mut name = String::new();
                let sent = r.get_mut().write_all(b"who\n");
                match sent.and_then(|()| r.read_line(&mut name)) {
                    Ok(n) if n > 0 => format!("ok {}", name.trim()),
                    Ok(_) => "err closed".into(),
                    Err(e) => format!("err {e}"),
                }
            }
            (Some("udp"), Some(addr)) => match udp_ask(addr.parse().unwrap()) {
                Ok((name, from)) => format!("ok {name} {from}"),
                Err(e) => format!("err {e}"),
            },
            (Some("load"), Some(pin_dir)) => {
                let ifindexes: Vec<u32> = w
                    .next()
                    .unwrap()
                    .split(',')
                    .map(|i| i.parse().unwrap())
                    .collect();
                match cilium_datapath::Datapath::load(&cilium_datapath::DatapathConfig::new(
                    pin_dir,
                )) {
                    Ok(dp) => {
                        let replaced = dp.replaced_links();
                        if replaced == 0 {
                            for i in ifindexes {
                                dp.attach_endpoint(i).expect("attach endpoint");
                            }
                        }
                        loaded.push(dp);
                        format!("ok {replaced}")
                    }
                    Err(e) => format!("err {e}"),
                }
            }
            (Some("quit"), _) => break,
            _ => format!("err bad command {line}"),
        };
        writeln!(out, "CHILD {answer}").unwrap();
        out.flush().unwrap();
    }
}

/// The parent's handle on a client child.
pub struct Client {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Client {
    /// Spawns this test binary's `entry` test as a client in `ns` (and `cgroup`, if given).
    pub fn spawn(entry: &str, ns: &str, cgroup: Option<&Path>) -> Client {
        let spec = format!(
            "{ns},{}",
            cgroup.map(|c| c.display().to_string()).unwrap_or_default()
        );
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                entry,
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, spec)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn client child");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Client {
            child,
            stdin,
            stdout,
        }
    }

    /// Sends one command, returns the answer's words (`ok …` or `err …`).
    pub fn ask(&mut self, cmd: &str) -> Vec<String> {
        writeln!(self.stdin, "{cmd}").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.stdout.read_line(&mut line).unwrap();
            assert!(n > 0, "client child exited while asked {cmd}");
            // The harness may have printed `test NAME ... ` on the same line before.
            if let Some(at) = line.find("CHILD ") {
                return line[at + 6..]
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect();
            }
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut rest = String::new();
        let _ = self.stdout.read_to_string(&mut rest);
    }
}

// ---- datapath state and events shared by the traffic tests ----------------------------------

/// Registers `pod` as local endpoint `endpoint_id` with `identity` and endpoint `flags`.
pub fn add_endpoint(
    dp: &cilium_datapath::Datapath,
    pod: &Pod,
    endpoint_id: u16,
    identity: u32,
    flags: u16,
) {
    use cilium_maps::abi::{EndpointInfo, EndpointKey};
    let info = EndpointInfo {
        ifindex: pod.ifindex,
        endpoint_id,
        identity,
        flags,
        ..bytemuck::Zeroable::zeroed()
    };
    dp.endpoints()
        .unwrap()
        .insert(&EndpointKey::new(pod.addr.parse().unwrap()), &info)
        .unwrap();
}

/// A reader of the pinned events ring buffer, independent of any one `Datapath`.
pub fn events_ring(pin_dir: &Path) -> aya::maps::RingBuf<aya::maps::MapData> {
    let data = aya::maps::MapData::from_pin(pin_dir.join("cil_events")).unwrap();
    aya::maps::RingBuf::try_from(aya::maps::Map::RingBuf(data)).unwrap()
}

/// Every event the ring holds now, decoded.
pub fn drain(ring: &mut aya::maps::RingBuf<aya::maps::MapData>) -> Vec<cilium_maps::events::Event> {
    let mut out = Vec::new();
    while let Some(item) = ring.next() {
        out.push(cilium_maps::events::Event::parse(&item).unwrap());
    }
    out
}

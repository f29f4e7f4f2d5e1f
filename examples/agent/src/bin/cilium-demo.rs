//! `cilium-demo`: the one-command demo (`cargo xtask demo` runs `cilium-demo run`), and the
//! small programs it runs inside pods (servers and probes), so the demo needs nothing but
//! its own binaries, `ip` and `dnsmasq`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use cilium_agent::cluster::{Bins, Cluster, OUTSIDE_ADDRS};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

fn usage() -> ! {
    eprintln!(
        "usage: cilium-demo run
       cilium-demo serve-http PORT NAME     (in a pod: answers every request with 200 NAME)
       cilium-demo serve-echo PORT NAME     (in a pod: greets with NAME, then echoes)
       cilium-demo http METHOD URL [HOST]   (prints the status code; exit 2 if no answer)
       cilium-demo tcp ADDR:PORT            (prints the greeting; exit 2 if no answer)
       cilium-demo resolve NAME SERVER      (A records over UDP; prints rcode and addresses)
       cilium-demo hold ADDR:PORT SECONDS   (one connection, a round trip every 50 ms; exit 2 on a failure)"
    );
    std::process::exit(64)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let code = match a.as_slice() {
        ["run"] => run_demo(),
        ["serve-http", port, name] => serve_http(port.parse().unwrap_or_else(|_| usage()), name),
        ["serve-echo", port, name] => serve_echo(port.parse().unwrap_or_else(|_| usage()), name),
        ["http", method, url] => http(method, url),
        ["tcp", addr] => tcp(addr),
        ["resolve", name, server] => resolve(name, server),
        ["hold", addr, secs] => hold(addr, secs.parse().unwrap_or_else(|_| usage())),
        _ => usage(),
    };
    std::process::exit(code)
}

// ---- programs that run inside pods ---------------------------------------------------------

fn serve_http(port: u16, name: &str) -> i32 {
    let l = TcpListener::bind(("0.0.0.0", port)).expect("bind");
    for s in l.incoming().flatten() {
        let name = name.to_owned();
        std::thread::spawn(move || {
            let mut r = BufReader::new(match s.try_clone() {
                Ok(c) => c,
                Err(_) => return,
            });
            let mut s = s;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let mut len = 0usize;
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap_or(0) == 0 {
                        return;
                    }
                    if h == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':')
                        && k.eq_ignore_ascii_case("content-length")
                    {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                if r.read_exact(&mut body).is_err() {
                    return;
                }
                let text = format!("{name} {}\n", line.trim());
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\ncontent-type: text/plain\r\n\r\n{text}",
                    text.len()
                );
                if s.write_all(resp.as_bytes()).is_err() {
                    return;
                }
            }
        });
    }
    0
}

fn serve_echo(port: u16, name: &str) -> i32 {
    let l = TcpListener::bind(("0.0.0.0", port)).expect("bind");
    for mut s in l.incoming().flatten() {
        let name = name.to_owned();
        std::thread::spawn(move || {
            let _ = s.write_all(format!("{name}\n").as_bytes());
            let mut buf = [0u8; 512];
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 || s.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
        });
    }
    0
}

fn connect(addr: &str, timeout: Duration) -> Option<TcpStream> {
    let sa: SocketAddr = addr.parse().ok()?;
    let s = TcpStream::connect_timeout(&sa, timeout).ok()?;
    s.set_read_timeout(Some(timeout)).ok()?;
    Some(s)
}

fn http(method: &str, url: &str) -> i32 {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = if hostport.contains(':') {
        hostport.to_owned()
    } else {
        format!("{hostport}:80")
    };
    let Some(mut s) = connect(&addr, Duration::from_millis(1500)) else {
        println!("no answer");
        return 2;
    };
    let req = format!("{method} {path} HTTP/1.1\r\nhost: {hostport}\r\nconnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        println!("no answer");
        return 2;
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    match out.split_whitespace().nth(1) {
        Some(code) => {
            println!("{code}");
            0
        }
        None => {
            println!("no answer");
            2
        }
    }
}

fn tcp(addr: &str) -> i32 {
    let Some(s) = connect(addr, Duration::from_millis(1500)) else {
        println!("no answer");
        return 2;
    };
    let mut line = String::new();
    match BufReader::new(s).read_line(&mut line) {
        Ok(n) if n > 0 => {
            println!("{}", line.trim());
            0
        }
        _ => {
            println!("no answer");
            2
        }
    }
}

fn hold(addr: &str, secs: u64) -> i32 {
    let Some(mut s) = connect(addr, Duration::from_secs(2)) else {
        println!("connect failed");
        return 2;
    };
    let mut greet = [0u8; 256];
    if s.read(&mut greet).unwrap_or(0) == 0 {
        println!("no greeting");
        return 2;
    }
    let end = std::time::Instant::now() + Duration::from_secs(secs);
    let mut rounds = 0u64;
    while std::time::Instant::now() < end {
        let mut buf = [0u8; 8];
        if s.write_all(b"ping\n").is_err() || s.read_exact(&mut buf[..5]).is_err() {
            println!("broken after {rounds} round trips");
            return 2;
        }
        rounds += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    println!("{rounds} round trips");
    0
}

fn resolve(name: &str, server: &str) -> i32 {
    let sock = UdpSocket::bind("0.0.0.0:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_secs(2))).ok();
    let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.trim_end_matches('.').split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    let server = if server.contains(':') {
        server.to_owned()
    } else {
        format!("{server}:53")
    };
    if sock.send_to(&q, &server).is_err() {
        println!("no answer");
        return 2;
    }
    let mut buf = [0u8; 1500];
    let Ok(n) = sock.recv(&mut buf) else {
        println!("no answer");
        return 2;
    };
    let b = &buf[..n];
    if n < 12 {
        println!("short answer");
        return 2;
    }
    let rcode = b[3] & 0x0f;
    let rcode_name = match rcode {
        0 => "NOERROR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        5 => "REFUSED",
        _ => "OTHER",
    };
    let answers = u16::from_be_bytes([b[6], b[7]]);
    // Skip the question, then read A records (names compressed as pointers).
    let mut i = 12;
    while i < n && b[i] != 0 {
        i += usize::from(b[i]) + 1;
    }
    i += 5;
    let mut ips = Vec::new();
    for _ in 0..answers {
        if i >= n {
            break;
        }
        if b[i] & 0xc0 == 0xc0 {
            i += 2;
        } else {
            while i < n && b[i] != 0 {
                i += usize::from(b[i]) + 1;
            }
            i += 1;
        }
        if i + 10 > n {
            break;
        }
        let ty = u16::from_be_bytes([b[i], b[i + 1]]);
        let len = usize::from(u16::from_be_bytes([b[i + 8], b[i + 9]]));
        i += 10;
        if ty == 1 && len == 4 && i + 4 <= n {
            ips.push(format!("{}.{}.{}.{}", b[i], b[i + 1], b[i + 2], b[i + 3]));
        }
        i += len;
    }
    println!("{rcode_name} {}", ips.join(","));
    0
}

// ---- the demo -------------------------------------------------------------------------------

const POLICIES: &str = include_str!("../../demo/policies.yaml");
const PODS: &str = include_str!("../../demo/pods.yaml");
const SERVICES: &str = include_str!("../../demo/services.yaml");

struct Check {
    what: String,
    expect: &'static str,
    got: String,
    ok: bool,
}

fn interrupted() -> Result<(), String> {
    if INTERRUPTED.load(Ordering::SeqCst) {
        Err("interrupted (Ctrl-C): cleaning up".into())
    } else {
        Ok(())
    }
}

fn run_demo() -> i32 {
    // SAFETY: installs a handler that only stores to an atomic.
    unsafe {
        libc::signal(libc::SIGINT, on_sigint as *const () as usize);
        libc::signal(libc::SIGTERM, on_sigint as *const () as usize);
    }
    match demo() {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            eprintln!("demo: {e}");
            1
        }
    }
}

fn demo() -> Result<bool, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let bins = Bins::beside(&exe)?;
    println!("== cilium-rs demo: a node, four pods through the CNI plugin, policies from YAML\n");
    let mut c = Cluster::new("demo", bins, "10.200.0.0/24")?;
    c.write_config("pods.yaml", PODS)?;
    c.write_config("policies.yaml", POLICIES)?;
    println!("-- agent: standalone mode, directory {}", c.etc().display());
    c.start_agent()?;
    interrupted()?;
    // The outside world: dnsmasq and a web server on two addresses.
    let pidfile = c.dir.join("dnsmasq.pid");
    let outside = c.outside.clone();
    c.spawn_cmd(
        &outside,
        "dnsmasq",
        &[
            "--no-daemon",
            "--no-resolv",
            "--no-hosts",
            "--local-ttl=60",
            "--bind-interfaces",
            &format!("--listen-address={}", OUTSIDE_ADDRS[0]),
            &format!("--address=/api.example.test/{}", OUTSIDE_ADDRS[0]),
            &format!("--address=/www.example.test/{}", OUTSIDE_ADDRS[1]),
            &format!("--pid-file={}", pidfile.display()),
        ],
    )?;
    c.spawn(&outside, &["serve-http", "80", "outside-web"])?;
    for (ns, name) in [
        ("default", "frontend"),
        ("default", "backend"),
        ("default", "db"),
        ("default", "outsider"),
    ] {
        interrupted()?;
        let p = c.add_pod(ns, name)?;
        println!("-- CNI ADD {ns}/{name}: {} (netns {})", p.ip, p.netns);
    }
    let (frontend, backend, db, outsider) = (
        c.pod("frontend").clone(),
        c.pod("backend").clone(),
        c.pod("db").clone(),
        c.pod("outsider").clone(),
    );
    c.write_config(
        "services.yaml",
        &SERVICES.replace("BACKEND_IP", &backend.ip.to_string()),
    )?;
    c.spawn(&backend.netns, &["serve-http", "8080", "backend"])?;
    c.spawn(&db.netns, &["serve-echo", "5432", "db"])?;
    std::thread::sleep(Duration::from_millis(800));
    let (_, eps) = c.dbg(&["endpoint", "list"])?;
    println!("\n$ cilium-dbg endpoint list\n{eps}");
    let (_, svcs) = c.dbg(&["service", "list"])?;
    println!("$ cilium-dbg service list\n{svcs}");

    // The live flow log.
    let mut observe = Command::new("ip")
        .args(["netns", "exec", &c.node])
        .arg(&c.bins.dbg)
        .arg("--socket")
        .arg(c.socket())
        .args([
            "observe",
            "--follow",
            "-o",
            "compact",
            "--type",
            "policy-verdict",
            "--type",
            "drop",
            "--type",
            "l7",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let stdout = observe.stdout.take().expect("piped");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("   flow | {line}");
        }
    });
    std::thread::sleep(Duration::from_millis(500));

    println!("\n-- traffic (flows as Hubble sees them, live)\n");
    let mut checks = Vec::new();
    let mut probe = |c: &Cluster, what: &str, netns: &str, args: &[&str], expect: &'static str| {
        let out = c.exec(netns, args).map(|o| {
            (
                o.status.code() == Some(0),
                String::from_utf8_lossy(&o.stdout).trim().to_owned(),
            )
        });
        let (answered, got) = out.unwrap_or((false, "error".into()));
        let ok = match expect {
            "200" | "403" => got == expect,
            "DROPPED" => !answered,
            "REFUSED" => got.starts_with("REFUSED"),
            _ => answered && got.contains(expect),
        };
        println!("   {what}: {got}");
        checks.push(Check {
            what: what.to_owned(),
            expect,
            got,
            ok,
        });
        std::thread::sleep(Duration::from_millis(200));
    };
    let svc = "10.96.0.10";
    let be = format!("{}:8080", backend.ip);
    let dbaddr = format!("{}:5432", db.ip);
    interrupted()?;
    probe(
        &c,
        "frontend -> backend  GET /api/items (L7 allowed)",
        &frontend.netns,
        &["http", "GET", &format!("http://{be}/api/items")],
        "200",
    );
    probe(
        &c,
        "frontend -> backend  DELETE /api/items (L7 denied)",
        &frontend.netns,
        &["http", "DELETE", &format!("http://{be}/api/items")],
        "403",
    );
    probe(
        &c,
        "frontend -> backend  GET /admin (L7 denied)",
        &frontend.netns,
        &["http", "GET", &format!("http://{be}/admin")],
        "403",
    );
    probe(
        &c,
        "frontend -> svc backend 10.96.0.10:80 (Maglev) tcp",
        &frontend.netns,
        &["http", "GET", &format!("http://{svc}/api/items")],
        "200",
    );
    probe(
        &c,
        "outsider -> backend:8080 (no rule allows it)",
        &outsider.netns,
        &["http", "GET", &format!("http://{be}/api/items")],
        "DROPPED",
    );
    probe(
        &c,
        "backend  -> db:5432 (allowed L4)",
        &backend.netns,
        &["tcp", &dbaddr],
        "db",
    );
    probe(
        &c,
        "frontend -> db:5432 (egress denied)",
        &frontend.netns,
        &["tcp", &dbaddr],
        "DROPPED",
    );
    probe(
        &c,
        "outsider -> db:5432 (ingress denied)",
        &outsider.netns,
        &["tcp", &dbaddr],
        "DROPPED",
    );
    interrupted()?;
    probe(
        &c,
        "frontend resolves api.example.test (DNS allowed)",
        &frontend.netns,
        &["resolve", "api.example.test", OUTSIDE_ADDRS[0]],
        OUTSIDE_ADDRS[0],
    );
    probe(
        &c,
        "frontend -> api.example.test:80 (toFQDNs, learned)",
        &frontend.netns,
        &["http", "GET", &format!("http://{}/", OUTSIDE_ADDRS[0])],
        "200",
    );
    probe(
        &c,
        "frontend -> www.example.test:80 (not looked up)",
        &frontend.netns,
        &["http", "GET", &format!("http://{}/", OUTSIDE_ADDRS[1])],
        "DROPPED",
    );
    probe(
        &c,
        "frontend resolves evil.test (DNS rule refuses)",
        &frontend.netns,
        &["resolve", "evil.test", OUTSIDE_ADDRS[0]],
        "REFUSED",
    );
    std::thread::sleep(Duration::from_millis(800));
    let _ = observe.kill();
    let _ = observe.wait();

    let (_, pol) = c.dbg(&["bpf", "policy", "get", "2"])?;
    println!("\n$ cilium-dbg bpf policy get 2   (backend)\n{pol}");
    let (_, fq) = c.dbg(&["fqdn", "cache", "list"])?;
    println!("$ cilium-dbg fqdn cache list\n{fq}");

    println!("\n-- summary\n");
    println!("   {:<56} {:<9} {:<22}", "FLOW", "EXPECTED", "GOT");
    let mut all = true;
    for ch in &checks {
        all &= ch.ok;
        println!(
            "   {:<56} {:<9} {:<22} {}",
            ch.what,
            ch.expect,
            ch.got,
            if ch.ok { "ok" } else { "UNEXPECTED" }
        );
    }
    println!(
        "\n   {} of {} flows as the policies say",
        checks.iter().filter(|c| c.ok).count(),
        checks.len()
    );
    println!("\n-- cleaning up: CNI DEL of every pod, agent stopped, pins and namespaces removed");
    drop(c);
    println!("   done");
    Ok(all)
}

//! A small cluster in network namespaces, driven the way a container runtime drives a node:
//! a "node" namespace where the agent runs, pods created through the CNI plugin, and an
//! "outside" namespace for addresses beyond the cluster (a DNS server, a web server). The
//! demo and the end-to-end tests share it.
//!
//! Everything it creates is named `cilrs-<tag>-…-<pid>` and removed on drop: pods are
//! deleted through the plugin (CNI DEL), then the agent is stopped and its pins, routing
//! and state removed (`cilium-agent --cleanup`), then the namespaces.

use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use cilium_agent_api as api;

/// The binaries the cluster runs.
#[derive(Debug, Clone)]
pub struct Bins {
    /// `cilium-agent`.
    pub agent: PathBuf,
    /// `cilium-cni`.
    pub cni: PathBuf,
    /// `cilium-dbg`.
    pub dbg: PathBuf,
    /// `cilium-demo` (its helper subcommands serve and probe inside pods).
    pub demo: PathBuf,
}

impl Bins {
    /// The binaries beside `exe` (for a test: `target/<profile>/deps/..`), or an error
    /// naming what to build.
    pub fn beside(exe: &Path) -> Result<Bins, String> {
        let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
        if dir.ends_with("deps") {
            dir.pop();
        }
        let find = |name: &str| {
            let p = dir.join(name);
            if p.exists() {
                Ok(p)
            } else {
                Err(format!(
                    "{} not found: build it first (cargo build -p {})",
                    p.display(),
                    match name {
                        "cilium-agent" | "cilium-demo" => "cilium-agent",
                        other => other,
                    }
                ))
            }
        };
        Ok(Bins {
            agent: find("cilium-agent")?,
            cni: find("cilium-cni")?,
            dbg: find("cilium-dbg")?,
            demo: find("cilium-demo")?,
        })
    }
}

/// Runs `ip` with `args`.
///
/// # Errors
///
/// The command's stderr when it fails.
pub fn ip(args: &[&str]) -> Result<String, String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if !out.status.success() {
        return Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A pod made through the plugin.
#[derive(Debug, Clone)]
pub struct Pod {
    /// Short name (`frontend`).
    pub name: String,
    /// Kubernetes namespace.
    pub namespace: String,
    /// Its network namespace.
    pub netns: String,
    /// Container id given to the plugin.
    pub container_id: String,
    /// Address the agent leased.
    pub ip: Ipv4Addr,
    /// The plugin's ADD result.
    pub result: serde_json::Value,
}

/// The cluster.
#[derive(Debug)]
pub struct Cluster {
    /// Name part of everything created.
    pub tag: String,
    /// The node namespace.
    pub node: String,
    /// The outside namespace (no endpoint, no programs).
    pub outside: String,
    /// Working directory (state, sockets, standalone YAML, logs).
    pub dir: PathBuf,
    /// The binaries.
    pub bins: Bins,
    /// Pods by creation order.
    pub pods: Vec<Pod>,
    /// bpffs directory of the agent.
    pub pin_dir: PathBuf,
    /// Pod pool.
    pub pod_cidr: String,
    agent: Option<Child>,
    helpers: Vec<Child>,
}

/// The node's own address (on its loopback; the proxies' upstream connections come from it).
pub const NODE_ADDR: &str = "10.200.255.254";
/// The outside namespace's addresses: the first serves DNS and HTTP, the second HTTP only.
pub const OUTSIDE_ADDRS: [&str; 2] = ["10.201.0.10", "10.201.0.11"];

impl Cluster {
    /// A node namespace (forwarding on, [`NODE_ADDR`] on its loopback) and an outside
    /// namespace reachable from it, with pod pool `pod_cidr`.
    ///
    /// # Errors
    ///
    /// A namespace or link could not be made (what was made is removed).
    pub fn new(tag: &str, bins: Bins, pod_cidr: &str) -> Result<Cluster, String> {
        let pid = std::process::id();
        let dir = std::env::temp_dir().join(format!("cilrs-{tag}-{pid}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("etc")).map_err(|e| e.to_string())?;
        let c = Cluster {
            tag: tag.to_owned(),
            node: format!("cilrs-{tag}-node-{pid}"),
            outside: format!("cilrs-{tag}-outside-{pid}"),
            pin_dir: PathBuf::from(format!("/sys/fs/bpf/cilium-rs-test-{tag}-{pid}")),
            dir,
            bins,
            pods: Vec::new(),
            pod_cidr: pod_cidr.to_owned(),
            agent: None,
            helpers: Vec::new(),
        };
        ip(&["netns", "add", &c.node])?;
        ip(&["netns", "add", &c.outside])?;
        let (node, out) = (c.node.as_str(), c.outside.as_str());
        ip(&["-n", node, "link", "set", "lo", "up"])?;
        ip(&[
            "-n",
            node,
            "addr",
            "add",
            &format!("{NODE_ADDR}/32"),
            "dev",
            "lo",
        ])?;
        ip(&["-n", out, "link", "set", "lo", "up"])?;
        ip(&[
            "-n", node, "link", "add", "outside0", "type", "veth", "peer", "name", "eth0", "netns",
            out,
        ])?;
        ip(&["-n", node, "link", "set", "outside0", "up"])?;
        ip(&["-n", out, "link", "set", "eth0", "up"])?;
        for a in OUTSIDE_ADDRS {
            ip(&["-n", out, "addr", "add", &format!("{a}/32"), "dev", "eth0"])?;
            ip(&[
                "-n",
                node,
                "route",
                "add",
                &format!("{a}/32"),
                "dev",
                "outside0",
            ])?;
        }
        ip(&[
            "-n", out, "route", "add", NODE_ADDR, "dev", "eth0", "scope", "link",
        ])?;
        ip(&[
            "-n", out, "route", "add", "default", "via", NODE_ADDR, "dev", "eth0", "onlink",
        ])?;
        c.sysctl("net/ipv4/ip_forward", "1")?;
        Ok(c)
    }

    fn sysctl(&self, key: &str, value: &str) -> Result<(), String> {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.node, "sh", "-c"])
            .arg(format!("echo {value} > /proc/sys/{key}"))
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "sysctl {key}: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// The agent's API socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.join("agent.sock")
    }

    /// The standalone directory the agent reads.
    pub fn etc(&self) -> PathBuf {
        self.dir.join("etc")
    }

    /// A client of the agent.
    pub fn client(&self) -> api::Client {
        api::Client::new(self.socket()).with_timeout(Duration::from_secs(30))
    }

    /// Writes `name` into the standalone directory (atomically: the agent never reads half
    /// a file).
    ///
    /// # Errors
    ///
    /// The file could not be written.
    pub fn write_config(&self, name: &str, text: &str) -> Result<(), String> {
        let tmp = self.dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text).map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, self.etc().join(name)).map_err(|e| e.to_string())
    }

    /// Removes `name` from the standalone directory.
    pub fn remove_config(&self, name: &str) {
        let _ = std::fs::remove_file(self.etc().join(name));
    }

    fn agent_args(&self) -> Vec<String> {
        vec![
            "--netns".into(),
            format!("/var/run/netns/{}", self.node),
            "--node-name".into(),
            format!("{}-node", self.tag),
            "--node-ip".into(),
            NODE_ADDR.into(),
            "--pod-cidr".into(),
            self.pod_cidr.clone(),
            "--state-dir".into(),
            self.dir.join("state").display().to_string(),
            "--pin-dir".into(),
            self.pin_dir.display().to_string(),
            "--socket".into(),
            self.socket().display().to_string(),
            "--standalone".into(),
            self.etc().display().to_string(),
            "--standalone-interval-ms".into(),
            "200".into(),
            "--maglev".into(),
        ]
    }

    /// Starts the agent in the node namespace (log in `agent.log`) and waits until it is
    /// ready.
    ///
    /// # Errors
    ///
    /// It exited or was not ready within 60 s (the log's tail is in the message).
    pub fn start_agent(&mut self) -> Result<(), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("agent.log"))
            .map_err(|e| e.to_string())?;
        let child = Command::new(&self.bins.agent)
            .args(self.agent_args())
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("start {}: {e}", self.bins.agent.display()))?;
        self.agent = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(s) = self.client().status()
                && s.ready
            {
                return Ok(());
            }
            if let Some(c) = self.agent.as_mut()
                && let Ok(Some(st)) = c.try_wait()
            {
                return Err(format!("agent exited ({st}):\n{}", self.agent_log_tail()));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "agent not ready after 60 s:\n{}",
                    self.agent_log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The last lines of the agent's log.
    pub fn agent_log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("agent.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// `kill -9` of the agent (no chance to clean anything up).
    pub fn kill_agent(&mut self) {
        if let Some(mut c) = self.agent.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops the agent with SIGTERM.
    pub fn stop_agent(&mut self) {
        if let Some(mut c) = self.agent.take() {
            // SAFETY: kill(2) on a child we own.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Runs the plugin in the node namespace, as a runtime does: command, env, config on
    /// stdin. Returns the exit code and stdout.
    ///
    /// # Errors
    ///
    /// The plugin could not be started.
    pub fn cni(
        &self,
        command: &str,
        container_id: &str,
        netns: &str,
        args: &str,
        config: &str,
    ) -> Result<(i32, String), String> {
        let env = [
            ("CNI_COMMAND", command),
            ("CNI_CONTAINERID", container_id),
            ("CNI_NETNS", netns),
            ("CNI_IFNAME", "eth0"),
            ("CNI_ARGS", args),
            ("CNI_PATH", "/usr/lib/cni"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        self.cni_raw(&env, config)
    }

    /// Runs the plugin in the node namespace with exactly `env` (plus the agent's socket) and
    /// `stdin`, as a captured request was made. Returns the exit code and stdout.
    ///
    /// # Errors
    ///
    /// The plugin could not be started.
    pub fn cni_raw(&self, env: &[(String, String)], stdin: &str) -> Result<(i32, String), String> {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.node])
            .arg(&self.bins.cni)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env(api::ENV_SOCKET, self.socket())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("start {}: {e}", self.bins.cni.display()))?;
        child
            .stdin
            .take()
            .expect("piped")
            .write_all(stdin.as_bytes())
            .map_err(|e| e.to_string())?;
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        Ok((
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ))
    }

    /// The network config the cluster gives the plugin.
    pub fn net_config(&self) -> String {
        r#"{"cniVersion":"1.0.0","name":"cilium-rs","type":"cilium-cni","mtu":1500}"#.to_owned()
    }

    /// A pod `namespace/name`: its network namespace, then CNI ADD. Its labels come from a
    /// `Pod` object the caller put into the standalone directory.
    ///
    /// # Errors
    ///
    /// The namespace or the ADD failed (the plugin's error JSON is in the message).
    pub fn add_pod(&mut self, namespace: &str, name: &str) -> Result<Pod, String> {
        let pid = std::process::id();
        let netns = format!("cilrs-{}-{name}-{pid}", self.tag);
        ip(&["netns", "add", &netns])?;
        let container_id = format!("{}{name}{pid}", self.tag);
        let path = format!("/var/run/netns/{netns}");
        let pod = Pod {
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            netns: netns.clone(),
            container_id: container_id.clone(),
            ip: Ipv4Addr::UNSPECIFIED,
            result: serde_json::Value::Null,
        };
        // Registered before the ADD so a failed ADD is still cleaned up.
        self.pods.push(pod);
        let args = format!("IgnoreUnknown=1;K8S_POD_NAMESPACE={namespace};K8S_POD_NAME={name}");
        let (code, out) = self.cni("ADD", &container_id, &path, &args, &self.net_config())?;
        if code != 0 {
            return Err(format!("CNI ADD {namespace}/{name}: exit {code}: {out}"));
        }
        let result: serde_json::Value =
            serde_json::from_str(&out).map_err(|e| format!("ADD result {out:?}: {e}"))?;
        let ip: Ipv4Addr = result["ips"][0]["address"]
            .as_str()
            .and_then(|a| a.split('/').next())
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("ADD result without ips[0].address: {out}"))?;
        let pod = self.pods.last_mut().expect("pushed");
        pod.ip = ip;
        pod.result = result;
        Ok(pod.clone())
    }

    /// The pod called `name`.
    pub fn pod(&self, name: &str) -> &Pod {
        self.pods
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no pod {name}"))
    }

    /// CNI DEL of `name` and its namespace removed.
    ///
    /// # Errors
    ///
    /// DEL failed.
    pub fn del_pod(&mut self, name: &str) -> Result<(), String> {
        let Some(i) = self.pods.iter().position(|p| p.name == name) else {
            return Ok(());
        };
        let pod = self.pods.remove(i);
        let r = self.cni(
            "DEL",
            &pod.container_id,
            &format!("/var/run/netns/{}", pod.netns),
            "",
            &self.net_config(),
        );
        let _ = ip(&["netns", "del", &pod.netns]);
        match r {
            Ok((0, _)) => Ok(()),
            Ok((code, out)) => Err(format!("CNI DEL {name}: exit {code}: {out}")),
            Err(e) => Err(e),
        }
    }

    /// Runs `cilium-demo <args>` inside namespace `netns` and waits for it.
    ///
    /// # Errors
    ///
    /// It could not be started.
    pub fn exec(&self, netns: &str, args: &[&str]) -> Result<Output, String> {
        Command::new("ip")
            .args(["netns", "exec", netns])
            .arg(&self.bins.demo)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())
    }

    /// Starts `cilium-demo <args>` inside `netns` in the background (stopped on drop).
    ///
    /// # Errors
    ///
    /// It could not be started.
    pub fn spawn(&mut self, netns: &str, args: &[&str]) -> Result<(), String> {
        let demo = self.bins.demo.display().to_string();
        self.spawn_cmd(netns, &demo, args)
    }

    /// Starts any program inside `netns` in the background (stopped on drop).
    ///
    /// # Errors
    ///
    /// It could not be started.
    pub fn spawn_cmd(&mut self, netns: &str, program: &str, args: &[&str]) -> Result<(), String> {
        let c = Command::new("ip")
            .args(["netns", "exec", netns, program])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{program}: {e}"))?;
        self.helpers.push(c);
        Ok(())
    }

    /// `cilium-dbg <args>` against the agent (output and success).
    ///
    /// # Errors
    ///
    /// It could not be started.
    pub fn dbg(&self, args: &[&str]) -> Result<(bool, String), String> {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.node])
            .arg(&self.bins.dbg)
            .arg("--socket")
            .arg(self.socket())
            .args(args)
            .output()
            .map_err(|e| e.to_string())?;
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        Ok((out.status.success(), text))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for mut h in self.helpers.drain(..) {
            let _ = h.kill();
            let _ = h.wait();
        }
        // Pods through the plugin while the agent still runs, so it forgets them.
        let names: Vec<String> = self.pods.iter().map(|p| p.name.clone()).collect();
        for n in names {
            let _ = self.del_pod(&n);
        }
        self.stop_agent();
        let _ = Command::new(&self.bins.agent)
            .args(self.agent_args())
            .arg("--cleanup")
            .output();
        let _ = ip(&["netns", "del", &self.outside]);
        let _ = ip(&["netns", "del", &self.node]);
        let _ = std::fs::remove_dir_all(&self.pin_dir);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

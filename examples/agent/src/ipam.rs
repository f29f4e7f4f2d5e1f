//! The per-node address pool: one IPv4 address per attachment, persisted so a restarted
//! agent hands out neither a held address twice nor a new one to an attachment that has one.
//!
//! The pool is a plain value behind the agent's lock, so concurrent CNI ADDs are serialised
//! and can never get the same address. Every change is written to disk (temporary file,
//! fsync, rename) before the caller sees it.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use cilium_agent_api::Attachment;
use serde::{Deserialize, Serialize};

/// What can go wrong with the pool.
#[derive(Debug, thiserror::Error)]
pub enum IpamError {
    /// The pool's CIDR is not `a.b.c.d/len` with 8 ≤ len ≤ 30.
    #[error("pod CIDR {cidr:?}: {reason}")]
    BadPool {
        /// What was given.
        cidr: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// Every address is leased.
    #[error("pod CIDR {pool} is exhausted: all {capacity} addresses are leased")]
    Exhausted {
        /// The pool.
        pool: String,
        /// Its usable addresses.
        capacity: usize,
    },
    /// The state file could not be read, parsed or written.
    #[error("IPAM state {path}: {reason}")]
    State {
        /// The file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
}

/// A lease as persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct LeaseRecord {
    ip: Ipv4Addr,
    #[serde(flatten)]
    owner: Attachment,
}

#[derive(Debug, Serialize, Deserialize)]
struct StateFile {
    pool: String,
    leases: Vec<LeaseRecord>,
}

/// The pool and its leases.
#[derive(Debug)]
pub struct Ipam {
    cidr: String,
    network: u32,
    prefix: u8,
    leases: BTreeMap<Ipv4Addr, Attachment>,
    by_owner: BTreeMap<Attachment, Ipv4Addr>,
    /// Where the next search starts: addresses are handed out round-robin so a released
    /// address is not reused at once (a stale conntrack entry or ARP cache would meet it).
    cursor: u32,
    path: Option<PathBuf>,
}

/// Parses `a.b.c.d/len`.
pub fn parse_cidr(cidr: &str) -> Result<(u32, u8), IpamError> {
    let bad = |reason: &str| IpamError::BadPool {
        cidr: cidr.to_owned(),
        reason: reason.to_owned(),
    };
    let (addr, len) = cidr.split_once('/').ok_or_else(|| bad("missing /prefix"))?;
    let addr: Ipv4Addr = addr.parse().map_err(|_| bad("not an IPv4 address"))?;
    let len: u8 = len.parse().map_err(|_| bad("prefix is not a number"))?;
    if !(8..=30).contains(&len) {
        return Err(bad("prefix length must be between 8 and 30"));
    }
    let mask = u32::MAX << (32 - len);
    if u32::from(addr) & !mask != 0 {
        return Err(bad("host bits are set"));
    }
    Ok((u32::from(addr), len))
}

impl Ipam {
    /// The pool `cidr`, with the leases persisted at `path` (if any; a missing file is an
    /// empty pool). Leases outside the pool (the pool changed) are dropped with the file's
    /// next write.
    ///
    /// # Errors
    ///
    /// A bad CIDR, an unreadable or corrupt state file.
    pub fn open(cidr: &str, path: Option<PathBuf>) -> Result<Ipam, IpamError> {
        let (network, prefix) = parse_cidr(cidr)?;
        let mut ipam = Ipam {
            cidr: cidr.to_owned(),
            network,
            prefix,
            leases: BTreeMap::new(),
            by_owner: BTreeMap::new(),
            cursor: 0,
            path,
        };
        if let Some(p) = ipam.path.clone() {
            match std::fs::read(&p) {
                Ok(bytes) => {
                    let state: StateFile =
                        serde_json::from_slice(&bytes).map_err(|e| IpamError::State {
                            path: p.clone(),
                            reason: e.to_string(),
                        })?;
                    for l in state.leases {
                        if ipam.contains(l.ip) {
                            ipam.by_owner.insert(l.owner.clone(), l.ip);
                            ipam.leases.insert(l.ip, l.owner);
                        }
                    }
                    if let Some(last) = ipam.leases.keys().next_back() {
                        ipam.cursor = u32::from(*last) - network;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(IpamError::State {
                        path: p,
                        reason: e.to_string(),
                    });
                }
            }
        }
        Ok(ipam)
    }

    fn size(&self) -> u32 {
        1u32 << (32 - self.prefix)
    }

    /// Whether `ip` is a usable address of the pool (not the network or broadcast address).
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let off = u32::from(ip).wrapping_sub(self.network);
        off >= 1 && off < self.size() - 1
    }

    /// The pool's CIDR.
    pub fn cidr(&self) -> &str {
        &self.cidr
    }

    /// Usable addresses.
    pub fn capacity(&self) -> usize {
        (self.size() - 2) as usize
    }

    /// Leased addresses.
    pub fn used(&self) -> usize {
        self.leases.len()
    }

    /// The lease of `owner`.
    pub fn lease_of(&self, owner: &Attachment) -> Option<Ipv4Addr> {
        self.by_owner.get(owner).copied()
    }

    /// Every lease.
    pub fn leases(&self) -> impl Iterator<Item = (&Ipv4Addr, &Attachment)> {
        self.leases.iter()
    }

    /// The address of `owner`: its existing lease, or a new one (persisted before return).
    ///
    /// # Errors
    ///
    /// [`IpamError::Exhausted`], or the state could not be written (then nothing is leased).
    pub fn allocate(&mut self, owner: &Attachment) -> Result<Ipv4Addr, IpamError> {
        if let Some(ip) = self.lease_of(owner) {
            return Ok(ip);
        }
        let usable = self.size() - 2;
        for step in 1..=usable {
            let off = (self.cursor + step - 1) % usable + 1;
            let ip = Ipv4Addr::from(self.network + off);
            if self.leases.contains_key(&ip) {
                continue;
            }
            self.leases.insert(ip, owner.clone());
            self.by_owner.insert(owner.clone(), ip);
            if let Err(e) = self.save() {
                self.leases.remove(&ip);
                self.by_owner.remove(owner);
                return Err(e);
            }
            self.cursor = off;
            return Ok(ip);
        }
        Err(IpamError::Exhausted {
            pool: self.cidr.clone(),
            capacity: self.capacity(),
        })
    }

    /// Releases `owner`'s lease (none: `Ok(None)`).
    ///
    /// # Errors
    ///
    /// The state could not be written (the lease is gone in memory all the same).
    pub fn release(&mut self, owner: &Attachment) -> Result<Option<Ipv4Addr>, IpamError> {
        let Some(ip) = self.by_owner.remove(owner) else {
            return Ok(None);
        };
        self.leases.remove(&ip);
        self.save()?;
        Ok(Some(ip))
    }

    fn save(&self) -> Result<(), IpamError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let state = StateFile {
            pool: self.cidr.clone(),
            leases: self
                .leases
                .iter()
                .map(|(ip, owner)| LeaseRecord {
                    ip: *ip,
                    owner: owner.clone(),
                })
                .collect(),
        };
        write_atomic(
            path,
            &serde_json::to_vec_pretty(&state).expect("serialisable"),
        )
        .map_err(|e| IpamError::State {
            path: path.clone(),
            reason: e.to_string(),
        })
    }
}

/// Writes `bytes` to `path` through a temporary file, fsync and rename: a crash leaves the
/// old or the new content, never a torn one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn att(c: &str) -> Attachment {
        Attachment {
            container_id: c.into(),
            ifname: "eth0".into(),
        }
    }

    #[test]
    fn leases_are_unique_stable_and_persisted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ipam.json");
        let mut ipam = Ipam::open("10.9.0.0/29", Some(path.clone())).unwrap();
        assert_eq!(ipam.capacity(), 6);
        let a = ipam.allocate(&att("a")).unwrap();
        let b = ipam.allocate(&att("b")).unwrap();
        assert_ne!(a, b);
        assert_eq!(
            ipam.allocate(&att("a")).unwrap(),
            a,
            "same owner, same lease"
        );
        assert_eq!(a, Ipv4Addr::new(10, 9, 0, 1));
        // A restarted agent sees the same leases and does not hand them out again.
        let mut again = Ipam::open("10.9.0.0/29", Some(path.clone())).unwrap();
        assert_eq!(again.lease_of(&att("b")), Some(b));
        let c = again.allocate(&att("c")).unwrap();
        assert!(c != a && c != b);
        assert_eq!(again.release(&att("a")).unwrap(), Some(a));
        assert_eq!(
            again.release(&att("a")).unwrap(),
            None,
            "release is idempotent"
        );
        // Round robin: the released address is not the next one handed out.
        let d = again.allocate(&att("d")).unwrap();
        assert_ne!(d, a);
    }

    #[test]
    fn exhaustion_is_reported_and_bad_pools_named() {
        let mut ipam = Ipam::open("10.9.0.0/30", None).unwrap();
        ipam.allocate(&att("a")).unwrap();
        ipam.allocate(&att("b")).unwrap();
        let e = ipam.allocate(&att("c")).unwrap_err();
        assert!(matches!(e, IpamError::Exhausted { capacity: 2, .. }), "{e}");
        for bad in ["10.9.0.1/24", "10.9.0.0", "x/24", "10.0.0.0/31"] {
            assert!(Ipam::open(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn concurrent_adds_never_share_an_address() {
        let ipam = std::sync::Arc::new(std::sync::Mutex::new(
            Ipam::open("10.9.0.0/24", None).unwrap(),
        ));
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let ipam = std::sync::Arc::clone(&ipam);
                std::thread::spawn(move || {
                    (0..25)
                        .map(|i| {
                            ipam.lock()
                                .unwrap()
                                .allocate(&att(&format!("c{t}-{i}")))
                                .unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<Ipv4Addr> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n);
    }
}

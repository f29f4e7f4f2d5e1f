//! Identity allocation for the agent: in memory (persisted in the state directory so a
//! restarted agent gives every label set the number it had), or in etcd shared by the
//! cluster's agents.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cilium_core::{LabelSet, NumericIdentity};
use cilium_identity::etcd::{EtcdAllocator, EtcdOptions};
use cilium_identity::{Acquire, AllocatorConfig, AllocatorCore, UserId};
use serde::{Deserialize, Serialize};

use crate::ipam::write_atomic;

/// Where identities come from.
pub enum Identities {
    /// This agent's own allocator.
    Memory {
        /// The allocator.
        core: Box<AllocatorCore>,
        /// Where the identities in use are kept across restarts.
        path: Option<PathBuf>,
        /// Start of the agent (the allocator's clock).
        start: Instant,
    },
    /// A cluster-wide allocator in etcd.
    Etcd {
        /// The allocator.
        alloc: Arc<EtcdAllocator>,
        /// The runtime its calls run on (the agent calls from blocking threads).
        handle: tokio::runtime::Handle,
    },
}

impl std::fmt::Debug for Identities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Identities::Memory { .. } => f.write_str("Identities::Memory"),
            Identities::Etcd { .. } => f.write_str("Identities::Etcd"),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Persisted {
    id: u32,
    labels: Vec<String>,
}

impl Identities {
    /// An in-memory allocator; identities persisted at `path` are known again with their
    /// numbers.
    ///
    /// # Errors
    ///
    /// An unreadable state file or a persisted identity the allocator refuses.
    pub fn memory(path: Option<PathBuf>) -> Result<Identities, String> {
        let config = AllocatorConfig::new(0).map_err(|e| e.to_string())?;
        let mut core = AllocatorCore::new(config);
        if let Some(p) = &path {
            match std::fs::read(p) {
                Ok(bytes) => {
                    let list: Vec<Persisted> = serde_json::from_slice(&bytes)
                        .map_err(|e| format!("{}: {e}", p.display()))?;
                    for item in list {
                        let refs: Vec<&str> = item.labels.iter().map(String::as_str).collect();
                        core.observe(NumericIdentity::new(item.id), &LabelSet::parse_list(&refs))
                            .map_err(|e| format!("{}: identity {}: {e}", p.display(), item.id))?;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("{}: {e}", p.display())),
            }
        }
        Ok(Identities::Memory {
            core: Box::new(core),
            path,
            start: Instant::now(),
        })
    }

    /// An etcd allocator for node `node` at `endpoints`.
    ///
    /// # Errors
    ///
    /// etcd not reachable.
    pub async fn etcd(endpoints: &[String], node: &str) -> Result<Identities, String> {
        let config = AllocatorConfig::new(0).map_err(|e| e.to_string())?;
        let alloc = EtcdAllocator::connect(endpoints, config, EtcdOptions::new(node))
            .await
            .map_err(|e| format!("etcd {endpoints:?}: {e}"))?;
        Ok(Identities::Etcd {
            alloc: Arc::new(alloc),
            handle: tokio::runtime::Handle::current(),
        })
    }

    /// Takes `user`'s reference to the identity of `labels`.
    ///
    /// # Errors
    ///
    /// Invalid labels, exhaustion, etcd failures.
    pub fn acquire(&mut self, labels: &LabelSet, user: &str) -> Result<NumericIdentity, String> {
        let user = UserId::new(user).map_err(|e| e.to_string())?;
        match self {
            Identities::Memory { core, .. } => match core.acquire(labels, &user) {
                Ok(Acquire::Done(a)) => {
                    self.save();
                    Ok(a.id)
                }
                Ok(Acquire::NeedsGlobal(_)) => Err("owned allocator asked for a store".into()),
                Err(e) => Err(e.to_string()),
            },
            Identities::Etcd { alloc, handle } => handle
                .block_on(alloc.allocate(labels, &user))
                .map(|a| a.id)
                .map_err(|e| e.to_string()),
        }
    }

    /// Drops `user`'s reference to `id`; true when nobody on this node holds it any more.
    pub fn release(&mut self, id: NumericIdentity, user: &str) -> bool {
        let Ok(user) = UserId::new(user) else {
            return false;
        };
        let gone = match self {
            Identities::Memory { core, start, .. } => {
                let now = start.elapsed();
                let left = core.release(id, &user, now).unwrap_or(0);
                // No grace period on a single node: collect at once.
                let _ = core.gc(now + Duration::from_secs(3600));
                left == 0
            }
            Identities::Etcd { alloc, .. } => alloc.release(id, &user).unwrap_or(0) == 0,
        };
        self.save();
        gone
    }

    /// Every identity known, with its labels and local references.
    pub fn list(&self) -> Vec<(NumericIdentity, LabelSet, u64)> {
        match self {
            Identities::Memory { core, .. } => core
                .identities()
                .into_iter()
                .map(|(id, l)| (id, l, core.refs(id)))
                .collect(),
            Identities::Etcd { alloc, .. } => alloc
                .identities()
                .into_iter()
                .map(|(id, l)| (id, l, alloc.refs(id)))
                .collect(),
        }
    }

    fn save(&self) {
        let Identities::Memory {
            core,
            path: Some(path),
            ..
        } = self
        else {
            return;
        };
        let list: Vec<Persisted> = core
            .identities()
            .into_iter()
            .filter(|(id, _)| core.refs(*id) > 0 && !id.is_reserved())
            .map(|(id, l)| Persisted {
                id: id.as_u32(),
                labels: l.to_strings(),
            })
            .collect();
        if let Err(e) = write_atomic(path, &serde_json::to_vec_pretty(&list).expect("json")) {
            eprintln!(
                "cilium-agent: persisting identities to {}: {e}",
                path.display()
            );
        }
    }
}

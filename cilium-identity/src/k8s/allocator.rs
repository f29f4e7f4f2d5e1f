//! The `CiliumIdentity`-backed allocator: a thin async shell around [`AllocatorCore`].

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use cilium_core::{LabelSet, NumericIdentity};
use futures_util::StreamExt;
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};

use super::CiliumIdentity;
use crate::core::{Acquire, Allocation, AllocatorCore, Collected};
use crate::{AllocatorConfig, AllocatorError, IdentityEvent, IdentityPressure, UserId};

/// An error of [`CrdAllocator`].
#[derive(Debug, thiserror::Error)]
pub enum CrdError {
    /// The allocator core refused (bad labels, exhausted range, unknown identity, ...).
    #[error(transparent)]
    Allocator(#[from] AllocatorError),
    /// A request to the API server failed.
    #[error("CiliumIdentity {op} failed")]
    Api {
        /// What was being done.
        op: &'static str,
        /// The client's error.
        #[source]
        source: kube::Error,
    },
    /// Other agents kept taking the candidate identities.
    #[error("no identity created for {labels:?} after {attempts} names already taken")]
    Contended {
        /// The label set.
        labels: String,
        /// Attempts made.
        attempts: u32,
    },
}

/// Identities shared as `CiliumIdentity` objects (see the [module docs](super)).
pub struct CrdAllocator {
    api: Api<CiliumIdentity>,
    core: Mutex<AllocatorCore>,
    epoch: Instant,
    max_attempts: u32,
}

impl std::fmt::Debug for CrdAllocator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrdAllocator").finish_non_exhaustive()
    }
}

impl CrdAllocator {
    /// Lists the existing `CiliumIdentity` objects through `client` and returns the
    /// allocator and the list's resource version (to [`watch`](Self::watch) from).
    ///
    /// Objects whose name is not a number of this cluster's range, or whose labels do not
    /// parse, are skipped.
    ///
    /// # Errors
    ///
    /// [`CrdError::Api`] if the list fails.
    pub async fn new(
        client: kube::Client,
        config: AllocatorConfig,
    ) -> Result<(CrdAllocator, String), CrdError> {
        let api: Api<CiliumIdentity> = Api::all(client);
        let list = api
            .list(&ListParams::default())
            .await
            .map_err(|source| CrdError::Api { op: "list", source })?;
        let alloc = CrdAllocator {
            api,
            core: Mutex::new(AllocatorCore::with_store(config)),
            epoch: Instant::now(),
            max_attempts: 16,
        };
        for obj in &list.items {
            alloc.apply(&WatchEvent::Added(obj.clone()));
        }
        Ok((alloc, list.metadata.resource_version.unwrap_or_default()))
    }

    fn core(&self) -> MutexGuard<'_, AllocatorCore> {
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// Takes a reference of `user` to the identity of `labels`, creating a
    /// `CiliumIdentity` if no object holds the labels yet.
    ///
    /// # Errors
    ///
    /// [`CrdError::Allocator`] for bad labels or an exhausted range, [`CrdError::Api`],
    /// [`CrdError::Contended`].
    pub async fn allocate(&self, labels: &LabelSet, user: &UserId) -> Result<Allocation, CrdError> {
        for _ in 0..self.max_attempts {
            let request = match self.core().acquire(labels, user)? {
                Acquire::Done(allocation) => return Ok(allocation),
                Acquire::NeedsGlobal(request) => request,
            };
            if let Some(id) = request.known {
                // The object exists; nodes hold no per-node reference in CRD mode.
                return Ok(self.core().commit_global(id, labels, user, 0, false)?);
            }
            let candidate = self.core().candidate()?;
            let obj = CiliumIdentity::new(candidate, labels);
            match self.api.create(&PostParams::default(), &obj).await {
                Ok(_) => {
                    return Ok(self
                        .core()
                        .commit_global(candidate, labels, user, 0, true)?);
                }
                Err(kube::Error::Api(status)) if status.code == 409 => {
                    // Taken by another agent; its object arrives through the watch.
                    self.core().abandon_candidate(candidate, true);
                }
                Err(source) => {
                    self.core().abandon_candidate(candidate, false);
                    return Err(CrdError::Api {
                        op: "create",
                        source,
                    });
                }
            }
        }
        Err(CrdError::Contended {
            labels: labels.to_string(),
            attempts: self.max_attempts,
        })
    }

    /// Drops one reference of `user` to `id`.
    ///
    /// # Errors
    ///
    /// [`CrdError::Allocator`] for an identity or user that holds no reference.
    pub fn release(&self, id: NumericIdentity, user: &UserId) -> Result<u64, CrdError> {
        let now = self.now();
        Ok(self.core().release(id, user, now)?)
    }

    /// Collects identities unused here for the grace period (node-local ones are removed;
    /// the objects of global ones stay for the operator to collect).
    pub fn gc(&self) -> Vec<Collected> {
        let now = self.now();
        self.core().gc(now)
    }

    /// Applies one watch event: added and modified objects become known identities, deleted
    /// ones are forgotten. Objects that are not valid identities of this cluster are
    /// ignored; returns whether the event changed anything.
    pub fn apply(&self, event: &WatchEvent<CiliumIdentity>) -> bool {
        let mut core = self.core();
        match event {
            WatchEvent::Added(obj) | WatchEvent::Modified(obj) => match (obj.id(), obj.labels()) {
                (Some(id), Some(labels)) => core.observe(id, &labels).unwrap_or(false),
                _ => false,
            },
            WatchEvent::Deleted(obj) => obj.id().is_some_and(|id| core.forget(id)),
            WatchEvent::Bookmark(_) | WatchEvent::Error(_) => false,
        }
    }

    /// Watches `CiliumIdentity` objects from `resource_version` and applies every event
    /// until the API server ends the watch; returns the last resource version seen (to watch
    /// on from).
    ///
    /// # Errors
    ///
    /// [`CrdError::Api`] if the watch cannot be started or breaks.
    pub async fn watch(&self, resource_version: &str) -> Result<String, CrdError> {
        let stream = self
            .api
            .watch(&WatchParams::default(), resource_version)
            .await
            .map_err(|source| CrdError::Api {
                op: "watch",
                source,
            })?;
        let mut stream = std::pin::pin!(stream);
        let mut version = resource_version.to_owned();
        while let Some(event) = stream.next().await {
            let event = event.map_err(|source| CrdError::Api {
                op: "watch",
                source,
            })?;
            let seen = match &event {
                WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => {
                    o.metadata.resource_version.clone()
                }
                WatchEvent::Bookmark(b) => Some(b.metadata.resource_version.clone()),
                WatchEvent::Error(_) => None,
            };
            self.apply(&event);
            if let Some(v) = seen {
                version = v;
            }
        }
        Ok(version)
    }

    /// The identity of `labels`, if reserved or known.
    pub fn lookup(&self, labels: &LabelSet) -> Option<NumericIdentity> {
        self.core().lookup(labels)
    }

    /// Every known identity, in identity order.
    pub fn identities(&self) -> Vec<(NumericIdentity, LabelSet)> {
        self.core().identities()
    }

    /// Queued events (the first call also returns the reserved identities).
    pub fn drain_events(&self) -> Vec<IdentityEvent> {
        self.core().drain_events()
    }

    /// Use of the ranges; the global one counts every object seen.
    pub fn pressure(&self) -> [IdentityPressure; 3] {
        self.core().pressure()
    }
}

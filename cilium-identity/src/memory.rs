//! The in-memory allocator: one node, nothing shared.

use std::time::Duration;

use cilium_core::{LabelSet, NumericIdentity};

use crate::core::{Acquire, Allocation, AllocatorCore, Collected};
use crate::{AllocatorConfig, AllocatorError, IdentityEvent, IdentityPressure, UserId};

/// The in-memory identity allocator for a single node (the default backend).
///
/// Pure: no I/O, no clock (`now` is passed in), seeded randomness. Everything a store
/// backend shares between nodes is kept here in memory, so two `Allocator`s never agree on
/// identities; use the etcd or Kubernetes backend for that.
///
/// ```
/// use std::time::Duration;
/// use cilium_core::{LabelSet, NumericIdentity};
/// use cilium_identity::{Allocator, AllocatorConfig, IdentityEvent, UserId};
///
/// let mut alloc = Allocator::new(AllocatorConfig::new(0)?.with_gc_grace(Duration::from_secs(60)));
/// let ep = UserId::new("endpoint-1")?;
/// let web = LabelSet::parse_list(&["k8s:app=web", "k8s:io.kubernetes.pod.namespace=prod"]);
///
/// let a = alloc.allocate(&web, &ep, Duration::ZERO)?;
/// assert!(a.is_new && a.id >= NumericIdentity(256));
/// let cidr = LabelSet::parse_list(&["cidr:10.0.0.0/8", "reserved:world"]);
/// assert!(alloc.allocate(&cidr, &ep, Duration::ZERO)?.id.is_local());
/// assert_eq!(alloc.allocate(&LabelSet::parse_list(&["reserved:host"]), &ep, Duration::ZERO)?.id,
///            NumericIdentity::HOST);
///
/// alloc.release(a.id, &ep, Duration::from_secs(1))?;
/// assert!(alloc.gc(Duration::from_secs(30)).is_empty()); // still in its grace period
/// assert_eq!(alloc.gc(Duration::from_secs(61))[0].id, a.id);
/// assert!(alloc.drain_events().contains(&IdentityEvent::Removed { id: a.id, labels: web }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Allocator {
    core: AllocatorCore,
}

impl Allocator {
    /// An allocator with `config`. Its event queue starts with an
    /// [`IdentityEvent::Added`] for each reserved identity (1..=10).
    pub fn new(config: AllocatorConfig) -> Allocator {
        Allocator {
            core: AllocatorCore::new(config),
        }
    }

    /// Takes a reference of `user` to the identity of the identity-relevant `labels`,
    /// allocating it if needed (see [`AllocatorCore::acquire`] for which kind of identity a
    /// set gets). `now` is accepted for symmetry with release and GC.
    ///
    /// # Errors
    ///
    /// Invalid labels (see [`IdentityClass::of`](crate::IdentityClass::of)) and
    /// [`AllocatorError::Exhausted`] when the range of the label set's scope is full.
    pub fn allocate(
        &mut self,
        labels: &LabelSet,
        user: &UserId,
        now: Duration,
    ) -> Result<Allocation, AllocatorError> {
        let _ = now;
        match self.core.acquire(labels, user)? {
            Acquire::Done(allocation) => Ok(allocation),
            Acquire::NeedsGlobal(_) => unreachable!("an owned core allocates global identities"),
        }
    }

    /// Drops one reference of `user` to `id` and returns the references left (all users).
    ///
    /// # Errors
    ///
    /// [`AllocatorError::UnknownIdentity`] or [`AllocatorError::NotHeld`].
    pub fn release(
        &mut self,
        id: NumericIdentity,
        user: &UserId,
        now: Duration,
    ) -> Result<u64, AllocatorError> {
        self.core.release(id, user, now)
    }

    /// Drops every reference of `user`; returns the identities it held.
    pub fn release_user(&mut self, user: &UserId, now: Duration) -> Vec<NumericIdentity> {
        self.core.release_user(user, now)
    }

    /// Removes identities unused for the grace period at `now` and returns them.
    pub fn gc(&mut self, now: Duration) -> Vec<Collected> {
        self.core.gc(now)
    }

    /// The identity of `labels`, if reserved or allocated.
    pub fn lookup(&self, labels: &LabelSet) -> Option<NumericIdentity> {
        self.core.lookup(labels)
    }

    /// The labels of `id`, if reserved or allocated.
    pub fn labels_of(&self, id: NumericIdentity) -> Option<LabelSet> {
        self.core.labels_of(id)
    }

    /// References held on `id`.
    pub fn refs(&self, id: NumericIdentity) -> u64 {
        self.core.refs(id)
    }

    /// Every allocated identity (reserved ones aside), in identity order.
    pub fn identities(&self) -> Vec<(NumericIdentity, LabelSet)> {
        self.core.identities()
    }

    /// The next queued event.
    pub fn poll_event(&mut self) -> Option<IdentityEvent> {
        self.core.poll_event()
    }

    /// Every queued event, in order.
    pub fn drain_events(&mut self) -> Vec<IdentityEvent> {
        self.core.drain_events()
    }

    /// Use of the global, local and remote-node ranges.
    pub fn pressure(&self) -> [IdentityPressure; 3] {
        self.core.pressure()
    }

    /// The state machine underneath.
    pub fn core(&self) -> &AllocatorCore {
        &self.core
    }
}

//! The allocator's state machine, shared by every backend.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use cilium_core::identity::IdentityScope;
use cilium_core::{LabelSet, NumericIdentity};

use crate::class::{IdentityClass, identity_key, reserved_labels};
use crate::pool::{IdPool, SplitMix64};
use crate::{AllocatorConfig, AllocatorError, IdentityEvent, IdentityPressure, UserId};

/// The result of a successful allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    /// The identity of the label set.
    pub id: NumericIdentity,
    /// Whether this call created the identity (first allocation of the label set anywhere
    /// the allocator can see); `false` for reserved identities and existing ones.
    pub is_new: bool,
}

/// What [`AllocatorCore::acquire`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acquire {
    /// The user now holds a reference to the identity.
    Done(Allocation),
    /// The label set needs a global identity that only the backend can grant: the backend
    /// secures one in its store (an existing one or a [`candidate`](AllocatorCore::candidate))
    /// and then calls [`AllocatorCore::commit_global`].
    NeedsGlobal(GlobalRequest),
}

/// A global identity the backend has to secure in its store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalRequest {
    /// The label set.
    pub labels: LabelSet,
    /// Its key ([`identity_key`](crate::identity_key)).
    pub key: String,
    /// The identity the store is known to hold for this label set, if any (this node just
    /// holds no reference to it yet).
    pub known: Option<NumericIdentity>,
}

/// An identity whose last reference was released longer than the grace period ago.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collected {
    /// The identity.
    pub id: NumericIdentity,
    /// Its labels.
    pub labels: LabelSet,
    /// For a global identity of a store backend: the token the backend gave with
    /// [`AllocatorCore::commit_global`] (its reference in the store, now to be deleted).
    /// `None` for identities the core owned itself, which are gone already.
    pub store_ref: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GlobalMode {
    /// The core hands out global identities itself (single node, in memory).
    Owned,
    /// A store hands them out; the core learns them through `observe` and `commit_global`.
    External,
}

#[derive(Debug, Clone)]
struct Entry {
    labels: LabelSet,
    key: String,
    users: BTreeMap<UserId, u32>,
    refs: u64,
    /// Set while nobody references the identity: when the last reference went.
    unused_since: Option<Duration>,
    /// External global identities: this node's reference in the store, if it holds one.
    store_ref: Option<i64>,
}

/// The pure allocator state machine: label sets to identities, reference counts per user,
/// free-identity choice, grace-period collection, events and pressure.
///
/// [`Allocator`](crate::Allocator) wraps it for a single node. Store backends (etcd,
/// Kubernetes) create it with [`AllocatorCore::with_store`]: then global identities are not
/// invented here; [`acquire`](AllocatorCore::acquire) answers [`Acquire::NeedsGlobal`], the
/// backend runs its compare-and-create against the store (trying
/// [`candidate`](AllocatorCore::candidate)s) and reports the outcome with
/// [`commit_global`](AllocatorCore::commit_global); identities other nodes create arrive
/// through [`observe`](AllocatorCore::observe) and [`forget`](AllocatorCore::forget).
///
/// It reads no clock: every call that needs the time takes `now`, a monotonic time since an
/// epoch the caller picks.
#[derive(Debug, Clone)]
pub struct AllocatorCore {
    config: AllocatorConfig,
    mode: GlobalMode,
    rng: SplitMix64,
    global: IdPool,
    local: IdPool,
    remote_node: IdPool,
    exhausted: [u64; 3],
    by_key: HashMap<String, NumericIdentity>,
    entries: HashMap<NumericIdentity, Entry>,
    events: VecDeque<IdentityEvent>,
}

impl AllocatorCore {
    /// A core that hands out global identities itself (one node, nothing shared).
    pub fn new(config: AllocatorConfig) -> AllocatorCore {
        AllocatorCore::build(config, GlobalMode::Owned)
    }

    /// A core whose global identities come from a store backend.
    pub fn with_store(config: AllocatorConfig) -> AllocatorCore {
        AllocatorCore::build(config, GlobalMode::External)
    }

    fn build(config: AllocatorConfig, mode: GlobalMode) -> AllocatorCore {
        let mut events = VecDeque::new();
        for (id, _) in NumericIdentity::reserved() {
            if let Some(labels) = reserved_labels(id) {
                events.push_back(IdentityEvent::Added { id, labels });
            }
        }
        AllocatorCore {
            rng: SplitMix64::new(config.seed()),
            global: IdPool::new(IdentityScope::Global, config.global_range()),
            local: IdPool::new(IdentityScope::Local, config.local_range()),
            remote_node: IdPool::new(IdentityScope::RemoteNode, config.remote_node_range()),
            exhausted: [0; 3],
            by_key: HashMap::new(),
            entries: HashMap::new(),
            events,
            config,
            mode,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &AllocatorConfig {
        &self.config
    }

    fn pool_index(scope: IdentityScope) -> usize {
        match scope {
            IdentityScope::Local => 1,
            IdentityScope::RemoteNode => 2,
            _ => 0,
        }
    }

    fn pool_mut(&mut self, scope: IdentityScope) -> &mut IdPool {
        match scope {
            IdentityScope::Local => &mut self.local,
            IdentityScope::RemoteNode => &mut self.remote_node,
            _ => &mut self.global,
        }
    }

    fn pick(&mut self, scope: IdentityScope) -> Result<NumericIdentity, AllocatorError> {
        let mut rng = self.rng.clone();
        let picked = self.pool_mut(scope).pick(&mut rng);
        self.rng = rng;
        picked.ok_or_else(|| {
            self.exhausted[AllocatorCore::pool_index(scope)] += 1;
            let pool = self.pool_mut(scope);
            AllocatorError::Exhausted {
                scope,
                first: pool.first(),
                last: pool.last(),
                total: pool.total(),
            }
        })
    }

    fn add_ref(entry: &mut Entry, user: &UserId) {
        *entry.users.entry(user.clone()).or_insert(0) += 1;
        entry.refs += 1;
        entry.unused_since = None;
    }

    fn insert(&mut self, id: NumericIdentity, labels: LabelSet, key: String) -> &mut Entry {
        self.by_key
            .entry(key.clone())
            .and_modify(|existing| *existing = (*existing).min(id))
            .or_insert(id);
        self.pool_mut(id.scope()).mark(id);
        self.events.push_back(IdentityEvent::Added {
            id,
            labels: labels.clone(),
        });
        self.entries.entry(id).or_insert(Entry {
            labels,
            key,
            users: BTreeMap::new(),
            refs: 0,
            unused_since: None,
            store_ref: None,
        })
    }

    fn remove(&mut self, id: NumericIdentity) -> Option<Entry> {
        let entry = self.entries.remove(&id)?;
        if self.by_key.get(&entry.key) == Some(&id) {
            self.by_key.remove(&entry.key);
            // Another identity for the same labels (a store race) takes over, lowest first.
            if let Some(other) = self
                .entries
                .iter()
                .filter(|(_, e)| e.key == entry.key)
                .map(|(i, _)| *i)
                .min()
            {
                self.by_key.insert(entry.key.clone(), other);
            }
        }
        self.pool_mut(id.scope()).unmark(id);
        self.events.push_back(IdentityEvent::Removed {
            id,
            labels: entry.labels.clone(),
        });
        Some(entry)
    }

    /// Takes a reference of `user` to the identity of `labels`, allocating it if needed.
    ///
    /// Reserved label sets get their reserved identity (no reference is counted); CIDR and
    /// FQDN label sets get node-local identities, allocated here; other label sets get global
    /// identities, allocated here or ([`Acquire::NeedsGlobal`]) by the store backend.
    ///
    /// # Errors
    ///
    /// Invalid labels (see [`IdentityClass::of`]) and [`AllocatorError::Exhausted`].
    pub fn acquire(&mut self, labels: &LabelSet, user: &UserId) -> Result<Acquire, AllocatorError> {
        let class = IdentityClass::of(labels)?;
        if let IdentityClass::Reserved(id) = class {
            return Ok(Acquire::Done(Allocation { id, is_new: false }));
        }
        let key = identity_key(labels)?;
        let external = class == IdentityClass::Global && self.mode == GlobalMode::External;
        if let Some(id) = self.by_key.get(&key).copied() {
            let entry = self.entries.get_mut(&id).expect("by_key points at entries");
            if external && entry.store_ref.is_none() {
                return Ok(Acquire::NeedsGlobal(GlobalRequest {
                    labels: labels.clone(),
                    key,
                    known: Some(id),
                }));
            }
            AllocatorCore::add_ref(entry, user);
            return Ok(Acquire::Done(Allocation { id, is_new: false }));
        }
        if external {
            return Ok(Acquire::NeedsGlobal(GlobalRequest {
                labels: labels.clone(),
                key,
                known: None,
            }));
        }
        let id = self.pick(class.scope())?;
        let entry = self.insert(id, labels.clone(), key);
        AllocatorCore::add_ref(entry, user);
        Ok(Acquire::Done(Allocation { id, is_new: true }))
    }

    /// A free global identity for the backend to try creating; it stays marked used until
    /// [`commit_global`](Self::commit_global), [`observe`](Self::observe) or
    /// [`abandon_candidate`](Self::abandon_candidate).
    ///
    /// # Errors
    ///
    /// [`AllocatorError::Exhausted`] when every identity of the range is in use.
    pub fn candidate(&mut self) -> Result<NumericIdentity, AllocatorError> {
        self.pick(IdentityScope::Global)
    }

    /// The backend did not create `id`: if `taken`, someone else holds it (it stays marked
    /// until the store's deletion arrives through [`forget`](Self::forget)); otherwise it is
    /// free again.
    pub fn abandon_candidate(&mut self, id: NumericIdentity, taken: bool) {
        if !taken && !self.entries.contains_key(&id) {
            self.global.unmark(id);
        }
    }

    fn check_global(&self, id: NumericIdentity) -> Result<(), AllocatorError> {
        if self.global.contains(id) {
            Ok(())
        } else {
            Err(AllocatorError::OutOfRange {
                id,
                first: self.global.first(),
                last: self.global.last(),
            })
        }
    }

    /// The backend secured `id` for `labels` in its store, with this node's reference
    /// `store_ref` (a token the backend gets back in [`Collected::store_ref`]); `created`
    /// says whether the backend created the identity. Takes `user`'s reference.
    ///
    /// # Errors
    ///
    /// [`AllocatorError::OutOfRange`] for an identity outside the global range, invalid
    /// labels.
    pub fn commit_global(
        &mut self,
        id: NumericIdentity,
        labels: &LabelSet,
        user: &UserId,
        store_ref: i64,
        created: bool,
    ) -> Result<Allocation, AllocatorError> {
        self.observe(id, labels)?;
        // The store just confirmed `id` for these labels: it is their identity from now on,
        // even if a stale one is still known (its deletion is on its way).
        self.by_key.insert(labels.sorted_list(), id);
        let entry = self.entries.get_mut(&id).expect("observed");
        // Two concurrent acquisitions may commit out of order: keep the newest reference.
        entry.store_ref = Some(entry.store_ref.map_or(store_ref, |old| old.max(store_ref)));
        AllocatorCore::add_ref(entry, user);
        Ok(Allocation {
            id,
            is_new: created,
        })
    }

    /// The store holds `id` for `labels` (a watch event, a listing). Queues
    /// [`IdentityEvent::Added`] if the identity is new here; returns whether it was.
    ///
    /// If the store says `id` stands for other labels than the core believed, the store wins:
    /// the old entry is removed (with its references) and the new one added.
    ///
    /// # Errors
    ///
    /// [`AllocatorError::OutOfRange`] for an identity outside the global range, invalid
    /// labels.
    pub fn observe(
        &mut self,
        id: NumericIdentity,
        labels: &LabelSet,
    ) -> Result<bool, AllocatorError> {
        self.check_global(id)?;
        let key = identity_key(labels)?;
        if let Some(entry) = self.entries.get(&id) {
            if entry.key == key {
                return Ok(false);
            }
            self.remove(id);
        }
        self.insert(id, labels.clone(), key);
        Ok(true)
    }

    /// The store no longer holds `id`. An identity nobody here references is removed (queuing
    /// [`IdentityEvent::Removed`]) and `true` returned. One still referenced here stays, marked
    /// as not held in the store, so the next [`acquire`](Self::acquire) of its labels asks the
    /// backend to secure it again; `false` is returned.
    pub fn forget(&mut self, id: NumericIdentity) -> bool {
        match self.entries.get_mut(&id) {
            Some(entry) if entry.refs > 0 => {
                entry.store_ref = None;
                false
            }
            Some(_) => self.remove(id).is_some(),
            None => {
                self.global.unmark(id);
                false
            }
        }
    }

    /// Global identities this node holds in the store and still references, with their
    /// store tokens: what a backend re-secures after losing its session (lease).
    pub fn held(&self) -> Vec<(NumericIdentity, LabelSet, i64)> {
        self.entries
            .iter()
            .filter_map(|(id, e)| e.store_ref.map(|r| (*id, e.labels.clone(), r)))
            .collect()
    }

    /// Marks every store reference as lost (the backend's session expired): the next
    /// [`acquire`](Self::acquire) of those labels asks the backend again. Returns the
    /// identities that are still referenced here.
    pub fn drop_store_refs(&mut self) -> Vec<(NumericIdentity, LabelSet)> {
        let mut out = Vec::new();
        for (id, e) in &mut self.entries {
            if e.store_ref.take().is_some() && e.refs > 0 {
                out.push((*id, e.labels.clone()));
            }
        }
        out
    }

    /// The backend secured its store reference to `id` again (after
    /// [`drop_store_refs`](Self::drop_store_refs)); `false` if `id` is not known here.
    pub fn restore_store_ref(&mut self, id: NumericIdentity, store_ref: i64) -> bool {
        match self.entries.get_mut(&id) {
            Some(entry) => {
                entry.store_ref = Some(entry.store_ref.map_or(store_ref, |old| old.max(store_ref)));
                true
            }
            None => false,
        }
    }

    /// Drops one reference of `user` to `id`; returns the references left on `id` (all
    /// users). At zero the grace period starts. Releasing a reserved identity does nothing.
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
        if id.is_reserved() && reserved_labels(id).is_some() {
            return Ok(0);
        }
        let entry = self
            .entries
            .get_mut(&id)
            .ok_or(AllocatorError::UnknownIdentity { id })?;
        let count = entry
            .users
            .get_mut(user)
            .ok_or_else(|| AllocatorError::NotHeld {
                id,
                user: user.to_string(),
            })?;
        *count -= 1;
        if *count == 0 {
            entry.users.remove(user);
        }
        entry.refs -= 1;
        if entry.refs == 0 {
            entry.unused_since = Some(now);
        }
        Ok(entry.refs)
    }

    /// Drops every reference `user` holds (an endpoint went away); returns the identities
    /// that had one, in order.
    pub fn release_user(&mut self, user: &UserId, now: Duration) -> Vec<NumericIdentity> {
        let mut ids = Vec::new();
        for (id, entry) in &mut self.entries {
            if let Some(count) = entry.users.remove(user) {
                entry.refs -= u64::from(count);
                if entry.refs == 0 {
                    entry.unused_since = Some(now);
                }
                ids.push(*id);
            }
        }
        ids.sort_unstable();
        ids
    }

    /// Collects identities unused for at least the grace period at `now`: node-local ones
    /// and those this core owns are removed (queuing [`IdentityEvent::Removed`]); for store
    /// identities the core forgets its reference and the backend deletes it (the identity
    /// itself stays known until the store deletes it). Returned in identity order.
    pub fn gc(&mut self, now: Duration) -> Vec<Collected> {
        let grace = self.config.gc_grace();
        let mut due: Vec<NumericIdentity> = self
            .entries
            .iter()
            .filter(|(_, e)| {
                e.refs == 0
                    && e.unused_since
                        .is_some_and(|t| now.saturating_sub(t) >= grace)
            })
            .map(|(id, _)| *id)
            .collect();
        due.sort_unstable();
        let mut out = Vec::with_capacity(due.len());
        for id in due {
            let external = self.mode == GlobalMode::External && id.is_global();
            if external {
                let entry = self.entries.get_mut(&id).expect("due entries exist");
                entry.unused_since = None;
                out.push(Collected {
                    id,
                    labels: entry.labels.clone(),
                    store_ref: entry.store_ref.take(),
                });
            } else if let Some(entry) = self.remove(id) {
                out.push(Collected {
                    id,
                    labels: entry.labels,
                    store_ref: None,
                });
            }
        }
        out
    }

    /// The identity of `labels`, if it is reserved or known here.
    pub fn lookup(&self, labels: &LabelSet) -> Option<NumericIdentity> {
        match IdentityClass::of(labels).ok()? {
            IdentityClass::Reserved(id) => Some(id),
            _ => self.by_key.get(&labels.sorted_list()).copied(),
        }
    }

    /// The labels of `id`, if it is reserved or known here.
    pub fn labels_of(&self, id: NumericIdentity) -> Option<LabelSet> {
        match self.entries.get(&id) {
            Some(entry) => Some(entry.labels.clone()),
            None => reserved_labels(id),
        }
    }

    /// References held on `id` by all users.
    pub fn refs(&self, id: NumericIdentity) -> u64 {
        self.entries.get(&id).map_or(0, |e| e.refs)
    }

    /// References `user` holds on `id`.
    pub fn user_refs(&self, id: NumericIdentity, user: &UserId) -> u32 {
        self.entries
            .get(&id)
            .and_then(|e| e.users.get(user).copied())
            .unwrap_or(0)
    }

    /// Every identity known here (not the reserved ones), in identity order.
    pub fn identities(&self) -> Vec<(NumericIdentity, LabelSet)> {
        let mut all: Vec<_> = self
            .entries
            .iter()
            .map(|(id, e)| (*id, e.labels.clone()))
            .collect();
        all.sort_unstable_by_key(|(id, _)| *id);
        all
    }

    /// How many identities are known here (not counting reserved ones).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no identity is known here (reserved ones aside).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The next queued event.
    pub fn poll_event(&mut self) -> Option<IdentityEvent> {
        self.events.pop_front()
    }

    /// Every queued event, in order.
    pub fn drain_events(&mut self) -> Vec<IdentityEvent> {
        self.events.drain(..).collect()
    }

    /// Use of the global, local and remote-node ranges, in that order.
    pub fn pressure(&self) -> [IdentityPressure; 3] {
        [&self.global, &self.local, &self.remote_node].map(|pool| IdentityPressure {
            scope: pool.scope(),
            first: pool.first(),
            last: pool.last(),
            used: pool.used(),
            total: pool.total(),
            exhausted: self.exhausted[AllocatorCore::pool_index(pool.scope())],
        })
    }
}

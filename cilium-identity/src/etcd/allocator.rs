//! The etcd-backed allocator: a thin async shell around [`AllocatorCore`].

use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use cilium_core::{LabelSet, NumericIdentity};
use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, EventType, GetOptions, KeyValue, PutOptions, Txn,
    TxnOp, TxnOpResponse, WatchOptions,
};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::EtcdError;
use crate::core::{Acquire, Allocation, AllocatorCore, Collected};
use crate::layout::{KvLayout, check_node_name, parse_decimal};
use crate::{
    AllocatorConfig, IdentityEvent, IdentityPressure, UserId, labels_from_key, reserved_labels,
};

/// How an [`EtcdAllocator`] talks to etcd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcdOptions {
    node: String,
    lease_ttl: Duration,
    request_timeout: Duration,
    max_attempts: u32,
    layout: KvLayout,
}

impl EtcdOptions {
    /// Options for node `node` (its name ends its reference keys): lease TTL 15 minutes
    /// (Cilium's `KVstoreLeaseTTL`), request timeout 5 s, 64 attempts per allocation, the
    /// default key prefix.
    pub fn new(node: impl Into<String>) -> EtcdOptions {
        EtcdOptions {
            node: node.into(),
            lease_ttl: Duration::from_secs(15 * 60),
            request_timeout: Duration::from_secs(5),
            max_attempts: 64,
            layout: KvLayout::default(),
        }
    }

    /// Sets the lease TTL (rounded up to whole seconds, at least 1 s): how long after this
    /// node stops renewing its lease etcd deletes its references.
    pub fn with_lease_ttl(mut self, ttl: Duration) -> EtcdOptions {
        self.lease_ttl = ttl;
        self
    }

    /// Sets the timeout of each request to etcd.
    pub fn with_request_timeout(mut self, timeout: Duration) -> EtcdOptions {
        self.request_timeout = timeout;
        self
    }

    /// Sets how many lost races an allocation tolerates before [`EtcdError::Contended`].
    pub fn with_max_attempts(mut self, attempts: u32) -> EtcdOptions {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the key layout (prefix).
    pub fn with_layout(mut self, layout: KvLayout) -> EtcdOptions {
        self.layout = layout;
        self
    }

    fn ttl_secs(&self) -> i64 {
        let secs = self.lease_ttl.as_secs() + u64::from(self.lease_ttl.subsec_nanos() > 0);
        i64::try_from(secs.max(1)).unwrap_or(i64::MAX)
    }
}

/// What a compare-and-create transaction found.
enum Created {
    /// The identity was created with this node's reference at this revision.
    Yes(i64),
    /// The race was lost: the label set's claim (if any) and the labels of the candidate
    /// identity (if someone holds it).
    No {
        claim: Option<NumericIdentity>,
        id_holder: Option<String>,
    },
}

struct Shared {
    client: Client,
    node: String,
    layout: KvLayout,
    options: EtcdOptions,
    lease: AtomicI64,
    core: Mutex<AllocatorCore>,
    subscribers: Mutex<Vec<mpsc::UnboundedSender<IdentityEvent>>>,
    epoch: Instant,
    conflicts: AtomicU64,
    lease_renewals: AtomicU64,
    resyncs: AtomicU64,
}

/// Identities shared through etcd (see the [module docs](super)).
///
/// Cheap to share behind an `Arc`; all methods take `&self`. Dropping it stops its watch
/// and lease renewal without revoking the lease (like a crashed agent: its references
/// expire with the lease); [`close`](Self::close) revokes it.
pub struct EtcdAllocator {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for EtcdAllocator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdAllocator")
            .field("node", &self.shared.node)
            .field("lease", &self.shared.lease.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// FNV-1a, to give each node its own random sequence of candidates.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn header_revision(h: Option<&etcd_client::ResponseHeader>) -> i64 {
    h.map_or(0, etcd_client::ResponseHeader::revision)
}

impl EtcdAllocator {
    /// Connects to etcd at `endpoints`, takes a lease, lists the existing identities and
    /// starts watching them and renewing the lease (on the current tokio runtime).
    ///
    /// The random seed of `config` is mixed with the node name so nodes try different
    /// candidate identities.
    ///
    /// # Errors
    ///
    /// [`EtcdError::NodeName`] for a node name with `/`, [`EtcdError::Etcd`] if etcd cannot
    /// be reached, [`EtcdError::Corrupt`] for foreign data under the prefix.
    pub async fn connect<E: AsRef<str>>(
        endpoints: &[E],
        config: AllocatorConfig,
        options: EtcdOptions,
    ) -> Result<EtcdAllocator, EtcdError> {
        check_node_name(&options.node)?;
        let connect = ConnectOptions::new()
            .with_connect_timeout(options.request_timeout)
            .with_timeout(options.request_timeout);
        let mut client = Client::connect(endpoints, Some(connect))
            .await
            .map_err(EtcdError::etcd("connect"))?;
        let lease = client
            .lease_grant(options.ttl_secs(), None)
            .await
            .map_err(EtcdError::etcd("lease grant"))?
            .id();
        let seed = config.seed() ^ fnv1a(&options.node);
        let shared = Arc::new(Shared {
            client,
            node: options.node.clone(),
            layout: options.layout.clone(),
            lease: AtomicI64::new(lease),
            core: Mutex::new(AllocatorCore::with_store(config.with_seed(seed))),
            subscribers: Mutex::new(Vec::new()),
            epoch: Instant::now(),
            conflicts: AtomicU64::new(0),
            lease_renewals: AtomicU64::new(0),
            resyncs: AtomicU64::new(0),
            options,
        });
        let revision = shared.resync().await?;
        let watch = tokio::spawn(Arc::clone(&shared).watch_loop(revision + 1));
        let keepalive = tokio::spawn(Arc::clone(&shared).lease_loop());
        Ok(EtcdAllocator {
            shared,
            tasks: vec![watch, keepalive],
        })
    }

    /// Takes a reference of `user` to the identity of `labels`: reserved and node-local
    /// identities are handled locally; a global identity this node already references costs
    /// no request; otherwise this node references the label set's identity in etcd or
    /// creates one with a compare-and-create transaction.
    ///
    /// # Errors
    ///
    /// [`EtcdError::Allocator`] for bad labels or an exhausted range, [`EtcdError::Etcd`]
    /// when etcd cannot be reached, [`EtcdError::Contended`] after too many lost races.
    pub async fn allocate(
        &self,
        labels: &LabelSet,
        user: &UserId,
    ) -> Result<Allocation, EtcdError> {
        let s = &self.shared;
        let attempts = s.options.max_attempts;
        for _ in 0..attempts {
            let acquired = s.core().acquire(labels, user)?;
            let request = match acquired {
                Acquire::Done(allocation) => {
                    s.publish();
                    return Ok(allocation);
                }
                Acquire::NeedsGlobal(request) => request,
            };
            if let Some(id) = request.known
                && let Some(rev) = s.reference(id, &request.key).await?
            {
                return s.commit(id, labels, user, rev, false);
            }
            let candidate = s.core().candidate()?;
            let created = match s.create(candidate, &request.key).await {
                Ok(created) => created,
                Err(e) => {
                    s.core().abandon_candidate(candidate, false);
                    return Err(e);
                }
            };
            match created {
                Created::Yes(rev) => return s.commit(candidate, labels, user, rev, true),
                Created::No { claim, id_holder } => {
                    s.conflicts.fetch_add(1, Ordering::Relaxed);
                    {
                        let mut core = s.core();
                        core.abandon_candidate(candidate, id_holder.is_some());
                        if let Some(other) = id_holder.as_deref().and_then(labels_from_key) {
                            // Learn early what the watch will report anyway.
                            let _ = core.observe(candidate, &other);
                        }
                    }
                    s.publish();
                    if let Some(id) = claim
                        && let Some(rev) = s.reference(id, &request.key).await?
                    {
                        return s.commit(id, labels, user, rev, false);
                    }
                }
            }
        }
        Err(EtcdError::Contended {
            labels: labels.to_string(),
            attempts,
        })
    }

    /// Drops one reference of `user` to `id` (no request: this node's reference in etcd goes
    /// when [`gc`](Self::gc) finds the identity unused for the grace period).
    ///
    /// # Errors
    ///
    /// [`EtcdError::Allocator`] for an identity or user that holds no reference.
    pub fn release(&self, id: NumericIdentity, user: &UserId) -> Result<u64, EtcdError> {
        let now = self.shared.now();
        Ok(self.shared.core().release(id, user, now)?)
    }

    /// Drops every reference of `user`; returns the identities it held.
    pub fn release_user(&self, user: &UserId) -> Vec<NumericIdentity> {
        let now = self.shared.now();
        self.shared.core().release_user(user, now)
    }

    /// Collects identities this node has not referenced for the grace period: node-local
    /// ones are removed, and this node's reference to global ones is deleted from etcd
    /// (conditionally: not if it was re-created meanwhile).
    ///
    /// # Errors
    ///
    /// [`EtcdError::Etcd`]; references not deleted stay until the lease ends.
    pub async fn gc(&self) -> Result<Vec<Collected>, EtcdError> {
        let s = &self.shared;
        let now = s.now();
        let collected = s.core().gc(now);
        s.publish();
        let mut kv = s.client.kv_client();
        for c in &collected {
            let Some(rev) = c.store_ref else { continue };
            let key = s.layout.value_key(&c.labels.sorted_list(), &s.node);
            let txn = Txn::new()
                .when([Compare::mod_revision(key.clone(), CompareOp::Equal, rev)])
                .and_then([TxnOp::delete(key, None)]);
            kv.txn(txn)
                .await
                .map_err(EtcdError::etcd("delete reference"))?;
        }
        Ok(collected)
    }

    /// Deletes every identity in etcd that no node references (after a dead node's lease
    /// expired, or after nodes released it), each in a transaction that also checks that no
    /// reference appeared and the identity did not change. Any node may run it; running it
    /// on several at once is safe. Returns the identities deleted; subscribers of every node
    /// see them removed through the watch.
    ///
    /// # Errors
    ///
    /// [`EtcdError::Etcd`].
    pub async fn collect_garbage(&self) -> Result<Vec<NumericIdentity>, EtcdError> {
        let s = &self.shared;
        let mut kv = s.client.kv_client();
        let refs = kv
            .get(
                s.layout.value_root(),
                Some(GetOptions::new().with_prefix().with_keys_only()),
            )
            .await
            .map_err(EtcdError::etcd("list references"))?;
        let referenced: HashSet<String> = refs
            .kvs()
            .iter()
            .filter_map(|kv| kv.key_str().ok())
            .filter_map(|k| {
                s.layout
                    .parse_value_key(k)
                    .map(|(label_key, _)| label_key.to_owned())
            })
            .collect();
        let ids = kv
            .get(s.layout.id_prefix(), Some(GetOptions::new().with_prefix()))
            .await
            .map_err(EtcdError::etcd("list identities"))?;
        let mut deleted = Vec::new();
        for entry in ids.kvs() {
            let Some(id) = entry.key_str().ok().and_then(|k| s.layout.parse_id_key(k)) else {
                continue;
            };
            let Ok(label_key) = entry.value_str() else {
                continue;
            };
            if referenced.contains(label_key) {
                continue;
            }
            let id_key = s.layout.id_key(id);
            let txn = Txn::new()
                .when([
                    Compare::mod_revision(id_key.clone(), CompareOp::Equal, entry.mod_revision()),
                    Compare::version(s.layout.value_prefix(label_key), CompareOp::Equal, 0)
                        .with_prefix(),
                ])
                .and_then([
                    TxnOp::delete(id_key, None),
                    TxnOp::delete(s.layout.claim_key(label_key), None),
                ]);
            let resp = kv
                .txn(txn)
                .await
                .map_err(EtcdError::etcd("delete identity"))?;
            if resp.succeeded() {
                deleted.push(id);
            }
        }
        Ok(deleted)
    }

    /// A stream of identity events: first an [`IdentityEvent::Added`] for every reserved and
    /// every known identity, then every change, in order.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<IdentityEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        let s = &self.shared;
        // Under the core lock, so no event is both in the snapshot and sent live.
        let core = s.core();
        for (id, _) in NumericIdentity::reserved() {
            if let Some(labels) = reserved_labels(id) {
                let _ = tx.send(IdentityEvent::Added { id, labels });
            }
        }
        for (id, labels) in core.identities() {
            let _ = tx.send(IdentityEvent::Added { id, labels });
        }
        s.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(tx);
        drop(core);
        rx
    }

    /// The identity of `labels`, if reserved or known here.
    pub fn lookup(&self, labels: &LabelSet) -> Option<NumericIdentity> {
        self.shared.core().lookup(labels)
    }

    /// The labels of `id`, if reserved or known here.
    pub fn labels_of(&self, id: NumericIdentity) -> Option<LabelSet> {
        self.shared.core().labels_of(id)
    }

    /// Every identity known here (this node's and those seen in etcd), in identity order.
    pub fn identities(&self) -> Vec<(NumericIdentity, LabelSet)> {
        self.shared.core().identities()
    }

    /// References held on `id` on this node.
    pub fn refs(&self, id: NumericIdentity) -> u64 {
        self.shared.core().refs(id)
    }

    /// Use of the ranges; the global one counts identities of every node.
    pub fn pressure(&self) -> [IdentityPressure; 3] {
        self.shared.core().pressure()
    }

    /// The node name.
    pub fn node(&self) -> &str {
        &self.shared.node
    }

    /// The current lease.
    pub fn lease_id(&self) -> i64 {
        self.shared.lease.load(Ordering::Relaxed)
    }

    /// Races lost to other nodes so far (each cost one more transaction).
    pub fn conflicts(&self) -> u64 {
        self.shared.conflicts.load(Ordering::Relaxed)
    }

    /// How often the lease had to be replaced (it expired while etcd was unreachable).
    pub fn lease_replacements(&self) -> u64 {
        self.shared.lease_renewals.load(Ordering::Relaxed)
    }

    /// How often the watch was re-established from a fresh listing.
    pub fn resyncs(&self) -> u64 {
        self.shared.resyncs.load(Ordering::Relaxed)
    }

    /// Lists the identities in etcd now and applies the differences (what the watch does
    /// after a disconnection); returns the store revision listed.
    ///
    /// # Errors
    ///
    /// [`EtcdError::Etcd`], [`EtcdError::Corrupt`].
    pub async fn resync(&self) -> Result<i64, EtcdError> {
        self.shared.resync().await
    }

    /// Stops the watch and lease renewal and revokes the lease, which deletes this node's
    /// references at once.
    ///
    /// # Errors
    ///
    /// [`EtcdError::Etcd`] if the revocation failed (the references then expire with the
    /// lease).
    pub async fn close(mut self) -> Result<(), EtcdError> {
        for task in self.tasks.drain(..) {
            task.abort();
        }
        let lease = self.lease_id();
        self.shared
            .client
            .lease_client()
            .revoke(lease)
            .await
            .map_err(EtcdError::etcd("lease revoke"))?;
        Ok(())
    }
}

impl Drop for EtcdAllocator {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Shared {
    fn core(&self) -> MutexGuard<'_, AllocatorCore> {
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// Sends queued events to the subscribers (dropping closed ones).
    fn publish(&self) {
        let mut core = self.core();
        let events = core.drain_events();
        if events.is_empty() {
            return;
        }
        let mut subs = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        subs.retain(|tx| events.iter().all(|e| tx.send(e.clone()).is_ok()));
        drop(core);
    }

    fn commit(
        &self,
        id: NumericIdentity,
        labels: &LabelSet,
        user: &UserId,
        rev: i64,
        created: bool,
    ) -> Result<Allocation, EtcdError> {
        let allocation = self.core().commit_global(id, labels, user, rev, created)?;
        self.publish();
        Ok(allocation)
    }

    fn lease(&self) -> Result<i64, EtcdError> {
        match self.lease.load(Ordering::Acquire) {
            0 => Err(EtcdError::NoLease),
            lease => Ok(lease),
        }
    }

    /// Puts this node's reference to `id` if `id` still holds `label_key`; the reference's
    /// revision, or `None` if the identity is gone.
    async fn reference(
        &self,
        id: NumericIdentity,
        label_key: &str,
    ) -> Result<Option<i64>, EtcdError> {
        let id_key = self.layout.id_key(id);
        let txn = Txn::new()
            .when([Compare::value(id_key, CompareOp::Equal, label_key)])
            .and_then([TxnOp::put(
                self.layout.value_key(label_key, &self.node),
                id.to_string(),
                Some(PutOptions::new().with_lease(self.lease()?)),
            )]);
        let resp = self
            .client
            .kv_client()
            .txn(txn)
            .await
            .map_err(EtcdError::etcd("reference identity"))?;
        Ok(resp.succeeded().then(|| header_revision(resp.header())))
    }

    /// The compare-and-create transaction for identity `id` and `label_key`.
    async fn create(&self, id: NumericIdentity, label_key: &str) -> Result<Created, EtcdError> {
        let id_key = self.layout.id_key(id);
        let claim_key = self.layout.claim_key(label_key);
        let txn = Txn::new()
            .when([
                Compare::version(id_key.clone(), CompareOp::Equal, 0),
                Compare::version(claim_key.clone(), CompareOp::Equal, 0),
            ])
            .and_then([
                TxnOp::put(id_key.clone(), label_key, None),
                TxnOp::put(claim_key.clone(), id.to_string(), None),
                TxnOp::put(
                    self.layout.value_key(label_key, &self.node),
                    id.to_string(),
                    Some(PutOptions::new().with_lease(self.lease()?)),
                ),
            ])
            .or_else([TxnOp::get(claim_key, None), TxnOp::get(id_key, None)]);
        let resp = self
            .client
            .kv_client()
            .txn(txn)
            .await
            .map_err(EtcdError::etcd("create identity"))?;
        if resp.succeeded() {
            return Ok(Created::Yes(header_revision(resp.header())));
        }
        let mut found = resp.op_responses().into_iter().map(|r| match r {
            TxnOpResponse::Get(get) => get.kvs().first().cloned(),
            _ => None,
        });
        let claim = match found.next().flatten() {
            Some(kv) => Some(self.parse_claim(&kv)?),
            None => None,
        };
        let id_holder = found
            .next()
            .flatten()
            .map(|kv| String::from_utf8_lossy(kv.value()).into_owned());
        Ok(Created::No { claim, id_holder })
    }

    fn parse_claim(&self, kv: &KeyValue) -> Result<NumericIdentity, EtcdError> {
        kv.value_str()
            .ok()
            .and_then(parse_decimal)
            .ok_or_else(|| EtcdError::Corrupt {
                key: String::from_utf8_lossy(kv.key()).into_owned(),
                value: String::from_utf8_lossy(kv.value()).into_owned(),
                expected: "a decimal identity",
            })
    }

    /// The identity and labels of an `id` key-value, `None` for keys that are not ours.
    fn parse_identity(
        &self,
        kv: &KeyValue,
    ) -> Result<Option<(NumericIdentity, LabelSet)>, EtcdError> {
        let Some(id) = kv.key_str().ok().and_then(|k| self.layout.parse_id_key(k)) else {
            return Ok(None);
        };
        let labels = kv
            .value_str()
            .ok()
            .and_then(labels_from_key)
            .ok_or_else(|| EtcdError::Corrupt {
                key: String::from_utf8_lossy(kv.key()).into_owned(),
                value: String::from_utf8_lossy(kv.value()).into_owned(),
                expected: "a label key (source:key=value;...)",
            })?;
        Ok(Some((id, labels)))
    }

    async fn resync(&self) -> Result<i64, EtcdError> {
        let resp = self
            .client
            .kv_client()
            .get(
                self.layout.id_prefix(),
                Some(GetOptions::new().with_prefix()),
            )
            .await
            .map_err(EtcdError::etcd("list identities"))?;
        let mut listed = Vec::with_capacity(resp.kvs().len());
        for kv in resp.kvs() {
            if let Some(entry) = self.parse_identity(kv)? {
                listed.push(entry);
            }
        }
        {
            let mut core = self.core();
            let present: HashSet<NumericIdentity> = listed.iter().map(|(id, _)| *id).collect();
            for (id, _) in core.identities() {
                if id.is_global() && !present.contains(&id) {
                    core.forget(id);
                }
            }
            for (id, labels) in &listed {
                // Identities outside this cluster's range are not ours to track.
                let _ = core.observe(*id, labels);
            }
        }
        self.resyncs.fetch_add(1, Ordering::Relaxed);
        self.publish();
        Ok(header_revision(resp.header()))
    }

    async fn watch_once(&self, start: i64) -> Result<(), EtcdError> {
        let mut client = self.client.watch_client();
        let mut stream = client
            .watch(
                self.layout.id_prefix(),
                Some(WatchOptions::new().with_prefix().with_start_revision(start)),
            )
            .await
            .map_err(EtcdError::etcd("watch"))?;
        while let Some(resp) = stream.message().await.map_err(EtcdError::etcd("watch"))? {
            if resp.canceled() {
                break;
            }
            {
                let mut core = self.core();
                for event in resp.events() {
                    let Some(kv) = event.kv() else { continue };
                    match event.event_type() {
                        EventType::Put => {
                            if let Ok(Some((id, labels))) = self.parse_identity(kv) {
                                let _ = core.observe(id, &labels);
                            }
                        }
                        EventType::Delete => {
                            if let Some(id) =
                                kv.key_str().ok().and_then(|k| self.layout.parse_id_key(k))
                            {
                                core.forget(id);
                            }
                        }
                    }
                }
            }
            self.publish();
        }
        Ok(())
    }

    /// Watches the identities; after any interruption, relists and watches again.
    async fn watch_loop(self: Arc<Self>, mut start: i64) {
        loop {
            let _ = self.watch_once(start).await;
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if let Ok(rev) = self.resync().await {
                    start = rev + 1;
                    break;
                }
            }
        }
    }

    /// Renews the lease every third of its TTL; replaces it when it expired.
    async fn lease_loop(self: Arc<Self>) {
        let period = Duration::from_secs(u64::try_from(self.options.ttl_secs()).unwrap_or(1))
            .div_f64(3.0)
            .max(Duration::from_millis(100));
        loop {
            let lease = self.lease.load(Ordering::Acquire);
            if let Ok((mut keeper, mut stream)) = self.client.lease_client().keep_alive(lease).await
            {
                loop {
                    if keeper.keep_alive().await.is_err() {
                        break;
                    }
                    match stream.message().await {
                        Ok(Some(resp)) if resp.ttl() > 0 => {}
                        Ok(Some(_)) => {
                            // TTL 0: etcd no longer knows the lease; it expired.
                            let _ = self.replace_lease().await;
                            break;
                        }
                        _ => break,
                    }
                    tokio::time::sleep(period).await;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Takes a new lease and re-creates this node's references under it.
    async fn replace_lease(&self) -> Result<(), EtcdError> {
        self.lease.store(0, Ordering::Release);
        let lease = self
            .client
            .lease_client()
            .grant(self.options.ttl_secs(), None)
            .await
            .map_err(EtcdError::etcd("lease grant"))?
            .id();
        self.lease.store(lease, Ordering::Release);
        self.lease_renewals.fetch_add(1, Ordering::Relaxed);
        let held = self.core().drop_store_refs();
        for (id, labels) in held {
            let key = labels.sorted_list();
            let rev = match self.reference(id, &key).await? {
                Some(rev) => Some(rev),
                // The identity was collected meanwhile: create it again under the same number.
                None => match self.create(id, &key).await? {
                    Created::Yes(rev) => Some(rev),
                    Created::No { .. } => None,
                },
            };
            if let Some(rev) = rev {
                self.core().restore_store_ref(id, rev);
            }
        }
        Ok(())
    }
}

//! Identity add/delete events, the feed of a policy engine's selector cache.

use cilium_core::{LabelSet, NumericIdentity};

/// An identity became known or went away.
///
/// Allocators queue these: the in-memory [`Allocator`](crate::Allocator) through
/// [`poll_event`](crate::Allocator::poll_event), the store backends through a subscription.
/// A consumer applies them in order with plain calls:
///
/// ```
/// use cilium_core::{LabelSet, NumericIdentity};
/// use cilium_identity::IdentityEvent;
///
/// #[derive(Default)]
/// struct SelectorCache { ids: Vec<NumericIdentity> }
/// impl SelectorCache {
///     fn add_identity(&mut self, id: NumericIdentity, _labels: &LabelSet) { self.ids.push(id) }
///     fn remove_identity(&mut self, id: NumericIdentity, _labels: &LabelSet) {
///         self.ids.retain(|i| *i != id)
///     }
/// }
///
/// let mut cache = SelectorCache::default();
/// let event = IdentityEvent::Added {
///     id: NumericIdentity(256),
///     labels: LabelSet::parse_list(&["k8s:app=web"]),
/// };
/// match &event {
///     IdentityEvent::Added { id, labels } => cache.add_identity(*id, labels),
///     IdentityEvent::Removed { id, labels } => cache.remove_identity(*id, labels),
/// }
/// assert_eq!(cache.ids, [NumericIdentity(256)]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityEvent {
    /// `id` now stands for `labels`: allocated here, seen in the store, or (once, when an
    /// allocator starts) a reserved identity.
    Added {
        /// The identity.
        id: NumericIdentity,
        /// Its identity-relevant labels.
        labels: LabelSet,
    },
    /// `id` is gone: collected after its grace period here, or deleted from the store.
    Removed {
        /// The identity.
        id: NumericIdentity,
        /// The labels it stood for.
        labels: LabelSet,
    },
}

impl IdentityEvent {
    /// The identity the event is about.
    pub fn id(&self) -> NumericIdentity {
        match self {
            IdentityEvent::Added { id, .. } | IdentityEvent::Removed { id, .. } => *id,
        }
    }

    /// The labels of the identity.
    pub fn labels(&self) -> &LabelSet {
        match self {
            IdentityEvent::Added { labels, .. } | IdentityEvent::Removed { labels, .. } => labels,
        }
    }

    /// Whether this is [`IdentityEvent::Added`].
    pub fn is_added(&self) -> bool {
        matches!(self, IdentityEvent::Added { .. })
    }
}

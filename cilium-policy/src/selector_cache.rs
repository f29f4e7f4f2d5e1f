//! The selector cache: for every selector in use, the identities it selects, kept up to date
//! incrementally from identity events.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use cilium_core::{LabelSet, NumericIdentity};

use crate::selector::Selector;

/// Selected identities per selector, plus the labels of every known identity.
///
/// Feed it the allocator's watch events with [`SelectorCache::upsert_identity`] and
/// [`SelectorCache::remove_identity`]; each returns the selectors whose selection changed.
#[derive(Debug, Clone, Default)]
pub struct SelectorCache {
    identities: BTreeMap<NumericIdentity, LabelSet>,
    selections: BTreeMap<Arc<Selector>, Selection>,
}

#[derive(Debug, Clone, Default)]
struct Selection {
    ids: BTreeSet<NumericIdentity>,
    users: usize,
}

/// Which selectors gained or lost one identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectionChange {
    /// The identity.
    pub identity: NumericIdentity,
    /// Selectors that now select it and did not before.
    pub added_to: Vec<Arc<Selector>>,
    /// Selectors that selected it and no longer do.
    pub removed_from: Vec<Arc<Selector>>,
}

impl SelectionChange {
    /// Whether no selection changed.
    pub fn is_empty(&self) -> bool {
        self.added_to.is_empty() && self.removed_from.is_empty()
    }
}

static EMPTY: BTreeSet<NumericIdentity> = BTreeSet::new();

impl SelectorCache {
    /// An empty cache.
    pub fn new() -> SelectorCache {
        SelectorCache::default()
    }

    /// A cache that knows the reserved identities 1..=10 with their `reserved:` labels.
    pub fn with_reserved_identities() -> SelectorCache {
        let mut cache = SelectorCache::new();
        for (id, name) in NumericIdentity::reserved() {
            if id == NumericIdentity::UNKNOWN {
                continue;
            }
            let labels = LabelSet::parse_list(&[format!("reserved:{name}")]);
            cache.upsert_identity(id, labels);
        }
        cache
    }

    /// Adds or relabels an identity; returns the selectors whose selection changed.
    pub fn upsert_identity(&mut self, id: NumericIdentity, labels: LabelSet) -> SelectionChange {
        let mut change = SelectionChange {
            identity: id,
            ..SelectionChange::default()
        };
        for (sel, selection) in &mut self.selections {
            let now = sel.matches(&labels);
            let before = selection.ids.contains(&id);
            if now && !before {
                selection.ids.insert(id);
                change.added_to.push(sel.clone());
            } else if !now && before {
                selection.ids.remove(&id);
                change.removed_from.push(sel.clone());
            }
        }
        self.identities.insert(id, labels);
        change
    }

    /// Forgets an identity; returns the selectors that selected it.
    pub fn remove_identity(&mut self, id: NumericIdentity) -> SelectionChange {
        let mut change = SelectionChange {
            identity: id,
            ..SelectionChange::default()
        };
        if self.identities.remove(&id).is_none() {
            return change;
        }
        for (sel, selection) in &mut self.selections {
            if selection.ids.remove(&id) {
                change.removed_from.push(sel.clone());
            }
        }
        change
    }

    /// Starts tracking `selector` (reference counted); computes its selection on first use.
    pub fn add_selector(&mut self, selector: &Arc<Selector>) {
        if let Some(s) = self.selections.get_mut(selector) {
            s.users += 1;
            return;
        }
        let ids = self
            .identities
            .iter()
            .filter(|(_, labels)| selector.matches(labels))
            .map(|(id, _)| *id)
            .collect();
        self.selections
            .insert(selector.clone(), Selection { ids, users: 1 });
    }

    /// Drops one use of `selector`; the last use forgets it.
    pub fn remove_selector(&mut self, selector: &Selector) {
        if let Some(s) = self.selections.get_mut(selector) {
            s.users -= 1;
            if s.users == 0 {
                self.selections.remove(selector);
            }
        }
    }

    /// The identities `selector` selects (empty for an untracked selector).
    pub fn selections(&self, selector: &Selector) -> &BTreeSet<NumericIdentity> {
        self.selections.get(selector).map_or(&EMPTY, |s| &s.ids)
    }

    /// Whether `selector` selects `id` (computed from labels if the selector is untracked).
    pub fn selects(&self, selector: &Selector, id: NumericIdentity) -> bool {
        match self.selections.get(selector) {
            Some(s) => s.ids.contains(&id),
            None => self
                .identities
                .get(&id)
                .is_some_and(|l| selector.matches(l)),
        }
    }

    /// The labels of a known identity.
    pub fn labels(&self, id: NumericIdentity) -> Option<&LabelSet> {
        self.identities.get(&id)
    }

    /// Every known identity.
    pub fn identities(&self) -> impl Iterator<Item = (NumericIdentity, &LabelSet)> {
        self.identities.iter().map(|(id, l)| (*id, l))
    }

    /// How many selectors are tracked.
    pub fn selector_count(&self) -> usize {
        self.selections.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selector::{LabelSelector, Requirement};

    #[test]
    fn selections_follow_identity_events() {
        let mut cache = SelectorCache::with_reserved_identities();
        let web = Arc::new(Selector::Labels(LabelSelector::new([Requirement::equals(
            "any", "app", "web",
        )])));
        cache.add_selector(&web);
        assert!(cache.selections(&web).is_empty());
        let id = NumericIdentity::new(300);
        let change = cache.upsert_identity(id, LabelSet::parse_list(&["k8s:app=web"]));
        assert_eq!(change.added_to, vec![web.clone()]);
        assert!(cache.selections(&web).contains(&id));
        let change = cache.upsert_identity(id, LabelSet::parse_list(&["k8s:app=db"]));
        assert_eq!(change.removed_from, vec![web.clone()]);
        cache.upsert_identity(id, LabelSet::parse_list(&["k8s:app=web"]));
        let change = cache.remove_identity(id);
        assert_eq!(change.removed_from, vec![web.clone()]);
        assert!(cache.selections(&web).is_empty());
        cache.remove_selector(&web);
        assert_eq!(cache.selector_count(), 0);
    }
}

//! Labels, label sets and the identity-relevant label filter (Cilium's `pkg/labels` and
//! `pkg/labelsfilter`).
//!
//! A [`Label`] is `source:key=value`; a [`LabelSet`] holds one label per key and produces the
//! canonical string ([`LabelSet::sorted_list`]) that identities are allocated for; a
//! [`LabelFilter`] decides which labels count for an identity.

mod error;
mod filter;
mod label;
mod label_set;
mod source;

pub use error::{LabelError, LabelFilterError};
pub use filter::{LabelFilter, LabelPrefix};
pub use label::{Label, extended_key_from};
pub use label_set::{IntoIter, Iter, LabelSet};
pub use source::LabelSource;

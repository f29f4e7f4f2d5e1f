//! Errors of the typed map handles.

use std::io;

/// Errors of map operations, for kernel maps and their in-memory twins alike.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    /// The Rust key type does not have the map's key size.
    #[error("map {map}: key size is {expected} bytes, the Rust key type has {size}")]
    KeySize {
        /// Map name.
        map: String,
        /// Size of the Rust type.
        size: usize,
        /// Size the map was created with.
        expected: usize,
    },
    /// The Rust value type does not have the map's value size.
    #[error("map {map}: value size is {expected} bytes, the Rust value type has {size}")]
    ValueSize {
        /// Map name.
        map: String,
        /// Size of the Rust type.
        size: usize,
        /// Size the map was created with.
        expected: usize,
    },
    /// The map is not of the kind the handle expects.
    #[error("map {map}: is a {actual} map, expected {expected}")]
    Kind {
        /// Map name.
        map: String,
        /// Kind found.
        actual: String,
        /// Kind expected.
        expected: String,
    },
    /// A new key could not be inserted because the map holds `capacity` entries.
    #[error("map {map} is full ({capacity} entries)")]
    Full {
        /// Map name.
        map: String,
        /// `max_entries`.
        capacity: u32,
    },
    /// A batch stopped part-way; `written` entries (in order) were applied.
    #[error("map {map}: batch stopped after {written} of {total} entries")]
    BatchIncomplete {
        /// Map name.
        map: String,
        /// Entries applied.
        written: usize,
        /// Entries requested.
        total: usize,
        /// Why it stopped.
        #[source]
        source: Box<MapError>,
    },
    /// The key to delete or update (with `UpdateFlags::Exist`) is not in the map.
    #[error("map {map}: key not found")]
    NotFound {
        /// Map name.
        map: String,
    },
    /// `UpdateFlags::NoExist` and the key is already present.
    #[error("map {map}: key already exists")]
    Exists {
        /// Map name.
        map: String,
    },
    /// A key the map kind rejects (e.g. an LPM prefix longer than the key).
    #[error("map {map}: invalid key: {reason}")]
    InvalidKey {
        /// Map name.
        map: String,
        /// Why.
        reason: String,
    },
    /// A bpf(2) call failed (kernel maps, `kernel` feature; kept without it so that matches
    /// on this enum compile the same in both modes).
    #[error("map {map}: {call} failed")]
    Syscall {
        /// Map name.
        map: String,
        /// The bpf command.
        call: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// aya reported an error (creating, pinning or opening a map; `kernel` feature, kept
    /// without it like [`MapError::Syscall`]).
    #[error("map {map}: {action} failed")]
    Aya {
        /// Map name or path.
        map: String,
        /// What was being done.
        action: &'static str,
        /// aya's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl MapError {
    /// Whether this is [`MapError::Full`] (directly or as the cause of a stopped batch).
    pub fn is_full(&self) -> bool {
        match self {
            Self::Full { .. } => true,
            Self::BatchIncomplete { source, .. } => source.is_full(),
            _ => false,
        }
    }
}

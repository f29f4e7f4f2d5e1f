//! The async event reader: decoded datapath events from the ring buffer, with lost-event
//! accounting.
//!
//! The programs reserve ring-buffer records and, when the buffer is full, count the event as
//! lost in a per-CPU counter (`cil_events_lost`) instead; records that do not decode (which
//! would mean an ABI mismatch) are counted here. [`EventStream::lost`] reports both, so a
//! consumer (the flow observer) can say how much it did not see.

use std::path::{Path, PathBuf};

use aya::maps::{Map, MapData, PerCpuArray, RingBuf};
use cilium_maps::events::Event;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::error::DatapathError;
use crate::loader::{Datapath, pins};

/// Events that did not reach the reader.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LostEvents {
    /// Dropped by the programs because the ring buffer was full (summed over CPUs).
    pub ring_full: u64,
    /// Read from the ring buffer but not decodable.
    pub undecodable: u64,
}

pub(crate) fn lost_count(path: &Path) -> Result<u64, DatapathError> {
    let map_err = |e: aya::maps::MapError| DatapathError::Io {
        what: format!("read {}", path.display()),
        source: std::io::Error::other(e.to_string()),
    };
    let data = MapData::from_pin(path).map_err(map_err)?;
    let array: PerCpuArray<MapData, u64> =
        PerCpuArray::try_from(Map::PerCpuArray(data)).map_err(map_err)?;
    let values = array.get(&0, 0).map_err(map_err)?;
    Ok(values.iter().sum())
}

/// A stream of decoded events (tokio; the ring buffer's fd is polled with `AsyncFd`).
pub struct EventStream {
    ring: AsyncFd<RingBuf<MapData>>,
    lost_path: PathBuf,
    undecodable: u64,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("undecodable", &self.undecodable)
            .finish_non_exhaustive()
    }
}

impl EventStream {
    /// Takes the ring buffer of `dp` (there is one reader per datapath instance). Must be
    /// called within a tokio runtime.
    pub fn new(dp: &mut Datapath) -> Result<Self, DatapathError> {
        let ring = dp.take_events().ok_or_else(|| DatapathError::Config {
            field: "events",
            reason: "the ring buffer reader was already taken".into(),
        })?;
        // SAFETY: the RingBuf owns its map fd (and the mmap over it) and always reports that
        // same fd; the AsyncFd owns the RingBuf until it is dropped.
        let ring =
            unsafe { AsyncFd::register_with_interest(ring, Interest::READABLE) }.map_err(|e| {
                DatapathError::Io {
                    what: "register the events ring buffer with tokio".into(),
                    source: e.into_parts().1,
                }
            })?;
        Ok(Self {
            ring,
            lost_path: dp.pinned(pins::EVENTS_LOST),
            undecodable: 0,
        })
    }

    /// The next event already in the buffer, without waiting.
    pub fn try_next(&mut self) -> Option<Event> {
        loop {
            let item = self.ring.get_mut().next()?;
            match Event::parse(&item) {
                Ok(e) => return Some(e),
                Err(_) => self.undecodable += 1,
            }
        }
    }

    /// The next event, waiting for one.
    pub async fn next(&mut self) -> Result<Event, DatapathError> {
        loop {
            if let Some(e) = self.try_next() {
                return Ok(e);
            }
            let mut guard = self
                .ring
                .readable_mut()
                .await
                .map_err(|source| DatapathError::Io {
                    what: "wait for the events ring buffer".into(),
                    source,
                })?;
            guard.clear_ready();
        }
    }

    /// Events lost so far.
    pub fn lost(&self) -> Result<LostEvents, DatapathError> {
        Ok(LostEvents {
            ring_full: lost_count(&self.lost_path)?,
            undecodable: self.undecodable,
        })
    }
}

//! The observer: a bounded ring of flows that readers follow without ever slowing the
//! writer, lost-event accounting per source, and the ingest path from datapath events.
//!
//! - [`Observer`] keeps the last `capacity` entries (4095 by default, like Hubble). Writing
//!   takes a short lock and never waits for a reader. A [`Reader`] that falls more than
//!   `capacity` entries behind does not stall anything: it skips ahead and reports how many
//!   entries it missed as a `HUBBLE_RING_BUFFER` lost event.
//! - [`Ingest`] sits between the datapath's event reader and the ring: `offer` never blocks
//!   (a full queue counts the event as lost, `OBSERVER_EVENTS_QUEUE`), and a decoder thread
//!   turns events into flows, feeds the [`FlowSink`]s (metrics) and writes the ring. Losses the
//!   datapath reports (`PERF_EVENT_RING_BUFFER`) are passed in with [`Ingest::report_ring_lost`].
//!
//! Waiting readers are woken through `std::task::Waker`s, so readers work under any async
//! runtime (the gRPC server uses tokio) and the ring itself needs none.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;

use cilium_maps::events::Event;

use crate::parser::{L7Record, Lookups, Parser};
use crate::proto::flow::{Flow, LostEvent, LostEventSource};

/// Hubble's default ring capacity.
pub const DEFAULT_CAPACITY: usize = 4095;

/// One ring entry.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "entries live behind an Arc in the ring; boxing the flow would add an allocation per flow"
)]
pub enum Entry {
    /// A flow.
    Flow(Flow),
    /// Events lost before they became flows.
    Lost(LostEvent),
}

impl Entry {
    /// The flow, if this is one.
    pub fn flow(&self) -> Option<&Flow> {
        match self {
            Self::Flow(f) => Some(f),
            Self::Lost(_) => None,
        }
    }
}

/// Ring occupancy and counters, as `ServerStatus` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Status {
    /// Flows in the ring now.
    pub num_flows: u64,
    /// Ring capacity.
    pub max_flows: u64,
    /// Flows written since start.
    pub seen_flows: u64,
}

/// Events lost per source since start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LostCounts {
    /// The datapath's ring buffer was full.
    pub datapath_ring: u64,
    /// The ingest queue was full.
    pub events_queue: u64,
    /// Readers that fell behind the flow ring (summed over readers).
    pub hubble_ring: u64,
}

struct Ring {
    slots: Vec<Option<Arc<Entry>>>,
    /// Entries written since start; the next entry goes to `head % capacity`.
    head: u64,
    /// Flows (not lost markers) currently in the ring.
    flows_in_ring: u64,
    wakers: Vec<Waker>,
}

/// The flow ring.
pub struct Observer {
    ring: Mutex<Ring>,
    capacity: usize,
    seen_flows: AtomicU64,
    lost_datapath: AtomicU64,
    lost_queue: AtomicU64,
    lost_hubble: AtomicU64,
}

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observer")
            .field("capacity", &self.capacity)
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl Observer {
    /// A ring of `capacity` entries (at least 1).
    pub fn new(capacity: usize) -> Arc<Self> {
        let capacity = capacity.max(1);
        Arc::new(Self {
            ring: Mutex::new(Ring {
                slots: vec![None; capacity],
                head: 0,
                flows_in_ring: 0,
                wakers: Vec::new(),
            }),
            capacity,
            seen_flows: AtomicU64::new(0),
            lost_datapath: AtomicU64::new(0),
            lost_queue: AtomicU64::new(0),
            lost_hubble: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Ring> {
        // A panic while holding the lock leaves the ring consistent (every write is one slot
        // assignment and counter bumps), so a poisoned lock is still usable.
        self.ring
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn push(&self, entry: Entry) {
        let is_flow = matches!(entry, Entry::Flow(_));
        let entry = Arc::new(entry);
        let wakers = {
            let mut ring = self.lock();
            let slot = (ring.head % self.capacity as u64) as usize;
            if let Some(old) = ring.slots[slot].replace(entry)
                && matches!(*old, Entry::Flow(_))
            {
                ring.flows_in_ring -= 1;
            }
            if is_flow {
                ring.flows_in_ring += 1;
            }
            ring.head += 1;
            std::mem::take(&mut ring.wakers)
        };
        if is_flow {
            self.seen_flows.fetch_add(1, Ordering::Relaxed);
        }
        for w in wakers {
            w.wake();
        }
    }

    /// Writes a flow.
    pub fn push_flow(&self, flow: Flow) {
        self.push(Entry::Flow(flow));
    }

    /// Records `n` events lost at `source` (also written into the ring, so readers see it).
    pub fn push_lost(&self, source: LostEventSource, n: u64) {
        if n == 0 {
            return;
        }
        let counter = match source {
            LostEventSource::PerfEventRingBuffer => &self.lost_datapath,
            LostEventSource::ObserverEventsQueue => &self.lost_queue,
            LostEventSource::HubbleRingBuffer | LostEventSource::UnknownLostEventSource => {
                &self.lost_hubble
            }
        };
        counter.fetch_add(n, Ordering::Relaxed);
        self.push(Entry::Lost(LostEvent {
            source: source as i32,
            num_events_lost: n,
            cpu: None,
        }));
    }

    /// The ring's capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Occupancy and flows seen.
    pub fn status(&self) -> Status {
        let ring = self.lock();
        Status {
            num_flows: ring.flows_in_ring,
            max_flows: self.capacity as u64,
            seen_flows: self.seen_flows.load(Ordering::Relaxed),
        }
    }

    /// Events lost so far, per source.
    pub fn lost(&self) -> LostCounts {
        LostCounts {
            datapath_ring: self.lost_datapath.load(Ordering::Relaxed),
            events_queue: self.lost_queue.load(Ordering::Relaxed),
            hubble_ring: self.lost_hubble.load(Ordering::Relaxed),
        }
    }

    /// The entries in the ring now, oldest first.
    pub fn snapshot(&self) -> Vec<Arc<Entry>> {
        let ring = self.lock();
        let cap = self.capacity as u64;
        let start = ring.head.saturating_sub(cap);
        (start..ring.head)
            .filter_map(|seq| ring.slots[(seq % cap) as usize].clone())
            .collect()
    }

    /// A reader positioned after the newest entry (it sees only what is written from now on).
    pub fn reader_at_end(self: &Arc<Self>) -> Reader {
        let head = self.lock().head;
        Reader {
            observer: Arc::clone(self),
            next: head,
        }
    }

    /// A reader positioned at the oldest entry still in the ring.
    pub fn reader_at_start(self: &Arc<Self>) -> Reader {
        let head = self.lock().head;
        Reader {
            observer: Arc::clone(self),
            next: head.saturating_sub(self.capacity as u64),
        }
    }
}

/// What a [`Reader`] got.
#[derive(Debug, Clone, PartialEq)]
pub enum Read {
    /// The next entry.
    Entry(Arc<Entry>),
    /// The reader fell behind and `n` entries were overwritten before it read them.
    Missed(u64),
}

/// A position in the ring that reads forward; never slows the writer.
#[derive(Debug)]
pub struct Reader {
    observer: Arc<Observer>,
    next: u64,
}

impl Reader {
    /// The next entry if one is there, without waiting.
    pub fn try_next(&mut self) -> Option<Read> {
        let observer = Arc::clone(&self.observer);
        let ring = observer.lock();
        self.read_locked(&ring)
    }

    fn read_locked(&mut self, ring: &Ring) -> Option<Read> {
        let cap = self.observer.capacity as u64;
        let oldest = ring.head.saturating_sub(cap);
        if self.next < oldest {
            let missed = oldest - self.next;
            self.next = oldest;
            self.observer
                .lost_hubble
                .fetch_add(missed, Ordering::Relaxed);
            return Some(Read::Missed(missed));
        }
        if self.next >= ring.head {
            return None;
        }
        let entry = ring.slots[(self.next % cap) as usize].clone()?;
        self.next += 1;
        Some(Read::Entry(entry))
    }

    /// The next entry, waiting for one.
    pub fn recv(&mut self) -> Next<'_> {
        Next { reader: self }
    }
}

/// Future of [`Reader::recv`].
#[derive(Debug)]
pub struct Next<'a> {
    reader: &'a mut Reader,
}

impl Future for Next<'_> {
    type Output = Read;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Read> {
        let reader = &mut *self.reader;
        let observer = Arc::clone(&reader.observer);
        let mut ring = observer.lock();
        if let Some(r) = reader.read_locked(&ring) {
            return Poll::Ready(r);
        }
        if !ring.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            ring.wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// Something that sees every flow as it is written (metrics, exporters).
pub trait FlowSink: Send + Sync {
    /// Called on the ingest thread for each flow, before it enters the ring.
    fn observe(&self, flow: &Flow);
    /// Called when events are lost at `source`.
    fn lost(&self, _source: LostEventSource, _n: u64) {}
}

enum Work {
    Event(Event),
    L7(Box<L7Record>),
    Lost(LostEventSource, u64),
}

/// The queue from the datapath's event reader to the ring, with its decoder thread.
pub struct Ingest {
    tx: SyncSender<Work>,
    observer: Arc<Observer>,
    sinks: Arc<Vec<Arc<dyn FlowSink>>>,
    dropped: AtomicU64,
    ring_lost_seen: AtomicU64,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Ingest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingest")
            .field("dropped", &self.dropped)
            .finish_non_exhaustive()
    }
}

impl Ingest {
    /// Starts the decoder thread: events offered go through a queue of `queue_len` entries,
    /// are decoded by `parser` with `lookups`, shown to `sinks` and written to `observer`.
    pub fn start<L: Lookups + Send + 'static>(
        observer: Arc<Observer>,
        parser: Parser,
        lookups: L,
        sinks: Vec<Arc<dyn FlowSink>>,
        queue_len: usize,
    ) -> Self {
        let (tx, rx) = sync_channel(queue_len.max(1));
        let sinks = Arc::new(sinks);
        let thread = {
            let observer = Arc::clone(&observer);
            let sinks = Arc::clone(&sinks);
            std::thread::Builder::new()
                .name("hubble-ingest".into())
                .spawn(move || decode_loop(&rx, &parser, &lookups, &sinks, &observer))
                .expect("spawn the hubble ingest thread")
        };
        Self {
            tx,
            observer,
            sinks,
            dropped: AtomicU64::new(0),
            ring_lost_seen: AtomicU64::new(0),
            thread: Some(thread),
        }
    }

    fn send(&self, work: Work) -> bool {
        let pending = self.dropped.swap(0, Ordering::Relaxed);
        if pending != 0
            && self
                .tx
                .try_send(Work::Lost(LostEventSource::ObserverEventsQueue, pending))
                .is_err()
        {
            self.dropped.fetch_add(pending, Ordering::Relaxed);
        }
        match self.tx.try_send(work) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }

    /// Queues a datapath event; `false` (and a lost count) when the queue is full. Never
    /// blocks.
    pub fn offer(&self, event: Event) -> bool {
        self.send(Work::Event(event))
    }

    /// Queues an L7 record; `false` when the queue is full.
    pub fn offer_l7(&self, record: L7Record) -> bool {
        self.send(Work::L7(Box::new(record)))
    }

    /// Reports the datapath's cumulative count of events lost to a full ring buffer; the
    /// increase since the last report becomes a `PERF_EVENT_RING_BUFFER` lost event.
    pub fn report_ring_lost(&self, total: u64) {
        let before = self.ring_lost_seen.swap(total, Ordering::Relaxed);
        if total > before {
            record_lost(
                &self.sinks,
                &self.observer,
                LostEventSource::PerfEventRingBuffer,
                total - before,
            );
        }
    }

    /// Events dropped at the queue and not yet reported into the ring.
    pub fn pending_queue_losses(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Stops the decoder thread after it has drained the queue; queue losses not yet
    /// reported are written into the ring first.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let pending = self.dropped.swap(0, Ordering::Relaxed);
        if pending != 0 {
            record_lost(
                &self.sinks,
                &self.observer,
                LostEventSource::ObserverEventsQueue,
                pending,
            );
        }
        // Dropping the only sender ends the thread's loop once the queue is drained.
        let (dead, _) = sync_channel(1);
        drop(std::mem::replace(&mut self.tx, dead));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Ingest {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Tells the sinks and the ring that `n` events were lost at `source`.
fn record_lost(sinks: &[Arc<dyn FlowSink>], observer: &Observer, source: LostEventSource, n: u64) {
    for s in sinks {
        s.lost(source, n);
    }
    observer.push_lost(source, n);
}

fn decode_loop(
    rx: &Receiver<Work>,
    parser: &Parser,
    lookups: &impl Lookups,
    sinks: &[Arc<dyn FlowSink>],
    observer: &Observer,
) {
    while let Ok(work) = rx.recv() {
        let flow = match work {
            Work::Event(e) => parser.parse_event(&e, lookups),
            Work::L7(r) => parser.parse_l7(&r, lookups),
            Work::Lost(source, n) => {
                record_lost(sinks, observer, source, n);
                continue;
            }
        };
        for s in sinks {
            s.observe(&flow);
        }
        observer.push_flow(flow);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(n: u32) -> Flow {
        Flow {
            proxy_port: n,
            ..Flow::default()
        }
    }

    fn port(r: &Read) -> u32 {
        match r {
            Read::Entry(e) => e.flow().expect("a flow").proxy_port,
            Read::Missed(n) => panic!("missed {n}"),
        }
    }

    #[test]
    fn ring_keeps_the_last_capacity_flows() {
        let obs = Observer::new(3);
        for n in 0..5 {
            obs.push_flow(flow(n));
        }
        let ports: Vec<u32> = obs
            .snapshot()
            .iter()
            .map(|e| e.flow().expect("flow").proxy_port)
            .collect();
        assert_eq!(ports, [2, 3, 4]);
        assert_eq!(
            obs.status(),
            Status {
                num_flows: 3,
                max_flows: 3,
                seen_flows: 5
            }
        );
    }

    #[test]
    fn a_lapped_reader_reports_what_it_missed_and_goes_on() {
        let obs = Observer::new(4);
        let mut r = obs.reader_at_end();
        for n in 0..10 {
            obs.push_flow(flow(n));
        }
        assert_eq!(r.try_next(), Some(Read::Missed(6)));
        let got: Vec<u32> = std::iter::from_fn(|| r.try_next())
            .map(|x| port(&x))
            .collect();
        assert_eq!(got, [6, 7, 8, 9]);
        assert_eq!(r.try_next(), None);
        assert_eq!(obs.lost().hubble_ring, 6);
    }

    #[test]
    fn lost_markers_take_a_slot_but_are_not_flows() {
        let obs = Observer::new(2);
        obs.push_flow(flow(1));
        obs.push_lost(LostEventSource::PerfEventRingBuffer, 7);
        assert_eq!(obs.status().num_flows, 1);
        obs.push_flow(flow(2));
        obs.push_flow(flow(3));
        assert_eq!(obs.status().num_flows, 2);
        assert_eq!(obs.lost().datapath_ring, 7);
    }

    #[test]
    fn a_waiting_reader_is_woken_by_the_writer() {
        let obs = Observer::new(8);
        let mut r = obs.reader_at_end();
        let writer = {
            let obs = Arc::clone(&obs);
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(20));
                obs.push_flow(flow(42));
            })
        };
        let got = block_on(r.recv());
        assert_eq!(port(&got), 42);
        writer.join().expect("writer");
    }

    #[test]
    fn ingest_reports_datapath_ring_losses_as_increments() {
        let obs = Observer::new(16);
        let ingest = Ingest::start(
            Arc::clone(&obs),
            Parser::new("n", 0, 1),
            crate::parser::NoLookups,
            Vec::new(),
            4,
        );
        ingest.report_ring_lost(5);
        ingest.report_ring_lost(5);
        ingest.report_ring_lost(12);
        ingest.shutdown();
        assert_eq!(obs.lost().datapath_ring, 12);
        let lost: Vec<u64> = obs
            .snapshot()
            .iter()
            .filter_map(|e| match &**e {
                Entry::Lost(l) => Some(l.num_events_lost),
                Entry::Flow(_) => None,
            })
            .collect();
        assert_eq!(
            lost,
            [5, 7],
            "one lost event per increase, none for no change"
        );
    }

    /// A minimal executor for the test: parks the thread until woken.
    fn block_on<F: Future>(f: F) -> F::Output {
        struct Unpark(std::thread::Thread);
        impl std::task::Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    }
}

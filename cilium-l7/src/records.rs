//! Where the proxies send their L7 flow records: the `cilium-hubble` parser turns a
//! [`L7Record`] into a flow of type L7.

pub use cilium_hubble::parser::L7Record;

/// A consumer of L7 records (for example `cilium_hubble::observer::Ingest::offer_l7`).
/// Called on the proxy's task: it must not block.
pub trait RecordSink: Send + Sync {
    /// Takes one record.
    fn record(&self, record: L7Record);
}

impl<F: Fn(L7Record) + Send + Sync> RecordSink for F {
    fn record(&self, record: L7Record) {
        self(record)
    }
}

/// A sink that drops every record.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRecords;

impl RecordSink for NoRecords {
    fn record(&self, _record: L7Record) {}
}

//! Flow observability for the cilium-rs family: Hubble-compatible flows from datapath events
//! and L7 records, Hubble's filters, a bounded flow ring with followers, the gRPC Observer
//! API and Prometheus metrics.
//!
//! What it is:
//! - **The flow model** ([`proto::flow::Flow`]): Hubble's own message, generated from a
//!   `.proto` of this crate with Hubble's package, names and field numbers, so flows encode
//!   byte for byte as Hubble's do and print as `hubble observe -o json` prints them.
//! - **A parser** ([`parser`]): datapath events ([`cilium_maps::events::Event`]) and L7 records
//!   to flows, enriched through lookups the caller passes in (endpoints, identities, services,
//!   DNS names). Pure.
//! - **Filters** ([`filter`]): `FlowFilter` allowlists and denylists with Hubble's semantics.
//!   Pure.
//! - **The observer** ([`observer`]): a bounded ring (4095 flows by default) with followers
//!   that never block the writer, and lost-event accounting per source.
//! - With the `server` feature (default): the **gRPC Observer service** ([`server`]) an
//!   unmodified `hubble` client can talk to, and the **metrics** endpoint ([`metrics`]).
//!
//! What it is not: it does not read the kernel ring buffer itself (`cilium-datapath`'s
//! `EventStream` does and hands it the events), and it does not run the proxies that produce
//! L7 records (`cilium-l7`).

pub mod filter;
#[cfg(feature = "server")]
pub mod metrics;
pub mod names;
pub mod observe;
pub mod observer;
pub mod parser;
pub mod printer;
pub mod proto;
#[cfg(feature = "server")]
pub mod server;

pub use proto::flow::{Flow, FlowFilter};

//! Protobuf types of the Hubble API, generated from this crate's `proto/` (same package,
//! message names and field numbers as Hubble's `flow.proto`, `relay.proto` and
//! `observer.proto`), with protojson serde (`pbjson`) using the proto field names, as
//! `hubble observe -o json` prints them.
//!
//! The generated code is committed under `src/proto/gen/` (no `protoc` needed to build);
//! `tests/codegen.rs` checks it against `proto/`. The Observer service's client and server
//! modules (`observer_client`, `observer_server`) need tonic and exist with the `server`
//! feature only.

#![allow(missing_docs, clippy::all, clippy::pedantic, rustdoc::all)]

/// `package flow`: the flow and its parts, filters, lost events.
pub mod flow {
    include!("gen/flow.rs");
    include!("gen/flow.serde.rs");
}

/// `package relay`: node status.
pub mod relay {
    include!("gen/relay.rs");
    include!("gen/relay.serde.rs");
}

/// `package observer`: the Observer service and its messages.
pub mod observer {
    include!("gen/observer.rs");
    include!("gen/observer.serde.rs");
    #[cfg(feature = "server")]
    include!("gen/observer.tonic.rs");
}

//! L7 policy for the cilium-rs family: the HTTP, Kafka and DNS proxies that enforce L7 rules
//! on connections the datapath redirects to them, the wire parsers and matchers they use, and
//! the FQDN cache that turns DNS answers into addresses for `toFQDNs` policy.
//!
//! The pure part (matchers, wire parsers, FQDN cache logic, the policy snapshot the proxies
//! consult) builds without default features. The `proxy` feature (default) adds the proxies:
//! sockets, tokio and hyper.
//!
//! How a connection reaches a proxy: the endpoint programs of `cilium-datapath` find a proxy
//! port in the policy entry of a new flow, remember it in the flow's conntrack entry and
//! assign every packet of the flow to the proxy's transparent socket (`bpf_sk_assign`), so
//! the accepted socket's local address is the original destination; see the crate README
//! ("Redirect design").

pub mod dns;
pub mod fqdn_cache;
pub mod http;
pub mod kafka;
pub mod policy;
pub mod records;

#[cfg(feature = "proxy")]
pub mod dns_proxy;
#[cfg(feature = "proxy")]
pub mod http_proxy;
#[cfg(feature = "proxy")]
pub mod kafka_proxy;
#[cfg(feature = "proxy")]
pub mod transparent;

#[cfg(feature = "proxy")]
pub use dns_proxy::{DnsProxy, DnsProxyConfig, FqdnUpdater};
pub use fqdn_cache::{FqdnCache, FqdnCacheConfig};
#[cfg(feature = "proxy")]
pub use http_proxy::{HttpProxy, HttpProxyConfig};
#[cfg(feature = "proxy")]
pub use kafka_proxy::{KafkaProxy, KafkaProxyConfig};
pub use policy::{ConnInfo, LocalEndpoint, PolicySnapshot, Resolved};
pub use records::RecordSink;

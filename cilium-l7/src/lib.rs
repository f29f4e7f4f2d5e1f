//! L7 policy for the cilium-rs family (not yet built).
//!
//! What it will be: pure matchers and wire parsers for HTTP, Kafka and DNS rules (including
//! toFQDNs `matchName`/`matchPattern`), the HTTP, Kafka and DNS proxies that enforce them on
//! connections redirected by the datapath, and the FQDN cache that turns DNS answers into
//! local CIDR identities.
//!
//! What it is not: it does not decide which connections are redirected (that is the policy
//! map entry's proxy port, computed by `cilium-policy`).
//!
//! Status: placeholder; the work is tracked in the L7 issue.

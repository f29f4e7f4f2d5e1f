//! Policy trace: why a flow is allowed or denied, for the source's egress **and** the
//! destination's ingress, naming the rules that decided, down to an L7 request.

use std::fmt;

use cilium_core::{NumericIdentity, Protocol};

use crate::engine::{EndpointInfo, NamedPorts, PolicyEngine, ResolveError};
use crate::l7::L7Request;
use crate::rule::Direction;

/// One side of a traced flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TracePeer {
    /// A local endpoint: its policy is evaluated.
    Endpoint(EndpointInfo),
    /// Anything else (world, a remote node...): only its identity matters.
    Remote(NumericIdentity),
}

impl TracePeer {
    fn identity(&self) -> NumericIdentity {
        match self {
            TracePeer::Endpoint(e) => e.identity,
            TracePeer::Remote(id) => *id,
        }
    }
}

/// The decision of one direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectionTrace {
    /// Which direction (egress of the source, ingress of the destination).
    pub direction: Direction,
    /// Whether policy is enforced there (`None`: not a local endpoint, nothing evaluated).
    pub enforced: Option<bool>,
    /// Cilium's verdict text (`ALLOWED`, `REDIRECTED_TO_PROXY`, `DENIED_POLICY_DENY(-181)`,
    /// `DENIED_NO_MATCH(-133)`), or `NOT_EVALUATED`.
    pub verdict: String,
    /// The matched map-state key, printed.
    pub matched: Option<String>,
    /// The rules that decided: the origins of the matched entry, or, for a default deny, the
    /// rules that put the endpoint into default deny.
    pub rules: Vec<String>,
    /// For a redirect with a request given: whether the L7 rules let it through.
    pub l7_allowed: Option<bool>,
    /// Whether this side lets the flow pass.
    pub allowed: bool,
}

/// A whole trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// The source's egress.
    pub egress: DirectionTrace,
    /// The destination's ingress.
    pub ingress: DirectionTrace,
}

impl Trace {
    /// Whether the flow passes both sides.
    pub fn allowed(&self) -> bool {
        self.egress.allowed && self.ingress.allowed
    }
}

impl fmt::Display for DirectionTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.direction, self.verdict)?;
        if let Some(k) = &self.matched {
            write!(f, " via [{k}]")?;
        }
        if let Some(l7) = self.l7_allowed {
            write!(
                f,
                ", L7 {}",
                if l7 {
                    "allowed"
                } else {
                    "denied (403 / refused)"
                }
            )?;
        }
        for r in &self.rules {
            write!(f, "\n    by {r}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.egress)?;
        writeln!(f, "{}", self.ingress)?;
        write!(
            f,
            "final verdict: {}",
            if self.allowed() { "ALLOWED" } else { "DENIED" }
        )
    }
}

impl PolicyEngine {
    /// Traces a flow from `src` to `dst` on `protocol`/`port`, optionally with an L7 request.
    ///
    /// # Errors
    ///
    /// [`ResolveError`] if an endpoint's policy cannot be resolved.
    pub fn trace(
        &self,
        src: &TracePeer,
        dst: &TracePeer,
        protocol: Protocol,
        port: u16,
        request: Option<&L7Request>,
        peers: &dyn NamedPorts,
    ) -> Result<Trace, ResolveError> {
        let side = |local: &TracePeer,
                    remote: NumericIdentity,
                    direction: Direction|
         -> Result<DirectionTrace, ResolveError> {
            let TracePeer::Endpoint(ep) = local else {
                return Ok(DirectionTrace {
                    direction,
                    enforced: None,
                    verdict: "NOT_EVALUATED".into(),
                    matched: None,
                    rules: Vec::new(),
                    l7_allowed: None,
                    allowed: true,
                });
            };
            let policy = self.resolve(ep, peers)?;
            let result = policy
                .map_state
                .lookup(direction, remote, protocol.as_u8(), port);
            let mut rules: Vec<String> = result
                .matched
                .map(|(_, e)| e.origins.iter().map(|o| o.to_string()).collect())
                .unwrap_or_default();
            if result.matched.is_none() {
                rules = self
                    .rules()
                    .filter(|r| r.selects(&ep.labels, ep.is_host) && r.direction(direction).enforce)
                    .map(|r| format!("{} (default deny)", r.origin))
                    .collect();
            }
            let redirect = result.matched.is_some_and(|(_, e)| e.redirect.is_some());
            let l7_allowed = match request {
                Some(req) if redirect => {
                    Some(policy.l7_allows(self.cache(), direction, remote, protocol, port, req))
                }
                _ => None,
            };
            Ok(DirectionTrace {
                direction,
                enforced: Some(policy.enforced(direction)),
                verdict: result.verdict_text().into(),
                matched: result.matched.map(|(k, _)| k.to_string()),
                rules,
                l7_allowed,
                allowed: result.allowed() && l7_allowed != Some(false),
            })
        };
        Ok(Trace {
            egress: side(src, dst.identity(), Direction::Egress)?,
            ingress: side(dst, src.identity(), Direction::Ingress)?,
        })
    }
}

//! Errors of the datapath loader.

use cilium_maps::MapError;

/// Errors loading the programs or reaching their maps.
#[derive(Debug, thiserror::Error)]
pub enum DatapathError {
    /// The pin directory could not be created.
    #[error("cannot create the pin directory {path}")]
    PinDir {
        /// Directory.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// aya could not load the object (maps or BTF).
    #[error("loading {object} failed")]
    Load {
        /// Object name.
        object: &'static str,
        /// aya's error.
        #[source]
        source: Box<aya::EbpfError>,
    },
    /// A program is missing from the object or was refused by the verifier.
    #[error("program {program}: {action} failed")]
    Program {
        /// Program name.
        program: &'static str,
        /// What was being done.
        action: &'static str,
        /// aya's error.
        #[source]
        source: Box<aya::programs::ProgramError>,
    },
    /// A program name that the object does not have.
    #[error("program {program} is not in the object")]
    NoSuchProgram {
        /// Program name.
        program: &'static str,
    },
    /// A map operation failed.
    #[error(transparent)]
    Map(#[from] MapError),
    /// A setting of [`DatapathConfig`](crate::DatapathConfig) is not usable.
    #[error("config {field}: {reason}")]
    Config {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// Creating, pinning or updating a link failed.
    #[error("program {program} on {target}: {action} failed")]
    Link {
        /// Program name.
        program: &'static str,
        /// What it was attached to (`tc 7`, `cgroup 1234`, a link pin name).
        target: String,
        /// What was being done.
        action: &'static str,
        /// The kernel's answer.
        #[source]
        source: std::io::Error,
    },
    /// A file operation on the pin directory or a cgroup failed.
    #[error("{what}")]
    Io {
        /// What was being done, on which path.
        what: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A load-balancing change was refused (invalid service, conflict); nothing was written.
    #[error(transparent)]
    Service(Box<cilium_lb::diff::LbStateError>),
    /// A desired state could not be written; see the error for what. An endpoint whose policy
    /// this concerns has been left failing closed (its policy-ready flag cleared).
    #[error("sync {what}: {reason}")]
    Sync {
        /// Which object (`endpoint 7 policy`, `service default/web 10.96.0.1:80/TCP`).
        what: String,
        /// Why.
        reason: String,
        /// The map error underneath, if any.
        #[source]
        source: Option<MapError>,
    },
}

impl From<cilium_lb::diff::LbStateError> for DatapathError {
    fn from(e: cilium_lb::diff::LbStateError) -> Self {
        DatapathError::Service(Box::new(e))
    }
}

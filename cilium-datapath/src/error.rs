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
}

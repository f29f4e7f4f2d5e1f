//! Errors of the Kubernetes conversion.

use crate::model::{ServiceError, ServiceId};

/// Why a Kubernetes Service and its EndpointSlices could not be converted. Each message names
/// the offending field by its path in the object, e.g.
/// `spec.ports[1].nodePort: 70000 is not a port number (1..=65535)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum K8sError {
    /// A field of the Service is missing or has a value the conversion cannot use.
    #[error("{field}: {reason}")]
    Service {
        /// The path of the field in the Service, e.g. `spec.ports[0].protocol`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A field of one of the Service's EndpointSlices is missing or has a value the
    /// conversion cannot use.
    #[error("endpointslice {slice}: {field}: {reason}")]
    EndpointSlice {
        /// The slice, as `namespace/name` (or its position in the slice list when it has no
        /// name, as `#3`).
        slice: String,
        /// The path of the field in the slice, e.g. `endpoints[2].addresses[0]`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A converted service does not pass [`Service::validate`](crate::model::Service::validate)
    /// (an input the checks of the conversion do not catch, such as a multicast node address
    /// in the [`NodeContext`](super::NodeContext)).
    #[error("service {service}: {error}")]
    Model {
        /// The model service.
        service: ServiceId,
        /// What the model refuses.
        error: ServiceError,
    },
}

impl K8sError {
    pub(super) fn service(field: impl Into<String>, reason: impl Into<String>) -> Self {
        K8sError::Service {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub(super) fn slice(
        slice: impl Into<String>,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        K8sError::EndpointSlice {
            slice: slice.into(),
            field: field.into(),
            reason: reason.into(),
        }
    }
}

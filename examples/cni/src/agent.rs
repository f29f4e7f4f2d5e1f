//! The agent as the command handlers see it: a trait over [`cilium_agent_api::Client`], so
//! the handlers can be tested against a fake.

use cilium_agent_api::{
    Attachment, Client, ClientError, Deleted, Endpoint, EndpointRequest, GcRequest, GcResult,
    IpamLease, Status,
};

/// The agent calls the plugin makes (one per method of [`Client`] of the same name).
pub trait Agent {
    /// `GET /v1/healthz`.
    ///
    /// # Errors
    ///
    /// The client's error.
    fn status(&self) -> Result<Status, ClientError>;
    /// `POST /v1/ipam`: the lease of `owner` (the same one again when it has one).
    ///
    /// # Errors
    ///
    /// The client's error.
    fn ipam_allocate(&self, owner: &Attachment) -> Result<IpamLease, ClientError>;
    /// `PUT /v1/endpoint`: returns once the endpoint's policy is in place.
    ///
    /// # Errors
    ///
    /// The client's error.
    fn endpoint_add(&self, req: &EndpointRequest) -> Result<Endpoint, ClientError>;
    /// `GET /v1/attachment/{container_id}/{ifname}`.
    ///
    /// # Errors
    ///
    /// The client's error (`Status { status: 404, .. }` when there is none).
    fn attachment(&self, a: &Attachment) -> Result<Endpoint, ClientError>;
    /// `DELETE /v1/attachment/{container_id}/{ifname}`: endpoint and lease (idempotent).
    ///
    /// # Errors
    ///
    /// The client's error.
    fn attachment_delete(&self, a: &Attachment) -> Result<Deleted, ClientError>;
    /// `POST /v1/gc`.
    ///
    /// # Errors
    ///
    /// The client's error.
    fn gc(&self, req: &GcRequest) -> Result<GcResult, ClientError>;
}

impl Agent for Client {
    fn status(&self) -> Result<Status, ClientError> {
        Client::status(self)
    }

    fn ipam_allocate(&self, owner: &Attachment) -> Result<IpamLease, ClientError> {
        Client::ipam_allocate(self, owner)
    }

    fn endpoint_add(&self, req: &EndpointRequest) -> Result<Endpoint, ClientError> {
        Client::endpoint_add(self, req)
    }

    fn attachment(&self, a: &Attachment) -> Result<Endpoint, ClientError> {
        Client::attachment(self, a)
    }

    fn attachment_delete(&self, a: &Attachment) -> Result<Deleted, ClientError> {
        Client::attachment_delete(self, a)
    }

    fn gc(&self, req: &GcRequest) -> Result<GcResult, ClientError> {
        Client::gc(self, req)
    }
}

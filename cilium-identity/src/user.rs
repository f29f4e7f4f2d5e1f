//! Who holds a reference to an identity.

use std::fmt;

use crate::AllocatorError;

/// The holder of a reference to an identity: an endpoint, the FQDN cache, an ipcache entry.
///
/// References are counted per user: a user that allocates the same labels twice holds two
/// references and must release twice; [`Allocator::release_user`](crate::Allocator::release_user)
/// drops all of a user's references at once (an endpoint went away).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

impl UserId {
    /// A user named `name`.
    ///
    /// # Errors
    ///
    /// [`AllocatorError::EmptyUser`] if `name` is empty.
    pub fn new(name: impl Into<String>) -> Result<UserId, AllocatorError> {
        let name = name.into();
        if name.is_empty() {
            return Err(AllocatorError::EmptyUser);
        }
        Ok(UserId(name))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

//! The tenant's admin users (who sign in to the admin in the browser).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A person who may sign in to the tenant's admin in the browser.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUser {
    /// The address they sign in with; compared without regard to case.
    pub email: String,
    /// 10 to 200 characters. Kept only as an Argon2id hash.
    pub password: String,
}

/// An admin user as answered: never the password or its hash.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct User {
    pub email: String,
    pub created_ms: i64,
}

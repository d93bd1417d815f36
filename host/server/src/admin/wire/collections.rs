//! Collections of products.

use omnistore_core as domain;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Collection {
    pub id: String,
    pub handle: String,
    pub title: String,
    pub description: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl From<domain::Collection> for Collection {
    fn from(c: domain::Collection) -> Collection {
        Collection {
            id: c.id.to_string(),
            handle: c.handle,
            title: c.title,
            description: c.description,
            created_ms: c.created_ms,
            updated_ms: c.updated_ms,
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub(crate) struct NewCollection {
    pub handle: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
}

impl From<NewCollection> for domain::NewCollection {
    fn from(c: NewCollection) -> domain::NewCollection {
        domain::NewCollection { handle: c.handle, title: c.title, description: c.description }
    }
}

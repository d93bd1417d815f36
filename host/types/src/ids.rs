use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest id of a tenant, plugin or installation.
const MAX_ID_LEN: usize = 64;

/// Whether `id` is a valid tenant, plugin or installation id: 1–64 characters
/// of `a-z`, `0-9` and `-`, starting with a letter or digit. Ids end up in
/// storage keys, host names, paths and URLs, so the alphabet is kept narrow:
/// no `_` (not valid in a host name), no `/`, no upper case.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id.as_bytes()[0].is_ascii_alphanumeric()
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// An id that does not follow [`is_valid_id`]'s rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{what} id `{id}` must be 1-64 characters of a-z, 0-9 or '-', starting with a letter or digit (it is used in host names, paths and storage keys)"
)]
pub struct InvalidId {
    pub what: &'static str,
    pub id: String,
}

/// The data fence: the merchant an installation, a record or a request
/// belongs to. Chosen by the operator; every key of the tenant starts with it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TenantId {
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidId> {
        let id = id.into();
        if is_valid_id(&id) { Ok(TenantId(id)) } else { Err(InvalidId { what: "tenant", id }) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TenantId {
    type Error = InvalidId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        TenantId::new(value)
    }
}

impl From<TenantId> for String {
    fn from(value: TenantId) -> Self {
        value.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_every_tenant_id() {
        for good in ["a", "dolce-vita", "0shop", &"x".repeat(64)] {
            assert!(TenantId::new(good).is_ok(), "{good:?} should be accepted");
        }
        for bad in ["", "-x", "Dolce", "my_shop", "a/b", "a b", "a.b", "é", &"x".repeat(65)] {
            let err = TenantId::new(bad).unwrap_err();
            assert!(err.to_string().contains("a-z, 0-9 or '-'"), "{err}");
        }
    }

    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<TenantId>("\"ok-1\"").is_ok());
        assert!(serde_json::from_str::<TenantId>("\"../x\"").is_err());
        assert!(serde_json::from_str::<TenantId>("\"my_shop\"").is_err());
    }
}

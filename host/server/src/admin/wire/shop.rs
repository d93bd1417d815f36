//! How the shop presents itself: name, languages, contact, time zone.

use omnistore_core as domain;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::admin::extract::double_option;

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Shop {
    pub name: String,
    /// Fixed when the tenant is created.
    pub currency: String,
    /// BCP 47 tags, the primary first.
    pub languages: Vec<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    /// IANA name; the shop's days and hours (UTC until it names one).
    pub time_zone: String,
}

impl From<domain::Tenant> for Shop {
    fn from(t: domain::Tenant) -> Shop {
        Shop {
            time_zone: t.zone().name().to_owned(),
            languages: t.languages(),
            name: t.name,
            currency: t.currency,
            contact_email: t.contact_email,
            contact_phone: t.contact_phone,
        }
    }
}

/// A change of the shop's presentation: absent fields stay, `null` clears a contact.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShopPatch {
    pub name: Option<String>,
    /// 1 to 20 BCP 47 tags, the primary first.
    pub languages: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub contact_email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub contact_phone: Option<Option<String>>,
    /// IANA name such as `Europe/Rome`.
    pub time_zone: Option<String>,
}

impl From<ShopPatch> for domain::ShopPatch {
    fn from(p: ShopPatch) -> domain::ShopPatch {
        domain::ShopPatch {
            name: p.name,
            languages: p.languages,
            contact_email: p.contact_email,
            contact_phone: p.contact_phone,
            time_zone: p.time_zone,
        }
    }
}

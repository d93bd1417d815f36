//! The merchant's settings, read once per call. A setting that keeps the
//! plugin from syncing is an error that names it and says what to put there.

use omnistore_sdk::settings;

/// Where Meta's Graph API lives unless a test points the plugin elsewhere.
pub const GRAPH_API: &str = "https://graph.facebook.com";
/// The Graph API version called when the setting is empty.
pub const API_VERSION: &str = "v21.0";

/// What syncing the catalog needs.
#[derive(Debug, Clone)]
pub struct Sync {
    pub catalog_id: String,
    pub access_token: String,
    /// Without a trailing slash.
    pub graph_base: String,
    pub api_version: String,
    /// The storefront's address, without a trailing slash.
    pub shop_url: String,
    pub default_category: Option<String>,
}

/// A setting is missing or malformed; `message` is for the merchant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misconfigured {
    pub setting: &'static str,
    pub message: String,
}

impl Sync {
    pub fn read() -> Result<Sync, Misconfigured> {
        sync_from(&|key| settings::get(key))
    }

    /// `{graph_base}/{api_version}/{catalog_id}/{edge}`.
    pub fn edge_url(&self, edge: &str) -> String {
        format!("{}/{}/{}/{edge}", self.graph_base, self.api_version, self.catalog_id)
    }
}

/// [`Sync::read`] over any source of settings, so the rules are tested natively.
pub fn sync_from(get: &dyn Fn(&str) -> Option<String>) -> Result<Sync, Misconfigured> {
    let value = |key: &str| get(key).map(|v| v.trim().to_string()).unwrap_or_default();
    let catalog_id = value("catalog_id");
    if catalog_id.is_empty() || !catalog_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Misconfigured {
            setting: "catalog_id",
            message: "Set `catalog_id` to your Meta catalog ID, the number Commerce Manager shows under the catalog's name in Settings.".into(),
        });
    }
    let access_token = value("access_token");
    if access_token.is_empty() {
        return Err(Misconfigured {
            setting: "access_token",
            message: "Set the secret `access_token` to a Meta access token with the catalog_management permission (a system user token from Business Settings).".into(),
        });
    }
    let shop_url = value("shop_url").trim_end_matches('/').to_string();
    if !(shop_url.starts_with("https://") || shop_url.starts_with("http://")) {
        return Err(Misconfigured {
            setting: "shop_url",
            message: "Set `shop_url` to your online shop's address (such as https://shop.example): every product sent to Meta needs a link to its page.".into(),
        });
    }
    let graph_base = match value("graph_api_base") {
        v if v.is_empty() => GRAPH_API.to_string(),
        v => v.trim_end_matches('/').to_string(),
    };
    let api_version = match value("api_version") {
        v if v.is_empty() => API_VERSION.to_string(),
        v if is_version(&v) => v,
        _ => {
            return Err(Misconfigured {
                setting: "api_version",
                message: "Set `api_version` to a Graph API version such as v21.0, or leave it empty.".into(),
            });
        }
    };
    let default_category = Some(value("google_product_category")).filter(|v| !v.is_empty());
    Ok(Sync { catalog_id, access_token, graph_base, api_version, shop_url, default_category })
}

/// `v` and a dotted number, as Graph API versions are written (`v21.0`).
fn is_version(v: &str) -> bool {
    v.strip_prefix('v')
        .and_then(|n| n.split_once('.'))
        .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn sync(pairs: &[(&str, &str)]) -> Result<Sync, Misconfigured> {
        let map: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        sync_from(&move |k| map.get(k).cloned())
    }

    #[test]
    fn defaults_fill_the_optional_settings() {
        let s =
            sync(&[("catalog_id", " 1234 "), ("access_token", "t"), ("shop_url", "https://shop.example/")]).unwrap();
        assert_eq!(s.edge_url("items_batch"), "https://graph.facebook.com/v21.0/1234/items_batch");
        assert_eq!(s.shop_url, "https://shop.example");
        assert_eq!(s.default_category, None);
    }

    #[test]
    fn a_missing_setting_is_named() {
        let which = |pairs: &[(&str, &str)]| sync(pairs).unwrap_err().setting;
        assert_eq!(which(&[("access_token", "t"), ("shop_url", "https://s.example")]), "catalog_id");
        assert_eq!(which(&[("catalog_id", "abc"), ("access_token", "t")]), "catalog_id");
        assert_eq!(which(&[("catalog_id", "1"), ("shop_url", "https://s.example")]), "access_token");
        assert_eq!(which(&[("catalog_id", "1"), ("access_token", "t")]), "shop_url");
        assert_eq!(
            which(&[
                ("catalog_id", "1"),
                ("access_token", "t"),
                ("shop_url", "https://s.example"),
                ("api_version", "21")
            ]),
            "api_version"
        );
    }
}

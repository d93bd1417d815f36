//! The judge: checks a Graph API call against Meta's own description of the
//! API (the SDK codegen specs copied unmodified into `tests/fixtures/meta/`,
//! compiled in, so nothing outside the repository is read). Reusable: give
//! it the method, the path and the decoded parameters of a call.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::Value;

const PRODUCT_CATALOG: &str = include_str!("../fixtures/meta/ProductCatalog.json");
const PRODUCT_ITEM: &str = include_str!("../fixtures/meta/ProductItem.json");
const ENUM_TYPES: &str = include_str!("../fixtures/meta/enum_types.json");

/// Not in the fixtures (a plain string there): the values of `item_type`
/// in Meta's Catalog Batch API reference.
const ITEM_TYPES: &[&str] =
    &["PRODUCT_ITEM", "HOTEL", "HOTEL_ROOM", "FLIGHT", "DESTINATION", "HOME_LISTING", "VEHICLE", "VEHICLE_OFFER"];
/// Not in the fixtures: the request methods of the Catalog Batch API reference.
const METHODS: &[&str] = &["CREATE", "UPDATE", "DELETE"];
/// Not in the fixtures: the most requests one call may carry.
pub const MAX_REQUESTS: usize = 5000;
/// Not in the fixtures: the feed field names `data` may use besides the
/// ProductItem fields (Meta's catalog feed reference).
const FEED_FIELDS: &[&str] = &[
    "id",
    "title",
    "description",
    "availability",
    "condition",
    "price",
    "sale_price",
    "sale_price_effective_date",
    "link",
    "image_link",
    "additional_image_link",
    "brand",
    "item_group_id",
    "size",
    "color",
    "gtin",
    "inventory",
    "google_product_category",
    "quantity_to_sell_on_facebook",
    "product_type",
];
/// Every Graph API call takes these besides the edge's own parameters.
const GRAPH_PARAMS: &[&str] = &["access_token"];
/// The fields a new item must have (Meta's feed reference).
const REQUIRED_ON_CREATE: &[&str] =
    &["id", "title", "description", "availability", "condition", "price", "link", "image_link", "brand"];

#[derive(Debug)]
pub struct Param {
    pub name: String,
    pub required: bool,
    pub kind: String,
}

#[derive(Debug)]
pub struct Judge {
    /// (method, edge) → parameters.
    edges: BTreeMap<(String, String), Vec<Param>>,
    /// ProductItem field → type.
    item_fields: BTreeMap<String, String>,
    /// Enum type name → values.
    enums: BTreeMap<String, BTreeSet<String>>,
}

pub fn judge() -> &'static Judge {
    static JUDGE: OnceLock<Judge> = OnceLock::new();
    JUDGE.get_or_init(Judge::load)
}

impl Judge {
    fn load() -> Judge {
        let catalog: Value = serde_json::from_str(PRODUCT_CATALOG).expect("ProductCatalog.json is JSON");
        let mut edges = BTreeMap::new();
        for api in catalog["apis"].as_array().expect("apis") {
            let (Some(method), Some(edge)) = (api["method"].as_str(), api["endpoint"].as_str()) else { continue };
            let params = api["params"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| Param {
                    name: p["name"].as_str().unwrap_or_default().into(),
                    required: p["required"].as_bool().unwrap_or(false),
                    kind: p["type"].as_str().unwrap_or_default().into(),
                })
                .collect();
            edges.insert((method.to_string(), edge.to_string()), params);
        }
        let item: Value = serde_json::from_str(PRODUCT_ITEM).expect("ProductItem.json is JSON");
        let item_fields = item["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| {
                (f["name"].as_str().unwrap_or_default().to_string(), f["type"].as_str().unwrap_or_default().to_string())
            })
            .collect();
        let enum_list: Value = serde_json::from_str(ENUM_TYPES).expect("enum_types.json is JSON");
        let enums = enum_list
            .as_array()
            .expect("a list of enums")
            .iter()
            .map(|e| {
                let values =
                    e["values"].as_array().into_iter().flatten().filter_map(|v| v.as_str()).map(str::to_string);
                (e["name"].as_str().unwrap_or_default().to_string(), values.collect())
            })
            .collect();
        Judge { edges, item_fields, enums }
    }

    fn params(&self, method: &str, edge: &str) -> Result<&[Param], String> {
        self.edges
            .get(&(method.to_string(), edge.to_string()))
            .map(Vec::as_slice)
            .ok_or_else(|| format!("ProductCatalog has no {method} edge `{edge}`"))
    }

    /// The edge's parameters: only known names, the required ones present,
    /// each of its declared type.
    fn check_params(&self, method: &str, edge: &str, params: &[(String, String)]) -> Result<(), String> {
        let declared = self.params(method, edge)?;
        for (name, value) in params {
            if GRAPH_PARAMS.contains(&name.as_str()) {
                continue;
            }
            let Some(p) = declared.iter().find(|p| &p.name == name) else {
                return Err(format!("`{name}` is not a parameter of {method} {edge}"));
            };
            self.check_type(&p.kind, value).map_err(|why| format!("parameter `{name}`: {why}"))?;
        }
        for p in declared.iter().filter(|p| p.required) {
            if !params.iter().any(|(n, v)| n == &p.name && !v.is_empty()) {
                return Err(format!("the required parameter `{}` of {method} {edge} is missing", p.name));
            }
        }
        if !params.iter().any(|(n, v)| n == "access_token" && !v.is_empty()) {
            return Err("no access_token".into());
        }
        Ok(())
    }

    fn check_type(&self, kind: &str, value: &str) -> Result<(), String> {
        match kind {
            "bool" => matches!(value, "true" | "false").then_some(()).ok_or(format!("`{value}` is not a bool")),
            "unsigned int" => value.parse::<u64>().map(|_| ()).map_err(|_| format!("`{value}` is not an unsigned int")),
            "map" | "list<map>" => {
                serde_json::from_str::<Value>(value).map(|_| ()).map_err(|e| format!("not JSON: {e}"))
            }
            "string" => Ok(()),
            k if self.enums.contains_key(k) => {
                self.enums[k].contains(value).then_some(()).ok_or(format!("`{value}` is not a value of {k}"))
            }
            other => Err(format!("the judge does not know the type `{other}`")),
        }
    }

    /// `POST /{version}/{catalog_id}/items_batch` with its form parameters.
    pub fn check_items_batch(&self, method: &str, path: &str, params: &[(String, String)]) -> Result<(), String> {
        let edge = edge_of(path)?;
        if method != "POST" || edge != "items_batch" {
            return Err(format!("{method} {path} is not POST items_batch"));
        }
        self.check_params("POST", "items_batch", params)?;
        let get = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        let item_type = get("item_type").unwrap_or_default();
        if !ITEM_TYPES.contains(&item_type) {
            return Err(format!("`{item_type}` is not an item_type"));
        }
        let requests: Value = serde_json::from_str(get("requests").unwrap_or("null")).map_err(|e| e.to_string())?;
        let requests = requests.as_array().ok_or("`requests` is not a JSON array")?;
        if requests.is_empty() || requests.len() > MAX_REQUESTS {
            return Err(format!("{} requests; one call takes 1 to {MAX_REQUESTS}", requests.len()));
        }
        for (i, r) in requests.iter().enumerate() {
            self.check_request(r).map_err(|why| format!("request {i}: {why}"))?;
        }
        Ok(())
    }

    fn check_request(&self, r: &Value) -> Result<(), String> {
        let obj = r.as_object().ok_or("not an object")?;
        if let Some(extra) = obj.keys().find(|k| !matches!(k.as_str(), "method" | "data")) {
            return Err(format!("unknown key `{extra}`"));
        }
        let method = obj.get("method").and_then(Value::as_str).unwrap_or_default();
        if !METHODS.contains(&method) {
            return Err(format!("`{method}` is not a method"));
        }
        let data = obj.get("data").and_then(Value::as_object).ok_or("no `data` object")?;
        if data.get("id").and_then(Value::as_str).is_none_or(|id| id.is_empty()) {
            return Err("`data.id` (the SKU) is missing".into());
        }
        if method == "DELETE" && data.len() != 1 {
            return Err("DELETE takes only `id`".into());
        }
        if method == "CREATE"
            && let Some(missing) = REQUIRED_ON_CREATE.iter().find(|f| !data.contains_key(**f))
        {
            return Err(format!("CREATE without `{missing}`"));
        }
        for (name, value) in data {
            if !self.item_fields.contains_key(name) && !FEED_FIELDS.contains(&name.as_str()) {
                return Err(format!("`{name}` is not a product item field"));
            }
            if let Some(values) = self.enums.get(&format!("ProductItem_{name}")) {
                let v = value.as_str().ok_or(format!("`{name}` is not a string"))?;
                if !values.contains(v) {
                    return Err(format!("`{v}` is not a value of ProductItem_{name}"));
                }
            }
            if self.item_fields.get(name).is_some_and(|t| t == "int") && !value.is_i64() {
                return Err(format!("`{name}` is not an int: {value}"));
            }
            if matches!(name.as_str(), "price" | "sale_price") && !is_price(value.as_str().unwrap_or_default()) {
                return Err(format!("`{name}` is not \"<amount> <ISO 4217>\": {value}"));
            }
        }
        Ok(())
    }

    /// `GET /{version}/{catalog_id}/check_batch_request_status?...`.
    pub fn check_batch_status(&self, method: &str, path: &str, params: &[(String, String)]) -> Result<(), String> {
        let edge = edge_of(path)?;
        if method != "GET" || edge != "check_batch_request_status" {
            return Err(format!("{method} {path} is not GET check_batch_request_status"));
        }
        self.check_params("GET", "check_batch_request_status", params)
    }
}

/// The edge of `/{version}/{catalog_id}/{edge}`, checking the other two.
pub fn edge_of(path: &str) -> Result<&str, String> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let [version, catalog, edge] = parts[..] else { return Err(format!("`{path}` is not /version/catalog/edge")) };
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let ok_version =
        version.strip_prefix('v').and_then(|v| v.split_once('.')).is_some_and(|(a, b)| numeric(a) && numeric(b));
    if !ok_version || !numeric(catalog) {
        return Err(format!("`{path}`: the version must be like v21.0 and the catalog id a number"));
    }
    Ok(edge)
}

fn is_price(s: &str) -> bool {
    let Some((amount, currency)) = s.split_once(' ') else { return false };
    let (whole, frac) = amount.split_once('.').unwrap_or((amount, "0"));
    !whole.is_empty()
        && whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        && currency.len() == 3
        && currency.bytes().all(|b| b.is_ascii_uppercase())
}

/// `application/x-www-form-urlencoded` decoded.
pub fn decode_form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A control: the judge refuses what Meta refuses.
#[test]
fn the_judge_refuses_bad_calls() {
    let j = judge();
    let path = "/v21.0/1234567890/items_batch";
    let good_item = serde_json::json!({"method": "CREATE", "data": {
        "id": "DV-01-GRA", "title": "Cannolo", "description": "Crisp", "availability": "in stock",
        "condition": "new", "price": "3.50 EUR", "link": "https://s.example/products/c",
        "image_link": "https://s.example/c.jpg", "brand": "Dolce Vita", "inventory": 3}});
    let call = |item_type: Option<&str>, requests: Value| {
        let mut p = vec![("access_token".to_string(), "t".to_string())];
        if let Some(t) = item_type {
            p.push(("item_type".into(), t.into()));
        }
        p.push(("requests".into(), requests.to_string()));
        p
    };
    let ok = call(Some("PRODUCT_ITEM"), serde_json::json!([good_item]));
    assert_eq!(j.check_items_batch("POST", path, &ok), Ok(()));

    let refused = |params: Vec<(String, String)>, why: &str| {
        let e = j.check_items_batch("POST", path, &params).expect_err(why);
        assert!(e.contains(why), "{e}");
    };
    refused(call(None, serde_json::json!([good_item])), "required parameter `item_type`");
    refused(call(Some("PRODUCT"), serde_json::json!([good_item])), "is not an item_type");
    let mut bad = good_item.clone();
    bad["data"]["availability"] = "in_stock".into();
    refused(call(Some("PRODUCT_ITEM"), serde_json::json!([bad])), "not a value of ProductItem_availability");
    let mut bad = good_item.clone();
    bad["data"]["condition"] = "mint".into();
    refused(call(Some("PRODUCT_ITEM"), serde_json::json!([bad])), "not a value of ProductItem_condition");
    let mut bad = good_item.clone();
    bad["method"] = "UPSERT".into();
    refused(call(Some("PRODUCT_ITEM"), serde_json::json!([bad])), "is not a method");
    let mut bad = good_item.clone();
    bad["data"]["colour_name"] = "red".into();
    refused(call(Some("PRODUCT_ITEM"), serde_json::json!([bad])), "not a product item field");
    let mut bad = good_item.clone();
    bad["data"]["price"] = "€3.50".into();
    refused(call(Some("PRODUCT_ITEM"), serde_json::json!([bad])), "is not \"<amount>");
    let mut bad = good_item.clone();
    bad["data"]["inventory"] = "3".into();
    refused(call(Some("PRODUCT_ITEM"), serde_json::json!([bad])), "is not an int");
    let too_many: Vec<Value> = (0..=MAX_REQUESTS).map(|_| good_item.clone()).collect();
    refused(call(Some("PRODUCT_ITEM"), Value::Array(too_many)), "one call takes 1 to 5000");
    let mut with_bad_bool = ok.clone();
    with_bad_bool.push(("allow_upsert".into(), "yes".into()));
    refused(with_bad_bool, "is not a bool");
    let mut unknown = ok.clone();
    unknown.push(("catalog".into(), "1".into()));
    refused(unknown, "not a parameter of POST items_batch");
    assert!(j.check_items_batch("POST", "/v21.0/abc/items_batch", &ok).is_err(), "a catalog id is a number");

    let status = |p: &[(&str, &str)]| {
        let p: Vec<(String, String)> = p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        j.check_batch_status("GET", "/v21.0/1234567890/check_batch_request_status", &p)
    };
    assert_eq!(status(&[("handle", "h1"), ("access_token", "t")]), Ok(()));
    assert!(status(&[("access_token", "t")]).unwrap_err().contains("`handle`"));
    assert!(status(&[("handle", "h"), ("access_token", "t"), ("error_priority", "URGENT")]).is_err());
}

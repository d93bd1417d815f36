//! What each HTTP stand-in answers, in the real API's shape: the refusals
//! the real API gives first (credentials, required parameters, limits) and
//! a success otherwise.

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};

use super::{Asked, field, form, now_iso, reply};

fn bearer(asked: &Asked<'_>) -> Option<String> {
    let value = asked.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(str::to_owned).filter(|t| !t.is_empty())
}

fn has_basic_auth(asked: &Asked<'_>) -> bool {
    asked.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("Basic "))
}

// ------------------------------------------------------------------ Twilio

fn twilio_error(status: StatusCode, code: i64, message: &str) -> (StatusCode, Value) {
    reply(
        status,
        json!({ "code": code, "message": message, "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status.as_u16() }),
    )
}

/// `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`.
pub(crate) fn twilio(asked: &Asked<'_>) -> (StatusCode, Value) {
    let parts: Vec<&str> = asked.path.trim_start_matches('/').split('/').collect();
    let ["2010-04-01", "Accounts", account, "Messages.json"] = parts[..] else {
        return twilio_error(StatusCode::NOT_FOUND, 20404, "The requested resource was not found");
    };
    if asked.method != Method::POST {
        return twilio_error(StatusCode::METHOD_NOT_ALLOWED, 20004, "Method not allowed");
    }
    if !has_basic_auth(asked) {
        return twilio_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    let fields = form(asked.body);
    let Some(to) = field(&fields, "To") else {
        return twilio_error(StatusCode::BAD_REQUEST, 21604, "A 'To' phone number is required.");
    };
    let from = field(&fields, "From").or(field(&fields, "MessagingServiceSid"));
    if from.is_none() {
        return twilio_error(StatusCode::BAD_REQUEST, 21603, "A 'From' phone number is required.");
    }
    let body = field(&fields, "Body").unwrap_or("");
    if body.is_empty() {
        return twilio_error(StatusCode::BAD_REQUEST, 21602, "Message body is required.");
    }
    let segments = omnistore_sms::count_segments(body).segments;
    let sid = format!("SM{:032x}", asked.n);
    let now = now_iso();
    reply(
        StatusCode::CREATED,
        json!({
            "account_sid": account, "api_version": "2010-04-01", "body": body, "date_created": now,
            "date_sent": null, "date_updated": now, "direction": "outbound-api", "error_code": null,
            "error_message": null, "from": field(&fields, "From"), "messaging_service_sid": field(&fields, "MessagingServiceSid"),
            "num_media": "0", "num_segments": segments.to_string(), "price": null, "price_unit": null, "sid": sid,
            "status": "queued", "subresource_uris": {}, "to": to,
            "uri": format!("/2010-04-01/Accounts/{account}/Messages/{sid}.json"),
        }),
    )
}

// --------------------------------------------------------------- Pinterest

fn pinterest_error(status: StatusCode, code: i64, message: &str) -> (StatusCode, Value) {
    reply(status, json!({ "code": code, "message": message }))
}

/// Pinterest API v5: catalog batches, feeds, pins and token refresh.
pub(crate) fn pinterest(asked: &Asked<'_>) -> (StatusCode, Value) {
    let path = asked.path.trim_end_matches('/');
    if path == "/v5/oauth/token" && asked.method == Method::POST {
        if !has_basic_auth(asked) {
            return pinterest_error(StatusCode::UNAUTHORIZED, 2, "Authentication failed.");
        }
        let fields = form(asked.body);
        if field(&fields, "grant_type") != Some("refresh_token") || field(&fields, "refresh_token").is_none() {
            return pinterest_error(
                StatusCode::BAD_REQUEST,
                1,
                "grant_type=refresh_token and refresh_token are required",
            );
        }
        return reply(
            StatusCode::OK,
            json!({
                "access_token": format!("pina_demo_{}", asked.n), "refresh_token": format!("pinr_demo_{}", asked.n),
                "response_type": "refresh_token", "token_type": "bearer", "expires_in": 2_592_000,
                "refresh_token_expires_in": 31_536_000, "scope": "boards:read,pins:write,catalogs:write",
            }),
        );
    }
    if bearer(asked).is_none() {
        return pinterest_error(StatusCode::UNAUTHORIZED, 2, "Authentication failed.");
    }
    let body: Value = serde_json::from_slice(asked.body).unwrap_or(Value::Null);
    match (asked.method, path) {
        (&Method::POST, "/v5/catalogs/items/batch") => {
            let operation = body["operation"].as_str().unwrap_or("");
            if !["UPSERT", "DELETE", "UPDATE", "CREATE"].contains(&operation) {
                return pinterest_error(
                    StatusCode::BAD_REQUEST,
                    1,
                    "operation must be one of UPSERT, DELETE, UPDATE, CREATE",
                );
            }
            let items = body["items"].as_array().map_or(0, Vec::len);
            if !(1..=1000).contains(&items) {
                return pinterest_error(StatusCode::BAD_REQUEST, 1, "items must hold 1 to 1000 entries");
            }
            reply(StatusCode::OK, batch(asked.n, "PROCESSING"))
        }
        (&Method::GET, p) if p.starts_with("/v5/catalogs/items/batch/") => {
            reply(StatusCode::OK, batch(asked.n, "COMPLETED"))
        }
        (&Method::POST, "/v5/catalogs/feeds") => {
            if body["location"].as_str().is_none() || body["name"].as_str().is_none() {
                return pinterest_error(StatusCode::BAD_REQUEST, 1, "a feed needs a name and a location");
            }
            let now = now_iso();
            reply(
                StatusCode::CREATED,
                json!({
                    "id": format!("{}", 2_680_059_592_705 + asked.n), "name": body["name"], "location": body["location"],
                    "format": body["format"], "status": "ACTIVE", "created_at": now, "updated_at": now,
                    "catalog_type": "RETAIL", "default_currency": body["default_currency"],
                    "default_locale": body["default_locale"], "default_country": body["default_country"],
                    "default_availability": null, "catalog_id": null, "credentials": null, "preferred_processing_schedule": null,
                }),
            )
        }
        (&Method::POST, "/v5/pins") => {
            if body["board_id"].as_str().is_none() || body["media_source"].is_null() {
                return pinterest_error(StatusCode::BAD_REQUEST, 1, "a pin needs a board_id and a media_source");
            }
            reply(
                StatusCode::CREATED,
                json!({
                    "id": format!("{}", 813_744_226_420_795_884_u64 + asked.n), "created_at": now_iso(),
                    "link": body["link"], "title": body["title"], "description": body["description"],
                    "alt_text": body["alt_text"], "board_id": body["board_id"], "board_owner": { "username": "demo" },
                    "media": { "media_type": "image" }, "pin_metrics": null, "is_owner": true, "is_standard": true,
                    "has_been_promoted": false, "note": "", "dominant_color": null, "creative_type": "REGULAR",
                    "board_section_id": null, "parent_pin_id": null, "product_tags": [],
                }),
            )
        }
        _ => pinterest_error(StatusCode::NOT_FOUND, 404, "Not found."),
    }
}

fn batch(n: u64, status: &str) -> Value {
    let completed = if status == "COMPLETED" { Value::String(now_iso()) } else { Value::Null };
    json!({
        "catalog_type": "RETAIL", "batch_id": format!("demo-batch-{n}"), "created_time": now_iso(),
        "completed_time": completed, "status": status, "items": [],
    })
}

// -------------------------------------------------------------------- Meta

fn graph_error(code: i64, message: &str) -> (StatusCode, Value) {
    let status = if code == 190 { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
    reply(
        status,
        json!({ "error": { "message": message, "type": "OAuthException", "code": code, "fbtrace_id": "DemoStandIn" } }),
    )
}

/// Graph API: `POST /{version}/{catalog}/items_batch` and
/// `GET /{version}/{catalog}/check_batch_request_status`.
pub(crate) fn meta(asked: &Asked<'_>) -> (StatusCode, Value) {
    let mut fields = form(asked.query.as_bytes());
    let json_body: Value = serde_json::from_slice(asked.body).unwrap_or(Value::Null);
    match json_body.as_object() {
        Some(object) => {
            for (k, v) in object {
                let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                fields.push((k.clone(), v));
            }
        }
        None => fields.extend(form(asked.body)),
    }
    if field(&fields, "access_token").is_none() && bearer(asked).is_none() {
        return graph_error(190, "An active access token must be used to query information about the current user.");
    }
    let parts: Vec<&str> = asked.path.trim_matches('/').split('/').collect();
    match (asked.method, &parts[..]) {
        (&Method::POST, [_version, _catalog, "items_batch"]) => {
            if field(&fields, "item_type") != Some("PRODUCT_ITEM") {
                return graph_error(100, "(#100) The parameter item_type is required and must be PRODUCT_ITEM here");
            }
            let requests: Value =
                field(&fields, "requests").and_then(|r| serde_json::from_str(r).ok()).unwrap_or(Value::Null);
            let Some(requests) = requests.as_array() else {
                return graph_error(100, "(#100) The parameter requests is required (a JSON array)");
            };
            if requests.is_empty() || requests.len() > 5000 {
                return graph_error(100, "(#100) requests must hold 1 to 5000 entries");
            }
            let methods_ok =
                requests.iter().all(|r| ["CREATE", "UPDATE", "DELETE"].contains(&r["method"].as_str().unwrap_or("")));
            if !methods_ok {
                return graph_error(100, "(#100) each request's method must be CREATE, UPDATE or DELETE");
            }
            reply(StatusCode::OK, json!({ "handles": [format!("demo-handle-{}", asked.n)], "validation_status": [] }))
        }
        (&Method::GET, [_version, _catalog, "check_batch_request_status"]) => {
            let Some(handle) = field(&fields, "handle") else {
                return graph_error(100, "(#100) The parameter handle is required");
            };
            reply(
                StatusCode::OK,
                json!({ "data": [{ "handle": handle, "status": "finished", "errors_total_count": 0, "errors": [], "warnings": [] }] }),
            )
        }
        _ => graph_error(2500, "Unknown path components"),
    }
}

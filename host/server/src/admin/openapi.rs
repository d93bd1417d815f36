//! The OpenAPI 3.1 description, generated from the route table (so every
//! served route is described) plus the schemas written out below (which
//! mirror the serde shapes of the core's types and this API's bodies).

use std::sync::OnceLock;

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};

use super::{Access, RouteDoc, Routes, doc, route_docs};

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Public, "Meta").get(
        "/openapi.json",
        serve,
        doc("openapi", "This description (OpenAPI 3.1)").ok("OpenApi"),
    );
}

async fn serve() -> impl IntoResponse {
    static SPEC: OnceLock<Bytes> = OnceLock::new();
    let body = SPEC.get_or_init(|| Bytes::from(spec(&route_docs()).to_string())).clone();
    ([(CONTENT_TYPE, "application/json")], body)
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// A response schema name: `[Name]` is a page of `Name`s.
fn response_schema(name: &str) -> Value {
    match name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        Some(item) => json!({
            "type": "object",
            "required": ["items"],
            "properties": {
                "items": { "type": "array", "items": schema_ref(item) },
                "next_after": { "type": ["string", "null"], "description": "cursor for the next page, when this one is full" }
            }
        }),
        None => schema_ref(name),
    }
}

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema_ref("Error") } } })
}

fn path_params(path: &str) -> Vec<&str> {
    path.split('/').filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect()
}

fn operation(d: &RouteDoc) -> Value {
    let mutation = d.method != axum::http::Method::GET;
    let mut parameters: Vec<Value> = path_params(d.path)
        .into_iter()
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect();
    for q in d.query {
        parameters.push(json!({
            "name": q.name, "in": "query", "required": q.required,
            "description": q.description, "schema": { "type": q.kind }
        }));
    }
    if mutation {
        parameters.push(json!({ "$ref": "#/components/parameters/IdempotencyKey" }));
    }
    let mut responses = Map::new();
    let success = match d.response {
        Some("Bytes") => json!({
            "description": "success",
            "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } }
        }),
        Some(schema) => json!({
            "description": "success",
            "content": { "application/json": { "schema": response_schema(schema) } }
        }),
        None => json!({ "description": "success, no body" }),
    };
    responses.insert(d.status.to_string(), success);
    if d.access != Access::Public {
        responses.insert(
            "400".into(),
            error_response("malformed JSON, a body or query of the wrong shape, a bad Idempotency-Key"),
        );
        responses.insert("401".into(), error_response("missing or unknown token"));
        responses.insert("403".into(), error_response("the token may not use this route or tenant"));
        responses
            .insert("404".into(), error_response("the tenant or a record named in the path or body does not exist"));
        responses
            .insert("422".into(), error_response("invalid values, or an Idempotency-Key reused for another request"));
    }
    if mutation {
        responses.insert("409".into(), error_response("conflicts with the current state (a taken handle, a transition the order cannot make, not enough stock), or the same Idempotency-Key is still running"));
        responses.insert("413".into(), error_response("the body exceeds the size limit"));
    }
    let access = match d.access {
        Access::Public => "No token needed.",
        Access::Operator => "Operator token only.",
        Access::Tenant => "A token of the tenant in the path, or the operator token.",
    };
    let mut op = json!({
        "operationId": d.operation_id,
        "summary": d.summary,
        "description": access,
        "tags": [d.tag],
        "parameters": parameters,
        "responses": responses,
    });
    if d.access == Access::Public {
        op["security"] = json!([]);
    }
    if !d.raw_body.is_empty() {
        let content: Map<String, Value> = d
            .raw_body
            .iter()
            .map(|t| ((*t).to_owned(), json!({ "schema": { "type": "string", "format": "binary" } })))
            .collect();
        op["requestBody"] = json!({ "required": true, "content": content });
        op["responses"]["415"] =
            error_response("the body is not of an accepted type, or not what its Content-Type says");
    }
    if let Some(body) = d.body {
        op["requestBody"] = json!({
            "required": !d.body_optional,
            "content": { "application/json": { "schema": schema_ref(body) } }
        });
    }
    op
}

/// The description of `docs`.
pub(crate) fn spec(docs: &[RouteDoc]) -> Value {
    let mut paths = Map::new();
    let mut tags: Vec<&str> = Vec::new();
    for d in docs {
        let item = paths.entry(d.path.to_owned()).or_insert_with(|| json!({}));
        item[d.method.as_str().to_ascii_lowercase()] = operation(d);
        if !tags.contains(&d.tag) {
            tags.push(d.tag);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "omnistore admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Manage tenants, catalog, stock, promotions, orders, customers, channels and events. \
                Authenticate with `Authorization: Bearer <token>`. Every mutation accepts an `Idempotency-Key`. \
                Errors are `{\"error\": {\"code\", \"message\"}}` with a stable code."
        },
        "servers": [{ "url": "/api/v1" }],
        "security": [{ "bearer": [] }],
        "tags": tags.iter().map(|t| json!({ "name": t })).collect::<Vec<_>>(),
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "the operator token, or a tenant token (`osk_…`)" }
            },
            "parameters": {
                "IdempotencyKey": {
                    "name": "Idempotency-Key", "in": "header", "required": false,
                    "description": "Same key and same request: the first response again. Same key, other request: 422. 1-255 visible ASCII characters.",
                    "schema": { "type": "string", "minLength": 1, "maxLength": 255 }
                }
            },
            "schemas": schemas(),
        }
    })
}

fn obj(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": properties })
}

fn array(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

fn or_null(schema: Value) -> Value {
    json!({ "oneOf": [schema, { "type": "null" }] })
}

fn string_map() -> Value {
    json!({ "type": "object", "additionalProperties": { "type": "string" } })
}

#[allow(clippy::too_many_lines)]
fn schemas() -> Value {
    let s = || json!({ "type": "string" });
    let s_null = || json!({ "type": ["string", "null"] });
    let i = || json!({ "type": "integer" });
    let i_null = || json!({ "type": ["integer", "null"] });
    let b = || json!({ "type": "boolean" });
    let r = schema_ref;
    let strings = || array(json!({ "type": "string" }));
    let enum_of = |values: &[&str]| json!({ "type": "string", "enum": values });
    let entries: Vec<(&str, Value)> = vec![
        ("OpenApi", json!({ "type": "object", "description": "an OpenAPI 3.1 document" })),
        (
            "Error",
            obj(
                &["error"],
                json!({
                    "error": obj(&["code", "message"], json!({
                        "code": { "type": "string", "description": "stable, for programs: malformed_json, invalid_body, invalid_query, invalid_path, invalid_idempotency_key, unauthorized, forbidden, not_found, route_not_found, method_not_allowed, conflict, insufficient_stock, idempotency_in_progress, body_too_large, unsupported_media_type, validation_failed, idempotency_key_reused, storage_error, busy, not_implemented, internal" },
                        "message": { "type": "string", "description": "for people: what failed and what to do" }
                    }))
                }),
            ),
        ),
        (
            "Money",
            obj(
                &["amount_minor", "currency"],
                json!({
                    "amount_minor": { "type": "integer", "description": "minor units (cents)" },
                    "currency": { "type": "string", "description": "ISO 4217, the tenant's currency" }
                }),
            ),
        ),
        (
            "NewTenant",
            obj(
                &["id", "name", "currency"],
                json!({
                    "id": { "type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,63}$" },
                    "name": s(), "currency": s(),
                    "token_label": s_null()
                }),
            ),
        ),
        (
            "Tenant",
            obj(
                &["id", "name", "currency", "created_ms"],
                json!({ "id": s(), "name": s(), "currency": s(), "created_ms": i() }),
            ),
        ),
        ("TenantCreated", obj(&["tenant", "token"], json!({ "tenant": r("Tenant"), "token": r("IssuedToken") }))),
        ("NewToken", obj(&[], json!({ "label": s_null() }))),
        ("TokenInfo", obj(&["id", "label", "created_ms"], json!({ "id": s(), "label": s(), "created_ms": i() }))),
        (
            "IssuedToken",
            obj(
                &["id", "label", "created_ms", "secret"],
                json!({
                    "id": s(), "label": s(), "created_ms": i(),
                    "secret": { "type": ["string", "null"], "description": "the bearer token, shown only in this response (null when replayed by Idempotency-Key)" }
                }),
            ),
        ),
        (
            "Image",
            obj(
                &["url"],
                json!({
                    "url": { "type": "string", "description": "for an uploaded image, /media/{id}/{sha256}.{ext} on the shop's host names (add ?width=N for a resized copy); otherwise any URL" },
                    "alt": s_null(),
                    "media": or_null(r("ImageMedia"))
                }),
            ),
        ),
        (
            "ImageMedia",
            obj(
                &["id", "sha256", "content_type", "width", "height"],
                json!({
                    "id": s(), "sha256": s(),
                    "content_type": enum_of(&["image/jpeg", "image/png", "image/webp", "image/gif"]),
                    "width": i(), "height": i()
                }),
            ),
        ),
        ("ProductStatus", enum_of(&["draft", "active", "archived"])),
        (
            "FileEntry",
            obj(
                &["path", "state", "size"],
                json!({
                    "path": s(),
                    "state": enum_of(&["live", "added", "modified", "deleted"]),
                    "live_sha256": s_null(), "draft_sha256": s_null(),
                    "size": { "type": "integer", "description": "bytes as the draft reads the file" }
                }),
            ),
        ),
        ("FileWritten", obj(&["path", "sha256", "size"], json!({ "path": s(), "sha256": s(), "size": i() }))),
        (
            "Published",
            obj(&["changed"], json!({ "changed": { "type": "integer", "description": "files written or deleted" } })),
        ),
        (
            "PreviewLink",
            obj(
                &["token", "expires_ms", "query"],
                json!({
                    "token": s(), "expires_ms": i(),
                    "query": { "type": "string", "description": "add to any storefront URL of the installation: ?preview=…" }
                }),
            ),
        ),
        (
            "Product",
            obj(
                &[
                    "id",
                    "handle",
                    "title",
                    "description",
                    "tags",
                    "collections",
                    "images",
                    "status",
                    "created_ms",
                    "updated_ms",
                ],
                json!({
                    "id": s(), "handle": s(), "title": s(), "description": s(), "brand": s_null(),
                    "tags": strings(), "collections": strings(), "images": array(r("Image")),
                    "status": r("ProductStatus"), "created_ms": i(), "updated_ms": i()
                }),
            ),
        ),
        (
            "Variant",
            obj(
                &["id", "product_id", "sku", "title", "options", "price", "backorderable", "created_ms", "updated_ms"],
                json!({
                    "id": s(), "product_id": s(), "sku": s(), "title": s(), "options": string_map(),
                    "gtin": s_null(), "weight_grams": i_null(), "price": r("Money"), "compare_at": or_null(r("Money")),
                    "backorderable": b(), "created_ms": i(), "updated_ms": i()
                }),
            ),
        ),
        (
            "ProductDetail",
            obj(&["product", "variants"], json!({ "product": r("Product"), "variants": array(r("Variant")) })),
        ),
        (
            "NewVariant",
            obj(
                &["sku", "title", "price"],
                json!({
                    "sku": s(), "title": s(), "options": string_map(), "gtin": s_null(), "weight_grams": i_null(),
                    "price": r("Money"), "compare_at": or_null(r("Money")), "backorderable": b()
                }),
            ),
        ),
        (
            "NewProduct",
            obj(
                &["handle", "title", "status", "variants"],
                json!({
                    "handle": s(), "title": s(), "description": s(), "brand": s_null(), "tags": strings(),
                    "collections": strings(), "images": array(r("Image")), "status": r("ProductStatus"),
                    "variants": array(r("NewVariant"))
                }),
            ),
        ),
        (
            "ProductPatch",
            obj(
                &[],
                json!({
                    "handle": s(), "title": s(), "description": s(), "brand": s_null(), "tags": strings(),
                    "collections": strings(), "images": array(r("Image")), "status": r("ProductStatus")
                }),
            ),
        ),
        (
            "VariantPatch",
            obj(
                &[],
                json!({
                    "sku": s(), "title": s(), "options": string_map(), "gtin": s_null(), "weight_grams": i_null(),
                    "price": r("Money"), "compare_at": or_null(r("Money")), "backorderable": b()
                }),
            ),
        ),
        (
            "SyncState",
            obj(
                &["status", "at_ms"],
                json!({
                    "status": enum_of(&["pending", "synced", "failed"]), "external_id": s_null(), "error": s_null(), "at_ms": i()
                }),
            ),
        ),
        (
            "Publication",
            obj(
                &["product_id", "channel_id", "published_ms"],
                json!({
                    "product_id": s(), "channel_id": s(), "published_ms": i(), "sync": or_null(r("SyncState"))
                }),
            ),
        ),
        ("NewCollection", obj(&["handle", "title"], json!({ "handle": s(), "title": s(), "description": s() }))),
        (
            "Collection",
            obj(
                &["id", "handle", "title", "description", "created_ms", "updated_ms"],
                json!({
                    "id": s(), "handle": s(), "title": s(), "description": s(), "created_ms": i(), "updated_ms": i()
                }),
            ),
        ),
        ("LocationKind", enum_of(&["warehouse", "shop"])),
        (
            "NewLocation",
            obj(
                &["name", "kind", "pickup_enabled"],
                json!({
                    "name": s(), "kind": r("LocationKind"), "pickup_enabled": b(), "address": s_null()
                }),
            ),
        ),
        ("LocationPatch", obj(&[], json!({ "name": s(), "pickup_enabled": b(), "active": b(), "address": s_null() }))),
        (
            "Location",
            obj(
                &["id", "name", "kind", "pickup_enabled", "active", "created_ms", "updated_ms"],
                json!({
                    "id": s(), "name": s(), "kind": r("LocationKind"), "pickup_enabled": b(), "active": b(),
                    "address": s_null(), "created_ms": i(), "updated_ms": i()
                }),
            ),
        ),
        (
            "StockLevel",
            obj(
                &["variant_id", "location_id", "on_hand", "reserved", "available"],
                json!({
                    "variant_id": s(), "location_id": s(), "on_hand": i(), "reserved": i(), "available": i()
                }),
            ),
        ),
        ("Availability", obj(&["variant_id", "available"], json!({ "variant_id": s(), "available": i() }))),
        (
            "Movement",
            obj(
                &[
                    "variant_id",
                    "location_id",
                    "seq",
                    "kind",
                    "on_hand_delta",
                    "reserved_delta",
                    "on_hand_after",
                    "reserved_after",
                    "at_ms",
                ],
                json!({
                    "variant_id": s(), "location_id": s(), "seq": i(),
                    "kind": enum_of(&["received", "adjusted", "counted", "hold_placed", "hold_released", "hold_expired", "allocated", "allocation_released", "fulfilled", "restocked", "written_off", "transfer_out", "transfer_in"]),
                    "on_hand_delta": i(), "reserved_delta": i(), "on_hand_after": i(), "reserved_after": i(),
                    "reference": s_null(), "note": s_null(), "at_ms": i()
                }),
            ),
        ),
        (
            "ReceiveStock",
            obj(
                &["variant_id", "location_id", "quantity"],
                json!({
                    "variant_id": s(), "location_id": s(), "quantity": { "type": "integer", "minimum": 1, "maximum": 1_000_000 }, "note": s_null()
                }),
            ),
        ),
        (
            "AdjustStock",
            obj(
                &["variant_id", "location_id", "delta"],
                json!({
                    "variant_id": s(), "location_id": s(), "delta": { "type": "integer", "description": "non-zero; negative for breakage" }, "note": s_null()
                }),
            ),
        ),
        (
            "CountStock",
            obj(
                &["variant_id", "location_id", "on_hand"],
                json!({
                    "variant_id": s(), "location_id": s(), "on_hand": { "type": "integer", "minimum": 0 }, "note": s_null()
                }),
            ),
        ),
        (
            "TransferStock",
            obj(
                &["variant_id", "from_location_id", "to_location_id", "quantity"],
                json!({
                    "variant_id": s(), "from_location_id": s(), "to_location_id": s(),
                    "quantity": { "type": "integer", "minimum": 1, "maximum": 1_000_000 }, "note": s_null()
                }),
            ),
        ),
        (
            "Transfer",
            obj(
                &["transfer_id", "from", "to"],
                json!({ "transfer_id": s(), "from": r("StockLevel"), "to": r("StockLevel") }),
            ),
        ),
        (
            "DiscountValue",
            json!({
                "oneOf": [
                    obj(&["type", "bps"], json!({ "type": { "const": "percent" }, "bps": { "type": "integer", "minimum": 1, "maximum": 10_000, "description": "basis points: 2000 is 20%" } })),
                    obj(&["type", "amount_minor"], json!({ "type": { "const": "amount_off" }, "amount_minor": { "type": "integer", "minimum": 1 } }))
                ]
            }),
        ),
        (
            "PromotionConditions",
            obj(
                &[],
                json!({
                    "products": strings(), "collections": strings(), "tags": strings(), "brands": strings(),
                    "min_subtotal_minor": i_null(), "channels": strings(), "starts_ms": i_null(), "ends_ms": i_null()
                }),
            ),
        ),
        (
            "NewPromotion",
            obj(
                &["name", "scope", "value"],
                json!({
                    "name": s(), "scope": enum_of(&["line", "order"]), "value": r("DiscountValue"),
                    "conditions": r("PromotionConditions"), "code": s_null(), "usage_limit": i_null()
                }),
            ),
        ),
        (
            "PromotionPatch",
            obj(
                &[],
                json!({
                    "name": s(), "active": b(), "value": r("DiscountValue"), "conditions": r("PromotionConditions"), "usage_limit": i_null()
                }),
            ),
        ),
        (
            "Promotion",
            obj(
                &["id", "name", "scope", "value", "conditions", "usage_count", "active", "created_ms", "updated_ms"],
                json!({
                    "id": s(), "name": s(), "scope": enum_of(&["line", "order"]), "value": r("DiscountValue"),
                    "conditions": r("PromotionConditions"), "code": s_null(), "usage_limit": i_null(), "usage_count": i(),
                    "active": b(), "created_ms": i(), "updated_ms": i()
                }),
            ),
        ),
        (
            "AppliedPromotion",
            obj(
                &["promotion_id", "name", "amount"],
                json!({
                    "promotion_id": s(), "name": s(), "code": s_null(), "amount": r("Money")
                }),
            ),
        ),
        (
            "Address",
            obj(
                &["name", "line1", "city", "postal_code", "country"],
                json!({
                    "name": s(), "line1": s(), "line2": s_null(), "city": s(), "postal_code": s(), "country": s(), "phone": s_null()
                }),
            ),
        ),
        (
            "Fulfilment",
            json!({
                "oneOf": [
                    obj(&["kind", "address"], json!({ "kind": { "const": "ship" }, "address": r("Address") })),
                    obj(&["kind", "location_id"], json!({ "kind": { "const": "pickup" }, "location_id": s() })),
                    obj(&["kind", "location_id"], json!({ "kind": { "const": "ship_to_store" }, "location_id": s() }))
                ]
            }),
        ),
        ("OrderStatus", enum_of(&["placed", "ready_for_pickup", "shipped", "completed", "cancelled", "refunded"])),
        (
            "Allocation",
            obj(
                &["location_id", "quantity", "backordered", "consumed", "restocked"],
                json!({
                    "location_id": s(), "quantity": i(), "backordered": i(), "consumed": b(), "restocked": b()
                }),
            ),
        ),
        (
            "OrderLine",
            obj(
                &[
                    "line_no",
                    "variant_id",
                    "product_id",
                    "sku",
                    "title",
                    "quantity",
                    "unit_price",
                    "total",
                    "allocations",
                    "returned",
                ],
                json!({
                    "line_no": i(), "variant_id": s(), "product_id": s(), "sku": s(), "title": s(), "quantity": i(),
                    "unit_price": r("Money"), "line_discount": r("Money"), "order_discount_share": r("Money"), "total": r("Money"),
                    "promotion": or_null(r("AppliedPromotion")), "allocations": array(r("Allocation")), "returned": i()
                }),
            ),
        ),
        (
            "StatusChange",
            obj(&["status", "at_ms"], json!({ "status": r("OrderStatus"), "at_ms": i(), "note": s_null() })),
        ),
        (
            "Order",
            obj(
                &[
                    "id",
                    "number",
                    "currency",
                    "lines",
                    "subtotal",
                    "discount_total",
                    "total",
                    "fulfilment",
                    "status",
                    "history",
                    "refunded",
                    "placed_ms",
                    "updated_ms",
                ],
                json!({
                    "id": s(), "number": i(), "channel_id": s_null(), "external_id": s_null(), "cart_id": s_null(),
                    "customer_id": s_null(), "email": s_null(), "currency": s(), "lines": array(r("OrderLine")),
                    "subtotal": r("Money"), "discount_total": r("Money"), "total": r("Money"),
                    "promotions": array(r("AppliedPromotion")), "codes": strings(), "fulfilment": r("Fulfilment"),
                    "status": r("OrderStatus"), "history": array(r("StatusChange")), "refunded": r("Money"),
                    "tracking": s_null(), "attributed_campaign": s_null(), "note": s_null(), "placed_ms": i(), "updated_ms": i()
                }),
            ),
        ),
        ("ShipOrder", obj(&[], json!({ "tracking": s_null() }))),
        ("CancelOrder", obj(&[], json!({ "reason": s_null() }))),
        ("RefundOrder", obj(&[], json!({ "amount_minor": i_null(), "reason": s_null() }))),
        (
            "ReturnLineRequest",
            obj(
                &["line_no", "quantity", "disposition"],
                json!({
                    "line_no": i(), "quantity": { "type": "integer", "minimum": 1 }, "disposition": enum_of(&["restock", "write_off"])
                }),
            ),
        ),
        (
            "ReturnRequest",
            obj(
                &["location_id", "lines"],
                json!({
                    "location_id": { "type": "string", "description": "where the goods were received; restocked units go back here" },
                    "lines": array(r("ReturnLineRequest")), "reason": s_null()
                }),
            ),
        ),
        (
            "ReturnLine",
            obj(
                &["line_no", "variant_id", "sku", "quantity", "disposition", "refund"],
                json!({
                    "line_no": i(), "variant_id": s(), "sku": s(), "quantity": i(),
                    "disposition": enum_of(&["restock", "write_off"]), "refund": r("Money")
                }),
            ),
        ),
        (
            "Return",
            obj(
                &["id", "order_id", "location_id", "lines", "refund_total", "created_ms"],
                json!({
                    "id": s(), "order_id": s(), "location_id": s(), "lines": array(r("ReturnLine")),
                    "refund_total": r("Money"), "reason": s_null(), "created_ms": i()
                }),
            ),
        ),
        (
            "Identity",
            obj(
                &["kind", "value"],
                json!({
                    "kind": {
                        "oneOf": [
                            obj(&["type"], json!({ "type": { "const": "email" } })),
                            obj(&["type"], json!({ "type": { "const": "phone" } })),
                            obj(&["type", "network"], json!({ "type": { "const": "social" }, "network": s() }))
                        ]
                    },
                    "value": s()
                }),
            ),
        ),
        ("ConsentPurpose", enum_of(&["email_marketing", "sms_marketing"])),
        (
            "ConsentRecord",
            obj(
                &["purpose", "granted", "source", "at_ms"],
                json!({
                    "purpose": r("ConsentPurpose"), "granted": b(), "channel_id": s_null(), "source": s(), "at_ms": i()
                }),
            ),
        ),
        ("NewCustomer", obj(&[], json!({ "name": s_null(), "identities": array(r("Identity")) }))),
        (
            "Customer",
            obj(
                &["id", "identities", "consents", "created_ms", "updated_ms"],
                json!({
                    "id": s(), "name": s_null(), "identities": array(r("Identity")), "consents": array(r("ConsentRecord")),
                    "merged_into": s_null(), "created_ms": i(), "updated_ms": i()
                }),
            ),
        ),
        (
            "SetConsent",
            obj(
                &["purpose", "granted"],
                json!({
                    "purpose": r("ConsentPurpose"), "granted": b(), "channel_id": s_null(),
                    "source": { "type": ["string", "null"], "description": "how it was given or withdrawn (default \"admin\")" }
                }),
            ),
        ),
        (
            "Consent",
            obj(
                &["customer_id", "current", "history"],
                json!({
                    "customer_id": s(), "current": array(r("ConsentRecord")), "history": array(r("ConsentRecord"))
                }),
            ),
        ),
        (
            "TimelineEntry",
            json!({
                "type": "object", "required": ["type"],
                "description": "a touchpoint (type touchpoint: kind, channel_id, product_id, campaign, at_ms), an order (type order_placed: order_id, number, channel_id, total, at_ms) or a consent decision (type consent)",
                "properties": { "type": enum_of(&["touchpoint", "order_placed", "consent"]), "at_ms": i() }
            }),
        ),
        ("MergeCustomers", obj(&["absorbed_id"], json!({ "absorbed_id": s() }))),
        (
            "CustomerExport",
            obj(
                &["customer", "merged_profiles", "consent_history", "touchpoints", "orders", "carts", "exported_ms"],
                json!({
                    "customer": r("Customer"), "merged_profiles": array(r("Customer")),
                    "consent_history": array(r("ConsentRecord")),
                    "touchpoints": array(json!({ "type": "object", "description": "a touchpoint as in the timeline" })),
                    "orders": array(r("Order")),
                    "carts": array(json!({ "type": "object", "description": "a cart of the customer" })),
                    "exported_ms": i()
                }),
            ),
        ),
        (
            "ErasureReport",
            obj(
                &[
                    "profiles",
                    "identities",
                    "consent_records",
                    "touchpoints",
                    "orders_anonymised",
                    "carts_unlinked",
                    "events_redacted",
                    "at_ms",
                ],
                json!({
                    "customer_id": s_null(), "profiles": i(), "identities": i(), "consent_records": i(),
                    "touchpoints": i(), "orders_anonymised": i(), "carts_unlinked": i(), "events_redacted": i(),
                    "at_ms": i()
                }),
            ),
        ),
        ("TenantDataReport", obj(&["entries"], json!({ "entries": i() }))),
        (
            "StorageVersions",
            obj(
                &["current", "counts"],
                json!({
                    "current": i(),
                    "counts": { "type": "object", "description": "records per format version (0: before versioning)", "additionalProperties": i() }
                }),
            ),
        ),
        ("MigrationReport", obj(&["scanned", "upgraded"], json!({ "scanned": i(), "upgraded": i() }))),
        (
            "TenantExportLine",
            json!({
                "description": "one line of a tenant export: the header, an entry (base64 key and value) or the end",
                "oneOf": [
                    obj(&["format", "version", "tenant"], json!({ "format": s(), "version": i(), "tenant": s() })),
                    obj(&["key", "value"], json!({ "key": s(), "value": s() })),
                    obj(&["end", "entries"], json!({ "end": b(), "entries": i() }))
                ]
            }),
        ),
        (
            "Channel",
            obj(
                &[
                    "id",
                    "plugin_id",
                    "version",
                    "name",
                    "settings",
                    "secret_keys",
                    "capabilities",
                    "subscriptions",
                    "enabled",
                    "safety_buffer",
                    "created_ms",
                    "updated_ms",
                ],
                json!({
                    "id": s(), "plugin_id": s(), "version": s(), "name": s(), "settings": { "type": "object" },
                    "secret_keys": strings(), "capabilities": strings(), "subscriptions": strings(), "enabled": b(),
                    "safety_buffer": i(), "created_ms": i(), "updated_ms": i()
                }),
            ),
        ),
        (
            "InstallRequest",
            obj(
                &[],
                json!({
                    "upload": {
                        "type": "object",
                        "description": "the plugin package: give this or `package`",
                        "required": ["manifest", "component"],
                        "additionalProperties": false,
                        "properties": {
                            "manifest": { "type": "string", "description": "the text of plugin.toml" },
                            "component": {
                                "type": "string",
                                "contentEncoding": "base64",
                                "description": "plugin.wasm, standard base64"
                            }
                        }
                    },
                    "package": {
                        "type": "string",
                        "description": "a plugin package directory on the server; operator token only (403 otherwise)"
                    },
                    "name": s_null(), "mount": s_null(), "settings": { "type": "object" },
                    "withhold": strings(), "enabled": b(), "safety_buffer": i()
                }),
            ),
        ),
        ("ChannelPatch", obj(&[], json!({ "name": s(), "safety_buffer": i(), "subscriptions": strings() }))),
        (
            "ChannelSettings",
            json!({ "type": "object", "description": "the whole settings object, replacing the current one" }),
        ),
        ("ChannelGrants", obj(&["capabilities"], json!({ "capabilities": strings() }))),
        ("SecretValue", obj(&["value"], json!({ "value": s() }))),
        (
            "Event",
            obj(
                &["id", "tenant", "kind", "subject", "at_ms", "payload"],
                json!({
                    "id": s(), "tenant": s(), "kind": s(), "subject": s(), "at_ms": i(), "payload": {}
                }),
            ),
        ),
        (
            "Delivery",
            obj(
                &[
                    "id",
                    "event_id",
                    "channel_id",
                    "kind",
                    "subject",
                    "state",
                    "attempts",
                    "next_attempt_ms",
                    "created_ms",
                    "updated_ms",
                ],
                json!({
                    "id": s(), "event_id": s(), "channel_id": s(), "kind": s(), "subject": s(),
                    "state": enum_of(&["pending", "delivered", "dead"]), "attempts": i(), "next_attempt_ms": i(),
                    "leased_until_ms": i_null(), "last_error": s_null(), "coalesced": i(),
                    "created_ms": i(), "updated_ms": i(), "delivered_ms": i_null()
                }),
            ),
        ),
    ];
    Value::Object(entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

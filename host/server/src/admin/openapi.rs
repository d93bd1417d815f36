//! The OpenAPI 3.1 description, generated from the route table (so every
//! served route is described) and from the wire types (`super::wire`, whose
//! JSON Schemas `schemars` derives), so neither can drift from the code.

use std::sync::OnceLock;

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use schemars::generate::SchemaSettings;
use schemars::{Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use super::wire::{ErrorBody, OpenApiDocument, schema_of};
use super::{Access, RouteDoc, Routes, doc, route_docs};

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Public, "Meta").get(
        "/openapi.json",
        serve,
        doc("openapi", "This description (OpenAPI 3.1)").ok::<OpenApiDocument>(),
    );
}

async fn serve() -> impl IntoResponse {
    static SPEC: OnceLock<Bytes> = OnceLock::new();
    let body = SPEC.get_or_init(|| Bytes::from(spec(&route_docs()).to_string())).clone();
    ([(CONTENT_TYPE, "application/json")], body)
}

/// Schemas of the wire types under `#/components/schemas/`, as OpenAPI 3.1
/// wants them (JSON Schema 2020-12, no `$schema` in the components).
fn generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        })
        .into_generator()
}

fn json_of(schema: Schema) -> Value {
    schema.to_value()
}

fn error_response(generator: &mut SchemaGenerator, description: &str) -> Value {
    let schema = json_of(schema_of::<ErrorBody>(generator));
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn path_params(path: &str) -> Vec<&str> {
    path.split('/').filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect()
}

fn operation(generator: &mut SchemaGenerator, d: &RouteDoc) -> Value {
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
        Some(schema) => {
            let media = if d.json_lines { "application/x-ndjson" } else { "application/json" };
            let description = if d.json_lines { "success: JSON lines, each of this schema" } else { "success" };
            json!({
                "description": description,
                "content": { media: { "schema": json_of(schema(generator)) } }
            })
        }
        None if d.bytes_response => json!({
            "description": "success: the file's bytes",
            "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } }
        }),
        None => json!({ "description": "success, no body" }),
    };
    responses.insert(d.status.to_string(), success);
    if d.access != Access::Public {
        responses.insert(
            "400".into(),
            error_response(generator, "malformed JSON, a body or query of the wrong shape, a bad Idempotency-Key"),
        );
        responses.insert("401".into(), error_response(generator, "missing or unknown token"));
        responses.insert("403".into(), error_response(generator, "the token may not use this route or tenant"));
        responses.insert(
            "404".into(),
            error_response(generator, "the tenant or a record named in the path or body does not exist"),
        );
        responses.insert(
            "422".into(),
            error_response(generator, "invalid values, or an Idempotency-Key reused for another request"),
        );
    }
    if mutation {
        responses.insert("409".into(), error_response(generator, "conflicts with the current state (a taken handle, a transition the order cannot make, not enough stock), or the same Idempotency-Key is still running"));
        responses.insert("413".into(), error_response(generator, "the body exceeds the size limit"));
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
            error_response(generator, "the body is not of an accepted type, or not what its Content-Type says");
    }
    if let Some(body) = d.body {
        op["requestBody"] = json!({
            "required": !d.body_optional,
            "content": { "application/json": { "schema": json_of(body(generator)) } }
        });
    }
    op
}

/// The description of `docs`.
pub(crate) fn spec(docs: &[RouteDoc]) -> Value {
    let mut generator = generator();
    let mut paths = Map::new();
    let mut tags: Vec<&str> = Vec::new();
    for d in docs {
        let item = paths.entry(d.path.to_owned()).or_insert_with(|| json!({}));
        item[d.method.as_str().to_ascii_lowercase()] = operation(&mut generator, d);
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
            "schemas": generator.take_definitions(true),
        }
    })
}

//! The description cannot lie: `/openapi.json` is compared with a reviewed
//! copy (`tests/fixtures/openapi.json`; `BLESS=1` rewrites it after a
//! deliberate change), every schema in it is valid JSON Schema 2020-12, and
//! a real answer of every route is validated against the schema its
//! description promises, with a JSON Schema validator that is not ours.

use axum::http::StatusCode;
use omnistore_server::admin::{Access, RouteDoc, openapi_spec, route_docs};
use serde_json::{Value, json};

use super::{Api, OPERATOR, Resp, case, run, seed, table_routes};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/openapi.json");

#[test]
fn the_description_is_the_reviewed_one() {
    let spec = serde_json::to_string_pretty(&openapi_spec()).unwrap() + "\n";
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(GOLDEN, &spec).unwrap();
    }
    let golden = std::fs::read_to_string(GOLDEN).expect("tests/fixtures/openapi.json (BLESS=1 writes it)");
    assert!(
        golden == spec,
        "the OpenAPI description changed; review the difference and run again with BLESS=1 to accept it"
    );
}

#[test]
fn every_schema_is_json_schema_2020_12() {
    let spec = openapi_spec();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    assert!(schemas.len() > 60, "the components should describe the whole API, got {}", schemas.len());
    for (name, schema) in schemas {
        assert!(jsonschema::draft202012::meta::validate(schema).is_ok(), "{name} is not a valid JSON Schema");
    }
    // Every reference points at a component that exists.
    let text = spec.to_string();
    for reference in text.split("\"$ref\":\"").skip(1) {
        let target = reference.split('"').next().unwrap();
        if let Some(name) = target.strip_prefix("#/components/schemas/") {
            assert!(schemas.contains_key(name), "{target} is referenced but not described");
        }
    }
}

/// A validator for the schema `schema`, whose references point into `spec`.
fn validator(spec: &Value, schema: &Value) -> jsonschema::Validator {
    let root = json!({ "components": spec["components"], "allOf": [schema] });
    jsonschema::draft202012::new(&root).unwrap()
}

/// Check `response` against what `spec` documents for `doc` at its status.
fn assert_answers_as_documented(spec: &Value, doc: &RouteDoc, response: &Resp) {
    let operation = &spec["paths"][doc.path][doc.method.as_str().to_ascii_lowercase()];
    let documented = &operation["responses"][response.status.as_str()];
    assert!(
        documented.is_object(),
        "{} answered {}, which its description does not list: {}",
        doc.operation_id,
        response.status,
        response.text
    );
    let Some(content) = documented["content"].as_object() else {
        assert!(response.text.is_empty(), "{} documents no body but answered {}", doc.operation_id, response.text);
        return;
    };
    let (media, described) = content.iter().next().unwrap();
    let check = validator(spec, &described["schema"]);
    let values: Vec<Value> = if media == "application/x-ndjson" {
        response.text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
    } else {
        assert_eq!(media, "application/json");
        vec![serde_json::from_str(&response.text).unwrap()]
    };
    assert!(!values.is_empty(), "{} answered no body", doc.operation_id);
    for value in &values {
        let errors: Vec<String> = check.iter_errors(value).map(|e| format!("{e} at {}", e.instance_path)).collect();
        assert!(
            errors.is_empty(),
            "{} {} answered against its description: {errors:?}\n{}",
            doc.operation_id,
            response.status,
            response.text
        );
    }
}

#[tokio::test]
async fn every_route_answers_as_its_description_says() {
    let spec = openapi_spec();
    let routes = table_routes();
    assert!(routes.len() > 60, "every route, got {}", routes.len());
    let mut checked = 0;
    for doc in &routes {
        // A fresh world per route: some cases consume what others need.
        let api = Api::memory();
        let b = seed(&api, "bravo", "BRAVO-ONLY").await;
        let c = case(doc, &b.tenant, &b);
        let token = if doc.access == Access::Operator { OPERATOR } else { b.token.as_str() };
        let r = run(&api, &c, token).await;
        assert!(r.status.is_success(), "{} answered {}: {}", doc.operation_id, r.status, r.text);
        assert_answers_as_documented(&spec, doc, &r);
        checked += 1;

        // Errors are described too: another tenant's token is refused in the
        // documented shape (the public description has no refusals).
        if doc.access != Access::Public {
            let a = seed(&api, "alpha", "ALPHA-ONLY").await;
            let refused = run(&api, &c, &a.token).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN);
            assert_answers_as_documented(&spec, doc, &refused);
        }
    }
    assert_eq!(checked, routes.len());
}

#[tokio::test]
async fn an_answer_that_breaks_its_schema_is_caught() {
    // The control: the check above fails when an answer does not match, so
    // its silence means something.
    let spec = openapi_spec();
    let doc = route_docs().into_iter().find(|d| d.operation_id == "getProduct").unwrap();
    let operation = &spec["paths"][doc.path]["get"];
    let check = validator(&spec, &operation["responses"]["200"]["content"]["application/json"]["schema"]);
    let api = Api::memory();
    let b = seed(&api, "bravo", "BRAVO-ONLY").await;
    let r = run(&api, &case(&doc, &b.tenant, &b), &b.token).await;
    assert!(check.is_valid(&r.body), "{}", r.text);
    let mut renamed = r.body.clone();
    let title = renamed["product"].as_object_mut().unwrap().remove("title").unwrap();
    renamed["product"]["name"] = title;
    assert!(!check.is_valid(&renamed), "a renamed field must not pass");
    let mut retyped = r.body.clone();
    retyped["variants"][0]["price"]["amount_minor"] = json!("3.00");
    assert!(!check.is_valid(&retyped), "a field of another type must not pass");
}

//! Templates whose expected output came from Shopify's Liquid itself (see
//! `fixtures/differential.rb`): this engine must agree, except where a case records
//! a `known_difference`.

use std::collections::BTreeMap;

use omnistore_liquid::{ParseOptions, RenderOptions, Template, Value};
use serde::Deserialize;

const CASES: &str = include_str!("../fixtures/differential.json");

#[derive(Deserialize)]
struct Doc {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    template: String,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    partials: BTreeMap<String, String>,
    #[serde(default)]
    expected: Option<String>,
    #[serde(default)]
    error: bool,
    #[serde(default)]
    known_difference: Option<String>,
}

fn run(case: &Case) -> Result<String, omnistore_liquid::Error> {
    let template = Template::parse(&case.template, &ParseOptions::default())?;
    let options = RenderOptions::default().with_partials(&case.partials);
    template.render(case.data.as_ref().unwrap_or(&Value::Nil), &options)
}

#[test]
fn agrees_with_the_reference_implementation() {
    let doc: Doc = serde_json::from_str(CASES).expect("differential.json parses");
    assert!(doc.cases.len() >= 300, "the differential suite keeps its cases");
    let mut mismatches = Vec::new();
    for case in doc.cases.iter().filter(|c| c.known_difference.is_none()) {
        let got = run(case);
        let ok = match (&got, case.error) {
            (Err(_), true) => true,
            (Ok(out), false) => Some(out) == case.expected.as_ref(),
            _ => false,
        };
        if !ok {
            let want = if case.error { "an error".to_string() } else { format!("{:?}", case.expected) };
            mismatches.push(format!("{}\n  template: {:?}\n  want: {want}\n  got:  {got:?}", case.name, case.template));
        }
    }
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
}

//! What Shopify themes use beyond the reference Liquid: the `json` filter and
//! the `section` and `schema` tags.

use std::collections::HashMap;

use omnistore_liquid::{ParseOptions, RenderOptions, Template, Value};

fn render(source: &str, data: serde_json::Value, partials: &HashMap<String, String>) -> Result<String, String> {
    let template = Template::parse(source, &ParseOptions::default()).map_err(|e| e.to_string())?;
    template.render(&Value::from(data), &RenderOptions::default().with_partials(partials)).map_err(|e| e.to_string())
}

#[test]
fn json_writes_json_that_is_safe_inside_a_script_element() {
    let data = serde_json::json!({
        "product": { "title": "Cannolo </script><b>&", "price": 350, "tags": ["a", "b"], "ok": true, "none": null, "f": 1.5 }
    });
    let out = render("{{ product | json }}", data.clone(), &HashMap::new()).unwrap();
    assert!(!out.contains('<') && !out.contains('>') && !out.contains('&'), "{out}");
    let back: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(back, data["product"]);
    assert_eq!(render("{{ (1..3) | json }}", serde_json::json!({}), &HashMap::new()).unwrap(), "[1,2,3]");
    assert_eq!(render("{{ missing | json }}", serde_json::json!({}), &HashMap::new()).unwrap(), "null");
    assert!(render("{{ 1 | json: 2 }}", serde_json::json!({}), &HashMap::new()).is_err());
}

#[test]
fn json_keeps_the_order_in_which_an_object_was_built_as_shopify_does() {
    let mut product = omnistore_liquid::Object::new();
    for (key, value) in [("title", Value::str("Cannolo")), ("price", Value::Int(350)), ("available", Value::Bool(true))]
    {
        product.insert(key, value);
    }
    let mut globals = omnistore_liquid::Object::new();
    globals.insert("product", Value::object(product));
    let template = Template::parse("{{ product | json }}", &ParseOptions::default()).unwrap();
    let out = template.render(&Value::object(globals), &RenderOptions::default()).unwrap();
    assert_eq!(out, r#"{"title":"Cannolo","price":350,"available":true}"#);
}

#[test]
fn section_renders_the_partial_from_sections_in_isolation() {
    let partials: HashMap<String, String> = [
        ("sections/header".to_string(), "<header>{{ shop_name }}|{{ secret }}</header>".to_string()),
        ("header".to_string(), "snippet".to_string()),
    ]
    .into();
    let out = render(
        "{% assign secret = 'x' %}{% section 'header' %}",
        serde_json::json!({ "shop_name": "Dolce Vita" }),
        &partials,
    )
    .unwrap();
    // Isolated as `render` is: neither the template's variables nor assigns leak in.
    assert_eq!(out, "<header>|</header>");
    let missing = render("{% section 'footer' %}", serde_json::json!({}), &partials).unwrap_err();
    assert!(missing.contains("sections/footer"), "{missing}");
    let bad = Template::parse("{% section %}", &ParseOptions::default()).unwrap_err().to_string();
    assert!(bad.contains("line 1"), "{bad}");
}

#[test]
fn schema_is_kept_out_of_the_output() {
    let out =
        render("a{% schema %}{\"name\": \"{{ not liquid }}\"}{% endschema %}b", serde_json::json!({}), &HashMap::new())
            .unwrap();
    assert_eq!(out, "ab");
    let unclosed = Template::parse("{% schema %}{}", &ParseOptions::default()).unwrap_err().to_string();
    assert!(unclosed.contains("schema"), "{unclosed}");
}

/// A page's money format and language reach filters through the render, so a
/// template parsed once renders every page, partials included, each with its own.
#[test]
fn filters_read_each_renders_own_context_in_partials_too() {
    use omnistore_liquid::{FilterArgs, ParsedPartials};
    struct Page {
        currency: &'static str,
    }
    let options = ParseOptions::default().with_filter("money", |v: &Value, a: &FilterArgs<'_>| {
        let page = a.context::<Page>().ok_or("money needs the page being rendered")?;
        Ok(Value::from(format!("{} {}", v.render(), page.currency)))
    });
    let mut partials = ParsedPartials::new();
    partials.add("price", "[{{ amount | money }}]", &options).unwrap();
    let template = Template::parse("{{ 5 | money }}{% render 'price', amount: 7 %}", &options).unwrap();
    let render = |page: Option<&Page>| {
        let mut opts = RenderOptions::default().with_partials(&partials);
        if let Some(page) = page {
            opts = opts.with_context(page);
        }
        template.render(&Value::Nil, &opts).map_err(|e| e.to_string())
    };
    assert_eq!(render(Some(&Page { currency: "EUR" })).unwrap(), "5 EUR[7 EUR]");
    assert_eq!(render(Some(&Page { currency: "USD" })).unwrap(), "5 USD[7 USD]");
    // Another type of context is no context: the filter says what it lacks.
    let other = RenderOptions::default().with_context(&42_u8);
    let wrong = template.render(&Value::Nil, &other).unwrap_err().to_string();
    assert!(wrong.contains("money needs the page being rendered"), "{wrong}");
    assert!(render(None).unwrap_err().contains("money needs the page being rendered"));
}

//! A merchant's theme is untrusted: bad templates must end in readable errors,
//! never in a panic, a stack overflow or an exhausted host.

use std::collections::HashMap;

use omnistore_liquid::{Error, ParseOptions, RenderOptions, Template, Value};

fn parse(src: &str) -> Result<Template, Error> {
    Template::parse(src, &ParseOptions::default())
}

fn render_with(src: &str, options: &RenderOptions<'_>) -> Result<String, Error> {
    parse(src)?.render(&Value::Nil, options)
}

fn expect_limit(result: Result<String, Error>) -> String {
    match result {
        Err(e @ Error::Limit(_)) => {
            let text = e.to_string();
            assert!(text.starts_with("Liquid error: "), "readable: {text}");
            text
        }
        other => panic!("expected a limit error, got {other:?}"),
    }
}

#[test]
fn syntax_errors_name_the_line() {
    let err = parse("Hello\n{{ name }}\n{% fro x in y %}{% endfro %}").unwrap_err();
    assert_eq!(err, Error::Syntax { line: 3, message: "unknown tag 'fro'".into() });
    assert_eq!(err.to_string(), "Liquid syntax error (line 3): unknown tag 'fro'");

    let err = parse("a\nb\n\n{% if x %}\nnever closed").unwrap_err();
    assert!(matches!(err, Error::Syntax { line: 4, .. }), "{err}");
    assert!(err.to_string().contains("'if' tag was never closed"), "{err}");

    let err = parse("{% for x in xs %}\n{{ x | }}\n{% endfor %}").unwrap_err();
    assert!(matches!(err, Error::Syntax { line: 2, .. }), "{err}");

    let err = parse("{% liquid\n  assign a = 1\n  echo a |\n%}").unwrap_err();
    assert!(matches!(err, Error::Syntax { line: 3, .. }), "{err}");
}

#[test]
fn malformed_delimiters_are_syntax_errors() {
    for src in
        ["{{", "{%", "{{ x }", "{% if", "text {{ a", "{{ 'x' }}{% %}", "{% endif %}", "{% else %}", "{{ 1 + 2 }}"]
    {
        assert!(matches!(parse(src), Err(Error::Syntax { .. })), "{src:?} should be a syntax error");
    }
}

#[test]
fn render_errors_name_the_line() {
    let err = render_with("ok\n{{ 1 | divided_by: 0 }}", &RenderOptions::default()).unwrap_err();
    assert_eq!(err.to_string(), "Liquid error (line 2): divided_by: divided by 0");
}

#[test]
fn loop_iterations_are_limited_across_the_render() {
    let options = RenderOptions { max_loop_iterations: 10_000, ..RenderOptions::default() };
    let text = expect_limit(render_with("{% for i in (1..1000000000000) %}x{% endfor %}", &options));
    assert!(text.contains("loop limit"), "{text}");
    // Nested loops multiply; each is small, the total is not.
    expect_limit(render_with("{% for a in (1..1000) %}{% for b in (1..1000) %}{% endfor %}{% endfor %}", &options));
    // Sequential loops add up too.
    let src = "{% for a in (1..6000) %}{% endfor %}{% for b in (1..6000) %}{% endfor %}";
    expect_limit(render_with(src, &options));
    // Turning a huge range into an array spends the same budget.
    expect_limit(render_with("{{ (1..1000000000000) | join: ',' }}", &options));
    assert!(render_with("{% for a in (1..100) %}{% endfor %}", &options).is_ok());
}

#[test]
fn output_is_limited() {
    let options = RenderOptions { max_output_bytes: 1000, ..RenderOptions::default() };
    let text = expect_limit(render_with("{% for i in (1..100000) %}xxxxxxxxxx{% endfor %}", &options));
    assert!(text.contains("output limit"), "{text}");
    // Captures count too.
    expect_limit(render_with("{% capture c %}{% for i in (1..1000) %}xx{% endfor %}{% endcapture %}", &options));
}

#[test]
fn doubling_values_is_stopped() {
    let options = RenderOptions::default();
    expect_limit(render_with(
        "{% assign s = 'x' %}{% for i in (1..64) %}{% assign s = s | append: s %}{% endfor %}{{ s | size }}",
        &options,
    ));
    expect_limit(render_with(
        "{% assign a = 'x' | split: ',' %}{% for i in (1..64) %}{% assign a = a | concat: a %}{% endfor %}{{ a | size }}",
        &options,
    ));
    // Quadratic building is bounded by the total work budget.
    let small = RenderOptions { max_work_bytes: 1 << 20, ..RenderOptions::default() };
    expect_limit(render_with(
        "{% assign s = '' %}{% for i in (1..100000) %}{% assign s = s | append: 'xxxxxxxxxx' %}{% endfor %}",
        &small,
    ));
}

#[test]
fn partial_recursion_is_limited() {
    let partials: HashMap<String, String> = [
        ("self".to_string(), "x{% include 'self' %}".to_string()),
        ("iso".to_string(), "y{% render 'iso' %}".to_string()),
        ("ping".to_string(), "{% include 'pong' %}".to_string()),
        ("pong".to_string(), "{% include 'ping' %}".to_string()),
    ]
    .into();
    let options = RenderOptions::default().with_partials(&partials);
    let text = expect_limit(render_with("{% include 'self' %}", &options));
    assert!(text.contains("partials nested"), "{text}");
    expect_limit(render_with("{% render 'iso' %}", &options));
    expect_limit(render_with("{% include 'ping' %}", &options));
}

#[test]
fn oversized_templates_are_refused() {
    let mut options = ParseOptions::default();
    options.max_template_bytes = 100;
    let err = Template::parse(&"x".repeat(101), &options).unwrap_err();
    assert!(err.to_string().starts_with("Liquid error: template is 101 bytes"), "{err}");

    let partials: HashMap<String, String> = [("big".to_string(), "y".repeat(200))].into();
    let render = RenderOptions { max_template_bytes: 100, ..RenderOptions::default() }.with_partials(&partials);
    expect_limit(render_with("{% include 'big' %}", &render));
}

/// Runs `f` on a thread with a small stack, like a wasm guest's.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(1 << 20).spawn(f).expect("thread starts").join().expect("no crash")
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    on_small_stack(|| {
        let deep_ifs = "{% if true %}".repeat(20_000) + &"{% endif %}".repeat(20_000);
        let err = parse(&deep_ifs).unwrap_err();
        assert!(err.to_string().contains("nested more than"), "{err}");

        let deep_brackets = format!("{{{{ {}x{} }}}}", "a[".repeat(10_000), "]".repeat(10_000));
        assert!(matches!(parse(&deep_brackets), Err(Error::Syntax { .. })));

        let deep_ranges = format!("{{{{ {}1{} }}}}", "(1..".repeat(10_000), ")".repeat(10_000));
        assert!(matches!(parse(&deep_ranges), Err(Error::Syntax { .. })));

        let long_chain = format!("{{% if {} true %}}y{{% endif %}}", "false or ".repeat(50_000));
        assert_eq!(render_with(&long_chain, &RenderOptions::default()).unwrap(), "y");

        // Within the parse limit, nesting through partials is bounded at render time.
        let nested = "{% if true %}".repeat(60) + "{% include 'me' %}" + &"{% endif %}".repeat(60);
        let partials: HashMap<String, String> = [("me".to_string(), nested.clone())].into();
        let options = RenderOptions::default().with_partials(&partials);
        expect_limit(render_with(&nested, &options));

        let deep_for = "{% for i in (1..2) %}".repeat(60) + "x" + &"{% endfor %}".repeat(60);
        let options = RenderOptions { max_loop_iterations: 1000, ..RenderOptions::default() };
        expect_limit(render_with(&deep_for, &options));
    });
}

#[test]
fn deep_data_renders() {
    on_small_stack(|| {
        let mut json = String::new();
        for _ in 0..100 {
            json.push('[');
        }
        json.push('1');
        for _ in 0..100 {
            json.push(']');
        }
        let data: Value = serde_json::from_str(&format!("{{\"a\": {json}}}")).expect("json parses");
        let out = parse("{{ a }}{{ a | join: ',' }}{{ a | size }}").unwrap().render(&data, &RenderOptions::default());
        assert_eq!(out.unwrap(), "111");
    });
}

#[test]
fn templates_are_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Template>();
    let t = std::sync::Arc::new(parse("{{ n | times: 2 }}").unwrap());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let t = t.clone();
            std::thread::spawn(move || {
                let data: Value = serde_json::json!({ "n": i }).into();
                t.render(&data, &RenderOptions::default()).unwrap()
            })
        })
        .collect();
    let outputs: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(outputs, ["0", "2", "4", "6"]);
}

#[test]
fn unterminated_delimiters_tokenize_in_linear_time() {
    // Each unterminated `{{` or `{%` must not rescan the rest of the template.
    for piece in ["{{", "{%", "{{ a {%", "{%{{"] {
        let src = piece.repeat(200_000);
        let started = std::time::Instant::now();
        let _ = parse(&src);
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{piece:?} took {:?}", started.elapsed());
    }
}

#[test]
fn inline_errors_keep_rendering() {
    let options = RenderOptions { inline_errors: true, ..RenderOptions::default() };
    let out = render_with("a{{ 1 | divided_by: 0 }}b{% if '1' > 1 %}{% endif %}c", &options).unwrap();
    assert_eq!(
        out,
        "aLiquid error (line 1): divided_by: divided by 0bLiquid error (line 1): comparison of String with Integer failedc"
    );
    // Limits still stop everything.
    let options = RenderOptions { inline_errors: true, max_loop_iterations: 10, ..RenderOptions::default() };
    expect_limit(render_with("{% for i in (1..100) %}{% endfor %}", &options));
}

#[test]
fn multiplying_filters_are_stopped_before_allocating() {
    let options = RenderOptions { max_output_bytes: 1 << 20, ..RenderOptions::default() };
    let big = "{% capture big %}{% for i in (1..1000) %}xxxxxxxxxx{% endfor %}{% endcapture %}";
    // Every character gets a copy of a 10 kB string.
    expect_limit(render_with(&format!("{big}{{{{ big | replace: '', big }}}}"), &options));
    // A long glue between many items.
    expect_limit(render_with(&format!("{big}{{{{ (1..1000) | join: big }}}}"), &options));
    // Many shared copies of one big string, rendered as one array.
    let doubled = format!(
        "{big}{{% assign a = big | split: '!' %}}{{% for i in (1..12) %}}{{% assign a = a | concat: a %}}{{% endfor %}}"
    );
    expect_limit(render_with(&format!("{doubled}{{{{ a }}}}"), &options));
    expect_limit(render_with(&format!("{doubled}{{{{ a | append: 'x' }}}}"), &options));
    // Absurd strftime widths are capped rather than allocated.
    let out = render_with("{{ 0 | date: '%999999999999Y' }}", &RenderOptions::default()).unwrap();
    assert!(out.len() <= 64, "{out:?}");
    assert!(render_with("{{ '99999999999999-01-01' | date: '%Y' }}", &RenderOptions::default()).is_ok());
    assert!(render_with("{{ 9223372036854775807 | date: '%c %G %V' }}", &RenderOptions::default()).is_ok());
    assert!(
        render_with(
            "{{ 'x' | truncate: -9223372036854775808 }}{{ 'a b' | truncatewords: 9223372036854775807 }}",
            &RenderOptions::default()
        )
        .is_ok()
    );
}

#[test]
fn odd_tokens_inside_raw_and_doc() {
    for src in [
        "{% raw %}{{%}{% endraw %}",
        "{% doc %}{{%}{{%}}{% enddoc %}",
        "{% comment %}{{%}{% endcomment %}",
        "{% raw %}{%}",
        "{%}{%}",
    ] {
        let _ = parse(src);
    }
}

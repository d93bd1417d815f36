//! Random templates built from Liquid-ish pieces: parsing and rendering them must
//! never panic, whatever the outcome.

use std::collections::HashMap;

use omnistore_liquid::{ParseOptions, RenderOptions, Template, Value};
use proptest::prelude::*;

const PIECES: &[&str] = &[
    "{{",
    "}}",
    "{%",
    "%}",
    "{{-",
    "-}}",
    "{%-",
    "-%}",
    "{{%}",
    "{%}",
    "{",
    "}",
    "%",
    "-",
    " ",
    "\n",
    "\r",
    "\t",
    "if",
    "elsif",
    "else",
    "endif",
    "unless",
    "endunless",
    "for",
    "endfor",
    "in",
    "reversed",
    "limit:",
    "offset:",
    "continue",
    "break",
    "case",
    "when",
    "endcase",
    "assign",
    "=",
    "capture",
    "endcapture",
    "raw",
    "endraw",
    "comment",
    "endcomment",
    "doc",
    "enddoc",
    "#",
    "liquid",
    "echo",
    "cycle",
    "tablerow",
    "endtablerow",
    "cols:",
    "include",
    "render",
    "with",
    "as",
    "'p'",
    "'q'",
    "increment",
    "decrement",
    "ifchanged",
    "endifchanged",
    "x",
    "xs",
    "h",
    "forloop",
    "tablerowloop",
    "index",
    "parentloop",
    ".",
    "[",
    "]",
    "(",
    ")",
    "..",
    "|",
    ":",
    ",",
    "'a'",
    "\"b\"",
    "'",
    "\"",
    "0",
    "1",
    "-1",
    "2.5",
    "1e9",
    "999999999999",
    "==",
    "!=",
    "<>",
    "<",
    ">=",
    "contains",
    "and",
    "or",
    "nil",
    "true",
    "false",
    "empty",
    "blank",
    "size",
    "first",
    "last",
    "upcase",
    "append",
    "plus",
    "minus",
    "times",
    "divided_by",
    "modulo",
    "round",
    "split",
    "join",
    "map",
    "where",
    "sort",
    "sort_natural",
    "uniq",
    "reverse",
    "slice",
    "truncate",
    "truncatewords",
    "date",
    "default",
    "allow_false",
    "replace",
    "concat",
    "sum",
    "has",
    "find",
    "reject",
    "base64_decode",
    "url_decode",
    "strip_html",
    "escape",
    "nosuchfilter",
    "é",
    "😀",
    "\u{0}",
    "%Y-%m-%d",
    "%-d %^B %10A",
];

fn template() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..48).prop_map(|pieces| pieces.concat())
}

fn data() -> Value {
    serde_json::json!({
        "x": 1,
        "xs": [3, "a", null, 2.5, [1, 2], {"k": "v"}],
        "h": {"a": 1, "b": [1, 2], "c": {"d": "e"}},
    })
    .into()
}

const LEAVES: &[&str] = &[
    "text ",
    "\n",
    "{{ x }}",
    "{{ xs | join: ',' }}",
    "{{ h.b[1] | plus: 2.5 }}",
    "{% assign y = x | plus: 1 %}",
    "{{ y }}",
    "{% cycle 'a', 'b' %}",
    "{% increment c %}",
    "{% decrement c %}",
    "{% break %}",
    "{% continue %}",
    "{{ forloop.index }}{{ forloop.parentloop.last }}",
    "{{ tablerowloop.col }}",
    "{% include 'p' %}",
    "{% render 'q' %}",
    "{{ xs | sort_natural | first }}",
    "{{ 'now' | date: '%F' }}",
    "{%- echo h | map: 'a' -%}",
    "{{ x | divided_by: 0 }}",
    "{% raw %}{{ x }}{% endraw %}",
    "{% comment %}c{% endcomment %}",
    "{% # note %}",
    "{{ xs | where: 'k' | size }}",
];

const BLOCKS: &[(&str, &str)] = &[
    ("{% if x %}", "{% else %}!{% endif %}"),
    ("{% unless x == 2 %}", "{% endunless %}"),
    ("{% for i in xs %}", "{% else %}empty{% endfor %}"),
    ("{% for i in (1..3) reversed limit: 2 %}", "{% endfor %}"),
    ("{% for i in xs offset: continue %}", "{% endfor %}"),
    ("{% case x %}{% when 1, 2 %}", "{% else %}other{% endcase %}"),
    ("{% capture y %}", "{% endcapture %}"),
    ("{% tablerow i in xs cols: 2 %}", "{% endtablerow %}"),
    ("{% ifchanged %}", "{% endifchanged %}"),
    ("{%- if h.c.d contains 'e' and x or false -%}", "{%- endif -%}"),
];

/// Well-formed templates, so that rendering (not just parsing) gets exercised.
fn structured() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(LEAVES).prop_map(str::to_string);
    leaf.prop_recursive(6, 64, 6, |inner| {
        (prop::sample::select(BLOCKS), prop::collection::vec(inner, 0..6))
            .prop_map(|((open, close), body)| format!("{open}{}{close}", body.concat()))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn parse_and_render_never_panic(src in template()) {
        let partials: HashMap<String, String> = [
            ("p".to_string(), src.clone()),
            ("q".to_string(), "{% include 'p' %}{% render 'q' %}".to_string()),
        ]
        .into();
        let options = RenderOptions {
            max_loop_iterations: 2_000,
            max_output_bytes: 64 << 10,
            max_work_bytes: 1 << 20,
            now: Some(1_700_000_000),
            ..RenderOptions::default()
        }
        .with_partials(&partials);
        if let Ok(t) = Template::parse(&src, &ParseOptions::default()) {
            let _ = t.render(&data(), &options);
        }
    }

    #[test]
    fn well_formed_templates_render(src in structured()) {
        let partials: HashMap<String, String> = [
            ("p".to_string(), "{{ x }}{% include 'p' %}".to_string()),
            ("q".to_string(), src.clone()),
        ]
        .into();
        let options = RenderOptions {
            max_loop_iterations: 5_000,
            max_work_bytes: 1 << 20,
            now: Some(0),
            ..RenderOptions::default()
        }
        .with_partials(&partials);
        let t = Template::parse(&src, &ParseOptions::default());
        prop_assert!(t.is_ok(), "{src}: {t:?}");
        if let Ok(t) = t {
            let _ = t.render(&data(), &options);
        }
    }

    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,64}") {
        if let Ok(t) = Template::parse(&src, &ParseOptions::default()) {
            let _ = t.render(&data(), &RenderOptions::default());
        }
    }
}

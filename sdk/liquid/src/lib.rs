//! A Liquid template engine with the semantics of Shopify's Liquid (the Ruby reference
//! implementation), for themes rendered inside plugins and on the host.
//!
//! Templates are parsed once and rendered many times. A theme is untrusted input:
//! parsing and rendering never panic, and every render runs under limits
//! ([`RenderOptions`]) that end it with a readable error instead of exhausting the host.
//!
//! ```
//! use omnistore_liquid::{ParseOptions, RenderOptions, Template, Value};
//!
//! let template = Template::parse(
//!     "{% for p in products %}{{ p.title | upcase }}{% unless forloop.last %}, {% endunless %}{% endfor %}",
//!     &ParseOptions::default(),
//! )?;
//! let data: Value = serde_json::json!({ "products": [{ "title": "hat" }, { "title": "scarf" }] }).into();
//! assert_eq!(template.render(&data, &RenderOptions::default())?, "HAT, SCARF");
//! # Ok::<(), omnistore_liquid::Error>(())
//! ```
//!
//! Plugins add their own filters (`money`, `t`, `asset_url`...) through
//! [`ParseOptions::with_filter`], and give `include`/`render` their snippets through a
//! [`PartialSource`] ([`ParsedPartials`] parses them once for every render):
//!
//! ```
//! use omnistore_liquid::{FilterArgs, ParseOptions, ParsedPartials, RenderOptions, Template, Value};
//!
//! let money = |input: &Value, args: &FilterArgs<'_>| -> Result<Value, String> {
//!     let cents = match input {
//!         Value::Int(c) => *c,
//!         _ => return Err("money needs an amount in cents".into()),
//!     };
//!     let currency = args.get(0).as_str().unwrap_or("EUR");
//!     Ok(Value::from(format!("{}.{:02} {currency}", cents / 100, cents % 100)))
//! };
//! let options = ParseOptions::default().with_filter("money", money);
//! let mut snippets = ParsedPartials::new();
//! snippets.add("price", "<b>{{ amount | money: 'USD' }}</b>", &options)?;
//!
//! let page = Template::parse("{% render 'price', amount: product.price %}", &options)?;
//! let data: Value = serde_json::json!({ "product": { "price": 1999 } }).into();
//! let out = page.render(&data, &RenderOptions::default().with_partials(&snippets))?;
//! assert_eq!(out, "<b>19.99 USD</b>");
//! # Ok::<(), omnistore_liquid::Error>(())
//! ```
//!
//! A filter that depends on the render (the page's currency, its language) reads
//! it from the render's context instead of capturing it, so one parsed template
//! serves every page:
//!
//! ```
//! use omnistore_liquid::{FilterArgs, ParseOptions, RenderOptions, Template, Value};
//!
//! struct Page { currency: &'static str }
//! let options = ParseOptions::default().with_filter("money", |input: &Value, args: &FilterArgs<'_>| {
//!     let page = args.context::<Page>().ok_or("money needs the page")?;
//!     Ok(Value::from(format!("{} {}", input.render(), page.currency)))
//! });
//! let template = Template::parse("{{ 12 | money }}", &options)?;
//! let euro = RenderOptions::default().with_context(&Page { currency: "EUR" });
//! let dollar = RenderOptions::default().with_context(&Page { currency: "USD" });
//! assert_eq!(template.render(&Value::Nil, &euro)?, "12 EUR");
//! assert_eq!(template.render(&Value::Nil, &dollar)?, "12 USD");
//! # Ok::<(), omnistore_liquid::Error>(())
//! ```

use std::any::Any;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

mod ast;
pub mod conformance;
mod date;
mod error;
mod expr;
mod filters;
mod lexer;
mod number;
mod parser;
mod render;
mod value;

pub use date::civil_from_days;
pub use error::Error;
pub use filters::FilterArgs;
pub use value::{Object, Value};

/// What the `escape` filter does: HTML-escape text for element content and
/// quoted attribute values.
pub fn escape_html(text: &str) -> String {
    filters::escape_html(text)
}

/// `value` as JSON that can sit inside a `<script>` element (even one
/// holding `</script>` in a string) and stay the same JSON: `<`, `>` and `&`
/// are written `\u003c`, `\u003e` and `\u0026`. What the `json` filter writes.
pub fn script_safe_json(value: &impl serde::Serialize) -> Result<String, serde_json::Error> {
    let text = serde_json::to_string(value)?;
    if !text.contains(['<', '>', '&']) {
        return Ok(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// A filter a caller adds: `{{ price | money: "EUR" }}` calls it with the price and the arguments.
///
/// An `Err` ends the render with a `Liquid error` carrying the message.
pub trait Filter: Send + Sync {
    fn apply(&self, input: &Value, args: &FilterArgs<'_>) -> Result<Value, String>;
}

impl<F> Filter for F
where
    F: Fn(&Value, &FilterArgs<'_>) -> Result<Value, String> + Send + Sync,
{
    fn apply(&self, input: &Value, args: &FilterArgs<'_>) -> Result<Value, String> {
        self(input, args)
    }
}

/// Where `{% include 'name' %}` and `{% render 'name' %}` find their templates
/// (a theme's `snippets/`).
pub trait PartialSource {
    /// The source of the partial called `name`, or `None` if there is none.
    fn get(&self, name: &str) -> Option<Cow<'_, str>>;

    /// The partial already parsed, if this source keeps parsed templates; otherwise the
    /// render parses [`PartialSource::get`]'s source (once per render).
    fn parsed(&self, name: &str) -> Option<Template> {
        let _ = name;
        None
    }
}

/// Partials parsed once and reused by every render: a theme's snippets.
#[derive(Debug, Clone, Default)]
pub struct ParsedPartials {
    templates: HashMap<String, Template>,
}

impl ParsedPartials {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses `source` as the partial `name`.
    pub fn add(&mut self, name: &str, source: &str, options: &ParseOptions) -> Result<(), Error> {
        self.templates.insert(name.to_string(), Template::parse(source, options)?);
        Ok(())
    }
}

impl PartialSource for ParsedPartials {
    fn get(&self, _name: &str) -> Option<Cow<'_, str>> {
        None
    }

    fn parsed(&self, name: &str) -> Option<Template> {
        self.templates.get(name).cloned()
    }
}

impl PartialSource for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        HashMap::get(self, name).map(|s| Cow::Borrowed(s.as_str()))
    }
}

impl PartialSource for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        BTreeMap::get(self, name).map(|s| Cow::Borrowed(s.as_str()))
    }
}

/// Partials looked up by a closure.
pub struct PartialFn<F>(pub F);

impl<F: Fn(&str) -> Option<String>> PartialSource for PartialFn<F> {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        (self.0)(name).map(Cow::Owned)
    }
}

/// How templates are parsed: the filters they may call and the parse-time limits.
#[derive(Clone)]
pub struct ParseOptions {
    filters: HashMap<String, Arc<dyn Filter>>,
    /// Refuse templates that call a filter nobody defined (Liquid ignores them by default).
    pub strict_filters: bool,
    /// Longest template source accepted, in bytes.
    pub max_template_bytes: usize,
    /// Deepest nesting of block tags accepted; bounds the parser's and renderer's stack.
    pub max_nesting_depth: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            filters: HashMap::new(),
            strict_filters: false,
            max_template_bytes: 1 << 20,
            max_nesting_depth: 64,
        }
    }
}

impl fmt::Debug for ParseOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.filters.keys().collect();
        names.sort();
        f.debug_struct("ParseOptions")
            .field("filters", &names)
            .field("strict_filters", &self.strict_filters)
            .field("max_template_bytes", &self.max_template_bytes)
            .field("max_nesting_depth", &self.max_nesting_depth)
            .finish()
    }
}

impl ParseOptions {
    /// Adds (or replaces, standard ones included) the filter `name`.
    pub fn with_filter(mut self, name: &str, filter: impl Filter + 'static) -> Self {
        self.filters.insert(name.to_string(), Arc::new(filter));
        self
    }
}

pub(crate) type Config = ParseOptions;

impl Config {
    pub(crate) fn lookup_filter(&self, name: &str) -> ast::FilterFn {
        if let Some(f) = self.filters.get(name) {
            return ast::FilterFn::Custom(f.clone());
        }
        match filters::builtin(name) {
            Some(f) => ast::FilterFn::Builtin(f),
            None => ast::FilterFn::Unknown,
        }
    }
}

/// What a render may use and how far it may go.
#[derive(Clone, Copy)]
pub struct RenderOptions<'a> {
    /// Supplies `include` and `render` templates; without it those tags fail.
    pub partials: Option<&'a dyn PartialSource>,
    /// The clock, in seconds since the Unix epoch, for `"now" | date: ...`.
    /// Without it, "now" and "today" are left as they are.
    pub now: Option<i64>,
    /// Values visible everywhere, `render`ed partials included (Liquid's static environment).
    /// The data passed to [`Template::render`] is not visible inside `{% render %}`.
    pub shared: Option<&'a Value>,
    /// What custom filters read of this render ([`FilterArgs::context`]).
    pub context: Option<&'a (dyn Any + Send + Sync)>,
    /// Longest output (or captured text) allowed, in bytes.
    pub max_output_bytes: usize,
    /// All the text a render may produce, captures and filter results included, in bytes.
    pub max_work_bytes: u64,
    /// Loop iterations allowed in the whole render, partials included.
    pub max_loop_iterations: u64,
    /// How deep `include`/`render` may nest.
    pub max_partial_depth: usize,
    /// How deep blocks may nest in a render, counting through partials.
    pub max_render_depth: usize,
    /// Longest partial source accepted, in bytes.
    pub max_template_bytes: usize,
    /// Render errors (not limits) show up in the output as `Liquid error (line N): ...`
    /// and the render goes on, as Shopify's lax rendering does. Off by default.
    pub inline_errors: bool,
}

impl Default for RenderOptions<'_> {
    fn default() -> Self {
        RenderOptions {
            partials: None,
            now: None,
            shared: None,
            context: None,
            max_output_bytes: 8 << 20,
            max_work_bytes: 64 << 20,
            max_loop_iterations: 1_000_000,
            max_partial_depth: 16,
            max_render_depth: 96,
            max_template_bytes: 1 << 20,
            inline_errors: false,
        }
    }
}

impl fmt::Debug for RenderOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RenderOptions")
            .field("partials", &self.partials.is_some())
            .field("now", &self.now)
            .field("context", &self.context.is_some())
            .field("max_output_bytes", &self.max_output_bytes)
            .field("max_work_bytes", &self.max_work_bytes)
            .field("max_loop_iterations", &self.max_loop_iterations)
            .field("max_partial_depth", &self.max_partial_depth)
            .field("max_render_depth", &self.max_render_depth)
            .field("max_template_bytes", &self.max_template_bytes)
            .field("inline_errors", &self.inline_errors)
            .finish()
    }
}

impl<'a> RenderOptions<'a> {
    pub fn with_partials(mut self, partials: &'a dyn PartialSource) -> Self {
        self.partials = Some(partials);
        self
    }

    pub fn with_now(mut self, now: i64) -> Self {
        self.now = Some(now);
        self
    }

    /// Gives custom filters `context` for this render ([`FilterArgs::context`]).
    pub fn with_context<T: Any + Send + Sync>(mut self, context: &'a T) -> Self {
        self.context = Some(context);
        self
    }
}

/// A parsed template: `Send + Sync`, render it as often as needed.
#[derive(Debug, Clone)]
pub struct Template {
    nodes: Arc<Vec<ast::Node>>,
    config: Arc<Config>,
}

impl Template {
    /// Parses `source`. Syntax errors carry the line they are on.
    pub fn parse(source: &str, options: &ParseOptions) -> Result<Template, Error> {
        if source.len() > options.max_template_bytes {
            return Err(Error::Limit(format!(
                "template is {} bytes, more than the {} allowed",
                source.len(),
                options.max_template_bytes
            )));
        }
        let nodes = parser::parse_document(source, options)?;
        Ok(Template { nodes: Arc::new(nodes), config: Arc::new(options.clone()) })
    }

    /// Renders with `globals` as the template's variables (an object; anything else is no variables).
    pub fn render(&self, globals: &Value, options: &RenderOptions<'_>) -> Result<String, Error> {
        render::render(self, globals, options)
    }

    /// Renders with variables from JSON.
    pub fn render_json(&self, globals: &serde_json::Value, options: &RenderOptions<'_>) -> Result<String, Error> {
        self.render(&Value::from(globals), options)
    }
}

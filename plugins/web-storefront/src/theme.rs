//! The theme: the bundled default files, overridden file by file by the
//! merchant's files (drafts in preview), parsed and rendered into the layout.
//!
//! What is made from a file's text (parsed templates, locale and settings
//! JSON) is kept for as long as the instance lives, and used again while the
//! file's text is the same: the host keeps this plugin's instances warm per
//! installation (`instances = "warm"` in its manifest), so a busy shop parses
//! its theme once, not on every page. Every request still reads the
//! merchant's files, so a changed file is seen at once. Filters take the
//! page (money format, translations, base path) from the render, never from
//! the parsed template, which is what lets one parse serve every page.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

use omnistore_sdk::templates::{self, Object, ParseOptions, PartialSource, RenderOptions, Template, Value};
use omnistore_sdk::{PluginError, Response, files, html};

use crate::bundled::{THEME_FILES, THEME_VERSION};
use crate::context::{Ctx, origin_of};
use crate::filters::{self, FilterContext};
use crate::fnv::{FNV_START, fnv1a};
use crate::i18n::Translations;

/// Values made from theme files' text, kept across the calls of a warm instance.
#[derive(Default)]
struct Kept {
    templates: KeptByText<Template>,
    locales: KeptByText<Arc<serde_json::Value>>,
    settings: Option<KeptSettings>,
}

/// `settings`, with the texts of the schema and the data it was made from.
type KeptSettings = (Option<Cow<'static, str>>, Option<Cow<'static, str>>, Value);

/// Per path, the text a value was made from and the value.
struct KeptByText<T> {
    entries: HashMap<String, (Cow<'static, str>, T)>,
}

impl<T> Default for KeptByText<T> {
    fn default() -> Self {
        KeptByText { entries: HashMap::new() }
    }
}

impl<T: Clone> KeptByText<T> {
    /// The value made from `text`, made now if `path` had none or had another text.
    /// Failures are not kept: a broken file is tried again next time.
    fn get_or_make<E>(
        &mut self,
        path: &str,
        text: Cow<'static, str>,
        make: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, E> {
        if let Some((kept, value)) = self.entries.get(path)
            && same_text(kept, &text)
        {
            return Ok(value.clone());
        }
        let value = make(&text)?;
        self.entries.insert(path.to_string(), (text, value.clone()));
        Ok(value)
    }
}

/// Whether two texts are the same; the bundled files are the same static
/// text on every request, which needs no comparing byte by byte.
fn same_text(a: &str, b: &str) -> bool {
    (a.as_ptr() == b.as_ptr() && a.len() == b.len()) || a == b
}

thread_local! {
    static KEPT: RefCell<Kept> = RefCell::new(Kept::default());
}

/// The storefront's filters, made once per instance.
fn parse_options() -> &'static ParseOptions {
    static OPTIONS: OnceLock<ParseOptions> = OnceLock::new();
    OPTIONS.get_or_init(filters::options)
}

/// A theme file that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl Fault {
    fn from_liquid(file: &str, error: &templates::Error) -> Fault {
        let (line, message) = match error {
            templates::Error::Syntax { line, message } | templates::Error::Render { line, message } => {
                (Some(*line), message.clone())
            }
            templates::Error::Limit(message) => (None, message.clone()),
        };
        Fault { file: file.to_string(), line, message }
    }
}

/// The version in asset URLs: the bundled theme's, mixed with the bytes of
/// every asset the merchant overrides, so a changed file gets a new URL and
/// browsers may keep each URL for good. Only shops that override assets pay
/// for reading them on each page.
fn asset_version(overrides: &BTreeSet<String>, use_overrides: bool) -> String {
    let mut assets = overrides.iter().filter(|p| use_overrides && p.starts_with("assets/")).peekable();
    if assets.peek().is_none() {
        return THEME_VERSION.to_string();
    }
    let mut hash = fnv1a(FNV_START, THEME_VERSION.as_bytes());
    for path in assets {
        hash = fnv1a(hash, path.as_bytes());
        hash = fnv1a(hash, &files::get(path).ok().flatten().unwrap_or_default());
        hash = fnv1a(hash, &[0]);
    }
    format!("{hash:016x}")
}

/// The bundled file at `path`.
pub fn bundled(path: &str) -> Option<&'static str> {
    THEME_FILES.iter().find(|(p, _)| *p == path).map(|(_, text)| *text)
}

pub struct Theme {
    /// Paths the merchant overrides.
    overrides: BTreeSet<String>,
    use_overrides: bool,
    preview: bool,
    /// The page, as the filters see it.
    context: FilterContext,
    translations_fault: Option<Fault>,
    settings: Value,
    /// The templates this request has used, checked against their text once.
    used: RefCell<HashMap<String, Template>>,
    /// The first theme file that could not be parsed during a render.
    fault: RefCell<Option<Fault>>,
}

impl Theme {
    /// The theme for this request: the merchant's overrides when there are
    /// any (one host call lists them; most shops have none).
    pub fn load(ctx: &Ctx) -> Theme {
        let overrides = match files::list("") {
            Ok(paths) => paths.into_iter().collect(),
            Err(e) => {
                omnistore_sdk::warn!(
                    "the theme's files could not be listed; using the default theme",
                    error = e.message()
                );
                BTreeSet::new()
            }
        };
        Theme::with_overrides(ctx, overrides, true)
    }

    fn with_overrides(ctx: &Ctx, overrides: BTreeSet<String>, use_overrides: bool) -> Theme {
        let asset_version = asset_version(&overrides, use_overrides);
        let mut theme = Theme {
            overrides,
            use_overrides,
            preview: ctx.preview,
            context: FilterContext {
                money: ctx.money(),
                translations: Translations::new(&ctx.language, Arc::default(), Arc::default()),
                base_path: ctx.base_path.clone(),
                root: ctx.url("/").trim_end_matches('/').to_string(),
                origin: origin_of(&ctx.base_url).to_string(),
                asset_version,
            },
            translations_fault: None,
            settings: Value::Nil,
            used: RefCell::new(HashMap::new()),
            fault: RefCell::new(None),
        };
        let (translations, fault) = theme.translations(&ctx.language);
        theme.context.translations = translations;
        theme.translations_fault = fault;
        theme.settings = theme.theme_settings();
        theme
    }

    /// Whether any merchant file is in use.
    fn overridden(&self) -> bool {
        self.use_overrides && !self.overrides.is_empty()
    }

    /// The text of a theme file: the merchant's when there is one, else the bundled one.
    pub fn source(&self, path: &str) -> Option<Cow<'static, str>> {
        if self.use_overrides && self.overrides.contains(path) {
            match files::get_text(path) {
                Ok(Some(text)) => return Some(Cow::Owned(text)),
                Ok(None) => {}
                Err(e) => omnistore_sdk::warn!(
                    "a theme file could not be read; using the default",
                    path = path,
                    error = format!("{e:?}")
                ),
            }
        }
        bundled(path).map(Cow::Borrowed)
    }

    /// The bytes of an asset: the merchant's when there is one.
    pub fn asset(&self, name: &str) -> Option<Vec<u8>> {
        let path = format!("assets/{name}");
        if self.use_overrides
            && self.overrides.contains(&path)
            && let Ok(Some(bytes)) = files::get(&path)
        {
            return Some(bytes);
        }
        bundled(&path).map(|text| text.as_bytes().to_vec())
    }

    /// The version in this theme's asset URLs, and the ETag of its assets.
    pub fn asset_version(&self) -> &str {
        &self.context.asset_version
    }

    /// The page's strings, with English under them. Each locale file is
    /// parsed once per text, not once per page.
    fn translations(&self, language: &str) -> (Translations, Option<Fault>) {
        let mut fault = None;
        let mut read = |path: &str| -> Option<Arc<serde_json::Value>> {
            let parse = |text: &str| serde_json::from_str::<serde_json::Value>(text).map(Arc::new);
            let text = self.source(path)?;
            KEPT.with_borrow_mut(|kept| match kept.locales.get_or_make(path, text, parse) {
                Ok(strings) => Some(strings),
                Err(e) => {
                    fault.get_or_insert(Fault { file: path.to_string(), line: Some(e.line()), message: e.to_string() });
                    let bundled_text = Cow::Borrowed(bundled(path)?);
                    kept.locales.get_or_make(&format!("bundled:{path}"), bundled_text, parse).ok()
                }
            })
        };
        let strings = read(&format!("locales/{language}.json"));
        let fallback = match (&strings, language) {
            (Some(en), "en") => en.clone(),
            _ => read("locales/en.json").unwrap_or_default(),
        };
        let strings = strings.unwrap_or_else(|| fallback.clone());
        (Translations::new(language, strings, fallback), fault)
    }

    /// `settings`: the defaults of `config/settings_schema.json` with the
    /// values of `config/settings_data.json` (`current`) over them.
    fn theme_settings(&self) -> Value {
        let schema = self.source("config/settings_schema.json");
        let data = self.source("config/settings_data.json");
        KEPT.with_borrow_mut(|kept| {
            let same = |a: &Option<Cow<'static, str>>, b: &Option<Cow<'static, str>>| match (a, b) {
                (Some(a), Some(b)) => same_text(a, b),
                (None, None) => true,
                _ => false,
            };
            if let Some((s, d, settings)) = &kept.settings
                && same(s, &schema)
                && same(d, &data)
            {
                return settings.clone();
            }
            let settings = settings_from(schema.as_deref(), data.as_deref());
            kept.settings = Some((schema, data, settings.clone()));
            settings
        })
    }

    /// The theme's translation of `key` in the page's language.
    pub fn translate(&self, key: &str, args: &[(String, String)]) -> String {
        self.context.translations.translate(key, args)
    }

    pub fn settings(&self) -> Value {
        self.settings.clone()
    }

    fn template(&self, path: &str) -> Result<Template, Fault> {
        if let Some(t) = self.used.borrow().get(path) {
            return Ok(t.clone());
        }
        let source = self.source(path).ok_or_else(|| Fault {
            file: path.to_string(),
            line: None,
            message: "there is no such theme file".into(),
        })?;
        let template = KEPT.with_borrow_mut(|kept| {
            kept.templates.get_or_make(path, source, |text| Template::parse(text, parse_options()))
        });
        let template = template.map_err(|e| Fault::from_liquid(path, &e))?;
        self.used.borrow_mut().insert(path.to_string(), template.clone());
        Ok(template)
    }

    fn render_file(&self, path: &str, globals: &Value) -> Result<String, Fault> {
        let template = self.template(path)?;
        let options = RenderOptions { shared: Some(globals), ..RenderOptions::default() }
            .with_partials(self)
            .with_context(&self.context);
        template.render(globals, &options).map_err(|e| {
            // A partial that could not be parsed names itself; otherwise the
            // error is in this file or one it renders.
            self.fault.borrow_mut().take().unwrap_or_else(|| Fault::from_liquid(path, &e))
        })
    }

    /// `templates/<name>.liquid` inside `layout/theme.liquid`.
    fn render_page(&self, name: &str, globals: &Value) -> Result<String, Fault> {
        if let Some(fault) = &self.translations_fault {
            return Err(fault.clone());
        }
        let content = self.render_file(&format!("templates/{name}.liquid"), globals)?;
        let mut with_content = match globals {
            Value::Object(o) => (**o).clone(),
            _ => Object::new(),
        };
        with_content.insert("content_for_layout", Value::from(content));
        let globals = Value::object(with_content);
        self.render_file("layout/theme.liquid", &globals)
    }

    /// The page `name` as HTML. A broken merchant file shows an error page
    /// naming it in preview; in production the page is rendered with the
    /// default theme instead, and the fault logged.
    pub fn page(&self, ctx: &Ctx, name: &str, globals: &Value) -> Result<String, ThemeError> {
        match self.render_page(name, globals) {
            Ok(html) => Ok(html),
            Err(fault) if self.overridden() => {
                if self.preview {
                    return Err(ThemeError::Preview(fault));
                }
                omnistore_sdk::warn!(
                    "a theme file of the merchant is broken; the default theme's page is served",
                    file = fault.file,
                    line = fault.line.map(|l| l.to_string()).unwrap_or_default(),
                    error = fault.message
                );
                let defaults = Theme::with_overrides(ctx, BTreeSet::new(), false);
                defaults.render_page(name, globals).map_err(ThemeError::Default)
            }
            Err(fault) => Err(ThemeError::Default(fault)),
        }
    }
}

/// The defaults of a settings schema with the `current` values of settings data over them.
fn settings_from(schema: Option<&str>, data: Option<&str>) -> Value {
    let mut settings = serde_json::Map::new();
    let parse = |text: Option<&str>| text.and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok());
    if let Some(serde_json::Value::Array(groups)) = parse(schema) {
        for setting in groups.iter().filter_map(|g| g.get("settings")?.as_array()).flatten() {
            if let (Some(id), Some(default)) = (setting.get("id").and_then(|i| i.as_str()), setting.get("default")) {
                settings.insert(id.to_string(), default.clone());
            }
        }
    }
    if let Some(current) = parse(data).and_then(|d| d.get("current").cloned())
        && let Some(current) = current.as_object()
    {
        for (k, v) in current {
            settings.insert(k.clone(), v.clone());
        }
    }
    Value::from(serde_json::Value::Object(settings))
}

/// Why a page could not be rendered.
#[derive(Debug)]
pub enum ThemeError {
    /// A merchant file is broken and the merchant is previewing.
    Preview(Fault),
    /// The bundled theme failed: a bug of this plugin.
    Default(Fault),
}

impl ThemeError {
    /// The answer to the shopper (or the previewing merchant).
    pub fn into_response(self) -> Result<Response, PluginError> {
        match self {
            ThemeError::Preview(fault) => Ok(preview_error_page(&fault)),
            ThemeError::Default(fault) => Err(PluginError::Internal(format!(
                "the default theme failed in {} (line {}): {}",
                fault.file,
                fault.line.unwrap_or(0),
                fault.message
            ))),
        }
    }
}

/// What a merchant sees when a draft file is broken: which file, which line, why.
pub fn preview_error_page(fault: &Fault) -> Response {
    let line = fault.line.map(|l| format!(", line {l}")).unwrap_or_default();
    let body = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Theme error in {file}</title>\n<meta name=\"robots\" content=\"noindex\">\n</head>\n<body>\n<main>\n<h1>Theme error in {file}{line}</h1>\n<p><strong>{file}{line}:</strong> {message}</p>\n<p>This page is shown only in preview. Shoppers see the page of the default theme until the file is fixed.</p>\n</main>\n</body>\n</html>\n",
        file = html::escape(&fault.file),
        line = line,
        message = html::escape(&fault.message),
    );
    Response::html(body).with_status(500).with_header("cache-control", "no-store")
}

/// `{% render 'price' %}` is `snippets/price.liquid`; `{% section 'header' %}`
/// asks for `sections/header`, which is `sections/header.liquid`.
fn partial_path(name: &str) -> String {
    if name.starts_with("sections/") { format!("{name}.liquid") } else { format!("snippets/{name}.liquid") }
}

impl PartialSource for Theme {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        self.source(&partial_path(name))
    }

    fn parsed(&self, name: &str) -> Option<Template> {
        match self.template(&partial_path(name)) {
            Ok(t) => Some(t),
            Err(fault) => {
                if fault.line.is_some() {
                    self.fault.borrow_mut().get_or_insert(fault);
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partials_map_to_theme_folders() {
        assert_eq!(partial_path("price"), "snippets/price.liquid");
        assert_eq!(partial_path("sections/header"), "sections/header.liquid");
    }

    #[test]
    fn every_bundled_template_parses_and_every_locale_has_the_same_keys() {
        let options = filters::options();
        let mut liquid = 0;
        for (path, text) in THEME_FILES {
            if path.ends_with(".liquid") {
                Template::parse(text, &options).unwrap_or_else(|e| panic!("{path}: {e}"));
                liquid += 1;
            }
        }
        assert!(liquid >= 15, "{liquid}");
        for required in [
            "layout/theme.liquid",
            "templates/index.liquid",
            "templates/collection.liquid",
            "templates/product.liquid",
            "templates/search.liquid",
            "templates/cart.liquid",
            "templates/checkout.liquid",
            "templates/order.liquid",
            "templates/404.liquid",
            "templates/page.liquid",
            "locales/it.json",
            "locales/en.json",
            "config/settings_schema.json",
            "assets/base.css",
            "assets/theme.js",
        ] {
            assert!(bundled(required).is_some(), "{required} is missing");
        }
        fn keys(v: &serde_json::Value, prefix: &str, out: &mut BTreeSet<String>) {
            if let Some(o) = v.as_object() {
                for (k, v) in o {
                    keys(v, &format!("{prefix}{k}."), out);
                }
            } else {
                out.insert(prefix.to_string());
            }
        }
        let (mut it, mut en) = (BTreeSet::new(), BTreeSet::new());
        keys(&serde_json::from_str(bundled("locales/it.json").unwrap()).unwrap(), "", &mut it);
        keys(&serde_json::from_str(bundled("locales/en.json").unwrap()).unwrap(), "", &mut en);
        assert_eq!(it, en);
        let _: serde_json::Value = serde_json::from_str(bundled("config/settings_schema.json").unwrap()).unwrap();
    }
}

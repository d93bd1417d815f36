//! `plugin_info!($crate)`: the plugin's `describe` answer, built from its
//! `plugin.toml` when the plugin is compiled.
//!
//! The manifest is parsed and validated by the same code the host uses to
//! load the plugin (`omnistore-manifest`), so a manifest the host would refuse
//! is a compile error pointing at `plugin.toml`, and the plugin carries no
//! TOML parser at run time. The SDK's `export_plugin!` calls it and also
//! `include_str!`s the file, so cargo rebuilds the plugin when it changes.

use proc_macro::TokenStream;

/// Expands to a `$crate::PluginInfo` value; the argument is the SDK's crate path.
#[proc_macro]
pub fn plugin_info(krate: TokenStream) -> TokenStream {
    match info_fields() {
        Ok(fields) => {
            let mut out = krate;
            out.extend(fields.parse::<TokenStream>().unwrap_or_else(|e| error(&format!("internal: {e}"))));
            out
        }
        Err(message) => error(&message),
    }
}

fn error(message: &str) -> TokenStream {
    format!("::core::compile_error!({message:?})").parse().unwrap_or_default()
}

/// `::PluginInfo { … }`, to follow the crate path.
fn info_fields() -> Result<String, String> {
    let dir = std::env::var("CARGO_MANIFEST_DIR").map_err(|_| "CARGO_MANIFEST_DIR is not set".to_string())?;
    let path = std::path::Path::new(&dir).join("plugin.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!("cannot read {}: {e}; every plugin crate has a plugin.toml beside its Cargo.toml", path.display())
    })?;
    let manifest = omnistore_manifest::Manifest::parse(&text).map_err(|e| format!("plugin.toml is not valid: {e}"))?;
    let string = |s: &str| format!("::std::string::String::from({s:?})");
    let events: Vec<String> = manifest.events.iter().map(|e| string(e.as_str())).collect();
    // Settings as tuples: only the first token of the expansion can carry
    // the caller's `$crate`, so the SDK's helper builds its own types.
    let settings: Vec<String> = manifest
        .settings
        .iter()
        .map(|s| {
            let default = match &s.default {
                Some(d) => format!("::core::option::Option::Some({})", string(d)),
                None => "::core::option::Option::None".to_string(),
            };
            format!("({}, {}, {}, {}, {default})", string(&s.key), string(&s.label), s.secret, s.required)
        })
        .collect();
    Ok(format!(
        "::__private::plugin_info_parts({}, {}, {}, ::std::vec![{}], ::std::vec![{}])",
        string(&manifest.id),
        string(&manifest.name),
        string(&manifest.version.to_string()),
        events.join(", "),
        settings.join(", ")
    ))
}

use wasmparser::{Encoding, Parser, Payload};

use crate::{CONTRACT_PACKAGE, ManifestError};

/// One top-level import of a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentImport {
    /// `omnistore:plugin/<interface>@<version>`.
    Contract { interface: String, version: semver::Version, full: String },
    /// Anything else (WASI, another package, a bare function).
    Foreign(String),
}

/// The contract-relevant surface of a component.
#[derive(Debug, Clone)]
pub struct ComponentSurface {
    /// The contract version of the exported handler.
    pub contract: semver::Version,
    pub imports: Vec<ComponentImport>,
}

/// Split `omnistore:plugin/storage@0.1.0` into ("storage", 0.1.0).
fn parse_contract_name(name: &str) -> Option<(String, semver::Version)> {
    let rest = name.strip_prefix(CONTRACT_PACKAGE)?.strip_prefix('/')?;
    let (interface, version) = rest.split_once('@')?;
    let version = semver::Version::parse(version).ok()?;
    Some((interface.to_string(), version))
}

/// List a component's top-level imports and find the contract version of its
/// exported handler. Nested core modules and components are not imports of
/// the plugin and are skipped.
pub fn component_imports(bytes: &[u8]) -> Result<ComponentSurface, ManifestError> {
    let mut depth = 0usize;
    let mut imports = Vec::new();
    let mut contract = None;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| ManifestError::NotAComponent(e.to_string()))?;
        match payload {
            Payload::Version { encoding, .. } => {
                if depth == 0 && encoding != Encoding::Component {
                    return Err(ManifestError::NotAComponent(
                        "this is a core module; turn it into a component with `omnistore plugin build`".into(),
                    ));
                }
                depth += 1;
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    let import = import.map_err(|e| ManifestError::NotAComponent(e.to_string()))?;
                    let name = import.name.name.to_string();
                    imports.push(match parse_contract_name(&name) {
                        Some((interface, version)) => ComponentImport::Contract { interface, version, full: name },
                        None => ComponentImport::Foreign(name),
                    });
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    let export = export.map_err(|e| ManifestError::NotAComponent(e.to_string()))?;
                    if let Some((interface, version)) = parse_contract_name(export.name.name)
                        && interface == "handler"
                    {
                        contract = Some(version);
                    }
                }
            }
            _ => {}
        }
    }
    let contract = contract.ok_or(ManifestError::MissingHandler)?;
    Ok(ComponentSurface { contract, imports })
}

//! Compiled components, cached on disk by content digest and engine settings.
//!
//! Compiling a component takes from tens of milliseconds to seconds; loading a
//! cached artifact takes about a millisecond. The file name joins the SHA-256
//! of the component bytes with a hash of the engine's compatibility settings,
//! so a host upgrade or a changed engine configuration never loads a stale
//! artifact.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::LoadError;
use crate::engines::CoreEngine;

/// The SHA-256 of a component, hex-encoded.
pub fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub(crate) struct ComponentCache {
    dir: Option<PathBuf>,
    engine_hash: String,
    /// By digest and engine settings: the component in each of the runtime's engines.
    memory: Mutex<HashMap<String, Box<[Component]>>>,
}

impl ComponentCache {
    pub fn new(engine: &Engine, dir: Option<PathBuf>) -> Result<Self, LoadError> {
        let mut hasher = std::hash::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        if let Some(dir) = &dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| LoadError::Cache(format!("creating the component cache {}: {e}", dir.display())))?;
        }
        Ok(ComponentCache { dir, engine_hash: format!("{:016x}", hasher.finish()), memory: Mutex::default() })
    }

    /// The compiled component for these bytes in each of `engines` (all built
    /// from one configuration): from memory, from disk, or compiled now in the
    /// first and loaded into the others.
    pub fn get_or_compile(
        &self,
        engines: &[CoreEngine],
        digest: &str,
        bytes: &[u8],
    ) -> Result<Box<[Component]>, LoadError> {
        let key = format!("{digest}-{}", self.engine_hash);
        if let Some(c) = self.memory.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(c.clone());
        }
        let path = self.dir.as_ref().map(|d| d.join(format!("{key}.cwasm")));
        let cached = path.as_ref().filter(|p| p.exists()).and_then(|p| {
            // Read into memory rather than mapping the file: a mapped artifact
            // that someone truncates or rewrites in place would bring the whole
            // host down with SIGBUS.
            let artifact = std::fs::read(p).ok()?;
            match load(engines, &artifact) {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!(path = %p.display(), error = %e, "discarding unusable cached component");
                    None
                }
            }
        });
        let components = match cached {
            Some(c) => c,
            None => {
                let (first, others) =
                    engines.split_first().ok_or_else(|| LoadError::Compile("the runtime has no engine".into()))?;
                let started = std::time::Instant::now();
                let c = Component::new(&first.engine, bytes).map_err(|e| LoadError::Compile(format!("{e:#}")))?;
                tracing::info!(digest, ms = started.elapsed().as_millis() as u64, "compiled component");
                let artifact = if path.is_some() || !others.is_empty() {
                    c.serialize().map_err(|e| LoadError::Cache(e.to_string()))?
                } else {
                    Vec::new()
                };
                if let Some(path) = &path {
                    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
                    std::fs::write(&tmp, &artifact)
                        .and_then(|()| std::fs::rename(&tmp, path))
                        .map_err(|e| LoadError::Cache(format!("writing {}: {e}", path.display())))?;
                }
                let loaded = load(others, &artifact).map_err(|e| LoadError::Compile(format!("{e:#}")))?;
                std::iter::once(c).chain(loaded).collect()
            }
        };
        self.memory.lock().unwrap_or_else(|p| p.into_inner()).insert(key, components.clone());
        Ok(components)
    }
}

/// A serialized component loaded into each of `engines`.
fn load(engines: &[CoreEngine], artifact: &[u8]) -> wasmtime::Result<Box<[Component]>> {
    engines
        .iter()
        .map(|core| {
            // SAFETY: the artifact was written by `Component::serialize` of this
            // same engine configuration: just now, or into the host's own cache
            // directory under a name that carries the configuration's
            // compatibility hash; wasmtime also checks the artifact's header
            // and refuses incompatible ones.
            #[allow(unsafe_code)]
            unsafe {
                Component::deserialize(&core.engine, artifact)
            }
        })
        .collect()
}

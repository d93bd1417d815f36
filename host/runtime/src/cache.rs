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

/// The SHA-256 of a component, hex-encoded.
pub fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub(crate) struct ComponentCache {
    dir: Option<PathBuf>,
    engine_hash: String,
    memory: Mutex<HashMap<String, Component>>,
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

    /// The compiled component for these bytes: from memory, from disk, or compiled now.
    pub fn get_or_compile(&self, engine: &Engine, digest: &str, bytes: &[u8]) -> Result<Component, LoadError> {
        let key = format!("{digest}-{}", self.engine_hash);
        if let Some(c) = self.memory.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(c.clone());
        }
        let path = self.dir.as_ref().map(|d| d.join(format!("{key}.cwasm")));
        let cached = path.as_ref().filter(|p| p.exists()).and_then(|p| {
            // Read into memory rather than mapping the file: a mapped artifact
            // that someone truncates or rewrites in place would bring the whole
            // host down with SIGBUS.
            let bytes = std::fs::read(p).ok()?;
            // SAFETY: the file was written by `Component::serialize` of this
            // same engine configuration (the name carries its compatibility
            // hash) into the host's own cache directory; wasmtime also checks
            // the artifact's header and refuses incompatible ones.
            #[allow(unsafe_code)]
            let loaded = unsafe { Component::deserialize(engine, &bytes) };
            match loaded {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!(path = %p.display(), error = %e, "discarding unusable cached component");
                    None
                }
            }
        });
        let component = match cached {
            Some(c) => c,
            None => {
                let started = std::time::Instant::now();
                let c = Component::new(engine, bytes).map_err(|e| LoadError::Compile(format!("{e:#}")))?;
                tracing::info!(digest, ms = started.elapsed().as_millis() as u64, "compiled component");
                if let Some(path) = &path {
                    let artifact = c.serialize().map_err(|e| LoadError::Cache(e.to_string()))?;
                    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
                    std::fs::write(&tmp, artifact)
                        .and_then(|()| std::fs::rename(&tmp, path))
                        .map_err(|e| LoadError::Cache(format!("writing {}: {e}", path.display())))?;
                }
                c
            }
        };
        self.memory.lock().unwrap_or_else(|p| p.into_inner()).insert(key, component.clone());
        Ok(component)
    }
}

//! The merchant's files per installation (theme overrides): a draft edited
//! file by file, listed beside the live files, previewed through a signed
//! link, then published (or discarded) as a whole. The store is
//! `omnistore_services::files`; the plugin reads the files through the
//! contract's `files` interface.
//!
//! File paths are the rest of the URL (`…/files/templates/product.liquid`);
//! `publish`, `discard` and `preview` right under `files/` are actions.

use axum::Json;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use omnistore_core::{ChannelId, TenantId};
use omnistore_services::files::{FileStore, FileVersion, FilesError, MAX_FILE_BYTES};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::extract::{P, Q, RawBody, Scope};
use super::wire::{self, FileEntry, FileState};
use super::{Access, AdminError, AdminState, Routes, blocking, doc, param};
use crate::preview::{PREVIEW_PARAM, PREVIEW_TTL_MS};

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Theme files")
        .get(
            "/tenants/{tenant}/channels/{channel}/files",
            list,
            doc("listFiles", "The installation's files, live and draft, with their state and hashes")
                .query(const { &[param("prefix", "string", "only paths starting with this")] })
                .ok::<wire::Page<wire::FileEntry>>(),
        )
        .get(
            "/tenants/{tenant}/channels/{channel}/files/{*path}",
            get_file,
            doc("getFile", "A file's bytes as the draft (default) or the live files read it")
                .query(const { &[param("version", "string", "draft or live")] })
                .ok_bytes(),
        )
        .put(
            "/tenants/{tenant}/channels/{channel}/files/{*path}",
            put_file,
            doc("putFile", "Write a file into the draft (the raw bytes, at most 2 MiB)")
                .raw_body(&["application/octet-stream"])
                .ok::<wire::FileWritten>(),
        )
        .delete(
            "/tenants/{tenant}/channels/{channel}/files/{*path}",
            delete_file,
            doc("deleteFile", "Delete a file in the draft; it stays live until the draft is published").no_content(),
        )
        .post(
            "/tenants/{tenant}/channels/{channel}/files/publish",
            publish,
            doc("publishFiles", "Make the draft live in one step").ok::<wire::Published>(),
        )
        .post(
            "/tenants/{tenant}/channels/{channel}/files/discard",
            discard,
            doc("discardFiles", "Drop every change of the draft").no_content(),
        )
        .post(
            "/tenants/{tenant}/channels/{channel}/files/preview",
            preview,
            doc("previewFiles", "A link that shows the storefront with the draft files, for an hour")
                .created::<wire::PreviewLink>(),
        );
}

/// Whether a request writes a file (its body limit is a file's).
pub(crate) fn is_file_write(segments: &[&str]) -> bool {
    segments.windows(3).any(|w| w[0] == "channels" && w[2] == "files") && segments.len() > 5
}

/// The body limit of a file write.
pub(crate) const FILE_BODY_LIMIT: usize = MAX_FILE_BYTES;

#[derive(Debug, Deserialize)]
struct ChannelPath {
    channel: ChannelId,
}

#[derive(Debug, Deserialize)]
struct FilePath {
    channel: ChannelId,
    path: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    prefix: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum VersionParam {
    Draft,
    Live,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GetQuery {
    version: Option<VersionParam>,
}

fn files_error(err: FilesError) -> AdminError {
    match err {
        FilesError::Storage(e) => AdminError::storage(e),
        FilesError::TooLarge { .. } => {
            AdminError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", err.to_string())
        }
        e @ (FilesError::InvalidPath { .. } | FilesError::QuotaExceeded { .. }) => AdminError::invalid(e.to_string()),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The file store, once the channel is known to be this tenant's.
async fn store_for(state: &AdminState, tenant: &TenantId, channel: &ChannelId) -> Result<FileStore, AdminError> {
    let (t, c) = (tenant.clone(), channel.clone());
    state.call(move |core, _| core.get_channel(&t, &c)).await?;
    Ok(FileStore::new(state.core().store().clone()))
}

async fn list(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ChannelPath>,
    Q(q): Q<ListQuery>,
) -> Result<Json<wire::Page<FileEntry>>, AdminError> {
    let files = store_for(&state, &tenant, &path.channel).await?;
    let items = blocking(move || {
        let (t, i, prefix) = (&tenant, path.channel.as_str(), q.prefix.unwrap_or_default());
        let live = files.list(t, i, FileVersion::Live, &prefix).map_err(files_error)?;
        let draft = files.list(t, i, FileVersion::Draft, &prefix).map_err(files_error)?;
        let mut paths: Vec<&String> = live.iter().chain(draft.iter()).collect();
        paths.sort();
        paths.dedup();
        let mut items = Vec::with_capacity(paths.len());
        for p in paths {
            let read = |v| files.get(t, i, v, p).map_err(files_error);
            let l = if live.contains(p) { read(FileVersion::Live)? } else { None };
            let d = if draft.contains(p) { read(FileVersion::Draft)? } else { None };
            let state = match (&l, &d) {
                (Some(a), Some(b)) if a == b => FileState::Live,
                (Some(_), Some(_)) => FileState::Modified,
                (None, _) => FileState::Added,
                (Some(_), None) => FileState::Deleted,
            };
            let size = d.as_ref().or(l.as_ref()).map_or(0, Vec::len);
            items.push(FileEntry {
                path: p.clone(),
                state,
                live_sha256: l.as_deref().map(sha256_hex),
                draft_sha256: d.as_deref().map(sha256_hex),
                size,
            });
        }
        Ok(items)
    })
    .await?;
    Ok(Json(wire::Page { items, next_after: None }))
}

async fn get_file(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<FilePath>,
    Q(q): Q<GetQuery>,
) -> Result<Response, AdminError> {
    let files = store_for(&state, &tenant, &path.channel).await?;
    let version = match q.version {
        Some(VersionParam::Live) => FileVersion::Live,
        _ => FileVersion::Draft,
    };
    let bytes = blocking(move || files.get(&tenant, path.channel.as_str(), version, &path.path).map_err(files_error))
        .await?
        .ok_or_else(|| AdminError::not_found("no such file in this version"))?;
    let mut response = bytes.into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    Ok(response)
}

async fn put_file(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<FilePath>,
    RawBody(bytes): RawBody,
) -> Result<Json<wire::FileWritten>, AdminError> {
    let files = store_for(&state, &tenant, &path.channel).await?;
    let (sha, size, file) = (sha256_hex(&bytes), bytes.len(), path.path.clone());
    blocking(move || files.put_draft(&tenant, path.channel.as_str(), &path.path, &bytes).map_err(files_error)).await?;
    Ok(Json(wire::FileWritten { path: file, sha256: sha, size }))
}

async fn delete_file(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<FilePath>,
) -> Result<StatusCode, AdminError> {
    let files = store_for(&state, &tenant, &path.channel).await?;
    blocking(move || files.delete_draft(&tenant, path.channel.as_str(), &path.path).map_err(files_error)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn publish(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ChannelPath>,
) -> Result<Json<wire::Published>, AdminError> {
    let files = store_for(&state, &tenant, &path.channel).await?;
    let changed = blocking(move || files.publish(&tenant, path.channel.as_str()).map_err(files_error)).await?;
    Ok(Json(wire::Published { changed }))
}

async fn discard(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ChannelPath>,
) -> Result<StatusCode, AdminError> {
    let files = store_for(&state, &tenant, &path.channel).await?;
    blocking(move || files.discard_draft(&tenant, path.channel.as_str()).map_err(files_error)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn preview(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ChannelPath>,
) -> Result<(StatusCode, Json<wire::PreviewLink>), AdminError> {
    store_for(&state, &tenant, &path.channel).await?;
    let key = state.preview.clone().ok_or_else(|| {
        AdminError::new(StatusCode::NOT_IMPLEMENTED, "not_implemented", "this host has no preview key")
    })?;
    let expires_ms = state.now() + PREVIEW_TTL_MS;
    let token = key.issue(tenant.as_str(), path.channel.as_str(), expires_ms);
    let query = format!("{PREVIEW_PARAM}={token}");
    Ok((StatusCode::CREATED, Json(wire::PreviewLink { token, expires_ms, query })))
}

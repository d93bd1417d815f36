//! Theme files of an installation: the draft beside the live files.

use schemars::JsonSchema;
use serde::Serialize;

/// How a path stands between the live files and the draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum FileState {
    /// Live, and the draft reads the same.
    Live,
    /// Only in the draft.
    Added,
    /// Live, with other bytes in the draft.
    Modified,
    /// Live, deleted in the draft.
    Deleted,
}

/// One path of an installation's files.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct FileEntry {
    pub path: String,
    pub state: FileState,
    pub live_sha256: Option<String>,
    pub draft_sha256: Option<String>,
    /// Bytes as the draft reads it (the live size for a deleted file).
    pub size: usize,
}

/// A file written into the draft.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct FileWritten {
    pub path: String,
    pub sha256: String,
    pub size: usize,
}

/// What publishing the draft changed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Published {
    /// Files written or deleted in the live version.
    pub changed: u32,
}

/// A link that shows the storefront with the draft files.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct PreviewLink {
    pub token: String,
    pub expires_ms: i64,
    /// The query to add to any storefront URL, such as `preview=…`.
    pub query: String,
}

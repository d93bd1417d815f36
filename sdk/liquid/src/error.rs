//! The errors a parse or a render can end with.

/// Why a template could not be parsed or rendered.
///
/// Every message is meant to be shown to the merchant who wrote the template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The template is not valid Liquid.
    #[error("Liquid syntax error (line {line}): {message}")]
    Syntax { line: usize, message: String },
    /// Rendering failed, for example a filter was given an argument it cannot use.
    #[error("Liquid error (line {line}): {message}")]
    Render { line: usize, message: String },
    /// A resource limit from [`crate::RenderOptions`] or [`crate::ParseOptions`] was reached.
    #[error("Liquid error: {0}")]
    Limit(String),
}

impl Error {
    pub(crate) fn syntax(line: usize, message: impl Into<String>) -> Self {
        Error::Syntax { line, message: message.into() }
    }

    pub(crate) fn render(line: usize, message: impl Into<String>) -> Self {
        Error::Render { line, message: message.into() }
    }
}

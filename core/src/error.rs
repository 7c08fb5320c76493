//! The one error type of the crate. Every fallible public function returns [`Result`].
//!
//! Bindings map each variant to their own error classes (Python exception subclasses, Node
//! `Error`s with a `code` property), so each variant is something a caller may want to branch on.

use std::path::PathBuf;

/// Result type of every fallible call in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in codelookup.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is well formed but no such code exists in the book. `suggestions` holds the
    /// nearest real codes (canonical spelling), best first.
    #[error("code {code:?} not found{}", suggest(.suggestions))]
    NotFound { code: String, suggestions: Vec<String> },

    /// The input cannot be a code of any (or of the requested) code system.
    #[error("invalid code {input:?}: {reason}")]
    InvalidCode { input: String, reason: String },

    /// A code system name that the book does not know.
    #[error("unknown code system {0:?} (known: icd10cm, icd10pcs, hcpcs, cpt, local)")]
    UnknownSystem(String),

    /// A caller passed an argument that is out of range or inconsistent (bad query, bad limit,
    /// bad date, bad plan...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// A code book file is missing, corrupt, truncated, or of a format this version cannot read.
    #[error("code book error: {0}")]
    Book(String),

    /// A source file (CMS, CDC or AMA data file) could not be parsed.
    #[error("cannot import {}{}: {message}", .path.display(), line_suffix(*.line))]
    Import { path: PathBuf, line: Option<u64>, message: String },

    /// The code exists but may not be used on a claim with this date of service (deleted,
    /// not yet valid, or a header). `message` names when it was valid; `replaced_by` what to use.
    #[error("{message}")]
    NotValidOnDate { code: String, date: chrono::NaiveDate, message: String, replaced_by: Vec<String> },

    /// A metered view was refused because the subject has no views left.
    #[error("quota exceeded for {subject:?}: {message}")]
    QuotaExceeded { subject: String, remaining: u64, limit: Option<u64>, message: String },

    /// The quota store could not be used: locked, read-only, corrupt, or from a newer version.
    #[error("quota storage error: {0}")]
    Storage(String),

    /// An I/O error, with the path involved when there is one.
    #[error("I/O error{}: {source}", path_suffix(.path))]
    Io {
        path: Option<PathBuf>,
        #[source]
        source: std::io::Error,
    },

    /// An error from SQLite that does not fit a more specific variant.
    #[error("SQLite error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl From<std::io::Error> for Error {
    fn from(source: std::io::Error) -> Self {
        Error::Io { path: None, source }
    }
}

impl Error {
    /// An [`Error::Io`] that names the file involved.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: Some(path.into()), source }
    }

    /// An [`Error::Import`] for a source file, with the 1-based line when known.
    pub fn import(path: impl Into<PathBuf>, line: Option<u64>, message: impl Into<String>) -> Self {
        Error::Import { path: path.into(), line, message: message.into() }
    }

    /// A stable, machine-readable name of the variant (`NOT_FOUND`, `INVALID_CODE`, ...); the
    /// Node binding uses it as the `code` property of its errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::NotFound { .. } => "NOT_FOUND",
            Error::InvalidCode { .. } => "INVALID_CODE",
            Error::UnknownSystem(_) => "UNKNOWN_SYSTEM",
            Error::InvalidArgument(_) => "INVALID_ARGUMENT",
            Error::Book(_) | Error::Import { .. } => "BOOK_ERROR",
            Error::NotValidOnDate { .. } => "NOT_VALID_ON_DATE",
            Error::QuotaExceeded { .. } => "QUOTA_EXCEEDED",
            Error::Storage(_) | Error::Sqlite(_) => "STORAGE_ERROR",
            Error::Io { .. } => "IO_ERROR",
        }
    }
}

fn suggest(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; nearest codes: {}", suggestions.join(", "))
    }
}

fn line_suffix(line: Option<u64>) -> String {
    line.map(|l| format!(" line {l}")).unwrap_or_default()
}

fn path_suffix(path: &Option<PathBuf>) -> String {
    path.as_ref().map(|p| format!(" on {}", p.display())).unwrap_or_default()
}

//! # codelookup
//!
//! An embeddable medical-code library: look codes up, search them, and meter "code page views",
//! inside the host process and offline.
//!
//! ```
//! let book = codelookup::Book::open_default()?;
//! let rec = book.lookup("e119", None)?;
//! assert_eq!(rec.code, "E11.9");
//! assert_eq!(rec.title, "Type 2 diabetes mellitus without complications");
//! assert!(rec.billable);
//! # Ok::<(), codelookup::Error>(())
//! ```
//!
//! Modules:
//! - [`code`]: code systems and the normalisation of a user's spelling of a code;
//! - [`book`]: the compiled code book (open, lookup, validity);
//! - [`record`]: what a lookup returns;
//! - [`search`]: code-prefix and word search with autocomplete, typo tolerance and synonyms;
//! - [`import`]: readers of the official CMS/CDC/AMA source files, and the book builder;
//! - [`quota`]: metered code page views, persistent in SQLite;
//! - [`billing`]: NCCI procedure-to-procedure and medically unlikely edits, claim checks;
//! - [`crosswalk`]: ICD-9-CM ↔ ICD-10-CM General Equivalence Mappings (2018).

pub mod billing;
pub mod book;
pub mod code;
pub mod crosswalk;
pub mod error;
pub mod import;
pub mod quota;
pub mod record;
pub mod search;

pub use book::Book;
pub use code::{Key, System};
pub use error::{Error, Result};
pub use search::{Hit, MatchField, SearchOptions};

/// The README's Rust quickstart, compiled and run as a doc test so that it cannot go stale.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

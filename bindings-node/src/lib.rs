//! # codelookup for Node
//!
//! The Node binding of the `codelookup` core (napi-rs): a file per core module, and nothing
//! but the conversion of types and errors.
//!
//! ```js
//! const { open } = require('codelookup')
//! const book = open()                       // the embedded book
//! const rec = book.lookup('e119')           // any common spelling
//! rec.code                                  // 'E11.9'
//! rec.billable                              // true
//! const recs = await book.lookupManyAsync(['E11.9', 'J1100'])  // on the libuv pool
//! book.validOn('M54.5', '2021-10-01').valid // false: replaced by M54.50, M54.51, M54.59
//! book.checkClaim(['99213', '20610']).deniedLines // [0]: the visit needs modifier 25
//! ```
//!
//! Modules:
//! - [`book`]: `open`, `openAsync` and the `Book` class;
//! - [`validity`]: `Book.validOn` (codes on a date of service) and its answer;
//! - [`billing`]: `Book.checkClaim`, `Book.ptpEdits`, `Book.mue` (the NCCI edits), their
//!   claim lines and results;
//! - [`crosswalk`]: `Book.crosswalk` (ICD-9-CM ↔ ICD-10-CM GEMs) and its mappings;
//! - [`search`]: `Book.search` and `Book.searchAsync`, their options and hits;
//! - [`quota`]: the `Quota` class (metered code page views) and its results;
//! - [`code`]: the `System` type and the parsing of system names;
//! - [`record`]: the plain objects a lookup returns;
//! - [`tasks`]: the napi `Task`s behind the `...Async` calls;
//! - [`error`]: the one conversion of core errors into JS errors with a `code`.
//!
//! Conventions: sync calls for the fast paths, `...Async` variants that return Promises and
//! run on the libuv thread pool; plain objects out, camelCase property names, `null` for
//! absent values, dates as ISO strings (`"YYYY-MM-DD"`).

#![deny(clippy::all)]

// The order matters to napi's type generation: a task's result type is recorded when its
// `impl Task` is expanded, which must come before the methods that return the task (hence
// `tasks` first, in a group of its own that rustfmt does not reorder).
pub mod tasks;

pub mod book;
pub mod code;
pub mod error;
pub mod quota;
pub mod record;
pub mod search;

// More `Book` methods, from other core modules: after the class's own in index.d.ts.
pub mod billing;
pub mod crosswalk;
pub mod validity;

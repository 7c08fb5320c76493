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
//! ```
//!
//! Modules:
//! - [`book`]: `open`, `openAsync` and the `Book` class;
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

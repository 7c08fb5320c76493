//! The `Book` class: the core's [`codelookup::Book`] (look codes up, check them), and the
//! `open` / `openAsync` functions that give one.

use std::collections::BTreeMap;

use codelookup::quota::Quota as CoreQuota;
use codelookup::record::CodeRecord as CoreRecord;
use codelookup::Book as CoreBook;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::code::{parse_system, System};
use crate::error::or_throw;
use crate::quota::{Decision, Quota};
use crate::record::{convert, parse_date, CodeRecord};
use crate::tasks::{BookTask, CodeViewTask, RecordsTask, Work};

/// An open code book. Get one with `open()`, `openAsync()` or `new Book(path?)`; it is
/// read-only, in memory, and cheap to share. Every code argument may be in any common spelling
/// (`e119`, `E11.9`, ` E11.9 `, `0dtj4zz`); every `system` argument is optional (`icd10cm`,
/// `icd10pcs`, `hcpcs`, `cpt`, `local`, or spellings like `ICD-10-CM`) and an unknown name
/// throws `UNKNOWN_SYSTEM`.
#[napi]
pub struct Book {
    pub(crate) book: CoreBook,
    path: Option<String>,
}

/// One code of the book, as listed by `Book.codes()`.
#[napi(object, use_nullable = true)]
#[derive(Clone, Debug)]
pub struct CodeEntry {
    /// The code system.
    pub system: System,
    /// Canonical spelling (`E11.9`).
    pub code: String,
}

/// What `Book.viewCode` returns: the record to show and the quota's decision.
#[napi(object, use_nullable = true)]
#[derive(Clone, Debug)]
pub struct CodeView {
    /// The code's record.
    pub record: CodeRecord,
    /// The quota's decision (always `allowed`: a denial throws `QUOTA_EXCEEDED`).
    pub decision: Decision,
}

/// Options of `Book.viewCode`.
#[napi(object)]
#[derive(Clone, Debug, Default)]
pub struct ViewCodeOptions {
    /// Only this code system.
    pub system: Option<String>,
    /// Makes the call idempotent: a retry with the same key returns the first decision and
    /// charges nothing.
    pub request_key: Option<String>,
}

/// Options of `Book.lookup` (which also takes a system name alone).
#[napi(object)]
#[derive(Clone, Debug, Default)]
pub struct LookupOptions {
    /// Only this code system.
    pub system: Option<String>,
    /// A date of service, `"YYYY-MM-DD"`: the code must be valid on a claim with that date,
    /// else the lookup throws `NOT_VALID_ON_DATE`.
    pub on: Option<String>,
}

/// Opens a code book: the embedded default book (ICD-10-CM, ICD-10-PCS, HCPCS Level II) when
/// `path` is omitted, else a book file built by `codelookup build` (plain or `.zst`).
///
/// The first open of the default book decompresses it (about 0.3 s); later calls return the
/// same shared book at once. Throws `BOOK_ERROR` for a missing, corrupt or incompatible book.
///
/// ```js
/// const { open } = require('codelookup')
/// const book = open()
/// book.lookup('e119').title // 'Type 2 diabetes mellitus without complications'
/// ```
#[napi(catch_unwind, strict)]
pub fn open(env: &Env, path: Option<String>) -> Result<Book> {
    or_throw(env, Book::load(path))
}

/// Like `open`, off the main thread: resolves to the `Book`, or rejects with `BOOK_ERROR`.
#[napi(strict)]
pub fn open_async(path: Option<String>) -> AsyncTask<BookTask> {
    AsyncTask::new(BookTask(Work::new(move || Book::load(path))))
}

impl Book {
    fn load(path: Option<String>) -> codelookup::Result<Book> {
        let book = match &path {
            Some(p) => CoreBook::open(p)?,
            None => CoreBook::open_default()?,
        };
        Ok(Book { book, path })
    }
}

#[napi]
impl Book {
    /// Same as `open(path)`.
    #[napi(constructor, catch_unwind, strict)]
    pub fn new(env: &Env, path: Option<String>) -> Result<Book> {
        or_throw(env, Book::load(path))
    }

    /// The book file's path (`null` for the embedded book).
    #[napi(getter)]
    pub fn path(&self) -> Option<String> {
        self.path.clone()
    }

    /// Looks a code up. The second argument is a system name, or options `{ system, on }`.
    /// Without a system, the first system that has the code answers and `alsoIn` names the
    /// others. With `on`, a date of service `"YYYY-MM-DD"`, the code must be valid on a claim
    /// that day.
    ///
    /// Throws `INVALID_CODE` for input that cannot be a code, `NOT_FOUND` (with `suggestions`,
    /// the nearest real codes) for a well-formed code the book does not have,
    /// `NOT_VALID_ON_DATE` (with `date` and `replacedBy`; the message says when it was valid)
    /// for a code not valid on the date `on`, `INVALID_ARGUMENT` for a malformed date. About a
    /// microsecond in the core, plus building the JS object.
    ///
    /// ```js
    /// book.lookup('e119')                           // any system
    /// book.lookup('B20', 'icd10pcs')                // one system
    /// book.lookup('M54.5', { on: '2021-10-01' })    // throws NOT_VALID_ON_DATE, replacedBy ['M54.50', ...]
    /// ```
    #[napi(catch_unwind, strict)]
    pub fn lookup(&self, env: &Env, code: String, system_or_options: Option<Either<String, LookupOptions>>) -> Result<CodeRecord> {
        or_throw(env, lookup(&self.book, &code, system_or_options)).map(CodeRecord::from)
    }

    /// Like `lookup`, but one record for each system that has the code.
    #[napi(catch_unwind, strict)]
    pub fn lookup_all(&self, env: &Env, code: String, system: Option<String>) -> Result<Vec<CodeRecord>> {
        or_throw(env, parse_system(system.as_deref()).and_then(|s| self.book.lookup_all(&code, s))).map(convert)
    }

    /// Looks many codes up: one entry per input, in order, `null` where the code is malformed
    /// or unknown.
    #[napi(catch_unwind, strict)]
    pub fn lookup_many(&self, env: &Env, codes: Vec<String>, system: Option<String>) -> Result<Vec<Option<CodeRecord>>> {
        let system = or_throw(env, parse_system(system.as_deref()))?;
        Ok(records(self.book.lookup_many(codes, system)))
    }

    /// Like `lookupMany`, on the libuv pool.
    #[napi(strict)]
    pub fn lookup_many_async(&self, codes: Vec<String>, system: Option<String>) -> AsyncTask<RecordsTask> {
        let book = self.book.clone();
        AsyncTask::new(RecordsTask(Work::new(move || {
            let system = parse_system(system.as_deref())?;
            Ok(records(book.lookup_many(codes, system)))
        })))
    }

    /// The official long title of a code, or `null` when the input is malformed or not in the
    /// book: the fast path for "describe this code" (no record is built).
    #[napi(catch_unwind, strict)]
    pub fn title(&self, env: &Env, code: String, system: Option<String>) -> Result<Option<String>> {
        let system = or_throw(env, parse_system(system.as_deref()))?;
        Ok(self.book.title(&code, system).map(std::borrow::Cow::into_owned))
    }

    /// Whether the code exists in the book, billable or not. Malformed input is simply not
    /// valid. About 0.1 µs in the core.
    #[napi(catch_unwind, strict)]
    pub fn is_valid(&self, env: &Env, code: String, system: Option<String>) -> Result<bool> {
        let system = or_throw(env, parse_system(system.as_deref()))?;
        Ok(self.book.is_valid(&code, system))
    }

    /// Whether the code exists and is valid on a claim (billable).
    #[napi(catch_unwind, strict)]
    pub fn is_billable(&self, env: &Env, code: String, system: Option<String>) -> Result<bool> {
        let system = or_throw(env, parse_system(system.as_deref()))?;
        Ok(self.book.is_billable(&code, system))
    }

    /// The code systems this book holds.
    #[napi(getter)]
    pub fn systems(&self) -> Vec<System> {
        convert(self.book.systems())
    }

    /// Metadata of the book: format version, source files and their SHA-256 checksums.
    #[napi(getter)]
    pub fn metadata(&self) -> BTreeMap<String, String> {
        self.book.metadata().into_iter().collect()
    }

    /// Every code of the book (optionally of one system) in tabular order; chapters and
    /// sections are not codes and are not listed.
    #[napi(catch_unwind, strict)]
    pub fn codes(&self, env: &Env, system: Option<String>) -> Result<Vec<CodeEntry>> {
        let system = or_throw(env, parse_system(system.as_deref()))?;
        Ok(self
            .book
            .codes()
            .filter(|(s, _)| system.is_none_or(|want| want == *s))
            .map(|(system, code)| CodeEntry { system: system.into(), code })
            .collect())
    }

    /// Looks `code` up and charges `subject` one view of it on `quota`: the call behind a
    /// metered code page. Returns the record and the decision.
    ///
    /// A malformed or unknown code throws (`INVALID_CODE`, `NOT_FOUND`) and costs no view;
    /// every spelling of a code is the same unlock (the view is recorded under the canonical
    /// code). A denied view throws `QUOTA_EXCEEDED` (with `remaining`, `limit`, `reason`).
    #[napi(catch_unwind, strict)]
    pub fn view_code(&self, env: &Env, quota: &Quota, subject: String, code: String, options: Option<ViewCodeOptions>) -> Result<CodeView> {
        let quota = or_throw(env, quota.get())?;
        or_throw(env, view_code(&self.book, &quota, subject, code, options.unwrap_or_default()))
    }

    /// Like `viewCode`, on the libuv pool.
    #[napi(strict)]
    pub fn view_code_async(
        &self,
        quota: &Quota,
        subject: String,
        code: String,
        options: Option<ViewCodeOptions>,
    ) -> AsyncTask<CodeViewTask> {
        let book = self.book.clone();
        let quota = quota.get();
        AsyncTask::new(CodeViewTask(Work::new(move || view_code(&book, quota?.as_ref(), subject, code, options.unwrap_or_default()))))
    }
}

fn view_code(book: &CoreBook, quota: &CoreQuota, subject: String, code: String, options: ViewCodeOptions) -> codelookup::Result<CodeView> {
    let ViewCodeOptions { system, request_key } = options;
    let system = parse_system(system.as_deref())?;
    let (record, decision) = codelookup::quota::view_code(book, quota, &subject, &code, system, request_key.as_deref())?;
    Ok(CodeView { record: record.into(), decision: decision.into() })
}

fn lookup(book: &CoreBook, code: &str, system_or_options: Option<Either<String, LookupOptions>>) -> codelookup::Result<CoreRecord> {
    let LookupOptions { system, on } = match system_or_options {
        None => LookupOptions::default(),
        Some(Either::A(system)) => LookupOptions { system: Some(system), on: None },
        Some(Either::B(options)) => options,
    };
    let system = parse_system(system.as_deref())?;
    match on {
        Some(on) => book.lookup_on(code, system, parse_date(&on)?),
        None => book.lookup(code, system),
    }
}

fn records(recs: Vec<Option<CoreRecord>>) -> Vec<Option<CodeRecord>> {
    recs.into_iter().map(|r| r.map(CodeRecord::from)).collect()
}

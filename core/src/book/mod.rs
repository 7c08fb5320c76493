//! The compiled code book: open it (embedded default or a file), look codes up, check them.
//!
//! A book is built once from the official source files ([`Book::build`]) into one SQLite file
//! with an fst code index; opening reads it into memory, after which every call is a few
//! array and fst look-ups with no I/O. [`Book`] is cheap to clone and safe to share between
//! threads.

mod billing_store;
mod compile;
mod data;
mod hcpcs;
pub mod history;
mod imported;
mod index;
mod key_table;
pub(crate) mod memory;
mod record;
mod seventh;
mod store;

use std::borrow::Cow;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::code::{Key, Spelling, System};
use crate::error::{Error, Result};
use crate::import::sources::Sources;
use crate::record::CodeRecord;
pub(crate) use data::{BookData, NodeId};
use index::{Brief, CodeIndex};

/// The default book, compiled from `data/` by `codelookup build` and embedded (zstd-compressed).
static EMBEDDED: &[u8] = include_bytes!("../../book/default.book.zst");

/// An open code book.
#[derive(Clone, Debug)]
pub struct Book {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    data: BookData,
    index: CodeIndex,
    search: crate::search::SearchIndex,
}

impl Book {
    /// Opens the embedded default book (ICD-10-CM, ICD-10-PCS, HCPCS Level II). No file, no
    /// network. The first call decompresses and loads it (about 0.3 s); later calls return the
    /// same shared book at once.
    ///
    /// ```
    /// let book = codelookup::Book::open_default()?;
    /// assert!(book.is_valid("E11.9", None));
    /// # Ok::<(), codelookup::Error>(())
    /// ```
    pub fn open_default() -> Result<Book> {
        static DEFAULT: OnceLock<std::result::Result<Book, String>> = OnceLock::new();
        DEFAULT
            .get_or_init(|| {
                if EMBEDDED.is_empty() {
                    return Err("this build has no embedded code book; run `codelookup build` (see README)".into());
                }
                let bytes = zstd::decode_all(EMBEDDED).map_err(|e| format!("embedded code book is corrupt: {e}"))?;
                // Kept as the message only (the error is wrapped in `Error::Book` again below).
                let book = Book::from_bytes(&bytes).map_err(|e| match e {
                    Error::Book(message) => message,
                    other => other.to_string(),
                });
                drop(bytes);
                memory::release_static(EMBEDDED);
                memory::trim_heap();
                book
            })
            .clone()
            .map_err(Error::Book)
    }

    /// Opens a book file built by [`Book::build`] (or `codelookup build`), plain or
    /// zstd-compressed (`.zst`).
    ///
    /// A missing, truncated, corrupt or incompatible file is an [`Error::Book`].
    pub fn open(path: impl AsRef<Path>) -> Result<Book> {
        let path = path.as_ref();
        if path.extension().is_some_and(|e| e == "zst") {
            let raw = std::fs::read(path).map_err(|e| Error::Book(format!("cannot read {}: {e}", path.display())))?;
            let bytes =
                zstd::decode_all(&raw[..]).map_err(|e| Error::Book(format!("{} is not a compressed code book: {e}", path.display())))?;
            return Book::from_bytes(&bytes);
        }
        let conn = store::open_file(path)?;
        let book = Book::from_connection(&conn);
        drop(conn);
        memory::trim_heap();
        book
    }

    /// Opens a book from the bytes of a book file (uncompressed).
    pub fn from_bytes(bytes: &[u8]) -> Result<Book> {
        let conn = store::open_bytes(bytes)?;
        Book::from_connection(&conn)
    }

    fn from_connection(conn: &rusqlite::Connection) -> Result<Book> {
        let (data, index) = store::read(conn)?;
        let search = crate::search::SearchIndex::read(conn, &data)?;
        // A cold lookup reads a few places scattered over these arrays (see `memory`).
        data.nodes.prefer_huge_pages();
        data.history.prefer_huge_pages();
        index.prefer_huge_pages();
        search.prefer_huge_pages();
        Ok(Book { inner: Arc::new(Inner { data, index, search }) })
    }

    /// A book straight from compiled data, without a file (tests of other modules).
    #[cfg(test)]
    pub(crate) fn from_data(mut data: BookData) -> Result<Book> {
        data.compute_subtree_ends();
        data.finish();
        let index = CodeIndex::build(&data)?;
        let search = crate::search::SearchIndex::build(&data)?;
        Ok(Book { inner: Arc::new(Inner { data, index, search }) })
    }

    /// Compiles a book from source files and writes it to `out` (zstd-compressed when `out`
    /// ends in `.zst`). The same sources always give the same bytes. Nothing is left at `out`
    /// when the build fails.
    pub fn build(sources: &Sources, out: impl AsRef<Path>) -> Result<()> {
        let out = out.as_ref();
        let data = compile::compile(sources)?;
        let index = CodeIndex::build(&data)?;
        if out.extension().is_some_and(|e| e == "zst") {
            let plain = out.with_extension("");
            let plain = plain.with_file_name(format!(".{}.sqlite", plain.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()));
            store::write_file(&data, &index, &plain)?;
            let bytes = std::fs::read(&plain).map_err(|e| Error::io(&plain, e));
            let _ = std::fs::remove_file(&plain);
            let compressed = zstd::encode_all(&bytes?[..], 19).map_err(|e| Error::io(out, e))?;
            let tmp = out.with_extension("zst.partial");
            std::fs::write(&tmp, compressed).map_err(|e| Error::io(&tmp, e))?;
            std::fs::rename(&tmp, out).map_err(|e| Error::io(out, e))
        } else {
            store::write_file(&data, &index, out)
        }
    }

    /// Looks a code up in any common spelling (`e119`, `E11.9`, ` E11.9 `). With `system`,
    /// only that system is searched; without, the first system that has the code (in the
    /// order of [`System::ALL`]) answers and [`CodeRecord::also_in`] names the others.
    ///
    /// Errors: [`Error::InvalidCode`] for input that cannot be a code, [`Error::NotFound`]
    /// (with the nearest real codes) for a well-formed code the book does not have.
    /// Cost: about a microsecond for a code; headers list their billable descendants, so a
    /// large header costs more.
    ///
    /// ```
    /// let book = codelookup::Book::open_default()?;
    /// let e11 = book.lookup("E11", None)?;
    /// assert!(!e11.billable);
    /// assert!(e11.billable_descendants.contains(&"E11.9".to_string()));
    /// # Ok::<(), codelookup::Error>(())
    /// ```
    pub fn lookup(&self, code: &str, system: Option<System>) -> Result<CodeRecord> {
        let holders = self.find(code, system)?;
        let mut rec = self.holder_record(holders[0]);
        rec.also_in = holders[1..].iter().map(|&h| self.holder_system(h)).filter(|&s| s != rec.system).collect();
        Ok(rec)
    }

    /// Like [`Book::lookup`], but returns one record for each system that has the code.
    /// A code that is in no current code set but was in an earlier one (a deleted ICD-10 code)
    /// is found too: its record's `history.status` is `deleted`.
    pub fn lookup_all(&self, code: &str, system: Option<System>) -> Result<Vec<CodeRecord>> {
        let holders = self.find(code, system)?;
        let mut recs: Vec<CodeRecord> = holders.iter().map(|&h| self.holder_record(h)).collect();
        let systems: Vec<System> = recs.iter().map(|r| r.system).collect();
        for r in &mut recs {
            r.also_in = systems.iter().copied().filter(|s| *s != r.system).collect();
        }
        Ok(recs)
    }

    /// Looks many codes up; the result has one entry per input, in order, `None` where the
    /// code is malformed or unknown.
    ///
    /// ```
    /// let book = codelookup::Book::open_default()?;
    /// let recs = book.lookup_many(["E11.9", "nope", "J1100"], None);
    /// assert_eq!(recs.iter().map(Option::is_some).collect::<Vec<_>>(), [true, false, true]);
    /// # Ok::<(), codelookup::Error>(())
    /// ```
    pub fn lookup_many<I, S>(&self, codes: I, system: Option<System>) -> Vec<Option<CodeRecord>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        codes.into_iter().map(|c| self.lookup(c.as_ref(), system).ok()).collect()
    }

    /// Whether the code (in any spelling) exists in the book, billable or not. Never fails:
    /// malformed input is simply not valid. Cost: about 0.1 µs.
    ///
    /// ```
    /// let book = codelookup::Book::open_default()?;
    /// assert!(book.is_valid("e119", None) && !book.is_valid("E11.99", None));
    /// # Ok::<(), codelookup::Error>(())
    /// ```
    pub fn is_valid(&self, code: &str, system: Option<System>) -> bool {
        self.first_at(code, system).is_some()
    }

    /// Whether the code exists and is valid on a claim (billable).
    pub fn is_billable(&self, code: &str, system: Option<System>) -> bool {
        self.first_at(code, system).is_some_and(|(_, brief)| brief.billable)
    }

    /// The official long title of a code (in any spelling), or `None` when the input is
    /// malformed or not in the book. With `system`, only that system answers; without, the
    /// first system that has the code (as in [`Book::lookup`]).
    ///
    /// The fast path for "describe this code": no record is built. The titles of codes are
    /// kept compressed in memory, so the title is decoded (a few tens of nanoseconds); headers'
    /// titles are borrowed as they are. Cost: about the cost of [`Book::is_valid`] plus that.
    ///
    /// ```
    /// let book = codelookup::Book::open_default()?;
    /// assert_eq!(book.title("e119", None).as_deref(), Some("Type 2 diabetes mellitus without complications"));
    /// assert_eq!(book.title("E11.99", None), None);
    /// # Ok::<(), codelookup::Error>(())
    /// ```
    pub fn title(&self, code: &str, system: Option<System>) -> Option<Cow<'_, str>> {
        self.first_id(code, system).map(|id| self.inner.data.nodes.at(id).title())
    }

    /// The code systems this book holds.
    pub fn systems(&self) -> Vec<System> {
        let mut v: Vec<System> = System::ALL.into_iter().filter(|s| self.inner.data.nodes.iter().any(|n| n.system == *s)).collect();
        v.dedup();
        v
    }

    /// Metadata of the book: format version, source files and their SHA-256 checksums.
    pub fn metadata(&self) -> Vec<(String, String)> {
        self.inner.data.meta.clone()
    }

    /// Every code of the book as (system, canonical code), in tabular order; chapters and
    /// sections are not codes and are not listed.
    pub fn codes(&self) -> impl Iterator<Item = (System, String)> + '_ {
        self.inner.data.nodes.iter().filter(|n| n.is_code()).map(|n| (n.system, n.code()))
    }

    /// The first node carrying the code, without allocating.
    fn first_id(&self, code: &str, system: Option<System>) -> Option<NodeId> {
        self.first_at(code, system).map(|(id, _)| id)
    }

    /// The node [`Book::lookup`] would answer with, and its brief. Reads only the index, not
    /// the nodes.
    fn first_at(&self, code: &str, system: Option<System>) -> Option<(NodeId, Brief)> {
        let Spelling { key, packed, dotted } = Key::parse_spelling(code).ok()?;
        let briefs = self.inner.index.briefs(packed);
        let fits = |(_, b): &(NodeId, Brief)| spelling_fits(dotted, b.system, system);
        // The system the spelling points at first (J1100 is HCPCS before it is ICD-10-CM J11.00).
        briefs.clone().find(|b| fits(b) && prefers(dotted, &key, b.1.system)).or_else(|| briefs.clone().find(fits))
    }

    /// The record of a current node or of a retired code.
    fn holder_record(&self, h: history::Holder) -> CodeRecord {
        match h {
            history::Holder::Node(id) => self.record(id),
            history::Holder::Retired(i) => self.retired_record(i),
        }
    }

    fn holder_system(&self, h: history::Holder) -> System {
        match h {
            history::Holder::Node(id) => self.inner.data.nodes[id as usize].system,
            history::Holder::Retired(i) => self.inner.data.history.retired[i as usize].system,
        }
    }

    /// The current nodes carrying the code, or else the retired codes carrying it. Nodes come
    /// in the systems the spelling allows, the system the spelling points at first, then in
    /// the order of [`System::ALL`]. Held inline: nearly every code has one holder, and a
    /// lookup should not allocate for it.
    fn find(&self, code: &str, system: Option<System>) -> Result<smallvec::SmallVec<[history::Holder; 4]>> {
        let Spelling { key, packed, dotted } = Key::parse_spelling_for(code, system)?;
        let ids = self.inner.index.get_packed(packed);
        // The system from the node, not the index's brief: the record reads the node next, so
        // this is the one cache miss both need.
        let nodes = &self.inner.data.nodes;
        let fitting = || ids.iter().map(|&id| (id, nodes[id as usize].system)).filter(|&(_, s)| spelling_fits(dotted, s, system));
        // The system the spelling points at first (J1100 is HCPCS before it is ICD-10-CM J11.00).
        let mut found: smallvec::SmallVec<[history::Holder; 4]> = fitting()
            .filter(|&(_, s)| prefers(dotted, &key, s))
            .chain(fitting().filter(|&(_, s)| !prefers(dotted, &key, s)))
            .map(|(id, _)| history::Holder::Node(id))
            .collect();
        if found.is_empty() {
            let hist = &self.inner.data.history;
            found.extend(
                hist.retired_by_key(key.as_str())
                    .filter(|&i| system.is_none_or(|s| hist.retired[i as usize].system == s))
                    .map(history::Holder::Retired),
            );
        }
        if found.is_empty() {
            let code = crate::code::truncate_for_message(code.trim());
            return Err(Error::NotFound { code, suggestions: self.suggest(&key, system) });
        }
        Ok(found)
    }

    pub(crate) fn search_index(&self) -> &crate::search::SearchIndex {
        &self.inner.search
    }

    pub(crate) fn data(&self) -> &BookData {
        &self.inner.data
    }

    pub(crate) fn index(&self) -> &CodeIndex {
        &self.inner.index
    }
}

/// Whether a spelling (`dotted`: with a dot) may name a code of `system` (with `wanted` the
/// caller's system filter): a dot after the third character is the ICD-10-CM spelling, which
/// no other system uses.
fn spelling_fits(dotted: bool, system: System, wanted: Option<System>) -> bool {
    wanted.is_none_or(|w| w == system) && (system == System::Icd10cm || !dotted)
}

/// Whether an undotted spelling points at `system` before the default order: a letter and four
/// digits is how HCPCS Level II codes are written (`J1100`), while ICD-10-CM codes are usually
/// written with their dot (`J11.00`).
fn prefers(dotted: bool, key: &Key, system: System) -> bool {
    system == System::Hcpcs && key.as_bytes().len() == 5 && !dotted
}

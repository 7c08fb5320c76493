//! The default book against its sources: every code of the official files is in the book with
//! exactly its official long title and billable flag, the book holds nothing else, the
//! committed book is what the sources build, and broken book files give clear errors.
//!
//! The source files are parsed here independently of the importers (plain column slicing of the
//! order files, the CSV form of the HCPCS file while the book is built from the xlsx), so an
//! importer bug cannot hide itself.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use codelookup::import::sources::Sources;
use codelookup::{Book, Error, System};

fn data_dir() -> PathBuf {
    Sources::repository_data_dir()
}

/// (code, billable, long title) of every line of the order file in a CMS zip.
fn order_file(zip: &str, prefix: &str) -> Vec<(String, bool, String)> {
    let f = std::fs::File::open(data_dir().join(zip)).unwrap();
    let mut z = zip::ZipArchive::new(f).unwrap();
    let name = z.file_names().find(|n| n.starts_with(prefix) && !n.contains("addenda")).unwrap().to_string();
    let mut text = String::new();
    z.by_name(&name).unwrap().read_to_string(&mut text).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| (l[6..13].trim().to_string(), &l[14..15] == "1", l[77..].trim().to_string()))
        .collect()
}

/// (code, billable, long title) of every row of the HCPCS CSV: billable unless terminated or a
/// modifier.
fn hcpcs_csv() -> Vec<(String, bool, String)> {
    let gz = std::fs::File::open(data_dir().join("hcpcs/HCPC2025_OCT_ANWEB.csv.gz")).unwrap();
    let mut rdr = csv::Reader::from_reader(flate2::read::GzDecoder::new(gz));
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (c, long, term) = (col("HCPC"), col("LONG DESCRIPTION"), col("TERM DT"));
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let code = r[c].trim().to_string();
            let billable = code.len() == 5 && r[term].trim().is_empty();
            (code, billable, r[long].trim().to_string())
        })
        .collect()
}

#[test]
fn every_source_code_is_in_the_book_with_its_official_title_and_flag() {
    let book = Book::open_default().unwrap();
    let mut expected: HashSet<(System, String)> = HashSet::new();
    let sets = [
        (System::Icd10cm, order_file("icd10cm/cms_2026_dx.zip", "icd10cm_order_")),
        (System::Icd10pcs, order_file("icd10pcs/cms_2026_pr.zip", "icd10pcs_order_")),
        (System::Hcpcs, hcpcs_csv()),
    ];
    let mut checked = 0;
    for (system, rows) in &sets {
        assert!(rows.len() > 8_000, "{system}: only {} rows", rows.len());
        for (code, billable, title) in rows {
            let rec = book.lookup(code, Some(*system)).unwrap_or_else(|e| panic!("{system} {code}: {e}"));
            assert_eq!(&rec.title, title, "{system} {code}");
            assert_eq!(rec.billable, *billable, "{system} {code}");
            assert_eq!(book.is_billable(code, Some(*system)), *billable, "{system} {code}");
            expected.insert((*system, rec.code));
            checked += 1;
        }
    }
    assert!(checked > 185_000, "walked {checked} codes");
    // Nothing in the book that the sources do not have.
    let in_book: Vec<_> = book.codes().collect();
    assert_eq!(in_book.len(), expected.len());
    for c in &in_book {
        assert!(expected.contains(c), "{c:?} is not in the sources");
    }
}

#[test]
fn the_committed_default_book_is_what_the_sources_build() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rebuilt.book.zst");
    Book::build(&Sources::in_dir(data_dir()), &out).unwrap();
    let rebuilt = std::fs::read(&out).unwrap();
    let committed = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("book/default.book.zst")).unwrap();
    assert!(
        rebuilt == committed,
        "core/book/default.book.zst is stale: rebuild it with `cargo run --release -p codelookup -- build --out core/book/default.book.zst`"
    );
}

fn expect_book_error(result: Result<Book, Error>, what: &str) {
    match result {
        Err(Error::Book(msg)) => assert!(!msg.is_empty(), "{what}"),
        Err(other) => panic!("{what}: expected a book error, got {other:?}"),
        Ok(_) => panic!("{what}: opened"),
    }
}

#[test]
fn broken_book_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let compressed = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("book/default.book.zst")).unwrap();
    let plain = zstd::decode_all(&compressed[..]).unwrap();

    expect_book_error(Book::open(dir.path().join("missing.book")), "missing file");
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    expect_book_error(Book::open(write("empty.book", b"")), "empty file");
    expect_book_error(Book::open(write("text.book", b"this is not a code book")), "text file");
    for cut in [100, 4096, plain.len() / 3, plain.len() - 4096] {
        expect_book_error(Book::open(write("cut.book", &plain[..cut])), &format!("truncated at {cut}"));
        expect_book_error(Book::from_bytes(&plain[..cut]), &format!("truncated bytes at {cut}"));
    }
    expect_book_error(Book::open(write("cut.book.zst", &compressed[..compressed.len() / 2])), "truncated .zst");
    // Flipped bytes in the middle of the file: an error or a book, never a panic.
    let mut flipped = plain.clone();
    for i in (plain.len() / 2..plain.len() / 2 + 50_000).step_by(97) {
        flipped[i] ^= 0x5a;
    }
    let _ = Book::from_bytes(&flipped);
    // A SQLite database that is not a book.
    let other = dir.path().join("other.sqlite");
    rusqlite::Connection::open(&other).unwrap().execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);").unwrap();
    expect_book_error(Book::open(&other), "foreign SQLite file");
    // A book of another format version.
    let newer = write("newer.book", &plain);
    rusqlite::Connection::open(&newer).unwrap().execute_batch("PRAGMA user_version = 999;").unwrap();
    expect_book_error(Book::open(&newer), "newer format");
}

#[test]
fn a_failed_build_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let mut sources = Sources::in_dir(data_dir());
    let bad = dir.path().join("bad.zip");
    std::fs::write(&bad, b"PK not really a zip").unwrap();
    sources.icd10pcs_order = bad;
    let out = dir.path().join("out.book");
    let err = Book::build(&sources, &out).unwrap_err();
    assert!(matches!(err, Error::Import { .. }), "{err:?}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("bad.zip")]);
}

#[test]
fn lookup_all_returns_each_system() {
    let book = Book::open_default().unwrap();
    let recs = book.lookup_all("B20", None).unwrap();
    let systems: Vec<_> = recs.iter().map(|r| r.system).collect();
    assert_eq!(systems, [System::Icd10cm, System::Icd10pcs]);
    assert_eq!(recs[1].also_in, [System::Icd10cm]);
    // `lookup` gives the first record only, and names the other system.
    let one = book.lookup("B20", None).unwrap();
    assert_eq!((one.system, one.also_in), (System::Icd10cm, vec![System::Icd10pcs]));
    assert_eq!(book.lookup("B20", Some(System::Icd10pcs)).unwrap().also_in, []);
}

#[test]
fn records_share_parents_notes_and_pcs_axes() {
    // What every record below a category repeats is shared with the book, not copied.
    let book = Book::open_default().unwrap();
    let (a, b) = (book.lookup("E11.9", None).unwrap(), book.lookup("E11.65", None).unwrap());
    let top: Vec<_> = a.parents.iter().map(|p| p.code.to_string()).collect();
    assert_eq!(top, ["Chapter 4", "E08-E13", "E11"]);
    for (p, q) in a.parents.iter().zip(b.parents.iter()) {
        assert!(Arc::ptr_eq(&p.code, &q.code) && Arc::ptr_eq(&p.title, &q.title), "{p:?}");
    }
    // Siblings share the whole list of parents, and it is the one their parent's children get.
    let sibling = book.lookup("E11.8", None).unwrap();
    assert!(Arc::ptr_eq(&a.parents, &sibling.parents));
    assert!(!Arc::ptr_eq(&a.parents, &b.parents) && b.parents.len() == 4);
    let from_top = |r: &codelookup::record::CodeRecord| -> Vec<codelookup::record::Note> {
        r.notes.iter().filter(|n| top.iter().any(|t| *t == *n.source)).cloned().collect()
    };
    let (na, nb) = (from_top(&a), from_top(&b));
    assert!(na.len() >= 5 && na == nb, "{na:?}");
    assert!(na.iter().zip(&nb).all(|(x, y)| Arc::ptr_eq(&x.text, &y.text) && Arc::ptr_eq(&x.source, &y.source)));

    let (p, q) = (book.lookup("0DTJ4ZZ", None).unwrap(), book.lookup("0DTJ0ZZ", None).unwrap());
    assert_eq!(&*p.pcs_axes[2].label, "Resection");
    assert!(p.pcs_axes[2].definition.is_some());
    for i in [0, 1, 2, 3, 5, 6] {
        assert!(Arc::ptr_eq(&p.pcs_axes[i], &q.pcs_axes[i]), "axis {i}");
    }
    assert_ne!(p.pcs_axes[4].label, q.pcs_axes[4].label);
    // The same approach means the same in another table: one shared axis.
    let other = book.lookup("0DB64ZZ", None).unwrap();
    assert!(Arc::ptr_eq(&p.pcs_axes[4], &other.pcs_axes[4]), "{:?}", other.pcs_axes[4]);
}

#[test]
fn seventh_characters_have_their_meaning() {
    // Injury codes (S) of seven characters all carry a 7th character; elsewhere
    // a seven-character code may be a plain subdivision (C44.1021, T86.8401), which has none.
    let book = Book::open_default().unwrap();
    let mut n = 0;
    for (system, code) in book.codes() {
        if system == System::Icd10cm && code.len() == 8 {
            let rec = book.lookup(&code, Some(system)).unwrap();
            match rec.seventh_character {
                Some(s) => {
                    assert_eq!(s.character, &code[7..]);
                    n += 1;
                }
                None => assert!(!code.starts_with('S'), "{code} has no 7th-character meaning"),
            }
        }
    }
    assert!(n > 40_000, "{n}");
    assert!(book.lookup("C44.1021", None).unwrap().seventh_character.is_none());
}

//! Books with user-supplied code sets: CPT from AMA-layout files (made-up fixture descriptors,
//! never AMA text) and a local code set from CSV, built on top of the default sources.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use codelookup::book::history::ValidityStatus;
use codelookup::import::codes_csv::{ColumnMapping, CsvImport};
use codelookup::import::sources::{LocalSource, Sources};
use codelookup::record::{CodeStatus, NodeKind};
use codelookup::{Book, Error, System};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn sources_with_cpt_and_local() -> Sources {
    let mut s = Sources::in_dir(Sources::repository_data_dir());
    s.cpt = Some(fixtures().join("cpt"));
    let mapping = ColumnMapping::parse("code=code,title=title,billable=billable,description=Notes").unwrap();
    s.local.push(LocalSource { path: fixtures().join("csv/local_codes.csv"), import: CsvImport::local(mapping) });
    s
}

#[test]
fn cpt_and_local_codes_join_the_book() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("with-cpt.book");
    Book::build(&sources_with_cpt_and_local(), &out).unwrap();
    let book = Book::open(&out).unwrap();
    assert!(book.systems().contains(&System::Cpt) && book.systems().contains(&System::Local));

    let rec = book.lookup("62322", None).unwrap();
    assert_eq!(rec.system, System::Cpt);
    assert_eq!(rec.title, "Fixture long descriptor for 62322, replacement one, not AMA text");
    assert!(rec.billable);
    let visit = book.lookup("99213", None).unwrap();
    assert_eq!(visit.description.as_deref(), Some("Fixture consumer descriptor for 99213, not AMA text"));
    assert_eq!(visit.clinician_descriptors.len(), 2);
    let d = |s: &str| s.parse::<NaiveDate>().unwrap();
    assert!(book.valid_on("62322", None, d("2017-01-01")).unwrap().valid);
    assert_eq!(book.valid_on("62322", None, d("2016-12-31")).unwrap().status, ValidityStatus::NotYetValid);

    // A deleted CPT code: found, says so, names its replacements and its last valid day.
    let old = book.lookup("62311", None).unwrap();
    let h = old.history.clone().unwrap();
    assert_eq!(h.status, CodeStatus::Deleted);
    assert_eq!(h.replaced_by, ["62322", "62323"]);
    assert_eq!(h.valid_until, Some(d("2016-12-31")));
    let v = book.valid_on("62311", None, d("2017-01-01")).unwrap();
    assert_eq!(v.status, ValidityStatus::NoLongerValid);
    assert!(matches!(book.lookup_on("62311", None, d("2018-01-01")), Err(Error::NotValidOnDate { .. })));

    // A CPT modifier.
    assert_eq!(book.lookup("25", Some(System::Cpt)).unwrap().kind, NodeKind::Modifier);

    // Local codes, with their billable flags and descriptions.
    let lab = book.lookup("LAB01", None).unwrap();
    assert_eq!((lab.system, lab.billable), (System::Local, true));
    assert_eq!(lab.description.as_deref(), Some("Made-up note, with a comma"));
    assert!(!book.is_billable("lab02", None));

    // The official code sets are unchanged.
    assert_eq!(book.lookup("E11.9", None).unwrap().title, "Type 2 diabetes mellitus without complications");
}

#[test]
fn a_bad_cpt_folder_fails_the_build_and_leaves_no_book() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bad.book");
    // Missing LONGULT.txt.
    let mut s = Sources::in_dir(Sources::repository_data_dir());
    s.cpt = Some(dir.path().join("no-such-folder"));
    assert!(matches!(Book::build(&s, &out), Err(Error::Io { .. })));
    // A malformed line.
    let cpt = dir.path().join("cpt");
    std::fs::create_dir(&cpt).unwrap();
    std::fs::write(cpt.join("LONGULT.txt"), "99213\tFixture descriptor\nNOTACODE\tFixture\n").unwrap();
    s.cpt = Some(cpt);
    assert!(matches!(Book::build(&s, &out), Err(Error::Import { .. })));
    assert!(!out.exists());
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("cpt")], "no partial book");
}

#[test]
fn a_local_code_may_not_overwrite_an_official_one() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("clash.csv");
    std::fs::write(&csv, "code,title\nJ1100,Not the official title\n").unwrap();
    let mut s = Sources::in_dir(Sources::repository_data_dir());
    let mapping = ColumnMapping::parse("code=code,title=title").unwrap();
    s.local.push(LocalSource { path: csv, import: CsvImport { delimiter: None, mapping, default_system: System::Hcpcs } });
    let out = dir.path().join("clash.book");
    match Book::build(&s, &out) {
        Err(Error::Import { message, .. }) => assert!(message.contains("J1100"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert!(!out.exists());
}

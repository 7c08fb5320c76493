//! Date-of-service validity against the CMS files themselves: every code of every order file
//! FY2014-FY2026 is listed in exactly the fiscal years its order file lists it as billable, is
//! valid on claims in exactly those years from FY2016 (ICD-10 took effect on 2015-10-01), and
//! the cases a coder knows (M54.5, R05, U07.1) come out right.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;

use chrono::NaiveDate;
use codelookup::book::history::ValidityStatus;
use codelookup::import::sources::Sources;
use codelookup::record::CodeStatus;
use codelookup::{Book, Error, System};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Every (system, code) -> fiscal years billable, and every code listed, read straight from the
/// yearly CMS zips by column slicing.
fn billable_years() -> HashMap<(System, String), BTreeSet<u16>> {
    let data = Sources::repository_data_dir();
    let mut out: HashMap<(System, String), BTreeSet<u16>> = HashMap::new();
    for year in 2014..=2026u16 {
        for (system, tag, prefix) in [(System::Icd10cm, "dx", "icd10cm_order_"), (System::Icd10pcs, "pr", "icd10pcs_order_")] {
            let path = if year == 2026 {
                data.join(if tag == "dx" { "icd10cm/cms_2026_dx.zip" } else { "icd10pcs/cms_2026_pr.zip" })
            } else {
                data.join(format!("history/cms_{year}_{tag}.zip"))
            };
            let mut z = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
            let name = z
                .file_names()
                .find(|n| {
                    let base = n.rsplit('/').next().unwrap();
                    base.starts_with(prefix) && !base.contains("addenda") && base.ends_with(".txt")
                })
                .unwrap_or_else(|| panic!("no order file in {}", path.display()))
                .to_string();
            let mut bytes = Vec::new();
            z.by_name(&name).unwrap().read_to_end(&mut bytes).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            let mut n = 0;
            for line in text.lines().filter(|l| l.len() > 15) {
                let years = out.entry((system, line[6..13].trim().to_string())).or_default();
                if &line[14..15] == "1" {
                    years.insert(year);
                }
                n += 1;
            }
            assert!(n > 60_000, "{year} {system}: {n} lines");
        }
    }
    out
}

#[test]
fn every_code_of_every_year_is_valid_exactly_in_its_years() {
    let book = Book::open_default().unwrap();
    let expected = billable_years();
    assert!(expected.len() > 180_000);
    for ((system, code), years) in &expected {
        let rec = book.lookup(code, Some(*system)).unwrap_or_else(|e| panic!("{system} {code}: {e}"));
        let h = rec.history.as_ref().unwrap_or_else(|| panic!("{code} has no history"));
        let got: BTreeSet<u16> = h.valid_fiscal_years.iter().copied().collect();
        assert_eq!(&got, years, "{system} {code}");
    }
    // And date by date for a sample: the middle of each fiscal year (every 97th code).
    for ((system, code), years) in expected.iter().step_by(97) {
        for fy in 2014..=2026u16 {
            let date = NaiveDate::from_ymd_opt(fy as i32, 3, 15).unwrap();
            let v = book.valid_on(code, Some(*system), date).unwrap();
            if v.status != ValidityStatus::Valid || !years.contains(&fy) {
                // Only mid-year additions may be valid outside their listed years.
                let mid_year = v.valid_from.is_some_and(|f| f.format("%m-%d").to_string() != "10-01");
                assert!(v.valid == (years.contains(&fy) && fy >= 2016) || mid_year, "{code} FY{fy}: {v:?}");
                if fy < 2016 && years.contains(&fy) {
                    assert!(!v.valid && v.status == ValidityStatus::NotYetValid, "{code} FY{fy}: {v:?}");
                }
            }
        }
    }
}

#[test]
fn m54_5_was_split_on_2021_10_01() {
    let book = Book::open_default().unwrap();
    let before = book.valid_on("M54.5", None, d("2021-09-30")).unwrap();
    assert!(before.valid, "{before:?}");
    let after = book.valid_on("M54.5", None, d("2021-10-01")).unwrap();
    assert!(!after.valid);
    assert_eq!(after.status, ValidityStatus::NoLongerValid);
    assert_eq!(after.valid_until, Some(d("2021-09-30")));
    assert_eq!(after.replaced_by, ["M54.50", "M54.51", "M54.59"]);
    assert!(after.message.contains("2021-09-30") && after.message.contains("M54.50"), "{}", after.message);
    for new in ["M54.50", "M54.51", "M54.59"] {
        assert!(!book.valid_on(new, None, d("2021-09-30")).unwrap().valid);
        let v = book.valid_on(new, None, d("2021-10-01")).unwrap();
        assert!(v.valid, "{v:?}");
        let rec = book.lookup(new, None).unwrap();
        assert_eq!(rec.history.unwrap().replaces, ["M54.5"]);
    }
    // lookup with a date of service: a typed error naming the replacement.
    match book.lookup_on("M54.5", None, d("2022-06-01")) {
        Err(Error::NotValidOnDate { code, replaced_by, .. }) => {
            assert_eq!(code, "M54.5");
            assert!(replaced_by.contains(&"M54.59".to_string()));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(book.lookup_on("M54.5", None, d("2021-06-01")).unwrap().code, "M54.5");
}

#[test]
fn r05_before_and_after_fy2022() {
    let book = Book::open_default().unwrap();
    assert!(book.valid_on("R05", None, d("2021-09-30")).unwrap().valid);
    let v = book.valid_on("R05", None, d("2022-01-15")).unwrap();
    assert!(!v.valid);
    for c in ["R05.1", "R05.9"] {
        assert!(v.replaced_by.contains(&c.to_string()), "{v:?}");
        assert!(book.valid_on(c, None, d("2022-01-15")).unwrap().valid);
        assert_eq!(book.valid_on(c, None, d("2021-01-15")).unwrap().status, ValidityStatus::NotYetValid);
    }
}

#[test]
fn u07_1_mid_year_addition_on_2020_04_01() {
    // U07.1 is first listed in the FY2021 order file, but the NCHS conversion table gives its
    // real effective date, April 1, 2020: the book treats it as valid from that date.
    let book = Book::open_default().unwrap();
    let rec = book.lookup("U07.1", None).unwrap();
    let h = rec.history.unwrap();
    assert_eq!(h.valid_from, Some(d("2020-04-01")));
    assert_eq!(h.valid_fiscal_years.first(), Some(&2021));
    let v = book.valid_on("U07.1", None, d("2020-03-31")).unwrap();
    assert_eq!((v.valid, v.status), (false, ValidityStatus::NotYetValid));
    assert!(book.valid_on("U07.1", None, d("2020-04-01")).unwrap().valid);
    assert!(book.valid_on("U07.1", None, d("2020-09-30")).unwrap().valid);
    assert!(book.valid_on("U07.1", None, d("2025-01-01")).unwrap().valid);
}

#[test]
fn a_deleted_code_is_found_and_says_so() {
    let book = Book::open_default().unwrap();
    let rec = book.lookup("H40.11X0", None).unwrap();
    assert_eq!(rec.title, "Primary open-angle glaucoma, stage unspecified");
    assert!(!rec.billable);
    let h = rec.history.unwrap();
    assert_eq!(h.status, CodeStatus::Deleted);
    assert_eq!(h.valid_fiscal_years, [2014, 2015, 2016]);
    assert_eq!(h.valid_until, Some(d("2016-09-30")));
    assert!(h.replaced_by.contains(&"H40.1110".to_string()), "{h:?}");
    assert_eq!(&*rec.parents.last().unwrap().code, "H40.11");
    assert!(!book.valid_on("H40.11X0", None, d("2020-01-01")).unwrap().valid);
    assert!(book.valid_on("H40.11X0", None, d("2016-01-01")).unwrap().valid);
    // Deleted codes are not part of the current code set.
    assert!(!book.codes().any(|(_, c)| c == "H40.11X0"));
}

#[test]
fn hcpcs_validity_follows_its_dates() {
    let book = Book::open_default().unwrap();
    let v = book.valid_on("J1100", None, d("1981-06-01")).unwrap();
    assert_eq!(v.status, ValidityStatus::NotYetValid);
    assert!(book.valid_on("J1100", None, d("2024-06-01")).unwrap().valid);
    let e11 = book.valid_on("E11", None, d("2024-06-01")).unwrap();
    assert_eq!(e11.status, ValidityStatus::NotBillable);
}

#[test]
fn search_filters_by_date_of_service() {
    use codelookup::search::SearchOptions;
    let book = Book::open_default().unwrap();
    let codes = |date: &str| -> Vec<String> {
        let opts = SearchOptions { date: Some(d(date)), systems: vec![System::Icd10cm], limit: 50, ..Default::default() };
        book.search("low back pain", &opts).unwrap().into_iter().map(|h| h.code).collect()
    };
    let before = codes("2021-06-01");
    assert!(before.contains(&"M54.5".to_string()) && !before.contains(&"M54.50".to_string()), "{before:?}");
    let after = codes("2022-06-01");
    assert!(!after.contains(&"M54.5".to_string()) && after.contains(&"M54.50".to_string()), "{after:?}");
}

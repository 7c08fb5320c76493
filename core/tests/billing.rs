//! Billing checks and the crosswalk on the default book, against the source files in `data/`:
//! every PTP pair, MUE and GEM row of the sources is in the book exactly as the files state it
//! (the files are parsed here with plain serde_json and string splitting, independently of the
//! importers), known pairs, limits and mappings, the undated default data, and the CLI.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::Command;

use codelookup::billing::ClaimLine;
use codelookup::crosswalk::Direction;
use codelookup::import::sources::Sources;
use codelookup::{Book, Error};

fn data(path: &str) -> PathBuf {
    Sources::repository_data_dir().join(path)
}

fn gunzip(path: &str) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(data(path)).unwrap()).read_to_end(&mut out).unwrap();
    out
}

fn book() -> Book {
    Book::open_default().unwrap()
}

fn meta(book: &Book, key: &str) -> String {
    book.metadata().into_iter().find(|(k, _)| k == key).map(|(_, v)| v).unwrap_or_default()
}

fn claim(spec: &[&str]) -> Vec<ClaimLine> {
    spec.iter().map(|s| ClaimLine::parse(s).unwrap()).collect()
}

#[test]
fn every_ptp_pair_of_the_sources_is_in_the_book() {
    let book = book();
    let mut total = 0usize;
    let mut checked = 0usize;
    for i in 0..10 {
        let v: serde_json::Value = serde_json::from_slice(&gunzip(&format!("ncci/ptp-{i:02}.json.gz"))).unwrap();
        for group in v.as_array().unwrap() {
            let c1 = group[0].as_str().unwrap();
            let pairs = group[1].as_array().unwrap();
            total += pairs.len();
            // Every pair of a sample of column 1 codes, one pair of every other.
            let all = total % 7 == 0;
            for (n, p) in pairs.iter().enumerate() {
                if !all && n != pairs.len() / 2 {
                    continue;
                }
                let c2 = p[0].as_str().unwrap();
                let edits = book.ptp_edits([c1, c2]).unwrap();
                assert_eq!(edits.len(), 1, "{c1}/{c2}: {edits:?}");
                let e = &edits[0];
                assert_eq!((e.column1.as_str(), e.column2.as_str(), e.column1_line, e.column2_line), (c1, c2, 0, 1));
                assert_eq!(i64::from(e.modifier_indicator), p[1].as_i64().unwrap(), "{c1}/{c2}");
                assert_eq!(&*e.rationale, p[2].as_str().unwrap(), "{c1}/{c2}");
                assert_eq!((e.effective, e.deleted, e.bypassed), (None, None, false));
                checked += 1;
            }
        }
    }
    assert_eq!(total, 2_140_693);
    assert_eq!(meta(&book, "ncci_ptp_edits"), total.to_string());
    assert!(checked > 300_000, "checked {checked}");
}

#[test]
fn every_mue_of_the_source_is_in_the_book() {
    let book = book();
    let v: serde_json::Value = serde_json::from_slice(&gunzip("ncci/mue.json.gz")).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 15_095);
    for r in rows {
        let code = r[0].as_str().unwrap();
        let m = book.mue(code).unwrap().unwrap_or_else(|| panic!("{code} has no MUE"));
        assert_eq!(m.code, code);
        assert_eq!(i64::from(m.mue_value), r[1].as_i64().unwrap(), "{code}");
        assert_eq!(i64::from(m.adjudication_indicator), r[2].as_i64().unwrap(), "{code}");
        assert_eq!(&*m.rationale, r[3].as_str().unwrap(), "{code}");
    }
    assert_eq!(meta(&book, "ncci_mue_codes"), "15095");
}

#[test]
fn known_pairs_and_limits() {
    let book = book();
    // 20610 (arthrocentesis, major joint) bundles 99213 (office visit), modifier allowed.
    let e = &book.ptp_edits(["99213", "20610"]).unwrap()[0];
    assert_eq!((e.column1.as_str(), e.column2.as_str(), e.modifier_indicator), ("20610", "99213", 1));
    assert_eq!(&*e.rationale, "CPT Manual or CMS manual coding instruction");
    // 29881 (knee arthroscopy, meniscectomy) and 29880: modifier allowed; 29877 and 29880: never.
    let pairs = book.ptp_edits(["29877", "29880", "29881"]).unwrap();
    let summary: Vec<_> = pairs.iter().map(|e| (e.column1.as_str(), e.column2.as_str(), e.modifier_indicator)).collect();
    assert_eq!(summary, [("29877", "29880", 0), ("29877", "29881", 0), ("29880", "29881", 1)]);
    // Indicator 9 exists in the data.
    let e = &book.ptp_edits(["0001A", "90460"]).unwrap()[0];
    assert_eq!(e.modifier_indicator, 9);
    assert!(book.check_claim(&claim(&["0001A", "90460"]), None).unwrap().ptp.is_empty());
    // No edit between 99213 and 36415 (venipuncture).
    assert!(book.ptp_edits(["99213", "36415"]).unwrap().is_empty());

    let m = book.mue("36415").unwrap().unwrap();
    assert_eq!((m.mue_value, m.adjudication_indicator, &*m.rationale), (2, 3, "CMS Policy"));
    let m = book.mue("j1100").unwrap().unwrap();
    assert_eq!((m.code.as_str(), m.mue_value, m.adjudication_indicator), ("J1100", 120, 3));
    assert_eq!(book.mue("17110").unwrap().unwrap().adjudication_indicator, 2);
    assert!(book.mue("0001A").unwrap().is_none(), "vaccine administration codes have no MUE");
    assert!(matches!(book.mue("E11.9"), Err(Error::InvalidCode { .. })));
}

#[test]
fn a_claim_against_the_real_tables() {
    let book = book();
    let check = book.check_claim(&claim(&["99213", "36415x3", "20610", "20610-59", "J1100x121", "29880", "29877-59"]), None).unwrap();
    let ptp: Vec<_> =
        check.ptp.iter().map(|e| (e.column1_line, e.column2_line, e.modifier_indicator, e.bypass_modifier.as_deref())).collect();
    assert_eq!(
        ptp,
        [
            (2, 0, 1, None),       // 20610 / 99213: denied
            (2, 5, 1, None),       // 20610 / 29880: denied
            (2, 6, 1, Some("59")), // 20610 / 29877-59: bypassed by the 59 on column 2
            (3, 0, 1, Some("59")), // 20610-59 / 99213: bypassed
            (3, 5, 1, Some("59")),
            (3, 6, 1, Some("59")),
            (5, 0, 1, None),       // 29880 / 99213
            (6, 0, 1, Some("59")), // 29877-59 / 99213
            (6, 5, 0, None),       // 29877-59 / 29880: indicator 0, 59 does not help
        ]
    );
    let exceeded: Vec<_> = check.mue.iter().filter(|m| m.exceeds).map(|m| (m.code.as_str(), m.units, m.mue_value)).collect();
    assert_eq!(exceeded, [("36415", 3, 2), ("J1100", 121, 120)]);
    // 20610's MUE is a date of service edit (MAI 3): its two lines count together (2 <= 2).
    let m20610 = check.mue.iter().find(|m| m.code == "20610").unwrap();
    assert_eq!((m20610.lines.clone(), m20610.units, m20610.exceeds), (vec![2, 3], 2, false));
    assert_eq!(check.denied_lines, [0, 1, 4, 5]);
    assert!(!check.clean);
    assert!(book.check_claim(&claim(&["99213-25", "20610"]), None).unwrap().clean);
}

#[test]
fn the_default_edits_are_undated() {
    let book = book();
    assert_eq!(meta(&book, "ncci_ptp_dated"), "false");
    let lines = claim(&["99213", "20610"]);
    let undated = book.check_claim(&lines, None).unwrap();
    for d in ["1990-01-01", "2026-04-02", "2100-12-31"] {
        let dated = book.check_claim(&lines, Some(d.parse().unwrap())).unwrap();
        assert!(!dated.edits_dated);
        assert_eq!(dated.ptp, undated.ptp, "a date selects nothing in an undated book");
    }
}

/// (source, target or NoDx, flags) of every line of a GEM file. A few codes are written in
/// lower case (`v5889`); codes are case-insensitive.
fn gem_lines(path: &str) -> Vec<(String, String, String)> {
    String::from_utf8(gunzip(path))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let target = if f[1] == "NoDx" { f[1].to_string() } else { f[1].to_ascii_uppercase() };
            (f[0].to_ascii_uppercase(), target, f[2].to_string())
        })
        .collect()
}

fn dotted(code: &str, icd9: bool) -> String {
    let at = if icd9 && code.starts_with('E') { 4 } else { 3 };
    if code.len() > at {
        format!("{}.{}", &code[..at], &code[at..])
    } else {
        code.to_string()
    }
}

#[test]
fn every_gem_row_is_in_the_book_in_both_directions() {
    let book = book();
    for (path, direction, source_is_icd9) in
        [("gems/2018_I9gem.txt.gz", Direction::Icd9To10, true), ("gems/2018_I10gem.txt.gz", Direction::Icd10To9, false)]
    {
        let lines = gem_lines(path);
        let mut by_source: HashMap<&str, Vec<&(String, String, String)>> = HashMap::new();
        for l in &lines {
            by_source.entry(&l.0).or_default().push(l);
        }
        for (source, rows) in &by_source {
            let maps = book.crosswalk(source, direction).unwrap_or_else(|e| panic!("{source}: {e}"));
            assert_eq!(maps.len(), rows.len(), "{source}");
            for (m, (_, target, flags)) in maps.iter().zip(rows) {
                assert_eq!(m.source, dotted(source, source_is_icd9));
                let expected = (target != "NoDx").then(|| dotted(target, !source_is_icd9));
                assert_eq!(m.target, expected, "{source}");
                let f = flags.as_bytes();
                assert_eq!(
                    (m.approximate, m.no_map, m.combination, m.scenario, m.choice_list),
                    (f[0] == b'1', f[1] == b'1', f[2] == b'1', f[3] - b'0', f[4] - b'0'),
                    "{source} {target}"
                );
            }
        }
        let key = if source_is_icd9 { "gems_icd9_to_icd10" } else { "gems_icd10_to_icd9" };
        assert_eq!(meta(&book, key), lines.len().to_string());
    }
}

#[test]
fn known_mappings_both_directions_and_combinations() {
    let book = book();
    let targets =
        |code: &str, d: Direction| -> Vec<String> { book.crosswalk(code, d).unwrap().into_iter().filter_map(|m| m.target).collect() };
    assert_eq!(targets("250.00", Direction::Icd9To10), ["E11.9"]);
    assert_eq!(targets("25000", Direction::Icd9To10), ["E11.9"]);
    assert_eq!(targets("e11.9", Direction::Icd10To9), ["250.00"]);
    assert_eq!(targets("401.9", Direction::Icd9To10), ["I10", "I16.9"]);
    assert_eq!(targets("I10", Direction::Icd10To9), ["401.0", "401.1", "401.9"]);
    assert_eq!(targets("E888.9", Direction::Icd9To10), ["W19.XXXA"]);
    assert_eq!(targets("V01.0", Direction::Icd9To10), ["Z20.09"]);
    let exact = book.crosswalk("001.0", Direction::Icd9To10).unwrap();
    assert_eq!((exact[0].target.as_deref(), exact[0].approximate), (Some("A00.0"), false));

    // No map, both directions.
    let m = &book.crosswalk("R29.700", Direction::Icd10To9).unwrap()[0];
    assert!(m.no_map && m.target.is_none() && m.approximate);
    let m = &book.crosswalk("365.70", Direction::Icd9To10).unwrap()[0];
    assert!(m.no_map && m.target.is_none());

    // Combinations: 806.00 (C1-C4 fracture with cord injury) is, in each of four scenarios,
    // one spinal cord injury code (list 1) with one fracture code (list 2).
    let maps = book.crosswalk("806.00", Direction::Icd9To10).unwrap();
    assert!(maps.iter().all(|m| m.combination && m.approximate));
    let scenario_2: Vec<_> = maps.iter().filter(|m| m.scenario == 2).map(|m| (m.choice_list, m.target.as_deref().unwrap())).collect();
    assert_eq!(scenario_2, [(2, "S12.100A"), (2, "S12.101A"), (1, "S14.102A")], "in the file's order");
    assert_eq!(maps.iter().map(|m| m.scenario).max(), Some(4));
    let maps = book.crosswalk("A18.01", Direction::Icd10To9).unwrap();
    assert!(!maps[0].combination, "A18.01 also maps to 015.00 alone");
    let scenario_2: Vec<_> = maps.iter().filter(|m| m.combination && m.scenario == 2).map(|m| m.target.as_deref().unwrap()).collect();
    assert_eq!(scenario_2, ["015.00", "711.48"]);

    // Errors.
    match book.crosswalk("E11", Direction::Icd10To9) {
        Err(Error::NotFound { suggestions, .. }) => {
            assert_eq!(suggestions.len(), 5);
            assert!(suggestions.iter().all(|s| s.starts_with("E11.")), "{suggestions:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(book.crosswalk("250.00", Direction::Icd10To9), Err(Error::InvalidCode { .. })));
    assert!(matches!(book.crosswalk("E11.9", Direction::Icd9To10), Err(Error::InvalidCode { .. })));
    assert!(matches!(book.crosswalk("", Direction::Icd9To10), Err(Error::InvalidCode { .. })));
}

fn cli(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_codelookup")).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn cli_check_and_crosswalk() {
    let (code, out) = cli(&["--json", "check", "99213", "36415x2", "20610-59"]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["clean"], true);
    assert_eq!(v["edits_dated"], false);
    assert_eq!(v["ptp"][0]["column1"], "20610");
    assert_eq!(v["ptp"][0]["bypass_modifier"], "59");

    let (code, out) = cli(&["check", "99213", "20610", "36415x3"]);
    assert_eq!(code, 1, "a denied line gives status 1: {out}");
    assert!(out.contains("20610") && out.contains("denied") && out.contains("undated"), "{out}");

    let (code, out) = cli(&["--json", "check", "99213x0"]);
    assert_eq!(code, 2);
    assert!(out.contains("INVALID_ARGUMENT"), "{out}");

    let (code, out) = cli(&["--json", "crosswalk", "250.00", "I10"]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["direction"], "icd9_to_icd10");
    assert_eq!(v[0]["mappings"][0]["target"], "E11.9");
    assert_eq!(v[1]["direction"], "icd10_to_icd9");
    assert_eq!(v[1]["mappings"].as_array().unwrap().len(), 3);

    let (code, out) = cli(&["crosswalk", "--direction", "9to10", "806.00"]);
    assert_eq!(code, 0);
    assert!(out.contains("scenario 4") && out.contains("S14.104A"), "{out}");
    let (code, _) = cli(&["crosswalk", "nonsense!"]);
    assert_eq!(code, 1);
}

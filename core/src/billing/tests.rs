//! Claim checks on tables built from the official-layout fixtures (`tests/fixtures/ncci/`):
//! dates, modifier bypasses, MUE line and date-of-service edits, claim line parsing.
//! The real data are tested through the default book in `tests/billing.rs`.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::tables::{NcciBuilder, NcciTables};
use super::*;
use crate::import::ncci::{read_mue, read_ptp};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ncci").join(name)
}

fn tables_from(ptp: &[PathBuf], mue_file: Option<&Path>) -> NcciTables {
    let mut b = NcciBuilder::default();
    for p in ptp {
        read_ptp(p, &mut |r| b.add_ptp(&r)).unwrap();
    }
    if let Some(p) = mue_file {
        for r in read_mue(p).unwrap() {
            b.add_mue(&r).unwrap();
        }
    }
    b.finish().unwrap()
}

fn practitioner() -> NcciTables {
    tables_from(&[fixture("ccipra-v321r0-f1.txt")], Some(&fixture("MCR_MUE_PractitionerServices_Eff_04-01-2026.csv")))
}

fn lines(spec: &[&str]) -> Vec<ClaimLine> {
    spec.iter().map(|s| ClaimLine::parse(s).unwrap()).collect()
}

fn date(s: &str) -> Option<NaiveDate> {
    Some(s.parse().unwrap())
}

/// (column1, column2, indicator, bypassed) of each PTP edit of a check.
fn ptp_of(check: &ClaimCheck) -> Vec<(String, String, u8, bool)> {
    check.ptp.iter().map(|e| (e.column1.to_string(), e.column2.to_string(), e.modifier_indicator, e.bypassed)).collect()
}

fn edit(c1: &str, c2: &str, ind: u8, bypassed: bool) -> (String, String, u8, bool) {
    (c1.into(), c2.into(), ind, bypassed)
}

#[test]
fn official_ptp_fixture_is_read_whole() {
    let mut rows = Vec::new();
    let n = read_ptp(&fixture("ccipra-v321r0-f1.txt"), &mut |r| {
        rows.push((
            r.column1.to_string(),
            r.column2.to_string(),
            r.prior_1996,
            r.effective,
            r.deleted,
            r.modifier_indicator,
            r.rationale.to_string(),
        ));
        Ok(())
    })
    .unwrap();
    assert_eq!(n, 10);
    assert_eq!(
        rows[0],
        ("11042".into(), "11000".into(), false, date("2009-01-01"), None, 1, "Standards of medical/surgical practice".into())
    );
    assert_eq!(rows[2].4, date("2015-01-01"));
    assert_eq!(rows[6], ("29881".into(), "29880".into(), true, date("1996-01-01"), None, 0, "More extensive procedure".into()));
    assert_eq!(rows[5].5, 9);
}

#[test]
fn practitioner_and_hospital_files_inside_a_cms_zip() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("ccipra-v321r0-f1.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    for name in ["ccipra-v321r0-f1.txt", "ccioph-v321r0-f1.txt"] {
        zip.start_file(format!("folder/{name}"), opts).unwrap();
        zip.write_all(&std::fs::read(fixture(name)).unwrap()).unwrap();
    }
    zip.start_file("readme.pdf", opts).unwrap();
    zip.write_all(b"not an edit file").unwrap();
    zip.finish().unwrap();
    let t = tables_from(&[zip_path], None);
    assert_eq!(t.ptp_len(), 12);
    assert!(t.is_dated());
    let check = check_claim(&t, &lines(&["G0378", "99213"]), date("2026-04-02")).unwrap();
    assert_eq!(ptp_of(&check), [edit("G0378", "99213", 1, false)]);
    assert_eq!(&*check.ptp[0].rationale, "CMS Policy");
}

#[test]
fn dates_of_service_select_the_edits_in_effect() {
    let t = practitioner();
    let claim = lines(&["20610", "36415"]);
    let at = |d: Option<NaiveDate>| ptp_of(&check_claim(&t, &claim, d).unwrap());
    assert_eq!(at(date("2009-12-31")), [], "before the first effective date");
    assert_eq!(at(date("2010-01-01")), [edit("20610", "36415", 1, false)]);
    assert_eq!(at(date("2014-12-31")), [edit("20610", "36415", 1, false)]);
    assert_eq!(at(date("2015-01-01")), [edit("20610", "36415", 0, false)], "the deletion date is exclusive");
    assert_eq!(at(None), [edit("20610", "36415", 0, false)], "without a date: the file's current edits");

    let first = &check_claim(&t, &claim, date("2012-03-04")).unwrap().ptp[0];
    assert_eq!((first.effective, first.deleted), (date("2010-01-01"), date("2015-01-01")));
    assert_eq!((first.column1_line, first.column2_line), (0, 1));

    let visit = lines(&["99213", "20610"]);
    assert!(check_claim(&t, &visit, date("2018-12-31")).unwrap().ptp.is_empty());
    let check = check_claim(&t, &visit, date("2019-01-01")).unwrap();
    assert_eq!(ptp_of(&check), [edit("20610", "99213", 1, false)]);
    assert!(check.edits_dated);
    assert_eq!(check.date_of_service, date("2019-01-01"));
}

#[test]
fn indicator_9_edits_never_apply_but_are_listed() {
    let t = practitioner();
    let check = check_claim(&t, &lines(&["20610", "99211"]), date("2019-01-01")).unwrap();
    assert!(check.ptp.is_empty() && check.clean);
    let listed = ptp_edits(&t, ["99211", "20610"]).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].modifier_indicator, listed[0].column1_line, listed[0].column2_line), (9, 1, 0));
    // ptp_edits lists every period of a pair.
    assert_eq!(ptp_edits(&t, ["36415", "20610"]).unwrap().len(), 2);
}

#[test]
fn modifiers_bypass_indicator_1_edits_only() {
    let t = practitioner();
    let dos = date("2026-04-02");
    let check = |spec: &[&str]| check_claim(&t, &lines(spec), dos).unwrap();

    // 59 / X{EPSU} on either line.
    for spec in [["11042-59", "11000"], ["11042", "11000-XS"], ["11042-xu", "11000"]] {
        let c = check(&spec);
        assert_eq!(ptp_of(&c), [edit("11042", "11000", 1, true)], "{spec:?}");
        assert!(c.clean, "{spec:?}");
    }
    assert_eq!(check(&["11042-59", "11000"]).ptp[0].bypass_modifier.as_deref(), Some("59"));
    // A modifier that is not PTP-associated does nothing.
    let c = check(&["11042-26", "11000-TC"]);
    assert!(!c.ptp[0].bypassed && c.denied_lines == [1]);
    // Indicator 0: nothing bypasses.
    let c = check(&["11042-59", "97597-XS"]);
    assert_eq!(ptp_of(&c), [edit("11042", "97597", 0, false)]);
    assert_eq!(c.denied_lines, [1]);
    // Modifier 25 on the visit.
    assert!(check(&["99213-25", "20610"]).clean);
    // Anatomic modifiers: different sites bypass, the same site does not.
    assert_eq!(check(&["11042-RT", "11000-LT"]).ptp[0].bypass_modifier.as_deref(), Some("LT"));
    assert!(!check(&["11042-RT", "11000-RT"]).ptp[0].bypassed);
    assert!(check(&["11042-F1", "11000"]).ptp[0].bypassed);
    assert!(!check(&["11042-T1-T2", "11000-t2-T1"]).ptp[0].bypassed, "same sites in another order and case");
    // Lines built by hand with lower-case modifiers still count.
    let by_hand = [ClaimLine { code: "11042".into(), units: 1, modifiers: vec!["xe".into()] }, ClaimLine::parse("11000").unwrap()];
    assert!(check_claim(&t, &by_hand, dos).unwrap().ptp[0].bypassed);
}

#[test]
fn each_line_pair_is_checked_on_its_own() {
    let t = practitioner();
    // 11000 twice: once with 59 (bypassed), once without (denied).
    let c = check_claim(&t, &lines(&["11042", "11000-59", "11000"]), None).unwrap();
    assert_eq!(c.ptp.len(), 2);
    assert!(c.ptp[0].bypassed && !c.ptp[1].bypassed);
    assert_eq!(c.denied_lines, [2]);
    // Codes without edits (or unknown to NCCI) give nothing.
    let c = check_claim(&t, &lines(&["99499", "A0021", "11000"]), None).unwrap();
    assert!(c.ptp.is_empty() && c.mue.is_empty() && c.clean);
}

#[test]
fn mue_line_and_date_of_service_edits() {
    let t = practitioner();
    let check = |spec: &[&str]| check_claim(&t, &lines(spec), None).unwrap();
    let mue_of =
        |c: &ClaimCheck| c.mue.iter().map(|m| (m.code.to_string(), m.lines.clone(), m.units, m.mue_value, m.exceeds)).collect::<Vec<_>>();

    // MAI 3 (date of service): units of the code's lines are added up.
    let c = check(&["36415x2"]);
    assert_eq!(mue_of(&c), [("36415".into(), vec![0], 2, 2, false)]);
    let c = check(&["36415", "99213-25", "36415x2"]);
    assert_eq!(mue_of(&c), [("36415".into(), vec![0, 2], 3, 2, true), ("99213".into(), vec![1], 1, 2, false)]);
    assert_eq!(c.denied_lines, [0, 2]);
    assert_eq!((c.mue[0].adjudication_indicator, &*c.mue[0].rationale), (3, "CMS Policy"));
    // MAI 1 (line): each line on its own.
    let c = check(&["20610x2-RT", "20610x2-LT"]);
    assert_eq!(mue_of(&c), [("20610".into(), vec![0], 2, 2, false), ("20610".into(), vec![1], 2, 2, false)]);
    let c = check(&["20610x3-RT", "20610-LT"]);
    assert_eq!(c.denied_lines, [0]);
    // MAI 2 and large values.
    assert!(check(&["11042x2"]).mue[0].exceeds);
    assert!(!check(&["J2001x600"]).mue[0].exceeds && check(&["J2001x601"]).mue[0].exceeds);
    // Units add up without overflow.
    let c = check(&[&format!("36415x{}", u32::MAX), "36415x5"]);
    assert_eq!(c.mue[0].units, u32::MAX);
    assert!(c.mue[0].exceeds);

    let m = mue(&t, "j2001").unwrap().unwrap();
    assert_eq!((m.code.as_str(), m.mue_value, m.adjudication_indicator, &*m.rationale), ("J2001", 600, 3, "Prescribing Information"));
    assert!(mue(&t, "11000").unwrap().is_none());
    assert!(matches!(mue(&t, "E11.9"), Err(Error::InvalidCode { .. })));
}

#[test]
fn claim_lines_parse_and_print() {
    let l = ClaimLine::parse(" 20610X2-rt-59 ").unwrap();
    assert_eq!(l, ClaimLine { code: "20610".into(), units: 2, modifiers: vec!["RT".into(), "59".into()] });
    assert_eq!(l.to_string(), "20610x2-RT-59");
    assert_eq!(ClaimLine::parse(&l.to_string()).unwrap(), l);
    assert_eq!(ClaimLine::parse("99213").unwrap().to_string(), "99213");
    assert_eq!("j1100x10".parse::<ClaimLine>().unwrap().units, 10);
    assert!(l.has_modifier("rt"));
    assert_eq!(ClaimLine::new("0001a", 1, &["xs"]).unwrap().code, "0001A");

    for bad in [
        "",
        "x2",
        "99213x",
        "99213x0",
        "99213x99999999999",
        "99213-",
        "99213--59",
        "99213-5",
        "99213-591",
        "99213-5!",
        "E11.9",
        "0DTJ4ZZ",
        "LT",
        "9921",
        "992134",
        "💥x2",
    ] {
        let err = ClaimLine::parse(bad).unwrap_err();
        assert!(matches!(err, Error::InvalidCode { .. } | Error::InvalidArgument(_)), "{bad:?}: {err:?}");
    }
    assert!(matches!(ClaimLine::parse("E11.9"), Err(Error::InvalidCode { .. })));
    assert!(matches!(ClaimLine::parse("99213x0"), Err(Error::InvalidArgument(_))));
    assert!(matches!(ClaimLine::parse("99213-5"), Err(Error::InvalidArgument(_))));
}

#[test]
fn malformed_lines_and_empty_tables_are_errors() {
    let t = practitioner();
    let bad_code = [ClaimLine { code: "E11.9".into(), units: 1, modifiers: vec![] }];
    assert!(matches!(check_claim(&t, &bad_code, None), Err(Error::InvalidCode { .. })));
    let zero = [ClaimLine { code: "99213".into(), units: 0, modifiers: vec![] }];
    assert!(matches!(check_claim(&t, &zero, None), Err(Error::InvalidArgument(_))));
    let bad_mod = [ClaimLine { code: "99213".into(), units: 1, modifiers: vec!["5".into()] }];
    assert!(matches!(check_claim(&t, &bad_mod, None), Err(Error::InvalidArgument(_))));
    assert!(matches!(ptp_edits(&t, ["99213", "nope!"]), Err(Error::InvalidCode { .. })));
    assert!(matches!(check_claim(&NcciTables::default(), &lines(&["99213"]), None), Err(Error::Book(_))));
    // An empty claim is clean.
    assert!(check_claim(&t, &[], None).unwrap().clean);
}

#[test]
fn check_json_uses_the_field_names() {
    let t = practitioner();
    let c = check_claim(&t, &lines(&["20610", "36415x3"]), date("2026-04-02")).unwrap();
    let v = serde_json::to_value(&c).unwrap();
    for field in ["date_of_service", "edits_dated", "ptp", "mue", "denied_lines", "clean"] {
        assert!(v.get(field).is_some(), "{field}");
    }
    assert_eq!(v["ptp"][0]["column1"], "20610");
    assert_eq!(v["ptp"][0]["effective"], "2015-01-01");
    assert_eq!(v["ptp"][0]["modifier_indicator"], 0);
    assert_eq!(v["mue"][0]["exceeds"], false);
    assert_eq!(v["mue"][1]["exceeds"], true);
    let back: ClaimCheck = serde_json::from_value(v).unwrap();
    assert_eq!(back, c);
}

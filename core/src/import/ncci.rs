//! Readers of the CMS National Correct Coding Initiative (NCCI) edit files: procedure-to-procedure
//! (PTP) edits and medically unlikely edits (MUE). This module only parses; the compact tables
//! and the claim check live in [`crate::billing`].
//!
//! Layouts read:
//! - **PTP, official CMS layout** (practitioner `ccipra-*` and outpatient hospital `ccioph-*`
//!   files, `.txt` or the CMS `.zip` holding them, or `.txt.gz`): tab-delimited text, a
//!   copyright preamble and a header spread over a few lines, then one edit per line: column 1,
//!   column 2, `*` when the edit existed before 1996, effective date (`YYYYMMDD`), deletion date
//!   (`YYYYMMDD`, or `*` while active), modifier indicator (`0` not allowed, `1` allowed, `9` not
//!   applicable), rationale. Deleted edits are included.
//! - **PTP, JSON conversion** (`data/ncci/ptp-NN.json.gz`): `[column1, [[column2,
//!   modifier_indicator, rationale], ...]]`. Lossless in the pairs, indicators and rationales but
//!   **undated**: no effective or deletion dates, no pre-1996 flag.
//! - **MUE, official CMS layout** (`.csv`, or a `.zip` holding it): CSV with a quoted copyright
//!   preamble, a header row `HCPCS/CPT Code, <Setting> Services MUE Values, MUE Adjudication
//!   Indicator, MUE Rationale`, then one code per row; the indicator cell holds the digit and its
//!   meaning (`2 Date of Service Edit: Policy`).
//! - **MUE, JSON conversion** (`data/ncci/mue.json.gz`): `[code, mue_value,
//!   adjudication_indicator, rationale]`.

use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;

use super::sources::read_maybe_gzip;
use crate::error::{Error, Result};

/// One PTP edit as a source file states it. Codes are as written (trimmed); dates are absent in
/// the JSON conversion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PtpRow<'a> {
    /// The column 1 code (the comprehensive code, eligible for payment).
    pub column1: &'a str,
    /// The column 2 code (the component code, denied when billed with column 1).
    pub column2: &'a str,
    /// The edit existed before 1996 (`*` in the official file).
    pub prior_1996: bool,
    /// First date of service the edit applies to.
    pub effective: Option<NaiveDate>,
    /// The edit no longer applies on and after this date; `None` while active.
    pub deleted: Option<NaiveDate>,
    /// `0` no modifier bypasses the edit, `1` an NCCI PTP-associated modifier may, `9` not
    /// applicable (an edit deleted on the day it took effect).
    pub modifier_indicator: u8,
    /// Why the edit exists (`Mutually exclusive procedures`, ...).
    pub rationale: &'a str,
}

/// One medically unlikely edit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MueRow {
    /// The CPT or HCPCS code.
    pub code: String,
    /// The most units of service reported for the code on a day under most circumstances.
    pub mue_value: u32,
    /// `1` claim line edit, `2` date of service edit (policy), `3` date of service edit
    /// (clinical).
    pub adjudication_indicator: u8,
    /// Why the limit is what it is (`CMS Policy`, `Anatomic Consideration`, ...).
    pub rationale: String,
}

/// Reads a PTP file in any supported layout, calling `each` for every edit, and returns the
/// number of edits read. The layout is chosen by name: `.json` / `.json.gz` is the JSON
/// conversion; `.zip` holds official `.txt` files (every one is read, in name order); anything
/// else (`.txt`, `.txt.gz`) is the official tab-delimited layout.
pub fn read_ptp(path: &Path, each: &mut dyn FnMut(PtpRow<'_>) -> Result<()>) -> Result<u64> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    if name.ends_with(".json") || name.ends_with(".json.gz") {
        parse_ptp_json(&read_maybe_gzip(path)?, path, each)
    } else if name.ends_with(".zip") {
        let mut total = 0;
        for (member, bytes) in zip_members(path, |n| n.to_ascii_lowercase().ends_with(".txt"))? {
            let member_path = path.join(&member);
            total += parse_ptp_text(&bytes, &member_path, each)?;
        }
        Ok(total)
    } else {
        parse_ptp_text(&read_maybe_gzip(path)?, path, each)
    }
}

/// Parses the official tab-delimited PTP layout. Lines before the first edit (copyright text,
/// column headings) are skipped; after it, every non-blank line must be an edit.
pub fn parse_ptp_text(bytes: &[u8], path: &Path, each: &mut dyn FnMut(PtpRow<'_>) -> Result<()>) -> Result<u64> {
    let mut count = 0u64;
    let mut started = false;
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line_no = i as u64 + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let line = decode_line(raw);
        let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
        let looks_like_edit = fields.len() >= 6 && is_ncci_code(fields[0]) && is_ncci_code(fields[1]) && is_yyyymmdd(fields[3]);
        if !looks_like_edit {
            if started {
                return Err(Error::import(
                    path,
                    Some(line_no),
                    format!("not a PTP edit line: {:?}", crate::code::truncate_for_message(&line)),
                ));
            }
            continue;
        }
        started = true;
        let bad = |what: String| Error::import(path, Some(line_no), what);
        let prior_1996 = match fields[2] {
            "*" => true,
            "" => false,
            other => return Err(bad(format!("the pre-1996 column holds {other:?}, expected `*` or nothing"))),
        };
        let effective = Some(parse_yyyymmdd(fields[3]).ok_or_else(|| bad(format!("bad effective date {:?}", fields[3])))?);
        let deleted = match fields[4] {
            "*" | "" => None,
            d => Some(parse_yyyymmdd(d).ok_or_else(|| bad(format!("bad deletion date {d:?}")))?),
        };
        let modifier_indicator =
            parse_modifier_indicator(fields[5]).ok_or_else(|| bad(format!("bad modifier indicator {:?}", fields[5])))?;
        let rationale = fields.get(6).copied().unwrap_or("");
        each(PtpRow { column1: fields[0], column2: fields[1], prior_1996, effective, deleted, modifier_indicator, rationale })?;
        count += 1;
    }
    if !started {
        return Err(Error::import(
            path,
            None,
            "no PTP edit found (expected tab-separated lines: column 1, column 2, *, effective date, deletion date, modifier, rationale)",
        ));
    }
    Ok(count)
}

#[derive(Deserialize)]
struct JsonPtpGroup<'a>(#[serde(borrow)] Cow<'a, str>, #[serde(borrow)] Vec<JsonPtpPair<'a>>);

#[derive(Deserialize)]
struct JsonPtpPair<'a>(#[serde(borrow)] Cow<'a, str>, i64, #[serde(borrow)] Cow<'a, str>);

/// Parses the JSON conversion of the PTP edits (`[column1, [[column2, modifier_indicator,
/// rationale], ...]]`). The rows it gives have no dates.
pub fn parse_ptp_json(bytes: &[u8], path: &Path, each: &mut dyn FnMut(PtpRow<'_>) -> Result<()>) -> Result<u64> {
    let groups: Vec<JsonPtpGroup<'_>> =
        serde_json::from_slice(bytes).map_err(|e| Error::import(path, Some(e.line() as u64), format!("not a PTP JSON conversion: {e}")))?;
    let mut count = 0u64;
    for JsonPtpGroup(column1, pairs) in &groups {
        if !is_ncci_code(column1) {
            return Err(Error::import(path, None, format!("column 1 code {column1:?} is not a CPT or HCPCS code")));
        }
        for JsonPtpPair(column2, indicator, rationale) in pairs {
            if !is_ncci_code(column2) {
                return Err(Error::import(path, None, format!("column 2 code {column2:?} (with {column1}) is not a CPT or HCPCS code")));
            }
            let modifier_indicator = u8::try_from(*indicator)
                .ok()
                .filter(|i| matches!(i, 0 | 1 | 9))
                .ok_or_else(|| Error::import(path, None, format!("edit {column1}/{column2}: bad modifier indicator {indicator}")))?;
            each(PtpRow { column1, column2, prior_1996: false, effective: None, deleted: None, modifier_indicator, rationale })?;
            count += 1;
        }
    }
    Ok(count)
}

/// Reads an MUE file in any supported layout: `.json` / `.json.gz` is the JSON conversion;
/// `.zip` holds the official `.csv`; anything else is the official CSV (optionally `.gz`).
pub fn read_mue(path: &Path) -> Result<Vec<MueRow>> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    if name.ends_with(".json") || name.ends_with(".json.gz") {
        parse_mue_json(&read_maybe_gzip(path)?, path)
    } else if name.ends_with(".zip") {
        let mut rows = Vec::new();
        for (member, bytes) in zip_members(path, |n| n.to_ascii_lowercase().ends_with(".csv"))? {
            rows.extend(parse_mue_csv(&bytes, &path.join(member))?);
        }
        Ok(rows)
    } else {
        parse_mue_csv(&read_maybe_gzip(path)?, path)
    }
}

/// Parses the official MUE CSV: rows before the `HCPCS/CPT Code` header are the preamble; every
/// row after it is one code.
pub fn parse_mue_csv(bytes: &[u8], path: &Path) -> Result<Vec<MueRow>> {
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut rows = Vec::new();
    let mut header = false;
    let mut record = csv::ByteRecord::new();
    loop {
        let more = rdr.read_byte_record(&mut record).map_err(|e| {
            let line = e.position().map(|p| p.line());
            Error::import(path, line, format!("not a readable MUE CSV: {e}"))
        })?;
        if !more {
            break;
        }
        let line = record.position().map(|p| p.line());
        let cells: Vec<String> = record.iter().map(|c| decode_line(c).trim().to_string()).collect();
        if !header {
            header = cells.first().is_some_and(|c| c.to_ascii_uppercase().starts_with("HCPCS"));
            continue;
        }
        if cells.iter().all(String::is_empty) {
            continue;
        }
        let bad = |what: String| Error::import(path, line, what);
        if cells.len() < 3 {
            return Err(bad(format!("an MUE row has code, value, adjudication indicator and rationale; found {} cells", cells.len())));
        }
        if !is_ncci_code(&cells[0]) {
            return Err(bad(format!("{:?} is not a CPT or HCPCS code", cells[0])));
        }
        let mue_value = cells[1].parse::<u32>().map_err(|_| bad(format!("bad MUE value {:?}", cells[1])))?;
        let adjudication_indicator = cells[2]
            .chars()
            .next()
            .and_then(|c| c.to_digit(10))
            .and_then(|d| u8::try_from(d).ok())
            .filter(|d| (1..=3).contains(d))
            .ok_or_else(|| bad(format!("bad MUE adjudication indicator {:?}", cells[2])))?;
        let rationale = cells.get(3).cloned().unwrap_or_default();
        rows.push(MueRow { code: cells[0].to_ascii_uppercase(), mue_value, adjudication_indicator, rationale });
    }
    if !header {
        return Err(Error::import(path, None, "no `HCPCS/CPT Code` header row: not an MUE file"));
    }
    Ok(rows)
}

/// Parses the JSON conversion of the MUE file (`[code, mue_value, adjudication_indicator,
/// rationale]`).
pub fn parse_mue_json(bytes: &[u8], path: &Path) -> Result<Vec<MueRow>> {
    let raw: Vec<(String, i64, i64, String)> = serde_json::from_slice(bytes)
        .map_err(|e| Error::import(path, Some(e.line() as u64), format!("not an MUE JSON conversion: {e}")))?;
    raw.into_iter()
        .map(|(code, value, mai, rationale)| {
            if !is_ncci_code(&code) {
                return Err(Error::import(path, None, format!("{code:?} is not a CPT or HCPCS code")));
            }
            let mue_value = u32::try_from(value).map_err(|_| Error::import(path, None, format!("{code}: bad MUE value {value}")))?;
            let adjudication_indicator = u8::try_from(mai)
                .ok()
                .filter(|d| (1..=3).contains(d))
                .ok_or_else(|| Error::import(path, None, format!("{code}: bad MUE adjudication indicator {mai}")))?;
            Ok(MueRow { code: code.to_ascii_uppercase(), mue_value, adjudication_indicator, rationale })
        })
        .collect()
}

/// Whether `s` has the shape of an NCCI code: five ASCII letters or digits (CPT `99213`,
/// `0001A`; HCPCS `J1100`).
pub(crate) fn is_ncci_code(s: &str) -> bool {
    s.len() == 5 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn is_yyyymmdd(s: &str) -> bool {
    s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit())
}

fn parse_yyyymmdd(s: &str) -> Option<NaiveDate> {
    if !is_yyyymmdd(s) {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y%m%d").ok()
}

fn parse_modifier_indicator(s: &str) -> Option<u8> {
    match s {
        "0" => Some(0),
        "1" => Some(1),
        "9" => Some(9),
        _ => None,
    }
}

/// Decodes a line as UTF-8, or as Latin-1 when it is not (the CMS files are Latin-1).
fn decode_line(raw: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(raw) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(raw.iter().map(|&b| b as char).collect()),
    }
}

/// Every member of a zip whose base name satisfies `wanted`, in name order.
fn zip_members(path: &Path, wanted: impl Fn(&str) -> bool) -> Result<Vec<(String, Vec<u8>)>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| Error::import(path, None, format!("not a readable zip: {e}")))?;
    let mut names: Vec<String> =
        zip.file_names().filter(|n| !n.ends_with('/') && wanted(n.rsplit(['/', '\\']).next().unwrap_or(n))).map(str::to_string).collect();
    names.sort();
    if names.is_empty() {
        return Err(Error::import(path, None, "the zip holds no file of the expected kind"));
    }
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let mut member = zip.by_name(&name).map_err(|e| Error::import(path, None, format!("{name}: {e}")))?;
        let mut bytes = Vec::with_capacity(member.size().min(1 << 30) as usize);
        member.read_to_end(&mut bytes).map_err(|e| Error::import(path, None, format!("{name}: {e}")))?;
        out.push((name, bytes));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect_text(text: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        parse_ptp_text(text.as_bytes(), Path::new("t.txt"), &mut |r| {
            out.push(format!(
                "{} {} {} {:?} {:?} {} {}",
                r.column1, r.column2, r.prior_1996, r.effective, r.deleted, r.modifier_indicator, r.rationale
            ));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn official_ptp_lines_are_read_after_the_preamble() {
        let text = "CPT only copyright 2025 American Medical Association. All rights reserved.\r\n\
                    Column 1\tColumn 2\t*=in existence prior to 1996\tEffective\tDeletion\tModifier\tPTP Edit Rationale\r\n\
                    \t\t\tDate\tDate\t0=not allowed\t\r\n\
                    10060\t11401\t*\t19960101\t*\t1\tMisuse of Column Two code with Column One code\r\n\
                    10060\t11402\t\t20100101\t20120101\t0\tMutually exclusive procedures\r\n\
                    \r\n";
        let rows = collect_text(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0], "10060 11401 true Some(1996-01-01) None 1 Misuse of Column Two code with Column One code");
        assert_eq!(rows[1], "10060 11402 false Some(2010-01-01) Some(2012-01-01) 0 Mutually exclusive procedures");
    }

    #[test]
    fn broken_ptp_lines_name_the_line() {
        let text = "header\n10060\t11401\t\t19960101\t*\t1\tx\n10060\t11402\t\t2010013\t*\t1\tx\n";
        let err = collect_text(text).unwrap_err();
        assert!(matches!(err, Error::Import { line: Some(3), .. }), "{err:?}");
        let err = collect_text("10060\t11401\t\t19960101\t*\t5\tx\n").unwrap_err();
        assert!(err.to_string().contains("modifier indicator"), "{err}");
        let err = collect_text("10060\t11401\t\t19961301\t*\t1\tx\n").unwrap_err();
        assert!(err.to_string().contains("effective date"), "{err}");
        assert!(collect_text("just a preamble\n").is_err());
        assert!(collect_text("").is_err());
    }

    #[test]
    fn json_ptp_and_mue() {
        let mut rows = Vec::new();
        let n = parse_ptp_json(
            br#"[["0001A",[["0003A",0,"Mutually exclusive procedures"],["90460",9,"x"]]]]"#,
            Path::new("p.json"),
            &mut |r| {
                rows.push((r.column1.to_string(), r.column2.to_string(), r.modifier_indicator, r.effective));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(n, 2);
        assert_eq!(rows[1], ("0001A".into(), "90460".into(), 9, None));
        let bad = parse_ptp_json(br#"[["0001A",[["0003A",3,"x"]]]]"#, Path::new("p.json"), &mut |_| Ok(()));
        assert!(bad.is_err());
        assert!(parse_ptp_json(b"{", Path::new("p.json"), &mut |_| Ok(())).is_err());

        let mue = parse_mue_json(br#"[["0001U",1,2,"Code Descriptor / CPT Instruction"]]"#, Path::new("m.json")).unwrap();
        assert_eq!(
            mue[0],
            MueRow { code: "0001U".into(), mue_value: 1, adjudication_indicator: 2, rationale: "Code Descriptor / CPT Instruction".into() }
        );
        assert!(parse_mue_json(br#"[["0001U",-1,2,"x"]]"#, Path::new("m.json")).is_err());
        assert!(parse_mue_json(br#"[["0001U",1,4,"x"]]"#, Path::new("m.json")).is_err());
    }

    #[test]
    fn official_mue_csv() {
        let csv =
            "\"CPT codes, descriptions and other data only are copyright 2025 American Medical Association.\nAll rights reserved.\"\n\
                   HCPCS/CPT Code,Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale\n\
                   36415,2,3 Date of Service Edit: Clinical,Clinical: Data\n\
                   J1100,120,2 Date of Service Edit: Policy,CMS Policy\n\
                   20610,2,1 Line Edit,Anatomic Consideration\n";
        let rows = parse_mue_csv(csv.as_bytes(), Path::new("m.csv")).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1], MueRow { code: "J1100".into(), mue_value: 120, adjudication_indicator: 2, rationale: "CMS Policy".into() });
        assert_eq!(rows[2].adjudication_indicator, 1);
        assert!(parse_mue_csv(b"no header\n36415,2,3,x\n", Path::new("m.csv")).is_err());
        let err = parse_mue_csv(b"HCPCS/CPT Code,v,i,r\n36415,two,3,x\n", Path::new("m.csv")).unwrap_err();
        assert!(matches!(err, Error::Import { line: Some(2), .. }), "{err:?}");
    }
}

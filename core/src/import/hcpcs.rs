//! The CMS HCPCS Level II quarterly "ANWEB" file (`HCPC2025_OCT_ANWEB.xlsx` and its siblings):
//! one entry per code or modifier with its long and short descriptions and the administrative
//! data of [`HcpcsInfo`].
//!
//! This module owns the three forms CMS ships (or that are lossless conversions of them) and
//! turns each into the same [`HcpcsRow`]s:
//!
//! - the `.xlsx` workbook (the official form): a header row, then one row per code;
//! - a `.csv` (or `.csv.gz`) with the same header and every cell as text;
//! - the fixed-width `.txt`: 320-character records, where a long description longer than one
//!   80-character record continues in continuation records (RECID `4` after a procedure's `3`,
//!   `8` after a modifier's `7`) that carry the code and the next 80 characters.
//!
//! Columns are found by their header names (`HCPC`, `LONG DESCRIPTION`, `PRICE1`..`PRICE4`, `ADD
//! DT`...; case, spaces and underscores are ignored), so a reordered or widened file still reads.
//! Every field is trimmed; an empty field becomes `None` or is left out of a list. Dates are
//! `YYYYMMDD`. Workbook cells that are numbers or dates are written back as the CSV spells them
//! (`0088`, `00`, `20250401`), so the three forms give identical rows.
//!
//! **Licensed codes are never imported.** CDT codes (`D` and four digits: dental, ADA copyright)
//! and CPT codes and modifiers (a code that starts with a digit, such as `99213` or `0159T`, or
//! a two-digit modifier such as `25`: AMA copyright) are skipped silently wherever they appear,
//! so their descriptors never reach a code book. The October 2025 file has none; HCPCS Level II
//! modifiers that merely start with `D` (`DA`) are kept.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use calamine::{Data, ExcelDateTime, ExcelDateTimeType, Reader, Xlsx};
use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::record::HcpcsInfo;

/// One HCPCS Level II code or modifier of an ANWEB file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HcpcsRow {
    /// The code, normalised: upper case, no blanks (`J1100`; a modifier is two characters, `LT`).
    pub code: String,
    /// `true` for a modifier (RECID 7/8, two characters), `false` for a procedure code.
    pub modifier: bool,
    /// The long description, whole (continuation records of the `.txt` joined with one space).
    pub long_title: String,
    /// The short description (at most 28 characters).
    pub short_title: String,
    /// Dates, action, coverage, pricing and the other administrative fields.
    pub info: HcpcsInfo,
}

/// Reads an ANWEB file, choosing the reader by the file name: `.xlsx`, `.csv`, `.csv.gz`,
/// `.txt` (or `.txt.gz`). Returns the rows in file order, CDT and CPT codes left out.
///
/// Cost: reads the whole file; the October 2025 workbook (8,846 rows, 1.8 MB) takes well under
/// a second in a release build. A missing file is an [`Error::Io`] naming it; a file that does
/// not fit the layout is an [`Error::Import`] naming the file and line (spreadsheet row).
pub fn read(path: &Path) -> Result<Vec<HcpcsRow>> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let open = || File::open(path).map_err(|e| Error::io(path, e));
    if name.ends_with(".xlsx") {
        read_xlsx(path)
    } else if name.ends_with(".csv.gz") {
        read_csv(flate2::read::GzDecoder::new(open()?), path)
    } else if name.ends_with(".csv") {
        read_csv(open()?, path)
    } else if name.ends_with(".txt.gz") {
        read_txt(BufReader::new(flate2::read::GzDecoder::new(open()?)), path)
    } else if name.ends_with(".txt") {
        read_txt(BufReader::new(open()?), path)
    } else {
        Err(Error::import(path, None, "unknown HCPCS file type: expected .xlsx, .csv, .csv.gz, .txt or .txt.gz"))
    }
}

/// Reads the first worksheet of an ANWEB `.xlsx` workbook: a header row, then one row per code.
///
/// Cells may be text, numbers or dates; they are normalised to the text the CSV has (numbers
/// without a decimal point, zero-padded where the field is (`PRICE1` `00`, `PROCNOTE` `0088`);
/// dates, whether Excel dates or numbers, as `YYYYMMDD`). Error lines are spreadsheet row
/// numbers. Cost: the workbook is decompressed and parsed whole (about 16 MB of XML for 8,846
/// rows).
pub fn read_xlsx(path: &Path) -> Result<Vec<HcpcsRow>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut workbook: Xlsx<_> =
        Xlsx::new(BufReader::new(file)).map_err(|e| Error::import(path, None, format!("not a readable xlsx workbook: {e}")))?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| Error::import(path, None, "the workbook has no worksheet"))?
        .map_err(|e| Error::import(path, None, format!("cannot read the first worksheet: {e}")))?;
    let first_row = u64::from(range.start().map_or(0, |(r, _)| r));
    let mut rows = range.rows().enumerate().map(|(i, cells)| (first_row + i as u64 + 1, cells));
    let Some((header_line, header)) = rows.next() else {
        return Err(Error::import(path, None, "the worksheet is empty"));
    };
    let header: Vec<String> = header.iter().map(header_text).collect();
    let columns = column_map(&header, path, header_line)?;
    let mut out = Vec::with_capacity(range.height());
    for (line, cells) in rows {
        if cells.iter().all(|c| matches!(c, Data::Empty) || matches!(c, Data::String(s) if s.trim().is_empty())) {
            continue;
        }
        let mut raw = Raw::default();
        for (k, col) in COLUMNS.iter().enumerate() {
            let cell = cells.get(columns[k]).unwrap_or(&Data::Empty);
            raw.0[k] = cell_text(cell, col).map_err(|m| Error::import(path, Some(line), format!("{}: {m}", col.name)))?;
        }
        if let Some(row) = build_row(&raw, path, line)? {
            out.push(row);
        }
    }
    Ok(out)
}

/// Reads an ANWEB CSV: a header row with the workbook's column names, then one record per code,
/// every cell as text. `path` only names the file in errors. Fields are decoded as UTF-8, or as
/// Windows-1252 where a field is not UTF-8. Cost: one streaming pass.
pub fn read_csv<R: Read>(reader: R, path: &Path) -> Result<Vec<HcpcsRow>> {
    let mut csv = csv::ReaderBuilder::new().has_headers(true).from_reader(reader);
    let header: Vec<String> =
        csv.byte_headers().map_err(|e| csv_error(e, path))?.iter().map(|f| decode(f).trim_start_matches('\u{feff}').to_string()).collect();
    let columns = column_map(&header, path, 1)?;
    let mut out = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(e, path)),
        }
        let line = record.position().map_or(0, |p| p.line());
        let mut raw = Raw::default();
        for (k, cell) in raw.0.iter_mut().enumerate() {
            *cell = record.get(columns[k]).map(|f| decode(f).trim().to_string()).unwrap_or_default();
        }
        if let Some(row) = build_row(&raw, path, line)? {
            out.push(row);
        }
    }
    Ok(out)
}

/// Reads the fixed-width ANWEB `.txt`: 320-character records at the positions of the CMS
/// record layout (`data/hcpcs/HCPCS_ANWEB_LAYOUT.md`), one first record (RECID `3` for a
/// procedure, `7` for a modifier) per code, followed by continuation records (RECID `4` / `8`)
/// whose 80-character long-description chunks are appended, joined with one space.
///
/// Lines are decoded as UTF-8, or as Windows-1252 (a superset of Latin-1) when they are not;
/// positions count characters. `\r\n` and `\n` line ends are accepted, blank lines skipped, and
/// trailing blanks may be missing, but a first record must reach the ADD DT field (position
/// 276) and no record may exceed 320 characters. A double space that falls exactly at a chunk
/// boundary cannot be told from a single one in this layout, and reads back as one space.
/// `path` only names the file in errors. Cost: one streaming pass.
pub fn read_txt<R: BufRead>(mut reader: R, path: &Path) -> Result<Vec<HcpcsRow>> {
    let mut out = Vec::new();
    let mut pending: Option<Pending> = None;
    let mut buf = Vec::with_capacity(TXT_RECORD_LEN + 2);
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let text = decode(&buf);
        let text = text.trim_end_matches(['\n', '\r']);
        if text.trim_matches(|c: char| c.is_whitespace() || c == '\u{1a}').is_empty() {
            continue;
        }
        let chars: Vec<char> = text.chars().collect();
        let fail = |m: String| Error::import(path, Some(line_no), m);
        if chars.len() > TXT_RECORD_LEN {
            return Err(fail(format!("record is {} characters long; ANWEB records have {TXT_RECORD_LEN}", chars.len())));
        }
        let code = field(&chars, 1, 5);
        let recid = field(&chars, 11, 11);
        match recid.as_str() {
            "3" | "7" => {
                if chars.len() < TXT_MIN_FIRST_LEN {
                    return Err(fail(format!(
                        "truncated record: {} characters, a first record (RECID {recid}) needs at least \
                         {TXT_MIN_FIRST_LEN} and has {TXT_RECORD_LEN}",
                        chars.len()
                    )));
                }
                if let Some(p) = pending.take() {
                    flush(p, path, &mut out)?;
                }
                let mut raw = Raw::default();
                for (k, col) in COLUMNS.iter().enumerate() {
                    raw.0[k] = field(&chars, col.txt.0, col.txt.1);
                }
                let first_chunk = std::mem::take(&mut raw.0[LONG]);
                pending = Some(Pending { raw, line: line_no, chunks: vec![first_chunk] });
            }
            "4" | "8" => {
                let first = if recid == "4" { "3" } else { "7" };
                match pending.as_mut() {
                    Some(p) if p.raw.0[HCPC] == code && p.raw.0[RECID] == first => {
                        p.chunks.push(field(&chars, 12, 91));
                    }
                    _ => {
                        return Err(fail(format!(
                            "continuation record (RECID {recid}) of {code:?} does not follow a first record \
                             (RECID {first}) of the same code"
                        )))
                    }
                }
            }
            _ => return Err(fail(format!("RECID (position 11) is {recid:?}; expected 3 or 7 (first record) or 4 or 8 (continuation)"))),
        }
    }
    if let Some(p) = pending.take() {
        flush(p, path, &mut out)?;
    }
    Ok(out)
}

/// Length of a fixed-width ANWEB record.
const TXT_RECORD_LEN: usize = 320;
/// A first record must reach the end of ADD DT (positions 269-276).
const TXT_MIN_FIRST_LEN: usize = 276;

/// A column the importer reads: its header name, its positions in the `.txt` (1-based,
/// inclusive), and the width a numeric workbook cell is zero-padded to (0: not padded).
struct Column {
    name: &'static str,
    txt: (usize, usize),
    pad: usize,
    date: bool,
}

const fn column(name: &'static str, from: usize, to: usize, pad: usize) -> Column {
    Column { name, txt: (from, to), pad, date: false }
}

const fn date_column(name: &'static str, from: usize, to: usize) -> Column {
    Column { name, txt: (from, to), pad: 8, date: true }
}

const HCPC: usize = 0;
const RECID: usize = 1;
const LONG: usize = 2;
const SHORT: usize = 3;
const PRICE: usize = 4; // PRICE1..PRICE4
const MULT_PI: usize = 8;
const XREF: usize = 9; // XREF1..XREF5
const COV: usize = 14;
const PROCNOTE: usize = 15;
const BETOS: usize = 16;
const TOS: usize = 17; // TOS1..TOS5
const ADD_DT: usize = 22;
const ACT_EFF_DT: usize = 23;
const TERM_DT: usize = 24;
const ACTION_CD: usize = 25;
const NCOLS: usize = 26;

/// The columns read, indexed by the constants above.
const COLUMNS: [Column; NCOLS] = [
    column("HCPC", 1, 5, 0),
    column("RECID", 11, 11, 0),
    column("LONG DESCRIPTION", 12, 91, 0),
    column("SHORT DESCRIPTION", 92, 119, 0),
    column("PRICE1", 120, 121, 2),
    column("PRICE2", 122, 123, 2),
    column("PRICE3", 124, 125, 2),
    column("PRICE4", 126, 127, 2),
    column("MULT_PI", 128, 128, 0),
    column("XREF1", 205, 209, 0),
    column("XREF2", 210, 214, 0),
    column("XREF3", 215, 219, 0),
    column("XREF4", 220, 224, 0),
    column("XREF5", 225, 229, 0),
    column("COV", 230, 230, 0),
    column("PROCNOTE", 253, 256, 4),
    column("BETOS", 257, 259, 0),
    column("TOS1", 261, 261, 0),
    column("TOS2", 262, 262, 0),
    column("TOS3", 263, 263, 0),
    column("TOS4", 264, 264, 0),
    column("TOS5", 265, 265, 0),
    date_column("ADD DT", 269, 276),
    date_column("ACT EFF DT", 277, 284),
    date_column("TERM DT", 285, 292),
    column("ACTION CD", 293, 293, 0),
];

/// The trimmed text of each read column of one record.
#[derive(Default)]
struct Raw([String; NCOLS]);

/// A `.txt` first record waiting for its continuation records.
struct Pending {
    raw: Raw,
    line: u64,
    chunks: Vec<String>,
}

fn flush(mut p: Pending, path: &Path, out: &mut Vec<HcpcsRow>) -> Result<()> {
    let mut long = String::new();
    for chunk in p.chunks.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        if !long.is_empty() {
            long.push(' ');
        }
        long.push_str(chunk);
    }
    p.raw.0[LONG] = long;
    if let Some(row) = build_row(&p.raw, path, p.line)? {
        out.push(row);
    }
    Ok(())
}

/// Header names compare without case, spaces and underscores (`ACT EFF DT` = `act_eff_dt`).
fn header_key(name: &str) -> String {
    name.chars().filter(|c| !matches!(c, ' ' | '_' | '\u{feff}')).map(|c| c.to_ascii_uppercase()).collect()
}

/// For each of [`COLUMNS`], the index of its column in the header.
fn column_map(header: &[String], path: &Path, line: u64) -> Result<[usize; NCOLS]> {
    let keys: Vec<String> = header.iter().map(|h| header_key(h)).collect();
    let mut map = [0usize; NCOLS];
    let mut missing = Vec::new();
    for (k, col) in COLUMNS.iter().enumerate() {
        match keys.iter().position(|h| *h == header_key(col.name)) {
            Some(i) => map[k] = i,
            None => missing.push(col.name),
        }
    }
    if missing.is_empty() {
        Ok(map)
    } else {
        let shown: Vec<&str> = header.iter().take(8).map(String::as_str).collect();
        Err(Error::import(
            path,
            Some(line),
            format!("not an HCPCS ANWEB header: missing column(s) {} (header starts {:?})", missing.join(", "), shown),
        ))
    }
}

/// Turns the raw text of one record into a row; `None` for a CDT or CPT code (skipped).
fn build_row(raw: &Raw, path: &Path, line: u64) -> Result<Option<HcpcsRow>> {
    let fail = |m: String| Error::import(path, Some(line), m);
    let r = |k: usize| raw.0[k].trim();
    let code = r(HCPC).to_ascii_uppercase();
    let modifier = code.len() == 2;
    match (r(RECID), modifier) {
        ("" | "3", false) | ("" | "7", true) => {}
        (recid, _) => {
            return Err(fail(format!(
                "code {code:?} with RECID {recid:?}: expected 3 for a five-character procedure code, \
                 7 for a two-character modifier"
            )))
        }
    }
    if is_licensed(&code) {
        return Ok(None);
    }
    let b = code.as_bytes();
    let shape_ok = if modifier {
        b.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    } else {
        b.len() == 5 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit)
    };
    if !shape_ok {
        return Err(fail(format!("{code:?} is not an HCPCS Level II code (a letter and four digits) or modifier (two characters)")));
    }
    let date = |k: usize| parse_date(r(k)).map_err(|m| fail(format!("{}: {m}", COLUMNS[k].name)));
    let opt = |k: usize| Some(r(k).to_string()).filter(|s| !s.is_empty());
    let list = |from: usize, n: usize| (from..from + n).filter_map(opt).collect::<Vec<_>>();
    let info = HcpcsInfo {
        added: date(ADD_DT)?,
        action_effective: date(ACT_EFF_DT)?,
        terminated: date(TERM_DT)?,
        action_code: opt(ACTION_CD),
        coverage_code: opt(COV),
        pricing_indicators: list(PRICE, 4),
        multiple_pricing_indicator: opt(MULT_PI),
        betos: opt(BETOS),
        type_of_service: list(TOS, 5),
        cross_references: list(XREF, 5),
        processing_note: opt(PROCNOTE),
    };
    Ok(Some(HcpcsRow { code, modifier, long_title: r(LONG).to_string(), short_title: r(SHORT).to_string(), info }))
}

/// CDT codes (`D` and four digits) and CPT codes (a first digit) and modifiers (two digits) are
/// licensed text that must never be imported.
fn is_licensed(code: &str) -> bool {
    let b = code.as_bytes();
    match b.len() {
        2 => b.iter().all(u8::is_ascii_digit),
        5 => b[0].is_ascii_digit() || (b[0] == b'D' && b[1..].iter().all(u8::is_ascii_digit)),
        _ => false,
    }
}

/// `YYYYMMDD` to a date; empty is `None`.
fn parse_date(s: &str) -> std::result::Result<Option<NaiveDate>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    let bad = || format!("malformed date {s:?} (expected YYYYMMDD)");
    if s.len() != 8 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
    match (num(0..4), num(4..6), num(6..8)) {
        (Some(y), Some(m), Some(d)) => NaiveDate::from_ymd_opt(y as i32, m, d).map(Some).ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// Characters `from..=to` (1-based) of a fixed-width record, trimmed; empty past the end.
fn field(chars: &[char], from: usize, to: usize) -> String {
    let start = from.saturating_sub(1).min(chars.len());
    let end = to.min(chars.len()).max(start);
    chars[start..end].iter().collect::<String>().trim().to_string()
}

/// UTF-8 when it is; otherwise Windows-1252 (Latin-1 with printable 0x80-0x9F), every byte one
/// character.
fn decode(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.into(),
        Err(_) => bytes.iter().map(|&b| windows_1252(b)).collect::<String>().into(),
    }
}

fn windows_1252(b: u8) -> char {
    const HIGH: [u16; 32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
        0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ];
    match b {
        0x80..=0x9F => char::from_u32(u32::from(HIGH[usize::from(b - 0x80)])).unwrap_or('\u{fffd}'),
        _ => char::from(b),
    }
}

fn csv_error(e: csv::Error, path: &Path) -> Error {
    let line = e.position().map(|p| p.line());
    Error::import(path, line, format!("not a readable ANWEB CSV: {e}"))
}

/// A header cell as text.
fn header_text(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.trim().to_string(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

/// A workbook cell as the CSV spells it (see [`read_xlsx`]).
fn cell_text(cell: &Data, col: &Column) -> std::result::Result<String, String> {
    let integer = |i: i64| {
        if col.pad > 0 && i >= 0 {
            format!("{i:0width$}", width = col.pad)
        } else {
            i.to_string()
        }
    };
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => integer(*i),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => integer(*f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(dt) if col.date => excel_date(dt)
            .map(|d| d.format("%Y%m%d").to_string())
            .ok_or_else(|| format!("spreadsheet date {} is not a calendar date", dt.as_f64()))?,
        Data::DateTime(dt) => {
            let f = dt.as_f64();
            if f.fract() == 0.0 && f.abs() < 1e15 {
                integer(f as i64)
            } else {
                f.to_string()
            }
        }
        Data::DateTimeIso(s) if col.date => {
            let day = s.get(..10).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            day.map(|d| d.format("%Y%m%d").to_string()).ok_or_else(|| format!("malformed ISO date {s:?}"))?
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        Data::Error(e) => return Err(format!("the cell holds the spreadsheet error {e}")),
    })
}

/// The calendar day of an Excel date serial, in the workbook's 1900 or 1904 date system.
fn excel_date(dt: &ExcelDateTime) -> Option<NaiveDate> {
    let serial = dt.as_f64();
    if !dt_is_datetime(dt) || !serial.is_finite() || !(0.0..3_000_000.0).contains(&serial) {
        return None;
    }
    let days = serial.floor() as u64;
    let is_1904 = *dt == ExcelDateTime::new(serial, ExcelDateTimeType::DateTime, true);
    let (epoch, days) = if is_1904 {
        (NaiveDate::from_ymd_opt(1904, 1, 1)?, days)
    } else if days >= 61 {
        // Excel counts the non-existent 1900-02-29 (serial 60).
        (NaiveDate::from_ymd_opt(1899, 12, 30)?, days)
    } else if days == 60 || days == 0 {
        return None;
    } else {
        (NaiveDate::from_ymd_opt(1899, 12, 31)?, days)
    };
    epoch.checked_add_days(chrono::Days::new(days))
}

/// Whether a spreadsheet date-time is a point in time rather than a duration.
fn dt_is_datetime(dt: &ExcelDateTime) -> bool {
    let v = dt.as_f64();
    *dt == ExcelDateTime::new(v, ExcelDateTimeType::DateTime, false) || *dt == ExcelDateTime::new(v, ExcelDateTimeType::DateTime, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::path::PathBuf;

    fn data(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/hcpcs").join(rel)
    }

    fn fixture(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hcpcs").join(rel)
    }

    fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    const HEADER: &str = "HCPC,SEQNUM,RECID,LONG DESCRIPTION,SHORT DESCRIPTION,PRICE1,PRICE2,PRICE3,PRICE4,MULT_PI,\
CIM1,CIM2,CIM3,MCM1,MCM2,MCM3,STATUTE,LABCERT1,LABCERT2,LABCERT3,LABCERT4,LABCERT5,LABCERT6,LABCERT7,LABCERT8,\
XREF1,XREF2,XREF3,XREF4,XREF5,COV,ASC_GRP,ASC_DT,OPPS,OPPS_PI,OPPS_DT,PROCNOTE,BETOS,TOS1,TOS2,TOS3,TOS4,TOS5,\
ANEST_BU,ADD DT,ACT EFF DT,TERM DT,ACTION CD";
    const J1100: &str = "J1100,0010,3,\"Injection, dexamethasone sodium phosphate, 1 mg\",Dexamethasone sodium phos,\
51,,,,A,,,,2049,,,,,,,,,,,,,,,,,D,,,,,,,O1E,1,P,,,,  0,19820101,20010101,,N";

    fn csv_str(s: &str) -> Result<Vec<HcpcsRow>> {
        read_csv(s.as_bytes(), Path::new("test.csv"))
    }

    fn txt_bytes(b: &[u8]) -> Result<Vec<HcpcsRow>> {
        read_txt(b, Path::new("test.txt"))
    }

    /// A 320-character first record with the given code, long text and dates.
    fn txt_record(code: &str, recid: char, long: &str, add: &str) -> String {
        let mut line = format!("{code:>5}00100{recid}{long:<80}{:<28}", "Short");
        line.push_str(&" ".repeat(268 - line.chars().count()));
        line.push_str(&format!("{add:<8}{:<8}{:<8}N", "20200101", ""));
        line.push_str(&" ".repeat(320 - line.chars().count()));
        line
    }

    fn import_line(r: Result<Vec<HcpcsRow>>) -> (Option<u64>, String) {
        match r {
            Err(Error::Import { line, message, .. }) => (line, message),
            other => panic!("expected Error::Import, got {other:?}"),
        }
    }

    #[test]
    fn xlsx_and_csv_give_identical_rows() {
        let from_xlsx = read(&data("HCPC2025_OCT_ANWEB.xlsx")).unwrap();
        let from_csv = read(&data("HCPC2025_OCT_ANWEB.csv.gz")).unwrap();
        assert_eq!(from_xlsx.len(), 8846);
        assert_eq!(from_csv.len(), from_xlsx.len());
        for (x, c) in from_xlsx.iter().zip(&from_csv) {
            assert_eq!(x, c);
        }
        // The workbook's few numeric cells (TOS1 of one row, three dates) read as text.
        let j = from_xlsx.iter().find(|r| r.code == "J1100").unwrap();
        assert_eq!(j.info.added, ymd(1982, 1, 1));
        assert_eq!(j.long_title, "Injection, dexamethasone sodium phosphate, 1 mg");
    }

    #[test]
    fn csv_holds_only_hcpcs_level_ii_codes() {
        // Nothing is skipped: the October 2025 file has no CDT or CPT codes (8,846 records).
        let rows = read(&data("HCPC2025_OCT_ANWEB.csv.gz")).unwrap();
        assert_eq!(rows.len(), 8846);
        assert_eq!(rows.iter().filter(|r| r.modifier).count(), 383);
        assert!(rows.iter().all(|r| !is_licensed(&r.code)));
        let codes: HashSet<&str> = rows.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes.len(), rows.len(), "codes are unique");
        assert!(rows[0].modifier && rows[0].code == "A1", "file order: modifiers first");
        let lt = rows.iter().find(|r| r.code == "LT").unwrap();
        assert!(lt.modifier);
        assert_eq!(lt.long_title, "Left side (used to identify procedures performed on the left side of the body)");
    }

    #[test]
    fn txt_fixture_matches_csv_rows() {
        let txt = read(&fixture("anweb_sample.txt")).unwrap();
        let wanted: HashSet<&str> = txt.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(txt.len(), 26);
        assert_eq!(wanted.len(), 26);
        let csv: Vec<HcpcsRow> =
            read(&data("HCPC2025_OCT_ANWEB.csv.gz")).unwrap().into_iter().filter(|r| wanted.contains(r.code.as_str())).collect();
        assert_eq!(txt, csv);
    }

    #[test]
    fn txt_fixture_fields() {
        let rows = read(&fixture("anweb_sample.txt")).unwrap();
        let get = |c: &str| rows.iter().find(|r| r.code == c).unwrap();
        let ab = get("AB");
        assert!(ab.modifier);
        assert!(ab.long_title.starts_with("Audiology service furnished personally by an audiologist without a physician/npp"));
        assert!(ab.long_title.ends_with("service may be performed once every 12 months, per beneficiary"));
        assert_eq!(get("KB").long_title.len(), 80, "exactly one full record");
        assert!(get("K2").long_title.contains("surfaces.  typical"), "double space inside a chunk is kept");
        assert_eq!(get("G0556").long_title.len(), 4501, "57 records joined");
        let lt = get("LT");
        assert_eq!((lt.modifier, lt.short_title.as_str()), (true, "Left side"));
        let c9113 = get("C9113");
        assert_eq!(c9113.info.terminated, ymd(2024, 6, 30));
        let g0431 = get("G0431");
        assert_eq!(g0431.info.pricing_indicators, ["13", "21"]);
        assert_eq!(g0431.info.terminated, ymd(2015, 12, 31));
        let j = get("J1100");
        assert_eq!(j.info.coverage_code.as_deref(), Some("D"));
        assert_eq!(j.info.type_of_service, ["1", "P"]);
        assert_eq!(j.info.betos.as_deref(), Some("O1E"));
        assert_eq!(j.info.multiple_pricing_indicator.as_deref(), Some("A"));
        assert_eq!(get("A0130").info.coverage_code.as_deref(), Some("I"));
        assert_eq!(get("A0130").info.action_effective, None);
        assert_eq!(get("C9742").info.cross_references, ["31573", "31574"]);
        assert_eq!(get("G0124").info.processing_note.as_deref(), Some("0045"));
        assert_eq!(get("C9088").info.action_code.as_deref(), Some("D"));
        assert_eq!(get("E0776").info.type_of_service, ["A", "E", "P", "R"]);
    }

    #[test]
    fn cdt_and_cpt_codes_are_skipped() {
        for name in ["skip_cdt_cpt.csv", "skip_cdt_cpt.txt"] {
            let rows = read(&fixture(name)).unwrap();
            let codes: Vec<&str> = rows.iter().map(|r| r.code.as_str()).collect();
            assert_eq!(codes, ["DA", "J1100"], "{name}");
            assert!(rows.iter().all(|r| !r.long_title.contains("Made-up")), "{name}");
        }
        assert!(is_licensed("D0120") && is_licensed("99213") && is_licensed("0159T") && is_licensed("25"));
        assert!(!is_licensed("DA") && !is_licensed("J1100") && !is_licensed("D1") && !is_licensed("DX123"));
    }

    #[test]
    fn missing_file_is_io_error_naming_it() {
        for name in ["nope.xlsx", "nope.csv", "nope.csv.gz", "nope.txt"] {
            let path = data(name);
            match read(&path) {
                Err(Error::Io { path: Some(p), .. }) => assert_eq!(p, path),
                other => panic!("{name}: {other:?}"),
            }
        }
        assert!(matches!(read(Path::new("x.pdf")), Err(Error::Import { .. })));
    }

    #[test]
    fn wrong_header_is_import_error() {
        let (line, msg) = import_line(csv_str("CODE,TITLE\nJ1100,Something\n"));
        assert_eq!(line, Some(1));
        assert!(msg.contains("missing column(s) HCPC, RECID, LONG DESCRIPTION"), "{msg}");
        let (_, msg) = import_line(csv_str(""));
        assert!(msg.contains("missing column"), "{msg}");
    }

    #[test]
    fn header_names_ignore_case_spaces_and_underscores_and_bom() {
        let header = format!("\u{feff}{}", HEADER.replace("ADD DT", "add_dt").replace("MULT_PI", "Mult Pi"));
        let rows = csv_str(&format!("{header}\n{J1100}\n")).unwrap();
        assert_eq!(rows[0].info.added, ymd(1982, 1, 1));
        assert_eq!(rows[0].info.multiple_pricing_indicator.as_deref(), Some("A"));
    }

    #[test]
    fn malformed_csv_records_are_import_errors_with_line() {
        let bad_date = J1100.replace("19820101", "19821301");
        let (line, msg) = import_line(csv_str(&format!("{HEADER}\n{J1100}\n{bad_date}\n")));
        assert_eq!(line, Some(3));
        assert!(msg.contains("ADD DT") && msg.contains("19821301"), "{msg}");
        let (line, _) = import_line(csv_str(&format!("{HEADER}\n{J1100}\nJ1101,0010,3\n")));
        assert_eq!(line, Some(3), "short record");
        let (_, msg) = import_line(csv_str(&format!("{HEADER}\n{}\n", J1100.replacen("J1100", "J11", 1))));
        assert!(msg.contains("\"J11\""), "{msg}");
        let (_, msg) = import_line(csv_str(&format!("{HEADER}\n{}\n", J1100.replacen(",3,", ",7,", 1))));
        assert!(msg.contains("RECID"), "{msg}");
    }

    #[test]
    fn txt_continuations_and_line_ends() {
        let first = txt_record("J1100", '3', "Injection, dexamethasone sodium phosphate, part one of a description that goes", "19820101");
        let cont = format!("{:<320}", "J1100002004on and on");
        let text = format!("{first}\r\n\r\n{cont}\r\n");
        let rows = txt_bytes(text.as_bytes()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].long_title, "Injection, dexamethasone sodium phosphate, part one of a description that goes on and on");
        assert_eq!(rows[0].info.added, ymd(1982, 1, 1));
        assert_eq!(rows[0].info.action_effective, ymd(2020, 1, 1));
        // Trailing blanks may be stripped.
        let rows = txt_bytes(format!("{}\n{}", first.trim_end(), cont.trim_end()).as_bytes()).unwrap();
        assert_eq!(rows[0].long_title.len(), 88);
        let m = txt_record("LT", '7', "Left side", "19920101");
        let rows = txt_bytes(m.as_bytes()).unwrap();
        assert_eq!((rows[0].code.as_str(), rows[0].modifier), ("LT", true));
    }

    #[test]
    fn malformed_txt_records_are_import_errors() {
        let first = txt_record("J1100", '3', "Injection", "19820101");
        let cases: Vec<(String, &str)> = vec![
            (first[..200].to_string(), "truncated record"),
            (format!("{first}X"), "321 characters"),
            (format!("{:<320}", "J1100002004orphan"), "does not follow"),
            (format!("{first}\n{:<320}", "J1101002004wrong code"), "does not follow"),
            (format!("{first}\n{:<320}", "J1100002008modifier continuation"), "does not follow"),
            (txt_record("J1100", '5', "Injection", "19820101"), "RECID"),
            (txt_record("J1100", '3', "Injection", "1982010X"), "malformed date"),
            (txt_record("J1100", '7', "Injection", "19820101"), "RECID"),
        ];
        for (text, want) in cases {
            let (line, msg) = import_line(txt_bytes(text.as_bytes()));
            assert!(line.is_some(), "{want}");
            assert!(msg.contains(want), "{msg:?} should say {want:?}");
        }
        let (line, _) = import_line(txt_bytes(format!("{first}\n{first}\n{}", &first[..100]).as_bytes()));
        assert_eq!(line, Some(3));
    }

    #[test]
    fn txt_decodes_latin1_and_never_panics_on_odd_bytes() {
        let mut rec = txt_record("A1234", '3', "Caf\u{e9} item", "20000101").into_bytes();
        // Re-encode as Latin-1: é becomes the one byte 0xE9 and the record stays 320 bytes.
        let pos = rec.windows(2).position(|w| w == "é".as_bytes()).unwrap();
        rec.splice(pos..pos + 2, [0xE9]);
        assert_eq!(rec.len(), 320);
        let rows = txt_bytes(&rec).unwrap();
        assert_eq!(rows[0].long_title, "Café item");
        assert_eq!(rows[0].info.added, ymd(2000, 1, 1));
        // Arbitrary bytes, short lines, multi-byte characters at field boundaries: errors, no panic.
        let mut seed = 12345u64;
        for _ in 0..300 {
            let mut line = Vec::new();
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let len = (seed >> 33) as usize % 340;
            for i in 0..len {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                line.push(match i {
                    10 => b"3478\xff"[(seed >> 40) as usize % 5],
                    _ => (seed >> 56) as u8,
                });
            }
            let _ = txt_bytes(&line);
            let _ = csv_str(&format!("{HEADER}\n{}", String::from_utf8_lossy(&line)));
        }
        let _ = txt_bytes("   é€3".repeat(80).as_bytes());
    }

    #[test]
    fn workbook_cells_read_as_csv_text() {
        let procnote = &COLUMNS[PROCNOTE];
        let price = &COLUMNS[PRICE];
        let add = &COLUMNS[ADD_DT];
        let tos = &COLUMNS[TOS];
        assert_eq!(cell_text(&Data::Float(88.0), procnote).unwrap(), "0088");
        assert_eq!(cell_text(&Data::Int(0), price).unwrap(), "00");
        assert_eq!(cell_text(&Data::Float(2.0), tos).unwrap(), "2");
        assert_eq!(cell_text(&Data::Float(3350.5), tos).unwrap(), "3350.5");
        assert_eq!(cell_text(&Data::String("  0088 ".into()), procnote).unwrap(), "0088");
        assert_eq!(cell_text(&Data::Float(20250401.0), add).unwrap(), "20250401");
        let serial = |v: f64, is_1904: bool| Data::DateTime(ExcelDateTime::new(v, ExcelDateTimeType::DateTime, is_1904));
        assert_eq!(cell_text(&serial(45748.0, false), add).unwrap(), "20250401");
        assert_eq!(cell_text(&serial(45748.0 - 1462.0, true), add).unwrap(), "20250401");
        assert_eq!(cell_text(&serial(1.0, false), add).unwrap(), "19000101");
        assert!(cell_text(&serial(60.0, false), add).is_err(), "1900-02-29 does not exist");
        assert!(cell_text(&serial(-3.0, false), add).is_err());
        let duration = Data::DateTime(ExcelDateTime::new(1.5, ExcelDateTimeType::TimeDelta, false));
        assert!(cell_text(&duration, add).is_err());
        assert_eq!(cell_text(&Data::DateTimeIso("2025-04-01T00:00:00".into()), add).unwrap(), "20250401");
        assert!(cell_text(&Data::DateTimeIso("01/04/2025".into()), add).is_err());
        assert!(cell_text(&Data::Error(calamine::CellErrorType::NA), add).is_err());
        assert_eq!(cell_text(&Data::Empty, add).unwrap(), "");
    }

    #[test]
    fn bad_workbook_is_import_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.xlsx");
        std::fs::write(&path, b"this is not a zip").unwrap();
        assert!(matches!(read(&path), Err(Error::Import { .. })));
        let path = dir.path().join("broken.csv.gz");
        std::fs::write(&path, b"not gzip either").unwrap();
        assert!(matches!(read(&path), Err(Error::Import { .. })));
    }
}

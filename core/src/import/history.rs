//! ICD-10-CM and ICD-10-PCS code history from every CMS order file, FY2014 on, and the NCHS
//! conversion table.
//!
//! [`scan`] reads the yearly order files out of the CMS zips and gives, for every code ever
//! listed, the fiscal years it was listed, the years it was billable, and its title changes.
//! That table is large to compute (a dozen zips of 15 MB files), so it is kept in `data/` in a
//! compact derived form, a gzip TSV written by [`write_tsv`] (`codelookup history`) and read by
//! [`read_tsv`] when a book is built. [`read_conversion_table`] reads the NCHS table of new codes
//! with their effective dates (which gives mid-year additions such as U07.1 on 2020-04-01) and
//! the codes they replaced.
//!
//! Fiscal year N runs from October 1 of N-1 to September 30 of N. Years are stored as a bit
//! mask: bit `i` is FY `FIRST_FISCAL_YEAR + i`.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::order::OrderRow;
use super::sources::read_order_source;
use crate::code::System;
use crate::error::{Error, Result};

/// The first fiscal year of ICD-10 order files.
pub const FIRST_FISCAL_YEAR: u16 = 2014;

/// The first date of service on which ICD-10-CM and ICD-10-PCS codes are valid on US claims
/// (the HIPAA compliance date). CMS published the FY2014 and FY2015 order files while ICD-10
/// was delayed; their codes are listed in a code's history, but claims before this date use
/// ICD-9-CM.
pub const ICD10_EFFECTIVE: NaiveDate = match NaiveDate::from_ymd_opt(2015, 10, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};

/// The history of one code over the order files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeHistory {
    /// ICD-10-CM or ICD-10-PCS.
    pub system: System,
    /// Normalised code.
    pub code: String,
    /// Fiscal years the code is listed in (as header or billable), as a mask.
    pub listed: u32,
    /// Fiscal years the code is valid on a claim (billable), as a mask.
    pub billable: u32,
    /// The long title from each fiscal year in which it changed, oldest first (the first entry
    /// is the title of the first year listed).
    pub titles: Vec<(u16, String)>,
}

/// Every code ever listed, sorted by system then code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistoryTable {
    /// The latest fiscal year scanned.
    pub last_year: u16,
    /// One entry per (system, code).
    pub codes: Vec<CodeHistory>,
}

/// Bit of a fiscal year in a year mask.
pub fn year_bit(fy: u16) -> u32 {
    1 << (fy.saturating_sub(FIRST_FISCAL_YEAR) as u32).min(31)
}

/// The fiscal years of a mask, ascending.
pub fn years(mask: u32) -> impl Iterator<Item = u16> {
    let mut rest = mask;
    std::iter::from_fn(move || {
        let bit = rest.trailing_zeros();
        rest &= rest.wrapping_sub(1);
        (bit < 32).then(|| FIRST_FISCAL_YEAR + bit as u16)
    })
}

/// The fiscal year a date of service falls in.
pub fn fiscal_year(date: NaiveDate) -> u16 {
    use chrono::Datelike;
    let y = date.year() as u16;
    if date.month() >= 10 {
        y + 1
    } else {
        y
    }
}

/// First day of fiscal year `fy` (October 1 of `fy - 1`).
pub fn fiscal_year_start(fy: u16) -> NaiveDate {
    NaiveDate::from_ymd_opt(fy as i32 - 1, 10, 1).unwrap_or(NaiveDate::MIN)
}

/// Last day of fiscal year `fy` (September 30 of `fy`).
pub fn fiscal_year_end(fy: u16) -> NaiveDate {
    NaiveDate::from_ymd_opt(fy as i32, 9, 30).unwrap_or(NaiveDate::MAX)
}

/// The order files of one fiscal year: the CMS zips (or order files) of both systems.
#[derive(Clone, Debug)]
pub struct YearFiles {
    /// The fiscal year.
    pub year: u16,
    /// ICD-10-CM zip or order file.
    pub icd10cm: PathBuf,
    /// ICD-10-PCS zip or order file.
    pub icd10pcs: PathBuf,
}

/// The yearly files in a folder laid out like the repository's `data/`: `history/cms_YYYY_dx.zip`
/// and `history/cms_YYYY_pr.zip` for FY2014-FY2025, and the FY2026 zips of the current book.
pub fn year_files_in(data_dir: &Path) -> Vec<YearFiles> {
    let mut v: Vec<YearFiles> = (FIRST_FISCAL_YEAR..=2025)
        .map(|y| YearFiles {
            year: y,
            icd10cm: data_dir.join(format!("history/cms_{y}_dx.zip")),
            icd10pcs: data_dir.join(format!("history/cms_{y}_pr.zip")),
        })
        .collect();
    v.push(YearFiles {
        year: 2026,
        icd10cm: data_dir.join("icd10cm/cms_2026_dx.zip"),
        icd10pcs: data_dir.join("icd10pcs/cms_2026_pr.zip"),
    });
    v
}

/// Reads every year's order files and builds the history table.
///
/// Cost: about 400 MB of order files decompressed and parsed; seconds in a release build.
pub fn scan(files: &[YearFiles]) -> Result<HistoryTable> {
    let mut map: BTreeMap<(System, String), CodeHistory> = BTreeMap::new();
    let mut last_year = 0;
    let mut sorted = files.to_vec();
    sorted.sort_by_key(|f| f.year);
    for f in &sorted {
        if f.year < FIRST_FISCAL_YEAR || f.year >= FIRST_FISCAL_YEAR + 32 {
            return Err(Error::InvalidArgument(format!(
                "fiscal year {} is outside {FIRST_FISCAL_YEAR}-{}",
                f.year,
                FIRST_FISCAL_YEAR + 31
            )));
        }
        last_year = last_year.max(f.year);
        for (system, path, prefix) in [(System::Icd10cm, &f.icd10cm, "icd10cm_order_"), (System::Icd10pcs, &f.icd10pcs, "icd10pcs_order_")]
        {
            for row in read_order_source(path, prefix)? {
                add_row(&mut map, system, f.year, row);
            }
        }
    }
    Ok(HistoryTable { last_year, codes: map.into_values().collect() })
}

fn add_row(map: &mut BTreeMap<(System, String), CodeHistory>, system: System, year: u16, row: OrderRow) {
    let e = map.entry((system, row.code.clone())).or_insert_with(|| CodeHistory {
        system,
        code: row.code,
        listed: 0,
        billable: 0,
        titles: Vec::new(),
    });
    e.listed |= year_bit(year);
    if row.billable {
        e.billable |= year_bit(year);
    }
    if e.titles.last().is_none_or(|(_, t)| *t != row.long_title) {
        e.titles.push((year, row.long_title));
    }
}

/// Writes the derived form: a header line, then one line per code:
/// `system TAB code TAB listed-mask TAB billable-mask (hex) {TAB year TAB title}...`.
pub fn write_tsv<W: Write>(table: &HistoryTable, mut out: W) -> std::io::Result<()> {
    writeln!(out, "# codelookup ICD-10 history, FY{FIRST_FISCAL_YEAR}-FY{}; rebuild with `codelookup history`", table.last_year)?;
    for c in &table.codes {
        write!(out, "{}\t{}\t{:x}\t{:x}", c.system, c.code, c.listed, c.billable)?;
        for (y, t) in &c.titles {
            write!(out, "\t{y}\t{t}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Writes the derived form gzip-compressed to `path` (deterministic: no timestamp in the gzip
/// header), atomically.
pub fn write_gzip_file(table: &HistoryTable, path: &Path) -> Result<()> {
    let tmp = path.with_extension("partial");
    let write = || -> std::io::Result<()> {
        let file = std::fs::File::create(&tmp)?;
        let mut gz = flate2::GzBuilder::new().mtime(0).write(std::io::BufWriter::new(file), flate2::Compression::best());
        write_tsv(table, &mut gz)?;
        gz.finish()?.flush()
    };
    write().and_then(|_| std::fs::rename(&tmp, path)).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// Reads the gzip derived form from a file.
pub fn read_gzip_file(path: &Path) -> Result<HistoryTable> {
    let bytes = super::sources::read_maybe_gzip(path)?;
    read_tsv(&bytes[..], path)
}

/// Reads the derived form written by [`write_tsv`]. `path` only names the file in errors.
pub fn read_tsv<R: BufRead>(reader: R, path: &Path) -> Result<HistoryTable> {
    let mut table = HistoryTable::default();
    for (i, line) in reader.lines().enumerate() {
        let line_no = Some(i as u64 + 1);
        let line = line.map_err(|e| Error::import(path, line_no, e.to_string()))?;
        if let Some(header) = line.strip_prefix('#') {
            if let Some(y) = header.split("-FY").nth(1).and_then(|s| s.get(..4)).and_then(|s| s.parse().ok()) {
                table.last_year = y;
            }
            continue;
        }
        let bad = |m: &str| Error::import(path, line_no, m.to_string());
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 6 || f.len() % 2 != 0 {
            return Err(bad("expected system, code, two masks and (year, title) pairs"));
        }
        let system: System = f[0].parse().map_err(|_| bad("unknown system"))?;
        let mask = |s: &str| u32::from_str_radix(s, 16).map_err(|_| bad("a year mask is not hexadecimal"));
        let titles = f[4..]
            .chunks(2)
            .map(|p| Ok((p[0].parse::<u16>().map_err(|_| bad("a title year is not a number"))?, p[1].to_string())))
            .collect::<Result<Vec<_>>>()?;
        table.codes.push(CodeHistory { system, code: f[1].to_string(), listed: mask(f[2])?, billable: mask(f[3])?, titles });
    }
    if table.last_year == 0 {
        return Err(Error::import(path, Some(1), "missing the header line naming the fiscal years"));
    }
    Ok(table)
}

/// One row of the NCHS conversion table: a code added since FY2016, its effective date, and the
/// codes it replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversion {
    /// The new code, normalised.
    pub code: String,
    /// The date it took effect (October 1 of the listed year unless the table gives a date).
    pub effective: NaiveDate,
    /// The codes it replaced, normalised.
    pub previous: Vec<String>,
}

/// Reads the NCHS ICD-10-CM conversion table (xlsx: current code, effective, previous codes).
pub fn read_conversion_table(path: &Path) -> Result<Vec<Conversion>> {
    use calamine::{open_workbook_auto, Data, Reader};
    let bad = |line: Option<u64>, m: String| Error::import(path, line, m);
    let mut wb = open_workbook_auto(path).map_err(|e| bad(None, format!("not a readable workbook: {e}")))?;
    let sheet = wb.sheet_names().first().cloned().ok_or_else(|| bad(None, "no sheet".into()))?;
    let range = wb.worksheet_range(&sheet).map_err(|e| bad(None, e.to_string()))?;
    let mut out = Vec::new();
    let mut in_table = false;
    for (i, row) in range.rows().enumerate() {
        let line = Some(i as u64 + 1);
        let text = |c: Option<&Data>| c.map(|d| d.to_string().trim().to_string()).unwrap_or_default();
        let code = text(row.first());
        if !in_table {
            in_table = code.eq_ignore_ascii_case("Current code assignment");
            continue;
        }
        if code.is_empty() {
            continue;
        }
        let effective = match row.get(1) {
            Some(Data::Float(f)) if *f > 3000.0 => excel_date(*f),
            Some(Data::Int(n)) if *n > 3000 => excel_date(*n as f64),
            Some(Data::DateTime(d)) => excel_date(d.as_f64()),
            other => {
                let s = text(other);
                s.parse::<i32>().ok().and_then(|y| NaiveDate::from_ymd_opt(y, 10, 1)).or_else(|| s.parse::<NaiveDate>().ok())
            }
        }
        .ok_or_else(|| bad(line, format!("effective date of {code} is not a year or date")))?;
        let previous = text(row.get(2)).split([',', ';', ' ']).filter(|s| !s.is_empty()).map(|s| s.replace('.', "")).collect();
        out.push(Conversion { code: code.replace('.', ""), effective, previous });
    }
    if !in_table {
        return Err(bad(None, "no 'Current code assignment' header row".into()));
    }
    Ok(out)
}

/// An Excel serial day number as a date (1900 date system).
fn excel_date(serial: f64) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1899, 12, 30)?.checked_add_days(chrono::Days::new(serial as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fiscal_years() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(fiscal_year(d(2021, 9, 30)), 2021);
        assert_eq!(fiscal_year(d(2021, 10, 1)), 2022);
        assert_eq!(fiscal_year_start(2022), d(2021, 10, 1));
        assert_eq!(fiscal_year_end(2021), d(2021, 9, 30));
        assert_eq!(years(year_bit(2014) | year_bit(2026)).collect::<Vec<_>>(), [2014, 2026]);
        assert_eq!(excel_date(43922.0), Some(d(2020, 4, 1)));
        // The first and last days agree with the calendar, inside the masks' years and beyond.
        for fy in [2000, FIRST_FISCAL_YEAR - 1, FIRST_FISCAL_YEAR, 2026, FIRST_FISCAL_YEAR + 31, FIRST_FISCAL_YEAR + 32, 2100] {
            assert_eq!(fiscal_year_start(fy), d(i32::from(fy) - 1, 10, 1), "{fy}");
            assert_eq!(fiscal_year_end(fy), d(i32::from(fy), 9, 30), "{fy}");
        }
    }

    #[test]
    fn tsv_round_trip_and_errors() {
        let table = HistoryTable {
            last_year: 2026,
            codes: vec![CodeHistory {
                system: System::Icd10cm,
                code: "M545".into(),
                listed: year_bit(2014) | year_bit(2022),
                billable: year_bit(2014),
                titles: vec![(2014, "Low back pain".into()), (2022, "Low back pain, new".into())],
            }],
        };
        let mut buf = Vec::new();
        write_tsv(&table, &mut buf).unwrap();
        assert_eq!(read_tsv(&buf[..], Path::new("h.tsv")).unwrap(), table);
        for bad in ["icd10cm\tM545\n", "# codelookup ICD-10 history, FY2014-FY2026\nicd10cm\tM545\tzz\t1\t2014\tx\n", "no header\n"] {
            assert!(matches!(read_tsv(bad.as_bytes(), Path::new("h.tsv")), Err(Error::Import { .. })), "{bad:?}");
        }
    }
}

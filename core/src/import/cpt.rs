//! The CPT data files that AMA licensees receive: descriptors, modifiers, consumer and clinician
//! descriptors, and the CPT Link history files. [`read_dir`] reads a licensee's folder into
//! [`CptData`]; the book builder turns that into records.
//!
//! **CPT text is AMA copyright.** These readers only parse files a user already holds; nothing
//! of them is embedded, and the test fixtures (`core/tests/fixtures/cpt/`) hold made-up
//! descriptors in the AMA layouts.
//!
//! # Files and layouts
//!
//! File names are matched case-insensitively (`LONGULT.TXT` is found too), in the folder and up to
//! [`SEARCH_DEPTH`] levels of sub-folders, as the AMA ships them (`standard/`, `standard/Clinician
//! Descriptors/`, `CPT Link/history/`...). Where a name occurs more than once the shallowest wins;
//! two at the same depth are an error. Only [`LONG_FILE`] is required.
//!
//! | file | layout |
//! |---|---|
//! | `LONGULT.txt` (required) | long descriptor, upper/lower case, tab-delimited: a copyright preamble, then one `code<TAB>descriptor` line per code. The whole descriptor is on one line (the fixed-field `LONGUF.txt`/`LONGULF.txt`, which split long descriptors over numbered records, are not read). |
//! | `MEDU.txt`, `SHORTU.txt` | the same preamble, then `code descriptor`: fixed-field records with the code in positions 1-5, a blank, the descriptor from position 7 (at most 48 and 28 characters), blank-padded; a tab instead of the blank is accepted too. |
//! | `MODUL.txt` | a text rendering of CPT Appendix A (see [`CptModifier`]). |
//! | `ConsumerDescriptor.txt` | tab-delimited with a header row: `Concept Id`, `CPT Code`, `Consumer Friendly Descriptor`. |
//! | `ClinicianDescriptor.txt` | tab-delimited with a header row: `Concept Id`, `CPT Code`, `Clinician Descriptor Id`, `Clinician Descriptor`; several rows per code. |
//! | `Deleted_DTK_tab.txt` | CPT Link, tab-delimited with a header row: `Concept Id`, `Code`, `Date Deleted`, `Level`, `Descriptor`, `Instruction`. |
//! | `History_DTK_tab.txt` | CPT Link, tab-delimited with a header row: `Date`, `Change Type`, `Concept Id`, `CPT Code`, `Level`, `Prior Value`, `Current Value`, `Instruction`. |
//!
//! Sources of these layouts: the AMA "CPT 2001 ASCII text files" file-layout notice (fixed-field
//! short and medium files), the NLM UMLS "CPT source representation" page (the file list:
//! `LONGULT.TXT` "Long Description Upper/Lower Case - Tab-Delimited Format"), and the column
//! names used by the AMA DataLabs ETL (`AMADataLabs/Core` on GitHub: descriptor, modifier and
//! CPT Link history parsers and their tests). The history column *meanings* (which codes a
//! deletion instruction names, which change types exist) are not publicly documented; the rules
//! assumed here are stated on [`CptDeleted`] and [`CptChange`].
//!
//! Tab-delimited tables are read by their header names (case, spaces and punctuation ignored), so
//! reordered columns still read; a file without a header row is read at the positions above.
//! Trailing empty columns may be missing. Every field is trimmed.
//!
//! # Encodings and line ends
//!
//! The AMA files come as Windows-1252 (Latin-1) or UTF-8, possibly with a byte order mark, with
//! CRLF or LF line ends. Each line is decoded as UTF-8 when it is valid UTF-8, else as
//! Windows-1252. A UTF-16 or UTF-32 file (byte order mark `FF FE` / `FE FF`), NUL bytes, control
//! characters other than tab, form feed and the DOS end-of-file mark, and the five bytes that are
//! undefined in Windows-1252 are an [`Error::Import`] naming the file (and line).
//!
//! # Errors
//!
//! A missing [`LONG_FILE`] is an [`Error::Io`] naming it. A malformed line (a code that is not four
//! digits and a digit, `F`, `T`, `U` or `M`; a code without a descriptor; a bad date) and a code
//! listed twice in one descriptor file are an [`Error::Import`] with the file and line (and the
//! line of the first occurrence). Codes of `MEDU.txt`, `SHORTU.txt` and the consumer and
//! clinician files that `LONGULT.txt` lacks are not an error: the AMA publishes PLA and Category III
//! updates between releases, so a licensee's folder can mix release dates. They are left out and
//! listed in [`CptData::skipped`].

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::code::truncate_for_message;
use crate::error::{Error, Result};

/// The long descriptors (required): `LONGULT.txt`.
pub const LONG_FILE: &str = "LONGULT.txt";
/// The medium descriptors (optional): `MEDU.txt`.
pub const MEDIUM_FILE: &str = "MEDU.txt";
/// The short descriptors (optional): `SHORTU.txt`.
pub const SHORT_FILE: &str = "SHORTU.txt";
/// The modifiers, CPT Appendix A (optional): `MODUL.txt`.
pub const MODIFIER_FILE: &str = "MODUL.txt";
/// The consumer-friendly descriptors (optional): `ConsumerDescriptor.txt`.
pub const CONSUMER_FILE: &str = "ConsumerDescriptor.txt";
/// The clinician descriptors (optional): `ClinicianDescriptor.txt`.
pub const CLINICIAN_FILE: &str = "ClinicianDescriptor.txt";
/// The CPT Link deleted-code history (optional): `Deleted_DTK_tab.txt`.
pub const DELETED_FILE: &str = "Deleted_DTK_tab.txt";
/// The CPT Link change history (optional): `History_DTK_tab.txt`.
pub const HISTORY_FILE: &str = "History_DTK_tab.txt";

/// How many levels of sub-folders [`read_dir`] searches for the files.
pub const SEARCH_DEPTH: usize = 3;

/// Everything read from a licensee's CPT folder.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CptData {
    /// Every code of `LONGULT.txt`, in file order, with what the other files say about it.
    pub codes: Vec<CptCode>,
    /// The modifiers of `MODUL.txt`, in file order (empty without the file).
    pub modifiers: Vec<CptModifier>,
    /// The deleted codes of `Deleted_DTK_tab.txt`, in file order (empty without the file).
    pub deleted: Vec<CptDeleted>,
    /// The changes of `History_DTK_tab.txt`, in file order (empty without the file).
    pub changes: Vec<CptChange>,
    /// Lines of the medium, short, consumer and clinician files whose code is not in
    /// `LONGULT.txt`: left out of [`CptData::codes`], listed here so a caller can warn.
    pub skipped: Vec<CptSkipped>,
}

/// One CPT code and its descriptors.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CptCode {
    /// The code, normalised: five characters, upper case (`99213`, `0001F`, `0042T`, `0001U`).
    pub code: String,
    /// The long descriptor (`LONGULT.txt`).
    pub long: String,
    /// The medium descriptor (`MEDU.txt`), upper case, at most 48 characters.
    pub medium: Option<String>,
    /// The short descriptor (`SHORTU.txt`), upper case, at most 28 characters.
    pub short: Option<String>,
    /// The consumer-friendly descriptor (`ConsumerDescriptor.txt`).
    pub consumer: Option<String>,
    /// The clinician descriptors (`ClinicianDescriptor.txt`), in file order.
    pub clinician: Vec<String>,
    /// The date of the latest `ADDED` change of the code in `History_DTK_tab.txt`; `None` without
    /// the file, without such a change, or when the file only says `Pre-1982`.
    pub added: Option<NaiveDate>,
}

/// Which list of CPT Appendix A a modifier comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CptModifierKind {
    /// A CPT Level I modifier (`22`, `25`, `59`...).
    LevelI,
    /// An anesthesia physical status modifier (`P1`..`P6`).
    PhysicalStatus,
    /// A Category II performance-measure exclusion modifier (`1P`, `2P`, `3P`, `8P`).
    CategoryII,
    /// A HCPCS Level II (national) modifier that `MODUL.txt` lists among those approved for
    /// hospital outpatient use (`LT`, `RT`, `E1`...). These are CMS modifiers; the HCPCS import
    /// has them too.
    LevelII,
}

/// One modifier of `MODUL.txt`.
///
/// `MODUL.txt` is CPT Appendix A as text: a copyright preamble, then the heading `Appendix A` and
/// an introduction, then paragraphs that each start with a modifier and its name (`22 Name:
/// explanation...`, continued over several lines until a blank line). Headings switch lists:
/// `Anesthesia Physical Status` (entries `Physical Status Modifier P1: ...`), `Modifiers Approved
/// for Ambulatory Surgery Center (ASC) Hospital Outpatient Use` with `CPT Level I Modifiers`,
/// `Category II Modifiers`, and `Level II (HCPCS/National) Modifiers` (one modifier per line).
/// Other text is skipped. A file of plain `code<TAB>descriptor` lines reads too (as Level I).
///
/// A modifier listed again under the ASC heading keeps its first text and gets
/// [`CptModifier::asc`]; any other repetition is an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CptModifier {
    /// The modifier: two characters, upper case (`25`, `P1`, `1P`, `LT`).
    pub code: String,
    /// Its name: for Level I and physical status modifiers the text before the first colon (the
    /// whole text when there is none); for Category II and Level II modifiers the first line.
    pub short: String,
    /// The whole paragraph, its lines joined with one space (without the modifier itself).
    pub long: String,
    /// The list it comes from.
    pub kind: CptModifierKind,
    /// Whether it is listed among the modifiers approved for ASC hospital outpatient use.
    pub asc: bool,
}

/// One deleted code of `Deleted_DTK_tab.txt`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CptDeleted {
    /// The deleted code, normalised.
    pub code: String,
    /// The deletion date (`Date Deleted`, `YYYYMMDD`); `None` when the file says `Pre-1982` (or
    /// any `Pre-YYYY`): deleted before that year, date unknown.
    pub deleted: Option<NaiveDate>,
    /// The descriptor the code had (`Descriptor`); `None` when empty or "Descriptor not
    /// available".
    pub title: Option<String>,
    /// The `Instruction` column as it is (`None` when empty).
    pub instruction: Option<String>,
    /// The codes that replace it: every CPT code the instruction names, in order, without
    /// repeats and without the deleted code itself. A range `62320-62327` names its two ends and
    /// every code of `LONGULT.txt` between them.
    pub replaced_by: Vec<String>,
}

/// The kind of a change of `History_DTK_tab.txt` (`Change Type`, case-insensitive).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CptChangeKind {
    /// `ADDED`: the code was added.
    Added,
    /// `DELETED`: the code was deleted.
    Deleted,
    /// `CHANGED`: a descriptor of the code changed.
    Changed,
    /// Any other change type, as written in the file.
    Other(String),
}

/// One change of `History_DTK_tab.txt`.
///
/// Rows without a code (changes of headings or guidelines rather than codes) are left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CptChange {
    /// When the change took effect (`Date`, `YYYYMMDD`); `None` for `Pre-1982` (any `Pre-YYYY`).
    pub date: Option<NaiveDate>,
    /// What changed.
    pub kind: CptChangeKind,
    /// The code, normalised.
    pub code: String,
    /// `Prior Value`: the descriptor before the change, if any.
    pub prior: Option<String>,
    /// `Current Value`: the descriptor after the change, if any.
    pub current: Option<String>,
    /// `Instruction`, if any.
    pub instruction: Option<String>,
}

/// A line left out of [`CptData::codes`] because its code is not in `LONGULT.txt`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CptSkipped {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line.
    pub line: u64,
    /// The code, normalised.
    pub code: String,
}

/// Reads a licensee's CPT folder: [`LONG_FILE`] (required) and, when present, the medium, short,
/// modifier, consumer, clinician, deleted and history files (see the module documentation for
/// where they are looked for and their layouts).
///
/// Cost: reads each file whole; a full release (about 11,000 codes, 100,000 clinician
/// descriptors) is a few tens of MB of text. Errors: a missing `LONGULT.txt` or an unreadable
/// folder is an [`Error::Io`] naming the path; a file that does not fit its layout is an
/// [`Error::Import`] naming the file and line.
pub fn read_dir(dir: &Path) -> Result<CptData> {
    let files = find_files(dir)?;
    let long_path = files.get(&LONG_FILE.to_ascii_lowercase()).ok_or_else(|| {
        let message = format!("the required CPT file {LONG_FILE} is in neither {} nor its sub-folders", dir.display());
        Error::io(dir.join(LONG_FILE), io::Error::new(io::ErrorKind::NotFound, message))
    })?;
    let optional = |name: &str| files.get(&name.to_ascii_lowercase());

    let mut data = CptData::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    for d in parse_descriptors(&read_lines(long_path)?, long_path)? {
        index.insert(d.code.clone(), data.codes.len());
        data.codes.push(CptCode { code: d.code, long: d.text, ..CptCode::default() });
    }

    let mut attach = |path: &PathBuf, rows: Vec<Descriptor>, set: &mut dyn FnMut(&mut CptCode, String)| {
        for d in rows {
            match index.get(&d.code) {
                Some(&i) => {
                    if let Some(code) = data.codes.get_mut(i) {
                        set(code, d.text);
                    }
                }
                None => data.skipped.push(CptSkipped { path: path.clone(), line: d.line, code: d.code }),
            }
        }
    };
    if let Some(p) = optional(MEDIUM_FILE) {
        attach(p, parse_descriptors(&read_lines(p)?, p)?, &mut |c, t| c.medium = Some(t));
    }
    if let Some(p) = optional(SHORT_FILE) {
        attach(p, parse_descriptors(&read_lines(p)?, p)?, &mut |c, t| c.short = Some(t));
    }
    if let Some(p) = optional(CONSUMER_FILE) {
        attach(p, parse_consumer(&read_lines(p)?, p)?, &mut |c, t| c.consumer = Some(t));
    }
    if let Some(p) = optional(CLINICIAN_FILE) {
        attach(p, parse_clinician(&read_lines(p)?, p)?, &mut |c, t| c.clinician.push(t));
    }
    if let Some(p) = optional(MODIFIER_FILE) {
        data.modifiers = parse_modifiers(&read_lines(p)?, p)?;
    }
    if let Some(p) = optional(DELETED_FILE) {
        let mut current: Vec<&str> = data.codes.iter().map(|c| c.code.as_str()).collect();
        current.sort_unstable();
        data.deleted = parse_deleted(&read_lines(p)?, p, &current)?;
    }
    if let Some(p) = optional(HISTORY_FILE) {
        data.changes = parse_history(&read_lines(p)?, p)?;
        for change in &data.changes {
            if let (CptChangeKind::Added, Some(date), Some(&i)) = (&change.kind, change.date, index.get(&change.code)) {
                if let Some(code) = data.codes.get_mut(i) {
                    code.added = code.added.max(Some(date));
                }
            }
        }
    }
    Ok(data)
}

// ---------------------------------------------------------------------------------------------
// Finding the files

/// Every file of interest under `dir` (lower-case name -> path), shallowest first.
fn find_files(dir: &Path) -> Result<HashMap<String, PathBuf>> {
    let wanted: Vec<String> =
        [LONG_FILE, MEDIUM_FILE, SHORT_FILE, MODIFIER_FILE, CONSUMER_FILE, CLINICIAN_FILE, DELETED_FILE, HISTORY_FILE]
            .iter()
            .map(|n| n.to_ascii_lowercase())
            .collect();
    let mut found: HashMap<String, (usize, PathBuf)> = HashMap::new();
    let mut level = vec![dir.to_path_buf()];
    for depth in 0..=SEARCH_DEPTH {
        let mut next = Vec::new();
        for folder in &level {
            let mut entries: Vec<fs::DirEntry> =
                fs::read_dir(folder).map_err(|e| Error::io(folder, e))?.collect::<io::Result<_>>().map_err(|e| Error::io(folder, e))?;
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                let path = entry.path();
                let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
                if is_dir {
                    next.push(path);
                    continue;
                }
                let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
                if !wanted.contains(&name) || !path.is_file() {
                    continue;
                }
                match found.get(&name) {
                    Some((d, first)) if *d == depth => {
                        return Err(Error::import(
                            dir,
                            None,
                            format!(
                                "{} is there twice: {} and {}; keep one",
                                entry.file_name().to_string_lossy(),
                                first.display(),
                                path.display()
                            ),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        found.insert(name, (depth, path));
                    }
                }
            }
        }
        level = next;
    }
    Ok(found.into_iter().map(|(k, (_, p))| (k, p)).collect())
}

// ---------------------------------------------------------------------------------------------
// Text decoding

/// One decoded line: its 1-based number and its text without the line end.
struct TextLine {
    no: u64,
    text: String,
}

fn read_lines(path: &Path) -> Result<Vec<TextLine>> {
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    decode_lines(&bytes, path)
}

/// Checks that `bytes` are text this module can decode and strips a UTF-8 byte order mark.
/// UTF-16/UTF-32 (by their byte order marks) and NUL bytes are an [`Error::Import`] naming
/// `path` (and the line of the first NUL).
pub(crate) fn text_bytes<'a>(bytes: &'a [u8], path: &Path) -> Result<&'a [u8]> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) || bytes.starts_with(&[0, 0, 0xFE, 0xFF]) {
        return Err(Error::import(
            path,
            None,
            "unknown encoding: the file is UTF-16 or UTF-32 (it starts with such a byte order mark); save it as UTF-8 or Windows-1252",
        ));
    }
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    if let Some(pos) = body.iter().position(|&b| b == 0) {
        let line = body[..pos].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        return Err(Error::import(
            path,
            Some(line),
            "unknown encoding: NUL byte (binary data, or UTF-16 without a byte order mark); expected UTF-8 or Windows-1252 text",
        ));
    }
    Ok(body)
}

/// Decodes one line or field: UTF-8 when it is valid UTF-8, else Windows-1252. Bytes undefined
/// in Windows-1252 and control characters other than tab, CR, LF, form feed and the DOS
/// end-of-file mark (0x1A) are an error message.
pub(crate) fn decode_text(bytes: &[u8]) -> std::result::Result<String, String> {
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() + 8);
            for &b in bytes {
                out.push(
                    windows_1252(b).ok_or_else(|| format!("unknown encoding: byte 0x{b:02X} is neither UTF-8 nor Windows-1252 text"))?,
                );
            }
            out
        }
    };
    if let Some(c) = text.chars().find(|&c| c.is_control() && !matches!(c, '\t' | '\r' | '\n' | '\u{c}' | '\u{1a}')) {
        return Err(format!(
            "unknown encoding: control character U+{:04X} (binary data?); expected UTF-8 or Windows-1252 text",
            u32::from(c)
        ));
    }
    Ok(text)
}

/// The Windows-1252 character of a byte; `None` for the five undefined bytes.
fn windows_1252(b: u8) -> Option<char> {
    const HIGH: [u16; 32] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0, //
        0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
    ];
    match b {
        0x80..=0x9F => HIGH.get(usize::from(b - 0x80)).copied().filter(|&c| c != 0).and_then(|c| char::from_u32(u32::from(c))),
        _ => Some(char::from(b)),
    }
}

fn decode_lines(bytes: &[u8], path: &Path) -> Result<Vec<TextLine>> {
    let body = text_bytes(bytes, path)?;
    let mut out = Vec::new();
    for (i, raw) in body.split(|&b| b == b'\n').enumerate() {
        let no = i as u64 + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let text = decode_text(raw).map_err(|m| Error::import(path, Some(no), m))?;
        out.push(TextLine { no, text });
    }
    Ok(out)
}

/// Trims white space and the DOS end-of-file mark.
fn clean(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{1a}')
}

// ---------------------------------------------------------------------------------------------
// Codes and dates

/// Normalises a CPT code: four digits, then a digit or `F`, `T`, `U`, `M` (upper-cased).
fn cpt_code(field: &str) -> std::result::Result<String, String> {
    let t = field.trim();
    let up = t.to_ascii_uppercase();
    let b = up.as_bytes();
    if b.len() == 5 && b[..4].iter().all(u8::is_ascii_digit) && matches!(b[4], b'0'..=b'9' | b'F' | b'T' | b'U' | b'M') {
        Ok(up)
    } else {
        Err(format!("{:?} is not a CPT code (four digits, then a digit or F, T, U or M)", truncate_for_message(t)))
    }
}

/// A date of the CPT Link files: `YYYYMMDD` (or `YYYY-MM-DD`, `M/D/YYYY`); `Pre-YYYY` is
/// `None` (before that year, exact date unknown).
fn cpt_date(field: &str) -> std::result::Result<Option<NaiveDate>, String> {
    let t = field.trim();
    let bad = || format!("malformed date {:?} (expected YYYYMMDD or Pre-YYYY)", truncate_for_message(t));
    let lower = t.to_ascii_lowercase();
    if let Some(year) = lower.strip_prefix("pre-").or_else(|| lower.strip_prefix("pre ")) {
        return if year.len() == 4 && year.bytes().all(|c| c.is_ascii_digit()) { Ok(None) } else { Err(bad()) };
    }
    let parsed = if t.len() == 8 && t.bytes().all(|c| c.is_ascii_digit()) {
        NaiveDate::parse_from_str(t, "%Y%m%d").ok()
    } else {
        NaiveDate::parse_from_str(t, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(t, "%m/%d/%Y")).ok()
    };
    parsed.map(Some).ok_or_else(bad)
}

fn non_empty(s: &str) -> Option<String> {
    Some(s.to_string()).filter(|s| !s.is_empty())
}

// ---------------------------------------------------------------------------------------------
// LONGULT.txt, MEDU.txt, SHORTU.txt

/// One code line of a descriptor file (or row of the consumer/clinician tables).
#[derive(Debug)]
struct Descriptor {
    line: u64,
    code: String,
    text: String,
}

/// `code<TAB or blanks>descriptor` lines after a preamble.
///
/// The preamble is every line before the first code line. A line counts as a code line when it
/// starts with a valid code followed by a blank or tab and text, or (so that a broken first code
/// line is not mistaken for preamble) when it has a tab after a short token that starts with a
/// digit. From the first code line on, every non-blank line must be a valid code line.
fn parse_descriptors(lines: &[TextLine], path: &Path) -> Result<Vec<Descriptor>> {
    let mut out = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut in_data = false;
    for l in lines {
        let text = clean(&l.text);
        if text.is_empty() {
            continue;
        }
        let fail = |m: String| Error::import(path, Some(l.no), m);
        let (first, rest, tabbed) = match text.find([' ', '\t']) {
            Some(i) => (&text[..i], clean(&text[i..]), text[i..].starts_with('\t')),
            None => (text, "", false),
        };
        if !in_data {
            let code_like = tabbed
                && (4..=6).contains(&first.len())
                && first.bytes().all(|c| c.is_ascii_alphanumeric())
                && first.bytes().next().is_some_and(|c| c.is_ascii_digit());
            if !code_like && (cpt_code(first).is_err() || rest.is_empty()) {
                continue;
            }
            in_data = true;
        }
        let code = cpt_code(first).map_err(fail)?;
        if rest.is_empty() {
            return Err(fail(format!("code {code} has no descriptor")));
        }
        if let Some(first_line) = seen.insert(code.clone(), l.no) {
            return Err(fail(format!("duplicate code {code}: also at line {first_line}")));
        }
        out.push(Descriptor { line: l.no, code, text: rest.to_string() });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Tab-delimited tables with a header row

/// A column of a tab-delimited table: its header names (normalised: lower case, letters and
/// digits only) in order of preference, and its position when the file has no header row.
struct Column {
    name: &'static str,
    aliases: &'static [&'static str],
    position: usize,
    required: bool,
}

/// A table row: the cells of the wanted columns, in the order of the column list.
struct Row {
    line: u64,
    cells: Vec<String>,
}

impl Row {
    fn get(&self, k: usize) -> &str {
        self.cells.get(k).map_or("", String::as_str)
    }
}

fn normalise_header(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

/// Reads a tab-delimited table. The first non-blank line is a header when one of its cells is a
/// name of one of `columns`; then the columns are found by name, else at their positions.
fn parse_table(lines: &[TextLine], path: &Path, columns: &[Column]) -> Result<Vec<Row>> {
    let mut positions: Option<Vec<Option<usize>>> = None;
    let mut rows = Vec::new();
    for l in lines {
        if clean(&l.text).is_empty() {
            continue;
        }
        let cells: Vec<&str> = l.text.split('\t').map(clean).collect();
        let map = match positions.take() {
            Some(m) => m,
            None => {
                let header: Vec<String> = cells.iter().map(|c| normalise_header(c)).collect();
                let is_header = columns.iter().any(|c| c.aliases.iter().any(|a| header.iter().any(|h| h == a)));
                if is_header {
                    positions = Some(header_positions(&header, &cells, columns, path, l.no)?);
                    continue;
                }
                columns.iter().map(|c| Some(c.position)).collect()
            }
        };
        let row = map.iter().map(|p| p.and_then(|p| cells.get(p)).map_or(String::new(), |s| s.to_string())).collect();
        rows.push(Row { line: l.no, cells: row });
        positions = Some(map);
    }
    Ok(rows)
}

fn header_positions(header: &[String], shown: &[&str], columns: &[Column], path: &Path, line: u64) -> Result<Vec<Option<usize>>> {
    let mut out = Vec::with_capacity(columns.len());
    for c in columns {
        let pos = c.aliases.iter().find_map(|a| header.iter().position(|h| h == a));
        if pos.is_none() && c.required {
            return Err(Error::import(
                path,
                Some(line),
                format!(
                    "the header has no {} column; its columns are {:?}",
                    c.name,
                    shown.iter().map(|s| truncate_for_message(s)).collect::<Vec<_>>()
                ),
            ));
        }
        out.push(pos);
    }
    Ok(out)
}

const CONSUMER_COLUMNS: [Column; 2] = [
    Column { name: "CPT Code", aliases: &["cptcode", "code"], position: 1, required: true },
    Column {
        name: "Consumer Friendly Descriptor",
        aliases: &["consumerfriendlydescriptor", "consumerdescriptor", "descriptor"],
        position: 2,
        required: true,
    },
];

fn parse_consumer(lines: &[TextLine], path: &Path) -> Result<Vec<Descriptor>> {
    let mut out = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for row in parse_table(lines, path, &CONSUMER_COLUMNS)? {
        let fail = |m: String| Error::import(path, Some(row.line), m);
        let code = cpt_code(row.get(0)).map_err(fail)?;
        if row.get(1).is_empty() {
            return Err(fail(format!("code {code} has no consumer descriptor")));
        }
        if let Some(first) = seen.insert(code.clone(), row.line) {
            return Err(fail(format!("duplicate code {code}: also at line {first}")));
        }
        out.push(Descriptor { line: row.line, text: row.get(1).to_string(), code });
    }
    Ok(out)
}

const CLINICIAN_COLUMNS: [Column; 3] = [
    Column { name: "CPT Code", aliases: &["cptcode", "code"], position: 1, required: true },
    Column { name: "Clinician Descriptor Id", aliases: &["cliniciandescriptorid"], position: 2, required: false },
    Column { name: "Clinician Descriptor", aliases: &["cliniciandescriptor", "descriptor"], position: 3, required: true },
];

/// Several rows per code; a clinician descriptor id listed twice is an error.
fn parse_clinician(lines: &[TextLine], path: &Path) -> Result<Vec<Descriptor>> {
    let mut out = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for row in parse_table(lines, path, &CLINICIAN_COLUMNS)? {
        let fail = |m: String| Error::import(path, Some(row.line), m);
        let code = cpt_code(row.get(0)).map_err(fail)?;
        if row.get(2).is_empty() {
            return Err(fail(format!("code {code} has no clinician descriptor")));
        }
        let id = row.get(1);
        if !id.is_empty() {
            if let Some(first) = seen.insert(id.to_string(), row.line) {
                return Err(fail(format!("duplicate clinician descriptor id {:?}: also at line {first}", truncate_for_message(id))));
            }
        }
        out.push(Descriptor { line: row.line, text: row.get(2).to_string(), code });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Deleted_DTK_tab.txt and History_DTK_tab.txt

const DELETED_COLUMNS: [Column; 4] = [
    Column { name: "Code", aliases: &["code", "cptcode"], position: 1, required: true },
    Column { name: "Date Deleted", aliases: &["datedeleted", "deleteddate", "deletiondate", "date"], position: 2, required: true },
    Column { name: "Descriptor", aliases: &["descriptor", "longdescriptor"], position: 4, required: false },
    Column { name: "Instruction", aliases: &["instruction", "instructions"], position: 5, required: false },
];

fn parse_deleted(lines: &[TextLine], path: &Path, current: &[&str]) -> Result<Vec<CptDeleted>> {
    let mut out = Vec::new();
    let mut seen: HashMap<(String, Option<NaiveDate>), u64> = HashMap::new();
    for row in parse_table(lines, path, &DELETED_COLUMNS)? {
        let fail = |m: String| Error::import(path, Some(row.line), m);
        let code = cpt_code(row.get(0)).map_err(fail)?;
        let deleted = cpt_date(row.get(1)).map_err(fail)?;
        if let Some(first) = seen.insert((code.clone(), deleted), row.line) {
            return Err(fail(format!("duplicate deletion of {code}: also at line {first}")));
        }
        let title = non_empty(row.get(2)).filter(|t| !t.to_ascii_lowercase().starts_with("descriptor not available"));
        let instruction = non_empty(row.get(3));
        let replaced_by = instruction.as_deref().map(|i| codes_named(i, &code, current)).unwrap_or_default();
        out.push(CptDeleted { code, deleted, title, instruction, replaced_by });
    }
    Ok(out)
}

/// The CPT codes a text names, in order, without repeats and without `own`; a range `A-B` (hyphen
/// or dash, blanks allowed) also names the `current` codes between its ends.
fn codes_named(text: &str, own: &str, current: &[&str]) -> Vec<String> {
    // Runs of ASCII letters and digits that are CPT codes, with their byte ranges.
    let mut found: Vec<(String, usize, usize)> = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        match (c.is_ascii_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if let Ok(code) = cpt_code(&text[s..i]) {
                    found.push((code, s, i));
                }
                start = None;
            }
            _ => {}
        }
    }
    let mut out: Vec<String> = Vec::new();
    let mut push = |c: &str| {
        if c != own && !out.iter().any(|o| o == c) {
            out.push(c.to_string());
        }
    };
    for (k, (code, _, end)) in found.iter().enumerate() {
        push(code);
        let Some((next, next_start, _)) = found.get(k + 1) else { continue };
        let between = text.get(*end..*next_start).map(str::trim).unwrap_or("");
        if matches!(between, "-" | "\u{2013}" | "\u{2014}") && same_kind(code, next) && code < next {
            for c in current.iter().filter(|c| same_kind(c, code) && c.as_bytes() > code.as_bytes() && c.as_bytes() < next.as_bytes()) {
                push(c);
            }
        }
    }
    out
}

/// Whether two codes end in the same kind of character (a digit, or the same letter).
fn same_kind(a: &str, b: &str) -> bool {
    match (a.as_bytes().last(), b.as_bytes().last()) {
        (Some(x), Some(y)) => x == y || (x.is_ascii_digit() && y.is_ascii_digit()),
        _ => false,
    }
}

const HISTORY_COLUMNS: [Column; 6] = [
    Column { name: "Date", aliases: &["date", "effectivedate"], position: 0, required: true },
    Column { name: "Change Type", aliases: &["changetype"], position: 1, required: true },
    Column { name: "CPT Code", aliases: &["cptcode", "code"], position: 3, required: true },
    Column { name: "Prior Value", aliases: &["priorvalue"], position: 5, required: false },
    Column { name: "Current Value", aliases: &["currentvalue"], position: 6, required: false },
    Column { name: "Instruction", aliases: &["instruction", "instructions"], position: 7, required: false },
];

fn parse_history(lines: &[TextLine], path: &Path) -> Result<Vec<CptChange>> {
    let mut out = Vec::new();
    for row in parse_table(lines, path, &HISTORY_COLUMNS)? {
        let fail = |m: String| Error::import(path, Some(row.line), m);
        if row.get(2).is_empty() {
            continue;
        }
        let code = cpt_code(row.get(2)).map_err(fail)?;
        let date = cpt_date(row.get(0)).map_err(fail)?;
        let kind = match row.get(1).to_ascii_uppercase().as_str() {
            "ADDED" => CptChangeKind::Added,
            "DELETED" => CptChangeKind::Deleted,
            "CHANGED" => CptChangeKind::Changed,
            "" => return Err(fail(format!("change of {code} without a change type"))),
            _ => CptChangeKind::Other(row.get(1).to_string()),
        };
        out.push(CptChange {
            date,
            kind,
            code,
            prior: non_empty(row.get(3)),
            current: non_empty(row.get(4)),
            instruction: non_empty(row.get(5)),
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// MODUL.txt

#[derive(Clone, Copy, PartialEq, Eq)]
enum Heading {
    AppendixA,
    PhysicalStatus,
    Asc,
    LevelI,
    CategoryII,
    LevelII,
}

fn heading(text: &str) -> Option<Heading> {
    let t = text.trim_end_matches(':').trim().to_ascii_lowercase();
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    if t == "appendix a" || t.starts_with("appendix a ") {
        Some(Heading::AppendixA)
    } else if t.starts_with("anesthesia physical status") {
        Some(Heading::PhysicalStatus)
    } else if t.starts_with("modifiers approved for ambulatory surgery center") {
        Some(Heading::Asc)
    } else if t == "cpt level i modifiers" {
        Some(Heading::LevelI)
    } else if t == "category ii modifiers" {
        Some(Heading::CategoryII)
    } else if t.starts_with("level ii (hcpcs/national) modifiers") || t == "level ii modifiers" {
        Some(Heading::LevelII)
    } else {
        None
    }
}

/// A modifier paragraph being read.
struct OpenModifier {
    line: u64,
    code: String,
    parts: Vec<String>,
    list: usize,
    kind: CptModifierKind,
    asc: bool,
}

/// `XX text` (blank or tab after a two-character modifier) or `Physical Status Modifier P1: text`:
/// the modifier, the text, and whether a tab separated them.
fn modifier_start(text: &str) -> Option<(String, &str, bool)> {
    const PHYSICAL: &str = "physical status modifier ";
    let (rest, physical) = match text.get(..PHYSICAL.len()) {
        Some(p) if p.eq_ignore_ascii_case(PHYSICAL) => (text.get(PHYSICAL.len()..).unwrap_or(""), true),
        _ => (text, false),
    };
    let code = rest.get(..2)?;
    if !code.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
        return None;
    }
    let after = rest.get(2..)?;
    let tabbed = after.starts_with('\t');
    let body = if physical && after.starts_with(':') {
        clean(&after[1..])
    } else if after.starts_with([' ', '\t']) {
        clean(after)
    } else {
        return None;
    };
    (!body.is_empty()).then(|| (code.to_string(), body, tabbed))
}

fn parse_modifiers(lines: &[TextLine], path: &Path) -> Result<Vec<CptModifier>> {
    let mut out: Vec<CptModifier> = Vec::new();
    let mut seen: HashMap<String, (usize, u64, usize)> = HashMap::new();
    let mut finish = |open: Option<OpenModifier>, out: &mut Vec<CptModifier>| -> Result<()> {
        let Some(o) = open else { return Ok(()) };
        let long = o.parts.join(" ");
        let short = match o.kind {
            CptModifierKind::LevelI | CptModifierKind::PhysicalStatus => {
                long.split_once(':').map_or(long.as_str(), |(name, _)| name.trim())
            }
            CptModifierKind::CategoryII | CptModifierKind::LevelII => o.parts.first().map_or("", |p| p.trim_end_matches(':').trim()),
        };
        let short = if short.is_empty() { long.clone() } else { short.to_string() };
        match seen.get(&o.code) {
            None => {
                seen.insert(o.code.clone(), (out.len(), o.line, o.list));
                out.push(CptModifier { code: o.code, short, long, kind: o.kind, asc: o.asc });
            }
            Some(&(i, _, list)) if list != o.list && o.asc => {
                if let Some(m) = out.get_mut(i) {
                    m.asc = true;
                }
            }
            Some(&(_, first, _)) => {
                return Err(Error::import(path, Some(o.line), format!("duplicate modifier {}: also at line {first}", o.code)));
            }
        }
        Ok(())
    };

    let mut kind: Option<CptModifierKind> = None;
    let (mut asc, mut asc_seen, mut list) = (false, false, 0usize);
    let mut open: Option<OpenModifier> = None;
    let mut after_break = true;
    for l in lines {
        let text = clean(&l.text);
        if text.is_empty() {
            finish(open.take(), &mut out)?;
            after_break = true;
            continue;
        }
        if let Some(h) = heading(text) {
            finish(open.take(), &mut out)?;
            list += 1;
            match h {
                Heading::AppendixA | Heading::LevelI => kind = Some(CptModifierKind::LevelI),
                Heading::PhysicalStatus => {
                    kind = Some(CptModifierKind::PhysicalStatus);
                    asc = false;
                }
                Heading::Asc => {
                    kind = Some(CptModifierKind::LevelI);
                    asc = true;
                    asc_seen = true;
                }
                Heading::CategoryII => {
                    kind = Some(CptModifierKind::CategoryII);
                    asc = false;
                }
                Heading::LevelII => {
                    kind = Some(CptModifierKind::LevelII);
                    asc = asc_seen;
                }
            }
            after_break = true;
            continue;
        }
        let start = modifier_start(text).filter(|(_, _, tabbed)| match kind {
            None => *tabbed,
            Some(k) => *tabbed || after_break || k == CptModifierKind::LevelII,
        });
        match (start, open.as_mut()) {
            (Some((code, body, _)), _) => {
                finish(open.take(), &mut out)?;
                let k = kind.unwrap_or(CptModifierKind::LevelI);
                open = Some(OpenModifier { line: l.no, code, parts: vec![body.to_string()], list, kind: k, asc });
            }
            (None, Some(o)) => o.parts.push(text.to_string()),
            (None, None) => {}
        }
        after_break = false;
    }
    finish(open.take(), &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cpt")
    }

    fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    fn lines(text: &[u8]) -> Vec<TextLine> {
        decode_lines(text, Path::new("t.txt")).unwrap()
    }

    fn import_error<T: std::fmt::Debug>(r: Result<T>) -> (PathBuf, Option<u64>, String) {
        match r {
            Err(Error::Import { path, line, message }) => (path, line, message),
            other => panic!("expected Error::Import, got {other:?}"),
        }
    }

    /// A folder with a minimal LONGULT.txt plus `files` (name, bytes).
    fn folder(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let mut with_long = vec![(LONG_FILE, &b"Made-up preamble line.\n\n99213\tFixture long descriptor 99213\n"[..])];
        with_long.retain(|(n, _)| !files.iter().any(|(f, _)| f == n));
        for (name, bytes) in with_long.iter().chain(files) {
            let path = dir.path().join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, bytes).unwrap();
        }
        dir
    }

    #[test]
    fn every_file_kind_reads_from_the_fixture() {
        let data = read_dir(&fixture_dir()).unwrap();
        let codes: Vec<&str> = data.codes.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes, ["00100", "0001F", "0042T", "0001U", "62322", "62323", "62324", "62325", "99202", "99203", "99213", "99214"]);
        let get = |c: &str| data.codes.iter().find(|r| r.code == c).unwrap();

        let v = get("99213");
        assert_eq!(v.long, "Fixture long descriptor for 99213, office visit level three \u{2014} not AMA text (caf\u{e9})");
        assert_eq!(v.medium.as_deref(), Some("FIXTURE MED 99213 OFFICE VISIT LEVEL 3"));
        assert_eq!(v.short.as_deref(), Some("FIXTURE SHRT 99213 OFC VST 3"));
        assert_eq!(v.consumer.as_deref(), Some("Fixture consumer descriptor for 99213, not AMA text"));
        assert_eq!(v.clinician, ["Fixture clinician descriptor 99213 first", "Fixture clinician descriptor 99213 second"]);
        assert_eq!(v.added, ymd(1992, 1, 1));
        assert_eq!(get("00100").added, None, "Pre-1982");
        assert_eq!(get("62322").added, ymd(2017, 1, 1));
        assert_eq!(get("0001U").short, None);
        assert!(get("0042T").clinician.is_empty());

        let skipped: Vec<(&str, &str, u64)> =
            data.skipped.iter().map(|s| (s.path.file_name().unwrap().to_str().unwrap(), s.code.as_str(), s.line)).collect();
        assert_eq!(skipped, [("MEDU.txt", "99999", 9), ("ClinicianDescriptor.txt", "99998", 5)]);

        assert_eq!(data.modifiers.len(), 8);
        assert_eq!(data.deleted.len(), 3);
        assert_eq!(data.changes.len(), 7);
    }

    #[test]
    fn fixture_holds_only_made_up_text() {
        let data = read_dir(&fixture_dir()).unwrap();
        let mut texts: Vec<&str> = Vec::new();
        for c in &data.codes {
            texts.push(&c.long);
            texts.extend(c.medium.as_deref());
            texts.extend(c.short.as_deref());
            texts.extend(c.consumer.as_deref());
            texts.extend(c.clinician.iter().map(String::as_str));
        }
        texts.extend(data.modifiers.iter().map(|m| m.long.as_str()));
        texts.extend(data.deleted.iter().filter_map(|d| d.title.as_deref()));
        texts.extend(data.changes.iter().filter_map(|c| c.current.as_deref()));
        for t in texts {
            assert!(t.to_ascii_lowercase().contains("fixture"), "{t:?}");
        }
    }

    #[test]
    fn preamble_crlf_and_windows_1252_of_the_long_file() {
        let raw = fs::read(fixture_dir().join("standard/LONGULT.txt")).unwrap();
        assert!(std::str::from_utf8(&raw).is_err(), "the fixture is Windows-1252");
        assert!(raw.windows(2).any(|w| w == b"\r\n"), "the fixture has CRLF line ends");
        let rows = parse_descriptors(&lines(&raw), Path::new("LONGULT.txt")).unwrap();
        assert_eq!(rows[0].code, "00100");
        assert_eq!(rows[0].line, 8, "seven preamble lines skipped");
        assert!(rows.iter().all(|r| !r.text.ends_with('\r')));
        // The preamble's made-up notice with ® (0xAE) is not a code line.
        assert!(raw.contains(&0xAE));
    }

    #[test]
    fn windows_1252_and_utf8_decode_the_same() {
        let utf8 = "Pre\u{e9}amble \u{ae}\n\n99213\tFixture \u{e9}l\u{e8}ve \u{2014} \u{2018}quoted\u{2019} \u{20ac}5\n";
        let cp1252: Vec<u8> = b"Pre\xe9amble \xae\n\n99213\tFixture \xe9l\xe8ve \x97 \x91quoted\x92 \x805\n".to_vec();
        let a = parse_descriptors(&lines(utf8.as_bytes()), Path::new("a")).unwrap();
        let b = parse_descriptors(&lines(&cp1252), Path::new("b")).unwrap();
        assert_eq!(a[0].text, "Fixture \u{e9}l\u{e8}ve \u{2014} \u{2018}quoted\u{2019} \u{20ac}5");
        assert_eq!(a[0].text, b[0].text);
        // A UTF-8 byte order mark is dropped; a UTF-8 file with one Windows-1252 line reads too.
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(b"99213\tFixture\r\n99214\tFixture \xe9\r\n");
        let rows = parse_descriptors(&lines(&bom), Path::new("c")).unwrap();
        assert_eq!((rows[0].code.as_str(), rows[1].text.as_str()), ("99213", "Fixture \u{e9}"));
    }

    #[test]
    fn space_padded_and_tab_separated_lines() {
        let text =
            format!("Preamble\n\n{:<80}\n99214\tFIXTURE TAB SEPARATED\n99215    FIXTURE EXTRA BLANKS\n", "99213 FIXTURE PADDED TO EIGHTY");
        let rows = parse_descriptors(&lines(text.as_bytes()), Path::new("x")).unwrap();
        let got: Vec<(&str, &str)> = rows.iter().map(|r| (r.code.as_str(), r.text.as_str())).collect();
        assert_eq!(got, [("99213", "FIXTURE PADDED TO EIGHTY"), ("99214", "FIXTURE TAB SEPARATED"), ("99215", "FIXTURE EXTRA BLANKS")]);
        let rows = parse_descriptors(&lines(b"0001f\tlower-case letter\n"), Path::new("x")).unwrap();
        assert_eq!(rows[0].code, "0001F");
    }

    #[test]
    fn missing_long_file_is_io_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("MEDU.txt"), "99213 FIXTURE\n").unwrap();
        match read_dir(dir.path()) {
            Err(Error::Io { path: Some(p), source }) => {
                assert_eq!(p, dir.path().join(LONG_FILE));
                assert_eq!(source.kind(), io::ErrorKind::NotFound);
                assert!(source.to_string().contains("LONGULT.txt"));
            }
            other => panic!("{other:?}"),
        }
        let missing = dir.path().join("no-such-folder");
        assert!(matches!(read_dir(&missing), Err(Error::Io { path: Some(p), .. }) if p == missing));
    }

    #[test]
    fn optional_files_may_be_missing_and_names_ignore_case() {
        let dir = folder(&[]);
        let data = read_dir(dir.path()).unwrap();
        assert_eq!(data.codes.len(), 1);
        assert!(data.modifiers.is_empty() && data.deleted.is_empty() && data.changes.is_empty() && data.skipped.is_empty());
        assert_eq!(data.codes[0].medium, None);

        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("a/b")).unwrap();
        fs::write(dir.path().join("a/b/longult.TXT"), "99213\tFixture\n").unwrap();
        fs::write(dir.path().join("a/SHORTU.TXT"), "99213 FIXTURE\n").unwrap();
        let data = read_dir(dir.path()).unwrap();
        assert_eq!(data.codes[0].short.as_deref(), Some("FIXTURE"));
    }

    #[test]
    fn same_file_twice_at_one_depth_is_an_error_shallowest_wins_otherwise() {
        let dir = folder(&[("x/MEDU.txt", b"99213 FIXTURE X\n"), ("y/MEDU.txt", b"99213 FIXTURE Y\n")]);
        let (_, _, msg) = import_error(read_dir(dir.path()));
        assert!(msg.contains("MEDU.txt is there twice"), "{msg}");
        let dir = folder(&[("MEDU.txt", b"99213 FIXTURE TOP\n"), ("y/MEDU.txt", b"99213 FIXTURE Y\n")]);
        assert_eq!(read_dir(dir.path()).unwrap().codes[0].medium.as_deref(), Some("FIXTURE TOP"));
    }

    #[test]
    fn malformed_lines_are_import_errors_with_line() {
        let cases: [(&[u8], u64, &str); 6] = [
            (b"Preamble\n\n99213\tFixture\n9921X\tFixture\n", 4, "\"9921X\" is not a CPT code"),
            (b"Preamble\n\n99213\tFixture\n992134\tFixture\n", 4, "not a CPT code"),
            (b"Preamble\n\n99213\tFixture\n99214\n", 4, "99214 has no descriptor"),
            (b"Preamble\n\n99213\tFixture\n99214\t   \n", 4, "99214 has no descriptor"),
            (b"Preamble\n\n9921\tFixture first line broken\n99213\tFixture\n", 3, "\"9921\" is not a CPT code"),
            (b"Preamble\n\n99213\tFixture\nA free text line\n", 4, "\"A\" is not a CPT code"),
        ];
        for (text, want_line, want) in cases {
            let dir = folder(&[(LONG_FILE, text)]);
            let (path, line, msg) = import_error(read_dir(dir.path()));
            assert!(path.ends_with(LONG_FILE));
            assert_eq!(line, Some(want_line), "{msg}");
            assert!(msg.contains(want), "{msg:?} should say {want:?}");
        }
    }

    #[test]
    fn duplicate_codes_name_both_lines() {
        let dir = folder(&[(LONG_FILE, b"Preamble\n\n99213\tFixture\n99214\tFixture\n99213\tFixture again\n")]);
        let (_, line, msg) = import_error(read_dir(dir.path()));
        assert_eq!(line, Some(5));
        assert!(msg.contains("duplicate code 99213: also at line 3"), "{msg}");
        let dir = folder(&[(SHORT_FILE, b"99213 FIXTURE\n99213 FIXTURE\n")]);
        let (path, line, _) = import_error(read_dir(dir.path()));
        assert!(path.ends_with(SHORT_FILE) && line == Some(2));
        let dir = folder(&[(CONSUMER_FILE, b"Concept Id\tCPT Code\tConsumer Friendly Descriptor\n1\t99213\tFixture\n2\t99213\tFixture\n")]);
        let (_, line, msg) = import_error(read_dir(dir.path()));
        assert_eq!(line, Some(3));
        assert!(msg.contains("also at line 2"));
        let clin =
            b"Concept Id\tCPT Code\tClinician Descriptor Id\tClinician Descriptor\n1\t99213\t10\tFixture a\n1\t99213\t10\tFixture b\n";
        let dir = folder(&[(CLINICIAN_FILE, clin)]);
        let (_, line, msg) = import_error(read_dir(dir.path()));
        assert_eq!(line, Some(3));
        assert!(msg.contains("clinician descriptor id \"10\": also at line 2"), "{msg}");
    }

    #[test]
    fn unknown_encodings_are_import_errors_naming_the_file() {
        let mut utf16 = vec![0xFF, 0xFE];
        for u in "99213\tFixture\n".encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        let mut utf16_no_bom = utf16[2..].to_vec();
        utf16_no_bom.splice(0..0, b"Fixture\n".iter().copied());
        let cases: [(Vec<u8>, Option<u64>, &str); 5] = [
            (utf16, None, "UTF-16"),
            (vec![0xFE, 0xFF, 0, b'9'], None, "UTF-16"),
            (utf16_no_bom, Some(2), "NUL byte"),
            (b"Preamble\n\n99213\tFixture \x81 undefined\n".to_vec(), Some(3), "byte 0x81"),
            (b"Preamble\n\n99213\tFixture \x01\x02 binary\n".to_vec(), Some(3), "control character U+0001"),
        ];
        for (bytes, want_line, want) in cases {
            for name in [LONG_FILE, MODIFIER_FILE, HISTORY_FILE] {
                let dir = folder(&[(name, &bytes)]);
                let (path, line, msg) = import_error(read_dir(dir.path()));
                assert_eq!(path, dir.path().join(name));
                assert_eq!(line, want_line, "{name}: {msg}");
                assert!(msg.contains("unknown encoding") && msg.contains(want), "{msg:?} should say {want:?}");
            }
        }
    }

    #[test]
    fn codes_missing_from_the_long_file_are_skipped_and_listed() {
        let dir = folder(&[
            (MEDIUM_FILE, b"99213 FIXTURE MED\n99999 FIXTURE ORPHAN\n"),
            (CONSUMER_FILE, b"Concept Id\tCPT Code\tConsumer Friendly Descriptor\n1\t88888\tFixture orphan\n"),
        ]);
        let data = read_dir(dir.path()).unwrap();
        assert_eq!(data.codes[0].medium.as_deref(), Some("FIXTURE MED"));
        let got: Vec<(PathBuf, u64, &str)> = data.skipped.iter().map(|s| (s.path.clone(), s.line, s.code.as_str())).collect();
        assert_eq!(got, [(dir.path().join(MEDIUM_FILE), 2, "99999"), (dir.path().join(CONSUMER_FILE), 2, "88888")]);
    }

    #[test]
    fn modifiers_lists_names_and_asc() {
        let data = read_dir(&fixture_dir()).unwrap();
        let m: Vec<(&str, CptModifierKind, bool)> = data.modifiers.iter().map(|m| (m.code.as_str(), m.kind, m.asc)).collect();
        use CptModifierKind::*;
        assert_eq!(
            m,
            [
                ("22", LevelI, false),
                ("25", LevelI, true),
                ("59", LevelI, false),
                ("P1", PhysicalStatus, false),
                ("27", LevelI, true),
                ("1P", CategoryII, false),
                ("E1", LevelII, true),
                ("LT", LevelII, true),
            ]
        );
        let get = |c: &str| data.modifiers.iter().find(|m| m.code == c).unwrap();
        assert_eq!(get("22").short, "Fixture Increased Service Name");
        assert_eq!(get("22").long, "Fixture Increased Service Name: made-up explanation of modifier 22, which continues on a second line.");
        assert_eq!(get("25").short, "Fixture Separate Evaluation Name Spread Over Two Lines");
        assert!(get("25").long.starts_with("Fixture Separate Evaluation"), "first text kept, not the ASC list's");
        assert_eq!(get("P1").short, "Fixture physical status one");
        assert_eq!(get("1P").short, "Fixture Category II Exclusion for Medical Reasons");
        assert_eq!(get("1P").long, "Fixture Category II Exclusion for Medical Reasons Fixture reasons include: made-up reason one");
        assert_eq!(get("LT").short, "Fixture left side");
    }

    #[test]
    fn modifier_files_in_plain_tab_layout_and_duplicates() {
        let rows = parse_modifiers(&lines(b"Made-up preamble\n\n25\tFixture name: text\n59\tFixture distinct\n"), Path::new("m")).unwrap();
        let got: Vec<(&str, &str)> = rows.iter().map(|m| (m.code.as_str(), m.short.as_str())).collect();
        assert_eq!(got, [("25", "Fixture name"), ("59", "Fixture distinct")]);
        let (_, line, msg) = import_error(parse_modifiers(&lines(b"Appendix A\n\n25 Fixture: a\n\n25 Fixture: b\n"), Path::new("m")));
        assert_eq!(line, Some(5));
        assert!(msg.contains("duplicate modifier 25: also at line 3"), "{msg}");
    }

    #[test]
    fn deleted_codes_and_their_replacements() {
        let data = read_dir(&fixture_dir()).unwrap();
        let d = &data.deleted;
        assert_eq!(d[0].code, "11050");
        assert_eq!((d[0].deleted, d[0].title.as_deref()), (None, None), "Pre-1982, descriptor not available");
        assert!(d[0].replaced_by.is_empty());
        assert_eq!(d[1].code, "62311");
        assert_eq!(d[1].deleted, ymd(2017, 1, 1));
        assert_eq!(d[1].title.as_deref(), Some("Fixture descriptor of deleted code 62311, not AMA text"));
        assert_eq!(d[1].replaced_by, ["62322", "62323"]);
        assert_eq!(d[2].code, "99201");
        assert_eq!(d[2].replaced_by, ["99202", "99203", "99205"], "range ends plus the current codes between them");
        assert!(d[2].instruction.as_deref().unwrap().contains("99202-99205"));
    }

    #[test]
    fn codes_named_in_instructions() {
        let current = ["62322", "62323", "62324", "62325", "0001F", "0002F"];
        assert_eq!(codes_named("see 62322 \u{2013} 62325", "62311", &current), ["62322", "62323", "62324", "62325"]);
        assert_eq!(codes_named("use 62311, 62322 or 623222 or X62323", "62311", &current), ["62322"]);
        assert_eq!(codes_named("0001F-0002F; 62325-62322", "x", &current), ["0001F", "0002F", "62325", "62322"]);
        assert!(codes_named("", "x", &current).is_empty());
    }

    #[test]
    fn history_changes_and_dates() {
        let data = read_dir(&fixture_dir()).unwrap();
        let c: Vec<(Option<NaiveDate>, &CptChangeKind, &str)> = data.changes.iter().map(|c| (c.date, &c.kind, c.code.as_str())).collect();
        use CptChangeKind::*;
        let other = Other("Fixture-Type".to_string());
        assert_eq!(
            c,
            [
                (None, &Added, "00100"),
                (ymd(1992, 1, 1), &Added, "99213"),
                (ymd(2017, 1, 1), &Added, "62322"),
                (ymd(2017, 1, 1), &Deleted, "62311"),
                (ymd(2021, 1, 1), &Changed, "99213"),
                (ymd(2021, 1, 1), &Deleted, "99201"),
                (ymd(2022, 7, 1), &other, "0001U"),
            ]
        );
        let changed = &data.changes[4];
        assert_eq!(changed.prior.as_deref(), Some("Fixture prior descriptor of 99213"));
        assert_eq!(changed.current.as_deref(), Some("Fixture current descriptor of 99213"));
        assert_eq!(data.changes[0].instruction, None, "short row: missing trailing columns");
    }

    #[test]
    fn tables_without_header_use_default_positions() {
        let rows = parse_consumer(&lines(b"1\t99213\tFixture consumer\n"), Path::new("c")).unwrap();
        assert_eq!((rows[0].code.as_str(), rows[0].text.as_str()), ("99213", "Fixture consumer"));
        let rows = parse_history(&lines(b"20200101\tADDED\t1\t99213\t\t\tFixture\n"), Path::new("h")).unwrap();
        assert_eq!(rows[0].date, ymd(2020, 1, 1));
        // Reordered columns are found by name.
        let rows = parse_clinician(&lines(b"Clinician Descriptor\tCPT Code\nFixture text\t99213\n"), Path::new("c")).unwrap();
        assert_eq!((rows[0].code.as_str(), rows[0].text.as_str()), ("99213", "Fixture text"));
    }

    #[test]
    fn table_errors() {
        let (_, line, msg) = import_error(parse_consumer(&lines(b"Concept Id\tCode\n1\t99213\n"), Path::new("c")));
        assert_eq!(line, Some(1));
        assert!(msg.contains("no Consumer Friendly Descriptor column") && msg.contains("\"Concept Id\", \"Code\""), "{msg}");
        let (_, line, msg) =
            import_error(parse_history(&lines(b"Date\tChange Type\tConcept Id\tCPT Code\n2020-13-01\tADDED\t1\t99213\n"), Path::new("h")));
        assert_eq!(line, Some(2));
        assert!(msg.contains("malformed date \"2020-13-01\""), "{msg}");
        let (_, _, msg) =
            import_error(parse_history(&lines(b"Date\tChange Type\tConcept Id\tCPT Code\n20200101\t\t1\t99213\n"), Path::new("h")));
        assert!(msg.contains("without a change type"), "{msg}");
        let (_, line, msg) = import_error(parse_deleted(
            &lines(b"Concept Id\tCode\tDate Deleted\n1\t62311\t20170101\n2\t62311\t20170101\n"),
            Path::new("d"),
            &[],
        ));
        assert_eq!(line, Some(3));
        assert!(msg.contains("duplicate deletion of 62311: also at line 2"), "{msg}");
        let (_, _, msg) = import_error(parse_deleted(&lines(b"Concept Id\tCode\tDate Deleted\n1\t6231\t20170101\n"), Path::new("d"), &[]));
        assert!(msg.contains("not a CPT code"), "{msg}");
        let (_, _, msg) = import_error(parse_consumer(&lines(b"1\t99213\t\n"), Path::new("c")));
        assert!(msg.contains("no consumer descriptor"), "{msg}");
    }

    #[test]
    fn dates() {
        assert_eq!(cpt_date("20170101"), Ok(ymd(2017, 1, 1)));
        assert_eq!(cpt_date("2017-01-01"), Ok(ymd(2017, 1, 1)));
        assert_eq!(cpt_date("1/1/2017"), Ok(ymd(2017, 1, 1)));
        assert_eq!(cpt_date("Pre-1982"), Ok(None));
        assert_eq!(cpt_date("pre-1990"), Ok(None));
        for bad in ["", "20170230", "2017", "Pre-82", "yesterday", "2017010\u{e9}"] {
            assert!(cpt_date(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        let mut seed = 0x1234_5678_u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as u32
        };
        let alphabet: &[&[u8]] =
            &[b"9", b"0", b"F", b"\t", b" ", b"\n", b"\r", b":", b"-", b"P", b"Appendix A\n", b"\xe9", b"\xc3", b"\x97", b"Pre-", b"P1"];
        for _ in 0..400 {
            let len = next() as usize % 120;
            let mut bytes = Vec::new();
            for _ in 0..len {
                bytes.extend_from_slice(alphabet[next() as usize % alphabet.len()]);
            }
            let path = Path::new("fuzz");
            if let Ok(l) = decode_lines(&bytes, path) {
                let _ = parse_descriptors(&l, path);
                let _ = parse_modifiers(&l, path);
                let _ = parse_consumer(&l, path);
                let _ = parse_clinician(&l, path);
                let _ = parse_deleted(&l, path, &["99213"]);
                let _ = parse_history(&l, path);
                for t in &l {
                    let _ = codes_named(&t.text, "99213", &["99213", "99214"]);
                }
            }
        }
    }
}

//! A general CSV/TSV import for local code sets and payer lists: a header row, then one row per
//! code, with a [`ColumnMapping`] naming which columns hold the code, title, short title,
//! billable flag, description and (optionally) the code system of each row.
//!
//! ```text
//! Code,Description,Billable
//! LAB01,"Fixture local laboratory panel, basic",Y
//! ```
//!
//! - The delimiter is given, or taken from the extension (`.tsv`/`.tab`: tab, `.csv`: comma), or
//!   else sniffed from the header line (the most frequent of tab, comma, semicolon and `|`).
//!   Fields may be quoted (`"a, b"`); a quote inside an unquoted field is kept as it is.
//! - Columns are found by header name, exactly or else ignoring case and surrounding blanks. A
//!   mapped column that the header lacks is an [`Error::Import`] listing the header's columns.
//! - Text is UTF-8 (a byte order mark is dropped) or, field by field where it is not valid UTF-8,
//!   Windows-1252. UTF-16 files and NUL bytes are an [`Error::Import`].
//! - Every cell is trimmed. Rows whose cells are all empty are skipped.
//! - Codes are normalised with [`Key::parse_for`] for the row's system (`e11.9` -> `E119`); an
//!   invalid code is an [`Error::Import`] with the line and the reason. A code listed twice for
//!   one system is an error naming both lines.
//! - The billable column accepts `1`/`0`, `Y`/`N`, `yes`/`no`, `true`/`false` (any case); without
//!   a billable column every code is billable.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use crate::code::{truncate_for_message, Key, System};
use crate::error::{Error, Result};
use crate::import::cpt::{decode_text, text_bytes};

/// Which header columns hold what. Column names are matched exactly, or else ignoring case and
/// surrounding blanks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnMapping {
    /// The column with the code (required).
    pub code: String,
    /// The column with the title (required; an empty title is an error).
    pub title: String,
    /// The column with a short title, if any.
    pub short_title: Option<String>,
    /// The column with the billable flag, if any (without one, every code is billable).
    pub billable: Option<String>,
    /// The column with a longer plain-language description, if any.
    pub description: Option<String>,
    /// The column holding a code system name per row (`hcpcs`, `cpt`, `local`, ...; see
    /// [`System`]'s `FromStr`), if any. An empty cell means [`CsvImport::default_system`].
    pub system: Option<String>,
}

impl ColumnMapping {
    /// The keys of [`ColumnMapping::parse`], in the order of the fields.
    pub const KEYS: [&'static str; 6] = ["code", "title", "short_title", "billable", "description", "system"];

    /// Parses a mapping written as `key=Column` pairs separated by commas, as a command line
    /// gives it: `code=Code,title=Description,billable=Billable`.
    ///
    /// Keys are those of [`ColumnMapping::KEYS`] (case-insensitive; `short` is accepted for
    /// `short_title`); `code` and `title` are required. Blanks around keys and names are
    /// ignored; a column name may contain `=` (the first one separates) but not a comma. A
    /// missing `=`, an unknown or repeated key, an empty column name or a missing required key is
    /// an [`Error::InvalidArgument`].
    pub fn parse(spec: &str) -> Result<ColumnMapping> {
        let bad = |m: String| Error::InvalidArgument(format!("column mapping {:?}: {m}", truncate_for_message(spec)));
        let mut values: [Option<String>; 6] = Default::default();
        for pair in spec.split(',') {
            if pair.trim().is_empty() {
                continue;
            }
            let (key, column) = pair.split_once('=').ok_or_else(|| bad(format!("{:?} is not key=Column", pair.trim())))?;
            let key = key.trim().to_ascii_lowercase();
            let key = if key == "short" || key == "shorttitle" || key == "short-title" { "short_title".to_string() } else { key };
            let k = Self::KEYS
                .iter()
                .position(|known| *known == key)
                .ok_or_else(|| bad(format!("unknown key {key:?} (known: {})", Self::KEYS.join(", "))))?;
            let column = column.trim();
            if column.is_empty() {
                return Err(bad(format!("no column name for {key}")));
            }
            if values[k].replace(column.to_string()).is_some() {
                return Err(bad(format!("{key} is given twice")));
            }
        }
        let [code, title, short_title, billable, description, system] = values;
        let code = code.ok_or_else(|| bad("the code column is required (code=Column)".to_string()))?;
        let title = title.ok_or_else(|| bad("the title column is required (title=Column)".to_string()))?;
        Ok(ColumnMapping { code, title, short_title, billable, description, system })
    }
}

/// How to read one CSV/TSV file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvImport {
    /// The field delimiter; `None` takes it from the extension (`.tsv`, `.tab`: tab; `.csv`:
    /// comma) or else sniffs it from the header line.
    pub delimiter: Option<u8>,
    /// Which columns hold what.
    pub mapping: ColumnMapping,
    /// The system of rows without a system column (or with an empty cell there); usually
    /// [`System::Local`].
    pub default_system: System,
}

/// One code read from a CSV/TSV file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalCode {
    /// The code system (the row's system column, or [`CsvImport::default_system`]).
    pub system: System,
    /// The code, normalised by [`Key::parse_for`] (upper case, no dot: `E119`, `LAB01`).
    pub code: String,
    /// The title.
    pub title: String,
    /// The short title, if the file has one for this code.
    pub short_title: Option<String>,
    /// Whether the code is valid on a claim (`true` without a billable column).
    pub billable: bool,
    /// The description, if the file has one for this code.
    pub description: Option<String>,
}

/// Reads a CSV/TSV code list: the header row, then one [`LocalCode`] per non-empty row, in file
/// order.
///
/// Cost: one streaming pass over the file, which is read whole into memory. Errors: an
/// unreadable file is an [`Error::Io`] naming it; a header without a mapped column, a row with
/// too few fields, an invalid code, an empty title, a bad billable value, an unknown system name
/// or a code listed twice is an [`Error::Import`] with the file and line.
pub fn read(path: &Path, import: &CsvImport) -> Result<Vec<LocalCode>> {
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    read_bytes(&bytes, path, import)
}

/// [`read`] on bytes already in memory; `path` names the file in errors and its extension may
/// choose the delimiter.
pub fn read_bytes(bytes: &[u8], path: &Path, import: &CsvImport) -> Result<Vec<LocalCode>> {
    let body = text_bytes(bytes, path)?;
    let delimiter = match import.delimiter {
        Some(d) => d,
        None => delimiter_for(path, body),
    };
    let mut csv = csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(body);
    let mut record = csv::ByteRecord::new();
    let mut lines = LineOf { body, byte: 0, line: 1 };
    let mut header: Option<(u64, Vec<String>)> = None;
    loop {
        if !csv.read_byte_record(&mut record).map_err(|e| csv_error(e, path, &mut lines))? {
            break;
        }
        let line = lines.of(&record);
        let cells = decode_record(&record, path, line)?;
        if cells.iter().any(|c| !c.is_empty()) {
            header = Some((line, cells));
            break;
        }
    }
    let Some((header_line, header)) = header else {
        return Err(Error::import(path, None, "the file is empty: expected a header row"));
    };
    let columns = Columns::find(&import.mapping, import.default_system, &header, path, header_line)?;

    let mut out = Vec::new();
    let mut seen: HashMap<(System, String), u64> = HashMap::new();
    while csv.read_byte_record(&mut record).map_err(|e| csv_error(e, path, &mut lines))? {
        let line = lines.of(&record);
        let cells = decode_record(&record, path, line)?;
        if cells.iter().all(String::is_empty) {
            continue;
        }
        let code = columns.row(&cells, path, line)?;
        if let Some(first) = seen.insert((code.system, code.code.clone()), line) {
            return Err(Error::import(path, Some(line), format!("duplicate code {} ({}): also at line {first}", code.code, code.system)));
        }
        out.push(code);
    }
    Ok(out)
}

/// The delimiter of a file: by extension, else the most frequent candidate of the first line.
fn delimiter_for(path: &Path, body: &[u8]) -> u8 {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "tsv" | "tab" => return b'\t',
        "csv" => return b',',
        _ => {}
    }
    let first = body.split(|&b| b == b'\n').find(|l| l.iter().any(|b| !b.is_ascii_whitespace())).unwrap_or(&[]);
    let mut best = (0usize, b',');
    for d in [b'\t', b',', b';', b'|'] {
        let n = first.iter().filter(|&&b| b == d).count();
        if n > best.0 {
            best = (n, d);
        }
    }
    best.1
}

fn decode_record(record: &csv::ByteRecord, path: &Path, line: u64) -> Result<Vec<String>> {
    record.iter().map(|f| decode_text(f).map(|s| s.trim().to_string()).map_err(|m| Error::import(path, Some(line), m))).collect()
}

/// 1-based line numbers from byte offsets (the csv crate's own line numbers leave out the empty
/// lines it skips).
struct LineOf<'a> {
    body: &'a [u8],
    byte: usize,
    line: u64,
}

impl LineOf<'_> {
    fn at(&mut self, byte: u64) -> u64 {
        let target = usize::try_from(byte).unwrap_or(usize::MAX).min(self.body.len());
        if target < self.byte {
            (self.byte, self.line) = (0, 1);
        }
        self.line += self.body.get(self.byte..target).map_or(0, |s| s.iter().filter(|&&b| b == b'\n').count()) as u64;
        self.byte = target;
        self.line
    }

    /// The line a record starts on. Its position is where the reader stood before the empty
    /// lines it skipped, so those are skipped here too.
    fn of(&mut self, record: &csv::ByteRecord) -> u64 {
        let Some(p) = record.position() else { return self.line };
        let mut byte = usize::try_from(p.byte()).unwrap_or(usize::MAX);
        while let Some(b'\r' | b'\n') = self.body.get(byte) {
            byte += 1;
        }
        self.at(byte as u64)
    }
}

fn csv_error(e: csv::Error, path: &Path, lines: &mut LineOf<'_>) -> Error {
    let line = e.position().map(|p| lines.at(p.byte()));
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(path, io),
        other => Error::import(path, line, format!("not a readable CSV/TSV file: {other:?}")),
    }
}

/// The positions of the mapped columns in the header.
struct Columns {
    code: usize,
    title: usize,
    short_title: Option<usize>,
    billable: Option<usize>,
    description: Option<usize>,
    system: Option<usize>,
    default_system: System,
}

impl Columns {
    fn find(mapping: &ColumnMapping, default_system: System, header: &[String], path: &Path, line: u64) -> Result<Columns> {
        let find = |key: &str, name: &str| -> Result<usize> {
            let wanted = name.trim();
            if let Some(i) = header.iter().position(|h| h == wanted) {
                return Ok(i);
            }
            let folded: Vec<usize> =
                header.iter().enumerate().filter(|(_, h)| h.to_lowercase() == wanted.to_lowercase()).map(|(i, _)| i).collect();
            match folded.as_slice() {
                [i] => Ok(*i),
                [] => Err(Error::import(
                    path,
                    Some(line),
                    format!(
                        "the header has no column {:?} (mapped to {key}); its columns are {:?}",
                        truncate_for_message(wanted),
                        header.iter().map(|h| truncate_for_message(h)).collect::<Vec<_>>()
                    ),
                )),
                _ => Err(Error::import(
                    path,
                    Some(line),
                    format!(
                        "the header has several columns named {:?} (mapped to {key}), differing only in case",
                        truncate_for_message(wanted)
                    ),
                )),
            }
        };
        let optional = |key: &str, name: &Option<String>| name.as_deref().map(|n| find(key, n)).transpose();
        Ok(Columns {
            code: find("code", &mapping.code)?,
            title: find("title", &mapping.title)?,
            short_title: optional("short_title", &mapping.short_title)?,
            billable: optional("billable", &mapping.billable)?,
            description: optional("description", &mapping.description)?,
            system: optional("system", &mapping.system)?,
            default_system,
        })
    }

    fn row(&self, cells: &[String], path: &Path, line: u64) -> Result<LocalCode> {
        let fail = |m: String| Error::import(path, Some(line), m);
        let cell = |i: usize| -> Result<&str> {
            cells
                .get(i)
                .map(String::as_str)
                .ok_or_else(|| fail(format!("the row has {} fields; the mapped columns need {}", cells.len(), i + 1)))
        };
        let optional = |i: Option<usize>| -> Result<Option<String>> {
            Ok(match i {
                Some(i) => Some(cell(i)?.to_string()).filter(|s| !s.is_empty()),
                None => None,
            })
        };
        let system = match self.system.map(cell).transpose()? {
            Some(name) if !name.is_empty() => name.parse::<System>().map_err(|e| fail(e.to_string()))?,
            _ => self.default_system,
        };
        let raw = cell(self.code)?;
        let key = Key::parse_for(raw, Some(system)).map_err(|e| match e {
            Error::InvalidCode { input, reason } => fail(format!("invalid {system} code {input:?}: {reason}")),
            other => fail(other.to_string()),
        })?;
        let title = cell(self.title)?;
        if title.is_empty() {
            return Err(fail(format!("code {} has an empty title", key.as_str())));
        }
        let billable = match self.billable {
            Some(i) => parse_billable(cell(i)?).map_err(fail)?,
            None => true,
        };
        Ok(LocalCode {
            system,
            code: key.as_str().to_string(),
            title: title.to_string(),
            short_title: optional(self.short_title)?,
            billable,
            description: optional(self.description)?,
        })
    }
}

/// `1`/`0`, `Y`/`N`, `yes`/`no`, `true`/`false`, any case.
fn parse_billable(s: &str) -> std::result::Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "y" | "yes" | "true" => Ok(true),
        "0" | "n" | "no" | "false" => Ok(false),
        _ => Err(format!("billable value {:?} is not one of 1/0, Y/N, yes/no, true/false", truncate_for_message(s))),
    }
}

impl CsvImport {
    /// An import of `mapping` with the delimiter chosen from the file, into [`System::Local`].
    pub fn local(mapping: ColumnMapping) -> CsvImport {
        CsvImport { delimiter: None, mapping, default_system: System::Local }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/csv").join(name)
    }

    fn mapping(spec: &str) -> ColumnMapping {
        ColumnMapping::parse(spec).unwrap()
    }

    fn import(spec: &str) -> CsvImport {
        CsvImport::local(mapping(spec))
    }

    fn read_str(text: &str, name: &str, spec: &str) -> Result<Vec<LocalCode>> {
        read_bytes(text.as_bytes(), Path::new(name), &import(spec))
    }

    fn import_error(r: Result<Vec<LocalCode>>) -> (Option<u64>, String) {
        match r {
            Err(Error::Import { line, message, .. }) => (line, message),
            other => panic!("expected Error::Import, got {other:?}"),
        }
    }

    #[test]
    fn payer_list_tsv_with_a_system_column() {
        let imp = CsvImport {
            delimiter: None,
            mapping: mapping("code=Procedure Code, title=Description, short=Short, billable=Covered, system=Code Set"),
            default_system: System::Local,
        };
        let rows = read(&fixture("payer_list.tsv"), &imp).unwrap();
        let got: Vec<(System, &str, bool)> = rows.iter().map(|r| (r.system, r.code.as_str(), r.billable)).collect();
        assert_eq!(
            got,
            [
                (System::Hcpcs, "J1100", true),
                (System::Hcpcs, "A0130", false),
                (System::Cpt, "99213", true),
                (System::Icd10cm, "E119", true),
                (System::Local, "PAY01", false),
                (System::Hcpcs, "LT", true),
            ]
        );
        assert_eq!(rows[0].title, "Fixture payer title for J1100, \"quoted\" inches");
        assert_eq!(rows[0].short_title.as_deref(), Some("Fixture J1100"));
        assert_eq!(rows[1].short_title, None);
        assert_eq!(rows[0].description, None, "no description column mapped");
    }

    #[test]
    fn local_codes_csv() {
        let imp = import("code=code,title=title,description=Notes,billable=billable");
        let rows = read(&fixture("local_codes.csv"), &imp).unwrap();
        let codes: Vec<&str> = rows.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes, ["LAB01", "LAB02", "VISIT1", "XRAY9", "CAFE1"]);
        assert!(rows.iter().all(|r| r.system == System::Local));
        assert_eq!(rows[0].title, "Fixture local laboratory panel, basic");
        assert_eq!(rows[0].description.as_deref(), Some("Made-up note, with a comma"));
        assert_eq!(rows.iter().map(|r| r.billable).collect::<Vec<_>>(), [true, false, true, false, true]);
        assert_eq!(rows[4].title, "Fixture caf\u{e9} visit \u{2014} Windows-1252 bytes");
        assert_eq!(rows[3].description, None, "empty cell");
    }

    #[test]
    fn mapping_parser() {
        let m = mapping("code=Code,title=Description,billable=Billable");
        assert_eq!(m.code, "Code");
        assert_eq!(m.title, "Description");
        assert_eq!(m.billable.as_deref(), Some("Billable"));
        assert_eq!((m.short_title, m.description, m.system), (None, None, None));
        let m = mapping(" CODE = Proc Code , Title=Long = Title,short_title=S,description=D,system=Sys,");
        assert_eq!((m.code.as_str(), m.title.as_str()), ("Proc Code", "Long = Title"));
        assert_eq!((m.short_title.as_deref(), m.description.as_deref(), m.system.as_deref()), (Some("S"), Some("D"), Some("Sys")));
        for (bad, want) in [
            ("title=T", "code column is required"),
            ("code=C", "title column is required"),
            ("code=C,title=T,colour=X", "unknown key \"colour\""),
            ("code=C,title=T,code=D", "code is given twice"),
            ("code=C,title=", "no column name for title"),
            ("code=C,title", "\"title\" is not key=Column"),
            ("", "code column is required"),
        ] {
            match ColumnMapping::parse(bad) {
                Err(Error::InvalidArgument(msg)) => assert!(msg.contains(want), "{bad:?}: {msg}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn missing_column_lists_the_header() {
        let (line, msg) = import_error(read_str("\n\nCode,Description\nX1,Fixture\n", "a.csv", "code=Code,title=Title"));
        assert_eq!(line, Some(3));
        assert!(msg.contains("no column \"Title\" (mapped to title)") && msg.contains("[\"Code\", \"Description\"]"), "{msg}");
        let (_, msg) = import_error(read_str("Code,code\nX1,X2\n", "a.csv", "code=CODE,title=Code"));
        assert!(msg.contains("several columns named \"CODE\""), "{msg}");
        let (line, msg) = import_error(read_str("", "a.csv", "code=Code,title=Title"));
        assert_eq!(line, None);
        assert!(msg.contains("empty"), "{msg}");
    }

    #[test]
    fn header_names_match_exactly_first_then_ignoring_case() {
        let rows = read_str("CODE,Title, title \nAB1,Exact,Other\n", "a.csv", "code=code,title=Title").unwrap();
        assert_eq!(rows[0].title, "Exact");
    }

    #[test]
    fn bad_rows_are_import_errors_with_line() {
        let header = "Code\tTitle\tBillable\n";
        let cases = [
            ("AB1\tFixture\tmaybe\n", 2, "billable value \"maybe\""),
            ("AB1\tFixture\t\n", 2, "billable value \"\""),
            ("A\tFixture\tY\n", 2, "invalid local code \"A\": shorter than any code"),
            ("AB-1\tFixture\tY\n", 2, "codes contain only letters, digits and one dot"),
            ("\tFixture\tY\n", 2, "empty code"),
            ("AB1\t\tY\n", 2, "AB1 has an empty title"),
            ("AB1\tFixture\n", 2, "the row has 2 fields"),
            ("AB1\tFixture\tY\n\nab1\tAgain\tN\n", 4, "duplicate code AB1 (local): also at line 2"),
            ("\"AB1\"\t\"Fixture\r\nover two lines\"\tY\r\n\r\n\r\nAB2\t\tN\r\n", 6, "AB2 has an empty title"),
        ];
        for (rows, want_line, want) in cases {
            let (line, msg) = import_error(read_str(&format!("{header}{rows}"), "p.tsv", "code=Code,title=Title,billable=Billable"));
            assert_eq!(line, Some(want_line), "{msg}");
            assert!(msg.contains(want), "{msg:?} should say {want:?}");
        }
        let (_, msg) = import_error(read_str("Code,Title,Set\nJ1100,Fixture,snomed\n", "s.csv", "code=Code,title=Title,system=Set"));
        assert!(msg.contains("unknown code system \"snomed\""), "{msg}");
        let (_, msg) = import_error(read_str("Code,Title,Set\nE11.9,Fixture,hcpcs\n", "s.csv", "code=Code,title=Title,system=Set"));
        assert!(msg.contains("invalid hcpcs code \"E11.9\": not the shape of a code of hcpcs"), "{msg}");
    }

    #[test]
    fn delimiters_from_extension_or_first_line() {
        let spec = "code=Code,title=Title";
        assert_eq!(read_str("Code\tTitle\nAB1\tFixture, with comma\n", "x.tsv", spec).unwrap()[0].title, "Fixture, with comma");
        assert_eq!(read_str("Code;Title\nAB1;Fixture\n", "x.txt", spec).unwrap()[0].title, "Fixture");
        assert_eq!(read_str("Code|Title\nAB1|Fixture\n", "list", spec).unwrap()[0].title, "Fixture");
        assert_eq!(read_str("Code\tTitle\nAB1\tFixture\n", "x.dat", spec).unwrap()[0].title, "Fixture");
        let imp = CsvImport { delimiter: Some(b';'), ..import(spec) };
        assert_eq!(read_bytes(b"Code;Title\nAB1;Fixture\n", Path::new("x.csv"), &imp).unwrap()[0].code, "AB1");
    }

    #[test]
    fn encodings_bom_and_crlf() {
        let spec = "code=Code,title=Title";
        let rows = read_bytes(b"\xef\xbb\xbfCode,Title\r\nAB1,Fixture \xe9\r\nAB2,Fixture \xc3\xa9\r\n", Path::new("e.csv"), &import(spec))
            .unwrap();
        assert_eq!((rows[0].title.as_str(), rows[1].title.as_str()), ("Fixture \u{e9}", "Fixture \u{e9}"));
        for (bytes, want) in [(&b"\xff\xfeC\x00o\x00"[..], "UTF-16"), (&b"Code,Title\nAB1,Fix\x00ture\n"[..], "NUL byte")] {
            let (_, msg) = import_error(read_bytes(bytes, Path::new("e.csv"), &import(spec)));
            assert!(msg.contains(want), "{msg}");
        }
        let (line, msg) = import_error(read_bytes(b"Code,Title\nAB1,Fix\x81ture\n", Path::new("e.csv"), &import(spec)));
        assert_eq!(line, Some(2));
        assert!(msg.contains("byte 0x81"), "{msg}");
    }

    #[test]
    fn missing_file_is_io_error_naming_it() {
        let path = fixture("nope.csv");
        assert!(matches!(read(&path, &import("code=C,title=T")), Err(Error::Io { path: Some(p), .. }) if p == path));
    }

    #[test]
    fn never_panics_on_odd_input() {
        let mut seed = 99u64;
        let alphabet: &[&[u8]] = &[b"A", b"1", b",", b"\t", b"\"", b"\n", b"\r", b"\xe9", b"Y", b".", b" ", b"hcpcs"];
        for _ in 0..400 {
            let mut bytes = b"Code,Title,Billable,System\n".to_vec();
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            for _ in 0..(seed >> 58) * 3 {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                bytes.extend_from_slice(alphabet[(seed >> 40) as usize % alphabet.len()]);
            }
            let imp = import("code=Code,title=Title,billable=Billable,system=System");
            let _ = read_bytes(&bytes, Path::new("f.csv"), &imp);
        }
    }
}

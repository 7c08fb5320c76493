//! ICD-10-PCS in plain language: what each of the seven characters of a code means
//! (`0DTJ4ZZ`: Medical and Surgical / Gastrointestinal System / Resection / Appendix /
//! Percutaneous Endoscopic / No Device / No Qualifier), with the official definitions of root
//! operations, approaches and the other defined axis values.
//!
//! This module owns the reading of the CMS PCS tables XML (`icd10pcs_tables_YYYY.xml`), the PCS
//! definitions XML (`icd10pcs_definitions_YYYY.xml`), both usually read out of a CMS zip, and of
//! the definition TSVs (`pcs_definitions_root_operation.tsv`, `pcs_definitions_approach.tsv`),
//! and the [`PcsAxes`] they give.
//!
//! # Data shape
//!
//! [`PcsAxes`] is a flat list of [`AxisLabelRow`]s, so that a code book stores it as one table
//! and reads it back with [`PcsAxes::from_rows`]. Each row says: for codes starting with
//! `prefix`, the character `value` at `position` means `label`.
//!
//! - Positions 1-3 are keyed by the code's own prefix: `0` (section), `0D` (body system),
//!   `0DT` (operation, with its definition).
//! - Positions 4-7 are keyed by the table (`0DT`): within one table the same character at the
//!   same position almost always means the same thing, whichever row of the table admits it.
//! - Where the rows of one table disagree (in the FY2022 tables: 24 of 18,720 table/position/value
//!   combinations, all in `3E0` and `XW0`, e.g. `XW0` device `H` means Tocilizumab with qualifier
//!   `5` but Axicabtagene Ciloleucel Immunotherapy with qualifier `7`), the table-wide row is
//!   replaced by rows keyed by the shortest longer code prefix that decides the label: the body
//!   part (`3E0` + 4th character) where that is enough, else the whole code (121 rows in all).
//!
//! [`PcsAxes::describe`] takes, for each position, the row with the longest prefix of the code.
//! This is exact for every code of the tables (tested on all 78,229 codes of FY2022) and
//! compact: 18,817 rows for positions 4-7 instead of the 29,540 labels printed in the XML.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader as XmlReader;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::error::{Error, Result};
use crate::record::PcsAxis;

/// One stored fact of [`PcsAxes`]: for codes starting with `prefix`, the character `value` at
/// `position` means `label`.
///
/// The texts are shared (`Arc<str>`): [`PcsAxes::from_rows`] keeps one copy of each distinct
/// text, and a lookup's [`PcsAxis`] points at the same copies instead of copying them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AxisLabelRow {
    /// The code prefix the label applies to: for positions 1-3 the code's first 1-3 characters
    /// (`0`, `0D`, `0DT`); for positions 4-7 the table (`0DT`), or a longer prefix (up to the
    /// whole code) where the rows of a table give one character different meanings.
    pub prefix: Arc<str>,
    /// 1 to 7.
    pub position: u8,
    /// The character at that position (one character).
    pub value: Arc<str>,
    /// The axis name printed in the table (`Section`, `Body System`, `Operation`, `Body Part`,
    /// `Approach`, `Device`, `Qualifier`; other sections use `Type`, `Substance`, `Modality`...).
    pub axis_name: Arc<str>,
    /// What the character means (`Resection`, `Percutaneous Endoscopic`).
    pub label: Arc<str>,
    /// The official definition, where one exists (root operations from the tables; approaches
    /// and other defined values from the definitions file or TSVs).
    pub definition: Option<Arc<str>>,
}

/// The plain-language axes of ICD-10-PCS: every label of the PCS tables, indexed for
/// [`PcsAxes::describe`].
///
/// Build it with [`PcsAxes::read_zip`] (tables and definitions out of a CMS zip) or
/// [`PcsAxes::read_tables_xml`], store [`PcsAxes::rows`], and rebuild it with
/// [`PcsAxes::from_rows`]. About 20,000 rows for the FY2022 tables; building the index from
/// them takes a few milliseconds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PcsAxes {
    rows: Vec<AxisLabelRow>,
    /// Each row as the [`PcsAxis`] that records share (rows with the same meaning share one).
    axes: Vec<Arc<PcsAxis>>,
    /// (prefix, position, value) -> row; the prefix packed by [`prefix_key`].
    index: FxHashMap<(u64, u8, char), u32>,
    /// (scope, position) -> a row whose axis name applies there; the scope is the table for
    /// positions 4-7 and the prefix before the position for 1-3.
    names: FxHashMap<(u64, u8), u32>,
    /// (section, position) -> the axis name most tables of the section use.
    section_names: HashMap<(char, u8), Arc<str>>,
    /// The tables (packed) with rows keyed by a prefix longer than the table, where positions
    /// 4-7 must try the longer prefixes first; every other table needs one probe a position.
    split_tables: FxHashSet<u64>,
    /// Each table (packed) but the split ones, with what [`PcsAxes::describe`] needs of it.
    tables: FxHashMap<u64, Table>,
    /// The axes of positions 3-7, a run for each table: (position << 8 | value, axis), sorted.
    table_rows: Vec<(u16, Arc<PcsAxis>)>,
}

/// One table as [`PcsAxes::describe`] reads it: a code's last five characters are found in the
/// table's short contiguous run of `table_rows`, its first two are the table's own, rather than
/// by seven probes of `index`, each a cache miss somewhere in a large table when the book is
/// cold (and each axis then a second miss in `axes`).
#[derive(Clone, Debug, Default, PartialEq)]
struct Table {
    /// The table's run of `table_rows`.
    rows: (u32, u32),
    /// The axes of the table's first two characters.
    first: [Option<Arc<PcsAxis>>; 2],
}

/// Axis names used when neither the table nor the section is known.
const DEFAULT_NAMES: [&str; 7] = ["Section", "Body System", "Operation", "Body Part", "Approach", "Device", "Qualifier"];

impl PcsAxes {
    /// Reads a CMS ICD-10-PCS zip: its `icd10pcs_tables_YYYY.xml` (required) and, when present,
    /// its `icd10pcs_definitions_YYYY.xml` (see [`PcsAxes::add_definitions_xml`]). A path ending
    /// in `.xml` is read as a tables XML itself.
    ///
    /// Cost: reads the two members (about 3.2 MB of XML) into memory and parses them; well
    /// under a second in a release build. A missing file is an
    /// [`Error::Io`]; a zip without a tables member, or a malformed member, is an
    /// [`Error::Import`] naming `zip/member` and the line.
    pub fn read_zip(path: &Path) -> Result<PcsAxes> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xml")) {
            return PcsAxes::read_tables_xml(BufReader::new(file), path);
        }
        let mut zip =
            zip::ZipArchive::new(BufReader::new(file)).map_err(|e| Error::import(path, None, format!("not a readable zip: {e}")))?;
        let member = |prefix: &str| -> Option<String> {
            let mut found: Vec<&str> = zip
                .file_names()
                .filter(|n| {
                    let base = n.rsplit(['/', '\\']).next().unwrap_or(n).to_ascii_lowercase();
                    base.starts_with(prefix) && base.ends_with(".xml")
                })
                .collect();
            found.sort_unstable();
            found.first().map(|s| s.to_string())
        };
        let tables = member("icd10pcs_tables").ok_or_else(|| Error::import(path, None, "the zip holds no icd10pcs_tables_YYYY.xml"))?;
        let definitions = member("icd10pcs_definitions");
        let mut open = |name: &str| -> Result<Vec<u8>> {
            let fail = |e: &dyn std::fmt::Display| Error::import(path.join(name), None, format!("cannot read the zip member: {e}"));
            let mut member = zip.by_name(name).map_err(|e| fail(&e))?;
            let mut bytes = Vec::with_capacity(member.size().min(1 << 26) as usize);
            member.read_to_end(&mut bytes).map_err(|e| fail(&e))?;
            Ok(bytes)
        };
        let bytes = open(&tables)?;
        let mut axes = PcsAxes::read_tables_xml(&bytes[..], &path.join(&tables))?;
        if let Some(name) = definitions {
            let bytes = open(&name)?;
            axes.add_definitions_xml(&bytes[..], &path.join(&name))?;
        }
        Ok(axes)
    }

    /// Reads a PCS tables XML (`<ICD10PCS.tabular>`: `<pcsTable>`s with axes 1-3 and
    /// `<pcsRow>`s with axes 4-7). `path` only names the file in errors.
    ///
    /// Any structure the layout does not allow (an axis outside a table, a label code that is
    /// not one letter or digit, a table without its three first axes, a row without axes 4-7,
    /// unbalanced tags) is an [`Error::Import`] with the line. Cost: one streaming pass.
    pub fn read_tables_xml<R: BufRead>(reader: R, path: &Path) -> Result<PcsAxes> {
        let tables = parse_tables(reader, path)?;
        Ok(PcsAxes::from_rows(build_rows(&tables)))
    }

    /// Adds the definitions of a PCS definitions XML (`<ICD10PCS.definitions>`: per section
    /// and axis, `<terms>` with `<title>`s and a `<definition>`) to every label of the same
    /// section, position and text (case-insensitive) that has no definition yet. Terms without
    /// a definition (body parts and devices only list what they include) add nothing.
    ///
    /// Returns how many rows gained a definition. Cost: one streaming pass over about 250 KB.
    pub fn add_definitions_xml<R: BufRead>(&mut self, reader: R, path: &Path) -> Result<usize> {
        let mut map: HashMap<(char, u8, String), String> = HashMap::new();
        for d in parse_definitions(reader, path)? {
            map.entry((d.section, d.position, d.title.to_lowercase())).or_insert(d.definition);
        }
        Ok(self.fill_definitions(|section, position, _, label| map.get(&(section, position, label.to_lowercase())).cloned()))
    }

    /// Adds definitions from a TSV with a header naming at least the columns `section`,
    /// `code`, `value` (the label) and `definition`, such as `pcs_definitions_root_operation.tsv`
    /// (`position` 3) and `pcs_definitions_approach.tsv` (`position` 5). A definition applies
    /// to labels of that section and position with the same character and the same text
    /// (case-insensitive) that have none yet; quoted fields may span lines.
    ///
    /// Returns how many rows gained a definition. A file without those columns (such as
    /// `pcs_definitions_body_system.tsv`, which only names body systems) is an
    /// [`Error::Import`].
    pub fn add_definitions_tsv<R: Read>(&mut self, reader: R, position: u8, path: &Path) -> Result<usize> {
        let mut tsv = csv::ReaderBuilder::new().delimiter(b'\t').has_headers(true).from_reader(reader);
        let tsv_error = |e: csv::Error| Error::import(path, e.position().map(|p| p.line()), format!("not a readable TSV: {e}"));
        let header: Vec<String> = tsv.headers().map_err(tsv_error)?.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
        let col = |name: &str| header.iter().position(|h| h == name);
        let (Some(c_section), Some(c_code), Some(c_value), Some(c_def)) = (col("section"), col("code"), col("value"), col("definition"))
        else {
            return Err(Error::import(
                path,
                Some(1),
                format!("a definitions TSV needs the columns section, code, value and definition; the header is {header:?}"),
            ));
        };
        let mut map: HashMap<(char, char, String), String> = HashMap::new();
        for record in tsv.records() {
            let record = record.map_err(tsv_error)?;
            let line = record.position().map(|p| p.line());
            let get = |i: usize| record.get(i).map(clean).unwrap_or_default();
            let (section, code) = match (single_char(&get(c_section)), single_char(&get(c_code))) {
                (Some(s), Some(c)) => (s, c),
                _ => return Err(Error::import(path, line, "section and code must be one character each")),
            };
            let definition = get(c_def);
            if !definition.is_empty() {
                map.entry((section, code, get(c_value).to_lowercase())).or_insert(definition);
            }
        }
        Ok(self.fill_definitions(
            |section, pos, value, label| {
                if pos == position {
                    map.get(&(section, value, label.to_lowercase())).cloned()
                } else {
                    None
                }
            },
        ))
    }

    /// Adds the definitions of `pcs_definitions_root_operation.tsv` (position 3) and
    /// `pcs_definitions_approach.tsv` (position 5) found in `dir` (a missing file is skipped);
    /// see [`PcsAxes::add_definitions_tsv`]. Returns how many rows gained a definition.
    pub fn add_definitions_tsv_dir(&mut self, dir: &Path) -> Result<usize> {
        let mut added = 0;
        for (name, position) in [("pcs_definitions_root_operation.tsv", 3), ("pcs_definitions_approach.tsv", 5)] {
            let path = dir.join(name);
            match File::open(&path) {
                Ok(f) => added += self.add_definitions_tsv(BufReader::new(f), position, &path)?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(path, e)),
            }
        }
        Ok(added)
    }

    /// Every stored row, in a stable order (the order of the tables file). Store them as they
    /// are; [`PcsAxes::from_rows`] rebuilds an identical value.
    pub fn rows(&self) -> impl Iterator<Item = &AxisLabelRow> + '_ {
        self.rows.iter()
    }

    /// The number of stored rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no rows (no tables were read).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Rebuilds the axes from stored rows (as given by [`PcsAxes::rows`]). Never fails: a row
    /// that does not fit (a position outside 1-7, a value that is not one character, a prefix
    /// of the wrong length) is kept, so it round-trips, but is not used by
    /// [`PcsAxes::describe`]. Where two rows have the same prefix, position and value, the
    /// first wins. Cost: one pass, a few milliseconds for 20,000 rows.
    pub fn from_rows(mut rows: Vec<AxisLabelRow>) -> PcsAxes {
        share_texts(&mut rows);
        let mut index = FxHashMap::default();
        let mut names = FxHashMap::default();
        let mut split_tables = FxHashSet::default();
        // (section, position) -> each axis name with its number of votes.
        type Votes = Vec<(Arc<str>, usize)>;
        let mut counts: BTreeMap<(char, u8), Votes> = BTreeMap::new();
        for (i, r) in rows.iter().enumerate() {
            let (Some(value), p) = (single_char(&r.value), r.position) else { continue };
            let prefix: Vec<char> = r.prefix.chars().collect();
            let fits = match p {
                1..=3 => prefix.len() == usize::from(p) && prefix.last() == Some(&value),
                4..=7 => (3..=7).contains(&prefix.len()),
                _ => false,
            };
            if !fits {
                continue;
            }
            let scope = prefix.get(..scope_len(p)).and_then(prefix_key);
            let table = prefix.get(..3).and_then(prefix_key);
            let (Some(key), Some(scope), Ok(row)) = (prefix_key(&prefix), scope, u32::try_from(i)) else {
                continue;
            };
            index.entry((key, p, value)).or_insert(row);
            names.entry((scope, p)).or_insert(row);
            if let (4..=7, 4.., Some(table)) = (p, prefix.len(), table) {
                split_tables.insert(table);
            }
            // One vote per table (or per prefix for positions 1-3) for the section's axis name.
            if prefix.len() <= 3 {
                let votes = counts.entry((prefix[0], p)).or_default();
                match votes.iter_mut().find(|(n, _)| *n == r.axis_name) {
                    Some(v) => v.1 += 1,
                    None => votes.push((r.axis_name.clone(), 1)),
                }
            }
        }
        let mut section_names = HashMap::new();
        for (key, votes) in counts {
            // The most used name; the first seen on a tie.
            let mut best: Option<&(Arc<str>, usize)> = None;
            for v in &votes {
                let better = match best {
                    None => true,
                    Some(b) => v.1 > b.1,
                };
                if better {
                    best = Some(v);
                }
            }
            if let Some((name, _)) = best {
                section_names.insert(key, name.clone());
            }
        }
        let mut axes = PcsAxes { rows, axes: Vec::new(), index, names, section_names, split_tables, ..PcsAxes::default() };
        axes.rows.shrink_to_fit();
        axes.share_axes();
        axes
    }

    /// Makes [`PcsAxes::tables`] and [`PcsAxes::table_rows`] from `index` and `axes` (after
    /// every change of `axes`: they hold its axes).
    fn index_tables(&mut self) {
        let mut by_table: Vec<(u64, u16, Arc<PcsAxis>)> = self
            .index
            .iter()
            .filter(|((key, p, value), _)| prefix_len(*key) == 3 && *p >= 3 && value.is_ascii() && !self.split_tables.contains(key))
            .filter_map(|(&(key, p, value), &row)| Some((key, u16::from(p) << 8 | value as u16, self.axes.get(row as usize)?.clone())))
            .collect();
        by_table.sort_unstable_by_key(|&(key, at, _)| (key, at));
        let mut tables: FxHashMap<u64, Table> = FxHashMap::default();
        for (i, &(key, ..)) in by_table.iter().enumerate() {
            let table = tables.entry(key).or_insert_with(|| {
                let [c0, c1, _] = table_chars(key);
                let first = [self.lookup(&[c0], 1, c0).cloned(), self.lookup(&[c0, c1], 2, c1).cloned()];
                Table { rows: (i as u32, i as u32), first }
            });
            table.rows.1 = i as u32 + 1;
        }
        self.tables = tables;
        self.table_rows = by_table.into_iter().map(|(_, at, axis)| (at, axis)).collect();
    }

    /// Makes [`PcsAxes::axes`] from the rows: one shared [`PcsAxis`] per distinct meaning (the
    /// same approach or device means the same in hundreds of tables); then the tables.
    fn share_axes(&mut self) {
        // (position, name, value, label, definition): what an axis shows.
        type Meaning<'a> = (u8, &'a str, &'a str, &'a str, Option<&'a str>);
        let mut seen: HashMap<Meaning<'_>, Arc<PcsAxis>> = HashMap::new();
        self.axes = self
            .rows
            .iter()
            .map(|r| {
                let key = (r.position, &*r.axis_name, &*r.value, &*r.label, r.definition.as_deref());
                seen.entry(key)
                    .or_insert_with(|| {
                        Arc::new(PcsAxis {
                            position: r.position,
                            name: r.axis_name.clone(),
                            value: r.value.clone(),
                            label: r.label.clone(),
                            definition: r.definition.clone(),
                        })
                    })
                    .clone()
            })
            .collect();
        self.index_tables();
    }

    /// The seven characters of a code in plain language, one [`PcsAxis`] per character (a
    /// shorter code, such as a table `0DT`, gives fewer; characters past the 7th are ignored).
    /// `code` is the normalised code (upper case).
    ///
    /// For each position the label with the longest matching prefix is used. A character the
    /// tables do not know at that place (a code added after the tables' year, or a combination
    /// the tables do not allow) still gets its position, value and axis name (the table's,
    /// else the one most tables of the section use, else the usual Medical and Surgical name),
    /// with an empty `label` and no definition: the caller decides what to show instead.
    /// Cost: a hash look-up for the table, then a search of its short run; no I/O.
    pub fn describe(&self, code: &str) -> Vec<Arc<PcsAxis>> {
        self.describe_with(code, true)
    }

    /// [`PcsAxes::describe`], finding the axes through the code's [`Table`] when `by_table`,
    /// else by probes of `index` (the same answers: the tests compare them).
    fn describe_with(&self, code: &str, by_table: bool) -> Vec<Arc<PcsAxis>> {
        let mut buf = ['\0'; 7];
        let mut len = 0;
        for (slot, c) in buf.iter_mut().zip(code.trim().chars()) {
            (*slot, len) = (c, len + 1);
        }
        let chars = &buf[..len];
        let table = chars.get(..3).and_then(prefix_key).filter(|_| by_table).and_then(|t| self.tables.get(&t));
        let run = table.and_then(|t| self.table_rows.get(t.rows.0 as usize..t.rows.1 as usize));
        // Five binary searches of the run follow, each step a read that waits for the one
        // before: the run's cache lines are all asked for at once first.
        if let Some(run) = run {
            crate::book::memory::prefetch_whole(run);
        }
        // All seven axes are found before any is cloned: a clone writes the axis's reference
        // count, and on a cold book each count is a wait for memory, so they are prefetched
        // together first (see `prefetch_arc`).
        let mut found: [Option<&Arc<PcsAxis>>; 7] = [None; 7];
        for (i, slot) in found.iter_mut().enumerate().take(chars.len()) {
            let p = (i + 1) as u8;
            let value = chars[i];
            *slot = if let (Some(run), 3.., true) = (run, p, value.is_ascii()) {
                let at = u16::from(p) << 8 | value as u16;
                run.binary_search_by_key(&at, |r| r.0).ok().map(|j| &run[j].1)
            } else if let (Some(table), 1 | 2) = (table, p) {
                table.first[i].as_ref()
            } else if p <= 3 {
                self.lookup(&chars[..=i], p, value)
            } else if prefix_key(&chars[..3]).is_some_and(|t| self.split_tables.contains(&t)) {
                (3..=chars.len()).rev().find_map(|len| self.lookup(&chars[..len], p, value))
            } else {
                self.lookup(&chars[..3], p, value)
            };
            if let Some(axis) = slot {
                crate::book::memory::prefetch_arc(axis);
            }
        }
        (0..chars.len())
            .map(|i| {
                let p = (i + 1) as u8;
                let value = chars[i];
                match found[i] {
                    Some(axis) => axis.clone(),
                    None => Arc::new(PcsAxis {
                        position: p,
                        name: self.axis_name(chars, p),
                        value: value.to_string().into(),
                        label: "".into(),
                        definition: None,
                    }),
                }
            })
            .collect()
    }

    fn lookup(&self, prefix: &[char], position: u8, value: char) -> Option<&Arc<PcsAxis>> {
        let key = (prefix_key(prefix)?, position, value);
        self.index.get(&key).and_then(|&i| self.axes.get(i as usize))
    }

    fn axis_name(&self, chars: &[char], p: u8) -> Arc<str> {
        let scope = scope_len(p);
        if chars.len() >= scope {
            let key = prefix_key(&chars[..scope]).map(|k| (k, p));
            if let Some(r) = key.and_then(|key| self.names.get(&key)).and_then(|&i| self.rows.get(i as usize)) {
                return r.axis_name.clone();
            }
        }
        if let Some(name) = chars.first().and_then(|c| self.section_names.get(&(*c, p))) {
            return name.clone();
        }
        DEFAULT_NAMES.get(usize::from(p).saturating_sub(1)).copied().unwrap_or_default().into()
    }

    /// Sets `definition` on every row without one for which `f(section, position, value,
    /// label)` gives one; returns how many.
    fn fill_definitions(&mut self, f: impl Fn(char, u8, char, &str) -> Option<String>) -> usize {
        let mut added = 0;
        for r in self.rows.iter_mut().filter(|r| r.definition.is_none()) {
            let (Some(section), Some(value)) = (r.prefix.chars().next(), single_char(&r.value)) else { continue };
            if let Some(d) = f(section, r.position, value, &r.label) {
                r.definition = Some(d.into());
                added += 1;
            }
        }
        share_texts(&mut self.rows);
        self.share_axes();
        added
    }
}

/// Makes equal texts of the rows one shared copy (axis names, values and definitions repeat
/// across tables: 20,000 rows hold a few thousand distinct texts).
fn share_texts(rows: &mut [AxisLabelRow]) {
    let mut seen: HashSet<Arc<str>> = HashSet::new();
    let mut share = |s: &mut Arc<str>| match seen.get(s) {
        Some(known) => *s = known.clone(),
        None => {
            seen.insert(s.clone());
        }
    };
    for r in rows {
        share(&mut r.prefix);
        share(&mut r.value);
        share(&mut r.axis_name);
        share(&mut r.label);
        if let Some(d) = &mut r.definition {
            share(d);
        }
    }
}

/// A code prefix of at most seven ASCII characters as one number (its bytes and its length),
/// so the label index needs no string per entry or per look-up; `None` for anything longer or
/// not ASCII, which no code prefix is.
fn prefix_key(prefix: &[char]) -> Option<u64> {
    if prefix.len() > 7 {
        return None;
    }
    prefix.iter().try_fold(prefix.len() as u64, |k, &c| c.is_ascii().then_some((k << 8) | c as u64))
}

/// The three characters of a table that [`prefix_key`] packed (the inverse for prefixes of
/// three ASCII characters).
fn table_chars(key: u64) -> [char; 3] {
    [(key >> 16) as u8 as char, (key >> 8) as u8 as char, key as u8 as char]
}

/// The length of the prefix a [`prefix_key`] packs (its top byte, above one byte a character).
fn prefix_len(key: u64) -> u64 {
    let bytes = (64 - key.leading_zeros()).div_ceil(8) as u64;
    key >> (8 * bytes.saturating_sub(1))
}

/// How many leading characters of a code decide an axis name at a position: the prefix
/// before it for positions 1-3, the table for 4-7.
fn scope_len(position: u8) -> usize {
    usize::from(position.saturating_sub(1)).min(3)
}

fn single_char(s: &str) -> Option<char> {
    let mut it = s.chars();
    match (it.next(), it.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// Trims and collapses runs of white space (labels and definitions have no layout).
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Tables XML

/// One `<axis>` of the tables XML.
#[derive(Debug, Default)]
struct ParsedAxis {
    pos: u8,
    title: String,
    labels: Vec<(char, String)>,
    definition: Option<String>,
}

/// One `<pcsTable>`: axes 1-3 (one label each) and rows of axes 4-7 (sorted by position).
#[derive(Debug, Default)]
struct ParsedTable {
    axes: Vec<ParsedAxis>,
    rows: Vec<Vec<ParsedAxis>>,
}

impl ParsedTable {
    fn code(&self) -> String {
        self.axes.iter().filter_map(|a| a.labels.first().map(|l| l.0)).collect()
    }
}

fn parse_tables<R: BufRead>(reader: R, path: &Path) -> Result<Vec<ParsedTable>> {
    let mut xml = Xml::new(reader, path);
    let mut tables = Vec::new();
    let mut table: Option<ParsedTable> = None;
    let mut row: Option<Vec<ParsedAxis>> = None;
    let mut axis: Option<ParsedAxis> = None;
    let mut label_code: Option<char> = None;
    let mut text = String::new();
    loop {
        match xml.next()? {
            XmlEvent::Start(name, attrs) => {
                let depth = xml.stack.len();
                if depth == 1 && name != "ICD10PCS.tabular" {
                    return Err(xml.error(format!("not an ICD-10-PCS tables file: the root element is <{name}>")));
                }
                match name.as_str() {
                    "pcsTable" => {
                        if table.is_some() {
                            return Err(xml.error("<pcsTable> inside a <pcsTable>"));
                        }
                        table = Some(ParsedTable::default());
                    }
                    "pcsRow" => {
                        if table.is_none() || row.is_some() || axis.is_some() {
                            return Err(xml.error("<pcsRow> outside a <pcsTable>"));
                        }
                        row = Some(Vec::new());
                    }
                    "axis" => {
                        let pos = attr(&attrs, "pos").and_then(|p| p.trim().parse::<u8>().ok());
                        let allowed = if row.is_some() { 4..=7 } else { 1..=3 };
                        match pos {
                            Some(p) if table.is_some() && axis.is_none() && allowed.contains(&p) => {
                                axis = Some(ParsedAxis { pos: p, ..ParsedAxis::default() });
                            }
                            _ => {
                                return Err(xml.error(format!(
                                    "<axis pos={:?}> where only axes {}-{} of a table may be",
                                    attr(&attrs, "pos").unwrap_or_default(),
                                    allowed.start(),
                                    allowed.end()
                                )))
                            }
                        }
                    }
                    "label" => {
                        let code = attr(&attrs, "code").and_then(|c| single_char(c.trim()));
                        match code {
                            Some(c) if axis.is_some() && c.is_ascii_alphanumeric() => label_code = Some(c.to_ascii_uppercase()),
                            _ => {
                                return Err(xml.error(format!(
                                    "<label code={:?}>: a label needs an axis and a code of one letter or digit",
                                    attr(&attrs, "code").unwrap_or_default()
                                )))
                            }
                        }
                    }
                    _ => {}
                }
                text.clear();
            }
            XmlEvent::Text(t) => text.push_str(&t),
            XmlEvent::End(name) => {
                let parent_is_axis = xml.stack.last().is_some_and(|p| p == "axis");
                match name.as_str() {
                    "label" => {
                        if let (Some(a), Some(c)) = (axis.as_mut(), label_code.take()) {
                            a.labels.push((c, clean(&text)));
                        }
                    }
                    "title" if parent_is_axis => {
                        if let Some(a) = axis.as_mut() {
                            a.title = clean(&text);
                        }
                    }
                    "definition" if parent_is_axis => {
                        if let Some(a) = axis.as_mut() {
                            a.definition = Some(clean(&text)).filter(|d| !d.is_empty());
                        }
                    }
                    "axis" => {
                        let Some(a) = axis.take() else { continue };
                        if a.labels.is_empty() || a.title.is_empty() {
                            return Err(xml.error(format!("axis {} has no <title> or no <label>", a.pos)));
                        }
                        match (row.as_mut(), table.as_mut()) {
                            (Some(r), _) => r.push(a),
                            (None, Some(t)) => t.axes.push(a),
                            (None, None) => {}
                        }
                    }
                    "pcsRow" => {
                        let Some(mut r) = row.take() else { continue };
                        r.sort_by_key(|a| a.pos);
                        let positions: Vec<u8> = r.iter().map(|a| a.pos).collect();
                        if positions != [4, 5, 6, 7] {
                            return Err(xml.error(format!("a <pcsRow> needs axes 4, 5, 6 and 7 once each, not {positions:?}")));
                        }
                        if let Some(t) = table.as_mut() {
                            t.rows.push(r);
                        }
                    }
                    "pcsTable" => {
                        let Some(mut t) = table.take() else { continue };
                        t.axes.sort_by_key(|a| a.pos);
                        let positions: Vec<u8> = t.axes.iter().map(|a| a.pos).collect();
                        if positions != [1, 2, 3] || t.axes.iter().any(|a| a.labels.len() != 1) {
                            return Err(
                                xml.error(format!("a <pcsTable> needs axes 1, 2 and 3 once each with one label, not {positions:?}"))
                            );
                        }
                        tables.push(t);
                    }
                    _ => {}
                }
                text.clear();
            }
            XmlEvent::Eof => break,
        }
    }
    if tables.is_empty() {
        return Err(xml.error("no <pcsTable> in the file"));
    }
    Ok(tables)
}

/// The flat rows of parsed tables (see the module documentation for the keys).
fn build_rows(tables: &[ParsedTable]) -> Vec<AxisLabelRow> {
    let mut out = Vec::new();
    let mut seen: HashSet<(String, u8)> = HashSet::new();
    for t in tables {
        let code = t.code();
        let code_chars: Vec<char> = code.chars().collect();
        for (i, a) in t.axes.iter().enumerate() {
            let (Some(prefix), Some((value, label))) = (code_chars.get(..=i), a.labels.first()) else { continue };
            let prefix: String = prefix.iter().collect();
            if seen.insert((prefix.clone(), a.pos)) {
                out.push(AxisLabelRow {
                    prefix: prefix.into(),
                    position: a.pos,
                    value: value.to_string().into(),
                    axis_name: a.title.as_str().into(),
                    label: label.as_str().into(),
                    definition: if a.pos == 3 { a.definition.as_deref().map(Arc::from) } else { None },
                });
            }
        }
        // (position, value) -> every (row, axis name, label) giving it, in order of appearance.
        let mut order: Vec<(u8, char)> = Vec::new();
        let mut uses: HashMap<(u8, char), Vec<Given<'_>>> = HashMap::new();
        for (ri, row) in t.rows.iter().enumerate() {
            for a in row {
                for (value, label) in &a.labels {
                    let entry = uses.entry((a.pos, *value)).or_insert_with(|| {
                        order.push((a.pos, *value));
                        Vec::new()
                    });
                    entry.push((ri, a.title.as_str(), label.as_str()));
                }
            }
        }
        for key in order {
            let Some(given) = uses.get(&key) else { continue };
            let (pos, value) = key;
            let Some(&(_, name, label)) = given.first() else { continue };
            let row = |prefix: String, name: &str, label: &str| AxisLabelRow {
                prefix: prefix.into(),
                position: pos,
                value: value.to_string().into(),
                axis_name: name.into(),
                label: label.into(),
                definition: None,
            };
            if given.iter().all(|&(_, n, l)| n == name && l == label) {
                out.push(row(code.clone(), name, label));
                continue;
            }
            // The rows disagree: key by the shortest code prefix that decides the label.
            let mut by_code: BTreeMap<String, (&str, &str)> = BTreeMap::new();
            for &(ri, n, l) in given {
                for c in row_codes(&code, &t.rows[ri], pos, value) {
                    by_code.entry(c).or_insert((n, l));
                }
            }
            for len in 4..=7 {
                let mut by_prefix: BTreeMap<String, (&str, &str)> = BTreeMap::new();
                let mut decides = true;
                for (c, nl) in &by_code {
                    let first = by_prefix.entry(c.chars().take(len).collect()).or_insert(*nl);
                    decides &= *first == *nl;
                }
                if decides || len == 7 {
                    out.extend(by_prefix.into_iter().map(|(p, (n, l))| row(p, n, l)));
                    break;
                }
            }
        }
    }
    out
}

/// One row's (row index, axis name, label) for a table position and value.
type Given<'a> = (usize, &'a str, &'a str);

/// Every code of one table row that has `value` at `pos`.
fn row_codes(table: &str, row: &[ParsedAxis], pos: u8, value: char) -> Vec<String> {
    let sets: Vec<Vec<char>> =
        row.iter().map(|a| if a.pos == pos { vec![value] } else { a.labels.iter().map(|l| l.0).collect() }).collect();
    let mut codes = vec![table.to_string()];
    for set in &sets {
        codes = codes.iter().flat_map(|c| set.iter().map(move |ch| format!("{c}{ch}"))).collect();
    }
    codes
}

// ---------------------------------------------------------------------------------------------
// Definitions XML

/// One defined term of the definitions XML.
struct Definition {
    section: char,
    position: u8,
    title: String,
    definition: String,
}

fn parse_definitions<R: BufRead>(reader: R, path: &Path) -> Result<Vec<Definition>> {
    let mut xml = Xml::new(reader, path);
    let mut out = Vec::new();
    let mut section: Option<char> = None;
    let mut position: Option<u8> = None;
    let mut titles: Vec<String> = Vec::new();
    let mut definition: Option<String> = None;
    let mut in_terms = false;
    let mut text = String::new();
    loop {
        match xml.next()? {
            XmlEvent::Start(name, attrs) => {
                if xml.stack.len() == 1 && name != "ICD10PCS.definitions" {
                    return Err(xml.error(format!("not an ICD-10-PCS definitions file: the root element is <{name}>")));
                }
                match name.as_str() {
                    "section" => {
                        section = attr(&attrs, "code").and_then(|c| single_char(c.trim()));
                        if section.is_none() {
                            return Err(xml.error("a <section> needs a one-character code"));
                        }
                    }
                    "axis" if section.is_some() => {
                        position = attr(&attrs, "pos").and_then(|p| p.trim().parse::<u8>().ok()).filter(|p| (1..=7).contains(p));
                        if position.is_none() {
                            return Err(
                                xml.error(format!("<axis pos={:?}>: the position must be 1 to 7", attr(&attrs, "pos").unwrap_or_default()))
                            );
                        }
                    }
                    "terms" => {
                        in_terms = true;
                        titles.clear();
                        definition = None;
                    }
                    _ => {}
                }
                text.clear();
            }
            XmlEvent::Text(t) => text.push_str(&t),
            XmlEvent::End(name) => {
                match name.as_str() {
                    "title" if in_terms => titles.push(clean(&text)),
                    "definition" if in_terms => definition = Some(clean(&text)).filter(|d| !d.is_empty()),
                    "terms" => {
                        in_terms = false;
                        if let (Some(s), Some(p), Some(d)) = (section, position, definition.take()) {
                            for t in titles.drain(..).filter(|t| !t.is_empty()) {
                                out.push(Definition { section: s, position: p, title: t, definition: d.clone() });
                            }
                        }
                    }
                    "axis" => position = None,
                    "section" => section = None,
                    _ => {}
                }
                text.clear();
            }
            XmlEvent::Eof => break,
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// A small pull parser over quick-xml: owned names and text, entity references resolved, empty
// elements reported as a start and an end, balanced tags checked, lines counted for errors.

enum XmlEvent {
    Start(String, Vec<(String, String)>),
    Text(String),
    End(String),
    Eof,
}

struct Xml<'p, R: BufRead> {
    reader: XmlReader<LineCounter<R>>,
    buf: Vec<u8>,
    path: &'p Path,
    /// Names of the open elements, the root first.
    stack: Vec<String>,
    /// An empty element (`<a/>`) whose end is still to be reported.
    pending_end: Option<String>,
}

impl<'p, R: BufRead> Xml<'p, R> {
    fn new(reader: R, path: &'p Path) -> Self {
        Xml {
            reader: XmlReader::from_reader(LineCounter { inner: reader, newlines: 0 }),
            buf: Vec::new(),
            path,
            stack: Vec::new(),
            pending_end: None,
        }
    }

    fn error(&self, message: impl Into<String>) -> Error {
        Error::import(self.path, Some(self.reader.get_ref().newlines + 1), message)
    }

    fn next(&mut self) -> Result<XmlEvent> {
        if let Some(name) = self.pending_end.take() {
            self.stack.pop();
            return Ok(XmlEvent::End(name));
        }
        loop {
            self.buf.clear();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(e) => e,
                Err(e) => {
                    let e = e.to_string();
                    return Err(self.error(format!("malformed XML: {e}")));
                }
            };
            let text_err = |e: &dyn std::fmt::Display| format!("malformed XML text: {e}");
            let out = match event {
                Event::Start(e) => {
                    let (name, attrs) = element(&e).map_err(|m| self.error(m))?;
                    self.stack.push(name.clone());
                    XmlEvent::Start(name, attrs)
                }
                Event::Empty(e) => {
                    let (name, attrs) = element(&e).map_err(|m| self.error(m))?;
                    self.stack.push(name.clone());
                    self.pending_end = Some(name.clone());
                    XmlEvent::Start(name, attrs)
                }
                Event::End(e) => {
                    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    self.stack.pop();
                    XmlEvent::End(name)
                }
                Event::Text(t) => match t.decode() {
                    Ok(s) => XmlEvent::Text(s.into_owned()),
                    Err(e) => return Err(self.error(text_err(&e))),
                },
                Event::CData(t) => match t.decode() {
                    Ok(s) => XmlEvent::Text(s.into_owned()),
                    Err(e) => return Err(self.error(text_err(&e))),
                },
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c.to_string()),
                        Ok(None) => {
                            r.decode().ok().and_then(|name| quick_xml::escape::resolve_predefined_entity(&name).map(str::to_string))
                        }
                        Err(_) => None,
                    };
                    match resolved {
                        Some(s) => XmlEvent::Text(s),
                        None => {
                            let name = String::from_utf8_lossy(&r).into_owned();
                            return Err(self.error(format!("unknown entity &{name};")));
                        }
                    }
                }
                Event::Eof => {
                    if let Some(open) = self.stack.last() {
                        return Err(self.error(format!("the file ends inside <{open}>")));
                    }
                    XmlEvent::Eof
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => continue,
            };
            return Ok(out);
        }
    }
}

/// The name and attributes of a start tag.
fn element(e: &BytesStart<'_>) -> std::result::Result<(String, Vec<(String, String)>), String> {
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| format!("malformed attribute in <{name}>: {err}"))?;
        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        let value = a.unescape_value().map_err(|err| format!("malformed attribute {key} in <{name}>: {err}"))?;
        attrs.push((key, value.into_owned()));
    }
    Ok((name, attrs))
}

fn attr<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Counts the newlines the XML reader has consumed, for error lines.
struct LineCounter<R> {
    inner: R,
    newlines: u64,
}

impl<R: BufRead> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.newlines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        if let Ok(b) = self.inner.fill_buf() {
            self.newlines += b[..amt.min(b.len())].iter().filter(|&&c| c == b'\n').count() as u64;
        }
        self.inner.consume(amt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::OnceLock;

    /// Where the tests find the repository's data.
    fn data_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../data")
    }

    /// The FY2022 tables and definitions, read once for all tests.
    fn axes() -> &'static PcsAxes {
        static AXES: OnceLock<PcsAxes> = OnceLock::new();
        AXES.get_or_init(|| PcsAxes::read_zip(&data_dir().join("history/cms_2022_errata.zip")).unwrap())
    }

    fn read_member(zip: &str, member: &str) -> Vec<u8> {
        let file = File::open(data_dir().join(zip)).unwrap();
        let mut zip = zip::ZipArchive::new(file).unwrap();
        let mut bytes = Vec::new();
        zip.by_name(member).unwrap().read_to_end(&mut bytes).unwrap();
        bytes
    }

    /// (name, value, label, has definition) of each position.
    fn summary(axes: &PcsAxes, code: &str) -> Vec<(String, String, String, bool)> {
        axes.describe(code)
            .into_iter()
            .map(|a| (a.name.to_string(), a.value.to_string(), a.label.to_string(), a.definition.is_some()))
            .collect()
    }

    fn s(name: &str, value: &str, label: &str, def: bool) -> (String, String, String, bool) {
        (name.into(), value.into(), label.into(), def)
    }

    /// Finding positions 3-7 in the table's run gives what probing the index for each gives,
    /// for every code of the default book, for each code with its last character changed (some
    /// combinations the tables do not have), and for tables split by longer prefixes.
    #[test]
    fn the_table_runs_answer_as_the_index_does() {
        let book = crate::Book::open_default().unwrap();
        let pcs = &book.data().pcs;
        let mut split = 0;
        for (_, code) in book.codes().filter(|(s, c)| *s == crate::System::Icd10pcs && c.len() == 7) {
            for last in [None, Some('0'), Some('Z'), Some('X')] {
                let code = match last {
                    Some(c) => format!("{}{c}", &code[..6]),
                    None => code.clone(),
                };
                assert_eq!(pcs.describe_with(&code, true), pcs.describe_with(&code, false), "{code}");
            }
            split += usize::from(prefix_key(&code.chars().take(3).collect::<Vec<_>>()).is_some_and(|t| pcs.split_tables.contains(&t)));
        }
        assert!(split > 0, "no code of a split table was compared");
        assert_eq!(prefix_len(prefix_key(&['0', 'D', 'T']).unwrap()), 3);
        assert_eq!(prefix_len(prefix_key(&['\0']).unwrap()), 1);
    }

    #[test]
    fn describes_an_appendectomy() {
        let d = axes().describe("0DTJ4ZZ");
        let got: Vec<(u8, &str, &str, &str)> =
            d.iter().map(|a| (a.position, a.name.as_ref(), a.value.as_ref(), a.label.as_ref())).collect();
        assert_eq!(
            got,
            [
                (1, "Section", "0", "Medical and Surgical"),
                (2, "Body System", "D", "Gastrointestinal System"),
                (3, "Operation", "T", "Resection"),
                (4, "Body Part", "J", "Appendix"),
                (5, "Approach", "4", "Percutaneous Endoscopic"),
                (6, "Device", "Z", "No Device"),
                (7, "Qualifier", "Z", "No Qualifier"),
            ]
        );
        assert_eq!(d[2].definition.as_deref(), Some("Cutting out or off, without replacement, all of a body part"));
        assert!(d[4].definition.as_deref().unwrap().starts_with("Entry, by puncture or minor incision"), "{:?}", d[4].definition);
        assert!(d[0].definition.is_none() && d[3].definition.is_none());
    }

    #[test]
    fn describes_a_bypass() {
        assert_eq!(
            summary(axes(), "0016070"),
            [
                s("Section", "0", "Medical and Surgical", false),
                s("Body System", "0", "Central Nervous System and Cranial Nerves", false),
                s("Operation", "1", "Bypass", true),
                s("Body Part", "6", "Cerebral Ventricle", false),
                s("Approach", "0", "Open", true),
                s("Device", "7", "Autologous Tissue Substitute", false),
                s("Qualifier", "0", "Nasopharynx", false),
            ]
        );
        let d = axes().describe("0016070");
        assert_eq!(d[2].definition.as_deref(), Some("Altering the route of passage of the contents of a tubular body part"));
        assert!(d[4].definition.as_deref().unwrap().starts_with("Cutting through the skin or mucous membrane"));
    }

    #[test]
    fn describes_other_sections() {
        assert_eq!(
            summary(axes(), "B00B0ZZ"),
            [
                s("Section", "B", "Imaging", false),
                s("Body System", "0", "Central Nervous System", false),
                s("Type", "0", "Plain Radiography", true),
                s("Body Part", "B", "Spinal Cord", false),
                s("Contrast", "0", "High Osmolar", false),
                s("Qualifier", "Z", "None", false),
                s("Qualifier", "Z", "None", false),
            ]
        );
        let admin = summary(axes(), "3E01340");
        assert_eq!(admin[0], s("Section", "3", "Administration", false));
        assert_eq!(admin[2], s("Operation", "0", "Introduction", true));
        assert_eq!(admin[3].2, "Subcutaneous Tissue");
        assert_eq!(admin[4], s("Approach", "3", "Percutaneous", true));
        assert_eq!(admin[5].2, "Serum, Toxoid and Vaccine");
        assert_eq!(admin[6].2, "Influenza Vaccine");
        let mental = axes().describe("GZ10ZZZ");
        assert_eq!(
            (mental[0].label.as_ref(), mental[2].label.as_ref(), mental[3].label.as_ref()),
            ("Mental Health", "Psychological Tests", "Developmental")
        );
        assert!(mental[2].definition.is_some(), "type definitions come from the definitions XML");
    }

    #[test]
    fn labels_that_depend_on_the_row() {
        // Qualifier 0 of table 3E0 depends on the body part; device H of XW0 on the qualifier.
        assert_eq!(&*axes().describe("3E01340")[6].label, "Influenza Vaccine");
        assert_eq!(&*axes().describe("3E030U0")[6].label, "Autologous");
        let h = |code: &str| axes().describe(code)[5].label.to_string();
        assert_eq!(h("XW033H4"), "Synthetic Human Angiotensin II");
        assert_eq!(h("XW033H5"), "Tocilizumab");
        assert_eq!(h("XW033H6"), "Other New Technology Monoclonal Antibody");
        assert_eq!(h("XW033H7"), "Axicabtagene Ciloleucel Immunotherapy");
        let long: Vec<&AxisLabelRow> = axes().rows().filter(|r| r.position >= 4 && r.prefix.len() > 3).collect();
        assert_eq!(long.len(), 121);
        assert!(long.iter().all(|r| r.prefix.starts_with("3E0") || r.prefix.starts_with("XW0")));
        let flat = axes().rows().filter(|r| r.position >= 4 && r.prefix.len() == 3).count();
        assert_eq!(flat, 18_696);
    }

    /// Every code of every row of the tables XML gets exactly that row's labels.
    #[test]
    fn describe_is_exact_for_every_code_of_the_tables() {
        let bytes = read_member("history/cms_2022_errata.zip", "icd10pcs_tables_2022.xml");
        let tables = parse_tables(&bytes[..], Path::new("t.xml")).unwrap();
        let axes = axes();
        let mut codes = 0;
        let mut labels = 0;
        for t in &tables {
            let table = t.code();
            for row in &t.rows {
                labels += row.iter().map(|a| a.labels.len()).sum::<usize>();
                for code in row_codes(&table, row, 0, ' ') {
                    codes += 1;
                    let d = axes.describe(&code);
                    assert_eq!(d.len(), 7);
                    for (i, a) in t.axes.iter().enumerate() {
                        assert_eq!((d[i].name.as_ref(), d[i].label.as_ref()), (a.title.as_str(), a.labels[0].1.as_str()), "{code}");
                    }
                    for (k, a) in row.iter().enumerate() {
                        let c = code.chars().nth(3 + k).unwrap();
                        let want = a.labels.iter().find(|l| l.0 == c).unwrap();
                        assert_eq!((d[3 + k].name.as_ref(), d[3 + k].label.as_ref()), (a.title.as_str(), want.1.as_str()), "{code}");
                    }
                }
            }
        }
        assert_eq!((tables.len(), codes, labels), (895, 78_229, 29_540));
    }

    #[test]
    fn every_fy2022_code_is_described() {
        let order = read_member("history/cms_2022_errata.zip", "icd10pcs_order_2022.txt");
        let text = String::from_utf8_lossy(&order);
        let codes: Vec<&str> = text.lines().filter(|l| l.get(14..15) == Some("1")).filter_map(|l| l.get(6..13)).map(str::trim).collect();
        assert_eq!(codes.len(), 78_229);
        for code in codes {
            let d = axes().describe(code);
            assert!(d.len() == 7 && d.iter().all(|a| !a.label.is_empty() && !a.name.is_empty()), "{code}: {d:?}");
            assert!(d[2].definition.is_some() || code.starts_with('D'), "{code}: operation definition");
        }
    }

    #[test]
    fn unknown_values_keep_position_name_and_value() {
        // 07100Z3 (FY2026) is in table 071, which the FY2022 tables do not have.
        let d = axes().describe("07100Z3");
        assert_eq!(d.len(), 7);
        assert_eq!((d[0].label.as_ref(), d[1].label.as_ref()), ("Medical and Surgical", "Lymphatic and Hemic Systems"));
        assert_eq!((d[2].name.as_ref(), d[2].value.as_ref(), d[2].label.as_ref()), ("Operation", "1", ""));
        let names: Vec<&str> = d.iter().map(|a| a.name.as_ref()).collect();
        assert_eq!(names, DEFAULT_NAMES);
        assert!(d[3..].iter().all(|a| a.label.is_empty() && a.definition.is_none()));
        // A character a known table does not have at that place.
        let d = axes().describe("0DTJ4Z9");
        assert_eq!((d[6].name.as_ref(), d[6].value.as_ref(), d[6].label.as_ref()), ("Qualifier", "9", ""));
        assert_eq!(&*d[5].label, "No Device");
        // An unknown section, short codes, junk: never a panic.
        let d = axes().describe("W123456");
        assert_eq!((d[0].name.as_ref(), d[0].label.as_ref()), ("Section", ""));
        assert_eq!(axes().describe("0DT").len(), 3);
        assert!(axes().describe("").is_empty());
        assert_eq!(axes().describe("💥ÉÉ0DTJ4ZZZZ").len(), 7);
        assert_eq!(&*PcsAxes::default().describe("0DTJ4ZZ")[4].name, "Approach");
    }

    #[test]
    fn rows_round_trip() {
        let rows: Vec<AxisLabelRow> = axes().rows().cloned().collect();
        assert_eq!(rows.len(), axes().len());
        let back = PcsAxes::from_rows(rows.clone());
        assert_eq!(&back, axes());
        assert!(back.rows().eq(rows.iter()));
        for code in ["0DTJ4ZZ", "0016070", "XW033H5", "3E030U0", "B00B0ZZ", "07100Z3"] {
            assert_eq!(back.describe(code), axes().describe(code));
        }
        // Rows that do not fit are kept but unused.
        let mut odd = rows[..10].to_vec();
        odd.push(AxisLabelRow {
            prefix: "0D".into(),
            position: 9,
            value: "XX".into(),
            axis_name: "?".into(),
            label: "?".into(),
            definition: None,
        });
        // A row of positions 4-7 whose prefix is shorter than a table (a damaged book).
        odd.push(AxisLabelRow {
            prefix: "0D".into(),
            position: 5,
            value: "4".into(),
            axis_name: "?".into(),
            label: "?".into(),
            definition: None,
        });
        odd.push(AxisLabelRow {
            prefix: "".into(),
            position: 1,
            value: "0".into(),
            axis_name: "?".into(),
            label: "?".into(),
            definition: None,
        });
        let p = PcsAxes::from_rows(odd.clone());
        assert!(p.rows().eq(odd.iter()));
        assert_eq!(&*p.describe("0016070")[0].label, "Medical and Surgical");
    }

    #[test]
    fn definitions_counts_and_sources() {
        let with_def = |p: u8| axes().rows().filter(|r| r.position == p && r.definition.is_some()).count();
        let total = |p: u8| axes().rows().filter(|r| r.position == p).count();
        // Every operation / type has a definition except the modalities of section D (radiation
        // therapy), which neither file defines; every approach of section 0 has one.
        assert_eq!((with_def(3), total(3)), (839, 895));
        assert!(axes().rows().filter(|r| r.position == 3 && r.definition.is_none()).all(|r| r.prefix.starts_with('D')));
        assert!(axes().rows().filter(|r| r.position == 5 && r.prefix.starts_with('0')).all(|r| r.definition.is_some()));

        // The TSVs give the same texts for sections 0 and 1 as the XML files.
        let bytes = read_member("history/cms_2022_errata.zip", "icd10pcs_tables_2022.xml");
        let mut only_tables = PcsAxes::read_tables_xml(&bytes[..], Path::new("t.xml")).unwrap();
        let approach_defs = |a: &PcsAxes| a.rows().filter(|r| r.position == 5 && r.definition.is_some()).count();
        assert_eq!(approach_defs(&only_tables), 0);
        let added = only_tables.add_definitions_tsv_dir(&data_dir().join("icd10pcs")).unwrap();
        assert!(added > 1000, "{added}");
        for code in ["0DTJ4ZZ", "0016070", "10D00Z1"] {
            let (a, b) = (only_tables.describe(code), axes().describe(code));
            assert_eq!(a[4].definition, b[4].definition, "{code}");
            assert_eq!(a[2].definition, b[2].definition, "{code}");
        }
        let extraction = only_tables.describe("10D00Z1");
        assert_eq!(
            extraction[2].definition.as_deref(),
            Some("Pulling or stripping out or off all or a portion of a body part by the use of force")
        );
    }

    #[test]
    fn definitions_tsv_needs_its_columns() {
        let mut a = axes().clone();
        let path = data_dir().join("icd10pcs/pcs_definitions_body_system.tsv");
        let err = a.add_definitions_tsv(File::open(&path).unwrap(), 2, &path).unwrap_err();
        assert!(matches!(err, Error::Import { line: Some(1), .. }), "{err:?}");
        let tsv = "section\tcode\tvalue\tdefinition\n0\tT\tResection\tA new text\n00\tT\tx\ty\n";
        let err = a.add_definitions_tsv(tsv.as_bytes(), 3, Path::new("d.tsv")).unwrap_err();
        assert!(matches!(err, Error::Import { line: Some(3), .. }), "{err:?}");
        // Existing definitions are never replaced.
        let tsv = "section\tcode\tvalue\tdefinition\n0\tT\tResection\tA new text\n";
        assert_eq!(a.add_definitions_tsv(tsv.as_bytes(), 3, Path::new("d.tsv")).unwrap(), 0);
    }

    const TINY: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<ICD10PCS.tabular>
  <version>2022</version>
  <pcsTable>
    <axis pos="1" values="1"><title>Section</title><label code="0">Medical &amp; Surgical</label></axis>
    <axis pos="2" values="1"><title>Body System</title><label code="D">Gastrointestinal System</label></axis>
    <axis pos="3" values="1"><title>Operation</title><label code="T">Resection</label>
      <definition>Cutting out or off, without replacement, all of a body part</definition></axis>
    <pcsRow codes="1">
      <axis pos="4" values="1"><title>Body Part</title><label code="J">Appendix &#x2014; vermiform</label></axis>
      <axis pos="5" values="1"><title>Approach</title><label code="4">Percutaneous Endoscopic</label></axis>
      <axis pos="6" values="1"><title>Device</title><label code="Z">No Device</label></axis>
      <axis pos="7" values="1"><title>Qualifier</title><label code="Z"><![CDATA[No <Qualifier>]]></label></axis>
    </pcsRow>
  </pcsTable>
</ICD10PCS.tabular>
"#;

    #[test]
    fn tiny_tables_file() {
        let a = PcsAxes::read_tables_xml(TINY.as_bytes(), Path::new("tiny.xml")).unwrap();
        assert_eq!(a.len(), 7);
        let d = a.describe("0DTJ4ZZ");
        assert_eq!(&*d[0].label, "Medical & Surgical");
        assert_eq!(&*d[3].label, "Appendix \u{2014} vermiform");
        assert_eq!(&*d[6].label, "No <Qualifier>");
        let prefixes: Vec<&str> = a.rows().map(|r| r.prefix.as_ref()).collect();
        assert_eq!(prefixes, ["0", "0D", "0DT", "0DT", "0DT", "0DT", "0DT"]);
    }

    #[test]
    fn malformed_xml_is_import_error() {
        let cases: Vec<(String, &str)> = vec![
            (TINY.replace("</pcsRow>", ""), "malformed XML"),
            (TINY[..TINY.len() / 2].to_string(), "ends inside"),
            (TINY.replace(r#"code="J""#, r#"code="JJ""#), "one letter or digit"),
            (
                TINY.replace(
                    r#"<axis pos="7" values="1"><title>Qualifier</title><label code="Z"><![CDATA[No <Qualifier>]]></label></axis>"#,
                    "",
                ),
                "axes 4, 5, 6 and 7",
            ),
            (TINY.replace(r#"pos="2""#, r#"pos="5""#), "<axis pos=\"5\">"),
            (TINY.replace("ICD10PCS.tabular", "html"), "root element is <html>"),
            (TINY.replace("&amp;", "&nbsp;"), "unknown entity"),
            ("<ICD10PCS.tabular></ICD10PCS.tabular>".to_string(), "no <pcsTable>"),
            (String::new(), "no <pcsTable>"),
            ("\u{0}\u{1}garbage<<<".to_string(), ""),
        ];
        for (xml, want) in cases {
            match PcsAxes::read_tables_xml(xml.as_bytes(), Path::new("bad.xml")) {
                Err(Error::Import { line, message, .. }) => {
                    assert!(line.is_some());
                    assert!(message.contains(want), "{message:?} should say {want:?}");
                }
                other => panic!("expected Error::Import ({want}), got {other:?}"),
            }
        }
        let Err(Error::Import { line, .. }) = PcsAxes::read_tables_xml(TINY.replace("</pcsRow>", "").as_bytes(), Path::new("bad.xml"))
        else {
            panic!()
        };
        assert_eq!(line, Some(15), "the line where </pcsTable> closes an open <pcsRow>");
        let mut a = PcsAxes::default();
        assert!(matches!(a.add_definitions_xml(TINY.as_bytes(), Path::new("d.xml")), Err(Error::Import { .. })));
    }

    #[test]
    fn zip_errors() {
        let missing = data_dir().join("history/nope.zip");
        assert!(matches!(PcsAxes::read_zip(&missing), Err(Error::Io { path: Some(p), .. }) if p == missing));
        let no_tables = data_dir().join("history/cms_2022_pr.zip");
        let err = PcsAxes::read_zip(&no_tables).unwrap_err();
        assert!(matches!(&err, Error::Import { message, .. } if message.contains("no icd10pcs_tables")), "{err:?}");
        let dir = tempfile::tempdir().unwrap();
        let not_zip = dir.path().join("x.zip");
        std::fs::write(&not_zip, "not a zip").unwrap();
        assert!(matches!(PcsAxes::read_zip(&not_zip), Err(Error::Import { .. })));
        let xml = dir.path().join("tables.xml");
        std::fs::write(&xml, TINY).unwrap();
        assert_eq!(PcsAxes::read_zip(&xml).unwrap().len(), 7);
    }
}

//! ICD-9-CM ↔ ICD-10-CM diagnosis crosswalk with the General Equivalence Mappings (GEMs, CMS
//! and CDC, 2018 final release), in both directions, flags decoded.
//!
//! This module owns the crosswalk types ([`Direction`], [`Mapping`]), the GEM tables in memory
//! and [`Book::crosswalk`]. The file reader is [`crate::import::gems`]; the tables are stored in
//! the book by `book/billing_store.rs`.
//!
//! How to read a GEM: a source maps to one target (maybe approximately), to none (`no_map`),
//! or, when `combination` is set, to several codes *together*: the targets are grouped by
//! `scenario` (alternative ways to code the source), and within a scenario one target is taken
//! from each `choice_list`. The 2018 GEMs are the last CMS published; codes added to ICD-10-CM
//! since FY2018 have no GEM row, and some 2018 targets have since become headers.
//!
//! ```
//! use codelookup::crosswalk::Direction;
//! let book = codelookup::Book::open_default()?;
//! let maps = book.crosswalk("250.00", Direction::Icd9To10)?;
//! assert_eq!(maps.len(), 1);
//! assert_eq!(maps[0].target.as_deref(), Some("E11.9"));
//! assert!(maps[0].approximate);
//! # Ok::<(), codelookup::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::book::Book;
use crate::code::{truncate_for_message, Key, System};
use crate::error::{Error, Result};
use crate::import::gems::{GemFlags, GemRow};

/// Which way to cross.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// ICD-9-CM diagnosis → ICD-10-CM (the `2018_I9gem.txt` file).
    #[serde(rename = "icd9_to_icd10")]
    Icd9To10,
    /// ICD-10-CM → ICD-9-CM diagnosis (the `2018_I10gem.txt` file).
    #[serde(rename = "icd10_to_icd9")]
    Icd10To9,
}

impl Direction {
    /// Both directions.
    pub const ALL: [Direction; 2] = [Direction::Icd9To10, Direction::Icd10To9];

    /// The stable name: `icd9_to_icd10` or `icd10_to_icd9`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Icd9To10 => "icd9_to_icd10",
            Direction::Icd10To9 => "icd10_to_icd9",
        }
    }

    /// The code system of the source codes (`ICD-9-CM` or `ICD-10-CM`).
    pub fn source_name(self) -> &'static str {
        match self {
            Direction::Icd9To10 => "ICD-9-CM",
            Direction::Icd10To9 => "ICD-10-CM",
        }
    }

    /// The code system of the target codes.
    pub fn target_name(self) -> &'static str {
        match self {
            Direction::Icd9To10 => "ICD-10-CM",
            Direction::Icd10To9 => "ICD-9-CM",
        }
    }

    fn display(self, source_side: bool, key: &Key) -> String {
        if (self == Direction::Icd9To10) == source_side {
            icd9_display(key.as_str())
        } else {
            System::Icd10cm.display(key.as_str())
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Direction {
    type Err = Error;

    /// Parses `icd9_to_icd10` / `icd10_to_icd9`, and the short forms `9to10`, `10to9`, `icd9`
    /// (from ICD-9) and `icd10` (from ICD-10); case, `-`, `_` and spaces are ignored.
    fn from_str(s: &str) -> Result<Self> {
        let folded: String = s.chars().filter(|c| !matches!(c, '-' | '_' | ' ')).map(|c| c.to_ascii_lowercase()).collect();
        match folded.as_str() {
            "icd9toicd10" | "9to10" | "icd9" | "icd9cm" | "9" => Ok(Direction::Icd9To10),
            "icd10toicd9" | "10to9" | "icd10" | "icd10cm" | "10" => Ok(Direction::Icd10To9),
            _ => Err(Error::InvalidArgument(format!(
                "unknown crosswalk direction {:?} (use icd9_to_icd10 or icd10_to_icd9)",
                truncate_for_message(s)
            ))),
        }
    }
}

/// One row of a GEM: a source code and one target, with the flags decoded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    /// The source code, dotted (`250.00`, `E888.9`, `E11.9`).
    pub source: String,
    /// The target code, dotted; `None` when the source has no map.
    pub target: Option<String>,
    /// The target is not an exact equivalent of the source.
    pub approximate: bool,
    /// The source has no target code (`NoDx` in the GEM).
    pub no_map: bool,
    /// The target is one part of a combination: several targets together express the source.
    pub combination: bool,
    /// For a combination: which alternative set of targets (1-9); 0 otherwise.
    pub scenario: u8,
    /// For a combination: which slot of the scenario this target fills (1-9); one target is
    /// chosen from each choice list. 0 otherwise.
    pub choice_list: u8,
}

/// One GEM row in memory (20 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct GemEntry {
    source: Key,
    target: Option<Key>,
    /// bit 0 approximate, bit 1 no map, bit 2 combination.
    flags: u8,
    scenario: u8,
    choice_list: u8,
}

/// Both GEM tables, each sorted by source code (file order within a source).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Gems {
    icd9_to_icd10: Vec<GemEntry>,
    icd10_to_icd9: Vec<GemEntry>,
}

impl Gems {
    fn table(&self, direction: Direction) -> &[GemEntry] {
        match direction {
            Direction::Icd9To10 => &self.icd9_to_icd10,
            Direction::Icd10To9 => &self.icd10_to_icd9,
        }
    }

    /// Sets one direction's table from GEM rows (read from a GEM file).
    pub fn set(&mut self, direction: Direction, rows: Vec<GemRow>) -> Result<()> {
        self.clear(direction);
        for r in &rows {
            let flags = GemFlags {
                approximate: r.approximate,
                no_map: r.no_map,
                combination: r.combination,
                scenario: r.scenario,
                choice_list: r.choice_list,
            };
            self.push(direction, &r.source, r.target.as_deref(), flags)?;
        }
        self.finish(direction);
        Ok(())
    }

    /// Empties one direction's table.
    pub fn clear(&mut self, direction: Direction) {
        self.table_mut(direction).clear();
    }

    /// Appends one row to a direction's table; [`Gems::finish`] sorts it once every row is in.
    pub fn push(&mut self, direction: Direction, source: &str, target: Option<&str>, f: GemFlags) -> Result<()> {
        let key = |s: &str| Key::parse(s).map_err(|e| Error::Book(format!("GEM code {s:?}: {e}")));
        if f.no_map != target.is_none() || f.scenario > 9 || f.choice_list > 9 {
            return Err(Error::Book(format!("GEM row for {source} has inconsistent flags")));
        }
        let entry = GemEntry {
            source: key(source)?,
            target: target.map(key).transpose()?,
            flags: u8::from(f.approximate) | (u8::from(f.no_map) << 1) | (u8::from(f.combination) << 2),
            scenario: f.scenario,
            choice_list: f.choice_list,
        };
        self.table_mut(direction).push(entry);
        Ok(())
    }

    /// Sorts a direction's table by source code (stable: file order within a source).
    pub fn finish(&mut self, direction: Direction) {
        let t = self.table_mut(direction);
        t.sort_by(|a, b| a.source.as_bytes().cmp(b.source.as_bytes()));
        t.shrink_to_fit();
    }

    fn table_mut(&mut self, direction: Direction) -> &mut Vec<GemEntry> {
        match direction {
            Direction::Icd9To10 => &mut self.icd9_to_icd10,
            Direction::Icd10To9 => &mut self.icd10_to_icd9,
        }
    }

    /// Number of rows in one direction.
    pub fn len(&self, direction: Direction) -> usize {
        self.table(direction).len()
    }

    /// The rows of one direction as the GEM file writes them (for storing).
    pub fn rows(&self, direction: Direction) -> impl Iterator<Item = GemRow> + '_ {
        self.table(direction).iter().map(|e| GemRow {
            source: e.source.to_string(),
            target: e.target.map(|t| t.to_string()),
            approximate: e.flags & 1 != 0,
            no_map: e.flags & 2 != 0,
            combination: e.flags & 4 != 0,
            scenario: e.scenario,
            choice_list: e.choice_list,
        })
    }

    pub fn heap_bytes(&self) -> usize {
        (self.icd9_to_icd10.capacity() + self.icd10_to_icd9.capacity()) * size_of::<GemEntry>()
    }

    fn range(&self, direction: Direction, source: &[u8]) -> &[GemEntry] {
        let t = self.table(direction);
        let lo = t.partition_point(|e| e.source.as_bytes() < source);
        let hi = lo + t[lo..].partition_point(|e| e.source.as_bytes() == source);
        &t[lo..hi]
    }

    /// Up to five source codes sharing the longest prefix (at least three characters) with `key`.
    fn near(&self, direction: Direction, key: &Key) -> Vec<String> {
        let t = self.table(direction);
        let k = key.as_bytes();
        for n in (3..=k.len()).rev() {
            let prefix = &k[..n];
            let lo = t.partition_point(|e| e.source.as_bytes() < prefix);
            let mut out: Vec<String> = Vec::new();
            for e in t[lo..].iter().take_while(|e| e.source.as_bytes().starts_with(prefix)) {
                let code = direction.display(true, &e.source);
                if out.last() != Some(&code) {
                    out.push(code);
                }
                if out.len() == 5 {
                    break;
                }
            }
            if !out.is_empty() {
                return out;
            }
        }
        Vec::new()
    }
}

/// Normalises an ICD-9-CM diagnosis code: `250.00`, `25000`, `v01.0`, `E888.9`.
fn parse_icd9(input: &str) -> Result<Key> {
    let invalid = |reason: &str| Error::InvalidCode { input: truncate_for_message(input), reason: reason.to_string() };
    let t = input.trim();
    let e_code = t.starts_with(['E', 'e']);
    let dot_at = if e_code { 4 } else { 3 };
    let undotted: String = match t.find('.') {
        Some(i) if i == dot_at && t.len() > i + 1 && !t[i + 1..].contains('.') => format!("{}{}", &t[..i], &t[i + 1..]),
        Some(_) => return Err(invalid("an ICD-9-CM code has one dot, after the third character (the fourth for E codes)")),
        None => t.to_string(),
    };
    let key = Key::parse(&undotted).map_err(|_| invalid("not an ICD-9-CM diagnosis code"))?;
    let b = key.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    let ok = match b.first() {
        Some(b'E') => (4..=5).contains(&b.len()) && digits(&b[1..]),
        Some(b'V') => (3..=5).contains(&b.len()) && digits(&b[1..]),
        _ => (3..=5).contains(&b.len()) && digits(b),
    };
    if ok {
        Ok(key)
    } else {
        Err(invalid("not the shape of an ICD-9-CM diagnosis code (3 to 5 digits, V and 2 to 4 digits, or E and 3 or 4 digits)"))
    }
}

/// The dotted spelling of an ICD-9-CM diagnosis code: `25000` → `250.00`, `E8889` → `E888.9`.
fn icd9_display(key: &str) -> String {
    let at = if key.starts_with('E') { 4 } else { 3 };
    if key.len() > at && key.is_char_boundary(at) {
        format!("{}.{}", &key[..at], &key[at..])
    } else {
        key.to_string()
    }
}

impl Book {
    /// The GEM mappings of a code, in the GEM's order: ICD-9-CM → ICD-10-CM
    /// ([`Direction::Icd9To10`]) or ICD-10-CM → ICD-9-CM ([`Direction::Icd10To9`]). Codes are
    /// taken in any common spelling (`250.00`, `25000`, `e11.9`) and returned dotted.
    ///
    /// Errors: [`Error::InvalidCode`] when the input is not the shape of a code of the source
    /// system, [`Error::NotFound`] (with GEM source codes that share its longest prefix) when
    /// the GEM has no row for it (a header such as `E11`, or a code created after 2018),
    /// [`Error::Book`] when the book has no GEMs. Cost: a binary search, under a microsecond
    /// plus the results.
    ///
    /// ```
    /// use codelookup::crosswalk::Direction;
    /// let book = codelookup::Book::open_default()?;
    /// let maps = book.crosswalk("E11.9", Direction::Icd10To9)?;
    /// assert_eq!(maps[0].target.as_deref(), Some("250.00"));
    /// // A combination: tuberculosis of the spine is coded with two ICD-9-CM codes together,
    /// // in five alternative scenarios; the second pairs 015.00 with 711.48.
    /// let maps = book.crosswalk("A18.01", Direction::Icd10To9)?;
    /// let scenario_2: Vec<_> = maps.iter().filter(|m| m.combination && m.scenario == 2).map(|m| (m.choice_list, m.target.as_deref())).collect();
    /// assert_eq!(scenario_2, [(1, Some("015.00")), (2, Some("711.48"))]);
    /// # Ok::<(), codelookup::Error>(())
    /// ```
    pub fn crosswalk(&self, code: &str, direction: Direction) -> Result<Vec<Mapping>> {
        let key = match direction {
            Direction::Icd9To10 => parse_icd9(code)?,
            Direction::Icd10To9 => Key::parse_for(code, Some(System::Icd10cm))?,
        };
        let gems = &self.data().billing.gems;
        if gems.len(direction) == 0 {
            return Err(Error::Book(format!(
                "this book has no {} → {} GEMs; build it with the GEM files",
                direction.source_name(),
                direction.target_name()
            )));
        }
        let rows = gems.range(direction, key.as_bytes());
        if rows.is_empty() {
            return Err(Error::NotFound { code: direction.display(true, &key), suggestions: gems.near(direction, &key) });
        }
        Ok(rows
            .iter()
            .map(|e| Mapping {
                source: direction.display(true, &e.source),
                target: e.target.map(|t| direction.display(false, &t)),
                approximate: e.flags & 1 != 0,
                no_map: e.flags & 2 != 0,
                combination: e.flags & 4 != 0,
                scenario: e.scenario,
                choice_list: e.choice_list,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icd9_spellings() {
        for (input, key, shown) in [
            ("250.00", "25000", "250.00"),
            ("25000", "25000", "250.00"),
            (" v01.0 ", "V010", "V01.0"),
            ("E888.9", "E8889", "E888.9"),
            ("e8889", "E8889", "E888.9"),
            ("001", "001", "001"),
        ] {
            let k = parse_icd9(input).unwrap();
            assert_eq!(k.as_str(), key, "{input}");
            assert_eq!(icd9_display(k.as_str()), shown, "{input}");
        }
        for bad in ["", "25", "2500000", "250.0.0", "25.000", "E11.9", "A000", "E88.89", "V1", "💥"] {
            assert!(matches!(parse_icd9(bad), Err(Error::InvalidCode { .. })), "{bad:?}");
        }
    }

    #[test]
    fn directions_parse() {
        assert_eq!("9to10".parse::<Direction>().unwrap(), Direction::Icd9To10);
        assert_eq!("ICD-10-to-ICD-9".parse::<Direction>().unwrap(), Direction::Icd10To9);
        assert_eq!("icd10_to_icd9".parse::<Direction>().unwrap(), Direction::Icd10To9);
        assert!(matches!("sideways".parse::<Direction>(), Err(Error::InvalidArgument(_))));
        assert_eq!(serde_json::to_string(&Direction::Icd9To10).unwrap(), "\"icd9_to_icd10\"");
    }

    #[test]
    fn tables_keep_file_order_within_a_source_and_round_trip() {
        let rows = crate::import::gems::parse(b"E119 25000 10111\nE119 V5867 10112\nA000 0010 00000\n", std::path::Path::new("g")).unwrap();
        let mut g = Gems::default();
        g.set(Direction::Icd10To9, rows.clone()).unwrap();
        let e119 = g.range(Direction::Icd10To9, b"E119");
        assert_eq!(e119.len(), 2);
        assert_eq!(e119[1].choice_list, 2);
        let back: Vec<GemRow> = g.rows(Direction::Icd10To9).collect();
        assert_eq!(back, vec![rows[2].clone(), rows[0].clone(), rows[1].clone()]);
        assert_eq!(g.near(Direction::Icd10To9, &Key::parse("E11").unwrap()), vec!["E11.9"]);
    }
}

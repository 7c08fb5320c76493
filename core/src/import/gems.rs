//! Reader of the General Equivalence Mappings (GEMs) between ICD-9-CM and ICD-10-CM diagnoses
//! (CMS/CDC, 2018 final release: `2018_I9gem.txt` ICD-9-CM → ICD-10-CM and `2018_I10gem.txt`
//! ICD-10-CM → ICD-9-CM). This module only parses; look-ups live in [`crate::crosswalk`].
//!
//! Layout: one mapping per line, white-space separated: source code, target code (`NoDx` when
//! there is none), and five flag digits: approximate, no map, combination, scenario, choice
//! list. Codes are written without dots.

use std::path::Path;

use super::sources::read_maybe_gzip;
use crate::error::{Error, Result};

/// One line of a GEM file, flags decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GemRow {
    /// The source code as written (no dot).
    pub source: String,
    /// The target code as written (no dot); `None` for `NoDx`.
    pub target: Option<String>,
    /// The mapping is approximate (not an exact equivalent).
    pub approximate: bool,
    /// The source has no target (`NoDx`).
    pub no_map: bool,
    /// The target is one part of a combination: the source maps to several codes together.
    pub combination: bool,
    /// For a combination: which alternative set of targets (1-9); 0 otherwise.
    pub scenario: u8,
    /// For a combination: which part of the set (1-9); one target is chosen from each choice
    /// list of a scenario. 0 otherwise.
    pub choice_list: u8,
}

/// Reads a GEM file (`.txt` or `.txt.gz`).
pub fn read(path: &Path) -> Result<Vec<GemRow>> {
    parse(&read_maybe_gzip(path)?, path)
}

/// Parses the text of a GEM file.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Vec<GemRow>> {
    let text = std::str::from_utf8(bytes).map_err(|e| Error::import(path, None, format!("not a text file: {e}")))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let bad = |what: String| Error::import(path, Some(line_no), what);
        let [source, target, flags] = fields[..] else {
            return Err(bad(format!("expected source, target and flags; found {} fields", fields.len())));
        };
        // The 2018 files hold a few lower-case codes (`v5889`): codes are case-insensitive.
        let (source, target) =
            (source.to_ascii_uppercase(), if target == "NoDx" { target.to_string() } else { target.to_ascii_uppercase() });
        let (source, target) = (source.as_str(), target.as_str());
        if !is_code(source) {
            return Err(bad(format!("{source:?} is not an ICD code")));
        }
        let f = parse_flags(flags).ok_or_else(|| bad(format!("flags {flags:?} are not five digits")))?;
        let target = if target == "NoDx" {
            None
        } else if is_code(target) {
            Some(target.to_string())
        } else {
            return Err(bad(format!("{target:?} is not an ICD code")));
        };
        if f.no_map != target.is_none() {
            return Err(bad("the no-map flag and a NoDx target must go together".into()));
        }
        let consistent = if f.combination { f.scenario > 0 && f.choice_list > 0 } else { f.scenario == 0 && f.choice_list == 0 };
        if !consistent {
            return Err(bad(format!("flags {flags:?}: scenario and choice list are set exactly when the combination flag is")));
        }
        rows.push(GemRow {
            source: source.to_string(),
            target,
            approximate: f.approximate,
            no_map: f.no_map,
            combination: f.combination,
            scenario: f.scenario,
            choice_list: f.choice_list,
        });
    }
    if rows.is_empty() {
        return Err(Error::import(path, None, "no mapping found: not a GEM file"));
    }
    Ok(rows)
}

/// The five flag digits of a GEM line, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GemFlags {
    /// First digit.
    pub approximate: bool,
    /// Second digit.
    pub no_map: bool,
    /// Third digit.
    pub combination: bool,
    /// Fourth digit.
    pub scenario: u8,
    /// Fifth digit.
    pub choice_list: u8,
}

/// Decodes the five flag digits (`10111`); `None` unless they are five digits with 0 or 1 in
/// the first three.
pub fn parse_flags(flags: &str) -> Option<GemFlags> {
    let b = flags.as_bytes();
    if b.len() != 5 || !b.iter().all(u8::is_ascii_digit) || !b[..3].iter().all(|&d| d == b'0' || d == b'1') {
        return None;
    }
    Some(GemFlags {
        approximate: b[0] == b'1',
        no_map: b[1] == b'1',
        combination: b[2] == b'1',
        scenario: b[3] - b'0',
        choice_list: b[4] - b'0',
    })
}

/// ICD-9-CM and ICD-10-CM codes as GEMs write them: 3 to 7 letters and digits.
fn is_code(s: &str) -> bool {
    (3..=7).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_flags() {
        let rows =
            parse(b"0010  A000    00000\n0019  A009    10000\r\n7991  NoDx    11000\n\n25000 E119 10111\n", Path::new("g.txt")).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].target.as_deref(), Some("A000"));
        assert!(!rows[0].approximate && rows[1].approximate);
        assert!(rows[2].no_map && rows[2].target.is_none());
        assert!(rows[3].combination && rows[3].scenario == 1 && rows[3].choice_list == 1);
    }

    #[test]
    fn malformed_lines_name_the_line() {
        for bad in [
            "0010 A000\n",
            "0010 A000 0000\n",
            "0010 A000 20000\n",
            "0010 NoDx 10000\n",
            "0010 A000 11000\n",
            "0010 A000 00110\n",
            "00.1 A000 00000\n",
        ] {
            let err = parse(bad.as_bytes(), Path::new("g.txt")).unwrap_err();
            assert!(matches!(err, Error::Import { line: Some(1), .. }), "{bad:?}: {err:?}");
        }
        assert!(parse(b"\n\n", Path::new("g.txt")).is_err());
    }
}

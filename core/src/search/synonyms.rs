//! Synonyms. ICD-10-CM inclusion terms are synonyms of their code and are indexed as texts of
//! their own (see [`super::index`]); this module holds the other kind: the clinical
//! abbreviations coders type (`CHF`, `COPD`, `T2DM`), from the reviewed, committed file
//! `abbreviations.tsv` beside this module, where each row says where it comes from.
//!
//! A query word that is an abbreviation matches a text holding every word of one of its
//! expansions (as well as the word itself, literally).

use std::collections::HashMap;

use super::index::{SearchIndex, TermId};
use super::tokenize::{fold, Tokens};

/// The reviewed abbreviation file: abbreviation, expansion, source (tab-separated).
pub(crate) const FILE: &str = include_str!("abbreviations.tsv");

/// One row of the abbreviation file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Row {
    pub abbreviation: &'static str,
    pub expansion: &'static str,
    pub source: &'static str,
}

/// The rows of the abbreviation file (comments and blank lines skipped; malformed rows, which a
/// test rules out, are skipped too).
pub(crate) fn rows() -> impl Iterator<Item = Row> {
    FILE.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).filter_map(|l| {
        let mut cols = l.split('\t');
        let (a, e, s) = (cols.next()?.trim(), cols.next()?.trim(), cols.next()?.trim());
        (!a.is_empty() && !e.is_empty() && !s.is_empty()).then_some(Row { abbreviation: a, expansion: e, source: s })
    })
}

/// An expansion, resolved against a book's term dictionary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Expansion {
    /// Term ids of the expansion's words, all of which must appear in a text.
    pub terms: Vec<TermId>,
    /// The folded words (for highlighting).
    pub words: Vec<String>,
}

/// Abbreviations by folded spelling.
#[derive(Clone, Debug, Default)]
pub(crate) struct Abbreviations {
    map: HashMap<String, Vec<Expansion>>,
}

impl Abbreviations {
    /// Resolves the abbreviation file against an index; expansions with a word the book does
    /// not hold are dropped (they could match nothing).
    pub fn load(index: &SearchIndex) -> Abbreviations {
        let mut map: HashMap<String, Vec<Expansion>> = HashMap::new();
        let mut tok = Tokens::default();
        for row in rows() {
            let key = fold(row.abbreviation);
            tok.tokenize(row.expansion);
            let words: Vec<String> = tok.list.iter().filter(|t| t.parts == 0).map(|t| tok.word(t).to_string()).collect();
            let terms: Option<Vec<TermId>> = words.iter().map(|w| index.term(w)).collect();
            if let (Some(terms), false) = (terms, key.is_empty() || words.is_empty()) {
                map.entry(key).or_default().push(Expansion { terms, words });
            }
        }
        Abbreviations { map }
    }

    /// The expansions of a folded query word (empty when it is no abbreviation).
    pub fn get(&self, folded: &str) -> &[Expansion] {
        self.map.get(folded).map(Vec::as_slice).unwrap_or_default()
    }

    /// Number of abbreviations with at least one usable expansion.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_well_formed() {
        let mut seen = std::collections::HashSet::new();
        let mut n = 0;
        for line in FILE.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 3, "three tab-separated columns: {line:?}");
            assert!(cols.iter().all(|c| !c.trim().is_empty() && c.trim() == *c), "{line:?}");
            assert!(cols[2].contains("expansion: "), "the source names where the expansion is found: {line:?}");
            assert!(seen.insert((cols[0].to_lowercase(), cols[1].to_lowercase())), "duplicate row {line:?}");
            let key = fold(cols[0]);
            assert!(!key.is_empty() && key.len() <= 12, "{line:?}");
            n += 1;
        }
        assert_eq!(rows().count(), n);
        assert!(n >= 60, "{n} abbreviations");
    }
}

//! `Book.crosswalk`: ICD-9-CM ↔ ICD-10-CM diagnosis mappings with the General Equivalence
//! Mappings (GEMs, 2018 final release), the core's [`codelookup::crosswalk`], with each GEM row
//! as a plain object.

use codelookup::crosswalk as core;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::book::Book;
use crate::error::or_throw;
use crate::record::convert;

/// One row of a GEM: a source code and one target, with the flags decoded.
///
/// How to read a GEM: a source maps to one target (maybe approximately), to none (`noMap`), or,
/// when `combination` is set, to several codes together: the targets are grouped by `scenario`
/// (alternative ways to code the source), and within a scenario one target is taken from each
/// `choiceList`.
#[napi(object, use_nullable = true)]
#[derive(Clone, Debug)]
pub struct Mapping {
    /// The source code, dotted (`250.00`, `E888.9`, `E11.9`).
    pub source: String,
    /// The target code, dotted; `null` when the source has no map.
    pub target: Option<String>,
    /// The target is not an exact equivalent of the source.
    pub approximate: bool,
    /// The source has no target code (`NoDx` in the GEM).
    pub no_map: bool,
    /// The target is one part of a combination: several targets together express the source.
    pub combination: bool,
    /// For a combination: which alternative set of targets (1-9); 0 otherwise.
    pub scenario: u32,
    /// For a combination: which slot of the scenario this target fills (1-9); one target is
    /// chosen from each choice list. 0 otherwise.
    pub choice_list: u32,
}

impl From<core::Mapping> for Mapping {
    fn from(m: core::Mapping) -> Mapping {
        let core::Mapping { source, target, approximate, no_map, combination, scenario, choice_list } = m;
        Mapping { source, target, approximate, no_map, combination, scenario: scenario.into(), choice_list: choice_list.into() }
    }
}

fn crosswalk(book: &codelookup::Book, code: &str, direction: &str) -> codelookup::Result<Vec<Mapping>> {
    let direction: core::Direction = direction.parse()?;
    Ok(convert(book.crosswalk(code, direction)?))
}

#[napi]
impl Book {
    /// The GEM mappings of a diagnosis code, in the GEM's order. `direction` is
    /// `'icd9_to_icd10'` or `'icd10_to_icd9'` (also `'9to10'`, `'10to9'`, `'icd9'`, `'icd10'`;
    /// case, `-`, `_` and spaces are ignored). Codes are taken in any common spelling
    /// (`250.00`, `25000`, `e11.9`) and returned dotted. The 2018 GEMs are the last CMS
    /// published: codes added since have no row.
    ///
    /// Throws `INVALID_ARGUMENT` for an unknown direction, `INVALID_CODE` when the input is not
    /// the shape of a code of the source system, `NOT_FOUND` (with `suggestions`) when the GEM
    /// has no row for it (a header such as `E11`, or a code created after 2018), `BOOK_ERROR`
    /// when the book has no GEMs.
    ///
    /// ```js
    /// book.crosswalk('250.00', 'icd9_to_icd10')
    /// // [{ source: '250.00', target: 'E11.9', approximate: true, noMap: false, combination: false, ... }]
    /// ```
    #[napi(catch_unwind, strict)]
    pub fn crosswalk(&self, env: &Env, code: String, direction: String) -> Result<Vec<Mapping>> {
        or_throw(env, crosswalk(&self.book, &code, &direction))
    }
}

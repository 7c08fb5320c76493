//! `Book.search` and `Book.searchAsync`: the core's [`codelookup::search`] (codes, code
//! prefixes and words, with autocomplete, typos and abbreviations), with its options and hits
//! as plain objects. Match spans are converted to UTF-16 offsets, JavaScript's string indices.

use codelookup::search as core;
use codelookup::Error as CoreError;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::book::Book;
use crate::code::{parse_systems, System};
use crate::error::{or_throw, whole, MAX_SAFE_INTEGER};
use crate::record::parse_date;
use crate::tasks::{HitsTask, Work};

/// Options of `Book.search`; every field is optional.
#[napi(object)]
#[derive(Clone, Debug, Default)]
pub struct SearchOptions {
    /// Only these code systems (default: all).
    pub systems: Option<Vec<String>>,
    /// `true`: only billable codes; `false`: only codes that are not billable (headers,
    /// modifiers, terminated HCPCS codes); omitted or `null`: both.
    pub billable: Option<Either<bool, Null>>,
    /// Only codes from the first to the second code, inclusive, in any spelling; a code that
    /// begins with the second is inside (`['E08', 'E13']` holds `E13.9`).
    pub range: Option<(String, String)>,
    /// Only codes of this ICD-10-CM chapter (1 to 22).
    pub chapter: Option<f64>,
    /// Only codes valid on a claim with this date of service, `"YYYY-MM-DD"`.
    pub date: Option<String>,
    /// Hits per page, at most 1000 (default 20).
    pub limit: Option<f64>,
    /// Hits to skip, at most 10000 (default 0).
    pub offset: Option<f64>,
}

/// The field of a code that a hit matched: the `code` itself (exact or prefix), the `title`,
/// the `short_title`, an ICD-10-CM `inclusion_term`, or an `abbreviation` whose expansion
/// matched.
#[napi(string_enum)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchField {
    #[napi(value = "code")]
    Code,
    #[napi(value = "title")]
    Title,
    #[napi(value = "short_title")]
    ShortTitle,
    #[napi(value = "inclusion_term")]
    InclusionTerm,
    #[napi(value = "abbreviation")]
    Abbreviation,
}

impl From<core::MatchField> for MatchField {
    fn from(m: core::MatchField) -> MatchField {
        match m {
            core::MatchField::Code => MatchField::Code,
            core::MatchField::Title => MatchField::Title,
            core::MatchField::ShortTitle => MatchField::ShortTitle,
            core::MatchField::InclusionTerm => MatchField::InclusionTerm,
            core::MatchField::Abbreviation => MatchField::Abbreviation,
        }
    }
}

/// One search result.
#[napi(object, use_nullable = true)]
#[derive(Clone, Debug)]
pub struct Hit {
    /// Canonical spelling (`E11.9`).
    pub code: String,
    /// The code system.
    pub system: System,
    /// Official title.
    pub title: String,
    /// Whether the code is valid on a claim.
    pub billable: bool,
    /// Relevance, higher is better: 1000 exact code, 900 code prefix, 400-490 every word
    /// matched exactly, 200-290 with one typo, 100-190 with more.
    pub score: u32,
    /// Which field matched.
    pub matched: MatchField,
    /// The text the spans refer to: the code, title, short title or inclusion term.
    pub matched_text: String,
    /// Matched parts of `matchedText` as `[start, end)` string indices (UTF-16, as
    /// `String.prototype.slice` takes them), sorted and not overlapping.
    pub spans: Vec<(u32, u32)>,
}

impl From<core::Hit> for Hit {
    fn from(h: core::Hit) -> Hit {
        let core::Hit { code, system, title, billable, score, matched, matched_text, spans } = h;
        let spans = utf16_spans(&matched_text, &spans);
        let (title, matched_text) = (title.to_string(), matched_text.to_string());
        Hit { code, system: system.into(), title, billable, score, matched: matched.into(), matched_text, spans }
    }
}

/// Converts `[start, end)` offsets in `char`s into offsets in UTF-16 code units.
fn utf16_spans(text: &str, spans: &[(usize, usize)]) -> Vec<(u32, u32)> {
    let units = |n: usize| -> u32 {
        let n16: usize = if text.is_ascii() { n.min(text.len()) } else { text.chars().take(n).map(char::len_utf16).sum() };
        u32::try_from(n16).unwrap_or(u32::MAX)
    };
    spans.iter().map(|&(start, end)| (units(start), units(end))).collect()
}

fn options(options: Option<SearchOptions>) -> codelookup::Result<core::SearchOptions> {
    let SearchOptions { systems, billable, range, chapter, date, limit, offset } = options.unwrap_or_default();
    let defaults = core::SearchOptions::default();
    Ok(core::SearchOptions {
        systems: parse_systems(systems.as_deref().unwrap_or_default())?,
        billable: match billable {
            Some(Either::A(b)) => Some(b),
            _ => None,
        },
        range,
        chapter: chapter
            .map(|c| {
                let c = whole("chapter", c, MAX_SAFE_INTEGER)?;
                u8::try_from(c).map_err(|_| CoreError::InvalidArgument(format!("unknown chapter {c} (1 to 22)")))
            })
            .transpose()?,
        date: date.as_deref().map(parse_date).transpose()?,
        limit: count("limit", limit)?.unwrap_or(defaults.limit),
        offset: count("offset", offset)?.unwrap_or(defaults.offset),
    })
}

/// A page size or offset (the core checks the maximum).
fn count(what: &str, n: Option<f64>) -> codelookup::Result<Option<usize>> {
    n.map(|n| whole(what, n, MAX_SAFE_INTEGER).map(|n| usize::try_from(n).unwrap_or(usize::MAX))).transpose()
}

fn search(book: &codelookup::Book, query: &str, opts: Option<SearchOptions>) -> codelookup::Result<Vec<Hit>> {
    let opts = options(opts)?;
    Ok(book.search(query, &opts)?.into_iter().map(Hit::from).collect())
}

#[napi]
impl Book {
    /// Searches the book by code, code prefix or words, as a coder types: every word must
    /// match, the last one also as a prefix (autocomplete); typos, abbreviations (`chf`) and
    /// ICD-10-CM inclusion terms are understood. Hits are ranked best first.
    ///
    /// Throws `INVALID_ARGUMENT` for a limit or offset out of range, an unknown chapter, a
    /// malformed range or date, or an overlong query; `UNKNOWN_SYSTEM` for an unknown system.
    /// An empty query finds nothing. A few microseconds for a code or selective words, at most
    /// about a millisecond for broad or misspelt queries.
    ///
    /// ```js
    /// book.search('type 2 diab', { systems: ['icd10cm'], billable: true, limit: 5 })
    /// // [{ code: 'E11.9', title: 'Type 2 diabetes mellitus without complications', ... }, ...]
    /// ```
    #[napi(catch_unwind, strict)]
    pub fn search(&self, env: &Env, query: String, options: Option<SearchOptions>) -> Result<Vec<Hit>> {
        or_throw(env, search(&self.book, &query, options))
    }

    /// Like `search`, on the libuv pool.
    #[napi(strict)]
    pub fn search_async(&self, query: String, options: Option<SearchOptions>) -> AsyncTask<HitsTask> {
        let book = self.book.clone();
        AsyncTask::new(HitsTask(Work::new(move || search(&book, &query, options))))
    }
}

#[cfg(test)]
mod tests {
    use super::utf16_spans;

    #[test]
    fn spans_count_utf16_units() {
        assert_eq!(utf16_spans("Gastro reflux", &[(0, 6), (7, 13)]), [(0, 6), (7, 13)]);
        // 'é' is one unit, '𝄞' two.
        assert_eq!(utf16_spans("é𝄞 ab", &[(0, 1), (1, 2), (3, 5)]), [(0, 1), (1, 3), (4, 6)]);
        assert_eq!(utf16_spans("ab", &[(0, 9)]), [(0, 2)]);
    }
}

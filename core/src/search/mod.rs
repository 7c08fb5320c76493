//! Search: find codes by code prefix or by words, as a coder types.
//!
//! ```
//! use codelookup::search::{MatchField, SearchOptions};
//!
//! let book = codelookup::Book::open_default()?;
//! // Words: every word must match, the last one also as a prefix (autocomplete).
//! let hits = book.search("type 2 diab", &SearchOptions::default())?;
//! assert!(hits.iter().take(5).any(|h| h.code == "E11.9"));
//! // A code or code prefix, in any spelling.
//! let hits = book.search("e116", &SearchOptions::default())?;
//! assert_eq!(hits[0].code, "E11.6");
//! assert_eq!(hits[0].matched, MatchField::Code);
//! // Typos and abbreviations.
//! assert_eq!(book.search("hypertenson", &SearchOptions::default())?[0].code, "I10");
//! assert!(book.search("chf", &SearchOptions::default())?.iter().take(5).any(|h| h.code == "I50.9"));
//! # Ok::<(), codelookup::Error>(())
//! ```
//!
//! What is searched:
//! - **codes**: a query that looks like a code (`E11.6`, `e116`, `0DTJ`, `J11`) lists that code
//!   and the codes it begins, in code order (an fst range over the normalised codes);
//! - **words** of each code's official title, short title and ICD-10-CM inclusion terms, folded
//!   for case, punctuation and diacritics (`covid-19`, `Gastro-esophageal`); every query word
//!   must match (AND); the last one also matches as a prefix unless the query ends in a space;
//! - **abbreviations** coders type (`CHF`, `COPD`, `T2DM`), from a reviewed file (see
//!   `search/abbreviations.tsv`), as well as each word literally;
//! - **typos**: when the exact matches do not fill the requested page, words of 5 letters or
//!   more may have one edit, of 9 or more two (a walk of a trie of the term dictionary with the
//!   edit-distance table; two edits only when one does not fill the page). Exact matches always
//!   rank above fuzzy ones, one edit above two.
//!
//! Ranking (see [`Hit::score`]): exact code, code prefix, a text that *is* the query, title
//! phrase, all words in the title, words in a short title or inclusion term, then anything with
//! typos; at equal score, fewer words, billable and shorter first, then code order. The order
//! is fully deterministic.
//!
//! Cost: a code or a selective query takes a few microseconds; broad one- or two-letter
//! prefixes and typo expansion take longer, bounded by caps on the words used, the typo
//! expansions and the candidate texts examined (see BENCHMARKS.md).

mod bound;
mod index;
mod query;
mod rank;
mod synonyms;
mod tokenize;
mod typo;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use std::cell::Cell;
use std::sync::Arc;

use crate::book::{Book, NodeId};
use crate::code::{Key, System};
use crate::error::{Error, Result};
use crate::record::NodeKind;

pub(crate) use index::SearchIndex;
pub use query::{MAX_QUERY_BYTES, MAX_QUERY_WORDS};
use rank::{Field, TextHit};
use tokenize::Tokens;

/// Largest [`SearchOptions::limit`].
pub const MAX_LIMIT: usize = 1000;
/// Largest [`SearchOptions::offset`].
pub const MAX_OFFSET: usize = 10_000;

/// Candidate texts ranked per query at least (more when a deep page is asked for).
const MIN_CANDIDATES: usize = 100;
/// Most codes read from a code-prefix range.
const MAX_CODE_SCAN: usize = 50_000;

/// Options of [`Book::search`]. Every field has a default, so JSON may give any subset.
///
/// ```
/// use codelookup::search::SearchOptions;
/// use codelookup::System;
///
/// let opts = SearchOptions { systems: vec![System::Icd10cm], billable: Some(true), limit: 5, ..Default::default() };
/// assert_eq!(opts.offset, 0);
/// let from_json: SearchOptions = serde_json::from_str(r#"{"chapter": 4, "limit": 10}"#).unwrap();
/// assert_eq!(from_json.chapter, Some(4));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchOptions {
    /// Only these code systems (empty: all).
    pub systems: Vec<System>,
    /// `Some(true)`: only billable codes; `Some(false)`: only codes that are not billable
    /// (headers, modifiers, terminated HCPCS codes); `None`: both.
    pub billable: Option<bool>,
    /// Only codes from the first to the second code, inclusive, in any spelling; a code that
    /// begins with the second is inside (`("E08", "E13")` holds `E13.9`).
    pub range: Option<(String, String)>,
    /// Only codes of this ICD-10-CM chapter (1 to 22).
    pub chapter: Option<u8>,
    /// Only codes valid on a claim with this date of service (see [`Book::valid_on`]).
    pub date: Option<chrono::NaiveDate>,
    /// Hits per page, at most [`MAX_LIMIT`] (default 20).
    pub limit: usize,
    /// Hits to skip, at most [`MAX_OFFSET`].
    pub offset: usize,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions { systems: Vec::new(), billable: None, range: None, chapter: None, date: None, limit: 20, offset: 0 }
    }
}

/// The field of a code that a hit matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchField {
    /// The code itself (exact or prefix); `matched_text` is the code.
    Code,
    /// The official (long) title.
    Title,
    /// The official short title (a word of it that the title lacks was needed).
    ShortTitle,
    /// An ICD-10-CM inclusion term, a synonym of the code.
    InclusionTerm,
    /// A query word was an abbreviation whose expansion matched; `matched_text` is the title or
    /// inclusion term holding the expansion.
    Abbreviation,
}

/// One search result.
///
/// `matched_text` shares the title's string when the title matched, and an inclusion term's
/// with the book: a hit on words costs its caller three allocations (code, title, spans)
/// rather than four, and a code hit four. (A host's heap is often busy: each allocation a
/// search makes shows in its latency; see BENCHMARKS.md, Round 9.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// Canonical spelling (`E11.9`, `0DTJ4ZZ`, `J1100`).
    pub code: String,
    /// The code system.
    pub system: System,
    /// Official title.
    pub title: Arc<str>,
    /// Whether the code is valid on a claim.
    pub billable: bool,
    /// Relevance, higher is better; hits are sorted by it (then by the tie rules). 1000 exact
    /// code, 900 code prefix, 400-490 every word matched exactly, 200-290 with one typo,
    /// 100-190 with more (see the `rank` module for the table).
    pub score: u32,
    /// Which field matched.
    pub matched: MatchField,
    /// The text the spans refer to: the code, title (the same string as `title`), short title
    /// or inclusion term.
    pub matched_text: Arc<str>,
    /// Matched parts of `matched_text` as `[start, end)` offsets in Unicode scalar values
    /// (`char`s; Python string indices), sorted and not overlapping. The bindings convert them
    /// where a language counts otherwise (UTF-16 in JavaScript).
    pub spans: Vec<(usize, usize)>,
}

/// Size of a book's search index (see [`Book::search_index_stats`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchIndexStats {
    /// Distinct words (and compounds) in the term dictionary.
    pub terms: usize,
    /// Searchable texts: one per code (title with short title) and one per inclusion term.
    pub texts: usize,
    /// Abbreviations of the abbreviation file whose expansion the book holds.
    pub abbreviations: usize,
    /// Bytes the index holds in memory.
    pub heap_bytes: usize,
}

/// A ranked candidate: a node and how it matched.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    node: NodeId,
    score: u32,
    /// Order among equal scores (code order for codes, text id for words).
    tie: u64,
    how: How,
}

#[derive(Clone, Copy, Debug)]
enum How {
    /// Code match; the length of the matched key prefix.
    Code(usize),
    Text(TextHit),
}

/// The node filters of a search.
struct Filter {
    systems: Vec<System>,
    billable: Option<bool>,
    range: Option<(Key, Key)>,
    nodes: Option<std::ops::Range<NodeId>>,
    date: Option<chrono::NaiveDate>,
}

impl Book {
    /// Searches the book by code, code prefix or words; see the [`search`](crate::search)
    /// module for what matches and how hits are ranked.
    ///
    /// Errors: [`Error::InvalidArgument`] for a limit or offset out of range, an unknown
    /// chapter, a malformed range, or a query longer than [`MAX_QUERY_BYTES`] or with more than
    /// [`MAX_QUERY_WORDS`] words. An empty query, or one of punctuation only, finds nothing.
    ///
    /// Cost: a few microseconds for a code or selective words; at most about a millisecond
    /// (bounded candidate and typo work) for broad or misspelt queries.
    ///
    /// ```
    /// use codelookup::search::{MatchField, SearchOptions};
    /// use codelookup::System;
    ///
    /// let book = codelookup::Book::open_default()?;
    /// let opts = SearchOptions { systems: vec![System::Icd10cm], billable: Some(true), ..Default::default() };
    /// let hits = book.search("Gastro-esophageal reflux", &opts)?;
    /// assert_eq!(hits[0].code, "K21.9");
    /// assert_eq!(hits[0].matched, MatchField::Title);
    /// assert_eq!(hits[0].spans, [(0, 24)]);
    /// # Ok::<(), codelookup::Error>(())
    /// ```
    pub fn search(&self, query: &str, options: &SearchOptions) -> Result<Vec<Hit>> {
        self.search_with(query, options, true)
    }

    /// [`Book::search`]; with `prune`, candidates that cannot reach the page are not ranked
    /// (see [`rank::collect`]), which gives the same hits (the tests compare both).
    fn search_with(&self, query: &str, options: &SearchOptions, prune: bool) -> Result<Vec<Hit>> {
        Buffers::with(|buffers| self.search_in(query, options, prune, buffers))
    }

    /// [`Book::search_with`] with the buffers it needs.
    fn search_in(&self, query: &str, options: &SearchOptions, prune: bool, buffers: &mut Buffers) -> Result<Vec<Hit>> {
        if options.limit > MAX_LIMIT {
            return Err(Error::InvalidArgument(format!("limit {} is above the maximum {MAX_LIMIT}", options.limit)));
        }
        if options.offset > MAX_OFFSET {
            return Err(Error::InvalidArgument(format!("offset {} is above the maximum {MAX_OFFSET}", options.offset)));
        }
        if query.len() > MAX_QUERY_BYTES {
            return Err(Error::InvalidArgument(format!("query is {} bytes long; the limit is {MAX_QUERY_BYTES}", query.len())));
        }
        let filter = self.filter(options)?;
        let need = options.offset + options.limit;
        if options.limit == 0 {
            return Ok(Vec::new());
        }
        let index = self.search_index();
        // Without filters every node of the index is accepted: no node is read to say so.
        let open = filter.is_open();
        let accept = |node: NodeId| open || filter.accepts(self, node);

        let Buffers { scratch, cands, tok } = buffers;
        let mut q = query::parse(index, query, tok)?;
        // An abbreviation that is also the start of codes (`dm2`) lists the exact code only.
        let abbreviation = q.slots.len() == 1 && q.slots[0].alts.iter().any(|a| a.abbreviation);
        cands.clear();
        self.code_candidates(query, &accept, need, !abbreviation, cands);
        if !q.slots.is_empty() && cands.len() < need {
            let cap = MIN_CANDIDATES.max(5 * need);
            let page = if prune { need } else { 0 };
            rank::collect(index, &q, &accept, cap, page, scratch);
            if scratch.distinct_nodes(0) + cands.len() < need {
                query::add_fuzzy(index, &mut q, 1);
                rank::collect(index, &q, &accept, cap, page, scratch);
                // Two edits only when hits with at most one do not fill the page: they rank
                // below every hit with one edit or none.
                if query::more_edits_possible(&q, 1) && scratch.distinct_nodes(rank::ONE_EDIT) + cands.len() < need {
                    query::add_fuzzy(index, &mut q, 2);
                    rank::collect(index, &q, &accept, cap, page, scratch);
                }
            }
            cands.extend(scratch.hits.iter().map(|t| Candidate {
                node: t.meta.node,
                score: t.score,
                tie: t.text as u64,
                how: How::Text(*t),
            }));
        }
        // Best match per code, then rank: only the first `need` in order. (No two candidates
        // have the same node and tie, so unstable sorts give the one order.)
        cands.sort_unstable_by(|a, b| a.node.cmp(&b.node).then(b.score.cmp(&a.score)).then(a.tie.cmp(&b.tie)));
        cands.dedup_by_key(|c| c.node);
        let rank = |a: &Candidate, b: &Candidate| b.score.cmp(&a.score).then(a.tie.cmp(&b.tie)).then(a.node.cmp(&b.node));
        if cands.len() > need {
            cands.select_nth_unstable_by(need - 1, rank);
            cands.truncate(need);
        }
        cands.sort_unstable_by(rank);

        let span_filter = SpanFilter::new(&q);
        Ok(cands.iter().skip(options.offset).take(options.limit).map(|c| self.hit(c, &q, &span_filter, tok)).collect())
    }

    /// The size of this book's search index.
    ///
    /// ```
    /// let stats = codelookup::Book::open_default()?.search_index_stats();
    /// assert!(stats.terms > 10_000 && stats.abbreviations > 50);
    /// # Ok::<(), codelookup::Error>(())
    /// ```
    pub fn search_index_stats(&self) -> SearchIndexStats {
        let i = self.search_index();
        SearchIndexStats { terms: i.term_count(), texts: i.text_count(), abbreviations: i.abbreviations.len(), heap_bytes: i.heap_bytes() }
    }

    /// Adds to `out` the exact and prefix code matches of a query that looks like a code.
    fn code_candidates(&self, query: &str, accept: &dyn Fn(NodeId) -> bool, need: usize, prefixes: bool, out: &mut Vec<Candidate>) {
        let Some(key) = code_key(query) else { return };
        let nodes = &self.data().nodes;
        // Only ICD-10-CM codes are written with a dot: `E11.6` is not HCPCS E1160.
        let dotted = query.contains('.');
        let accept = |id: NodeId| accept(id) && (!dotted || nodes[id as usize].system == System::Icd10cm);
        // Among equal codes: the system whose own spelling was typed (`j1100` is HCPCS J1100
        // before ICD-10-CM J11.00), then billable first, then system order.
        let typed = query.trim().trim_end_matches('.');
        let order = |id: &NodeId| {
            let n = nodes.at(*id);
            (!n.system.spells(n.key(), typed), !n.billable, n.system)
        };
        let mut exact: SmallVec<[NodeId; 4]> = self.index().get(key.as_bytes()).iter().copied().filter(|&id| accept(id)).collect();
        exact.sort_by_key(order);
        out.extend(exact.into_iter().enumerate().map(|(i, node)| Candidate {
            node,
            score: 1000,
            tie: i as u64,
            how: How::Code(key.as_str().len()),
        }));
        // A prefix only when the query has a digit: letters alone are words (`cat`, `hip`).
        if !prefixes || !key.as_bytes().iter().any(u8::is_ascii_digit) {
            return;
        }
        let mut scanned = 0;
        let mut tie = 0u64;
        let mut found = 0;
        self.index().for_each_prefixed(key.as_bytes(), |k, ids| {
            scanned += 1;
            if k.len() > key.as_bytes().len() {
                let mut ids: SmallVec<[NodeId; 4]> = ids.iter().copied().filter(|&id| accept(id)).collect();
                ids.sort_by_key(order);
                for node in ids {
                    out.push(Candidate { node, score: 900, tie, how: How::Code(key.as_str().len()) });
                    tie += 1;
                    found += 1;
                }
            }
            found < need && scanned < MAX_CODE_SCAN
        });
    }

    fn filter(&self, o: &SearchOptions) -> Result<Filter> {
        let range = match &o.range {
            None => None,
            Some((from, to)) => {
                let parse = |s: &str, which: &str| {
                    Key::parse(s).map_err(|e| {
                        Error::InvalidArgument(format!("range {which} {:?} is not a code: {e}", crate::code::truncate_for_message(s)))
                    })
                };
                let (from, to) = (parse(from, "start")?, parse(to, "end")?);
                if from.as_bytes() > to.as_bytes() {
                    return Err(Error::InvalidArgument(format!("range start {from} is after its end {to}")));
                }
                Some((from, to))
            }
        };
        let nodes = match o.chapter {
            None => None,
            Some(ch) => {
                let data = self.data();
                let want = ch.to_string();
                let id = data
                    .nodes
                    .iter()
                    .position(|n| n.kind == NodeKind::Chapter && n.system == System::Icd10cm && n.key() == &*want)
                    .ok_or_else(|| Error::InvalidArgument(format!("the book has no ICD-10-CM chapter {ch}")))?;
                Some(id as NodeId + 1..data.nodes[id].end)
            }
        };
        Ok(Filter { systems: o.systems.clone(), billable: o.billable, range, nodes, date: o.date })
    }

    /// Builds the hit of a ranked candidate, with its spans.
    fn hit(&self, c: &Candidate, q: &query::Query, span_filter: &SpanFilter, tok: &mut Tokens) -> Hit {
        let data = self.data();
        let n = data.nodes.at(c.node);
        let code = n.code();
        let title: Arc<str> = n.with_title(|t| Arc::from(t));
        let (matched, matched_text, spans) = match c.how {
            How::Code(prefix) => {
                // The span covers the dot the official spelling puts inside the typed prefix.
                let dotted = n.system.dotted(n.key().get(..prefix).unwrap_or_default());
                let shown = prefix + usize::from(dotted);
                let len = code.chars().count();
                (MatchField::Code, Arc::from(code.as_str()), vec![(0, shown.min(len))])
            }
            How::Text(t) => {
                let text: Arc<str> = if t.meta.source > 0 {
                    data.notes
                        .get(&c.node)
                        .and_then(|v| v.get(t.meta.source as usize - 1))
                        .map_or_else(|| Arc::from(""), |(_, s)| s.clone())
                } else if t.field == Field::ShortTitle && n.has_short_title() {
                    n.with_short_title(|t| Arc::from(t))
                } else {
                    title.clone()
                };
                let field = match (t.abbreviation, t.field) {
                    (true, _) => MatchField::Abbreviation,
                    (_, Field::Title) => MatchField::Title,
                    (_, Field::ShortTitle) => MatchField::ShortTitle,
                    (_, Field::InclusionTerm) => MatchField::InclusionTerm,
                };
                let spans = spans(q, span_filter, &text, tok);
                (field, text, spans)
            }
        };
        Hit { code, system: n.system, title, billable: n.billable, score: c.score, matched, matched_text, spans }
    }
}

impl Filter {
    /// Whether the filter lets every node through.
    fn is_open(&self) -> bool {
        self.systems.is_empty() && self.billable.is_none() && self.range.is_none() && self.nodes.is_none() && self.date.is_none()
    }

    fn accepts(&self, book: &Book, id: NodeId) -> bool {
        let Some(n) = book.data().nodes.get(id as usize) else { return false };
        if !self.systems.is_empty() && !self.systems.contains(&n.system) {
            return false;
        }
        if self.billable.is_some_and(|b| b != n.billable) {
            return false;
        }
        if self.nodes.as_ref().is_some_and(|r| !r.contains(&id)) {
            return false;
        }
        if self.date.is_some_and(|d| !book.node_valid_on(id, d)) {
            return false;
        }
        if let Some((from, to)) = &self.range {
            let k = n.key().as_bytes();
            let head = &k[..k.len().min(to.as_bytes().len())];
            if k < from.as_bytes() || head > to.as_bytes() {
                return false;
            }
        }
        true
    }
}

/// Buffers a search uses, kept by each thread from one search to the next: a search then
/// allocates little besides the hits it returns (in a host's busy heap every allocation costs:
/// see BENCHMARKS.md, Round 9).
#[derive(Default)]
struct Buffers {
    scratch: rank::Scratch,
    cands: Vec<Candidate>,
    tok: Tokens,
}

impl Buffers {
    /// Runs `f` with this thread's buffers (empty ones if they are in use or gone), then keeps
    /// them for the next search, less what a large search left large.
    fn with<R>(f: impl FnOnce(&mut Buffers) -> R) -> R {
        thread_local! {
            static BUFFERS: Cell<Buffers> = Cell::new(Buffers::default());
        }
        let mut buffers = BUFFERS.try_with(Cell::take).unwrap_or_default();
        let out = f(&mut buffers);
        buffers.trim();
        // (Fails only while the thread is ending: the buffers are then dropped.)
        let _ = BUFFERS.try_with(|b| b.set(buffers));
        out
    }

    fn trim(&mut self) {
        self.scratch.trim();
        if self.cands.capacity() > rank::KEEP_ENTRIES {
            self.cands = Vec::new();
        }
        self.tok.trim();
    }
}

/// The normalised key of a query that looks like one code (`E11.6`, `e116`, `0dtj`, `J11.`).
fn code_key(query: &str) -> Option<Key> {
    let t = query.trim();
    let t = t.strip_suffix('.').unwrap_or(t);
    if t.len() > 8 || t.contains(char::is_whitespace) {
        return None;
    }
    Key::parse(t).ok()
}

/// The first bytes of every word a hit's span can match (a query's words, typo expansions and
/// alternatives' words): a text word that begins otherwise matches nothing.
struct SpanFilter([u64; 4]);

impl SpanFilter {
    fn new(q: &query::Query) -> SpanFilter {
        let mut bits = [0u64; 4];
        for slot in &q.slots {
            let alts = slot.alts.iter().flat_map(|a| &a.words);
            for w in std::iter::once(&slot.word).chain(&slot.fuzzy_words).chain(alts) {
                match w.as_bytes().first() {
                    Some(&b) => bits[usize::from(b / 64)] |= 1 << (b % 64),
                    // An empty word would match (as a prefix) anything.
                    None => return SpanFilter([u64::MAX; 4]),
                }
            }
        }
        SpanFilter(bits)
    }

    /// Whether a text word (folded, or ASCII in any case) may match.
    fn may_match(&self, w: &[u8]) -> bool {
        w.first().map(u8::to_ascii_lowercase).is_some_and(|b| self.0[usize::from(b / 64)] >> (b % 64) & 1 == 1)
    }
}

/// The span of one word of a text (`w` folded, or ASCII in any case: the query's words are
/// folded, so comparing them ignoring ASCII case is comparing the folded word; chars `[s, e)`)
/// that matches the query: the first slot whose word, typo expansion or used alternative's word
/// it is, or whose word it begins (the last query word: the typed part only).
fn word_span(q: &query::Query, w: &[u8], (s, e): (u32, u32)) -> Option<(usize, usize)> {
    let (s, e) = (s as usize, e as usize);
    let is = |x: &str| x.as_bytes().eq_ignore_ascii_case(w);
    for slot in &q.slots {
        let whole = is(&slot.word) || slot.fuzzy_words.iter().any(|f| is(f)) || slot.alts.iter().any(|a| a.words.iter().any(|x| is(x)));
        if whole {
            return Some((s, e));
        }
        let p = slot.word.as_bytes();
        if slot.prefix.is_some() && w.get(..p.len()).is_some_and(|head| head.eq_ignore_ascii_case(p)) {
            return Some((s, (s + slot.word.chars().count()).min(e)));
        }
    }
    None
}

/// The spans of `text` that match the query: every word equal to a query word, one of its typo
/// expansions or a word of a used alternative; the typed part of a word the last query word
/// begins. (An ASCII text, nearly every one, is read word by word without a full tokenising.)
fn spans(q: &query::Query, filter: &SpanFilter, text: &str, tok: &mut Tokens) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut add = |w: &[u8], chars: (u32, u32)| {
        if let Some(span) = filter.may_match(w).then(|| word_span(q, w, chars)).flatten() {
            out.push(span);
        }
    };
    let ascii = tokenize::ascii_words(text, &mut add);
    if !ascii {
        tok.tokenize(text);
        for t in &tok.list {
            add(tok.word(t).as_bytes(), t.chars);
        }
    }
    out.sort_unstable();
    // Spans that overlap or are apart only by white space become one (a phrase is one span),
    // merged in place.
    let chars: Vec<char> = if out.len() > 1 && !ascii { text.chars().collect() } else { Vec::new() };
    let gap_is_space = |from: usize, to: usize| {
        if ascii {
            text.as_bytes().get(from..to).is_some_and(|gap| gap.iter().all(|&b| char::from(b).is_whitespace()))
        } else {
            chars.get(from..to).is_some_and(|gap| gap.iter().all(|c| c.is_whitespace()))
        }
    };
    let mut kept: usize = 0;
    for i in 0..out.len() {
        let (s, e) = out[i];
        match kept.checked_sub(1).map(|last| &mut out[last]) {
            Some(last) if s <= last.1 || gap_is_space(last.1, s) => last.1 = last.1.max(e),
            _ => {
                out[kept] = (s, e);
                kept += 1;
            }
        }
    }
    out.truncate(kept);
    out
}

#[cfg(test)]
mod tests;

//! From a query string to *slots*: one per query word, each the set of index terms that satisfy
//! it. A slot is satisfied by its exact word; for the last word (and for an earlier one that is
//! no word of the book), also by any word it begins (autocomplete); by an abbreviation's
//! expansion or a compound's parts (all words present); and, once the query is relaxed because
//! the exact matches do not fill the page, by any word it begins and by the words within its
//! edit budget.
//!
//! Typo budget (Damerau-Levenshtein, a transposition is one edit): none below 5 letters, 1 edit
//! from 5, 2 from 9 (the Meilisearch rule); no typos in numbers. Expansions per word are capped
//! (fewest edits, then the most frequent words first).

use std::ops::Range;

use super::index::{SearchIndex, TermId};
use super::tokenize::Tokens;
use crate::error::{Error, Result};

/// Longest query accepted, in bytes; a longer one is an [`Error::InvalidArgument`].
pub const MAX_QUERY_BYTES: usize = 1024;
/// Most words (after function words are dropped) in a query; more is an
/// [`Error::InvalidArgument`].
pub const MAX_QUERY_WORDS: usize = 32;
/// Most typo expansions kept per word.
const MAX_FUZZY_TERMS: usize = 32;
/// Most dictionary terms a typo search may find before giving up on more.
const MAX_FUZZY_SCAN: usize = 256;
/// Most query words that get typo expansions (the longest ones).
const MAX_FUZZY_WORDS: usize = 6;

/// An alternative way to satisfy a slot: every term present.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Alt {
    pub terms: Vec<TermId>,
    pub words: Vec<String>,
    /// An abbreviation's expansion (rather than a compound's parts).
    pub abbreviation: bool,
}

/// One query word.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Slot {
    /// The folded word.
    pub word: String,
    pub exact: Option<TermId>,
    /// For the last word (when the query does not end in a separator): terms it begins.
    pub prefix: Option<Range<TermId>>,
    /// Typo expansions (term, edits), sorted by term.
    pub fuzzy: Vec<(TermId, u8)>,
    pub fuzzy_words: Vec<String>,
    /// The edits the typo expansions were searched with (0: none yet).
    pub fuzzy_edits: u8,
    pub alts: Vec<Alt>,
}

impl Slot {
    fn last(&self) -> bool {
        self.prefix.is_some()
    }

    /// Whether no term satisfies the slot, so that no text satisfies the query.
    fn is_dead(&self) -> bool {
        self.exact.is_none() && self.prefix.is_none() && self.alts.is_empty() && self.fuzzy.is_empty()
    }
}

/// A parsed query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Query {
    pub slots: Vec<Slot>,
    /// Whether typo expansions have been added.
    pub fuzzy: bool,
}

/// Parses a query against an index (`tok` a buffer). Errors only for over-long queries.
pub(crate) fn parse(index: &SearchIndex, query: &str, tok: &mut Tokens) -> Result<Query> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(Error::InvalidArgument(format!("query is {} bytes long; the limit is {MAX_QUERY_BYTES}", query.len())));
    }
    tok.tokenize(query);
    let mut slots: Vec<Slot> = Vec::new();
    for t in &tok.list {
        let word = tok.word(t).to_string();
        if t.parts == 0 {
            slots.push(Slot { exact: index.term(&word), word, ..Slot::default() });
            continue;
        }
        // A compound follows its parts: it replaces them, with the parts as an alternative.
        let parts = slots.split_off(slots.len().saturating_sub(t.parts as usize));
        let terms: Option<Vec<TermId>> = parts.iter().map(|p| p.exact).collect();
        let mut slot = Slot { exact: index.term(&word), word, ..Slot::default() };
        if let Some(terms) = terms {
            slot.alts.push(Alt { terms, words: parts.into_iter().map(|p| p.word).collect(), abbreviation: false });
        }
        slots.push(slot);
    }
    if slots.len() > MAX_QUERY_WORDS {
        return Err(Error::InvalidArgument(format!("query has {} words; the limit is {MAX_QUERY_WORDS}", slots.len())));
    }
    for slot in &mut slots {
        for e in index.abbreviations.get(&slot.word) {
            slot.alts.push(Alt { terms: e.terms.clone(), words: e.words.clone(), abbreviation: true });
        }
    }
    // The last word is a prefix unless the query ends with a separator ("heart " is complete);
    // an earlier word that is no word of the book is taken as a prefix too ("osteoarth kn").
    let open_end = query.chars().next_back().is_some_and(char::is_alphanumeric);
    let n = slots.len();
    for (i, slot) in slots.iter_mut().enumerate() {
        if (i + 1 == n && open_end) || (slot.exact.is_none() && slot.alts.is_empty()) {
            let r = index.prefix_range(&slot.word);
            if !r.is_empty() {
                slot.prefix = Some(r);
            }
        }
    }
    Ok(Query { slots, fuzzy: false })
}

/// The typo budget of a word.
pub(crate) fn typo_budget(word: &str) -> u8 {
    if word.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    match word.chars().count() {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// Relaxes a query that found too little: every word of 3 letters or more also matches as a
/// prefix, and the words that have a typo budget get typo expansions of at most `max_edits`
/// edits within their budget (the longest words first, at most `MAX_FUZZY_WORDS` words).
/// Called with 1 and then, when one-edit matches do not fill the page, with 2: a text with two
/// edits always ranks below one with one, so the costlier two-edit search is needed only then.
/// Stops once a word is left that nothing satisfies (every word must match, so no text can):
/// a query of misspelt gibberish costs one typo search, not one per word.
pub(crate) fn add_fuzzy(index: &SearchIndex, q: &mut Query, max_edits: u8) {
    q.fuzzy = true;
    // Every word of 3 letters or more may now be a prefix too ("osteoarth knee", where
    // `osteoarth` is also a short-title word).
    for slot in &mut q.slots {
        if slot.prefix.is_none() && slot.word.chars().count() >= 3 {
            let r = index.prefix_range(&slot.word);
            if !r.is_empty() {
                slot.prefix = Some(r);
            }
        }
    }
    let fuzzy = fuzzy_words(q);
    if q.slots.iter().enumerate().any(|(i, s)| s.is_dead() && !fuzzy.contains(&i)) {
        return;
    }
    for i in fuzzy {
        let slot = &mut q.slots[i];
        let d = typo_budget(&slot.word).min(max_edits);
        if d > slot.fuzzy_edits {
            expand(index, slot, d);
        }
        if slot.is_dead() {
            return;
        }
    }
}

/// Gives a slot the typo expansions of at most `d` edits (the fewest edits, then the most
/// frequent words first; at most `MAX_FUZZY_TERMS`).
fn expand(index: &SearchIndex, slot: &mut Slot, d: u8) {
    slot.fuzzy_edits = d;
    let mut found: Vec<(u8, u32, TermId, String)> = index
        .near(&slot.word, d, slot.last(), MAX_FUZZY_SCAN)
        .into_iter()
        .filter(|&(term, _, _)| Some(term) != slot.exact && !slot.prefix.as_ref().is_some_and(|r| r.contains(&term)))
        .map(|(term, e, word)| (e, index.df(term), term, word))
        .collect();
    found.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    found.truncate(MAX_FUZZY_TERMS);
    found.sort_unstable_by_key(|f| f.2);
    slot.fuzzy = found.iter().map(|f| (f.2, f.0)).collect();
    slot.fuzzy_words = found.into_iter().map(|f| f.3).collect();
}

/// Whether [`add_fuzzy`] with more than `max_edits` edits would expand some word further.
pub(crate) fn more_edits_possible(q: &Query, max_edits: u8) -> bool {
    fuzzy_words(q).into_iter().any(|i| typo_budget(&q.slots[i].word) > max_edits)
}

/// The slots that get typo expansions: those with a budget, the longest words first.
fn fuzzy_words(q: &Query) -> Vec<usize> {
    let mut order: Vec<usize> = (0..q.slots.len()).filter(|&i| typo_budget(&q.slots[i].word) > 0).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(q.slots[i].word.len()));
    order.truncate(MAX_FUZZY_WORDS);
    order
}

//! Matching and ranking of texts against a parsed query.
//!
//! Relevance (the hit's `score`, higher is better):
//!
//! | score | match |
//! |---|---|
//! | 1000 | the query is the code |
//! | 900 | the query is a prefix of the code |
//! | 400 + q | every query word matches a text word exactly (the last one maybe as a prefix) |
//! | 200 + q | ... with one typo in all |
//! | 100 + q | ... with two or more typos |
//!
//! where the text quality `q` is, by field and kind of match:
//!
//! | q | title | short title | inclusion term |
//! |---|---|---|---|
//! | *name*: the query covers every core word of the text | 90 | - | 85 |
//! | *phrase*: two or more query words, consecutive and in order | 70 | - | 50 |
//! | *words*: all query words, anywhere | 60 | 30 | 40 |
//!
//! plus 5 when the first query word is the text's first word (not for names), minus 1 when an
//! abbreviation was expanded and minus 31 when the last word matched only as a
//! prefix (a completion ranks below any whole-word match of the same field). So: exact code, code prefix, the text that *is* the query, title phrase, title words,
//! synonyms, and anything fuzzy last. (A text "is" the query when only nonessential modifiers,
//! `NOS` or `unspecified` remain: `hypertension` names I10 through its inclusion term
//! `Hypertension (arterial) (benign) (essential)...`, ahead of the title phrase `Portal
//! hypertension`.)
//!
//! Equal scores keep text-id order: fewest core words, billable, shortest text, code order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use smallvec::SmallVec;

use super::bound::{Bounds, Listing, Page, MAX_PAGE};
use super::index::{decode_words, first_entry, PostingIter, SearchIndex, TermId, TextId, TextMeta, Word};
use super::query::{Query, Slot};
use crate::book::NodeId;

/// Most texts examined for one query (bounded work whatever the query).
const MAX_EXAMINED: usize = 40_000;
/// Most prefix completions read as candidates for a query whose only selective word is a prefix
/// (the most frequent completions).
const MAX_PREFIX_TERMS: usize = 48;

/// The least score of a text matched with at most one edit in all.
pub(crate) const ONE_EDIT: u32 = 200;

/// Which field of a code a hit matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    Title,
    ShortTitle,
    InclusionTerm,
}

/// A text that matched, with its relevance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TextHit {
    pub text: TextId,
    pub meta: TextMeta,
    pub score: u32,
    pub field: Field,
    pub abbreviation: bool,
}

/// Buffers of [`collect`], reused by the calls of one search and from one search to the next
/// (the search module's `Buffers`); `hits` holds the last call's matching texts.
#[derive(Default)]
pub(crate) struct Scratch {
    pub hits: Vec<TextHit>,
    words: Vec<Word>,
    options: Vec<Vec<(u16, u8)>>,
    ends: Vec<(u16, u16)>,
    next_ends: Vec<(u16, u16)>,
    nodes: Vec<NodeId>,
    gens: Vec<Generator>,
    terms: Vec<TermId>,
    heap: Vec<Reverse<(TextId, usize)>>,
    page: Page,
}

/// A buffer holding more than this many entries after a search is dropped rather than kept for
/// the next one (a page of up to 200 hits ranks at most 1,000 texts; a deep page needs more,
/// once): a thread keeps well under 200 KiB between searches, a few KiB after pages of 10.
pub(crate) const KEEP_ENTRIES: usize = 1024;

impl Scratch {
    /// Drops the buffers a large search left large.
    pub fn trim(&mut self) {
        fn trim<T>(v: &mut Vec<T>) {
            if v.capacity() > KEEP_ENTRIES {
                *v = Vec::new();
            }
        }
        trim(&mut self.hits);
        trim(&mut self.words);
        trim(&mut self.nodes);
        trim(&mut self.terms);
        trim(&mut self.heap);
        if self.options.iter().any(|o| o.capacity() > KEEP_ENTRIES) {
            self.options = Vec::new();
        }
        self.gens.clear();
        self.page.trim(KEEP_ENTRIES);
    }

    /// Number of distinct nodes among the last call's texts scoring at least `min`.
    pub fn distinct_nodes(&mut self, min: u32) -> usize {
        self.nodes.clear();
        self.nodes.extend(self.hits.iter().filter(|t| t.score >= min).map(|t| t.meta.node));
        self.nodes.sort_unstable();
        self.nodes.dedup();
        self.nodes.len()
    }
}

/// Collects matching texts into `scratch.hits` (replacing the last call's) in rank order, at
/// most `cap`, skipping nodes `accept` refuses.
///
/// With `need > 0` (the hits the caller will keep: `offset + limit`), a text that provably
/// cannot be among the best `need` distinct nodes (see [`super::bound`]) counts towards `cap`
/// but is neither decoded nor returned. That happens only once `need` distinct nodes are held,
/// at least as good, so the caller's decisions come out as with `need == 0`: the best `need`
/// nodes are the same; so is whether fewer than `need` distinct nodes matched (no); and so is
/// whether fewer than `need` scored [`ONE_EDIT`] or more (a text left out scored at most the
/// page's least score: if that is below `ONE_EDIT` the text does not count, and if not the
/// page already counts `need`).
///
/// The rarest slot (the *driver*) lists the candidate texts: the merged posting lists of the
/// terms that can satisfy it. Before a candidate is decoded, it must also be in the posting
/// lists of every other slot that is cheap to check (a few terms, not far more postings than
/// the driver's), and a candidate listed only through an abbreviation's or compound's rarest
/// word must hold the alternative's other words: posting lists are in text order, as the
/// candidates come, so each check only reads on from where the last one stopped.
pub(crate) fn collect(index: &SearchIndex, q: &Query, accept: &dyn Fn(NodeId) -> bool, cap: usize, need: usize, scratch: &mut Scratch) {
    scratch.hits.clear();
    let Some((d, driver)) = q.slots.iter().enumerate().min_by_key(|(_, s)| estimate(index, s)) else { return };
    let driver_estimate = estimate(index, driver);
    let mut gens = std::mem::take(&mut scratch.gens);
    generators(index, driver, &mut gens, &mut scratch.terms);
    // (Lists, conditions and filters borrow the index: kept on the stack while few.)
    let mut lists: SmallVec<[PostingIter<'_>; 8]> = gens.iter().map(|g| index.postings(g.term)).collect();
    // Conditions of the generators from alternatives: every other word of the alternative.
    let mut conditions: SmallVec<[Vec<Lazy<'_>>; 8]> =
        gens.iter().map(|g| g.needs.iter().map(|&t| Lazy::new(index.postings(t))).collect()).collect();
    // The other slots, cheapest first, as any-of filters.
    let mut filters: SmallVec<[(u64, SmallVec<[Lazy<'_>; 4]>); 4]> = SmallVec::new();
    for (i, s) in q.slots.iter().enumerate() {
        if i == d || !filter_terms(index, s, &mut scratch.terms) {
            continue;
        }
        let est = estimate(index, s);
        if est <= FILTER_RATIO * driver_estimate.max(1) {
            filters.push((est, scratch.terms.iter().map(|&t| Lazy::new(index.postings(t))).collect()));
        }
    }
    filters.sort_by_key(|f| f.0);
    let all_prefixes_listed = driver.prefix.as_ref().is_none_or(|r| r.len() <= MAX_PREFIX_TERMS);
    let bounds = if (1..=MAX_PAGE).contains(&need) { Bounds::new(index.reach(), q, d, filters.len(), all_prefixes_listed) } else { None };
    let mut page = std::mem::take(&mut scratch.page);
    page.reset(need);
    let mut heap = BinaryHeap::from(std::mem::take(&mut scratch.heap));
    heap.clear();
    for (i, l) in lists.iter_mut().enumerate() {
        if let Some(id) = l.next() {
            heap.push(Reverse((id, i)));
        }
    }
    let mut examined = 0;
    let mut matched = 0;
    while let Some(Reverse((id, i))) = heap.pop() {
        // Every list that holds this text: is one of them enough on its own?
        let mut listed = false;
        let mut listing = Listing::NONE;
        let mut from = i;
        loop {
            if let Some(next) = lists.get_mut(from).and_then(Iterator::next) {
                heap.push(Reverse((next, from)));
            }
            if let Some(g) = gens.get(from) {
                if listed && g.alt {
                    // Not checked once the text is listed (the other words' lists can be long):
                    // it may match.
                    listing.alt = true;
                } else if conditions.get_mut(from).is_none_or(|c| c.iter_mut().all(|l| l.contains(id))) {
                    listed = true;
                    listing.edits = listing.edits.min(g.edits);
                    listing.prefix_only &= g.prefix_only;
                    listing.alt |= g.alt;
                    listing.exact |= g.exact;
                }
            }
            match heap.peek() {
                Some(&Reverse((next, j))) if next == id => {
                    heap.pop();
                    from = j;
                }
                _ => break,
            }
        }
        examined += 1;
        if examined > MAX_EXAMINED {
            break;
        }
        if !listed || !filters.iter_mut().all(|(_, f)| f.iter_mut().any(|l| l.contains(id))) {
            continue;
        }
        let Some((meta, shape, words)) = index.text(id) else { continue };
        if !accept(meta.node) {
            continue;
        }
        let unranked = match (&bounds, page.floor()) {
            (Some(b), Some(floor)) => b.score(&meta, shape, first_entry(words), listing) <= floor,
            _ => false,
        };
        if unranked {
            matched += 1;
            if matched >= cap {
                break;
            }
            continue;
        }
        if !decode_words(words, &mut scratch.words) {
            continue;
        }
        if let Some(hit) = evaluate(q, id, meta, scratch) {
            page.add(meta.node, hit.score);
            scratch.hits.push(hit);
            matched += 1;
            if matched >= cap {
                break;
            }
        }
    }
    // The buffers, for the next call.
    (scratch.page, scratch.gens) = (page, gens);
    scratch.heap = heap.into_vec();
}

/// A slot is used as a filter while its postings are at most this many times the driver's.
const FILTER_RATIO: u64 = 64;
/// Most terms of a slot used as a filter.
const MAX_FILTER_TERMS: usize = 16;

/// A posting list read on demand, in increasing text order.
struct Lazy<'a> {
    list: PostingIter<'a>,
    head: Option<TextId>,
    started: bool,
}

impl<'a> Lazy<'a> {
    fn new(list: PostingIter<'a>) -> Self {
        Lazy { list, head: None, started: false }
    }

    /// Whether the list holds `id`; calls come with ids that never decrease.
    fn contains(&mut self, id: TextId) -> bool {
        if !self.started || self.head.is_some_and(|h| h < id) {
            self.started = true;
            self.list.skip_towards(id);
            self.head = self.list.next();
        }
        while let Some(h) = self.head {
            if h >= id {
                return h == id;
            }
            self.head = self.list.next();
        }
        false
    }
}

/// Estimated number of texts a slot matches (its posting counts).
fn estimate(index: &SearchIndex, s: &Slot) -> u64 {
    let mut n = s.exact.map_or(0, |t| index.df(t)) as u64;
    if let Some(r) = &s.prefix {
        n += index.df_range(r.clone()) as u64;
    }
    n += s.fuzzy.iter().map(|&(t, _)| index.df(t) as u64).sum::<u64>();
    n += s.alts.iter().map(|a| a.terms.iter().map(|&t| index.df(t)).min().unwrap_or(0) as u64).sum::<u64>();
    n
}

/// Puts in `terms` the terms one of which every text matching the slot holds; false when they
/// are many.
fn filter_terms(index: &SearchIndex, s: &Slot, terms: &mut Vec<TermId>) -> bool {
    terms.clear();
    terms.extend(s.exact);
    if let Some(r) = &s.prefix {
        if r.len() > MAX_FILTER_TERMS {
            return false;
        }
        terms.extend(r.clone());
    }
    terms.extend(s.fuzzy.iter().map(|f| f.0));
    for a in &s.alts {
        let Some(&rarest) = a.terms.iter().min_by_key(|&&t| index.df(t)) else { return false };
        terms.push(rarest);
    }
    terms.sort_unstable();
    terms.dedup();
    terms.len() <= MAX_FILTER_TERMS
}

/// A posting list that lists a slot's candidates, with the terms a text listed by it must also
/// hold (the rest of an alternative).
struct Generator {
    term: TermId,
    needs: Vec<TermId>,
    /// The edits of a match through this term.
    edits: u8,
    /// The term is only a prefix completion of the slot's word.
    prefix_only: bool,
    /// The list is an alternative's (its rarest word).
    alt: bool,
    /// The term is the slot's word.
    exact: bool,
}

/// Puts in `out` the generators of a slot: the terms whose posting lists hold every text the
/// slot can match (capped for broad prefixes). `terms` is a buffer.
fn generators(index: &SearchIndex, s: &Slot, out: &mut Vec<Generator>, terms: &mut Vec<TermId>) {
    out.clear();
    terms.clear();
    terms.extend(s.exact);
    if let Some(r) = &s.prefix {
        // The most frequent completions when there are too many.
        let head = terms.len();
        terms.extend(r.clone());
        if terms.len() - head > MAX_PREFIX_TERMS {
            terms[head..].select_nth_unstable_by_key(MAX_PREFIX_TERMS, |&t| Reverse(index.df(t)));
            terms.truncate(head + MAX_PREFIX_TERMS);
        }
    }
    terms.extend(s.fuzzy.iter().map(|f| f.0));
    terms.sort_unstable();
    terms.dedup();
    let generator = |term: TermId| {
        let fuzzy = s.fuzzy.binary_search_by_key(&term, |f| f.0).ok().map(|i| s.fuzzy[i].1);
        let prefix_only = s.exact != Some(term) && fuzzy.is_none();
        Generator { term, needs: Vec::new(), edits: fuzzy.unwrap_or(0), prefix_only, alt: false, exact: s.exact == Some(term) }
    };
    out.extend(terms.iter().map(|&t| generator(t)));
    for a in &s.alts {
        if let Some(&rarest) = a.terms.iter().min_by_key(|&&t| index.df(t)) {
            let needs = a.terms.iter().copied().filter(|&t| t != rarest).collect();
            out.push(Generator { term: rarest, needs, edits: 0, prefix_only: false, alt: true, exact: false });
        }
    }
}

/// How one slot matched a text; smaller is better.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Quality {
    edits: u8,
    /// A word of the short title only: a title word, even a completion, is preferred (`diab`
    /// completes `diabetes` rather than naming the short title's `diab`).
    extra: bool,
    /// 0 whole word, 1 abbreviation or compound parts, 2 prefix only.
    kind: u8,
}

/// Taken from the quality when the last word matched only as a prefix: more than the step from
/// *name* to *words* (30), so that a whole word ranks above a completion (`heart`: `Heart
/// disease` before `Heartburn`), while completions keep their order among themselves
/// (`hypertens`: I10 through its inclusion term first).
pub(crate) const PREFIX_PENALTY: u32 = 31;

/// Added when the first query word matches the text's first word (`sepsis`: `Sepsis due to ...`
/// before `Anthrax sepsis`): ICD-10-CM titles lead with the main term of the generic entry.
pub(crate) const START_BONUS: u32 = 5;

const WHOLE: u8 = 0;
const ALT: u8 = 1;
const PREFIX: u8 = 2;

/// Matches one text (decoded into `scratch.words`) against every slot.
fn evaluate(q: &Query, text: TextId, meta: TextMeta, scratch: &mut Scratch) -> Option<TextHit> {
    let words = &scratch.words;
    let mut core = [0u64; 4];
    for w in words.iter().filter(|w| w.core && w.span == 1 && w.pos < 256) {
        core[(w.pos / 64) as usize] |= 1 << (w.pos % 64);
    }
    let mut covered_bits = [0u64; 4];
    let mut gapped = false;
    let mut edits: u32 = 0;
    let mut abbreviation = false;
    let mut prefix_only = false;
    let mut extra_used = false;
    scratch.options.resize_with(q.slots.len(), Vec::new);
    for (si, slot) in q.slots.iter().enumerate() {
        let opts = &mut scratch.options[si];
        opts.clear();
        let mut best: Option<Quality> = None;
        for w in words {
            let quality = if Some(w.term) == slot.exact {
                Quality { edits: 0, extra: w.extra, kind: WHOLE }
            } else if slot.prefix.as_ref().is_some_and(|r| r.contains(&w.term)) {
                Quality { edits: 0, extra: w.extra, kind: PREFIX }
            } else if let Ok(i) = slot.fuzzy.binary_search_by_key(&w.term, |f| f.0) {
                Quality { edits: slot.fuzzy[i].1, extra: w.extra, kind: WHOLE }
            } else {
                continue;
            };
            match best {
                Some(b) if quality > b => continue,
                Some(b) if quality == b => {}
                _ => {
                    best = Some(quality);
                    opts.clear();
                }
            }
            opts.push((w.pos, w.span));
        }
        let mut used_abbreviation = false;
        if best.is_none_or(|b| b > Quality { edits: 0, extra: false, kind: ALT }) {
            for alt in &slot.alts {
                // The first word of the text for each term of the alternative (none: no match).
                let found = |t: &TermId| words.iter().find(|w| w.term == *t);
                let (mut start, mut end, mut extra, mut covered) = (u16::MAX, 0u16, true, 0u32);
                let mut all = true;
                for w in alt.terms.iter().map(found) {
                    let Some(w) = w else {
                        all = false;
                        break;
                    };
                    start = start.min(w.pos);
                    end = end.max(w.pos + w.span as u16);
                    extra &= w.extra;
                    covered += w.span as u32;
                }
                if !all {
                    continue;
                }
                if alt.terms.is_empty() {
                    (start, end) = (0, 0);
                }
                let quality = Quality { edits: 0, extra, kind: ALT };
                if best.is_some_and(|b| b <= quality) {
                    continue;
                }
                best = Some(quality);
                opts.clear();
                // The words of an alternative form a phrase only when they are consecutive.
                if (end - start) as u32 <= covered {
                    opts.push((start, (end - start).min(255) as u8));
                } else {
                    gapped = true;
                }
                used_abbreviation = alt.abbreviation;
                for w in alt.terms.iter().filter_map(found) {
                    cover(&mut covered_bits, w.pos, w.span);
                }
                break;
            }
        }
        let best = best?;
        if best.kind != ALT {
            for &(pos, span) in opts.iter() {
                cover(&mut covered_bits, pos, span);
            }
        }
        edits += best.edits as u32;
        abbreviation |= used_abbreviation;
        prefix_only |= best.kind == PREFIX;
        extra_used |= best.extra;
    }

    let starts = !extra_used && scratch.options.first().is_some_and(|o| o.iter().any(|&(p, _)| p == 0));
    let name = !extra_used && core != [0; 4] && core.iter().zip(&covered_bits).all(|(c, v)| c & v == *c);
    // A name ranks the same whether or not it is a phrase.
    let phrase = !name && !extra_used && !gapped && is_phrase(scratch);
    let field = if meta.source > 0 {
        Field::InclusionTerm
    } else if extra_used {
        Field::ShortTitle
    } else {
        Field::Title
    };
    let mut quality = field_quality(field, name, phrase);
    if starts && !name {
        quality += START_BONUS;
    }
    quality = quality.saturating_sub(u32::from(abbreviation) + PREFIX_PENALTY * u32::from(prefix_only));
    let score = match edits {
        0 => 400 + quality,
        1 => ONE_EDIT + quality,
        _ => 100 + quality,
    };
    Some(TextHit { text, meta, score, field, abbreviation })
}

/// The text quality of a match by field and kind (the table of the module comment), before the
/// start bonus and the penalties.
pub(crate) fn field_quality(field: Field, name: bool, phrase: bool) -> u32 {
    match (field, name, phrase) {
        (Field::Title, true, _) => 90,
        (Field::InclusionTerm, true, _) => 85,
        (Field::Title, false, true) => 70,
        (Field::Title, false, false) => 60,
        (Field::ShortTitle, _, _) => 30,
        (Field::InclusionTerm, false, true) => 50,
        (Field::InclusionTerm, false, false) => 40,
    }
}

fn cover(covered: &mut [u64; 4], pos: u16, span: u8) {
    for p in pos..pos.saturating_add(span as u16) {
        if p < 256 {
            covered[(p / 64) as usize] |= 1 << (p % 64);
        }
    }
}

/// Whether the slots' matches can be read as consecutive words in query order, two words at
/// least (one word alone is no phrase: `chf` in a long HCPCS description is a word match).
fn is_phrase(scratch: &mut Scratch) -> bool {
    let Scratch { options, ends, next_ends, .. } = scratch;
    ends.clear();
    let Some(first) = options.first() else { return false };
    // (start, end) of each chain so far.
    ends.extend(first.iter().map(|&(p, s)| (p, p + s as u16)));
    for opts in options.iter().skip(1) {
        next_ends.clear();
        for &(p, s) in opts {
            if let Some(&(start, _)) = ends.iter().find(|(_, e)| *e == p) {
                next_ends.push((start, p + s as u16));
            }
        }
        if next_ends.is_empty() {
            return false;
        }
        std::mem::swap(ends, next_ends);
    }
    ends.iter().any(|&(s, e)| e >= s + 2)
}

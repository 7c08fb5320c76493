//! Upper bounds of a text's score, so that a candidate that cannot reach the page is counted
//! without being decoded and matched.
//!
//! [`super::rank::collect`] keeps the first `cap` matching texts in text order, and the page is
//! the best `need` distinct nodes among them (score, then text order). Once `need` nodes are
//! held, a later text whose score is at most the page's least score ranks behind all of them
//! (equal scores keep text order), so it changes neither the page nor which of its node's texts
//! is shown. Such a text still counts towards `cap` and towards the number of distinct nodes
//! found (which decide whether typo expansions are searched), so it is only skipped when being
//! listed is known to mean matching: every slot but the driver is an exact filter (see
//! [`Bounds::new`]).
//!
//! The bound is read from the text's record head and the first entry of its forward list:
//! - *name* (every core word covered) needs the text's distinct core words to be no more than
//!   the query's terms can cover: each term's *reach* is the most distinct core words its
//!   occurrences cover in any one text (1 for a plain word; a compound covers its parts), taken
//!   when the index is loaded ([`TextShape`]);
//! - *phrase* needs two slots, or a slot with a compound term or an alternative;
//! - the *start* bonus needs a term of the first slot at position 0;
//! - the edits are at least those of the lists that gave the text (the driver's) plus the
//!   least of each other slot, and a text given by prefix completions only is a prefix match.

use super::index::{TermId, TextMeta, Word};
use super::query::{Query, Slot};
use super::rank::{field_quality, Field, PREFIX_PENALTY, START_BONUS};
use crate::book::NodeId;

/// Shape of a text, low bits: the number of distinct core words (saturating).
const DISTINCT: u8 = 0x1F;
/// Shape: the text holds an extra word (of the short title only).
const EXTRA: u8 = 0x20;
/// Shape: the text holds a compound (a word over several positions).
const COMPOUND: u8 = 0x40;
/// Shape: position 0 holds another word than the forward list's first (a compound, or the
/// first entry is an extra word), so the first entry alone does not say what is at position 0.
const ODD_START: u8 = 0x80;
/// Reach of a term, low bits: the most distinct core words it covers in a text (saturating).
const COUNT: u8 = 0x7F;
/// Reach: the term is a compound somewhere (it spans several positions).
const SPANS: u8 = 0x80;

/// Largest page (`offset + limit`) for which candidates are skipped; deeper pages rank every
/// candidate (the page is kept as a short list).
pub(crate) const MAX_PAGE: usize = 128;

/// Computes texts' shapes and terms' reach while the index is loaded.
pub(crate) struct TextShape {
    /// (position, term) of the core single-position words of the text, by position.
    core: Vec<(u16, TermId)>,
    /// Terms whose words cover core words of other terms.
    complex: Vec<TermId>,
    covered: Vec<TermId>,
    /// `seen[term] == text`: the term is a core word of the current text.
    seen: Vec<u32>,
    text: u32,
}

impl TextShape {
    /// For a dictionary of `terms` terms.
    pub fn new(terms: usize) -> TextShape {
        TextShape { core: Vec::new(), complex: Vec::new(), covered: Vec::new(), seen: vec![0; terms], text: 0 }
    }

    /// The shape byte of a text with these words (the distinct core words, and [`ODD_START`]),
    /// raising the reach of its terms in `reach` (one byte per term, as many as `seen`).
    pub fn of(&mut self, words: &[Word], reach: &mut [u8]) -> u8 {
        self.text += 1;
        self.core.clear();
        let (mut distinct, mut at_zero, mut last, mut compound, mut extra) = (0usize, 0usize, None, false, false);
        // Most texts are simple: one position per word (no compound). A core word then covers
        // no core word but itself (at each of its positions), any other word none.
        let mut simple = true;
        for w in words {
            simple &= w.span == 1 && last.is_none_or(|p| p < w.pos);
            compound |= w.span > 1;
            extra |= w.extra;
            last = Some(w.pos);
            at_zero += usize::from(w.pos == 0);
            if w.core && w.span == 1 {
                self.core.push((w.pos, w.term));
                if let Some(s) = self.seen.get_mut(w.term as usize).filter(|s| **s != self.text) {
                    *s = self.text;
                    distinct += 1;
                    // A core word covers itself.
                    if let Some(r) = reach.get_mut(w.term as usize).filter(|r| **r & COUNT == 0) {
                        *r |= 1;
                    }
                }
            }
        }
        let odd = at_zero != 1 || words.first().is_none_or(|w| w.pos != 0);
        let flag = |on: bool, bit: u8| if on { bit } else { 0 };
        let shape = distinct.min(DISTINCT as usize) as u8 | flag(odd, ODD_START) | flag(compound, COMPOUND) | flag(extra, EXTRA);
        if simple {
            return shape;
        }
        // A term whose word covers a core word of another term (a compound covers its parts;
        // `crohns` shares the position of `crohn`): its reach is counted over all its words.
        // (Core words come in position order: a one-part compound follows its word.)
        self.complex.clear();
        for w in words {
            if w.span > 1 {
                if let Some(r) = reach.get_mut(w.term as usize) {
                    *r |= SPANS;
                }
            }
            let end = w.pos.saturating_add(u16::from(w.span));
            let from = self.core.partition_point(|c| c.0 < w.pos);
            if self.core[from..].iter().take_while(|c| c.0 < end).any(|c| c.1 != w.term) {
                self.complex.push(w.term);
            }
        }
        self.complex.sort_unstable();
        self.complex.dedup();
        for &t in &self.complex {
            self.covered.clear();
            for w in words.iter().filter(|w| w.term == t) {
                let end = w.pos.saturating_add(u16::from(w.span));
                let from = self.core.partition_point(|c| c.0 < w.pos);
                self.covered.extend(self.core[from..].iter().take_while(|c| c.0 < end).map(|c| c.1));
            }
            self.covered.sort_unstable();
            self.covered.dedup();
            let Some(r) = reach.get_mut(t as usize) else { continue };
            let count = (*r & COUNT).max(self.covered.len().min(COUNT as usize) as u8);
            *r = count | (*r & SPANS);
        }
        shape
    }
}

/// How the driver's posting lists gave one text (those whose alternative's other words the
/// text holds).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Listing {
    /// The fewest edits of the lists that hold the text.
    pub edits: u8,
    /// Every list that holds it is a prefix completion's (the slot matches it as a prefix).
    pub prefix_only: bool,
    /// An alternative (abbreviation, compound's parts) may match it.
    pub alt: bool,
    /// The slot's word itself is in the text.
    pub exact: bool,
}

impl Listing {
    /// Before any list.
    pub const NONE: Listing = Listing { edits: u8::MAX, prefix_only: true, alt: false, exact: false };
}

/// What a query allows a text to score, computed once per [`super::rank::collect`].
pub(crate) struct Bounds<'q> {
    slots: &'q [Slot],
    /// Distinct core words the query's terms can cover in one text (saturating).
    reach: u32,
    /// A term of the query is a compound somewhere.
    compound: bool,
    /// The least edits of the slots other than the driver, summed.
    other_edits: u32,
    /// The driver's prefix completions were all read (none outside the lists).
    all_prefixes_listed: bool,
    /// The word of a one-word query and its term's reach.
    exact: Option<(TermId, u8)>,
}

impl<'q> Bounds<'q> {
    /// The bounds of a query whose slot `driver` lists the candidates; `None` unless every other
    /// slot is one of the `filters` (slots checked against their posting lists) and has no
    /// alternative, so that a listed text that passes the filters matches.
    pub fn new(reach: &[u8], q: &'q Query, driver: usize, filters: usize, all_prefixes_listed: bool) -> Option<Bounds<'q>> {
        let others_exact = q.slots.iter().enumerate().all(|(i, s)| i == driver || s.alts.is_empty());
        if q.slots.is_empty() || filters + 1 != q.slots.len() || !others_exact {
            return None;
        }
        let reach_of = |t: TermId| reach.get(t as usize).copied().unwrap_or(COUNT | SPANS);
        let (mut total, mut compound) = (0u32, false);
        for t in q.slots.iter().flat_map(slot_terms) {
            let r = reach_of(t);
            compound |= r & SPANS != 0;
            total = total.saturating_add(u32::from(r & COUNT));
            if total >= u32::from(DISTINCT) && compound {
                break;
            }
        }
        let other_edits = q.slots.iter().enumerate().filter(|&(i, _)| i != driver).map(|(_, s)| u32::from(least_edits(s))).sum();
        let exact = match &q.slots[..] {
            [s] => s.exact.map(|t| (t, reach_of(t))),
            _ => None,
        };
        Some(Bounds { slots: &q.slots, reach: total, compound, other_edits, all_prefixes_listed, exact })
    }

    /// The most a text can score: `shape` from its record, `first` the term of its forward
    /// list's first entry and whether it is core, `listing` how the driver gave it.
    pub fn score(&self, meta: &TextMeta, shape: u8, first: Option<(TermId, bool)>, listing: Listing) -> u32 {
        let Some(exact) = self.exact.filter(|_| listing.exact) else { return self.any_score(meta, shape, first, listing) };
        let whole = Self::exact_score(meta, shape, first, exact);
        if shape & EXTRA == 0 {
            return whole;
        }
        // The word may be an extra word only: then a completion or an alternative in the title
        // matches best, or the short title (at most 30).
        let other = self.any_score(meta, shape, first, Listing { prefix_only: true, ..listing });
        whole.max(other).max(400 + field_quality(Field::ShortTitle, false, false))
    }

    /// [`Bounds::score`] from what every text allows.
    fn any_score(&self, meta: &TextMeta, shape: u8, first: Option<(TermId, bool)>, listing: Listing) -> u32 {
        let odd = shape & ODD_START != 0;
        let start = odd || first.is_some_and(|(t, _)| slot_has(&self.slots[0], t));
        // Position 0 holds the first entry alone: a name covers it if it is core.
        let first_covered = odd || first.is_none_or(|(t, core)| !core || self.slots.iter().any(|s| slot_has(s, t)));
        let distinct = u32::from(shape & DISTINCT);
        let name = first_covered && distinct > 0 && distinct <= self.reach;
        // One slot makes a phrase only with a compound or an alternative over two positions.
        let phrase = self.slots.len() > 1 || listing.alt || (self.compound && shape & COMPOUND != 0);
        let mut quality = Self::quality(meta, name, phrase, start);
        // An alternative that may match is no prefix match, with no edit; nor is a completion
        // outside the lists.
        if listing.prefix_only && !listing.alt {
            quality = quality.saturating_sub(PREFIX_PENALTY);
        }
        let driver_edits = if self.all_prefixes_listed && !listing.alt { u32::from(listing.edits) } else { 0 };
        let base = match driver_edits + self.other_edits {
            0 => 400,
            1 => super::rank::ONE_EDIT,
            _ => 100,
        };
        base + quality
    }

    /// [`Bounds::score`] of a text that holds the word of a one-word query as a word of its
    /// own (not an extra word): the best match is that word's (a whole word, no edit: anything
    /// else ranks below it), so only its words count for a name or a phrase.
    fn exact_score(meta: &TextMeta, shape: u8, first: Option<(TermId, bool)>, (term, reach): (TermId, u8)) -> u32 {
        let odd = shape & ODD_START != 0;
        let start = odd || first.is_some_and(|(t, _)| t == term);
        let first_covered = odd || first.is_none_or(|(t, core)| !core || t == term);
        let distinct = shape & DISTINCT;
        let name = first_covered && distinct > 0 && distinct <= reach & COUNT;
        let phrase = reach & SPANS != 0 && shape & COMPOUND != 0;
        Self::quality(meta, name, phrase, start) + 400
    }

    /// The most quality of a text (title or inclusion term) when a name, a phrase and the
    /// start bonus may be possible.
    fn quality(meta: &TextMeta, name: bool, phrase: bool, start: bool) -> u32 {
        let field = if meta.source > 0 { Field::InclusionTerm } else { Field::Title };
        let quality = field_quality(field, false, phrase) + if start { START_BONUS } else { 0 };
        if name {
            quality.max(field_quality(field, true, phrase))
        } else {
            quality
        }
    }
}

/// The least edits a slot can match with.
fn least_edits(s: &Slot) -> u8 {
    if s.exact.is_some() || s.prefix.is_some() || !s.alts.is_empty() {
        return 0;
    }
    s.fuzzy.iter().map(|f| f.1).min().unwrap_or(0)
}

/// Every term that can satisfy a slot (or be part of an alternative that does).
fn slot_terms(s: &Slot) -> impl Iterator<Item = TermId> + '_ {
    s.exact
        .into_iter()
        .chain(s.prefix.clone().unwrap_or(0..0))
        .chain(s.fuzzy.iter().map(|f| f.0))
        .chain(s.alts.iter().flat_map(|a| a.terms.iter().copied()))
}

/// Whether a term can satisfy a slot or be part of one of its alternatives.
fn slot_has(s: &Slot, t: TermId) -> bool {
    s.exact == Some(t)
        || s.prefix.as_ref().is_some_and(|r| r.contains(&t))
        || s.fuzzy.binary_search_by_key(&t, |f| f.0).is_ok()
        || s.alts.iter().any(|a| a.terms.contains(&t))
}

/// The best `need` distinct nodes among the texts ranked so far, and their least score.
#[derive(Default)]
pub(crate) struct Page {
    need: usize,
    /// (node, best score) of at most `need` nodes.
    nodes: Vec<(NodeId, u32)>,
    floor: u32,
}

impl Page {
    /// Empties the page for a search that keeps `need` hits.
    pub fn reset(&mut self, need: usize) {
        self.nodes.clear();
        self.need = need;
        self.floor = 0;
    }

    /// Drops the buffer of a page larger than `entries`.
    pub fn trim(&mut self, entries: usize) {
        if self.nodes.capacity() > entries {
            self.nodes = Vec::new();
        }
    }

    /// The least score of the page once it holds `need` nodes: a later text that scores no more
    /// cannot change it.
    pub fn floor(&self) -> Option<u32> {
        (self.need > 0 && self.nodes.len() >= self.need).then_some(self.floor)
    }

    /// Adds a ranked text (texts come in text order).
    pub fn add(&mut self, node: NodeId, score: u32) {
        if let Some(entry) = self.nodes.iter_mut().find(|e| e.0 == node) {
            entry.1 = entry.1.max(score);
        } else if self.nodes.len() < self.need {
            self.nodes.push((node, score));
        } else if score > self.floor {
            // Replace the (first) least: a node that dropped out scored at most the floor, so
            // its best text so far is this one if it comes back.
            if let Some(i) = self.nodes.iter().position(|e| e.1 == self.floor) {
                self.nodes[i] = (node, score);
            }
        } else {
            return;
        }
        self.floor = self.nodes.iter().map(|e| e.1).min().unwrap_or(0);
    }
}

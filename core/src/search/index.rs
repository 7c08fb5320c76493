//! The search index: a term dictionary (an fst map from folded word to term id, ids in
//! lexicographic order so that a prefix is an id range), one posting list per term, and a
//! forward list of each text's words. Built once when a book is compiled, stored in the book's
//! `blobs` table, loaded (and checked) when the book is opened.
//!
//! A *text* is what a hit can match: a code's official title (with the words of its short title
//! that the title lacks, flagged as *extra*), or one ICD-10-CM inclusion term (or term of an
//! "Includes" note) printed at the code. Text ids are given
//! in a static rank order (fewest core words, billable, shortest, then code order), so posting
//! lists are in rank order: reading a list from its start meets the best texts first, and ties
//! between equally relevant hits are broken by text id.
//!
//! Stored encodings (all little-endian, LEB128 varints):
//! - posting list: text ids, the first as is, then the gaps;
//! - forward list, one entry per word in text order: `varint(term << 1 | has_flags)`, then when
//!   `has_flags` one byte: bit 0 not core, bit 1 extra (short-title word), bits 2-4 the number
//!   of parts of a compound (0 for a plain word). Positions are implied: a plain word takes the
//!   next position, a compound covers the positions of its parts just before it, an extra word
//!   sits apart (so it never forms a phrase).
//!
//! In memory the index is laid out for queries, when the book is opened: each text is one
//! *record* (node, source, core length, shape, then its forward list) in one byte table, and the
//! posting lists hold record offsets instead of text ids. Offsets grow with text ids, so lists
//! keep rank order, and a candidate from a posting list is one random read (its record)
//! instead of two (the text table, then the forward list). The *shape* of a text and the
//! *reach* of each term (see [`super::bound`]) are derived in the same pass.

use std::collections::HashMap;
use std::ops::Range;

use fst::{IntoStreamer, Map, MapBuilder, Streamer};
use rusqlite::{params, Connection, OptionalExtension};

use super::bound::TextShape;
use super::synonyms::Abbreviations;
use super::tokenize::Tokens;
use super::typo::TermTrie;
use crate::book::{BookData, NodeId};
use crate::error::{Error, Result};
use crate::record::NoteKind;

pub(crate) type TermId = u32;
/// A text, as the offset of its record in the in-memory text table: texts with a smaller
/// offset come first in the static rank order, as with stored text ids.
pub(crate) type TextId = u32;

/// Which text of a node a text stands for, and how long it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TextMeta {
    pub node: NodeId,
    /// 0: the title (and short title); `n > 0`: the inclusion term (or "Includes" term)
    /// `notes[node][n - 1]`.
    pub source: u16,
    /// Number of core words (see [`super::tokenize`]).
    pub core_len: u8,
}

/// Bytes of a record before its forward list's length: node (4), source (2), core length (1),
/// shape (1).
const RECORD_HEAD: usize = 8;

/// One word of a stored text, as decoded from the forward list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Word {
    pub term: TermId,
    pub pos: u16,
    /// Positions covered (1, or a compound's parts).
    pub span: u8,
    pub core: bool,
    /// A word of the short title that the title lacks.
    pub extra: bool,
}

const FLAG_NOT_CORE: u8 = 1;
const FLAG_EXTRA: u8 = 2;

/// Blob names in the book's `blobs` table.
const BLOBS: [&str; 6] =
    ["search.terms.fst", "search.texts", "search.forward", "search.forward.offsets", "search.postings", "search.postings.offsets"];

/// The search index of a book.
pub(crate) struct SearchIndex {
    terms: Map<Vec<u8>>,
    /// One record per text in text-id order: [`RECORD_HEAD`] bytes of [`TextMeta`] and the
    /// text's shape (see [`super::bound`]), the length of the forward list as a varint, the
    /// forward list.
    records: Vec<u8>,
    n_texts: usize,
    /// Posting lists of record offsets (the first as is, then the gaps).
    postings: Vec<u8>,
    postings_offsets: Vec<u32>,
    /// Skips of the long posting lists (see [`Skip`]), list after list.
    skips: Vec<Skip>,
    /// (term, its first skip) of each list that has skips, by term.
    skip_starts: Vec<(TermId, u32)>,
    /// `cum_df[t]`: number of postings of the terms before `t`.
    cum_df: Vec<u32>,
    /// The terms again, as a trie for typo search.
    pub(super) trie: TermTrie,
    /// Each term's reach (see [`super::bound`]).
    reach: Vec<u8>,
    pub(crate) abbreviations: Abbreviations,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("terms", &self.term_count())
            .field("texts", &self.n_texts)
            .field("bytes", &self.heap_bytes())
            .finish()
    }
}

impl SearchIndex {
    /// Builds the index over every code of the book: titles, short titles, inclusion terms.
    pub fn build(data: &BookData) -> Result<SearchIndex> {
        let parts = build_parts(data)?;
        SearchIndex::from_parts(parts, data)
    }

    /// Loads the index from a book's blobs, checking every reference so that no query can read
    /// out of bounds. A book written before search existed has no such blobs (the layout is
    /// otherwise the same): its index is then built on the spot, which makes opening it about a
    /// second slower; rebuilding the book stores the index.
    pub fn read(conn: &Connection, data: &BookData) -> Result<SearchIndex> {
        let mut blobs = Vec::with_capacity(BLOBS.len());
        for name in BLOBS {
            let blob: Option<Vec<u8>> = conn
                .query_row("SELECT data FROM blobs WHERE name = ?1", [name], |r| r.get(0))
                .optional()
                .map_err(|e| Error::Book(format!("corrupt code book: cannot read {name}: {e}")))?;
            match blob {
                Some(b) => blobs.push(b),
                None if blobs.is_empty() => return SearchIndex::build(data),
                None => return Err(Error::Book(format!("corrupt code book: missing {name} (rebuild it with `codelookup build`)"))),
            }
        }
        let mut it = blobs.into_iter();
        let mut next = || it.next().unwrap_or_default();
        let parts = Parts {
            fst: next(),
            texts: decode_texts(&next())?,
            forward: next(),
            forward_offsets: decode_u32s(&next(), "search.forward.offsets")?,
            postings: next(),
            postings_offsets: decode_u32s(&next(), "search.postings.offsets")?,
        };
        SearchIndex::from_parts(parts, data)
    }

    /// Writes the index's blobs (inside the book's write transaction), in the stored form:
    /// rebuilt from the in-memory one, with text ids for record offsets.
    pub fn write(&self, conn: &Connection) -> Result<()> {
        let mut texts = Vec::with_capacity(8 * self.n_texts);
        let mut forward = Vec::new();
        let mut forward_offsets = Vec::with_capacity(self.n_texts + 1);
        let mut at = Vec::with_capacity(self.n_texts);
        let mut next = 0;
        while let Some((meta, _, words, end)) = self.record(next) {
            at.push(next);
            texts.extend(encode_text(&meta));
            forward_offsets.push(forward.len() as u32);
            forward.extend_from_slice(words);
            next = end;
        }
        forward_offsets.push(forward.len() as u32);
        let mut postings = Vec::with_capacity(self.postings.len());
        let mut postings_offsets = Vec::with_capacity(self.postings_offsets.len());
        for term in 0..self.term_count() as TermId {
            postings_offsets.push(postings.len() as u32);
            let mut last = None;
            for offset in self.postings(term) {
                let id = at.binary_search(&offset).map_err(|_| Error::Book("search index: a posting is no record".into()))? as u32;
                write_varint(&mut postings, last.map_or(id, |l| id - l));
                last = Some(id);
            }
        }
        postings_offsets.push(postings.len() as u32);
        let values: [&[u8]; 6] =
            [self.terms.as_fst().as_bytes(), &texts, &forward, &encode_u32s(&forward_offsets), &postings, &encode_u32s(&postings_offsets)];
        let mut st = conn.prepare("INSERT INTO blobs VALUES (?1, ?2)")?;
        for (name, value) in BLOBS.iter().zip(values) {
            st.execute(params![name, value])?;
        }
        Ok(())
    }

    fn from_parts(p: Parts, data: &BookData) -> Result<SearchIndex> {
        let bad = |what: &str| Error::Book(format!("corrupt code book: search index {what}"));
        let terms = Map::new(p.fst).map_err(|e| Error::Book(format!("corrupt code book: search terms: {e}")))?;
        let n_terms = terms.len();
        let n_texts = p.texts.len();
        if p.postings_offsets.len() != n_terms + 1 || p.forward_offsets.len() != n_texts + 1 {
            return Err(bad("tables disagree in length"));
        }
        check_offsets(&p.postings_offsets, p.postings.len()).ok_or_else(|| bad("posting offsets out of range"))?;
        check_offsets(&p.forward_offsets, p.forward.len()).ok_or_else(|| bad("forward offsets out of range"))?;
        let mut stream = terms.stream();
        let mut expect = 0u64;
        let mut trie = TermTrie::builder();
        while let Some((k, v)) = stream.next() {
            if v != expect {
                return Err(bad("term ids are not in order"));
            }
            trie.push(k);
            expect += 1;
        }
        let trie = trie.finish();
        for t in &p.texts {
            let node = data.nodes.get(t.node as usize).ok_or_else(|| bad("points past the last node"))?;
            if !node.is_code() {
                return Err(bad("points at a chapter or section"));
            }
            if t.source > 0 {
                let note = data.notes.get(&t.node).and_then(|n| n.get(t.source as usize - 1));
                if !note.is_some_and(|(k, _)| is_synonym(*k)) {
                    return Err(bad("points at a missing inclusion term"));
                }
            }
        }
        // The records, checking each forward list; `at[id]` is the record of text `id`.
        let mut records = Vec::with_capacity(p.forward.len() + (RECORD_HEAD + 2) * n_texts);
        let mut at: Vec<u32> = Vec::with_capacity(n_texts);
        let mut words = Vec::new();
        let mut reach = vec![0u8; n_terms];
        let mut shape = TextShape::new(n_terms);
        for (t, ends) in p.texts.iter().zip(p.forward_offsets.windows(2)) {
            let list = p.forward.get(ends[0] as usize..ends[1] as usize).unwrap_or_default();
            if !decode_words(list, &mut words) || words.iter().any(|w| w.term as usize >= n_terms) {
                return Err(bad("forward list corrupt"));
            }
            at.push(u32::try_from(records.len()).map_err(|_| bad("too large"))?);
            records.extend_from_slice(&t.node.to_le_bytes());
            records.extend_from_slice(&t.source.to_le_bytes());
            records.push(t.core_len);
            records.push(shape.of(&words, &mut reach));
            write_varint(&mut records, list.len() as u32);
            records.extend_from_slice(list);
        }
        u32::try_from(records.len()).map_err(|_| bad("too large"))?;
        // The posting lists again, of record offsets.
        let mut cum_df = Vec::with_capacity(n_terms + 1);
        let mut total = 0u32;
        let mut postings = Vec::with_capacity(p.postings.len() * 3 / 2);
        let mut postings_offsets = Vec::with_capacity(n_terms + 1);
        let (mut skips, mut skip_starts) = (Vec::new(), Vec::new());
        for t in 0..n_terms {
            cum_df.push(total);
            let start = postings.len();
            postings_offsets.push(u32::try_from(start).map_err(|_| bad("too large"))?);
            let range = p.postings_offsets[t] as usize..p.postings_offsets[t + 1] as usize;
            // Skips are laid down as the list is read, and kept if it turns out long.
            let first_skip = skips.len();
            let mut it = PostingIter::new(p.postings.get(range).unwrap_or_default());
            let mut last: Option<u32> = None;
            let mut last_offset = 0;
            for (n, id) in it.by_ref().enumerate() {
                if id as usize >= n_texts || last.is_some_and(|l| id <= l) {
                    return Err(bad("posting list out of order or range"));
                }
                if n > 0 && n % SKIP == 0 {
                    skips.push(Skip { before: last_offset, at: (postings.len() - start) as u32 });
                }
                let offset = at[id as usize];
                write_varint(&mut postings, if last.is_some() { offset - last_offset } else { offset });
                last = Some(id);
                last_offset = offset;
                total += 1;
            }
            if it.broken {
                return Err(bad("posting list truncated"));
            }
            if (total - cum_df[t]) as usize >= SKIP_MIN {
                skip_starts.push((t as TermId, first_skip as u32));
            } else {
                skips.truncate(first_skip);
            }
        }
        cum_df.push(total);
        postings_offsets.push(u32::try_from(postings.len()).map_err(|_| bad("too large"))?);
        postings.shrink_to_fit();
        skips.shrink_to_fit();
        let mut index = SearchIndex {
            terms,
            records,
            n_texts,
            postings,
            postings_offsets,
            skips,
            skip_starts,
            cum_df,
            trie,
            reach,
            abbreviations: Abbreviations::default(),
        };
        index.abbreviations = Abbreviations::load(&index);
        Ok(index)
    }

    /// Every term's word, in term order.
    #[cfg(test)]
    pub fn words(&self) -> Vec<String> {
        self.terms.stream().into_str_keys().unwrap_or_default()
    }

    /// Number of distinct words.
    pub fn term_count(&self) -> usize {
        self.terms.len()
    }

    /// Number of texts (titles and inclusion terms).
    pub fn text_count(&self) -> usize {
        self.n_texts
    }

    /// Backs the index's large arrays with huge pages (see
    /// [`crate::book::memory::prefer_huge_pages`]): a query reads posting lists and records
    /// scattered over about 12 MiB.
    pub fn prefer_huge_pages(&self) {
        use crate::book::memory::prefer_huge_pages;
        prefer_huge_pages(self.terms.as_fst().as_bytes());
        prefer_huge_pages(&self.records);
        prefer_huge_pages(&self.postings);
        prefer_huge_pages(&self.postings_offsets);
        prefer_huge_pages(&self.cum_df);
        self.trie.prefer_huge_pages();
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.terms.as_fst().as_bytes().len()
            + self.records.len()
            + self.postings.len()
            + 4 * (self.postings_offsets.len() + self.cum_df.len())
            + std::mem::size_of::<Skip>() * self.skips.len()
            + 8 * self.skip_starts.len()
            + self.trie.heap_bytes()
            + self.reach.len()
    }

    /// A text's node and lengths, its shape (see [`super::bound`]) and its forward list
    /// (decode it with [`decode_words`]).
    pub fn text(&self, text: TextId) -> Option<(TextMeta, u8, &[u8])> {
        self.record(text).map(|(meta, shape, words, _)| (meta, shape, words))
    }

    /// Each term's reach (see [`super::bound`]), by term id.
    pub fn reach(&self) -> &[u8] {
        &self.reach
    }

    /// The record at `at`: the text, its shape, its forward list, and where the next record
    /// starts.
    fn record(&self, at: TextId) -> Option<(TextMeta, u8, &[u8], TextId)> {
        let at = at as usize;
        let head = self.records.get(at..at + RECORD_HEAD)?;
        let meta = TextMeta {
            node: u32::from_le_bytes([head[0], head[1], head[2], head[3]]),
            source: u16::from_le_bytes([head[4], head[5]]),
            core_len: head[6],
        };
        let (len, rest) = read_varint(self.records.get(at + RECORD_HEAD..)?)?;
        let words = rest.get(..len as usize)?;
        let end = self.records.len() - (rest.len() - words.len());
        Some((meta, head[7], words, end as TextId))
    }

    /// The term id of a folded word.
    pub fn term(&self, word: &str) -> Option<TermId> {
        self.trie.find(word.as_bytes()).unwrap_or_else(|| self.terms.get(word).map(|v| v as TermId))
    }

    /// The ids of every term starting with `prefix`.
    pub fn prefix_range(&self, prefix: &str) -> Range<TermId> {
        self.trie.prefix_range(prefix.as_bytes()).unwrap_or_else(|| self.fst_prefix_range(prefix))
    }

    /// [`SearchIndex::prefix_range`] from the term dictionary (two range look-ups).
    pub(crate) fn fst_prefix_range(&self, prefix: &str) -> Range<TermId> {
        let lo = self.first_at_or_after(prefix.as_bytes());
        let mut upper = prefix.as_bytes().to_vec();
        // The smallest string greater than every string with this prefix.
        while let Some(last) = upper.pop() {
            if last < 0xFF {
                upper.push(last + 1);
                break;
            }
        }
        let hi = if upper.is_empty() { self.term_count() as TermId } else { self.first_at_or_after(&upper) };
        lo..hi.max(lo)
    }

    fn first_at_or_after(&self, key: &[u8]) -> TermId {
        let mut s = self.terms.range().ge(key).into_stream();
        s.next().map_or(self.term_count() as TermId, |(_, v)| v as TermId)
    }

    /// Terms within `max` edits of `word`, or with `prefix` beginning with a string within
    /// `max` edits, with their edits and words, at most `limit` (see [`TermTrie::near`]).
    pub fn near(&self, word: &str, max: u8, prefix: bool, limit: usize) -> Vec<(TermId, u8, String)> {
        self.trie.near(word, max, prefix, limit)
    }

    /// Number of texts holding a term.
    pub fn df(&self, term: TermId) -> u32 {
        self.df_range(term..term + 1)
    }

    /// Number of postings of a range of terms (an upper bound of the texts holding any).
    pub fn df_range(&self, r: Range<TermId>) -> u32 {
        let at = |t: TermId| self.cum_df.get(t as usize).copied().unwrap_or(0);
        at(r.end).saturating_sub(at(r.start))
    }

    /// The texts holding a term, in rank order (as record offsets).
    pub fn postings(&self, term: TermId) -> PostingIter<'_> {
        let (a, b) = (self.postings_offsets.get(term as usize), self.postings_offsets.get(term as usize + 1));
        let bytes = match (a, b) {
            (Some(&a), Some(&b)) => self.postings.get(a as usize..b as usize).unwrap_or_default(),
            _ => &[],
        };
        // The term's skips: up to the next long list's.
        let skips = match self.skip_starts.binary_search_by_key(&term, |s| s.0) {
            Ok(i) => {
                let from = self.skip_starts[i].1 as usize;
                let to = self.skip_starts.get(i + 1).map_or(self.skips.len(), |s| s.1 as usize);
                self.skips.get(from..to).unwrap_or_default()
            }
            Err(_) => &[],
        };
        PostingIter { skips, ..PostingIter::new(bytes) }
    }
}

/// Decodes a forward list into `out`; false if it is malformed.
pub(crate) fn decode_words(mut bytes: &[u8], out: &mut Vec<Word>) -> bool {
    out.clear();
    let mut next_pos: u16 = 0;
    while !bytes.is_empty() {
        let Some((v, rest)) = read_varint(bytes) else { return false };
        bytes = rest;
        let mut flags = 0u8;
        if v & 1 == 1 {
            let Some((&f, rest)) = bytes.split_first() else { return false };
            flags = f;
            bytes = rest;
        }
        let parts = (flags >> 2) & 7;
        let extra = flags & FLAG_EXTRA != 0;
        let (pos, span) = if extra {
            next_pos = next_pos.saturating_add(2);
            (next_pos - 1, 1)
        } else if parts > 0 {
            (next_pos.saturating_sub(parts as u16), parts)
        } else {
            next_pos = next_pos.saturating_add(1);
            (next_pos - 1, 1)
        };
        out.push(Word { term: v >> 1, pos, span, core: flags & FLAG_NOT_CORE == 0 && !extra, extra });
    }
    true
}

/// The term of a forward list's first entry, and whether that word is core.
pub(crate) fn first_entry(words: &[u8]) -> Option<(TermId, bool)> {
    let (v, rest) = read_varint(words)?;
    let flags = if v & 1 == 1 { rest.first().copied().unwrap_or(0) } else { 0 };
    Some((v >> 1, flags & (FLAG_NOT_CORE | FLAG_EXTRA) == 0))
}

/// A list gets skips from this many postings (the few hundred longest lists).
const SKIP_MIN: usize = 1024;
/// A skip every this many postings of a long list.
const SKIP: usize = 128;

/// A place to start reading a long posting list from: the posting just before it, and where
/// the next posting's bytes begin (from the list's start). With them, a list asked whether it
/// holds a text far ahead reads on from the last skip before the text, not every posting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Skip {
    before: TextId,
    at: u32,
}

/// Reads a posting list.
pub(crate) struct PostingIter<'a> {
    /// The whole list, and what is left of it.
    list: &'a [u8],
    bytes: &'a [u8],
    last: Option<u32>,
    /// Set when the list ended inside a varint.
    broken: bool,
    /// The list's skips not yet passed.
    skips: &'a [Skip],
}

impl<'a> PostingIter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        PostingIter { list: bytes, bytes, last: None, broken: false, skips: &[] }
    }

    /// Passes over postings that are surely below `id` (up to the last skip before it), so
    /// that reading on meets the first posting at or after `id` sooner.
    pub fn skip_towards(&mut self, id: TextId) {
        let passed = self.skips.partition_point(|s| s.before < id);
        let Some(skip) = passed.checked_sub(1).and_then(|i| self.skips.get(i)) else { return };
        let read = self.list.len() - self.bytes.len();
        if skip.at as usize > read {
            if let Some(rest) = self.list.get(skip.at as usize..) {
                self.bytes = rest;
                self.last = Some(skip.before);
            }
        }
        self.skips = &self.skips[passed..];
    }
}

impl Iterator for PostingIter<'_> {
    type Item = TextId;

    fn next(&mut self) -> Option<TextId> {
        if self.bytes.is_empty() {
            return None;
        }
        let Some((v, rest)) = read_varint(self.bytes) else {
            self.broken = true;
            self.bytes = &[];
            return None;
        };
        self.bytes = rest;
        let id = match self.last {
            Some(l) => l.checked_add(v)?,
            None => v,
        };
        self.last = Some(id);
        Some(id)
    }
}

struct Parts {
    fst: Vec<u8>,
    texts: Vec<TextMeta>,
    forward: Vec<u8>,
    forward_offsets: Vec<u32>,
    postings: Vec<u8>,
    postings_offsets: Vec<u32>,
}

/// A text while the index is built: its words as (provisional term, flags byte).
struct RawText {
    meta: TextMeta,
    chars: usize,
    words: Vec<(u32, u8)>,
}

fn build_parts(data: &BookData) -> Result<Parts> {
    let mut dict: HashMap<String, u32> = HashMap::new();
    let mut names: Vec<String> = Vec::new();
    let mut intern = |w: &str| -> u32 {
        if let Some(&id) = dict.get(w) {
            return id;
        }
        let id = names.len() as u32;
        dict.insert(w.to_string(), id);
        names.push(w.to_string());
        id
    };
    let mut raw: Vec<RawText> = Vec::new();
    let mut tok = Tokens::default();
    let mut short = Tokens::default();
    for (id, node) in data.nodes.iter().enumerate() {
        if !node.is_code() {
            continue;
        }
        let id = id as NodeId;
        tok.tokenize(&node.title());
        let mut words: Vec<(u32, u8)> = tok.list.iter().map(|t| (intern(tok.word(t)), flags(t.core, false, t.parts))).collect();
        let core_len = tok.list.iter().filter(|t| t.parts == 0 && t.core).count().min(255) as u8;
        if node.has_short_title() {
            short.tokenize(&node.short_title());
            let mut seen: Vec<u32> = words.iter().map(|w| w.0).collect();
            for t in &short.list {
                let term = intern(short.word(t));
                if !seen.contains(&term) && words.len() < super::tokenize::MAX_TEXT_TOKENS {
                    seen.push(term);
                    words.push((term, flags(false, true, 0)));
                }
            }
        }
        if !words.is_empty() {
            raw.push(RawText { meta: TextMeta { node: id, source: 0, core_len }, chars: node.title().chars().count(), words });
        }
        for (i, (kind, text)) in data.notes.get(&id).map(|v| v.as_slice()).unwrap_or_default().iter().enumerate() {
            if !is_synonym(*kind) || i >= u16::MAX as usize {
                continue;
            }
            tok.tokenize(text);
            let words: Vec<(u32, u8)> = tok.list.iter().map(|t| (intern(tok.word(t)), flags(t.core, false, t.parts))).collect();
            let core_len = tok.list.iter().filter(|t| t.parts == 0 && t.core).count().min(255) as u8;
            if !words.is_empty() {
                raw.push(RawText { meta: TextMeta { node: id, source: i as u16 + 1, core_len }, chars: text.chars().count(), words });
            }
        }
    }

    // Term ids in lexicographic order.
    let mut order: Vec<u32> = (0..names.len() as u32).collect();
    order.sort_by(|&a, &b| names[a as usize].cmp(&names[b as usize]));
    let mut final_id = vec![0u32; names.len()];
    for (rank, &prov) in order.iter().enumerate() {
        final_id[prov as usize] = rank as u32;
    }
    let mut fst = MapBuilder::memory();
    for (rank, &prov) in order.iter().enumerate() {
        fst.insert(&names[prov as usize], rank as u64).map_err(|e| Error::Book(format!("building the search terms: {e}")))?;
    }
    let fst = fst.into_inner().map_err(|e| Error::Book(format!("building the search terms: {e}")))?;

    // Text ids in static rank order: fewest core words, billable, shortest, code order.
    raw.sort_by(|a, b| {
        let (na, nb) = (data.nodes.at(a.meta.node), data.nodes.at(b.meta.node));
        (a.meta.core_len, !na.billable, a.chars, na.system, na.key().as_bytes(), a.meta.source).cmp(&(
            b.meta.core_len,
            !nb.billable,
            b.chars,
            nb.system,
            nb.key().as_bytes(),
            b.meta.source,
        ))
    });

    let mut forward = Vec::new();
    let mut forward_offsets = Vec::with_capacity(raw.len() + 1);
    let mut lists: Vec<Vec<TextId>> = vec![Vec::new(); names.len()];
    for (text_id, t) in raw.iter().enumerate() {
        forward_offsets.push(forward.len() as u32);
        for &(prov, fl) in &t.words {
            let term = final_id[prov as usize];
            write_varint(&mut forward, (term << 1) | u32::from(fl != 0));
            if fl != 0 {
                forward.push(fl);
            }
            let list = &mut lists[term as usize];
            if list.last() != Some(&(text_id as TextId)) {
                list.push(text_id as TextId);
            }
        }
    }
    forward_offsets.push(forward.len() as u32);
    let mut postings = Vec::new();
    let mut postings_offsets = Vec::with_capacity(lists.len() + 1);
    for list in &lists {
        postings_offsets.push(postings.len() as u32);
        let mut last = None;
        for &id in list {
            write_varint(&mut postings, last.map_or(id, |l| id - l));
            last = Some(id);
        }
    }
    postings_offsets.push(postings.len() as u32);
    Ok(Parts { fst, texts: raw.into_iter().map(|t| t.meta).collect(), forward, forward_offsets, postings, postings_offsets })
}

/// Notes that are synonyms of the code they are printed at: inclusion terms, and the terms of
/// an "Includes" note (I10 lists `high blood pressure` and `hypertension (arterial) (benign)...`
/// there).
pub(crate) fn is_synonym(kind: NoteKind) -> bool {
    matches!(kind, NoteKind::InclusionTerm | NoteKind::Includes)
}

fn flags(core: bool, extra: bool, parts: u8) -> u8 {
    (u8::from(!core) * FLAG_NOT_CORE) | (u8::from(extra) * FLAG_EXTRA) | (parts.min(7) << 2)
}

fn write_varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads one varint (at most 5 bytes; bits past the 32nd are dropped); `None` when the bytes
/// end inside it or it runs past 5 bytes.
#[inline]
fn read_varint(bytes: &[u8]) -> Option<(u32, &[u8])> {
    // Most varints of the index are one or two bytes: those take no loop.
    match *bytes {
        [b0, ref rest @ ..] if b0 < 0x80 => Some((u32::from(b0), rest)),
        [b0, b1, ref rest @ ..] if b1 < 0x80 => Some((u32::from(b0 & 0x7F) | u32::from(b1) << 7, rest)),
        _ => {
            let mut v: u32 = 0;
            for (i, &b) in bytes.iter().enumerate().take(5) {
                v |= u32::from(b & 0x7F) << (7 * i);
                if b & 0x80 == 0 {
                    return Some((v, &bytes[i + 1..]));
                }
            }
            None
        }
    }
}

fn check_offsets(offsets: &[u32], len: usize) -> Option<()> {
    let ok = offsets.first() == Some(&0) && offsets.last().is_some_and(|&l| l as usize == len) && offsets.windows(2).all(|w| w[0] <= w[1]);
    ok.then_some(())
}

fn encode_u32s(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn decode_u32s(b: &[u8], name: &str) -> Result<Vec<u32>> {
    if b.len() % 4 != 0 {
        return Err(Error::Book(format!("corrupt code book: {name} is not a list of 32-bit numbers")));
    }
    Ok(b.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

fn encode_text(t: &TextMeta) -> [u8; 8] {
    let n = t.node.to_le_bytes();
    let s = t.source.to_le_bytes();
    [n[0], n[1], n[2], n[3], s[0], s[1], t.core_len, 0]
}

fn decode_texts(b: &[u8]) -> Result<Vec<TextMeta>> {
    if b.len() % 8 != 0 {
        return Err(Error::Book("corrupt code book: search.texts has a partial record".into()));
    }
    Ok(b.chunks_exact(8)
        .map(|c| TextMeta { node: u32::from_le_bytes([c[0], c[1], c[2], c[3]]), source: u16::from_le_bytes([c[4], c[5]]), core_len: c[6] })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reading a long list on from its skips finds what reading every posting finds: for
    /// the default book's longest lists, asked for random texts in increasing order.
    #[test]
    fn skips_find_what_reading_every_posting_finds() {
        let book = crate::Book::open_default().unwrap();
        let index = book.search_index();
        assert!(index.skip_starts.len() > 10 && !index.skips.is_empty());
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for &(term, _) in index.skip_starts.iter().step_by(7) {
            let all: Vec<TextId> = index.postings(term).collect();
            assert!(all.len() >= SKIP_MIN);
            let mut it = index.postings(term);
            assert!(!it.skips.is_empty());
            let mut head: Option<TextId> = None;
            let mut id = 0u32;
            for _ in 0..200 {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                // Steps of up to a 16th of the text table: some land on postings, most do not.
                id = id.saturating_add((seed >> 33) as u32 % (index.records.len() as u32 / 16));
                let probe = if seed & 1 == 1 { all[(seed >> 40) as usize % all.len()].max(id) } else { id };
                id = probe;
                if head.is_none_or(|h| h < id) {
                    it.skip_towards(id);
                    head = it.next();
                    while head.is_some_and(|h| h < id) {
                        head = it.next();
                    }
                }
                let want = all.partition_point(|&p| p < id);
                assert_eq!(head, all.get(want).copied(), "term {term} at {id}");
            }
        }
    }

    #[test]
    fn varints_round_trip_and_reject_truncation() {
        let mut b = Vec::new();
        // Each length's first and last value (one and two bytes take the short paths).
        let values = [0, 1, 127, 128, 300, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455, 268_435_456, u32::MAX];
        for v in values {
            write_varint(&mut b, v);
        }
        let mut rest = &b[..];
        for v in values {
            let (got, r) = read_varint(rest).unwrap();
            assert_eq!(got, v);
            rest = r;
        }
        assert!(read_varint(&[]).is_none());
        assert!(read_varint(&[0x80]).is_none());
        assert!(read_varint(&[0x80, 0x80]).is_none());
        assert!(read_varint(&[0xFF; 6]).is_none());
    }
}

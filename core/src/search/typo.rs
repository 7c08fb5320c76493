//! Typo search over the term dictionary: the terms within one or two edits of a query word.
//!
//! The terms are held a second time as a trie in breadth-first order, built when the index is
//! loaded (a few milliseconds; about 20 bytes a term): a node is its label byte and where its
//! children start (they are consecutive, and end where the next node's start).
//! A walk keeps one column of the edit-distance table per char of the path, bit-parallel: for
//! each number of edits up to the budget, the set of the word's prefixes within it (one `u64`,
//! words are at most 64 chars), so a char of the path costs a few word operations whatever the
//! word's length. It leaves a branch as soon as no prefix of the word is within the budget.
//! Where every cell is at the budget, only a char of the word near that depth can extend a
//! match, so the other children are passed over on their label alone.
//!
//! One edit of an ASCII word (the common case: a word of 5 to 8 letters, or the first try of
//! a longer one) needs no walk: a term at one edit follows the word's own path until the edit,
//! then the rest of the word, so [`TermTrie::near`] goes down that path and, at each depth,
//! tries the four edits there (a few trie steps each); in prefix mode it then lists the terms
//! below each string found. Same terms, same order, as the walk (a test compares them).
//!
//! Distance: Damerau-Levenshtein with adjacent transpositions (optimal string alignment) over
//! `char`s, a transposition one edit (`hypretension` is one edit from `hypertension`).

use super::index::TermId;

/// Deepest path, in chars, that a walk follows (indexed words are at most 40 bytes), and the
/// longest word it searches for (one bit of a `u64` per char).
const MAX_DEPTH: usize = 64;
/// Children of a node that a walk tests one by one against the wanted bytes (more: each
/// wanted byte is looked up).
const FEW_CHILDREN: usize = 8;
/// Most edits a walk allows.
pub(crate) const MAX_EDITS: usize = 2;

/// The term dictionary as a trie in breadth-first order (node 0 is the root): the children of
/// a node are consecutive, so reading them is one sweep over a few bytes.
pub(crate) struct TermTrie {
    /// The byte on the edge into each node (the root's is unused).
    labels: Vec<u8>,
    /// The first child of each node, and one more entry: the children of node `v` are
    /// `firsts[v] .. firsts[v + 1]` (breadth-first order lays children out as their parents).
    firsts: Vec<u32>,
    /// Nodes that end a term, one bit each.
    finals: Vec<u64>,
    /// `ranks[i]`: final nodes before `64 * i`.
    ranks: Vec<u32>,
    /// The term id of each final node, in node order.
    ids: Ids,
}

/// Term ids, two bytes each while they fit.
enum Ids {
    Short(Vec<u16>),
    Long(Vec<u32>),
}

/// Builds a [`TermTrie`] from the terms in increasing order (first in preorder, where a term
/// adds the nodes its prefix shared with the previous term lacks).
pub(crate) struct TrieBuilder {
    labels: Vec<u8>,
    /// Nodes in each subtree (the node included).
    sizes: Vec<u32>,
    finals: Vec<bool>,
    /// The nodes of the path of the last term, by depth.
    open: Vec<u32>,
    last: Vec<u8>,
}

impl TermTrie {
    pub fn builder() -> TrieBuilder {
        TrieBuilder { labels: vec![0], sizes: vec![1], finals: vec![false], open: vec![0], last: Vec::new() }
    }

    /// A trie that finds nothing.
    fn empty() -> TermTrie {
        TermTrie { labels: Vec::new(), firsts: Vec::new(), finals: Vec::new(), ranks: Vec::new(), ids: Ids::Short(Vec::new()) }
    }

    /// Backs the trie's node arrays with huge pages (see
    /// [`crate::book::memory::prefer_huge_pages`]).
    pub fn prefer_huge_pages(&self) {
        crate::book::memory::prefer_huge_pages(&self.labels);
        crate::book::memory::prefer_huge_pages(&self.firsts);
    }

    pub fn heap_bytes(&self) -> usize {
        let ids = match &self.ids {
            Ids::Short(v) => 2 * v.len(),
            Ids::Long(v) => 4 * v.len(),
        };
        self.labels.len() + 4 * self.firsts.len() + 8 * self.finals.len() + 4 * self.ranks.len() + ids
    }

    fn label(&self, v: usize) -> u8 {
        self.labels.get(v).copied().unwrap_or(0)
    }

    /// The children of node `v`, as a range of nodes.
    fn children(&self, v: usize) -> std::ops::Range<usize> {
        match self.firsts.get(v..v + 2) {
            Some(&[a, b]) => a as usize..(b as usize).max(a as usize),
            _ => 0..0,
        }
    }

    fn is_final(&self, v: usize) -> bool {
        self.finals.get(v / 64).is_some_and(|w| w >> (v % 64) & 1 == 1)
    }

    /// The term id of a final node.
    fn term(&self, v: usize) -> TermId {
        let (i, bit) = (v / 64, v % 64);
        let below = self.finals.get(i).map_or(0, |w| (w & ((1u64 << bit) - 1)).count_ones());
        let r = (self.ranks.get(i).copied().unwrap_or(0) + below) as usize;
        match &self.ids {
            Ids::Short(ids) => ids.get(r).map_or(0, |&t| TermId::from(t)),
            Ids::Long(ids) => ids.get(r).copied().unwrap_or(0),
        }
    }

    /// The node that `path` leads to from the root (`Some(None)`: none); `None` for a trie that
    /// finds nothing.
    fn node(&self, path: &[u8]) -> Option<Option<usize>> {
        if self.labels.is_empty() {
            return None;
        }
        Some(self.down(0, path))
    }

    /// The term id of a word (`Some(None)`: no term); `None` for a trie that finds nothing.
    pub fn find(&self, word: &[u8]) -> Option<Option<TermId>> {
        Some(self.node(word)?.filter(|&v| self.is_final(v)).map(|v| self.term(v)))
    }

    /// The ids of the terms that begin with `prefix` (a subtree's terms are consecutive in
    /// preorder, the term order): from the least term below the prefix's node to the greatest.
    /// `None` for a trie that finds nothing (the term dictionary must answer).
    pub fn prefix_range(&self, prefix: &[u8]) -> Option<std::ops::Range<TermId>> {
        let Some(v) = self.node(prefix)? else { return Some(0..0) };
        Some(self.terms_below(v).map_or(0..0, |(lo, hi)| lo..hi))
    }

    /// Terms within `max` edits of `word` (at most [`MAX_EDITS`]), with their edits and their
    /// words (the walk's path: no look-up in the term dictionary), at most `limit`, in term
    /// order; with `prefix`, the terms that *begin* with a string within `max` edits (the least
    /// such). Terms at no edit (the word itself; in prefix mode, any term the word begins) are
    /// left out.
    pub fn near(&self, text: &str, max: u8, prefix: bool, limit: usize) -> Vec<(TermId, u8, String)> {
        let word: Vec<char> = text.chars().collect();
        if word.is_empty() || word.len() > MAX_DEPTH || max == 0 || max as usize > MAX_EDITS || limit == 0 || self.labels.is_empty() {
            return Vec::new();
        }
        if max == 1 && word.len() < MAX_DEPTH && text.is_ascii() {
            if prefix {
                self.one_edit_prefix(text.as_bytes(), limit)
            } else {
                self.one_edit(text.as_bytes(), limit)
            }
        } else if max == 1 {
            Walk::<1>::new(self, &word, prefix, limit).run()
        } else {
            Walk::<2>::new(self, &word, prefix, limit).run()
        }
    }
}

impl TermTrie {
    /// [`TermTrie::near`] for one edit of a whole ASCII word (shorter than [`MAX_DEPTH`]): the
    /// same terms in the same order, found without the edit-distance columns. A term at one
    /// edit shares a prefix with the word, and then is one edit away right where it leaves the
    /// word: this goes down the word's own path and, at each depth, reads on from there by the
    /// rest of the word after a deletion, a transposition, and (below each child) an insertion
    /// or a substitution (see [`TermTrie::each_edit`]). That is a few steps per child of the
    /// word's path, where a walk computes a column for every node it enters.
    fn one_edit(&self, word: &[u8], limit: usize) -> Vec<(TermId, u8, String)> {
        let mut found: Vec<(TermId, String)> = Vec::new();
        self.each_edit(word, &mut |v, text| {
            if self.is_final(v) {
                found.push((self.term(v), text.to_string()));
            }
        });
        found.sort_unstable_by_key(|f| f.0);
        found.dedup_by_key(|f| f.0);
        found.truncate(limit);
        found.into_iter().map(|(t, w)| (t, 1, w)).collect()
    }

    /// [`TermTrie::near`] for one edit of an ASCII word (shorter than [`MAX_DEPTH`]) in prefix
    /// mode: the terms below the node of each string at one edit of the word (no walk), less
    /// those the word itself begins, in term order. (The walk stops at 64 chars; terms are at
    /// most 40 bytes, so none lies deeper.)
    fn one_edit_prefix(&self, word: &[u8], limit: usize) -> Vec<(TermId, u8, String)> {
        // Terms the word begins are at no edit (some edits, as `tennis` -> `tenniss`, lead
        // below the word's own node).
        let own = self.down(0, word);
        let (own_lo, own_hi) = own.and_then(|v| self.terms_below(v)).unwrap_or((0, 0));
        // (first term, end of the terms) below each edit's node, with the edit's text.
        let mut below: Vec<(TermId, TermId, usize, String)> = Vec::new();
        self.each_edit(word, &mut |v, text| {
            // (The empty string, from a one-char word, would list every term: the edits of
            // that char list the same ones.)
            if !text.is_empty() && Some(v) != own {
                if let Some((lo, hi)) = self.terms_below(v).filter(|&(lo, hi)| lo < own_lo || hi > own_hi) {
                    below.push((lo, hi, v, text.to_string()));
                }
            }
        });
        // Subtrees are nested or apart: keep the outermost, in term order.
        below.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut out = Vec::new();
        let mut end = 0;
        let mut path = Vec::new();
        for (lo, hi, v, text) in below {
            if hi <= end && lo < end {
                continue;
            }
            end = hi;
            path.clear();
            path.extend_from_slice(text.as_bytes());
            if !self.each_term_below(v, own, &mut path, &mut out, limit) {
                break;
            }
        }
        out
    }

    /// The first term and one past the last below node `v` (`None`: no term): the first final
    /// node down the first children, and the leaf down the last children (every leaf ends a
    /// term).
    fn terms_below(&self, v: usize) -> Option<(TermId, TermId)> {
        let mut least = v;
        while !self.is_final(least) {
            least = self.children(least).next()?;
        }
        let mut greatest = v;
        while let Some(last) = self.children(greatest).last() {
            greatest = last;
        }
        Some((self.term(least), self.term(greatest) + 1))
    }

    /// Adds the terms below node `v` (`path` its bytes) in term order, but none below `skip`,
    /// with one edit and their words; false once `out` holds `limit`.
    fn each_term_below(
        &self,
        v: usize,
        skip: Option<usize>,
        path: &mut Vec<u8>,
        out: &mut Vec<(TermId, u8, String)>,
        limit: usize,
    ) -> bool {
        if Some(v) == skip {
            return true;
        }
        if self.is_final(v) {
            out.push((self.term(v), 1, String::from_utf8_lossy(path).into_owned()));
            if out.len() >= limit {
                return false;
            }
        }
        for c in self.children(v) {
            path.push(self.label(c));
            let more = self.each_term_below(c, skip, path, out, limit);
            path.pop();
            if !more {
                return false;
            }
        }
        true
    }

    /// Calls `f` with the node and the text of each string at one edit of an ASCII `word`
    /// that the trie holds as a path: deletions, adjacent transpositions, insertions and
    /// substitutions, found by going down the word's own path and, at each depth, reading on
    /// after the edit there. (A string may come more than once.)
    fn each_edit(&self, bytes: &[u8], f: &mut dyn FnMut(usize, &str)) {
        let mut text = String::with_capacity(bytes.len() + 4);
        // The string `head`, then `mid`, then `tail`, from node `v` (the node of `head` and
        // `mid`).
        let mut reach = |v: usize, head: &[u8], mid: &str, tail: &[u8]| {
            let Some(v) = self.down(v, tail) else { return };
            text.clear();
            text.extend(head.iter().map(|&b| char::from(b)));
            text.push_str(mid);
            text.extend(tail.iter().map(|&b| char::from(b)));
            f(v, &text);
        };
        let mut buf = [0u8; 4];
        let mut v = Some(0);
        for k in 0..=bytes.len() {
            let Some(at) = v else { break };
            let (head, rest) = bytes.split_at(k);
            let next = rest.split_first();
            if let Some((&c, after)) = next {
                // Deletion of the word's char `k`.
                reach(at, head, "", after);
                // Transposition of its chars `k` and `k + 1`.
                if let Some((&d, after)) = after.split_first().filter(|(&d, _)| d != c) {
                    if let Some(swapped) = self.down(at, &[d, c]) {
                        let pair = [d, c];
                        reach(swapped, head, std::str::from_utf8(&pair).unwrap_or_default(), after);
                    }
                }
            }
            // Insertion of a char before the word's char `k`, or substitution of that char:
            // each child's char (an ASCII label is one; others are decoded as a walk does).
            let mut edit = |child: usize, ch: char| {
                let mid = ch.encode_utf8(&mut buf);
                reach(child, head, mid, rest);
                if let Some((_, after)) = next.filter(|(&c, _)| char::from(c) != ch) {
                    reach(child, head, mid, after);
                }
            };
            for child in self.children(at) {
                match self.label(child) {
                    b @ 0..0x80 => edit(child, char::from(b)),
                    _ => self.each_char_at(child, &mut edit),
                }
            }
            v = next.and_then(|(&b, _)| self.down(at, &[b]));
        }
    }

    /// The node that the bytes `path` lead to from node `v`.
    fn down(&self, mut v: usize, path: &[u8]) -> Option<usize> {
        for &b in path {
            let children = self.children(v);
            let first = children.start;
            let labels = self.labels.get(children)?;
            // Labels are sorted: many are searched, a few read.
            v = first + if labels.len() > FEW_CHILDREN { labels.binary_search(&b).ok()? } else { labels.iter().position(|&l| l == b)? };
        }
        Some(v)
    }

    /// Calls `f` with each node where the char that the label of node `c` begins ends, and
    /// that char, decoded as a walk decodes it (an invalid byte is one replacement char).
    fn each_char_at(&self, c: usize, f: &mut dyn FnMut(usize, char)) {
        let b = self.label(c);
        match b {
            0xC2..0xE0 => self.each_continuation(c, u32::from(b & 0x1F), 1, f),
            0xE0..0xF0 => self.each_continuation(c, u32::from(b & 0x0F), 2, f),
            0xF0..0xF5 => self.each_continuation(c, u32::from(b & 0x07), 3, f),
            0..0x80 => f(c, char::from(b)),
            _ => f(c, char::REPLACEMENT_CHARACTER),
        }
    }

    /// The rest of a char begun at node `v`: `pending` more bytes, whatever they are.
    fn each_continuation(&self, v: usize, code: u32, pending: u8, f: &mut dyn FnMut(usize, char)) {
        for c in self.children(v) {
            let code = (code << 6) | u32::from(self.label(c) & 0x3F);
            if pending == 1 {
                f(c, char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
            } else {
                self.each_continuation(c, code, pending - 1, f);
            }
        }
    }
}

impl TrieBuilder {
    /// Adds a term; terms come in increasing order (as the fst gives them).
    pub fn push(&mut self, key: &[u8]) {
        let lcp = self.last.iter().zip(key).take_while(|(a, b)| a == b).count();
        self.close(lcp + 1);
        for &b in key.get(lcp..).unwrap_or_default() {
            let v = self.labels.len() as u32;
            self.labels.push(b);
            self.sizes.push(1);
            self.finals.push(false);
            self.open.push(v);
        }
        if let Some(&v) = self.open.last() {
            self.finals[v as usize] = true;
        }
        self.last.clear();
        self.last.extend_from_slice(key);
    }

    /// Closes the open nodes deeper than `keep`.
    fn close(&mut self, keep: usize) {
        while self.open.len() > keep {
            if let Some(v) = self.open.pop() {
                self.sizes[v as usize] = self.labels.len() as u32 - v;
            }
        }
    }

    /// Lays the trie out breadth first. A node with more than 255 children (which no UTF-8
    /// words give) leaves a trie that finds nothing.
    pub fn finish(mut self) -> TermTrie {
        self.close(0);
        let n = self.labels.len();
        // Term ids: final nodes in preorder are the terms in order.
        let mut pre_rank = Vec::with_capacity(n);
        let mut terms = 0u32;
        for &f in &self.finals {
            pre_rank.push(terms);
            terms += u32::from(f);
        }
        let mut order: Vec<u32> = Vec::with_capacity(n);
        order.push(0);
        let (mut labels, mut counts) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut i = 0;
        while let Some(&v) = order.get(i) {
            i += 1;
            let v = v as usize;
            let end = v + self.sizes[v].max(1) as usize;
            let mut c = v + 1;
            let mut count = 0usize;
            while c < end.min(n) {
                order.push(c as u32);
                count += 1;
                c += self.sizes[c].max(1) as usize;
            }
            let Ok(count) = u8::try_from(count) else { return TermTrie::empty() };
            labels.push(self.labels[v]);
            counts.push(count);
        }
        let mut finals = vec![0u64; n.div_ceil(64)];
        let mut short = Vec::new();
        let mut long = Vec::new();
        let fits = terms <= u32::from(u16::MAX) + 1;
        for (b, &v) in order.iter().enumerate() {
            if self.finals[v as usize] {
                finals[b / 64] |= 1 << (b % 64);
                let id = pre_rank[v as usize];
                if fits {
                    short.push(id as u16);
                } else {
                    long.push(id);
                }
            }
        }
        let mut ranks = Vec::with_capacity(finals.len());
        let mut total = 0u32;
        for w in &finals {
            ranks.push(total);
            total += w.count_ones();
        }
        let mut firsts = Vec::with_capacity(n + 1);
        let mut sum = 1u32;
        for &c in &counts {
            firsts.push(sum);
            sum += u32::from(c);
        }
        firsts.push(sum);
        let ids = if fits { Ids::Short(short) } else { Ids::Long(long) };
        TermTrie { labels, firsts, finals, ranks, ids }
    }
}

/// A partial UTF-8 sequence on a path.
#[derive(Clone, Copy, Default)]
struct Utf8 {
    code: u32,
    /// Continuation bytes still expected.
    pending: u8,
}

/// Bit masks of where each char occurs in the word (bit `i`: the word's char `i`).
struct Masks {
    ascii: [u64; 128],
    /// The word's other chars, with their masks.
    other: Vec<(char, u64)>,
}

impl Masks {
    fn new(word: &[char]) -> Masks {
        let mut m = Masks { ascii: [0; 128], other: Vec::new() };
        for (i, &c) in word.iter().enumerate().take(64) {
            let bit = 1u64 << i;
            match m.ascii.get_mut(c as usize) {
                Some(mask) => *mask |= bit,
                None => match m.other.iter_mut().find(|o| o.0 == c) {
                    Some(o) => o.1 |= bit,
                    None => m.other.push((c, bit)),
                },
            }
        }
        m
    }

    /// Where `c` occurs in the word.
    fn of(&self, c: char) -> u64 {
        match self.ascii.get(c as usize) {
            Some(&mask) => mask,
            None => self.other.iter().find(|o| o.0 == c).map_or(0, |o| o.1),
        }
    }
}

/// One column of the edit-distance table (the path's first `k` chars against every prefix of
/// the word) as the states of a Levenshtein automaton (bit-parallel, Wu and Manber's with
/// adjacent transpositions): bit `i` of `within[d]` says the cell of the word's first `i + 1`
/// chars is at most `d`. (The cell of the empty prefix is `k`, not stored.)
#[derive(Clone, Copy, Default)]
struct Column {
    within: [u64; MAX_EDITS + 1],
    /// The mask of the path's `k`-th char (none for column 0).
    x: u64,
}

/// Shifts a set of cells one word char on: cell `i` becomes `i + 1`; `empty`: the cell of the
/// empty prefix is in the set.
fn on(set: u64, empty: bool) -> u64 {
    (set << 1) | u64::from(empty)
}

/// One walk with a budget of `MAX` edits: the columns of the edit-distance table along the
/// current path.
struct Walk<'a, const MAX: usize> {
    trie: &'a TermTrie,
    word: &'a [char],
    masks: Masks,
    /// The first UTF-8 byte of each char of the word.
    heads: [u8; MAX_DEPTH],
    /// Bits of the word's chars.
    ones: u64,
    prefix: bool,
    limit: usize,
    /// Column `k` for the path's first `k` chars, `0 ..= MAX_DEPTH`.
    cols: [Column; MAX_DEPTH + 1],
    /// The path's chars (the first `depth`).
    path: [char; MAX_DEPTH],
    out: Vec<(TermId, u8, String)>,
}

impl<'a, const MAX: usize> Walk<'a, MAX> {
    /// The budget, and the cap of a cell over it.
    const MAX: u8 = MAX as u8;
    const CAP: u8 = MAX as u8 + 1;

    fn new(trie: &'a TermTrie, word: &'a [char], prefix: bool, limit: usize) -> Self {
        let n = word.len();
        let ones = if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
        let mut heads = [0u8; MAX_DEPTH];
        for (h, c) in heads.iter_mut().zip(word) {
            let mut buf = [0u8; 4];
            *h = c.encode_utf8(&mut buf).as_bytes()[0];
        }
        // Column 0: cell `i` is `i`.
        let mut first = Column::default();
        for (d, set) in first.within.iter_mut().enumerate() {
            *set = ones & ((1u64 << d) - 1);
        }
        let mut cols = [Column::default(); MAX_DEPTH + 1];
        cols[0] = first;
        Walk { trie, word, masks: Masks::new(word), heads, ones, prefix, limit, cols, path: ['\0'; MAX_DEPTH], out: Vec::new() }
    }

    /// Walks the trie from the root; the terms found.
    fn run(mut self) -> Vec<(TermId, u8, String)> {
        self.visit(0, 0, Utf8::default(), 0, u8::MAX);
        self.out
    }

    /// Cell `j` of column `k`, capped at `MAX + 1`.
    fn cell(&self, k: usize, j: usize) -> u8 {
        self.cols.get(k).map_or(Self::CAP, |col| Self::cell_of(col, k, j))
    }

    /// Cell `j` of `col`, column `k`, capped at `MAX + 1`.
    fn cell_of(col: &Column, k: usize, j: usize) -> u8 {
        if j == 0 {
            return k.min(MAX + 1) as u8;
        }
        (0..=MAX).find(|&d| col.within[d] >> ((j - 1) & 63) & 1 == 1).map_or(Self::CAP, |d| d as u8)
    }

    /// The least cell of column `k`, capped at `MAX + 1`.
    fn least(&self, k: usize) -> u8 {
        self.cols.get(k).map_or(Self::CAP, |col| Self::least_of(col, k))
    }

    /// The least cell of `col`, column `k`, capped at `MAX + 1`.
    fn least_of(col: &Column, k: usize) -> u8 {
        (0..=MAX).find(|&d| k <= d || col.within[d] != 0).map_or(Self::CAP, |d| d as u8)
    }

    /// Computes column `k` (1-based) for the path's `k`-th char `c`; returns its least cell.
    fn step(&mut self, k: usize, c: char) -> u8 {
        let Some(&prev) = self.cols.get(k.wrapping_sub(1)) else { return Self::CAP };
        // Column 0's char mask is empty: no transposition reaches back before it.
        let before = self.cols.get(k.wrapping_sub(2)).copied().unwrap_or_default();
        let x = self.masks.of(c);
        let mut col = Column { x, ..Column::default() };
        // A transposition: the word's chars `i - 1, i` are the path's last two swapped.
        let swapped = (x << 1) & prev.x;
        col.within[0] = on(prev.within[0], k == 1) & x;
        for d in 1..=MAX {
            let fewer = d - 1;
            let matched = on(prev.within[d], k - 1 <= d) & x;
            let substituted = on(prev.within[fewer], k - 1 <= fewer);
            let inserted = prev.within[fewer];
            let deleted = on(col.within[fewer], k <= fewer);
            let transposed = (on(before.within[fewer], k.wrapping_sub(2) <= fewer) << 1) & swapped;
            col.within[d] = (matched | substituted | inserted | deleted | transposed) & self.ones;
        }
        if let Some(slot) = self.cols.get_mut(k) {
            *slot = col;
        }
        Self::least_of(&col, k)
    }

    /// Visits the children of node `v`, reached by `depth` whole chars (`utf8` holds an
    /// unfinished one); `least` is the least cell of the path's column, `best` the least distance
    /// of a path prefix to the whole word (prefix mode). False once `limit` terms are found.
    fn visit(&mut self, v: usize, depth: usize, utf8: Utf8, least: u8, best: u8) -> bool {
        let trie = self.trie;
        let children = trie.children(v);
        if children.is_empty() {
            return true;
        }
        let open = least < Self::MAX || (self.prefix && best <= Self::MAX) || utf8.pending > 0;
        // Every cell at the budget: a child keeps a cell within it only by the char of the word
        // after a cell at the budget (the diagonal), or by a transposition.
        // The wanted first bytes, one bit each.
        let mut wanted = [0u64; 4];
        if !open {
            // Cells `i` at the budget (none is below it), and, for a transposition, cells `i`
            // below it one char back where the path's last char is the word's char `i + 1`:
            // each wants the word's char `i`.
            let col = self.cols.get(depth).copied().unwrap_or_default();
            let mut cells = on(col.within[MAX], depth <= MAX);
            if depth >= 1 {
                let before = self.cols.get(depth - 1).copied().unwrap_or_default();
                cells |= on(before.within[MAX - 1], depth - 1 < MAX) & (col.x >> 1);
            }
            let mut cells = cells & self.ones;
            while cells != 0 {
                let b = self.heads[cells.trailing_zeros() as usize & 63];
                cells &= cells - 1;
                wanted[usize::from(b / 64)] |= 1 << (b % 64);
            }
            if wanted == [0; 4] {
                return true;
            }
        }
        let first = children.start;
        let labels = trie.labels.get(children).unwrap_or_default();
        if open {
            for i in 0..labels.len() {
                if !self.edge(first + i, depth, utf8, best) {
                    return false;
                }
            }
            return true;
        }
        // The wanted children in label order (labels are sorted): a few children are each
        // tested, among many each wanted byte is found by a binary search.
        if labels.len() <= FEW_CHILDREN {
            for (i, &l) in labels.iter().enumerate() {
                if wanted[usize::from(l / 64)] >> (l % 64) & 1 == 1 && !self.edge(first + i, depth, utf8, best) {
                    return false;
                }
            }
            return true;
        }
        for (base, mut bits) in (0u16..).step_by(64).zip(wanted) {
            while bits != 0 {
                let label = (base + bits.trailing_zeros() as u16) as u8;
                bits &= bits - 1;
                if let Ok(i) = labels.binary_search(&label) {
                    if !self.edge(first + i, depth, utf8, best) {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// Follows the edge into node `c` (see [`Walk::visit`]).
    fn edge(&mut self, c: usize, depth: usize, utf8: Utf8, best: u8) -> bool {
        let n = self.word.len();
        let b = self.trie.label(c);
        let mut next = Utf8::default();
        let mut done = None;
        if utf8.pending > 0 {
            let code = (utf8.code << 6) | u32::from(b & 0x3F);
            if utf8.pending == 1 {
                done = Some(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
            } else {
                next = Utf8 { code, pending: utf8.pending - 1 };
            }
        } else if b < 0x80 {
            done = Some(b as char);
        } else if (0xC2..0xE0).contains(&b) {
            next = Utf8 { code: u32::from(b & 0x1F), pending: 1 };
        } else if (0xE0..0xF0).contains(&b) {
            next = Utf8 { code: u32::from(b & 0x0F), pending: 2 };
        } else if (0xF0..0xF5).contains(&b) {
            next = Utf8 { code: u32::from(b & 0x07), pending: 3 };
        } else {
            done = Some(char::REPLACEMENT_CHARACTER);
        }
        let (mut depth_below, mut best_below) = (depth, best);
        let least;
        if let Some(ch) = done {
            if depth >= MAX_DEPTH {
                return true;
            }
            if let Some(at) = self.path.get_mut(depth) {
                *at = ch;
            }
            least = self.step(depth + 1, ch);
            depth_below = depth + 1;
            if self.prefix {
                best_below = best.min(self.cell(depth_below, n));
                // Every term below begins with the word itself: no typo.
                if best_below == 0 {
                    return true;
                }
            }
            if least > Self::MAX && !(self.prefix && best_below <= Self::MAX) {
                return true;
            }
        } else {
            // An unfinished char keeps the column of the path before it.
            least = self.least(depth);
        }
        if next.pending == 0 && self.trie.is_final(c) {
            let d = if self.prefix { best_below } else { self.cell(depth_below, n) };
            if d > 0 && d <= Self::MAX {
                self.out.push((self.trie.term(c), d, self.path.get(..depth_below).unwrap_or_default().iter().collect()));
                if self.out.len() >= self.limit {
                    return false;
                }
            }
        }
        self.visit(c, depth_below, next, least, best_below)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trie(words: &[&str]) -> TermTrie {
        let mut sorted: Vec<&str> = words.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut b = TermTrie::builder();
        for w in &sorted {
            b.push(w.as_bytes());
        }
        b.finish()
    }

    /// The reference: every word's distance by the full table.
    fn osa(a: &[char], b: &[char]) -> usize {
        let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for (i, row) in d.iter_mut().enumerate() {
            row[0] = i;
        }
        for (j, cell) in d[0].iter_mut().enumerate() {
            *cell = j;
        }
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                let mut v = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + usize::from(a[i - 1] != b[j - 1]));
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    v = v.min(d[i - 2][j - 2] + 1);
                }
                d[i][j] = v;
            }
        }
        d[a.len()][b.len()]
    }

    #[test]
    fn walks_agree_with_the_full_table() {
        let words = [
            "hypertension",
            "hypertensive",
            "hypotension",
            "hypertenson",
            "heart",
            "hearts",
            "heat",
            "hart",
            "ehart",
            "portal",
            "postal",
            "mortal",
            "meniere",
            "ménière",
            "ménières",
            "a",
            "ab",
            "abc",
            "failure",
            "failre",
            "falure",
            "fialure",
            "ß",
            "straße",
            "strasse",
        ];
        let t = trie(&words);
        let mut sorted: Vec<&str> = words.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        for q in ["hypertenson", "heart", "hrat", "portl", "meniere", "menière", "failure", "ab", "strase", "x", "ménère"] {
            let qc: Vec<char> = q.chars().collect();
            for max in 1..=2u8 {
                for prefix in [false, true] {
                    let near = t.near(q, max, prefix, usize::MAX);
                    for (id, _, word) in &near {
                        assert_eq!(word, sorted[*id as usize], "the word of a term");
                    }
                    let got: Vec<(TermId, u8)> = near.into_iter().map(|(id, d, _)| (id, d)).collect();
                    let want: Vec<(TermId, u8)> = sorted
                        .iter()
                        .enumerate()
                        .filter_map(|(id, w)| {
                            let wc: Vec<char> = w.chars().collect();
                            let d = if prefix { (0..=wc.len()).map(|l| osa(&wc[..l], &qc)).min().unwrap_or(0) } else { osa(&wc, &qc) };
                            (d > 0 && d <= max as usize).then_some((id as TermId, d as u8))
                        })
                        .collect();
                    assert_eq!(got, want, "{q:?} max {max} prefix {prefix}");
                }
            }
        }
        assert_eq!(t.near("heart", 1, false, 2).len(), 2, "the limit holds");
        assert!(t.near("", 1, false, 10).is_empty());
        assert!(t.near("heart", 3, false, 10).is_empty());
    }

    /// A small deterministic generator (SplitMix64) for the randomised tests.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let z = (self.0 ^ (self.0 >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) % n as u64) as usize
        }

        fn word(&mut self, alphabet: &[char], len: usize) -> Vec<char> {
            (0..len).map(|_| alphabet[self.below(alphabet.len())]).collect()
        }

        /// `word` with up to `edits` random edits (substitution, insertion, deletion, swap).
        fn edit(&mut self, word: &[char], alphabet: &[char], edits: usize) -> Vec<char> {
            let mut w = word.to_vec();
            for _ in 0..edits {
                let at = self.below(w.len() + 1);
                let c = alphabet[self.below(alphabet.len())];
                match self.below(4) {
                    0 if at < w.len() => w[at] = c,
                    1 => w.insert(at, c),
                    2 if at < w.len() => {
                        w.remove(at);
                    }
                    _ if at + 1 < w.len() => w.swap(at, at + 1),
                    _ => {}
                }
            }
            w
        }
    }

    /// Every cell of every column the walk keeps, and each column's least cell, against the
    /// full table, for random words and paths (short alphabets, so that chars repeat and
    /// transpose; a char outside ASCII; words up to the 64 chars of one bit vector).
    #[test]
    fn columns_agree_with_the_full_table() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let alphabet = ['a', 'b', 'c', 'é'];
        for round in 0..6000 {
            let len = if round % 50 == 0 { 40 + rng.below(25) } else { 1 + rng.below(12) };
            let word = rng.word(&alphabet, len);
            let (edits, other) = (1 + rng.below(3), rng.below(14));
            let path = if round % 2 == 0 { rng.edit(&word, &alphabet, edits) } else { rng.word(&alphabet, other) };
            let path = &path[..path.len().min(MAX_DEPTH)];
            columns_agree::<1>(&word, path);
            columns_agree::<2>(&word, path);
        }
    }

    /// The columns of a walk with budget `MAX` along `path` against the full table.
    fn columns_agree<const MAX: usize>(word: &[char], path: &[char]) {
        let t = TermTrie::empty();
        let cap = MAX as u8 + 1;
        let mut walk = Walk::<MAX>::new(&t, word, false, 1);
        for k in 0..=path.len() {
            if k > 0 {
                walk.step(k, path[k - 1]);
            }
            let cells: Vec<u8> = (0..=word.len()).map(|j| (osa(&path[..k], &word[..j]) as u8).min(cap)).collect();
            let got: Vec<u8> = (0..=word.len()).map(|j| walk.cell(k, j)).collect();
            assert_eq!(got, cells, "{word:?} {path:?} max {MAX} column {k}");
            assert_eq!(walk.least(k), cells.iter().copied().min().unwrap_or(cap), "{word:?} {path:?} max {MAX} column {k}");
        }
    }

    /// Walks over a dictionary of random words against every term's distance by the full table,
    /// for queries that are terms with random edits, whole and in prefix mode, with and without
    /// a limit.
    #[test]
    fn walks_agree_with_the_full_table_on_random_words() {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let alphabet = ['a', 'b', 'c', 'd', 'e', 'ß', 'é'];
        let words: Vec<String> = (0..400)
            .map(|_| {
                let len = 1 + rng.below(9);
                rng.word(&alphabet, len).into_iter().collect()
            })
            .collect();
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        let t = trie(&refs);
        let mut sorted = refs.clone();
        sorted.sort_unstable();
        sorted.dedup();
        let chars: Vec<Vec<char>> = sorted.iter().map(|w| w.chars().collect()).collect();
        for round in 0..300 {
            let from = &chars[rng.below(chars.len())];
            let edits = rng.below(3);
            let q = rng.edit(from, &alphabet, edits);
            if q.is_empty() {
                continue;
            }
            let qs: String = q.iter().collect();
            for max in 1..=MAX_EDITS as u8 {
                for prefix in [false, true] {
                    let want: Vec<(TermId, u8, String)> = chars
                        .iter()
                        .enumerate()
                        .filter_map(|(id, wc)| {
                            let d = if prefix { (0..=wc.len()).map(|l| osa(&wc[..l], &q)).min().unwrap_or(0) } else { osa(wc, &q) };
                            (d > 0 && d <= max as usize).then(|| (id as TermId, d as u8, sorted[id].to_string()))
                        })
                        .collect();
                    assert_eq!(t.near(&qs, max, prefix, usize::MAX), want, "{qs:?} max {max} prefix {prefix}");
                    let limit = 1 + round % 5;
                    let cut: Vec<_> = want.iter().take(limit).cloned().collect();
                    assert_eq!(t.near(&qs, max, prefix, limit), cut, "{qs:?} max {max} prefix {prefix} limit {limit}");
                }
            }
        }
    }

    /// The default book's walks against the full table: terms of its dictionary with random
    /// edits, every term's distance computed (whole, and the least over its prefixes), at one
    /// and two edits, whole and in prefix mode.
    #[test]
    fn walks_agree_with_the_full_table_on_the_default_book() {
        let book = crate::Book::open_default().unwrap();
        let index = book.search_index();
        let words = index.words();
        let chars: Vec<Vec<char>> = words.iter().map(|w| w.chars().collect()).collect();
        let alphabet: Vec<char> = "abcdefghijklmnopqrstuvwxyz".chars().collect();
        let mut rng = Rng(0xD1B5_4A32_D192_ED03);
        let long: Vec<&Vec<char>> = chars.iter().filter(|w| w.len() >= 5).collect();
        for _ in 0..40 {
            let from = long[rng.below(long.len())];
            let edits = rng.below(3);
            let q = rng.edit(from, &alphabet, edits);
            let qs: String = q.iter().collect();
            // Last column of the table of each term against the query: the distance of each of
            // the term's prefixes (only those of up to `|q| + 2` chars can be within two edits).
            let dists: Vec<(usize, usize)> = chars
                .iter()
                .map(|w| {
                    let w = &w[..w.len().min(q.len() + MAX_EDITS)];
                    let whole = osa(w, &q);
                    let least =
                        (0..=w.len()).map(|l| if l + MAX_EDITS >= q.len() { osa(&w[..l], &q) } else { usize::MAX }).min().unwrap_or(0);
                    (whole, least)
                })
                .collect();
            for max in 1..=MAX_EDITS as u8 {
                for prefix in [false, true] {
                    let want: Vec<(TermId, u8, String)> = dists
                        .iter()
                        .enumerate()
                        .filter(|&(id, _)| prefix || chars[id].len() <= q.len() + MAX_EDITS)
                        .filter_map(|(id, &(whole, least))| {
                            let d = if prefix { least } else { whole };
                            (d > 0 && d <= max as usize).then(|| (id as TermId, d as u8, words[id].clone()))
                        })
                        .collect();
                    assert_eq!(index.near(&qs, max, prefix, usize::MAX), want, "{qs:?} max {max} prefix {prefix}");
                }
            }
        }
    }

    /// The searches for one edit without a walk against the walk itself, on the default
    /// book's dictionary: terms with random edits (some of them on the book's own paths, some
    /// not), whole words and prefixes, with and without a limit.
    #[test]
    fn one_edit_without_a_walk_agrees_with_the_walk() {
        let book = crate::Book::open_default().unwrap();
        let index = book.search_index();
        let t = &index.trie;
        let words = index.words();
        let alphabet: Vec<char> = "abcdefghijklmnopqrstuvwxyz0123456789".chars().collect();
        let mut rng = Rng(0x9E6C_63D0_676A_9A99);
        let mut found = 0;
        for round in 0..400 {
            let from: Vec<char> = words[rng.below(words.len())].chars().collect();
            let edits = rng.below(3);
            let q = rng.edit(&from, &alphabet, edits);
            if q.is_empty() || !q.iter().all(char::is_ascii) {
                continue;
            }
            let limit = [usize::MAX, 256, 1 + round % 7][round % 3];
            for prefix in [false, true] {
                let want = Walk::<1>::new(t, &q, prefix, limit).run();
                let bytes: Vec<u8> = q.iter().map(|&c| c as u8).collect();
                let got = if prefix { t.one_edit_prefix(&bytes, limit) } else { t.one_edit(&bytes, limit) };
                assert_eq!(got, want, "{q:?} prefix {prefix} limit {limit}");
                found += got.len();
            }
        }
        assert!(found > 1000, "the queries found terms: {found}");
    }

    #[test]
    fn ranks_are_term_ids() {
        let words = ["b", "ba", "bab", "c", "ca", "cab", "cb"];
        let t = trie(&words);
        for (id, w) in words.iter().enumerate() {
            // A one-letter change of the last letter finds the word itself among its neighbours.
            let mut q: Vec<char> = w.chars().collect();
            q.push('z');
            let got = t.near(&q.iter().collect::<String>(), 1, false, 100);
            assert!(got.contains(&(id as TermId, 1, w.to_string())), "{w}: {got:?}");
        }
        assert!(t.heap_bytes() > 0);
    }
}

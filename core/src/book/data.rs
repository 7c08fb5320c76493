//! The in-memory form of a code book: every entry of every system as a flat array of nodes in
//! tabular order, so that a subtree is a contiguous range and a lookup is an index away.
//! [`super::compile`] fills it from the source files, [`super::store`] writes it to and reads it
//! from the SQLite book file.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use super::seventh::SeventhDefs;
use crate::code::System;
use crate::import::pcs::PcsAxes;
use crate::record::{CodeRef, NodeKind, Note, NoteKind};

/// Index of a node in [`BookData::nodes`].
pub(crate) type NodeId = u32;

/// One chapter, section, header, code or modifier. Its key and titles live in the text arena
/// of [`Nodes`]; read them through [`NodeRef`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Node {
    /// The parent's id ([`NO_PARENT`] for a chapter, a PCS table or an HCPCS code): see
    /// [`Node::parent`].
    parent: NodeId,
    /// Where the parent's shared texts and lists are in [`Nodes::shared`] ([`NOT_SHARED`]
    /// without a parent): a record reads them without reading the parent node, one cache miss
    /// fewer on a cold book.
    parent_shared: u32,
    /// One past the last node of this node's subtree (descendants are `id + 1 .. end`).
    pub end: NodeId,
    /// Where the key starts in the arena; the title follows it, then the short title.
    text: u32,
    /// Bytes the title and short title take in the arena (compressed when `packed`).
    title_len: u16,
    short_len: u16,
    key_len: u16,
    /// The titles are FSST-compressed (see [`Nodes::pack`]).
    packed: bool,
    pub system: System,
    pub kind: NodeKind,
    pub billable: bool,
    /// Which per-node maps of [`BookData`] hold this node (`HAS_*` bits), so a lookup does not
    /// probe the maps that do not (each probe is a cache miss on a cold book).
    has: u8,
    /// Where this node's shared code and title are in [`Nodes::shared`] ([`NOT_SHARED`] for
    /// leaves: only nodes with children are shown as parents by every lookup below them).
    shared: u32,
}

/// [`Node::has`]: the node has notes, 7th-character definitions, HCPCS data, descriptions or
/// history beyond its fiscal years.
pub(crate) const HAS_NOTES: u8 = 1;
pub(crate) const HAS_SEVENTH: u8 = 2;
pub(crate) const HAS_HCPCS: u8 = 4;
pub(crate) const HAS_DESCRIPTIONS: u8 = 8;
pub(crate) const HAS_HISTORY_EXTRA: u8 = 16;

/// The longest title or short title a node may have, in bytes.
const MAX_TITLE: usize = (u16::MAX / 2) as usize;

/// [`Node::shared`] of a node without shared texts.
const NOT_SHARED: u32 = u32::MAX;

/// [`Node::parent`] of a node without a parent.
const NO_PARENT: NodeId = NodeId::MAX;

/// The code and title of a node with children, made once so that the records of every code
/// below it share them instead of copying them; and what the records of its children repeat,
/// made on first use (see [`BookData::below`]).
#[derive(Debug)]
pub(crate) struct SharedNode {
    pub code: Arc<str>,
    pub title: Arc<str>,
    below: OnceLock<Below>,
}

/// What the record of every child of a node repeats: its parents, the notes it inherits and
/// the 7th characters its codes may take.
#[derive(Debug, Default)]
pub(crate) struct Below {
    /// The node's ancestors from the top, then the node itself.
    pub parents: Arc<[CodeRef]>,
    /// The notes printed at the node and at each ancestor as their descendants inherit them
    /// (without inclusion terms, which describe only the entry they are printed at), one part
    /// per node that prints some, nearest first.
    pub notes: Arc<[Arc<[Note]>]>,
    /// The 7th-character definitions printed at the node and its ancestors, each character
    /// once, from the nearest node that defines it: (character, meaning, that node's code).
    pub seventh: SeventhDefs,
}

impl Below {
    /// Starts loading what a record clones or reads of these lists (see
    /// [`super::memory::prefetch_arc`]), so that their cache misses overlap.
    pub fn prefetch(&self) {
        use super::memory::prefetch_arc;
        prefetch_arc(&self.parents);
        prefetch_arc(&self.notes);
        self.seventh.prefetch();
    }
}

impl Node {
    /// Whether the node is looked up by code (chapters and sections are not codes).
    pub fn is_code(&self) -> bool {
        !matches!(self.kind, NodeKind::Chapter | NodeKind::Section)
    }

    /// Whether [`BookData::finish`] found the node in the map of `flag` (a `HAS_*` bit).
    pub fn has(&self, flag: u8) -> bool {
        self.has & flag != 0
    }

    /// The node's parent, if it has one.
    pub fn parent(&self) -> Option<NodeId> {
        (self.parent != NO_PARENT).then_some(self.parent)
    }
}

/// A node with its text: the plain fields through `Deref`, the strings through methods.
#[derive(Clone, Copy)]
pub(crate) struct NodeRef<'a> {
    node: &'a Node,
    nodes: &'a Nodes,
}

impl<'a> std::ops::Deref for NodeRef<'a> {
    type Target = Node;
    fn deref(&self) -> &Node {
        self.node
    }
}

impl<'a> NodeRef<'a> {
    fn bytes(&self, from: usize, len: usize) -> &'a [u8] {
        let start = self.node.text as usize + from;
        self.nodes.arena.get(start..start + len).unwrap_or_default()
    }

    fn text(&self, from: usize, len: usize) -> Cow<'a, str> {
        let bytes = self.bytes(from, len);
        // The arena holds UTF-8 (checked when it was built); the lossy fallbacks only matter for
        // a book damaged in memory, and never panic.
        match (&self.nodes.packer, self.node.packed) {
            (Some(packer), true) => Cow::Owned(unpack(packer, bytes)),
            _ => std::str::from_utf8(bytes).map_or_else(|_| String::from_utf8_lossy(bytes), Cow::Borrowed),
        }
    }

    /// [`NodeRef::text`] passed to `f`, decoded without an allocation of its own.
    fn text_with<R>(&self, from: usize, len: usize, f: impl FnOnce(&str) -> R) -> R {
        let bytes = self.bytes(from, len);
        match (&self.nodes.packer, self.node.packed) {
            (Some(packer), true) => unpack_with(packer, bytes, f),
            _ => with_str(bytes, f),
        }
    }

    /// Where the title is in the node's text: (offset, length).
    fn title_at(&self) -> (usize, usize) {
        (self.node.key_len as usize, self.node.title_len as usize)
    }

    /// Where the short title is in the node's text (the title's place when it has none).
    fn short_title_at(&self) -> (usize, usize) {
        match self.node.short_len {
            0 => self.title_at(),
            len => (self.node.key_len as usize + self.node.title_len as usize, len as usize),
        }
    }

    /// Calls `f` with the official long title (see [`NodeRef::title`]), without making a
    /// string of it.
    pub fn with_title<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        let (from, len) = self.title_at();
        self.text_with(from, len, f)
    }

    /// Calls `f` with the official short title (see [`NodeRef::short_title`]), without making
    /// a string of it.
    pub fn with_short_title<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        let (from, len) = self.short_title_at();
        self.text_with(from, len, f)
    }

    /// Normalised key (`E119`, `0DTJ4ZZ`, `J1100`); a chapter's number (`4`); a section's
    /// range (`E08-E13`).
    pub fn key(&self) -> &'a str {
        std::str::from_utf8(self.bytes(0, self.node.key_len as usize)).unwrap_or_default()
    }

    /// The official long title.
    pub fn title(&self) -> Cow<'a, str> {
        let (from, len) = self.title_at();
        self.text(from, len)
    }

    /// The official short title (the title when the source has no shorter one).
    pub fn short_title(&self) -> Cow<'a, str> {
        let (from, len) = self.short_title_at();
        self.text(from, len)
    }

    /// The shared code and title of a node with children (see [`BookData::finish`]).
    pub fn shared(&self) -> Option<&'a SharedNode> {
        self.nodes.shared.get(self.node.shared as usize)
    }

    /// [`NodeRef::code`] as a shared string: the book's copy for a node with children, a new
    /// one for a leaf.
    pub fn shared_code(&self) -> Arc<str> {
        self.shared().map_or_else(|| self.code().into(), |s| s.code.clone())
    }

    /// Whether the source gives a short title different from the title.
    pub fn has_short_title(&self) -> bool {
        self.node.short_len != 0
    }

    /// The official spelling of the node's code.
    pub fn code(&self) -> String {
        match self.kind {
            NodeKind::Chapter => format!("Chapter {}", self.key()),
            NodeKind::Section => self.key().to_string(),
            _ => self.system.display(self.key()),
        }
    }
}

/// Decodes an FSST-packed title. The decoder needs room for eight bytes a code, so it decodes
/// into a scratch buffer of the thread and the title is copied out at its exact size: a large
/// short-lived allocation per title costs more in the allocator than the copy.
fn unpack(packer: &fsst::Compressor, bytes: &[u8]) -> String {
    unpack_with(packer, bytes, str::to_owned)
}

/// Calls `f` with an FSST-packed text, decoded in the thread's scratch buffer.
fn unpack_with<R>(packer: &fsst::Compressor, bytes: &[u8], f: impl FnOnce(&str) -> R) -> R {
    thread_local! {
        static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let decoder = packer.decompressor();
    SCRATCH.with_borrow_mut(|scratch| {
        scratch.clear();
        scratch.reserve(decoder.max_decompression_capacity(bytes) + 7);
        let len = decoder.decompress_into(bytes, scratch.spare_capacity_mut());
        let decoded = scratch.spare_capacity_mut().get(..len).unwrap_or_default();
        // SAFETY: `decompress_into` initialised the first `len` bytes of the spare capacity.
        let decoded: &[u8] = unsafe { &*(decoded as *const [std::mem::MaybeUninit<u8>] as *const [u8]) };
        with_str(decoded, f)
    })
}

/// `bytes` as `&str` passed to `f`: the arena holds UTF-8 (checked when it was built), so this
/// is `str::from_utf8`'s quick check (ASCII a word at a time); the lossy copy only matters for
/// a book damaged in memory, and never panics.
fn with_str<R>(bytes: &[u8], f: impl FnOnce(&str) -> R) -> R {
    match std::str::from_utf8(bytes) {
        Ok(s) => f(s),
        Err(_) => f(&String::from_utf8_lossy(bytes)),
    }
}

/// Every node of a book in tabular order, with one text arena for all keys and titles (one
/// allocation instead of three per node). Once a book is read, [`Nodes::pack`] compresses the
/// titles of codes with FSST (Fast Static Symbol Table compression: about half the bytes, and
/// a title decodes on its own in well under a microsecond).
#[derive(Default)]
pub(crate) struct Nodes {
    list: Vec<Node>,
    arena: Vec<u8>,
    /// The symbol table of the packed titles.
    packer: Option<fsst::Compressor>,
    /// The shared code and title of each node with children (see [`Node::shared`]).
    shared: Vec<SharedNode>,
}

impl std::fmt::Debug for Nodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nodes")
            .field("len", &self.list.len())
            .field("arena", &self.arena.len())
            .field("packed", &self.packer.is_some())
            .finish()
    }
}

impl Nodes {
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Appends a node; a short title equal to the title is not stored twice. Keys and titles
    /// longer than the arena's length fields allow (32 KiB, so that a packed title, at worst
    /// twice as long, still fits) are an error.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        system: System,
        kind: NodeKind,
        key: &str,
        title: &str,
        short: &str,
        billable: bool,
        parent: Option<NodeId>,
    ) -> crate::error::Result<NodeId> {
        let short = if short == title { "" } else { short };
        let too_long = || crate::error::Error::Book(format!("code {key:?}: key or title too long for a code book"));
        let text = u32::try_from(self.arena.len()).map_err(|_| too_long())?;
        let key_len = u16::try_from(key.len()).map_err(|_| too_long())?;
        let fits = |len: usize| if len <= MAX_TITLE { Ok(len as u16) } else { Err(too_long()) };
        let (title_len, short_len) = (fits(title.len())?, fits(short.len())?);
        u32::try_from(self.arena.len() + key.len() + title.len() + short.len()).map_err(|_| too_long())?;
        self.arena.extend_from_slice(key.as_bytes());
        self.arena.extend_from_slice(title.as_bytes());
        self.arena.extend_from_slice(short.as_bytes());
        self.list.push(Node {
            parent: parent.unwrap_or(NO_PARENT),
            parent_shared: NOT_SHARED,
            end: 0,
            text,
            title_len,
            short_len,
            key_len,
            packed: false,
            system,
            kind,
            billable,
            has: 0,
            shared: NOT_SHARED,
        });
        Ok((self.list.len() - 1) as NodeId)
    }

    /// The node `id` with its text. Panics when `id` is past the end (ids come from the book).
    pub fn at(&self, id: NodeId) -> NodeRef<'_> {
        NodeRef { node: &self.list[id as usize], nodes: self }
    }

    pub fn get(&self, id: usize) -> Option<NodeRef<'_>> {
        self.list.get(id).map(|node| NodeRef { node, nodes: self })
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = NodeRef<'_>> + '_ {
        self.list.iter().map(|node| NodeRef { node, nodes: self })
    }

    /// Backs the node list and the text arena with huge pages (see
    /// [`super::memory::prefer_huge_pages`]).
    pub fn prefer_huge_pages(&self) {
        super::memory::prefer_huge_pages(&self.list);
        super::memory::prefer_huge_pages(&self.arena);
        super::memory::prefer_huge_pages(&self.shared);
    }

    /// Compresses the titles of codes and modifiers (nine nodes in ten; headers, sections and
    /// chapters, which every lookup shows as parents, stay plain) and releases spare capacity.
    /// Called once, when a book has been read.
    pub fn pack(&mut self) {
        if self.packer.is_some() {
            return;
        }
        let leaf = |n: &Node| matches!(n.kind, NodeKind::Code | NodeKind::Modifier);
        let span = |n: &Node, from: usize, len: u16| {
            let start = n.text as usize + from;
            start..start + len as usize
        };
        let mut sample: Vec<&[u8]> = Vec::new();
        for n in self.list.iter().filter(|n| leaf(n)) {
            sample.push(&self.arena[span(n, n.key_len as usize, n.title_len)]);
            if n.short_len > 0 {
                sample.push(&self.arena[span(n, n.key_len as usize + n.title_len as usize, n.short_len)]);
            }
        }
        if sample.is_empty() {
            return;
        }
        let packer = fsst::Compressor::train(&sample);
        let mut arena = Vec::with_capacity(self.arena.len() / 2);
        for n in &mut self.list {
            let key = &self.arena[span(n, 0, n.key_len)];
            let title = &self.arena[span(n, n.key_len as usize, n.title_len)];
            let short = &self.arena[span(n, n.key_len as usize + n.title_len as usize, n.short_len)];
            let text = arena.len() as u32;
            arena.extend_from_slice(key);
            if leaf(n) {
                let (t, s) = (packer.compress(title), if short.is_empty() { Vec::new() } else { packer.compress(short) });
                // The packed text is never longer than the length field allows: FSST at worst
                // doubles a string, and `push` keeps titles within half the field.
                (n.title_len, n.short_len, n.packed) = (t.len() as u16, s.len() as u16, true);
                arena.extend_from_slice(&t);
                arena.extend_from_slice(&s);
            } else {
                arena.extend_from_slice(title);
                arena.extend_from_slice(short);
            }
            n.text = text;
        }
        arena.shrink_to_fit();
        self.list.shrink_to_fit();
        self.arena = arena;
        self.packer = Some(packer);
    }
}

impl std::ops::Index<usize> for Nodes {
    type Output = Node;
    fn index(&self, id: usize) -> &Node {
        &self.list[id]
    }
}

/// Per-node data of some nodes, by node id (a fast integer hash: a lookup asks several times).
pub(crate) type NodeMap<V> = rustc_hash::FxHashMap<NodeId, V>;

/// Everything a book holds, in memory.
#[derive(Debug, Default)]
pub(crate) struct BookData {
    pub nodes: Nodes,
    /// Notes printed at each node, in print order.
    pub notes: NodeMap<Vec<(NoteKind, Arc<str>)>>,
    /// 7th-character definitions printed at a node: (character, meaning).
    pub seventh: NodeMap<Vec<(char, Box<str>)>>,
    pub hcpcs: NodeMap<super::hcpcs::PackedHcpcs>,
    pub pcs: PcsAxes,
    /// NCCI edit tables and GEMs (see `crate::billing`, `crate::crosswalk`).
    pub billing: crate::billing::BillingTables,
    /// ICD-10 code history and retired codes (see `super::history`).
    pub history: super::history::BookHistory,
    /// Plain-language and clinician descriptions (CPT, local code sets).
    pub descriptions: NodeMap<super::imported::Descriptions>,
    /// Free-form facts about the book (format version, sources and their checksums...).
    pub meta: Vec<(String, String)>,
}

impl BookData {
    /// Computes every node's subtree end from the parent links (nodes are in pre-order).
    pub fn compute_subtree_ends(&mut self) {
        let n = self.nodes.len() as NodeId;
        let list = &mut self.nodes.list;
        for (i, node) in list.iter_mut().enumerate() {
            node.end = i as NodeId + 1;
        }
        for i in (0..n).rev() {
            if let Some(p) = list[i as usize].parent() {
                let end = list[i as usize].end;
                let pe = &mut list[p as usize].end;
                *pe = (*pe).max(end);
            }
        }
        let _ = n;
    }

    /// Makes the book ready for look-ups once every node and map is in: marks in each node
    /// which maps hold it ([`Node::has`]) and shares the code and title of every node with
    /// children ([`NodeRef::shared`]). Needs the subtree ends.
    pub fn finish(&mut self) {
        let marks = [
            (HAS_NOTES, self.notes.keys().copied().collect::<Vec<_>>()),
            (HAS_SEVENTH, self.seventh.keys().copied().collect()),
            (HAS_HCPCS, self.hcpcs.keys().copied().collect()),
            (HAS_DESCRIPTIONS, self.descriptions.keys().copied().collect()),
            (HAS_HISTORY_EXTRA, self.history.extra.keys().copied().collect()),
        ];
        let nodes = &mut self.nodes;
        for (flag, ids) in marks {
            for id in ids {
                if let Some(n) = nodes.list.get_mut(id as usize) {
                    n.has |= flag;
                }
            }
        }
        let mut shared = Vec::new();
        for i in 0..nodes.list.len() {
            let n = &nodes.list[i];
            if n.end as usize > i + 1 {
                let r = nodes.at(i as NodeId);
                shared.push(SharedNode { code: r.code().into(), title: r.title().into(), below: OnceLock::new() });
                nodes.list[i].shared = (shared.len() - 1) as u32;
            }
        }
        shared.shrink_to_fit();
        nodes.shared = shared;
        for i in 0..nodes.list.len() {
            if let Some(p) = nodes.list[i].parent() {
                nodes.list[i].parent_shared = nodes.list[p as usize].shared;
            }
        }
    }

    /// A parent or child: the shared texts of a node with children, copies for a leaf.
    pub fn code_ref(&self, id: NodeId) -> CodeRef {
        let n = self.nodes.at(id);
        let title = n.shared().map_or_else(|| n.title().into(), |s| s.title.clone());
        CodeRef { code: n.shared_code(), title, kind: n.kind, billable: n.billable }
    }

    /// Starts loading what the record of `id` reads besides its node, in scattered places: its
    /// key and titles, its parent's shared lists, its fiscal years. A cold record then waits
    /// for these cache misses together rather than one after another.
    pub fn prefetch_record(&self, id: NodeId) {
        use super::memory::prefetch;
        if let Some(masks) = self.history.masks.get(id as usize) {
            prefetch(masks);
        }
        let Some(node) = self.nodes.list.get(id as usize) else { return };
        if let Some(text) = self.nodes.arena.get(node.text as usize) {
            prefetch(text);
        }
        if let Some(shared) = self.nodes.shared.get(node.parent_shared as usize) {
            super::memory::prefetch_whole(&shared.below);
        }
    }

    /// What the records of the children of `id` repeat (see [`Below`]). Made on first use and
    /// kept, so that every record below a node shares one list of parents and one of inherited
    /// notes; empty for a leaf.
    pub fn below(&self, id: NodeId) -> &Below {
        self.below_at(id, self.nodes[id as usize].shared)
    }

    /// What the record of `id` shares with its siblings: [`BookData::below`] of its parent,
    /// found without reading the parent node; `None` for a node without a parent.
    pub fn below_parent(&self, id: NodeId) -> Option<&Below> {
        let node = &self.nodes[id as usize];
        node.parent().map(|p| self.below_at(p, node.parent_shared))
    }

    /// [`BookData::below`] of `id`, whose shared texts are at `shared` in [`Nodes::shared`].
    fn below_at(&self, id: NodeId, shared: u32) -> &Below {
        static NOTHING: OnceLock<Below> = OnceLock::new();
        let Some(shared) = self.nodes.shared.get(shared as usize) else { return NOTHING.get_or_init(Below::default) };
        shared.below.get_or_init(|| {
            let above = self.below_parent(id);
            let parents = above.iter().flat_map(|a| a.parents.iter().cloned()).chain([self.code_ref(id)]).collect();
            let inherited = |(kind, _): &&(NoteKind, Arc<str>)| *kind != NoteKind::InclusionTerm;
            let mine: Arc<[Note]> = self.notes_of(id).iter().filter(inherited).map(|n| self.note(id, n, true)).collect();
            let mine = (!mine.is_empty()).then_some(mine);
            let notes = mine.into_iter().chain(above.iter().flat_map(|a| a.notes.iter().cloned())).collect();
            let own = self.seventh_of(id);
            let seventh = match above {
                Some(a) if own.is_empty() => a.seventh.clone(),
                _ => {
                    let source = self.nodes.at(id).code();
                    let mine = own.iter().map(|(c, meaning)| (*c, &**meaning, source.as_str()));
                    let theirs = above.iter().flat_map(|a| a.seventh.iter()).filter(|(c, ..)| !own.iter().any(|(o, _)| o == c));
                    SeventhDefs::new(mine.chain(theirs))
                }
            };
            Below { parents, notes, seventh }
        })
    }

    /// The notes printed at `id` (empty for most nodes).
    pub fn notes_of(&self, id: NodeId) -> &[(NoteKind, Arc<str>)] {
        match self.nodes[id as usize].has(HAS_NOTES) {
            true => self.notes.get(&id).map_or(&[], Vec::as_slice),
            false => &[],
        }
    }

    /// A note printed at `holder` as a record shows it: the text shared with the book, the
    /// holder's code as its source (shared for a node with children).
    pub fn note(&self, holder: NodeId, (kind, text): &(NoteKind, Arc<str>), inherited: bool) -> Note {
        Note { kind: *kind, text: text.clone(), source: self.nodes.at(holder).shared_code(), inherited }
    }

    /// The 7th-character definitions printed at `id`.
    pub fn seventh_of(&self, id: NodeId) -> &[(char, Box<str>)] {
        match self.nodes[id as usize].has(HAS_SEVENTH) {
            true => self.seventh.get(&id).map_or(&[], Vec::as_slice),
            false => &[],
        }
    }

    /// The HCPCS data of `id`.
    pub fn hcpcs_of(&self, id: NodeId) -> Option<&super::hcpcs::PackedHcpcs> {
        self.nodes[id as usize].has(HAS_HCPCS).then(|| self.hcpcs.get(&id)).flatten()
    }

    /// The history facts of `id` beyond its fiscal years (title changes, replacements, dates).
    pub fn history_extra_of(&self, id: NodeId) -> Option<&super::history::HistExtra> {
        self.nodes[id as usize].has(HAS_HISTORY_EXTRA).then(|| self.history.extra.get(&id)).flatten()
    }

    /// The descriptions of `id`.
    pub fn descriptions_of(&self, id: NodeId) -> Option<&super::imported::Descriptions> {
        self.nodes[id as usize].has(HAS_DESCRIPTIONS).then(|| self.descriptions.get(&id)).flatten()
    }

    /// Direct children of `id`, in tabular order.
    pub fn children(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        let end = self.nodes[id as usize].end;
        std::iter::successors(Some(id + 1).filter(|&c| c < end), move |&c| Some(self.nodes[c as usize].end).filter(|&n| n < end))
    }

    /// Every descendant of `id`, in tabular order.
    pub fn descendants(&self, id: NodeId) -> std::ops::Range<NodeId> {
        id + 1..self.nodes[id as usize].end
    }
}

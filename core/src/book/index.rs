//! The code index: an fst map from normalised code to the nodes (one per code system) that
//! carry that code, for prefix and fuzzy walks, and a [`KeyTable`] with the same entries for
//! exact look-ups in one probe.

use fst::{IntoStreamer, Map, MapBuilder, Streamer};

use super::data::{BookData, NodeId, Nodes};
use super::key_table::KeyTable;
use crate::code::System;
use crate::error::{Error, Result};

/// Maps a normalised code to the nodes that carry it.
///
/// The fst value of a key packs `start << 3 | count`: the key's nodes are
/// `by_key[start .. start + count]`, ordered by code system.
///
/// `exact` answers exact look-ups without walking the fst. Its entry for a code carried by one
/// node (nearly all) is that node's id and brief (what validity checks need of it: its system
/// and billable flag), so [`crate::Book::is_valid`] reads one slot of the table and nothing
/// else, and a lookup goes from the table straight to the node. For a code in several systems
/// the entry is the start of the code's run in `by_key`, and `briefs` has each node's brief.
#[derive(Debug)]
pub(crate) struct CodeIndex {
    map: Map<Vec<u8>>,
    by_key: Vec<NodeId>,
    briefs: Vec<Brief>,
    exact: KeyTable,
}

/// The nodes carrying one code, ordered by code system: read it as a slice.
pub(crate) enum CodeNodes<'a> {
    /// A code in one system (its node id is kept in the key table).
    One([NodeId; 1]),
    /// A code in several systems, or none.
    Many(&'a [NodeId]),
}

impl std::ops::Deref for CodeNodes<'_> {
    type Target = [NodeId];
    fn deref(&self) -> &[NodeId] {
        match self {
            CodeNodes::One(id) => id,
            CodeNodes::Many(ids) => ids,
        }
    }
}

/// The system and billable flag of a node of the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Brief {
    pub system: System,
    pub billable: bool,
}

/// Bits of a brief in a key-table entry, below the node id (`System::ALL` has fewer than 8).
const BRIEF_BITS: u32 = 4;

/// Node ids up to this are kept in the key table with their brief (the table's 24 bits, less
/// the brief's); a larger book keeps its other codes as runs of one.
const INLINE_IDS: usize = 1 << (24 - BRIEF_BITS);

impl Brief {
    fn pack(self) -> usize {
        let system = System::ALL.iter().position(|&s| s == self.system).unwrap_or_default();
        (system << 1) | usize::from(self.billable)
    }

    fn unpack(bits: usize) -> Brief {
        let system = System::ALL.get((bits & ((1 << BRIEF_BITS) - 1)) >> 1).copied().unwrap_or(System::Icd10cm);
        Brief { system, billable: bits & 1 == 1 }
    }
}

fn briefs(nodes: &Nodes) -> Vec<Brief> {
    nodes.iter().map(|n| Brief { system: n.system, billable: n.billable }).collect()
}

impl CodeIndex {
    /// Builds the index over every code node of the book.
    pub fn build(data: &BookData) -> Result<CodeIndex> {
        let mut ids: Vec<NodeId> = (0..data.nodes.len() as NodeId).filter(|&i| data.nodes[i as usize].is_code()).collect();
        ids.sort_by(|&a, &b| {
            let (na, nb) = (data.nodes.at(a), data.nodes.at(b));
            (na.key().as_bytes(), na.system).cmp(&(nb.key().as_bytes(), nb.system))
        });
        let mut builder = MapBuilder::memory();
        let mut start = 0;
        while start < ids.len() {
            let key = data.nodes.at(ids[start]).key();
            let mut end = start + 1;
            while end < ids.len() && data.nodes.at(ids[end]).key() == key {
                if data.nodes[ids[end] as usize].system == data.nodes[ids[end - 1] as usize].system {
                    return Err(Error::Book(format!("code {key} appears twice in {}", data.nodes[ids[end] as usize].system)));
                }
                end += 1;
            }
            builder
                .insert(key.as_bytes(), ((start as u64) << 3) | (end - start) as u64)
                .map_err(|e| Error::Book(format!("building the code index: {e}")))?;
            start = end;
        }
        let bytes = builder.into_inner().map_err(|e| Error::Book(format!("building the code index: {e}")))?;
        CodeIndex::from_parts(bytes, ids, &data.nodes)
    }

    /// Restores an index from its stored parts, checking that every entry points at a node.
    pub fn from_parts(fst_bytes: Vec<u8>, by_key: Vec<NodeId>, nodes: &Nodes) -> Result<CodeIndex> {
        let map = Map::new(fst_bytes).map_err(|e| Error::Book(format!("code index is corrupt: {e}")))?;
        if by_key.iter().any(|&id| id as usize >= nodes.len()) {
            return Err(Error::Book("code index points past the last node".into()));
        }
        let briefs = briefs(nodes);
        let mut exact = KeyTable::with_capacity(map.len())?;
        let mut stream = map.stream();
        while let Some((k, v)) = stream.next() {
            let (start, count) = unpack(v);
            if count == 0 || start + count > by_key.len() {
                return Err(Error::Book("code index entry out of range".into()));
            }
            match by_key[start] as usize {
                id if count == 1 && id < INLINE_IDS => exact.insert(k, (id << BRIEF_BITS) | briefs[id].pack(), 0)?,
                _ => exact.insert(k, start, count)?,
            }
        }
        Ok(CodeIndex { map, by_key, briefs, exact })
    }

    /// The stored parts: fst bytes and the node list.
    pub fn parts(&self) -> (&[u8], &[NodeId]) {
        (self.map.as_fst().as_bytes(), &self.by_key)
    }

    /// Backs the index's arrays with huge pages (see [`super::memory::prefer_huge_pages`]).
    pub fn prefer_huge_pages(&self) {
        super::memory::prefer_huge_pages(self.map.as_fst().as_bytes());
        super::memory::prefer_huge_pages(&self.by_key);
        super::memory::prefer_huge_pages(&self.briefs);
        self.exact.prefer_huge_pages();
    }

    /// The key table's entry for a key packed by [`crate::code::base37`] (`None`: not a code):
    /// the one node carrying it with its brief, or the run of nodes carrying it (empty when
    /// none).
    fn entry(&self, packed: Option<u64>) -> (Option<(NodeId, Brief)>, &[NodeId]) {
        match packed.and_then(|p| self.exact.get_packed(p)) {
            Some((one, 0)) => (Some(((one >> BRIEF_BITS) as NodeId, Brief::unpack(one))), &[]),
            Some((start, count)) => (None, &self.by_key[start..start + count]),
            None => (None, &[]),
        }
    }

    /// The nodes carrying `key`, ordered by code system; empty when none.
    pub fn get(&self, key: &[u8]) -> CodeNodes<'_> {
        Self::nodes_of(self.entry(crate::code::base37(key)))
    }

    /// [`CodeIndex::get`] of a key packed by [`crate::code::base37`] (as parsing packs it).
    pub fn get_packed(&self, packed: u64) -> CodeNodes<'_> {
        Self::nodes_of(self.entry(Some(packed)))
    }

    fn nodes_of((one, run): (Option<(NodeId, Brief)>, &[NodeId])) -> CodeNodes<'_> {
        match one {
            Some((id, _)) => CodeNodes::One([id]),
            None => CodeNodes::Many(run),
        }
    }

    /// [`CodeIndex::get_packed`] with each node's brief, reading no node: for a code in one
    /// system, one slot of the key table.
    pub fn briefs(&self, packed: u64) -> impl Iterator<Item = (NodeId, Brief)> + Clone + '_ {
        let (one, run) = self.entry(Some(packed));
        one.into_iter().chain(run.iter().map(|&id| (id, self.briefs[id as usize])))
    }

    /// Every key starting with `prefix` with its nodes, in key order, until `visit` returns false.
    pub fn for_each_prefixed(&self, prefix: &[u8], mut visit: impl FnMut(&[u8], &[NodeId]) -> bool) {
        let mut stream = self.map.range().ge(prefix).into_stream();
        while let Some((k, v)) = stream.next() {
            if !k.starts_with(prefix) {
                break;
            }
            let (start, count) = unpack(v);
            match self.by_key.get(start..start + count) {
                Some(ids) if visit(k, ids) => {}
                _ => break,
            }
        }
    }

    /// Every key within one edit (Levenshtein distance 1) of `key`, at most `limit`.
    pub fn near(&self, key: &str, limit: usize) -> Vec<(String, NodeId)> {
        let Ok(lev) = fst::automaton::Levenshtein::new(key, 1) else { return vec![] };
        let mut stream = self.map.search(lev).into_stream();
        let mut out = Vec::new();
        while let Some((k, v)) = stream.next() {
            let (start, _) = unpack(v);
            out.push((String::from_utf8_lossy(k).into_owned(), self.by_key[start]));
            if out.len() >= limit {
                break;
            }
        }
        out
    }
}

fn unpack(v: u64) -> (usize, usize) {
    ((v >> 3) as usize, (v & 7) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_brief_survives_the_key_table() {
        for system in System::ALL {
            for billable in [false, true] {
                let b = Brief { system, billable };
                assert!(b.pack() < 1 << BRIEF_BITS);
                assert_eq!(Brief::unpack(b.pack()), b);
            }
        }
    }

    /// Every code of the default book: the briefs read from the key table alone (or from the
    /// run of a code in several systems) are those of the nodes carrying the code.
    #[test]
    fn briefs_and_nodes_agree_for_every_code() {
        let book = crate::Book::open_default().unwrap();
        let (data, index) = (book.data(), book.index());
        let (mut one, mut many) = (0, 0);
        let mut seen = std::collections::HashSet::new();
        for node in data.nodes.iter().filter(|n| n.is_code()) {
            let key = node.key();
            if !seen.insert(key) {
                continue;
            }
            let ids: Vec<NodeId> = index.get(key.as_bytes()).to_vec();
            let packed = crate::code::Key::parse_spelling(key).unwrap().packed;
            assert_eq!(index.get_packed(packed).to_vec(), ids, "{key}");
            let want: Vec<(NodeId, Brief)> = ids
                .iter()
                .map(|&id| (id, Brief { system: data.nodes[id as usize].system, billable: data.nodes[id as usize].billable }))
                .collect();
            assert_eq!(index.briefs(packed).collect::<Vec<_>>(), want, "{key}");
            assert!(ids.iter().all(|&id| data.nodes.at(id).key() == key), "{key}");
            if ids.len() == 1 {
                one += 1
            } else {
                many += 1
            }
        }
        assert!(one > 180_000 && many > 0, "{one} {many}");
    }
}

//! Assembles a [`CodeRecord`] from the in-memory book: parents, children, inherited notes, the
//! 7th character, the PCS axes and HCPCS data; and the suggestions of a not-found error.

use std::sync::Arc;

use super::data::NodeId;
use super::Book;
use crate::code::{Key, System};
use crate::record::{CodeRecord, NodeKind, Notes, SeventhCharacter};

/// How many suggestions a not-found error carries at most.
const MAX_SUGGESTIONS: usize = 5;

impl Book {
    /// The full record of one node.
    pub(crate) fn record(&self, id: NodeId) -> CodeRecord {
        let data = self.data();
        data.prefetch_record(id);
        let node = data.nodes.at(id);
        // The parents and the inherited notes are lists the book shares between the records
        // below one node (see `BookData::below`): a record clones two `Arc`s, not each parent
        // and note. They are cloned last, after everything else has been read: see
        // `Below::prefetch`.
        let below = data.below_parent(id);
        if let Some(b) = below {
            b.prefetch();
        }
        let children = data.children(id).map(|c| data.code_ref(c)).collect();
        let billable_descendants = if node.billable {
            Vec::new()
        } else {
            data.descendants(id).filter(|&d| data.nodes[d as usize].billable).map(|d| data.nodes.at(d).code()).collect()
        };

        // The code's own notes (most codes have none), then those it inherits, nearest first.
        let own = data.notes_of(id);
        let own: Option<Arc<[_]>> = (!own.is_empty()).then(|| own.iter().map(|n| data.note(id, n, false)).collect());

        let pcs_axes = if node.system == System::Icd10pcs && node.key().len() == 7 { data.pcs.describe(node.key()) } else { Vec::new() };
        let title = node.title().into_owned();
        // Most PCS and HCPCS codes have no short title of their own: copy the title rather
        // than decode it twice.
        let short_title = if node.has_short_title() { node.short_title().into_owned() } else { title.clone() };
        let hcpcs = data.hcpcs_of(id).map(super::hcpcs::PackedHcpcs::unpack);
        let history = super::history::node_history(data, id);
        // The definitions that apply come with the parent's shared lists (the nearest ancestor
        // that defines the character), so no ancestor is read here. Read late, as the lists
        // are (see `Below::prefetch`): decoding the titles above overlaps the wait for them.
        let seventh_character = (node.system == System::Icd10cm && node.key().len() == 7)
            .then(|| {
                let c = node.key().chars().last()?;
                let (meaning, source) = below?.seventh.get(c)?;
                Some(SeventhCharacter { character: c.to_string(), meaning: meaning.to_string(), source: source.to_string() })
            })
            .flatten();
        let parents = below.map_or_else(|| Arc::from([]), |b| b.parents.clone());
        let notes = Notes::from_parts(own, below.map_or_else(|| Arc::from([]), |b| b.notes.clone()));

        CodeRecord {
            code: node.code(),
            system: node.system,
            kind: node.kind,
            title,
            short_title,
            billable: node.billable,
            parents,
            children,
            billable_descendants,
            notes,
            seventh_character,
            pcs_axes,
            hcpcs,
            description: data.descriptions_of(id).and_then(|d| d.description.as_deref()).map(str::to_string),
            clinician_descriptors: data
                .descriptions_of(id)
                .map(|d| d.clinician.iter().map(|c| c.to_string()).collect())
                .unwrap_or_default(),
            history,
            also_in: Vec::new(),
        }
    }

    /// The nearest real codes to a key the book does not have, best first: the code with the
    /// placeholder X filled in (`W21.89A` → `W21.89XA`), codes one edit away, then billable
    /// codes under the longest prefix that exists.
    pub(crate) fn suggest(&self, key: &Key, system: Option<System>) -> Vec<String> {
        let data = self.data();
        let in_system = |id: &NodeId| system.is_none_or(|s| data.nodes[*id as usize].system == s);
        let mut out: Vec<NodeId> = Vec::new();
        let k = key.as_str();

        // Placeholder X: a 7th character typed without the Xs before it.
        if (5..7).contains(&k.len()) {
            let (stem, last) = k.split_at(k.len() - 1);
            let filled = format!("{stem}{}{last}", "X".repeat(7 - k.len()));
            out.extend(self.index().get(filled.as_bytes()).iter().copied().filter(in_system));
        }
        out.extend(self.index().near(k, 20).into_iter().map(|(_, id)| id).filter(in_system));
        if let Some(prefix) = (2..k.len()).rev().find_map(|n| self.index().get(&key.as_bytes()[..n]).iter().copied().find(in_system)) {
            let under = data.descendants(prefix).filter(|&d| data.nodes[d as usize].billable);
            if data.nodes[prefix as usize].billable {
                out.push(prefix);
            }
            out.extend(under.take(MAX_SUGGESTIONS));
        }
        let mut seen = std::collections::HashSet::new();
        out.into_iter()
            .filter(|id| data.nodes[*id as usize].kind != NodeKind::Chapter && seen.insert(*id))
            .take(MAX_SUGGESTIONS)
            .map(|id| data.nodes.at(id).code())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::data::BookData;

    /// The definitions printed at the nearest ancestor that defines a character apply, also
    /// when a nearer ancestor defines only other characters.
    #[test]
    fn a_seventh_character_means_what_the_nearest_ancestor_defining_it_says() {
        use crate::record::NodeKind::{Chapter, Code, Header, Section};
        let mut data = BookData::default();
        let rows: [(NodeKind, &str, Option<NodeId>); 6] = [
            (Chapter, "19", None),
            (Section, "S70-S79", Some(0)),
            (Header, "S72", Some(1)),
            (Header, "S720", Some(2)),
            (Code, "S72001A", Some(3)),
            (Code, "S72001D", Some(3)),
        ];
        for (kind, key, parent) in rows {
            data.nodes.push(System::Icd10cm, kind, key, key, "", kind == Code, parent).unwrap();
        }
        data.seventh.insert(2, vec![('A', "initial encounter".into()), ('D', "subsequent encounter".into())]);
        data.seventh.insert(3, vec![('A', "initial encounter for closed fracture".into())]);
        let book = Book::from_data(data).unwrap();
        let seventh = |id: NodeId| book.record(id).seventh_character.map(|s| (s.meaning, s.source));
        assert_eq!(seventh(4), Some(("initial encounter for closed fracture".into(), "S72.0".into())));
        assert_eq!(seventh(5), Some(("subsequent encounter".into(), "S72".into())));
    }

    /// Every seven-character ICD-10-CM code of the default book gets the meaning a walk up its
    /// ancestors finds.
    #[test]
    fn the_default_book_agrees_with_a_walk_up_the_ancestors() {
        let book = Book::open_default().unwrap();
        let data = book.data();
        let mut checked = 0;
        for id in 0..data.nodes.len() as NodeId {
            let node = data.nodes.at(id);
            if node.system != System::Icd10cm || !node.is_code() || node.key().len() != 7 {
                continue;
            }
            let c = node.key().chars().last().unwrap();
            let defining = std::iter::successors(node.parent(), |&p| data.nodes[p as usize].parent())
                .find_map(|a| data.seventh_of(a).iter().find(|(d, _)| *d == c).map(|(_, m)| (m.to_string(), data.nodes.at(a).code())));
            let got = book.record(id).seventh_character.map(|s| (s.meaning, s.source));
            assert_eq!(got, defining, "{}", node.code());
            checked += 1;
        }
        assert!(checked > 40_000, "{checked}");
    }
}

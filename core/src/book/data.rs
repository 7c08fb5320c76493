//! The in-memory form of a code book: every entry of every system as a flat array of nodes in
//! tabular order, so that a subtree is a contiguous range and a lookup is an index away.
//! [`super::compile`] fills it from the source files, [`super::store`] writes it to and reads it
//! from the SQLite book file.

use std::collections::HashMap;

use crate::code::System;
use crate::import::pcs::PcsAxes;
use crate::record::{HcpcsInfo, NodeKind, NoteKind};

/// Index of a node in [`BookData::nodes`].
pub(crate) type NodeId = u32;

/// One chapter, section, header, code or modifier.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    pub system: System,
    pub kind: NodeKind,
    /// Normalised key (`E119`, `0DTJ4ZZ`, `J1100`); a chapter's number (`4`); a section's
    /// range (`E08-E13`).
    pub key: Box<str>,
    pub title: Box<str>,
    /// Empty when the short title equals the title.
    pub short_title: Box<str>,
    pub billable: bool,
    pub parent: Option<NodeId>,
    /// One past the last node of this node's subtree (descendants are `id + 1 .. end`).
    pub end: NodeId,
}

impl Node {
    /// The official spelling of the node's code.
    pub fn code(&self) -> String {
        match self.kind {
            NodeKind::Chapter => format!("Chapter {}", self.key),
            NodeKind::Section => self.key.to_string(),
            _ => self.system.display(&self.key),
        }
    }

    pub fn short_title(&self) -> &str {
        if self.short_title.is_empty() {
            &self.title
        } else {
            &self.short_title
        }
    }

    /// Whether the node is looked up by code (chapters and sections are not codes).
    pub fn is_code(&self) -> bool {
        !matches!(self.kind, NodeKind::Chapter | NodeKind::Section)
    }
}

/// Everything a book holds, in memory.
#[derive(Debug, Default)]
pub(crate) struct BookData {
    pub nodes: Vec<Node>,
    /// Notes printed at each node, in print order.
    pub notes: HashMap<NodeId, Vec<(NoteKind, Box<str>)>>,
    /// 7th-character definitions printed at a node: (character, meaning).
    pub seventh: HashMap<NodeId, Vec<(char, Box<str>)>>,
    pub hcpcs: HashMap<NodeId, HcpcsInfo>,
    pub pcs: PcsAxes,
    /// NCCI edit tables and GEMs (see `crate::billing`, `crate::crosswalk`).
    pub billing: crate::billing::BillingTables,
    /// ICD-10 code history and retired codes (see `super::history`).
    pub history: super::history::BookHistory,
    /// Plain-language and clinician descriptions (CPT, local code sets).
    pub descriptions: HashMap<NodeId, super::imported::Descriptions>,
    /// Free-form facts about the book (format version, sources and their checksums...).
    pub meta: Vec<(String, String)>,
}

impl BookData {
    /// Computes every node's subtree end from the parent links (nodes are in pre-order).
    pub fn compute_subtree_ends(&mut self) {
        let n = self.nodes.len() as NodeId;
        for (i, node) in self.nodes.iter_mut().enumerate() {
            node.end = i as NodeId + 1;
        }
        for i in (0..n).rev() {
            if let Some(p) = self.nodes[i as usize].parent {
                let end = self.nodes[i as usize].end;
                let pe = &mut self.nodes[p as usize].end;
                *pe = (*pe).max(end);
            }
        }
        let _ = n;
    }

    /// Ancestors of `id`, nearest first.
    pub fn ancestors(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        std::iter::successors(self.nodes[id as usize].parent, move |&p| self.nodes[p as usize].parent)
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

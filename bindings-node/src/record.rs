//! What a lookup returns, as plain JavaScript objects: the core's [`codelookup::record`] types
//! with camelCase property names. Absent values are `null`; dates are ISO strings
//! `"YYYY-MM-DD"`.
//!
//! Each conversion destructures the core struct without `..`, so a field added to the core
//! fails to compile here until the binding carries it too.

use chrono::NaiveDate;
use codelookup::record as core;
use napi_derive::napi;

use crate::code::System;

/// What kind of entry of a code system a record is: `chapter` and `section` (ICD-10-CM
/// groupings), `header` (not valid on a claim: a category with children, a PCS table),
/// `code`, or `modifier` (HCPCS/CPT, two characters).
#[napi(string_enum)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    #[napi(value = "chapter")]
    Chapter,
    #[napi(value = "section")]
    Section,
    #[napi(value = "header")]
    Header,
    #[napi(value = "code")]
    Code,
    #[napi(value = "modifier")]
    Modifier,
}

impl From<core::NodeKind> for NodeKind {
    fn from(k: core::NodeKind) -> NodeKind {
        match k {
            core::NodeKind::Chapter => NodeKind::Chapter,
            core::NodeKind::Section => NodeKind::Section,
            core::NodeKind::Header => NodeKind::Header,
            core::NodeKind::Code => NodeKind::Code,
            core::NodeKind::Modifier => NodeKind::Modifier,
        }
    }
}

/// The kinds of instructional notes of the ICD-10-CM tabular list.
#[napi(string_enum)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteKind {
    /// An inclusion term: a synonym or example of the code's condition.
    #[napi(value = "inclusion_term")]
    InclusionTerm,
    /// "Includes": further defines the content of the category.
    #[napi(value = "includes")]
    Includes,
    /// "Excludes1": never coded together with this code.
    #[napi(value = "excludes1")]
    Excludes1,
    /// "Excludes2": not included here, but may be coded together.
    #[napi(value = "excludes2")]
    Excludes2,
    /// "Code first": the underlying condition is sequenced first.
    #[napi(value = "code_first")]
    CodeFirst,
    /// "Use additional code".
    #[napi(value = "use_additional_code")]
    UseAdditionalCode,
    /// "Code also".
    #[napi(value = "code_also")]
    CodeAlso,
    /// The 7th-character note of a category.
    #[napi(value = "seven_chr_note")]
    SevenChrNote,
    /// One 7th character and its meaning.
    #[napi(value = "seven_chr_def")]
    SevenChrDef,
    /// A general note.
    #[napi(value = "note")]
    Note,
}

impl From<core::NoteKind> for NoteKind {
    fn from(k: core::NoteKind) -> NoteKind {
        use core::NoteKind as K;
        match k {
            K::InclusionTerm => NoteKind::InclusionTerm,
            K::Includes => NoteKind::Includes,
            K::Excludes1 => NoteKind::Excludes1,
            K::Excludes2 => NoteKind::Excludes2,
            K::CodeFirst => NoteKind::CodeFirst,
            K::UseAdditionalCode => NoteKind::UseAdditionalCode,
            K::CodeAlso => NoteKind::CodeAlso,
            K::SevenChrNote => NoteKind::SevenChrNote,
            K::SevenChrDef => NoteKind::SevenChrDef,
            K::Note => NoteKind::Note,
        }
    }
}

/// Where a code stands in the book's code set: `active`, or `deleted` (in an earlier code set,
/// in none now, or terminated).
#[napi(string_enum)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeStatus {
    #[napi(value = "active")]
    Active,
    #[napi(value = "deleted")]
    Deleted,
}

impl From<core::CodeStatus> for CodeStatus {
    fn from(s: core::CodeStatus) -> CodeStatus {
        match s {
            core::CodeStatus::Active => CodeStatus::Active,
            core::CodeStatus::Deleted => CodeStatus::Deleted,
        }
    }
}

/// A reference to another entry: a parent, a child or a related code.
#[napi(object, use_nullable = true)]
#[derive(Clone, Debug)]
pub struct CodeRef {
    /// Canonical spelling (`E11`, `E08-E13`, `Chapter 4`).
    pub code: String,
    /// Official title.
    pub title: String,
    /// What kind of entry it is.
    pub kind: NodeKind,
    /// Whether it is valid on a claim.
    pub billable: bool,
}

impl From<core::CodeRef> for CodeRef {
    fn from(r: core::CodeRef) -> CodeRef {
        let core::CodeRef { code, title, kind, billable } = r;
        CodeRef { code: code.to_string(), title: title.to_string(), kind: kind.into(), billable }
    }
}

/// An instructional note that applies to a code, its own or inherited.
#[napi(object, use_nullable = true)]
#[derive(Clone, Debug)]
pub struct Note {
    /// What kind of note (`excludes1`, `code_first`, ...).
    pub kind: NoteKind,
    /// The note's text as printed in the tabular list.
    pub text: String,
    /// Where the note is printed: the code itself, or the ancestor it is inherited from.
    pub source: String,
    /// True when the note is printed at an ancestor and applies by inheritance.
    pub inherited: bool,
}

impl From<core::Note> for Note {
    fn from(n: core::Note) -> Note {
        let core::Note { kind, text, source, inherited } = n;
        Note { kind: kind.into(), text: text.to_string(), source: source.to_string(), inherited }
    }
}

/// The meaning of the 7th character of an ICD-10-CM code (`S72.001A`: `A`, "initial encounter
/// for closed fracture").
#[napi(object, use_nullable = true)]
#[derive(Clone, Debug)]
pub struct SeventhCharacter {
    /// The character.
    pub character: String,
    /// Its meaning.
    pub meaning: String,
    /// The code whose definitions apply (`S72`).
    pub source: String,
}

impl From<core::SeventhCharacter> for SeventhCharacter {
    fn from(s: core::SeventhCharacter) -> SeventhCharacter {
        let core::SeventhCharacter { character, meaning, source } = s;
        SeventhCharacter { character, meaning, source }
    }
}

/// One of the seven characters of an ICD-10-PCS code, in plain language.
#[napi(object, use_nullable = true)]
#[derive(Clone, Debug)]
pub struct PcsAxis {
    /// 1 to 7.
    pub position: u32,
    /// The axis name (Section, Body System, Operation, Body Part, Approach, Device, Qualifier).
    pub name: String,
    /// The character at this position.
    pub value: String,
    /// What the character means here (`Resection`, `Percutaneous Endoscopic`).
    pub label: String,
    /// The official definition, where the book has one.
    pub definition: Option<String>,
}

impl From<&core::PcsAxis> for PcsAxis {
    fn from(a: &core::PcsAxis) -> PcsAxis {
        let core::PcsAxis { position, name, value, label, definition } = a;
        PcsAxis {
            position: (*position).into(),
            name: name.to_string(),
            value: value.to_string(),
            label: label.to_string(),
            definition: definition.as_ref().map(|d| d.to_string()),
        }
    }
}

/// HCPCS Level II administrative data from the CMS quarterly file. Dates are `"YYYY-MM-DD"`.
#[napi(object, use_nullable = true)]
#[derive(Clone, Debug)]
pub struct HcpcsInfo {
    /// Date the code was added.
    pub added: Option<String>,
    /// Date the latest action took effect.
    pub action_effective: Option<String>,
    /// Termination date: the last date the code may be used; `null` for active codes.
    pub terminated: Option<String>,
    /// The action code (`A` add, `C` long description change, `D` discontinue, `N` no
    /// maintenance, ...).
    pub action_code: Option<String>,
    /// Medicare coverage code.
    pub coverage_code: Option<String>,
    /// Pricing indicators (`11` physician fee schedule, `51` drugs, ...).
    pub pricing_indicators: Vec<String>,
    /// Multiple pricing indicator.
    pub multiple_pricing_indicator: Option<String>,
    /// BETOS code.
    pub betos: Option<String>,
    /// CMS type of service codes.
    pub type_of_service: Vec<String>,
    /// Cross-reference codes.
    pub cross_references: Vec<String>,
    /// Processing note number.
    pub processing_note: Option<String>,
}

impl From<core::HcpcsInfo> for HcpcsInfo {
    fn from(h: core::HcpcsInfo) -> HcpcsInfo {
        let core::HcpcsInfo {
            added,
            action_effective,
            terminated,
            action_code,
            coverage_code,
            pricing_indicators,
            multiple_pricing_indicator,
            betos,
            type_of_service,
            cross_references,
            processing_note,
        } = h;
        HcpcsInfo {
            added: added.map(date),
            action_effective: action_effective.map(date),
            terminated: terminated.map(date),
            action_code,
            coverage_code,
            pricing_indicators,
            multiple_pricing_indicator,
            betos,
            type_of_service,
            cross_references,
            processing_note,
        }
    }
}

/// A title a code had from a date on.
#[napi(object, use_nullable = true)]
#[derive(Clone, Debug)]
pub struct TitleChange {
    /// First date the title applied, `"YYYY-MM-DD"`.
    pub from: String,
    /// The title.
    pub title: String,
}

impl From<core::TitleChange> for TitleChange {
    fn from(t: core::TitleChange) -> TitleChange {
        let core::TitleChange { from, title } = t;
        TitleChange { from: date(from), title }
    }
}

/// Validity of a code over time. Dates are `"YYYY-MM-DD"`.
#[napi(object, use_nullable = true)]
#[derive(Clone, Debug)]
pub struct History {
    /// `active` or `deleted`.
    pub status: CodeStatus,
    /// First date of service on which the code was valid on a claim, if it ever was.
    pub valid_from: Option<String>,
    /// Last date of service on which it was valid; `null` while it still is.
    pub valid_until: Option<String>,
    /// ICD-10 fiscal years in which the code was valid on a claim. Empty for HCPCS and CPT.
    pub valid_fiscal_years: Vec<u32>,
    /// Earlier titles, oldest first.
    pub title_changes: Vec<TitleChange>,
    /// Codes that replaced this one.
    pub replaced_by: Vec<String>,
    /// Codes this one replaced.
    pub replaces: Vec<String>,
}

impl From<core::History> for History {
    fn from(h: core::History) -> History {
        let core::History { status, valid_from, valid_until, valid_fiscal_years, title_changes, replaced_by, replaces } = h;
        History {
            status: status.into(),
            valid_from: valid_from.map(date),
            valid_until: valid_until.map(date),
            valid_fiscal_years: valid_fiscal_years.into_iter().map(u32::from).collect(),
            title_changes: convert(title_changes),
            replaced_by,
            replaces,
        }
    }
}

/// Everything the book knows about one code of one system.
#[napi(object, use_nullable = true)]
#[derive(Clone, Debug)]
pub struct CodeRecord {
    /// Canonical spelling (`E11.9`, `0DTJ4ZZ`, `J1100`).
    pub code: String,
    /// The code system.
    pub system: System,
    /// What kind of entry it is.
    pub kind: NodeKind,
    /// Official long title.
    pub title: String,
    /// Official short title; equal to the title where the source has none.
    pub short_title: String,
    /// Whether the code is valid on a claim.
    pub billable: bool,
    /// Ancestors from the top (chapter or table) down to the direct parent.
    pub parents: Vec<CodeRef>,
    /// Direct children.
    pub children: Vec<CodeRef>,
    /// For a header: every billable code below it, in tabular order. Empty for billable codes.
    pub billable_descendants: Vec<String>,
    /// Instructional notes: the code's own first, then those inherited, nearest first.
    pub notes: Vec<Note>,
    /// For ICD-10-CM codes with a 7th character: what it means.
    pub seventh_character: Option<SeventhCharacter>,
    /// For ICD-10-PCS codes: the seven characters in plain language.
    pub pcs_axes: Vec<PcsAxis>,
    /// For HCPCS codes: the administrative data of the quarterly file.
    pub hcpcs: Option<HcpcsInfo>,
    /// A plain-language description (the CPT consumer descriptor), where the source has one.
    pub description: Option<String>,
    /// CPT clinician descriptors, where the source has them.
    pub clinician_descriptors: Vec<String>,
    /// Validity over time, where the book has it.
    pub history: Option<History>,
    /// Other code systems in which the same characters are also a code (`B20`).
    pub also_in: Vec<System>,
}

impl From<core::CodeRecord> for CodeRecord {
    fn from(r: core::CodeRecord) -> CodeRecord {
        let core::CodeRecord {
            code,
            system,
            kind,
            title,
            short_title,
            billable,
            parents,
            children,
            billable_descendants,
            notes,
            seventh_character,
            pcs_axes,
            hcpcs,
            description,
            clinician_descriptors,
            history,
            also_in,
        } = r;
        CodeRecord {
            code,
            system: system.into(),
            kind: kind.into(),
            title,
            short_title,
            billable,
            parents: parents.iter().cloned().map(Into::into).collect(),
            children: convert(children),
            billable_descendants,
            notes: notes.iter().cloned().map(Into::into).collect(),
            seventh_character: seventh_character.map(Into::into),
            pcs_axes: pcs_axes.iter().map(|a| PcsAxis::from(&**a)).collect(),
            hcpcs: hcpcs.map(Into::into),
            description,
            clinician_descriptors,
            history: history.map(Into::into),
            also_in: convert(also_in),
        }
    }
}

/// Converts every item of a list.
pub fn convert<A, B: From<A>>(items: Vec<A>) -> Vec<B> {
    items.into_iter().map(B::from).collect()
}

/// A date as `"YYYY-MM-DD"`.
pub fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A caller's date `"YYYY-MM-DD"`; anything else is the core's `INVALID_ARGUMENT` (quoting at
/// most 40 characters of the input).
pub fn parse_date(d: &str) -> codelookup::Result<NaiveDate> {
    NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|e| {
        let shown: String = d.chars().take(40).collect();
        codelookup::Error::InvalidArgument(format!("date {shown:?} is not a date \"YYYY-MM-DD\": {e}"))
    })
}

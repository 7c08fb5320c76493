//! [`PackedHcpcs`]: the HCPCS administrative data of one code ([`HcpcsInfo`]) as the book keeps
//! it in memory: the three dates and one string with every text field, instead of a dozen small
//! heap strings (for 8,800 codes that is about 1 MiB instead of about 7 MiB resident). A lookup
//! unpacks it into the record's [`HcpcsInfo`].

use chrono::NaiveDate;

use crate::record::HcpcsInfo;

/// Separates the text fields; list items are separated by a space (no item holds white space:
/// the book stores lists space-joined).
const SEP: char = '\u{1f}';

/// One code's HCPCS data, packed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PackedHcpcs {
    pub added: Option<NaiveDate>,
    pub action_effective: Option<NaiveDate>,
    pub terminated: Option<NaiveDate>,
    /// Which optional fields are present (bit i for the i-th optional field of `text`).
    present: u8,
    /// action code, coverage code, pricing indicators, multiple pricing indicator, BETOS, type
    /// of service, cross-references, processing note; separated by [`SEP`].
    text: Box<str>,
}

impl PackedHcpcs {
    pub fn pack(h: &HcpcsInfo) -> PackedHcpcs {
        let opt = [&h.action_code, &h.coverage_code, &h.multiple_pricing_indicator, &h.betos, &h.processing_note];
        let present = opt.iter().enumerate().fold(0u8, |m, (i, o)| m | (u8::from(o.is_some()) << i));
        let s = |o: &Option<String>| o.clone().unwrap_or_default();
        let fields = [
            s(&h.action_code),
            s(&h.coverage_code),
            h.pricing_indicators.join(" "),
            s(&h.multiple_pricing_indicator),
            s(&h.betos),
            h.type_of_service.join(" "),
            h.cross_references.join(" "),
            s(&h.processing_note),
        ];
        PackedHcpcs {
            added: h.added,
            action_effective: h.action_effective,
            terminated: h.terminated,
            present,
            text: fields.map(|f| f.replace(SEP, " ")).join(&SEP.to_string()).into_boxed_str(),
        }
    }

    pub fn unpack(&self) -> HcpcsInfo {
        let mut f = self.fields();
        let mut next = || f.next().unwrap_or_default();
        let opt = |bit: u8, v: &str| (self.present & (1 << bit) != 0).then(|| v.to_string());
        let list = |v: &str| items(v).map(str::to_string).collect::<Vec<_>>();
        let (action, coverage, pricing, multiple, betos, tos, xrefs, note) =
            (next(), next(), next(), next(), next(), next(), next(), next());
        HcpcsInfo {
            added: self.added,
            action_effective: self.action_effective,
            terminated: self.terminated,
            action_code: opt(0, action),
            coverage_code: opt(1, coverage),
            pricing_indicators: list(pricing),
            multiple_pricing_indicator: opt(2, multiple),
            betos: opt(3, betos),
            type_of_service: list(tos),
            cross_references: list(xrefs),
            processing_note: opt(4, note),
        }
    }

    /// The cross-reference codes (what replaced a terminated code), without unpacking the rest.
    pub fn cross_references(&self) -> impl Iterator<Item = &str> {
        items(self.fields().nth(6).unwrap_or_default())
    }

    /// The text fields (a predicate, not a `char` pattern: for strings this short the
    /// searcher of a `char` pattern costs more than the fields' bytes).
    #[allow(clippy::manual_pattern_char_comparison)]
    fn fields(&self) -> impl Iterator<Item = &str> {
        self.text.split(|c: char| c == SEP)
    }
}

/// The items of a space-joined list field.
#[allow(clippy::manual_pattern_char_comparison)]
fn items(field: &str) -> impl Iterator<Item = &str> {
    field.split(|c: char| c == ' ').filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let full = HcpcsInfo {
            added: NaiveDate::from_ymd_opt(2003, 1, 1),
            action_effective: NaiveDate::from_ymd_opt(2024, 1, 1),
            terminated: NaiveDate::from_ymd_opt(2025, 12, 31),
            action_code: Some("D".into()),
            coverage_code: Some("C".into()),
            pricing_indicators: vec!["11".into(), "51".into()],
            multiple_pricing_indicator: Some("A".into()),
            betos: Some("O1E".into()),
            type_of_service: vec!["1".into(), "P".into()],
            cross_references: vec!["J1101".into(), "J1102".into()],
            processing_note: Some("0001".into()),
        };
        let p = PackedHcpcs::pack(&full);
        assert_eq!(p.unpack(), full);
        assert_eq!(p.cross_references().collect::<Vec<_>>(), ["J1101", "J1102"]);
        let empty = HcpcsInfo::default();
        assert_eq!(PackedHcpcs::pack(&empty).unpack(), empty);
        // Present but empty stays distinct from absent.
        let blank = HcpcsInfo { action_code: Some(String::new()), ..HcpcsInfo::default() };
        assert_eq!(PackedHcpcs::pack(&blank).unpack(), blank);
    }
}

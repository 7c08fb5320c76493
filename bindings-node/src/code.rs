//! Code systems: the `System` type of the records, and the parsing of a caller's system name.

use codelookup::System as CoreSystem;
use napi_derive::napi;

/// A code system: `icd10cm` (ICD-10-CM diagnoses), `icd10pcs` (ICD-10-PCS procedures),
/// `hcpcs` (HCPCS Level II), `cpt` (CPT, from a licensee's AMA files) or `local` (an imported
/// local code set). Calls that take a system also accept spellings such as `ICD-10-CM`.
#[napi(string_enum)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum System {
    #[napi(value = "icd10cm")]
    Icd10cm,
    #[napi(value = "icd10pcs")]
    Icd10pcs,
    #[napi(value = "hcpcs")]
    Hcpcs,
    #[napi(value = "cpt")]
    Cpt,
    #[napi(value = "local")]
    Local,
}

impl From<CoreSystem> for System {
    fn from(s: CoreSystem) -> System {
        match s {
            CoreSystem::Icd10cm => System::Icd10cm,
            CoreSystem::Icd10pcs => System::Icd10pcs,
            CoreSystem::Hcpcs => System::Hcpcs,
            CoreSystem::Cpt => System::Cpt,
            CoreSystem::Local => System::Local,
        }
    }
}

/// Parses an optional system name (`undefined`/`null`: every system); an unknown name is the
/// core's `UNKNOWN_SYSTEM` error.
pub fn parse_system(name: Option<&str>) -> codelookup::Result<Option<CoreSystem>> {
    name.map(str::parse).transpose()
}

/// Parses a list of system names.
pub fn parse_systems(names: &[String]) -> codelookup::Result<Vec<CoreSystem>> {
    names.iter().map(|n| n.parse()).collect()
}

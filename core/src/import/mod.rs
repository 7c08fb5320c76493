//! Readers of the official source files (CMS, CDC, AMA), one module per format, and the builder
//! that compiles them into a code book. Each reader parses the file exactly as its publisher
//! ships it, so next year's file can be dropped into `data/` and the book rebuilt.
//!
//! - [`order`]: ICD-10-CM and ICD-10-PCS fixed-width order files;
//! - [`tabular`]: the ICD-10-CM tabular list XML (hierarchy and notes);
//! - [`hcpcs`]: the HCPCS Level II quarterly ANWEB file (xlsx, CSV, fixed-width text);
//! - [`pcs`]: ICD-10-PCS tables and definitions (plain-language axes);
//! - [`history`]: ICD-10 code history over every yearly order file, and the NCHS conversion table;
//! - [`ncci`]: NCCI procedure-to-procedure and medically unlikely edit files (CMS layouts, JSON);
//! - [`gems`]: the ICD-9-CM ↔ ICD-10-CM General Equivalence Mappings;
//! - [`cpt`]: the AMA CPT data files of a licensee (descriptors, modifiers, CPT Link history);
//! - [`codes_csv`]: local code sets and payer lists from CSV/TSV files with a column mapping;
//! - [`sources`]: where the sources of the default book are, and reading members of CMS zips.

pub mod codes_csv;
pub mod cpt;
pub mod gems;
pub mod hcpcs;
pub mod history;
pub mod ncci;
pub mod order;
pub mod pcs;
pub mod sources;
pub mod tabular;

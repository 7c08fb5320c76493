//! Readers of the official source files (CMS, CDC, AMA), one module per format, and the builder
//! that compiles them into a code book. Each reader parses the file exactly as its publisher
//! ships it, so next year's file can be dropped into `data/` and the book rebuilt.
//!
//! - [`order`]: ICD-10-CM and ICD-10-PCS fixed-width order files;
//! - [`tabular`]: the ICD-10-CM tabular list XML (hierarchy and notes);
//! - [`hcpcs`]: the HCPCS Level II quarterly ANWEB file (xlsx, CSV, fixed-width text);
//! - [`pcs`]: ICD-10-PCS tables and definitions (plain-language axes);
//! - [`sources`]: where the sources of the default book are, and reading members of CMS zips.

pub mod hcpcs;
pub mod order;
pub mod pcs;
pub mod sources;
pub mod tabular;

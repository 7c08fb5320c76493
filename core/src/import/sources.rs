//! Where the source files of a code book are, and how members are read out of the CMS zips.
//!
//! [`Sources::in_dir`] names the files of the default book inside a data folder laid out as the
//! repository's `data/`; a user building a newer book points the fields at newer files.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The source files a code book is built from.
#[derive(Clone, Debug)]
pub struct Sources {
    /// CMS ICD-10-CM zip holding `icd10cm_order_YYYY.txt` (or the order file itself).
    pub icd10cm_order: PathBuf,
    /// CDC ICD-10-CM tabular list XML (`.xml` or `.xml.gz`).
    pub icd10cm_tabular: PathBuf,
    /// CMS ICD-10-PCS zip holding `icd10pcs_order_YYYY.txt` (or the order file itself).
    pub icd10pcs_order: PathBuf,
    /// A CMS ICD-10-PCS zip holding `icd10pcs_tables_YYYY.xml` and
    /// `icd10pcs_definitions_YYYY.xml`, for the plain-language axes.
    pub icd10pcs_tables: Option<PathBuf>,
    /// CMS HCPCS Level II quarterly ANWEB file (`.xlsx`, `.csv`, `.csv.gz` or `.txt`).
    pub hcpcs: PathBuf,
    /// The derived ICD-10 history table (`codelookup history` writes it from the yearly CMS
    /// order files).
    pub icd10_history: Option<PathBuf>,
    /// The NCHS ICD-10-CM conversion table (xlsx): effective dates and previous codes of new
    /// codes.
    pub icd10cm_conversion: Option<PathBuf>,
    /// A licensee's folder of AMA CPT data files (`LONGULT.txt` and the others); CPT is never
    /// part of the default book.
    pub cpt: Option<PathBuf>,
    /// Local code sets or payer lists (CSV/TSV) with their column mappings.
    pub local: Vec<LocalSource>,
    /// NCCI procedure-to-procedure edit files: the CMS tab-delimited files (`.txt`, or the CMS
    /// `.zip`s holding them; practitioner or outpatient hospital) or the JSON conversion
    /// (`ptp-NN.json.gz`, undated). Empty: the book has no PTP edits.
    pub ncci_ptp: Vec<PathBuf>,
    /// NCCI medically unlikely edit file: the CMS CSV (or its `.zip`) or the JSON conversion.
    pub ncci_mue: Option<PathBuf>,
    /// GEM ICD-9-CM → ICD-10-CM diagnoses (`2018_I9gem.txt`, or `.txt.gz`).
    pub gems_icd9_to_icd10: Option<PathBuf>,
    /// GEM ICD-10-CM → ICD-9-CM diagnoses (`2018_I10gem.txt`, or `.txt.gz`).
    pub gems_icd10_to_icd9: Option<PathBuf>,
}

impl Sources {
    /// The default book's sources inside a folder laid out like the repository's `data/`.
    pub fn in_dir(dir: impl AsRef<Path>) -> Sources {
        let d = dir.as_ref();
        Sources {
            icd10cm_order: d.join("icd10cm/cms_2026_dx.zip"),
            icd10cm_tabular: d.join("icd10cm/icd10cm-tabular-April-1-2026.xml.gz"),
            icd10pcs_order: d.join("icd10pcs/cms_2026_pr.zip"),
            icd10pcs_tables: Some(d.join("history/cms_2022_errata.zip")),
            hcpcs: d.join("hcpcs/HCPC2025_OCT_ANWEB.xlsx"),
            icd10_history: Some(d.join("history/icd10-history.tsv.gz")),
            icd10cm_conversion: Some(d.join("icd10cm/ICD-10-CM-CONVERSION-TABLE-FY2026.xlsx")),
            cpt: None,
            local: Vec::new(),
            ncci_ptp: (0..10).map(|i| d.join(format!("ncci/ptp-{i:02}.json.gz"))).collect(),
            ncci_mue: Some(d.join("ncci/mue.json.gz")),
            gems_icd9_to_icd10: Some(d.join("gems/2018_I9gem.txt.gz")),
            gems_icd10_to_icd9: Some(d.join("gems/2018_I10gem.txt.gz")),
        }
    }

    /// The repository's `data/` folder (known at compile time; used by tests and `build`).
    pub fn repository_data_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../data")
    }

    /// Every file named, for checksums in the book's metadata.
    pub fn files(&self) -> Vec<&Path> {
        let mut v = vec![self.icd10cm_order.as_path(), self.icd10cm_tabular.as_path(), self.icd10pcs_order.as_path()];
        v.extend(self.icd10pcs_tables.as_deref());
        v.push(self.hcpcs.as_path());
        v.extend(self.ncci_ptp.iter().map(PathBuf::as_path));
        v.extend(self.ncci_mue.as_deref());
        v.extend(self.gems_icd9_to_icd10.as_deref());
        v.extend(self.gems_icd10_to_icd9.as_deref());
        v.extend(self.icd10_history.as_deref());
        v.extend(self.icd10cm_conversion.as_deref());
        v.extend(self.local.iter().map(|l| l.path.as_path()));
        v
    }
}

/// A CSV/TSV file of codes and how to read it.
#[derive(Clone, Debug)]
pub struct LocalSource {
    /// The file.
    pub path: PathBuf,
    /// Delimiter, column mapping and default system.
    pub import: super::codes_csv::CsvImport,
}

/// Reads a whole file, naming it in the error.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// Reads the first member of a zip whose file name (without folders) satisfies `wanted`.
/// CMS zips put the same file at different depths in different years.
pub fn read_zip_member(path: &Path, wanted: impl Fn(&str) -> bool) -> Result<(String, Vec<u8>)> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| Error::import(path, None, format!("not a readable zip: {e}")))?;
    let names: Vec<String> = zip.file_names().map(str::to_string).collect();
    let mut candidates: Vec<&String> = names.iter().filter(|n| wanted(base_name(n))).collect();
    candidates.sort();
    let name = candidates.first().ok_or_else(|| Error::import(path, None, format!("no matching member among {}", names.join(", "))))?;
    let mut member = zip.by_name(name).map_err(|e| Error::import(path, None, format!("{name}: {e}")))?;
    let mut bytes = Vec::with_capacity(member.size() as usize);
    member.read_to_end(&mut bytes).map_err(|e| Error::import(path, None, format!("{name}: {e}")))?;
    Ok((name.to_string(), bytes))
}

/// Reads an order file given either the file itself or a CMS zip that holds it; `prefix` is
/// `icd10cm_order_` or `icd10pcs_order_`. Addenda files are skipped.
pub fn read_order_source(path: &Path, prefix: &str) -> Result<Vec<super::order::OrderRow>> {
    let is_zip = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    let bytes = if is_zip {
        read_zip_member(path, |n| {
            let n = n.to_ascii_lowercase();
            n.starts_with(prefix) && n.ends_with(".txt") && !n.contains("addenda")
        })?
        .1
    } else {
        read_file(path)?
    };
    super::order::read(&bytes[..], path)
}

/// Reads a file that may be gzip-compressed (by its `.gz` extension).
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>> {
    let raw = read_file(path)?;
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz")) {
        let mut out = Vec::with_capacity(raw.len() * 8);
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::import(path, None, format!("not a readable gzip file: {e}")))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

fn base_name(member: &str) -> &str {
    member.rsplit(['/', '\\']).next().unwrap_or(member)
}

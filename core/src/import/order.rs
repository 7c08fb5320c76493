//! The CMS fixed-width "order files" of ICD-10-CM and ICD-10-PCS (`icd10cm_order_2026.txt`,
//! `icd10pcs_order_2026.txt`): one line per code in tabular order, with a billable flag, a short
//! and a long title.
//!
//! Layout (1-based columns): 1-5 order number, 7-13 code without dot, 15 `1` billable / `0`
//! header, 17-76 short title, 78- long title.

use std::io::BufRead;
use std::path::Path;

use crate::error::{Error, Result};

/// One line of an order file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderRow {
    /// The order number (tabular position).
    pub order: u32,
    /// The code, normalised (upper case, no dot).
    pub code: String,
    /// `true` when valid for submission on a claim.
    pub billable: bool,
    /// Short description (at most 60 characters).
    pub short_title: String,
    /// Long description.
    pub long_title: String,
}

/// Reads every line of an order file. `path` only names the file in errors.
///
/// Lines are decoded as UTF-8, or as Latin-1 where a line is not UTF-8 (older CMS files).
/// A blank line is skipped; any other line that does not fit the layout is an
/// [`Error::Import`] naming the file and line.
pub fn read<R: BufRead>(mut reader: R, path: &Path) -> Result<Vec<OrderRow>> {
    let mut rows = Vec::with_capacity(100_000);
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let line = decode_line(&buf);
        let line = line.trim_end_matches(['\r', '\n']);
        if line.trim().is_empty() {
            continue;
        }
        rows.push(parse_line(line).map_err(|m| Error::import(path, Some(line_no), m))?);
    }
    Ok(rows)
}

/// Decodes one line: UTF-8 when it is, else Latin-1 (every byte one character).
pub(crate) fn decode_line(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.into(),
        Err(_) => bytes.iter().map(|&b| b as char).collect::<String>().into(),
    }
}

fn parse_line(line: &str) -> std::result::Result<OrderRow, String> {
    let chars: Vec<char> = line.chars().collect();
    let field = |from: usize, to: usize| -> String {
        chars.get(from.min(chars.len())..to.min(chars.len())).map(|c| c.iter().collect::<String>()).unwrap_or_default()
    };
    if chars.len() < 17 {
        return Err(format!("line too short for the order-file layout ({} characters)", chars.len()));
    }
    let order = field(0, 5);
    let order: u32 = order.trim().parse().map_err(|_| format!("order number {order:?} is not a number"))?;
    let code = field(6, 13).trim().to_string();
    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        return Err(format!("code {code:?} is not letters and digits"));
    }
    let billable = match chars[14] {
        '1' => true,
        '0' => false,
        c => return Err(format!("billable flag {c:?} is neither 0 nor 1")),
    };
    let short_title = field(16, 76).trim().to_string();
    let long_title = field(77, chars.len()).trim().to_string();
    if long_title.is_empty() {
        return Err(format!("code {code} has no long description"));
    }
    Ok(OrderRow { order, code, billable, short_title, long_title })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<OrderRow>> {
        read(text.as_bytes(), Path::new("test.txt"))
    }

    #[test]
    fn reads_the_layout() {
        let rows = parse(
            "00001 A00     0 Cholera                                                      Cholera\n\
             00002 A000    1 Cholera due to Vibrio cholerae 01, biovar cholerae           Cholera due to Vibrio cholerae 01, biovar cholerae\r\n\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0],
            OrderRow { order: 1, code: "A00".into(), billable: false, short_title: "Cholera".into(), long_title: "Cholera".into() }
        );
        assert!(rows[1].billable);
        assert_eq!(rows[1].long_title, "Cholera due to Vibrio cholerae 01, biovar cholerae");
    }

    #[test]
    fn latin1_lines_decode() {
        let mut bytes = b"00001 A00     0 Cholera caf\xe9                                                  Cholera caf\xe9".to_vec();
        bytes.push(b'\n');
        let rows = read(&bytes[..], Path::new("x")).unwrap();
        assert_eq!(rows[0].long_title, "Cholera café");
    }

    #[test]
    fn malformed_lines_name_the_line() {
        for bad in
            ["00001 A00", "0000x A00     0 Cholera   Cholera", "00001 A00     7 Cholera        Cholera", "00001 A-0     1 x           y"]
        {
            let err = parse(&format!("00001 A00     0 Cholera                                                      Cholera\n{bad}\n"))
                .unwrap_err();
            match err {
                Error::Import { line, .. } => assert_eq!(line, Some(2), "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}

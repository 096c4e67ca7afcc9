//! RFC 4180 CSV cells for the history exports (`/api/v1/export?format=csv` and
//! `glassbox history --format csv`), made safe to open in a spreadsheet.
//!
//! Log entries carry text chosen by whoever signed them (subject names,
//! repository URLs). A cell that starts with `=`, `+`, `-`, `@`, TAB or CR is
//! evaluated as a formula by common spreadsheet programs ("CSV injection"), so a
//! hostile vendor could run a formula on a regulator's machine. Such a cell is
//! written with a leading `'`, the neutralisation spreadsheets themselves use for
//! text. CSV is the spreadsheet view; the exact logged values are in the JSON
//! Lines export and in the entries themselves.

use std::borrow::Cow;

/// The characters that make a spreadsheet treat a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `value` as one CSV field: a `'` before a formula-starting character, then
/// quoted (inner quotes doubled, RFC 4180 §2.7) when it holds a comma, quote, CR,
/// LF, or leading/trailing spaces.
pub fn cell(value: &str) -> Cow<'_, str> {
    let text: Cow<'_, str> = if value.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    };
    let quote =
        text.contains([',', '"', '\n', '\r']) || text.starts_with(' ') || text.ends_with(' ');
    if quote {
        Cow::Owned(format!("\"{}\"", text.replace('"', "\"\"")))
    } else {
        text
    }
}

/// One CSV record: the cells joined by commas, ended by `line_end`.
pub fn record<'a>(cells: impl IntoIterator<Item = &'a str>, line_end: &str) -> String {
    let mut out = String::new();
    for (i, value) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&cell(value));
    }
    out.push_str(line_end);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_are_written_as_they_are() {
        assert_eq!(cell("build"), "build");
        assert_eq!(cell("sha256:ab12"), "sha256:ab12");
        assert_eq!(cell(""), "");
    }

    #[test]
    fn separators_quotes_line_breaks_and_edge_spaces_are_quoted() {
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("one\ntwo"), "\"one\ntwo\"");
        assert_eq!(cell(" padded"), "\" padded\"");
        assert_eq!(cell("padded "), "\"padded \"");
    }

    #[test]
    fn formula_starts_are_neutralised_before_quoting() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tcmd"), "'\tcmd");
        assert_eq!(cell("\r=1"), "\"'\r=1\"");
        // Only the first character matters.
        assert_eq!(cell("a=b"), "a=b");
    }

    #[test]
    fn records_join_cells_and_end_the_line() {
        assert_eq!(record(["1", "a,b", "=x"], "\r\n"), "1,\"a,b\",'=x\r\n");
        assert_eq!(record(["x"], "\n"), "x\n");
    }
}

//! A CSV table with a header row, read with the `csv` crate; columns are
//! parsed as numbers only when asked for, so text columns that the fit does
//! not use do no harm.

use std::path::Path;

/// The cells of a CSV file, by column name.
///
/// ```
/// use trustfit_cli::csvdata::Table;
/// let t = Table::from_reader("t,y\n0,1.5\n1,2.5\n".as_bytes(), "inline").unwrap();
/// assert_eq!(t.names(), ["t", "y"]);
/// assert_eq!(t.column("y").unwrap(), [1.5, 2.5]);
/// ```
#[derive(Debug, Clone)]
pub struct Table {
    source: String,
    names: Vec<String>,
    rows: Vec<Vec<String>>,
    /// 1-based line number of each data row in the file.
    lines: Vec<u64>,
}

impl Table {
    /// Reads a file.
    ///
    /// # Errors
    /// A one-line message naming the file when it cannot be opened or is not
    /// well-formed CSV (see [`Table::from_reader`]).
    pub fn read(path: &Path) -> Result<Self, String> {
        let file = std::fs::File::open(path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        Self::from_reader(file, &path.display().to_string())
    }

    /// The column names of a CSV file, reading only its header row (for checks
    /// that should not wait for the data); `None` when the header cannot be read
    /// (then [`Table::read`] reports why).
    pub fn read_header(path: &Path) -> Option<Vec<String>> {
        let file = std::fs::File::open(path).ok()?;
        let mut rdr = Self::reader(file);
        let header = rdr.headers().ok()?;
        Some(header.iter().map(str::to_string).collect())
    }

    /// The CSV reader of every table: header row, trimmed cells, `#` comments.
    fn reader<R: std::io::Read>(reader: R) -> csv::Reader<R> {
        csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(reader)
    }

    /// Reads CSV text; `source` names it in messages.
    ///
    /// # Errors
    /// Malformed CSV (rows of different lengths, bad UTF-8), an empty or
    /// duplicate column name, or no data rows.
    pub fn from_reader(reader: impl std::io::Read, source: &str) -> Result<Self, String> {
        let mut rdr = Self::reader(reader);
        let header = rdr
            .headers()
            .map_err(|e| format!("malformed CSV in {source}: {e}"))?
            .clone();
        let names: Vec<String> = header.iter().map(str::to_string).collect();
        if names.is_empty() || (names.len() == 1 && names[0].is_empty()) {
            return Err(format!("{source} is empty (a header row is required)"));
        }
        for (i, n) in names.iter().enumerate() {
            if n.is_empty() {
                return Err(format!(
                    "malformed CSV in {source}: column {} has an empty name",
                    i + 1
                ));
            }
            if names[..i].contains(n) {
                return Err(format!(
                    "malformed CSV in {source}: duplicate column name {n:?}"
                ));
            }
        }
        let mut rows = Vec::new();
        let mut lines = Vec::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| format!("malformed CSV in {source}: {e}"))?;
            lines.push(rec.position().map_or(0, |p| p.line()));
            rows.push(rec.iter().map(str::to_string).collect());
        }
        if rows.is_empty() {
            return Err(format!("{source} has no data rows"));
        }
        Ok(Self {
            source: source.to_string(),
            names,
            rows,
            lines,
        })
    }

    /// Column names, in file order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of data rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no data rows (never true for a table that was read).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Whether a column of this name exists.
    pub fn has(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    /// A column as finite numbers.
    ///
    /// # Errors
    /// Unknown column, or a cell that is empty, not a number, NaN or infinite
    /// (the message gives the line).
    pub fn column(&self, name: &str) -> Result<Vec<f64>, String> {
        let j = self.names.iter().position(|n| n == name).ok_or_else(|| {
            format!(
                "unknown column {name:?} in {} (columns: {})",
                self.source,
                self.names.join(", ")
            )
        })?;
        let mut out = Vec::with_capacity(self.rows.len());
        for (row, line) in self.rows.iter().zip(&self.lines) {
            let cell = row.get(j).map_or("", String::as_str);
            let where_ = || format!("{} line {line}, column {name:?}", self.source);
            if cell.is_empty() {
                return Err(format!("{}: empty value", where_()));
            }
            let v: f64 = cell
                .parse()
                .map_err(|_| format!("{}: {cell:?} is not a number", where_()))?;
            if !v.is_finite() {
                return Err(format!(
                    "{}: {cell:?} is not a finite number (NaN and infinities are not allowed)",
                    where_()
                ));
            }
            out.push(v);
        }
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn table(text: &str) -> Result<Table, String> {
        Table::from_reader(text.as_bytes(), "data.csv")
    }

    #[test]
    fn reads_numbers_and_ignores_unused_text() {
        let t = table("# comment\n t , y ,label\n1,2,a\n3, 4e-1 ,b\n").unwrap();
        assert_eq!(t.names(), ["t", "y", "label"]);
        assert_eq!(t.len(), 2);
        assert_eq!(t.column("y").unwrap(), [2.0, 0.4]);
        assert!(t.column("label").unwrap_err().contains("not a number"));
        assert!(t.has("t") && !t.has("z"));
    }

    #[test]
    fn bad_cells_name_line_and_column() {
        let t = table("t,y\n1,2\n2,nan\n3,\n").unwrap();
        let e = t.column("y").unwrap_err();
        assert!(
            e.contains("line 3") && e.contains("\"y\"") && e.contains("NaN"),
            "{e}"
        );
        let t = table("t,y\n1,2\n3,\n").unwrap();
        assert!(t.column("y").unwrap_err().contains("empty value"));
        assert!(t.column("q").unwrap_err().contains("unknown column \"q\""));
    }

    #[test]
    fn malformed_files_are_errors() {
        assert!(
            table("t,y\n1,2\n1,2,3\n")
                .unwrap_err()
                .contains("malformed CSV")
        );
        assert!(table("t,y\n").unwrap_err().contains("no data rows"));
        assert!(table("").unwrap_err().contains("empty"));
        assert!(table("t,t\n1,2\n").unwrap_err().contains("duplicate"));
        assert!(
            Table::read(Path::new("/no/such/file.csv"))
                .unwrap_err()
                .contains("cannot open /no/such/file.csv")
        );
    }
}

//! A CSV table with a header row, read with the `csv` crate in two steps: the
//! header first ([`CsvFile`]), so that the caller can tell which columns it
//! uses, then the rows, keeping only those columns, parsed as numbers
//! ([`Table`]). Columns the fit does not use are skipped unread: they may
//! hold text, even bytes that are not UTF-8, and cost no memory.
//! `trustfit fit --group-by` reads the rows once with [`CsvFile::read_groups`],
//! which also splits them by the text of one column ([`Groups`]).
//!
//! Memory is the used columns' arrays (8 bytes per cell) plus the `csv`
//! crate's buffer; the duplicate-name check of the header is linear.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// At most this many column names are listed in an "unknown column" message.
const LISTED_NAMES: usize = 20;

/// A CSV file whose header has been read; [`CsvFile::read_columns`] reads the rows.
///
/// ```
/// use trustfit_cli::csvdata::CsvFile;
/// let csv = CsvFile::from_reader("t,y,label\n0,1.5,a\n1,2.5,b\n".as_bytes(), "inline").unwrap();
/// assert_eq!(csv.names(), ["t", "y", "label"]);
/// let t = csv.read_columns(&["y".to_string()]).unwrap();
/// assert_eq!(t.column("y").unwrap(), [1.5, 2.5]);
/// assert_eq!(t.len(), 2);
/// ```
pub struct CsvFile<R> {
    rdr: csv::Reader<R>,
    source: String,
    names: Vec<String>,
}

impl CsvFile<File> {
    /// Opens a file and reads its header.
    ///
    /// # Errors
    /// A one-line message naming the file when it cannot be opened or its
    /// header is not well-formed (see [`CsvFile::from_reader`]).
    pub fn open(path: &Path) -> Result<Self, String> {
        let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        Self::from_reader(file, &path.display().to_string())
    }
}

impl<R: Read> CsvFile<R> {
    /// Reads the header of CSV text; `source` names it in messages. Cells are
    /// trimmed; lines starting with `#` are comments.
    ///
    /// # Errors
    /// No header, an empty or duplicate column name, or malformed CSV.
    pub fn from_reader(reader: R, source: &str) -> Result<Self, String> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            // Cells of used columns are trimmed when parsed: trimming every record
            // would rebuild it, unused cells included.
            .trim(csv::Trim::Headers)
            .comment(Some(b'#'))
            .from_reader(reader);
        let header = rdr
            .byte_headers()
            .map_err(|e| format!("malformed CSV in {source}: {e}"))?;
        // A name that is not UTF-8 cannot be a formula identifier: it is kept (lossily)
        // only so that the column can be skipped.
        let names: Vec<String> = header
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        if names.is_empty() || (names.len() == 1 && names[0].is_empty()) {
            return Err(format!("{source} is empty (a header row is required)"));
        }
        let mut seen = HashSet::with_capacity(names.len());
        for (i, n) in names.iter().enumerate() {
            if n.is_empty() {
                return Err(format!(
                    "malformed CSV in {source}: column {} has an empty name",
                    i + 1
                ));
            }
            if !seen.insert(n.as_str()) {
                return Err(format!(
                    "malformed CSV in {source}: duplicate column name {n:?}"
                ));
            }
        }
        Ok(Self {
            rdr,
            source: source.to_string(),
            names,
        })
    }

    /// Column names, in file order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether a column of this name exists.
    pub fn has(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    /// The message for a column that is not in the header.
    pub fn unknown_column(&self, name: &str) -> String {
        unknown_column(&self.source, &self.names, name)
    }

    /// Reads the data rows, keeping the columns `used` (each once, in any order)
    /// as finite numbers; the other cells are only split off, never decoded.
    ///
    /// # Errors
    /// An unknown column; malformed CSV (rows of different lengths); no data
    /// rows; in a used column, a cell that is empty, not a number, NaN or
    /// infinite (the message gives the line and the column).
    pub fn read_columns(mut self, used: &[String]) -> Result<Table, String> {
        let source = self.source.clone();
        let (index, mut columns) = self.slots(used)?;
        let len = self.each_row(|rec, line| {
            for (&j, (name, values)) in index.iter().zip(columns.iter_mut()) {
                let cell = rec.get(j).unwrap_or(b"");
                values.push(number(cell, || {
                    format!("{source} line {line}, column {name:?}")
                })?);
            }
            Ok(())
        })?;
        Ok(Table {
            source,
            names: self.names,
            columns,
            len,
        })
    }

    /// Reads the data rows as [`CsvFile::read_columns`] does, and splits them by
    /// the text of column `by` (trimmed; it may hold numbers or labels, so `1`
    /// and `1.0` are two groups). A bad cell of a used column does not stop the
    /// reading: it is NaN in the table and its message is its group's
    /// [`Group::bad_cell`], so that one bad group cannot spoil the others.
    ///
    /// # Errors
    /// An unknown column (`by` included), malformed CSV, no data rows.
    ///
    /// ```
    /// use trustfit_cli::csvdata::CsvFile;
    /// let text = "id,t,y\nb,0,1\na,0,2\nb,1,nan\n";
    /// let g = CsvFile::from_reader(text.as_bytes(), "inline").unwrap()
    ///     .read_groups(&["t".to_string(), "y".to_string()], "id").unwrap();
    /// let labels: Vec<&str> = g.groups.iter().map(|g| g.label.as_str()).collect();
    /// assert_eq!(labels, ["b", "a"]); // order of first appearance
    /// assert_eq!(g.groups[0].rows, [0, 2]);
    /// assert!(g.groups[0].bad_cell.as_deref().unwrap().starts_with("line 4, column \"y\""));
    /// assert!(g.groups[1].bad_cell.is_none());
    /// assert!(g.table.column("y").unwrap()[2].is_nan());
    /// ```
    pub fn read_groups(mut self, used: &[String], by: &str) -> Result<Groups, String> {
        let source = self.source.clone();
        let g = self
            .names
            .iter()
            .position(|n| n == by)
            .ok_or_else(|| unknown_column(&source, &self.names, by))?;
        let (index, mut columns) = self.slots(used)?;
        let mut groups: Vec<Group> = Vec::new();
        let mut ids: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut row = 0usize;
        let len = self.each_row(|rec, line| {
            let label = rec.get(g).unwrap_or(b"").trim_ascii();
            let id = match ids.get(label) {
                Some(&id) => id,
                None => {
                    ids.insert(label.to_vec(), groups.len());
                    groups.push(Group::new(String::from_utf8_lossy(label).into_owned()));
                    groups.len() - 1
                }
            };
            let group = &mut groups[id];
            group.rows.push(row);
            row += 1;
            for (&j, (name, values)) in index.iter().zip(columns.iter_mut()) {
                let cell = rec.get(j).unwrap_or(b"");
                match number(cell, || format!("line {line}, column {name:?}")) {
                    Ok(v) => values.push(v),
                    Err(e) => {
                        values.push(f64::NAN);
                        group.bad_cell.get_or_insert(e);
                    }
                }
            }
            Ok(())
        })?;
        let table = Table {
            source,
            names: self.names,
            columns,
            len,
        };
        Ok(Groups { table, groups })
    }

    /// The positions of the columns `used` (each once) and their empty arrays.
    #[allow(clippy::type_complexity)]
    fn slots(&self, used: &[String]) -> Result<(Vec<usize>, Vec<(String, Vec<f64>)>), String> {
        let mut index = Vec::with_capacity(used.len());
        let mut columns: Vec<(String, Vec<f64>)> = Vec::with_capacity(used.len());
        for name in used {
            if columns.iter().any(|(n, _)| n == name) {
                continue;
            }
            let j = self
                .names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| unknown_column(&self.source, &self.names, name))?;
            index.push(j);
            columns.push((name.clone(), Vec::new()));
        }
        Ok((index, columns))
    }

    /// Calls `row` with every data record and its line; the number of rows.
    ///
    /// # Errors
    /// Malformed CSV, no data rows, or `row`'s error.
    fn each_row(
        &mut self,
        mut row: impl FnMut(&csv::ByteRecord, u64) -> Result<(), String>,
    ) -> Result<usize, String> {
        let mut rec = csv::ByteRecord::new();
        let mut len = 0usize;
        loop {
            match self.rdr.read_byte_record(&mut rec) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return Err(format!("malformed CSV in {}: {e}", self.source)),
            }
            row(&rec, rec.position().map_or(0, |p| p.line()))?;
            len += 1;
        }
        if len == 0 {
            return Err(format!("{} has no data rows", self.source));
        }
        Ok(len)
    }
}

/// The rows of a CSV file split by the values of one column ([`CsvFile::read_groups`]).
///
/// ```
/// use trustfit_cli::csvdata::CsvFile;
/// let g = CsvFile::from_reader("k,y\n1,5\n1.0,6\n1,7\n".as_bytes(), "inline").unwrap()
///     .read_groups(&["y".to_string()], "k").unwrap();
/// assert_eq!(g.groups.len(), 2); // "1" and "1.0" are different labels
/// assert_eq!(g.table.len(), 3);
/// ```
#[derive(Debug, Clone)]
pub struct Groups {
    /// The used columns of every row, in file order; a bad cell is NaN (see [`Group::bad_cell`]).
    pub table: Table,
    /// The groups, in order of first appearance in the file.
    pub groups: Vec<Group>,
}

/// One group of [`Groups`]: the rows whose group cell holds `label`.
///
/// ```
/// use trustfit_cli::csvdata::CsvFile;
/// let g = CsvFile::from_reader("k,y\n x ,5\nx,oops\n".as_bytes(), "inline").unwrap()
///     .read_groups(&["y".to_string()], "k").unwrap();
/// let x = &g.groups[0];
/// assert_eq!((x.label.as_str(), x.rows.as_slice()), ("x", &[0, 1][..]));
/// assert_eq!(x.bad_cell.as_deref(), Some("line 3, column \"y\": \"oops\" is not a number"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The group cell's text, trimmed (invalid UTF-8 replaced by U+FFFD).
    pub label: String,
    /// The group's rows: indices into the columns of [`Groups::table`], in file order.
    pub rows: Vec<usize>,
    /// The first cell of the group's rows, in file order, that is not a finite
    /// number: the message [`CsvFile::read_columns`] would give for it (without the file name).
    pub bad_cell: Option<String>,
}

impl Group {
    fn new(label: String) -> Self {
        Self {
            label,
            rows: Vec::new(),
            bad_cell: None,
        }
    }
}

/// Column names for a message: the first [`LISTED_NAMES`], comma-separated, and the count
/// when there are more.
///
/// ```
/// let names: Vec<String> = (0..30).map(|i| format!("c{i}")).collect();
/// let text = trustfit_cli::csvdata::listed(&names);
/// assert!(text.starts_with("c0, c1, ") && text.ends_with("c19, … (30 in all)"));
/// ```
pub fn listed(names: &[String]) -> String {
    // Names with control characters (a quoted newline) are escaped: messages are one line.
    let mut list = names
        .iter()
        .take(LISTED_NAMES)
        .map(|n| {
            if n.chars().any(char::is_control) {
                format!("{n:?}")
            } else {
                n.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > LISTED_NAMES {
        list.push_str(&format!(", … ({} in all)", names.len()));
    }
    list
}

/// "unknown column … (columns: …)".
fn unknown_column(source: &str, names: &[String], name: &str) -> String {
    format!(
        "unknown column {name:?} in {source} (columns: {})",
        listed(names)
    )
}

/// A cell of a used column as a finite number; `where_` names it in messages.
fn number(cell: &[u8], where_: impl Fn() -> String) -> Result<f64, String> {
    let cell = cell.trim_ascii();
    if cell.is_empty() {
        return Err(format!("{}: empty value", where_()));
    }
    let Ok(text) = std::str::from_utf8(cell) else {
        return Err(format!(
            "{}: {:?} is not a number (not valid UTF-8)",
            where_(),
            String::from_utf8_lossy(cell)
        ));
    };
    let v: f64 = text
        .parse()
        .map_err(|_| format!("{}: {text:?} is not a number", where_()))?;
    if !v.is_finite() {
        return Err(format!(
            "{}: {text:?} is not a finite number (NaN and infinities are not allowed)",
            where_()
        ));
    }
    Ok(v)
}

/// The used columns of a CSV file, as numbers.
#[derive(Debug, Clone)]
pub struct Table {
    source: String,
    names: Vec<String>,
    columns: Vec<(String, Vec<f64>)>,
    len: usize,
}

impl Table {
    /// Reads a file, keeping the columns `used`.
    ///
    /// # Errors
    /// See [`CsvFile::open`] and [`CsvFile::read_columns`].
    pub fn read(path: &Path, used: &[String]) -> Result<Self, String> {
        CsvFile::open(path)?.read_columns(used)
    }

    /// All column names of the file, in file order (read or not).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of data rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no data rows (never true for a table that was read).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A column that was read.
    ///
    /// # Errors
    /// A column that is not in the file, or was not asked for.
    pub fn column(&self, name: &str) -> Result<&[f64], String> {
        match self.columns.iter().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v),
            None if self.names.iter().any(|n| n == name) => Err(format!(
                "column {name:?} of {} was not read (not used)",
                self.source
            )),
            None => Err(unknown_column(&self.source, &self.names, name)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn table(text: &str, used: &[&str]) -> Result<Table, String> {
        CsvFile::from_reader(text.as_bytes(), "data.csv")?.read_columns(&names(used))
    }

    #[test]
    fn reads_numbers_and_ignores_unused_text() {
        let t = table("# comment\n t , y ,label\n1,2,a\n3, 4e-1 ,b\n", &["y"]).unwrap();
        assert_eq!(t.names(), ["t", "y", "label"]);
        assert_eq!(t.len(), 2);
        assert_eq!(t.column("y").unwrap(), [2.0, 0.4]);
        assert!(t.column("label").unwrap_err().contains("not read"));
        let e = table("t,y,label\n1,2,a\n", &["label"]).unwrap_err();
        assert!(e.contains("line 2") && e.contains("not a number"), "{e}");
    }

    #[test]
    fn bad_cells_name_line_and_column() {
        let e = table("t,y\n1,2\n2,nan\n3,\n", &["y"]).unwrap_err();
        assert!(
            e.contains("line 3") && e.contains("\"y\"") && e.contains("NaN"),
            "{e}"
        );
        let e = table("t,y\n1,2\n3,\n", &["t", "y"]).unwrap_err();
        assert!(e.contains("empty value"), "{e}");
        let e = table("t,y\n1,2\n", &["q"]).unwrap_err();
        assert!(e.contains("unknown column \"q\""), "{e}");
    }

    #[test]
    fn malformed_files_are_errors() {
        assert!(
            table("t,y\n1,2\n1,2,3\n", &["y"])
                .unwrap_err()
                .contains("malformed CSV")
        );
        assert!(table("t,y\n", &["y"]).unwrap_err().contains("no data rows"));
        assert!(table("", &[]).unwrap_err().contains("empty"));
        assert!(table("t,t\n1,2\n", &[]).unwrap_err().contains("duplicate"));
        assert!(
            table("t,,y\n1,2,3\n", &[])
                .unwrap_err()
                .contains("column 2")
        );
        assert!(
            Table::read(Path::new("/no/such/file.csv"), &[])
                .unwrap_err()
                .contains("cannot open /no/such/file.csv")
        );
    }

    #[test]
    fn gh14_invalid_utf8_in_an_unused_column_is_skipped() {
        let text = b"t,y,label\n0,1,ok\n1,3,\xff\xfe\n";
        let t = CsvFile::from_reader(&text[..], "data.csv")
            .unwrap()
            .read_columns(&names(&["t", "y"]))
            .unwrap();
        assert_eq!(t.column("y").unwrap(), [1.0, 3.0]);
        // In a used column it is a bad cell, named by line and column.
        let text = b"t,y\n0,1\n1,\xff\n";
        let e = CsvFile::from_reader(&text[..], "data.csv")
            .unwrap()
            .read_columns(&names(&["y"]))
            .unwrap_err();
        assert!(
            e.contains("line 3, column \"y\"") && e.contains("UTF-8"),
            "{e}"
        );
    }

    #[test]
    fn gh14_a_wide_header_is_checked_in_linear_time() {
        // 3·10^5 names: the old pairwise check made 4.5·10^10 comparisons (minutes).
        const COLUMNS: usize = 300_000;
        // Generous: the linear check takes well under a second even unoptimised.
        const LIMIT: std::time::Duration = std::time::Duration::from_secs(10);
        let header: Vec<String> = (0..COLUMNS).map(|i| format!("c{i}")).collect();
        let text = format!("{}\n{}\n", header.join(","), vec!["1"; COLUMNS].join(","));
        let start = std::time::Instant::now();
        let t = CsvFile::from_reader(text.as_bytes(), "wide.csv")
            .unwrap()
            .read_columns(&names(&["c7", "c299999"]))
            .unwrap();
        assert!(start.elapsed() < LIMIT, "{:?}", start.elapsed());
        assert_eq!(t.names().len(), COLUMNS);
        assert_eq!(t.column("c299999").unwrap(), [1.0]);
        let e = t.column("nope").unwrap_err();
        assert!(e.contains("(300000 in all)") && e.len() < 400, "{e}");
    }

    fn groups(text: &[u8], used: &[&str], by: &str) -> Result<Groups, String> {
        CsvFile::from_reader(text, "data.csv")?.read_groups(&names(used), by)
    }

    #[test]
    fn groups_keep_first_appearance_and_row_indices() {
        let g = groups(
            b"id,t,y\n7,0,1\nx,0,2\n7,1,3\n,2,4\n x ,1,5\n",
            &["t", "y"],
            "id",
        )
        .unwrap();
        let summary: Vec<(&str, &[usize])> = g
            .groups
            .iter()
            .map(|g| (g.label.as_str(), g.rows.as_slice()))
            .collect();
        assert_eq!(
            summary,
            [("7", &[0, 2][..]), ("x", &[1, 4][..]), ("", &[3][..])]
        );
        assert_eq!(g.table.column("y").unwrap(), [1.0, 2.0, 3.0, 4.0, 5.0]);
        assert!(g.groups.iter().all(|g| g.bad_cell.is_none()));
        // The group column may also be a used (numeric) column.
        let g = groups(b"t,y\n0,1\n1,2\n0,3\n", &["t", "y"], "t").unwrap();
        assert_eq!(g.groups[0].rows, [0, 2]);
    }

    #[test]
    fn a_bad_cell_marks_its_group_only() {
        let text = b"g,y\na,1\nb,nan\nb,\nc,\xff\na,2\n";
        let g = groups(text, &["y"], "g").unwrap();
        assert!(g.groups[0].bad_cell.is_none());
        let b = g.groups[1].bad_cell.as_deref().unwrap();
        assert!(
            b.starts_with("line 3, column \"y\"") && b.contains("NaN"),
            "{b}"
        );
        assert!(g.groups[2].bad_cell.as_deref().unwrap().contains("UTF-8"));
        assert!(
            g.table.column("y").unwrap()[1..4]
                .iter()
                .all(|v| v.is_nan())
        );
        // Non-UTF-8 labels are distinct groups, shown lossily.
        let g = groups(b"g,y\n\xff,1\n\xfe,2\n", &["y"], "g").unwrap();
        assert_eq!(g.groups.len(), 2);
        assert_eq!(g.groups[0].label, "\u{fffd}");
    }

    #[test]
    fn grouped_files_still_fail_on_file_errors() {
        let e = groups(b"g,y\na,1\n", &["y"], "q").unwrap_err();
        assert!(e.contains("unknown column \"q\""), "{e}");
        let e = groups(b"g,y\na,1\n", &["q"], "g").unwrap_err();
        assert!(e.contains("unknown column \"q\""), "{e}");
        let e = groups(b"g,y\na,1\nb,2,3\n", &["y"], "g").unwrap_err();
        assert!(e.contains("malformed CSV"), "{e}");
        let e = groups(b"g,y\n", &["y"], "g").unwrap_err();
        assert!(e.contains("no data rows"), "{e}");
    }

    #[test]
    fn messages_are_one_line() {
        let e = table("t,\"a\nb\"\n1,2\n", &["q"]).unwrap_err();
        assert!(!e.contains('\n') && e.contains("\"a\\nb\""), "{e}");
        let e = table("t,y\n1,\"2\n3\"\n", &["y"]).unwrap_err();
        assert!(!e.contains('\n') && e.contains("not a number"), "{e}");
    }
}

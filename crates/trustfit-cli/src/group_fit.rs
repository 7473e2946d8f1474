//! `trustfit fit DATA.csv --group-by COL`: one fit per group of rows (issue 15).
//!
//! Why: measurements often come as one long table — a sample, a well, a day
//! per group — that needs the same model fitted to every group. A loop of
//! `trustfit fit` calls would read the file once per group; here it is read
//! once ([`read_groups`](crate::csvdata::CsvFile::read_groups) keeps the used
//! columns and each group's row indices), and every group is fitted exactly
//! as `trustfit fit` would fit a file holding only its rows (the same
//! [`FitSpec`] through [`fit`], hence the same parameters bit for bit), on
//! `--jobs` threads. One CSV row per group is written ([`header`],
//! [`GroupRow`]) in the order of the groups' first appearance, whatever the
//! number of threads.
//!
//! Input errors (file, columns, formula, `--p0`, `--bounds`) end the run before
//! any fit with exit status 2, and leave no output file: rows are written to a
//! temporary file beside `--out`, renamed at the end. A group that cannot be
//! fitted — a cell that is not a finite number, fewer rows than parameters
//! (curve_fit's rule, for every method), σ ≤ 0, a model that is not finite at
//! the start, a solver error — gets a row with NaN parameters, an empty status
//! and the reason in `message` ([`GroupRow::not_fitted`]); a fit that does not
//! converge gets its row with `success` false. Neither changes the exit
//! status, which is 0 (a single `trustfit fit` that does not converge exits 1).

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use rayon::prelude::*;

use crate::CliError;
use crate::csvdata::{Group, Groups};
use crate::curvefit::{FitResult, FitSpec, fit};
use crate::fit_cmd::{
    Data, FitConfig, Header, fit_spec, read_header, start_and_bounds, used_columns,
};
use crate::formula::one_line;

/// The output columns after the parameters' (`NAME`, `NAME_stderr` each).
///
/// ```
/// use trustfit_cli::group_fit::{STAT_COLUMNS, header};
/// let h = header(&["k".to_string()]).unwrap();
/// assert_eq!(h[3..], STAT_COLUMNS);
/// ```
pub const STAT_COLUMNS: [&str; 6] = ["cost", "chi2_dof", "status", "success", "nfev", "message"];

/// The header of the output: `group`, then `NAME` and `NAME_stderr` for each
/// parameter, then [`STAT_COLUMNS`].
///
/// # Errors
/// Two columns of the same name (a parameter named `cost`, or `a` and `a_stderr`).
///
/// ```
/// use trustfit_cli::group_fit::header;
/// let h = header(&["a".to_string(), "b".to_string()]).unwrap();
/// assert_eq!(h.join(","), "group,a,a_stderr,b,b_stderr,cost,chi2_dof,status,success,nfev,message");
/// assert!(header(&["cost".to_string()]).unwrap_err().contains("\"cost\""));
/// ```
pub fn header(params: &[String]) -> Result<Vec<String>, String> {
    let mut columns = vec!["group".to_string()];
    for p in params {
        columns.push(p.clone());
        columns.push(format!("{p}_stderr"));
    }
    columns.extend(STAT_COLUMNS.iter().map(|c| c.to_string()));
    let mut seen = HashSet::with_capacity(columns.len());
    match columns.iter().find(|c| !seen.insert(c.as_str())) {
        Some(twice) => Err(format!(
            "--group-by: the output would have two columns named {twice:?}; rename the parameter"
        )),
        None => Ok(columns),
    }
}

/// One group's row of the output: [`GroupRow::fields`] gives its CSV cells.
///
/// ```
/// use trustfit_cli::group_fit::{GroupRow, header};
/// let row = GroupRow::not_fitted("7", 2, "1 row for 2 parameters: too few points".into());
/// let names = header(&["a".to_string(), "b".to_string()]).unwrap();
/// assert_eq!(row.fields().len(), names.len());
/// assert!(row.popt.iter().all(|v| v.is_nan()) && row.status.is_none());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRow {
    /// The group's label (the text of its `--group-by` cells).
    pub group: String,
    /// Fitted parameters (NaN when not fitted).
    pub popt: Vec<f64>,
    /// Standard errors (`inf` when not estimable, NaN when not fitted).
    pub stderr: Vec<f64>,
    /// The solver's cost ½Σρ(r²).
    pub cost: f64,
    /// Reduced χ² = χ²/(m − n) (NaN when m = n).
    pub chi2_dof: f64,
    /// scipy's status (`ier` for lm); `None` when the group was not fitted.
    pub status: Option<i32>,
    /// Whether the solver converged.
    pub success: bool,
    /// Residual evaluations.
    pub nfev: usize,
    /// Empty for a converged fit with a covariance; otherwise why not: the reason
    /// the group was not fitted, the solver's message, or the covariance warning.
    pub message: String,
}

impl GroupRow {
    /// The row of a group that could not be fitted: NaN values, no status.
    ///
    /// ```
    /// let row = trustfit_cli::group_fit::GroupRow::not_fitted("g1", 2, "too few".into());
    /// assert_eq!(row.fields(), ["g1", "NaN", "NaN", "NaN", "NaN", "NaN", "NaN", "", "false", "0", "too few"]);
    /// ```
    pub fn not_fitted(group: &str, n: usize, reason: String) -> Self {
        Self {
            group: group.to_string(),
            popt: vec![f64::NAN; n],
            stderr: vec![f64::NAN; n],
            cost: f64::NAN,
            chi2_dof: f64::NAN,
            status: None,
            success: false,
            nfev: 0,
            message: reason,
        }
    }

    /// The row of a fit.
    ///
    /// ```
    /// use trustfit_cli::{curvefit::{FitSpec, fit}, formula::parse_model, group_fit::GroupRow};
    /// let spec = FitSpec {
    ///     formula: parse_model("a*t", &["t".to_string()]).unwrap(),
    ///     x: vec![vec![1.0, 2.0]], y: vec![2.0, 4.0], sigma: None, absolute_sigma: false,
    ///     p0: vec![1.0], bounds: None, method: None, loss: trustfit::Loss::Linear,
    ///     f_scale: 1.0, verbose: 0,
    /// };
    /// let row = GroupRow::from_fit("g", &fit(&spec).unwrap());
    /// assert_eq!((row.popt[0], row.success, row.message.as_str()), (2.0, true, ""));
    /// ```
    pub fn from_fit(group: &str, r: &FitResult) -> Self {
        let message = if !r.success {
            one_line(&r.message)
        } else {
            r.warning.clone().unwrap_or_default()
        };
        Self {
            group: group.to_string(),
            popt: r.popt.clone(),
            stderr: r.stderr.clone(),
            cost: r.cost,
            chi2_dof: r.reduced_chi2,
            status: Some(r.status),
            success: r.success,
            nfev: r.nfev,
            message,
        }
    }

    /// The CSV fields, in [`header`]'s order. Numbers are written in full
    /// (shortest text that reads back to the same bits): `0.5`, `1e-7`, `NaN`, `inf`.
    ///
    /// ```
    /// use trustfit_cli::group_fit::GroupRow;
    /// let row = GroupRow {
    ///     group: "a,b".into(), popt: vec![0.1 + 0.2], stderr: vec![f64::INFINITY],
    ///     cost: 1e-30, chi2_dof: 2.0, status: Some(1), success: true, nfev: 7,
    ///     message: String::new(),
    /// };
    /// assert_eq!(row.fields(), ["a,b", "0.30000000000000004", "inf", "1e-30", "2.0", "1", "true", "7", ""]);
    /// ```
    pub fn fields(&self) -> Vec<String> {
        let num = |v: f64| format!("{v:?}");
        let mut fields = Vec::with_capacity(2 * self.popt.len() + 7);
        fields.push(self.group.clone());
        for (p, s) in self.popt.iter().zip(&self.stderr) {
            fields.push(num(*p));
            fields.push(num(*s));
        }
        fields.push(num(self.cost));
        fields.push(num(self.chi2_dof));
        fields.push(self.status.map_or_else(String::new, |s| s.to_string()));
        fields.push(self.success.to_string());
        fields.push(self.nfev.to_string());
        fields.push(self.message.clone());
        fields
    }
}

/// The fit of the rows `rows` of `all` (a fit of every row): its x, y and σ
/// values, in the order of `rows`, and everything else of `all`.
///
/// ```
/// use trustfit_cli::{curvefit::FitSpec, formula::parse_model, group_fit::group_spec};
/// let all = FitSpec {
///     formula: parse_model("a*t", &["t".to_string()]).unwrap(),
///     x: vec![vec![1.0, 2.0, 3.0]], y: vec![5.0, 6.0, 7.0], sigma: Some(vec![0.1, 0.2, 0.3]),
///     absolute_sigma: false, p0: vec![1.0], bounds: None, method: None,
///     loss: trustfit::Loss::Linear, f_scale: 1.0, verbose: 0,
/// };
/// let g = group_spec(&all, &[0, 2]);
/// assert_eq!((g.x[0].as_slice(), g.y.as_slice()), (&[1.0, 3.0][..], &[5.0, 7.0][..]));
/// assert_eq!(g.sigma.unwrap(), [0.1, 0.3]);
/// ```
pub fn group_spec(all: &FitSpec, rows: &[usize]) -> FitSpec {
    let pick = |v: &[f64]| rows.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    FitSpec {
        formula: all.formula.clone(),
        x: all.x.iter().map(|c| pick(c)).collect(),
        y: pick(&all.y),
        sigma: all.sigma.as_deref().map(pick),
        absolute_sigma: all.absolute_sigma,
        p0: all.p0.clone(),
        bounds: all.bounds.clone(),
        method: all.method,
        loss: all.loss.clone(),
        f_scale: all.f_scale,
        verbose: all.verbose,
    }
}

/// Fits one group of `all`'s rows; never fails: a group that cannot be fitted
/// gets [`GroupRow::not_fitted`] with the reason.
///
/// ```
/// use trustfit_cli::{csvdata::Group, curvefit::FitSpec, formula::parse_model, group_fit::fit_group};
/// let all = FitSpec {
///     formula: parse_model("a + b*t", &["t".to_string()]).unwrap(),
///     x: vec![vec![0.0, 1.0, 2.0]], y: vec![1.0, 3.0, 5.0], sigma: None,
///     absolute_sigma: false, p0: vec![1.0, 1.0], bounds: None, method: None,
///     loss: trustfit::Loss::Linear, f_scale: 1.0, verbose: 0,
/// };
/// let group = |rows: Vec<usize>| Group { label: "g".into(), rows, bad_cell: None };
/// let row = fit_group(&all, &group(vec![0, 1, 2]));
/// assert!(row.success && (row.popt[1] - 2.0).abs() < 1e-12);
/// let row = fit_group(&all, &group(vec![2]));
/// assert_eq!((row.status, row.message.as_str()), (None, "1 row for 2 parameters: too few points"));
/// ```
pub fn fit_group(all: &FitSpec, group: &Group) -> GroupRow {
    let n = all.p0.len();
    let fail = |reason: String| GroupRow::not_fitted(&group.label, n, reason);
    if let Some(cell) = &group.bad_cell {
        return fail(cell.clone());
    }
    let m = group.rows.len();
    if m < n {
        let rows = if m == 1 { "row" } else { "rows" };
        return fail(format!("{m} {rows} for {n} parameters: too few points"));
    }
    let spec = group_spec(all, &group.rows);
    if let Some(s) = &spec.sigma
        && let Some(k) = s.iter().position(|v| *v <= 0.0)
    {
        return fail(format!(
            "sigma must be positive (row {} of the group has {})",
            k + 1,
            s[k]
        ));
    }
    // A panic is a bug of the solver; it costs this group, not the run.
    match catch_unwind(AssertUnwindSafe(|| fit(&spec))) {
        Ok(Ok(r)) => GroupRow::from_fit(&group.label, &r),
        Ok(Err(e)) => fail(one_line(&e)),
        Err(_) => fail("internal error: the solver panicked on this group".into()),
    }
}

/// Fits every group on a pool of `jobs` threads; the rows in the groups' order
/// (the same for any `jobs`). `progress` advances by one per group.
///
/// # Errors
/// The threads cannot be started.
///
/// ```
/// use trustfit_cli::csvdata::CsvFile;
/// use trustfit_cli::{curvefit::FitSpec, formula::parse_model, group_fit::fit_groups};
/// let g = CsvFile::from_reader("k,t,y\n1,0,1\n2,0,2\n1,1,3\n2,1,3\n".as_bytes(), "inline").unwrap()
///     .read_groups(&["t".to_string(), "y".to_string()], "k").unwrap();
/// let all = FitSpec {
///     formula: parse_model("a + b*t", &["t".to_string()]).unwrap(),
///     x: vec![g.table.column("t").unwrap().to_vec()], y: g.table.column("y").unwrap().to_vec(),
///     sigma: None, absolute_sigma: false, p0: vec![1.0, 1.0], bounds: None, method: None,
///     loss: trustfit::Loss::Linear, f_scale: 1.0, verbose: 0,
/// };
/// let rows = fit_groups(&all, &g.groups, 2, &indicatif::ProgressBar::hidden()).unwrap();
/// let b: Vec<f64> = rows.iter().map(|r| (r.popt[1] * 1e9).round() / 1e9).collect();
/// assert_eq!(b, [2.0, 1.0]);
/// ```
pub fn fit_groups(
    all: &FitSpec,
    groups: &[Group],
    jobs: usize,
    progress: &ProgressBar,
) -> Result<Vec<GroupRow>, CliError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| CliError::Usage(format!("--jobs {jobs}: cannot start the threads: {e}")))?;
    Ok(pool.install(|| {
        groups
            .par_iter()
            .map(|g| {
                let row = fit_group(all, g);
                progress.inc(1);
                row
            })
            .collect()
    }))
}

/// Writes the header and the rows as CSV (quoted where needed).
///
/// # Errors
/// Writing fails.
///
/// ```
/// use trustfit_cli::group_fit::{GroupRow, header, write_rows};
/// let rows = [GroupRow::not_fitted("x, y", 1, "line 3, column \"y\": empty value".into())];
/// let mut out = Vec::new();
/// write_rows(&mut out, &header(&["a".to_string()]).unwrap(), &rows).unwrap();
/// let text = String::from_utf8(out).unwrap();
/// assert_eq!(text.lines().nth(1).unwrap(),
///            r#""x, y",NaN,NaN,NaN,NaN,,false,0,"line 3, column ""y"": empty value""#);
/// ```
pub fn write_rows(
    out: &mut dyn Write,
    header: &[String],
    rows: &[GroupRow],
) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(header)?;
    for row in rows {
        w.write_record(row.fields())?;
    }
    w.flush()
}

/// Runs `trustfit fit --group-by`: checks everything, fits the groups, writes
/// the rows to `cfg.out` (atomically) or `out`.
///
/// # Errors
/// [`CliError::Usage`]/[`CliError::Data`] for bad input (nothing written),
/// [`CliError::Io`] when writing fails. Groups that fail are rows, not errors.
///
/// ```
/// use clap::Parser;
/// let dir = std::env::temp_dir().join(format!("trustfit-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let data = dir.join("g.csv");
/// std::fs::write(&data, "k,t,y\nA,0,1\nA,1,3\nA,2,5\nB,0,0\nB,1,1\nB,2,2\n").unwrap();
/// let cli = trustfit_cli::Cli::try_parse_from(
///     ["trustfit", "fit", data.to_str().unwrap(), "--model", "a + b*t", "--group-by", "k"]).unwrap();
/// let (mut out, mut err) = (Vec::new(), Vec::new());
/// trustfit_cli::run(&cli, &mut out, &mut err).unwrap();
/// let text = String::from_utf8(out).unwrap();
/// assert!(text.starts_with("group,a,a_stderr,b,b_stderr,cost,chi2_dof,status"));
/// assert!(text.lines().nth(1).unwrap().starts_with("A,1.0") && text.lines().count() == 3);
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn run(cfg: &FitConfig, out: &mut dyn Write, _err: &mut dyn Write) -> Result<(), CliError> {
    let (all, groups, header) = prepare(cfg)?;
    let target = match &cfg.out {
        Some(path) => Some(OutFile::create(path, &cfg.data)?),
        None => None,
    };
    let jobs = cfg
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let progress = crate::progress::bar(groups.len() as u64, "fitting groups");
    let rows = fit_groups(&all, &groups, jobs, &progress)?;
    progress.finish_with_message(summary(&rows));
    match target {
        Some(target) => target.write(&header, &rows),
        None => {
            write_rows(out, &header, &rows).map_err(CliError::Io)?;
            out.flush().map_err(CliError::Io)
        }
    }
}

/// Checks every input and reads the file: the fit of all rows (from which
/// [`group_spec`] takes each group's), the groups and the output's header.
fn prepare(cfg: &FitConfig) -> Result<(FitSpec, Vec<Group>, Vec<String>), CliError> {
    let by = cfg.group_by.as_deref().unwrap_or_default();
    for (given, option, why) in [
        (cfg.plot.is_some(), "--plot", "fit a group alone to plot it"),
        (cfg.json, "--json", "the output is CSV, one row per group"),
        (cfg.verbose > 0, "--verbose", "the groups' fits run at once"),
    ] {
        if given {
            return Err(CliError::Usage(format!(
                "{option} cannot be used with --group-by ({why})"
            )));
        }
    }
    let Header { csv, formula } = read_header(cfg)?;
    if !csv.has(by) {
        return Err(CliError::Usage(format!(
            "--group-by: unknown column {by:?} (columns: {})",
            crate::csvdata::listed(csv.names())
        )));
    }
    let header = header(formula.params()).map_err(CliError::Usage)?;
    let (p0, bounds) = start_and_bounds(cfg, formula.params())?;
    let used = used_columns(cfg, &formula);
    let Groups { table, groups } = csv.read_groups(&used, by).map_err(CliError::Data)?;
    let column = |name: &str| {
        table
            .column(name)
            .map(<[f64]>::to_vec)
            .map_err(CliError::Data)
    };
    let x = formula
        .columns()
        .iter()
        .map(|c| column(c))
        .collect::<Result<Vec<_>, _>>()?;
    let y = column(&cfg.y)?;
    let sigma = cfg.sigma.as_deref().map(column).transpose()?;
    let data = Data { x, y, sigma };
    Ok((fit_spec(cfg, formula, data, p0, bounds), groups, header))
}

/// "N converged, N not converged, N not fitted" (the progress bar's last words).
fn summary(rows: &[GroupRow]) -> String {
    let fitted = rows.iter().filter(|r| r.status.is_some()).count();
    let converged = rows.iter().filter(|r| r.success).count();
    format!(
        "{converged} converged, {} not converged, {} not fitted",
        fitted - converged,
        rows.len() - fitted
    )
}

/// Where `--out` writes.
enum OutFile {
    /// A temporary file beside the target (a regular file or none yet), renamed
    /// onto it once complete; a symbolic link is followed, so the link stays.
    Temp {
        tmp: tempfile::NamedTempFile,
        target: PathBuf,
    },
    /// A target that is not a regular file (`/dev/stdout`, a pipe), written in
    /// place: renaming onto it would replace the device or the pipe.
    InPlace(File),
}

impl OutFile {
    /// Opens the target or creates the temporary file, before any fit (an
    /// unwritable folder fails early).
    fn create(path: &Path, data: &Path) -> Result<Self, CliError> {
        let cannot = |e: &dyn std::fmt::Display| {
            CliError::Data(format!("cannot write {}: {e}", path.display()))
        };
        if let (Ok(a), Ok(b)) = (path.canonicalize(), data.canonicalize())
            && a == b
        {
            return Err(cannot(&"it is the data file"));
        }
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            let file = File::options().write(true).open(path);
            return file.map(OutFile::InPlace).map_err(|e| cannot(&e));
        }
        let target = if path.is_symlink() {
            path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
        } else {
            path.to_path_buf()
        };
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".trustfit-out-")
            .suffix(".csv")
            .tempfile_in(dir)
            .map_err(|e| cannot(&e))?;
        Ok(OutFile::Temp { tmp, target })
    }

    /// Writes the rows; a temporary file is then renamed onto the target (and
    /// deleted on any error).
    fn write(self, header: &[String], rows: &[GroupRow]) -> Result<(), CliError> {
        let (mut tmp, target) = match self {
            OutFile::InPlace(file) => return write_all(&file, header, rows),
            OutFile::Temp { tmp, target } => (tmp, target),
        };
        write_all(tmp.as_file_mut(), header, rows)?;
        // tempfile creates 0600 files; the table is an ordinary document.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::Permissions::from_mode(0o644);
            let _ = std::fs::set_permissions(tmp.path(), mode);
        }
        tmp.persist(&target).map_err(|e| CliError::Io(e.error))?;
        Ok(())
    }
}

/// [`write_rows`] to a file, buffered.
fn write_all(file: &File, header: &[String], rows: &[GroupRow]) -> Result<(), CliError> {
    let mut w = BufWriter::new(file);
    write_rows(&mut w, header, rows).map_err(CliError::Io)?;
    w.flush().map_err(CliError::Io)
}

//! `trustfit fit`: reads a CSV file, fits a formula ([`crate::curvefit`]),
//! prints the report ([`crate::report_text`]) and optionally plots it.
//!
//! Every input problem (file, columns, formula, `--p0`, `--bounds`, plot
//! name) is checked before the fit runs and reported as a
//! [`CliError::Usage`]/[`CliError::Data`] (exit status 2) with nothing
//! written. A fit that does not converge is still reported, then ends with
//! [`CliError::NotConverged`] (exit status 1). With `--group-by` the work is
//! [`crate::group_fit`]'s, on the same checks and the same [`FitSpec`].

use std::io::Write;
use std::path::{Path, PathBuf};

use trustfit::{Loss, Method};

use crate::CliError;
use crate::csvdata::CsvFile;
use crate::curvefit::{FitResult, FitSpec, fit};
use crate::formula::{Formula, Workspace, parse_model};
use crate::plot::{Figure, Format, Mark, Series};
use crate::report_text;

/// Fits with at least this many points show a spinner (on a terminal).
pub const LARGE_FIT: usize = 20_000;

/// Points of the fitted curve on the plot's fine grid.
pub const GRID_POINTS: usize = 400;

/// Everything `trustfit fit` was asked to do.
#[derive(Debug, Clone)]
pub struct FitConfig {
    /// CSV file.
    pub data: PathBuf,
    /// The formula.
    pub model: String,
    /// x columns (empty: every data column the formula uses).
    pub x: Vec<String>,
    /// y column.
    pub y: String,
    /// Column of standard deviations of y.
    pub sigma: Option<String>,
    /// σ is absolute.
    pub absolute_sigma: bool,
    /// `a=1,b=2` initial values (others: curve_fit's defaults).
    pub p0: Option<String>,
    /// `0<=b<=10, c<0`.
    pub bounds: Option<String>,
    /// Loss function.
    pub loss: Loss,
    /// Loss scale.
    pub f_scale: f64,
    /// Method (`None`: lm unless bounded or a robust loss, else trf).
    pub method: Option<Method>,
    /// Plot file (.svg or .png).
    pub plot: Option<PathBuf>,
    /// Print JSON instead of text.
    pub json: bool,
    /// Solver verbosity (0, 1, 2), on stderr.
    pub verbose: u8,
    /// One fit per distinct value of this column ([`crate::group_fit`]).
    pub group_by: Option<String>,
    /// `--group-by`: threads (`None`: every core).
    pub jobs: Option<usize>,
    /// `--group-by`: the output CSV file (`None`: standard output).
    pub out: Option<std::path::PathBuf>,
}

/// Parses `--p0 "a=1, b=2.5"` against the parameter names.
///
/// Returns one optional value per parameter.
///
/// # Errors
/// Syntax errors, unknown or repeated parameters, non-finite values.
///
/// ```
/// use trustfit_cli::fit_cmd::parse_p0;
/// let names = vec!["a".to_string(), "b".to_string()];
/// assert_eq!(parse_p0("b=2.5", &names).unwrap(), [None, Some(2.5)]);
/// assert!(parse_p0("q=1", &names).is_err());
/// ```
pub fn parse_p0(text: &str, params: &[String]) -> Result<Vec<Option<f64>>, String> {
    let mut out = vec![None; params.len()];
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, value) = item
            .split_once('=')
            .ok_or_else(|| format!("--p0: expected NAME=VALUE, got {item:?}"))?;
        let (name, value) = (name.trim(), value.trim());
        let k = param_index(name, params, "--p0")?;
        let v: f64 = value
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| format!("--p0: {value:?} is not a finite number (for {name})"))?;
        if out[k].is_some() {
            return Err(format!("--p0: {name} is given twice"));
        }
        out[k] = Some(v);
    }
    Ok(out)
}

fn param_index(name: &str, params: &[String], opt: &str) -> Result<usize, String> {
    params.iter().position(|p| p == name).ok_or_else(|| {
        format!(
            "{opt}: unknown parameter {name:?} (the formula's parameters: {})",
            params.join(", ")
        )
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Dir {
    Less,
    Greater,
}

/// Parses `--bounds "0<=b<=10, c<0, a>=-1"` into per-parameter (lower, upper);
/// strict and non-strict comparisons mean the same. `None` when no bound is finite.
/// A parameter's lower and upper bounds may come from different items (`a>0, a<1`).
///
/// # Errors
/// Syntax errors, unknown parameters, a lower or upper bound given twice, and
/// impossible bounds (lower ≥ upper).
///
/// ```
/// use trustfit_cli::fit_cmd::parse_bounds;
/// let names = vec!["a".to_string(), "b".to_string(), "c".to_string()];
/// let (lb, ub) = parse_bounds("0<=b<=10, c<0", &names).unwrap().unwrap();
/// assert_eq!(lb, [f64::NEG_INFINITY, 0.0, f64::NEG_INFINITY]);
/// assert_eq!(ub, [f64::INFINITY, 10.0, 0.0]);
/// assert!(parse_bounds("5<=b<=1", &names).unwrap_err().contains("impossible"));
/// ```
#[allow(clippy::type_complexity)]
pub fn parse_bounds(text: &str, params: &[String]) -> Result<Option<(Vec<f64>, Vec<f64>)>, String> {
    let n = params.len();
    let mut lb = vec![f64::NEG_INFINITY; n];
    let mut ub = vec![f64::INFINITY; n];
    let (mut has_lb, mut has_ub) = (vec![false; n], vec![false; n]);
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (terms, dirs) = split_comparison(item)?;
        if !(2..=3).contains(&terms.len()) {
            return Err(format!(
                "--bounds: expected 'lo <= p', 'p <= hi' or 'lo <= p <= hi', got {item:?}"
            ));
        }
        if dirs.iter().any(|d| *d != dirs[0]) {
            return Err(format!(
                "--bounds: mixed directions of comparison in {item:?}"
            ));
        }
        // Ascending order: t0 <= t1 (<= t2).
        let mut terms = terms;
        if dirs[0] == Dir::Greater {
            terms.reverse();
        }
        let is_param = |t: &str| t.parse::<f64>().is_err();
        let positions: Vec<usize> = (0..terms.len()).filter(|&i| is_param(terms[i])).collect();
        if positions.len() != 1 {
            return Err(format!(
                "--bounds: {item:?} must compare exactly one parameter with numbers"
            ));
        }
        let p = positions[0];
        let k = param_index(terms[p], params, "--bounds")?;
        let num = |t: &str| t.parse::<f64>().unwrap_or(f64::NAN);
        let (sets_lb, sets_ub) = (p == 1, terms.len() == 3 || p == 0);
        for (sets, has, side) in [
            (sets_lb, &mut has_lb, "lower"),
            (sets_ub, &mut has_ub, "upper"),
        ] {
            if sets && std::mem::replace(&mut has[k], true) {
                return Err(format!(
                    "--bounds: the {side} bound of {} is given twice (again in {item:?})",
                    params[k]
                ));
            }
        }
        match (terms.len(), p) {
            (3, 1) => {
                lb[k] = num(terms[0]);
                ub[k] = num(terms[2]);
            }
            (2, 0) => ub[k] = num(terms[1]),
            (2, 1) => lb[k] = num(terms[0]),
            _ => {
                return Err(format!(
                    "--bounds: the parameter must be in the middle of {item:?}"
                ));
            }
        }
        if lb[k].is_nan() || ub[k].is_nan() {
            return Err(format!("--bounds: a bound in {item:?} is NaN"));
        }
    }
    for k in 0..n {
        if lb[k] >= ub[k] {
            return Err(format!(
                "impossible bounds for {}: the lower bound {} must be less than the upper bound {}",
                params[k], lb[k], ub[k]
            ));
        }
    }
    if lb.iter().all(|v| *v == f64::NEG_INFINITY) && ub.iter().all(|v| *v == f64::INFINITY) {
        return Ok(None);
    }
    Ok(Some((lb, ub)))
}

fn split_comparison(item: &str) -> Result<(Vec<&str>, Vec<Dir>), String> {
    let mut terms = Vec::new();
    let mut dirs = Vec::new();
    let bytes = item.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'<' || c == b'>' {
            terms.push(item[start..i].trim());
            dirs.push(if c == b'<' { Dir::Less } else { Dir::Greater });
            i += if bytes.get(i + 1) == Some(&b'=') {
                2
            } else {
                1
            };
            start = i;
        } else {
            i += 1;
        }
    }
    terms.push(item[start..].trim());
    if dirs.is_empty() || terms.iter().any(|t| t.is_empty()) {
        return Err(format!(
            "--bounds: cannot read {item:?} (expected e.g. '0 <= b <= 10' or 'c < 0')"
        ));
    }
    Ok((terms, dirs))
}

/// curve_fit's default start: 1, the middle of two finite bounds, lb + 1 or ub − 1.
///
/// ```
/// let inf = f64::INFINITY;
/// let p = trustfit_cli::fit_cmd::feasible_start(&[-inf, 0.0, 2.0, -inf], &[inf, 10.0, inf, -3.0]);
/// assert_eq!(p, [1.0, 5.0, 3.0, -4.0]);
/// ```
pub fn feasible_start(lb: &[f64], ub: &[f64]) -> Vec<f64> {
    lb.iter()
        .zip(ub)
        .map(|(&l, &u)| match (l.is_finite(), u.is_finite()) {
            (true, true) => 0.5 * (l + u),
            (true, false) => l + 1.0,
            (false, true) => u - 1.0,
            (false, false) => 1.0,
        })
        .collect()
}

/// The checked inputs of a fit, plus what the report and plot need.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The fit itself.
    pub spec: FitSpec,
    /// The x column for plots (when there is exactly one).
    pub plot_x: Option<(String, Vec<f64>)>,
}

/// Reads and checks everything; no output.
///
/// # Errors
/// [`CliError::Data`] for file problems, [`CliError::Usage`] for the rest.
pub fn prepare(cfg: &FitConfig) -> Result<Prepared, CliError> {
    if let Some(p) = &cfg.plot {
        Format::of(p).map_err(CliError::Usage)?;
    }
    let Header { csv, formula } = read_header(cfg)?;
    let plot_name = match (cfg.x.as_slice(), formula.columns()) {
        ([one], _) => Some(one.clone()),
        ([], [one]) => Some(one.clone()),
        _ => None,
    };
    let mut used = used_columns(cfg, &formula);
    used.extend(plot_name.iter().cloned());
    let table = csv.read_columns(&used).map_err(CliError::Data)?;
    let column = |name: &str| table.column(name).map_err(CliError::Data);
    let y = column(&cfg.y)?.to_vec();
    let sigma = match &cfg.sigma {
        Some(name) => {
            let s = column(name)?.to_vec();
            check_sigma(name, &s).map_err(CliError::Data)?;
            Some(s)
        }
        None => None,
    };
    let (p0, bounds) = start_and_bounds(cfg, formula.params())?;
    let x = formula
        .columns()
        .iter()
        .map(|c| column(c).map(<[f64]>::to_vec))
        .collect::<Result<Vec<_>, _>>()?;
    let plot_x = match plot_name {
        Some(name) => {
            let v = column(&name)?.to_vec();
            Some((name, v))
        }
        None => None,
    };
    let data = Data { x, y, sigma };
    Ok(Prepared {
        spec: fit_spec(cfg, formula, data, p0, bounds),
        plot_x,
    })
}

/// A CSV file whose header has been checked against the options, and the formula.
pub(crate) struct Header {
    pub(crate) csv: CsvFile<std::fs::File>,
    pub(crate) formula: Formula,
}

/// Checks `--f-scale`, opens the file, checks the column options against its
/// header and parses the formula: everything decided before a row is read.
pub(crate) fn read_header(cfg: &FitConfig) -> Result<Header, CliError> {
    if !(cfg.f_scale.is_finite() && cfg.f_scale > 0.0) {
        return Err(CliError::Usage(format!(
            "--f-scale must be a positive number, got {}",
            cfg.f_scale
        )));
    }
    // The header first: the formula's identifiers and the options say which
    // columns are used, and only those are read (D9, D14 of issue 14).
    let csv = CsvFile::open(&cfg.data).map_err(CliError::Data)?;
    for name in std::iter::once(&cfg.y).chain(&cfg.sigma) {
        if !csv.has(name) {
            return Err(CliError::Data(csv.unknown_column(name)));
        }
    }
    for x in &cfg.x {
        if !csv.has(x) {
            return Err(CliError::Usage(format!(
                "--x: unknown column {x:?} (columns: {})",
                crate::csvdata::listed(csv.names())
            )));
        }
    }
    // Before any row is read: a formula over a limit costs no time on the data.
    let formula = parse_model(&cfg.model, csv.names()).map_err(CliError::Usage)?;
    for c in formula.columns() {
        if *c == cfg.y || Some(c) == cfg.sigma.as_ref() {
            return Err(CliError::Usage(format!(
                "the formula uses column {c:?}, which is the y or sigma column"
            )));
        }
        if !cfg.x.is_empty() && !cfg.x.contains(c) {
            return Err(CliError::Usage(format!(
                "the formula uses column {c:?}, which is not listed in --x {}",
                cfg.x.join(",")
            )));
        }
    }
    Ok(Header { csv, formula })
}

/// The columns a fit reads: y, sigma and the formula's.
pub(crate) fn used_columns(cfg: &FitConfig, formula: &Formula) -> Vec<String> {
    std::iter::once(&cfg.y)
        .chain(&cfg.sigma)
        .chain(formula.columns())
        .cloned()
        .collect()
}

/// Checks that every σ is positive; the message names the first that is not.
pub(crate) fn check_sigma(name: &str, s: &[f64]) -> Result<(), String> {
    match s.iter().position(|v| *v <= 0.0) {
        Some(i) => Err(format!(
            "--sigma column {name:?} must be positive (row {} has {})",
            i + 1,
            s[i]
        )),
        None => Ok(()),
    }
}

/// Per-parameter bounds (lower, upper); `None` when unbounded.
pub(crate) type BoundsPair = Option<(Vec<f64>, Vec<f64>)>;

/// The start and bounds of `--p0` and `--bounds` (curve_fit's defaults for the
/// rest), checked against each other and the method.
pub(crate) fn start_and_bounds(
    cfg: &FitConfig,
    params: &[String],
) -> Result<(Vec<f64>, BoundsPair), CliError> {
    let n = params.len();
    let bounds = match &cfg.bounds {
        Some(b) => parse_bounds(b, params).map_err(CliError::Usage)?,
        None => None,
    };
    let (lb, ub) = bounds
        .clone()
        .unwrap_or_else(|| (vec![f64::NEG_INFINITY; n], vec![f64::INFINITY; n]));
    let mut p0 = feasible_start(&lb, &ub);
    if let Some(text) = &cfg.p0 {
        let given = parse_p0(text, params).map_err(CliError::Usage)?;
        for (k, v) in given.into_iter().enumerate() {
            if let Some(v) = v {
                p0[k] = v;
            }
        }
    }
    for k in 0..n {
        if p0[k] < lb[k] || p0[k] > ub[k] {
            return Err(CliError::Usage(format!(
                "the start value of {} ({}) is outside its bounds [{}, {}]",
                params[k], p0[k], lb[k], ub[k]
            )));
        }
    }
    if cfg.method == Some(Method::Lm) && bounds.is_some() {
        return Err(CliError::Usage(
            "method 'lm' only works without bounds; use --method trf or dogbox with --bounds"
                .into(),
        ));
    }
    if cfg.method == Some(Method::Lm) && !matches!(cfg.loss, Loss::Linear) {
        return Err(CliError::Usage(format!(
            "method 'lm' supports only the linear loss (got --loss {}); use --method trf or dogbox",
            cfg.loss.as_str()
        )));
    }
    Ok((p0, bounds))
}

/// The data of a fit: x columns (the formula's order), y and σ.
pub(crate) struct Data {
    pub(crate) x: Vec<Vec<f64>>,
    pub(crate) y: Vec<f64>,
    pub(crate) sigma: Option<Vec<f64>>,
}

/// The fit of `data` that the options describe.
pub(crate) fn fit_spec(
    cfg: &FitConfig,
    formula: Formula,
    data: Data,
    p0: Vec<f64>,
    bounds: BoundsPair,
) -> FitSpec {
    FitSpec {
        formula,
        x: data.x,
        y: data.y,
        sigma: data.sigma,
        absolute_sigma: cfg.absolute_sigma,
        p0,
        bounds,
        method: cfg.method,
        loss: cfg.loss.clone(),
        f_scale: cfg.f_scale,
        verbose: cfg.verbose,
    }
}

/// The figure of a fit: data and curve above, residuals y − ŷ below.
pub fn figure(prep: &Prepared, r: &FitResult, y_name: &str) -> Figure {
    let spec = &prep.spec;
    let m = spec.y.len();
    let (x_label, xs): (String, Vec<f64>) = match &prep.plot_x {
        Some((name, v)) => (name.clone(), v.clone()),
        None => ("point index".into(), (0..m).map(|i| i as f64).collect()),
    };
    let data: Vec<(f64, f64)> = xs.iter().copied().zip(spec.y.iter().copied()).collect();
    let curve: Vec<(f64, f64)> = if let Some((name, v)) = &prep.plot_x {
        let (lo, hi) = v
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        // The formula's columns are the one plotted or none.
        let uses = spec.formula.columns().iter().any(|c| c == name);
        // Interpolated without hi − lo, which overflows for data beyond ±f64::MAX/2.
        let grid: Vec<f64> = (0..GRID_POINTS)
            .map(|k| {
                let f = k as f64 / (GRID_POINTS - 1) as f64;
                lo * (1.0 - f) + hi * f
            })
            .collect();
        let cols: Vec<&[f64]> = if uses { vec![&grid] } else { Vec::new() };
        let mut curve = vec![f64::NAN; GRID_POINTS];
        // Shapes match by construction; on error the curve stays NaN (not drawn).
        let _ = spec
            .formula
            .eval(&mut Workspace::new(), &r.popt, &cols, &mut curve);
        grid.into_iter().zip(curve).collect()
    } else {
        xs.iter().copied().zip(r.fitted.iter().copied()).collect()
    };
    let resid: Vec<(f64, f64)> = (0..m).map(|i| (xs[i], spec.y[i] - r.fitted[i])).collect();
    Figure {
        title: format!("{y_name} = {}", spec.formula.text()),
        x_label,
        y_label: y_name.to_string(),
        series: vec![
            Series {
                label: "data".into(),
                points: data,
                mark: Mark::Points,
                color: 0,
            },
            Series {
                label: format!("fit ({})", r.method.as_str()),
                points: curve,
                mark: Mark::Line,
                color: 1,
            },
        ],
        residuals: vec![Series {
            label: String::new(),
            points: resid,
            mark: Mark::Points,
            color: 1,
        }],
        residual_label: format!("{y_name} − fit"),
    }
}

/// Runs `trustfit fit`.
///
/// # Errors
/// See the module documentation.
pub fn run(cfg: &FitConfig, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), CliError> {
    if cfg.group_by.is_some() {
        return crate::group_fit::run(cfg, out, err);
    }
    if cfg.out.is_some() || cfg.jobs.is_some() {
        return Err(CliError::Usage(
            "--out and --jobs need --group-by (a single fit prints its report)".into(),
        ));
    }
    let prep = prepare(cfg)?;
    let m = prep.spec.y.len();
    let spinner = if m >= LARGE_FIT {
        crate::progress::spinner(&format!("fitting {m} points"))
    } else {
        indicatif::ProgressBar::hidden()
    };
    let result = fit(&prep.spec);
    spinner.finish_and_clear();
    let r = result.map_err(CliError::Usage)?;
    let source = display_name(&cfg.data);
    let text = if cfg.json {
        report_text::json(&prep.spec, &r, &cfg.y)
            .map_err(|e| CliError::Io(std::io::Error::other(e)))?
    } else {
        report_text::text(&prep.spec, &r, &source, &cfg.y)
    };
    if let Some(path) = &cfg.plot {
        crate::plot::save(&figure(&prep, &r, &cfg.y), path).map_err(CliError::Data)?;
    }
    writeln!(out, "{text}").map_err(CliError::Io)?;
    out.flush().map_err(CliError::Io)?;
    if !r.success {
        return Err(CliError::NotConverged(format!(
            "the fit did not converge (status {}): {}",
            r.status,
            crate::formula::one_line(&r.message)
        )));
    }
    Ok(())
}

fn display_name(p: &Path) -> String {
    p.display().to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn bounds_grammar() {
        let p = names(&["a", "b", "c"]);
        let (lb, ub) = parse_bounds(" a >= -1 , 3 > b, 10 >= c >= 2 ", &p)
            .unwrap()
            .unwrap();
        assert_eq!(lb, [-1.0, f64::NEG_INFINITY, 2.0]);
        assert_eq!(ub, [f64::INFINITY, 3.0, 10.0]);
        let (lb, _) = parse_bounds("-inf < a < inf, 0 < b", &p).unwrap().unwrap();
        assert_eq!(lb[1], 0.0);
        assert!(parse_bounds("", &p).unwrap().is_none());
        assert!(parse_bounds("-inf<a<inf", &p).unwrap().is_none());
        for (bad, what) in [
            ("q < 1", "unknown parameter \"q\""),
            ("1 < 2", "exactly one parameter"),
            ("a < b", "exactly one parameter"),
            ("a", "cannot read"),
            ("0 < a > 1", "mixed"),
            ("a < 1 < 2", "middle"),
            ("0 <= a <= 0", "impossible bounds for a"),
            ("a < nan", "NaN"),
            // Issue 14, D12: a bound given twice (`gh14`).
            ("0<a<10, a>-5", "lower bound of a is given twice"),
            ("a<1, b<2, a<3", "upper bound of a is given twice"),
            ("0<b<1, 0<b<1", "lower bound of b is given twice"),
            ("a>0, -1<a<1", "lower bound of a"),
        ] {
            let e = parse_bounds(bad, &p).unwrap_err();
            assert!(e.contains(what), "{bad}: {e}");
        }
    }

    #[test]
    fn gh14_one_side_from_each_of_two_items_is_fine() {
        let p = names(&["a", "b"]);
        let (lb, ub) = parse_bounds("a>0, a<10", &p).unwrap().unwrap();
        assert_eq!((lb[0], ub[0]), (0.0, 10.0));
    }

    #[test]
    fn p0_grammar() {
        let p = names(&["a", "b"]);
        assert_eq!(
            parse_p0(" a = 2 , b=-1e-3", &p).unwrap(),
            [Some(2.0), Some(-1e-3)]
        );
        assert!(parse_p0("a", &p).unwrap_err().contains("NAME=VALUE"));
        assert!(parse_p0("a=x", &p).unwrap_err().contains("not a finite"));
        assert!(parse_p0("a=1,a=2", &p).unwrap_err().contains("twice"));
        assert!(parse_p0("a=inf", &p).is_err());
    }
}

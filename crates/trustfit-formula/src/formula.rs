//! [`Formula`]: a parsed and compiled model formula, and its evaluation —
//! values at many points, and the Jacobian with respect to the parameters.

use crate::error::{FormulaError, check_len};
use crate::eval::{BLOCK, Columns, Fits, Params, Row, Tiled};
use crate::limits::{ParamOrder, ParseOptions};
use crate::parser::parse;
use crate::tape::{Tape, compile};
use crate::workspace::Workspace;

/// A compiled formula such as `a + b*exp(c*t)`. Immutable, `Send + Sync`:
/// share one between threads, each with its own [`Workspace`].
///
/// ```
/// use trustfit_formula::{Formula, Workspace};
/// let f = Formula::parse("a + b*exp(c*t)", &["t", "y"]).unwrap();
/// assert_eq!(f.params(), ["a", "b", "c"]);
/// assert_eq!(f.columns(), ["t"]);
/// let mut ws = Workspace::new();
/// let (t, p) = ([0.0, 1.0], [1.0, 2.0, -1.0]);
/// let (mut v, mut jac) = ([0.0; 2], [0.0; 6]);
/// f.eval_jacobian(&mut ws, &p, &[&t], &mut v, &mut jac).unwrap();
/// assert_eq!(v[0], 3.0);
/// // row 0 (t = 0): d/da = 1, d/db = exp(0) = 1, d/dc = b·t·exp(c·t) = 0
/// assert_eq!(jac[..3], [1.0, 1.0, 0.0]);
/// ```
#[derive(Debug, Clone)]
pub struct Formula {
    text: String,
    params: Vec<String>,
    columns: Vec<String>,
    tape: Tape,
}

impl Formula {
    /// Parses and compiles `text` with the default [`ParseOptions`]; names in
    /// `columns` are data columns, every other name a parameter (see the
    /// crate documentation for the grammar).
    ///
    /// # Errors
    /// A [`FormulaError`] saying what is wrong and at which column.
    ///
    /// ```
    /// use trustfit_formula::Formula;
    /// let f = Formula::parse("k*u + m*t", &["t", "y", "u"]).unwrap();
    /// assert_eq!(f.params(), ["k", "m"]);
    /// assert_eq!(f.columns(), ["t", "u"]); // the order of `columns`
    /// assert!(Formula::parse("a +", &["t"]).is_err());
    /// ```
    pub fn parse<S: AsRef<str>>(text: &str, columns: &[S]) -> Result<Self, FormulaError> {
        Self::parse_with(text, columns, &ParseOptions::default())
    }

    /// Parses and compiles `text` with explicit limits and parameter order.
    ///
    /// # Errors
    /// A [`FormulaError`]: syntax, or a limit exceeded.
    ///
    /// ```
    /// use trustfit_formula::{Formula, FormulaError, Limits, ParseOptions};
    /// let opts = ParseOptions { limits: Limits { max_params: 2, ..Limits::default() }, ..Default::default() };
    /// let e = Formula::parse_with("a + b*t + c", &["t"], &opts).unwrap_err();
    /// assert_eq!(e, FormulaError::TooManyParams { limit: 2 });
    /// ```
    pub fn parse_with<S: AsRef<str>>(
        text: &str,
        columns: &[S],
        options: &ParseOptions,
    ) -> Result<Self, FormulaError> {
        let names: Vec<&str> = columns.iter().map(AsRef::as_ref).collect();
        let parsed = parse(text, &names, &options.limits)?;
        // Final parameter order, and the map from the parser's order to it.
        let mut order: Vec<usize> = (0..parsed.params.len()).collect();
        if options.param_order == ParamOrder::Alphabetical {
            order.sort_by(|&a, &b| parsed.params[a].cmp(&parsed.params[b]));
        }
        let mut param_map = vec![0; order.len()];
        for (final_index, &k) in order.iter().enumerate() {
            param_map[k] = final_index;
        }
        let params = order.iter().map(|&k| parsed.params[k].clone()).collect();
        let mut column_map = vec![usize::MAX; names.len()];
        let mut used = Vec::new();
        for (j, name) in names.iter().enumerate() {
            if parsed.column_used[j] {
                column_map[j] = used.len();
                used.push((*name).to_string());
            }
        }
        let tape = compile(&parsed.ast, &param_map, &column_map);
        Ok(Self {
            text: text.to_string(),
            params,
            columns: used,
            tape,
        })
    }

    /// The formula as given.
    ///
    /// ```
    /// let f = trustfit_formula::Formula::parse("a*t", &["t"]).unwrap();
    /// assert_eq!(f.text(), "a*t");
    /// ```
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Parameter names: the order of every parameter vector and Jacobian column.
    ///
    /// ```
    /// let f = trustfit_formula::Formula::parse("b*t + a", &["t"]).unwrap();
    /// assert_eq!(f.params(), ["b", "a"]);
    /// ```
    pub fn params(&self) -> &[String] {
        &self.params
    }

    /// The data columns the formula uses, in the order of the `columns`
    /// given to [`Formula::parse`]: the order of the `cols` of every evaluation.
    ///
    /// ```
    /// let f = trustfit_formula::Formula::parse("a*y + x", &["x", "y", "z"]).unwrap();
    /// assert_eq!(f.columns(), ["x", "y"]);
    /// ```
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Instructions of the compiled tape (after folding and sharing).
    ///
    /// ```
    /// let f = trustfit_formula::Formula::parse("a*(2*PI) + a*(2*PI)", &["t"]).unwrap();
    /// assert_eq!(f.num_instructions(), 3); // a, a·2π (the constant factor fused), sum
    /// ```
    pub fn num_instructions(&self) -> usize {
        self.tape.ops.len()
    }

    /// Checks the shapes of an evaluation at `m` points; returns `m`.
    fn check<C: AsRef<[f64]>>(
        &self,
        params: &[f64],
        cols: &[C],
        m: usize,
    ) -> Result<usize, FormulaError> {
        check_len("params", self.params.len(), params.len())?;
        check_len("cols", self.columns.len(), cols.len())?;
        for c in cols {
            check_len("cols[j]", m, c.as_ref().len())?;
        }
        Ok(m)
    }

    /// The formula's values at the points given by `cols` (one slice per
    /// [`Formula::columns`], each as long as `out`). Non-finite results are
    /// returned as they are (NaN, ±∞).
    ///
    /// # Errors
    /// [`FormulaError::ShapeMismatch`] when a length is wrong.
    ///
    /// ```
    /// use trustfit_formula::{Formula, Workspace};
    /// let f = Formula::parse("a*x^2 + ln(x)", &["x"]).unwrap();
    /// let mut out = [0.0; 3];
    /// f.eval(&mut Workspace::new(), &[2.0], &[[1.0, 0.0, -1.0]], &mut out).unwrap();
    /// assert_eq!(out[0], 2.0);
    /// assert_eq!(out[1], f64::NEG_INFINITY);
    /// assert!(out[2].is_nan());
    /// ```
    pub fn eval<C: AsRef<[f64]>>(
        &self,
        ws: &mut Workspace,
        params: &[f64],
        cols: &[C],
        out: &mut [f64],
    ) -> Result<(), FormulaError> {
        let m = self.check(params, cols, out.len())?;
        let slots = self.tape.ops.len();
        ws.reserve(slots, false);
        let root = (slots - 1) * BLOCK;
        let mut start = 0;
        while start < m {
            let len = BLOCK.min(m - start);
            self.tape.forward(&mut ws.values, params, cols, start, len);
            out[start..start + len].copy_from_slice(&ws.values[root..root + len]);
            start += len;
        }
        Ok(())
    }

    /// The values (into `values`, length m) and the Jacobian with respect to
    /// the parameters (into `jac`, row-major m × n: `jac[i*n + k]` is
    /// `d value_i / d params[k]`), exact up to rounding, by reverse mode.
    ///
    /// # Errors
    /// [`FormulaError::ShapeMismatch`] when a length is wrong.
    ///
    /// ```
    /// use trustfit_formula::{Formula, Workspace};
    /// let f = Formula::parse("a*t^b", &["t"]).unwrap();
    /// let (mut v, mut jac) = ([0.0; 1], [0.0; 2]);
    /// f.eval_jacobian(&mut Workspace::new(), &[3.0, 2.0], &[[2.0]], &mut v, &mut jac).unwrap();
    /// assert_eq!(v, [12.0]);
    /// assert_eq!(jac[0], 4.0); // t^b
    /// assert!((jac[1] - 12.0 * 2f64.ln()).abs() < 1e-14); // a·t^b·ln t
    /// ```
    pub fn eval_jacobian<C: AsRef<[f64]>>(
        &self,
        ws: &mut Workspace,
        params: &[f64],
        cols: &[C],
        values: &mut [f64],
        jac: &mut [f64],
    ) -> Result<(), FormulaError> {
        let m = self.check(params, cols, values.len())?;
        let n = self.params.len();
        check_len("jac", m.saturating_mul(n), jac.len())?;
        self.sweep(ws, params, cols, values, jac)
    }

    /// [`Formula::eval_jacobian`] for many fits at once, each over the same m points:
    /// `params` holds F parameter vectors (row-major F×n), `values` gets F×m values and
    /// `jac` F blocks of m×n. Bit for bit the per-fit results, but the interpreter's
    /// cost per instruction is shared by a block of points spanning fits (25-point
    /// fits otherwise leave most of a block empty).
    ///
    /// # Errors
    /// [`FormulaError::ShapeMismatch`] when a length is wrong.
    ///
    /// ```
    /// use trustfit_formula::{Formula, Workspace};
    /// let f = Formula::parse("a*t + b", &["t"]).unwrap();
    /// let (mut v, mut jac) = ([0.0; 4], [0.0; 8]);
    /// let t = [[1.0, 2.0]];
    /// f.eval_jacobian_fits(&mut Workspace::new(), &[1.0, 0.0, 10.0, 5.0], &t, &mut v, &mut jac).unwrap();
    /// assert_eq!(v, [1.0, 2.0, 15.0, 25.0]);
    /// assert_eq!(jac[4..], [1.0, 1.0, 2.0, 1.0]); // fit 1: ∂/∂a = t, ∂/∂b = 1
    /// ```
    pub fn eval_jacobian_fits<C: AsRef<[f64]>>(
        &self,
        ws: &mut Workspace,
        params: &[f64],
        cols: &[C],
        values: &mut [f64],
        jac: &mut [f64],
    ) -> Result<(), FormulaError> {
        let n = self.params.len();
        let fits = params.len().checked_div(n).unwrap_or(0);
        check_len("params", fits * n, params.len())?;
        check_len("cols", self.columns.len(), cols.len())?;
        let m = cols
            .first()
            .map_or(values.len() / fits.max(1), |c| c.as_ref().len());
        for c in cols {
            check_len("cols[j]", m, c.as_ref().len())?;
        }
        check_len("values", fits * m, values.len())?;
        check_len("jac", fits * m * n, jac.len())?;
        if m == 0 {
            return Ok(());
        }
        let per_fit = Fits { params, n, m };
        self.sweep(ws, &per_fit, &Tiled { cols, m }, values, jac)
    }

    /// Forward and reverse sweeps over every block (shapes already checked).
    fn sweep<P: Params + ?Sized, C: Columns + ?Sized>(
        &self,
        ws: &mut Workspace,
        params: &P,
        cols: &C,
        values: &mut [f64],
        jac: &mut [f64],
    ) -> Result<(), FormulaError> {
        let slots = self.tape.ops.len();
        ws.reserve(slots, true);
        let root = (slots - 1) * BLOCK;
        let m = values.len();
        let mut start = 0;
        while start < m {
            let len = BLOCK.min(m - start);
            self.tape.forward(&mut ws.values, params, cols, start, len);
            values[start..start + len].copy_from_slice(&ws.values[root..root + len]);
            self.tape
                .backward(&ws.values, &mut ws.adjoints, jac, start, len);
            start += len;
        }
        Ok(())
    }

    /// The value at one point, `row[j]` being the value of column j.
    ///
    /// # Errors
    /// [`FormulaError::ShapeMismatch`] when a length is wrong.
    ///
    /// ```
    /// use trustfit_formula::{Formula, Workspace};
    /// let f = Formula::parse("a*x + b*y", &["x", "y"]).unwrap();
    /// let v = f.eval_point(&mut Workspace::new(), &[1.0, 2.0], &[10.0, 100.0]).unwrap();
    /// assert_eq!(v, 210.0);
    /// ```
    pub fn eval_point(
        &self,
        ws: &mut Workspace,
        params: &[f64],
        row: &[f64],
    ) -> Result<f64, FormulaError> {
        check_len("params", self.params.len(), params.len())?;
        check_len("row", self.columns.len(), row.len())?;
        let slots = self.tape.ops.len();
        ws.reserve(slots, false);
        self.tape.forward(&mut ws.values, params, &Row(row), 0, 1);
        Ok(ws.values[(slots - 1) * BLOCK])
    }

    /// The value at one point and its gradient with respect to the
    /// parameters (into `grad`, length n).
    ///
    /// # Errors
    /// [`FormulaError::ShapeMismatch`] when a length is wrong.
    ///
    /// ```
    /// use trustfit_formula::{Formula, Workspace};
    /// let f = Formula::parse("a*t^2 + b", &["t"]).unwrap();
    /// let mut g = [0.0; 2];
    /// let v = f.value_and_gradient(&mut Workspace::new(), &[2.0, 1.0], &[-3.0], &mut g).unwrap();
    /// assert_eq!((v, g), (19.0, [9.0, 1.0]));
    /// ```
    pub fn value_and_gradient(
        &self,
        ws: &mut Workspace,
        params: &[f64],
        row: &[f64],
        grad: &mut [f64],
    ) -> Result<f64, FormulaError> {
        check_len("params", self.params.len(), params.len())?;
        check_len("row", self.columns.len(), row.len())?;
        check_len("grad", self.params.len(), grad.len())?;
        let mut value = [0.0];
        self.sweep(ws, params, &Row(row), &mut value, grad)?;
        Ok(value[0])
    }
}

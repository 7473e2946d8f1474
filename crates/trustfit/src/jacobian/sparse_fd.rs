//! Sparse finite differences by column groups (spec §5.4): one residual evaluation
//! per group ('2-point', 'cs') or two ('3-point'), whatever `n` is. Steps are the dense
//! scheme's (`finite_diff::compute_steps`), so each entry equals the dense value.

use num_complex::Complex64;
use rayon::prelude::*;

use crate::error::{CallbackError, Error};
use crate::jacobian::finite_diff::{FdParams, FdWorkspace, compute_steps};
use crate::jacobian::groups::{ColumnGrouping, group_columns};
use crate::linalg::sparse::{CsrMatrix, SparsityPattern};
use crate::options::JacSpec;
use crate::problem::{Residuals, eval_residuals, guarded};

/// Precomputed layout of one sparsity pattern: which columns and entries each group has.
pub(crate) struct SparseFd {
    /// Number of groups (residual evaluations per Jacobian, ×2 for '3-point').
    pub groups: usize,
    col_ptr: Vec<usize>,
    cols: Vec<usize>,
    entry_ptr: Vec<usize>,
    entries: Vec<usize>,
    entry_row: Vec<usize>,
    entry_col: Vec<usize>,
    x2: Vec<f64>,
}

impl SparseFd {
    /// Groups the columns of `pattern` and lays out its entries by group.
    pub fn new(pattern: &SparsityPattern, rule: ColumnGrouping) -> Self {
        let n = pattern.ncols();
        let g = group_columns(pattern, rule);
        let count = g.count;
        let bucket = |keys: &mut dyn Iterator<Item = usize>, len: usize| {
            let keys: Vec<usize> = keys.collect();
            let mut ptr = vec![0usize; count + 1];
            for &k in &keys {
                ptr[k + 1] += 1;
            }
            for c in 0..count {
                ptr[c + 1] += ptr[c];
            }
            let mut next = ptr.clone();
            let mut items = vec![0usize; len];
            for (item, &k) in keys.iter().enumerate() {
                items[next[k]] = item;
                next[k] += 1;
            }
            (ptr, items)
        };
        let (col_ptr, cols) = bucket(&mut g.group_of.iter().copied(), n);
        let mut entry_row = Vec::with_capacity(pattern.nnz());
        for i in 0..pattern.nrows() {
            entry_row.extend(std::iter::repeat_n(i, pattern.row(i).len()));
        }
        let entry_col = pattern.indices().to_vec();
        let (entry_ptr, entries) =
            bucket(&mut entry_col.iter().map(|&j| g.group_of[j]), pattern.nnz());
        Self {
            groups: count,
            col_ptr,
            cols,
            entry_ptr,
            entries,
            entry_row,
            entry_col,
            x2: vec![0.0; n],
        }
    }

    fn group_cols(&self, g: usize) -> &[usize] {
        &self.cols[self.col_ptr[g]..self.col_ptr[g + 1]]
    }

    fn group_entries(&self, g: usize) -> &[usize] {
        &self.entries[self.entry_ptr[g]..self.entry_ptr[g + 1]]
    }

    /// Fills the values of `jac` (whose pattern is the one given to [`SparseFd::new`]).
    pub fn jacobian<P: Residuals + ?Sized>(
        &mut self,
        problem: &P,
        p: &FdParams<'_>,
        jac: &mut CsrMatrix,
        ws: &mut FdWorkspace,
        pool: Option<&rayon::ThreadPool>,
    ) -> Result<(), Error> {
        compute_steps(p, ws);
        if p.scheme == JacSpec::ComplexStep {
            return self.complex_step(problem, p, jac, ws);
        }
        if let (Some(pool), Some(sync)) = (pool, problem.as_sync()) {
            let m = p.f0.len();
            let this = &*self;
            let ws_ro = &*ws;
            let per_group: Result<Vec<Vec<f64>>, Error> = pool.install(|| {
                (0..this.groups)
                    .into_par_iter()
                    .map_init(
                        || (p.x.to_vec(), p.x.to_vec(), vec![0.0; m], vec![0.0; m]),
                        |(x1, x2, f1, f2), g| {
                            let mut out = vec![0.0; this.group_entries(g).len()];
                            this.group(sync, p, g, ws_ro, x1, x2, f1, f2, |k, v| out[k] = v)?;
                            Ok(out)
                        },
                    )
                    .collect()
            });
            let values = jac.values_mut();
            for (g, vals) in per_group?.into_iter().enumerate() {
                for (&e, v) in self.group_entries(g).iter().zip(vals) {
                    values[e] = v;
                }
            }
            return Ok(());
        }
        ws.x1.copy_from_slice(p.x);
        self.x2.copy_from_slice(p.x);
        let mut x1 = std::mem::take(&mut ws.x1);
        let mut x2 = std::mem::take(&mut self.x2);
        let mut f1 = std::mem::take(&mut ws.f1);
        let mut f2 = std::mem::take(&mut ws.f2);
        let mut result = Ok(());
        for g in 0..self.groups {
            let entries = &self.entries[self.entry_ptr[g]..self.entry_ptr[g + 1]];
            let values = jac.values_mut();
            result = self.group(
                problem,
                p,
                g,
                ws,
                &mut x1,
                &mut x2,
                &mut f1,
                &mut f2,
                |k, v| values[entries[k]] = v,
            );
            if result.is_err() {
                break;
            }
        }
        ws.x1 = x1;
        self.x2 = x2;
        ws.f1 = f1;
        ws.f2 = f2;
        result
    }

    /// Evaluates group `g` and reports `(k, value)` for its k-th entry.
    #[allow(clippy::too_many_arguments)]
    fn group<P: Residuals + ?Sized, O: FnMut(usize, f64)>(
        &self,
        problem: &P,
        p: &FdParams<'_>,
        g: usize,
        ws: &FdWorkspace,
        x1: &mut [f64],
        x2: &mut [f64],
        f1: &mut [f64],
        f2: &mut [f64],
        mut out: O,
    ) -> Result<(), Error> {
        let cols = self.group_cols(g);
        let entries = self.group_entries(g);
        let three = p.scheme == JacSpec::ThreePoint;
        for &j in cols {
            let (xj, h) = (p.x[j], ws.h[j]);
            if three && !ws.one_sided[j] {
                x1[j] = xj - h;
                x2[j] = xj + h;
            } else {
                x1[j] = xj + h;
                x2[j] = xj + 2.0 * h;
            }
        }
        eval_residuals(problem, x1, f1)?;
        if three {
            eval_residuals(problem, x2, f2)?;
        }
        for (k, &e) in entries.iter().enumerate() {
            let (i, j) = (self.entry_row[e], self.entry_col[e]);
            let xj = p.x[j];
            let v = if !three {
                (f1[i] - p.f0[i]) / (x1[j] - xj)
            } else if ws.one_sided[j] {
                (-3.0 * p.f0[i] + 4.0 * f1[i] - f2[i]) / (x2[j] - xj)
            } else {
                (f2[i] - f1[i]) / (x2[j] - x1[j])
            };
            out(k, v);
        }
        for &j in cols {
            x1[j] = p.x[j];
            x2[j] = p.x[j];
        }
        Ok(())
    }

    fn complex_step<P: Residuals + ?Sized>(
        &self,
        problem: &P,
        p: &FdParams<'_>,
        jac: &mut CsrMatrix,
        ws: &mut FdWorkspace,
    ) -> Result<(), Error> {
        if !problem.has_complex() {
            return Err(Error::from(CallbackError::new(
                "`jac='cs'` needs residuals that accept complex arguments: implement `Residuals::residuals_complex`",
            )));
        }
        for (c, &x) in ws.xc.iter_mut().zip(p.x) {
            *c = Complex64::new(x, 0.0);
        }
        for g in 0..self.groups {
            for &j in self.group_cols(g) {
                ws.xc[j] = Complex64::new(p.x[j], ws.h[j]);
            }
            let (xc, fc) = (&ws.xc, &mut ws.fc);
            guarded("residual function (complex)", || {
                problem.residuals_complex(xc, fc)
            })?;
            let values = jac.values_mut();
            for &e in self.group_entries(g) {
                let (i, j) = (self.entry_row[e], self.entry_col[e]);
                values[e] = ws.fc[i].im / ws.h[j];
            }
            for &j in self.group_cols(g) {
                ws.xc[j] = Complex64::new(p.x[j], 0.0);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jacobian::finite_diff::dense_jacobian;
    use crate::problem::from_fn;

    #[test]
    fn grouped_differences_equal_dense_ones() {
        // Broyden tridiagonal residuals, n = 30.
        let n = 30;
        let fun = move |x: &[f64], f: &mut [f64]| {
            for i in 0..n {
                let left = if i > 0 { x[i - 1] } else { 0.0 };
                let right = if i + 1 < n { x[i + 1] } else { 0.0 };
                f[i] = (3.0 - 2.0 * x[i]) * x[i] - left - 2.0 * right + 1.0;
            }
        };
        let cfun = move |x: &[Complex64], f: &mut [Complex64]| {
            let zero = Complex64::new(0.0, 0.0);
            for i in 0..n {
                let left = if i > 0 { x[i - 1] } else { zero };
                let right = if i + 1 < n { x[i + 1] } else { zero };
                f[i] = (3.0 - 2.0 * x[i]) * x[i] - left - 2.0 * right + 1.0;
            }
        };
        let prob = from_fn(n, fun).with_complex(cfun);
        let x: Vec<f64> = (0..n).map(|i| -1.0 + 0.01 * i as f64).collect();
        let mut f0 = vec![0.0; n];
        prob.residuals(&x, &mut f0).unwrap();
        let pattern = SparsityPattern::from_entries(
            n,
            n,
            (0..n)
                .flat_map(|i| [(i, i.saturating_sub(1)), (i, i), (i, (i + 1).min(n - 1))])
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let (lb, ub) = (vec![-1.0; n], vec![f64::INFINITY; n]);
        for scheme in [JacSpec::TwoPoint, JacSpec::ThreePoint, JacSpec::ComplexStep] {
            for rule in [ColumnGrouping::Scipy, ColumnGrouping::LargestFirst] {
                let params = FdParams {
                    scheme,
                    x: &x,
                    f0: &f0,
                    lb: &lb,
                    ub: &ub,
                    diff_step: None,
                    bounded: true,
                };
                let mut ws = FdWorkspace::new(n, n, scheme);
                let mut dense = vec![0.0; n * n];
                dense_jacobian(&prob, &params, &mut dense, &mut ws, None).unwrap();
                let mut sfd = SparseFd::new(&pattern, rule);
                let mut jac = CsrMatrix::zeros(pattern.clone());
                sfd.jacobian(&prob, &params, &mut jac, &mut ws, None)
                    .unwrap();
                // Structural entries equal the dense ones bit for bit (outside the
                // structure the dense one-sided formula leaves rounding noise).
                for i in 0..n {
                    for &j in pattern.row(i) {
                        let k = jac.position(i, j).unwrap();
                        assert_eq!(
                            jac.values()[k],
                            dense[i * n + j],
                            "{scheme} {rule:?} ({i},{j})"
                        );
                    }
                }
                if rule == ColumnGrouping::LargestFirst {
                    assert_eq!(sfd.groups, 3);
                }
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(2)
                    .build()
                    .unwrap();
                let sync = from_fn(n, fun).with_complex(cfun).thread_safe();
                let mut jac2 = CsrMatrix::zeros(pattern.clone());
                sfd.jacobian(&sync, &params, &mut jac2, &mut ws, Some(&pool))
                    .unwrap();
                assert_eq!(jac2, jac);
            }
        }
    }
}

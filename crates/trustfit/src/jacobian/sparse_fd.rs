//! Sparse finite differences by column groups (spec §5.4): one residual evaluation
//! per group ('2-point', 'cs') or two ('3-point'), whatever `n` is. Steps are the dense
//! scheme's (`finite_diff::compute_steps`), so each entry equals the dense value.

use num_complex::Complex64;
use rayon::prelude::*;

use crate::error::{CallbackError, Error};
use crate::jacobian::finite_diff::{FdParams, FdWorkspace, compute_steps};
use crate::jacobian::groups::{ColumnGrouping, group_columns};
use crate::linalg::sparse::{Columns, CsrMatrix, SparsityPattern};
use crate::options::JacSpec;
use crate::problem::{Residuals, eval_residuals, guarded};

/// Precomputed layout of one sparsity pattern: the columns of each group, and the
/// pattern by columns, so a group's values are computed column by column from
/// compact `u32` indices (half the memory traffic of `usize`).
pub(crate) struct SparseFd {
    /// Number of groups (residual evaluations per Jacobian, ×2 for '3-point').
    pub groups: usize,
    /// Group `g` is `cols[col_ptr[g]..col_ptr[g + 1]]` (increasing).
    col_ptr: Vec<usize>,
    cols: Vec<u32>,
    columns: Columns,
    x2: Vec<f64>,
}

fn too_large() -> Error {
    Error::option(
        "jac_sparsity",
        "has 2³² − 1 or more rows, columns or entries; finite differences by groups index them in 32 bits.",
    )
}

impl SparseFd {
    /// Groups the columns of `pattern` and lists the columns of each group.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for patterns beyond 32-bit indices.
    pub fn new(pattern: &SparsityPattern, rule: ColumnGrouping) -> Result<Self, Error> {
        let columns = pattern.columns().ok_or_else(too_large)?;
        let n = pattern.ncols();
        let g = group_columns(pattern, &columns, rule);
        let count = g.count;
        // Columns by group (counting sort: increasing index within a group).
        let mut col_ptr = vec![0usize; count + 1];
        for &k in &g.group_of {
            col_ptr[k + 1] += 1;
        }
        for c in 0..count {
            col_ptr[c + 1] += col_ptr[c];
        }
        let mut fill = col_ptr.clone();
        let mut cols = vec![0u32; n];
        for (j, &k) in g.group_of.iter().enumerate() {
            cols[fill[k]] = j as u32;
            fill[k] += 1;
        }
        Ok(Self {
            groups: count,
            col_ptr,
            cols,
            columns,
            x2: vec![0.0; n],
        })
    }

    /// Columns of group `g`.
    pub(crate) fn group_cols(&self, g: usize) -> &[u32] {
        &self.cols[self.col_ptr[g]..self.col_ptr[g + 1]]
    }

    /// Number of entries of group `g`.
    fn group_len(&self, g: usize) -> usize {
        self.group_cols(g)
            .iter()
            .map(|&j| self.columns.range(j as usize).len())
            .sum()
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
                            let mut out = Vec::with_capacity(this.group_len(g));
                            this.group(sync, p, g, ws_ro, x1, x2, f1, f2, |_, v| {
                                out.push(v);
                            })?;
                            Ok(out)
                        },
                    )
                    .collect()
            });
            let values = jac.values_mut();
            for (g, vals) in per_group?.into_iter().enumerate() {
                let entries = self.group_cols(g).iter().flat_map(|&j| {
                    let r = self.columns.range(j as usize);
                    &self.columns.pos[r]
                });
                for (&e, v) in entries.zip(vals) {
                    values[e as usize] = v;
                }
            }
            return Ok(());
        }
        ws.x1.copy_from_slice(p.x);
        if p.scheme == JacSpec::ThreePoint {
            self.x2.copy_from_slice(p.x);
        }
        let mut x1 = std::mem::take(&mut ws.x1);
        let mut x2 = std::mem::take(&mut self.x2);
        let mut f1 = std::mem::take(&mut ws.f1);
        let mut f2 = std::mem::take(&mut ws.f2);
        let mut result = Ok(());
        for g in 0..self.groups {
            let (pos, values) = (&self.columns.pos, jac.values_mut());
            result = self.group(
                problem,
                p,
                g,
                ws,
                &mut x1,
                &mut x2,
                &mut f1,
                &mut f2,
                |k, v| values[pos[k] as usize] = v,
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

    /// Evaluates group `g` and reports `(k, value)` for each of its entries `k` (an
    /// index of the column form's `rows`/`pos`), column by column in increasing
    /// order. `x2`/`f2` are used by '3-point' only.
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
        let three = p.scheme == JacSpec::ThreePoint;
        for &j in cols {
            let j = j as usize;
            let (xj, h) = (p.x[j], ws.h[j]);
            if !three {
                x1[j] = xj + h;
            } else if !ws.one_sided[j] {
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
        let f0 = p.f0;
        let rows = &self.columns.rows;
        for &j in cols {
            let j = j as usize;
            let xj = p.x[j];
            let ents = self.columns.range(j);
            if !three {
                let dx = x1[j] - xj;
                for k in ents {
                    let i = rows[k] as usize;
                    out(k, (f1[i] - f0[i]) / dx);
                }
            } else if ws.one_sided[j] {
                let dx = x2[j] - xj;
                for k in ents {
                    let i = rows[k] as usize;
                    out(k, (-3.0 * f0[i] + 4.0 * f1[i] - f2[i]) / dx);
                }
            } else {
                let dx = x2[j] - x1[j];
                for k in ents {
                    let i = rows[k] as usize;
                    out(k, (f2[i] - f1[i]) / dx);
                }
            }
        }
        for &j in cols {
            let j = j as usize;
            x1[j] = p.x[j];
            if three {
                x2[j] = p.x[j];
            }
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
            let cols = self.group_cols(g);
            for &j in cols {
                let j = j as usize;
                ws.xc[j] = Complex64::new(p.x[j], ws.h[j]);
            }
            let (xc, fc) = (&ws.xc, &mut ws.fc);
            guarded("residual function (complex)", || {
                problem.residuals_complex(xc, fc)
            })?;
            let values = jac.values_mut();
            let c = &self.columns;
            for &j in cols {
                let h = ws.h[j as usize];
                for k in c.range(j as usize) {
                    values[c.pos[k] as usize] = ws.fc[c.rows[k] as usize].im / h;
                }
            }
            for &j in cols {
                let j = j as usize;
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
                let mut sfd = SparseFd::new(&pattern, rule).unwrap();
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

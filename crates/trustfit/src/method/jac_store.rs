//! Where a method keeps J: dense (row-major m×n) or sparse (CSR). The products the
//! large-scale path needs (J v, Jᵀu, column norms, row scaling) cost O(nnz) on the
//! sparse form, and the scaled operators handed to LSMR never form a matrix.

use std::cell::RefCell;

use crate::error::Error;
use crate::linalg::lsmr::LinearMap;
use crate::linalg::sparse::CsrMatrix;
use crate::method::common::{column_norms, jt_times};

/// The Jacobian storage of one solve.
pub(crate) enum JacStore {
    /// Row-major `m × n`.
    Dense { data: Vec<f64>, n: usize },
    /// CSR with a fixed pattern.
    Sparse(CsrMatrix),
}

impl JacStore {
    /// `out = J v`.
    pub fn mul(&self, v: &[f64], out: &mut [f64]) {
        match self {
            JacStore::Dense { data, n } => {
                for (o, row) in out.iter_mut().zip(data.chunks_exact(*n)) {
                    *o = row.iter().zip(v).map(|(a, b)| a * b).sum();
                }
            }
            JacStore::Sparse(a) => a.mul_vec(v, out),
        }
    }

    /// `out = J·(d ⊙ v)`; `tmp` (length n) is scratch for the dense form.
    pub fn mul_scaled(&self, v: &[f64], d: &[f64], tmp: &mut [f64], out: &mut [f64]) {
        match self {
            JacStore::Sparse(a) => a.mul_vec_scaled(v, d, out),
            JacStore::Dense { .. } => {
                for ((t, &v), &d) in tmp.iter_mut().zip(v).zip(d) {
                    *t = v * d;
                }
                self.mul(tmp, out);
            }
        }
    }

    /// `out = Jᵀ u`.
    pub fn tmul(&self, u: &[f64], out: &mut [f64]) {
        match self {
            JacStore::Dense { data, n } => jt_times(data, u, *n, out),
            JacStore::Sparse(a) => a.mul_t_vec(u, out),
        }
    }

    /// Column norms (x_scale='jac').
    pub fn column_norms(&self, out: &mut [f64]) {
        match self {
            JacStore::Dense { data, n } => column_norms(data, *n, out),
            JacStore::Sparse(a) => a.column_norms(out),
        }
    }

    /// Multiplies row `i` by `rows[i]`.
    pub fn scale_rows(&mut self, rows: &[f64]) {
        match self {
            JacStore::Dense { data, n } => {
                for (row, &s) in data.chunks_exact_mut(*n).zip(rows) {
                    row.iter_mut().for_each(|v| *v *= s);
                }
            }
            JacStore::Sparse(a) => a.scale_rows(|i| rows[i]),
        }
    }

    /// True when any stored value is not finite.
    pub fn has_non_finite(&self) -> bool {
        match self {
            JacStore::Dense { data, .. } => data.iter().any(|v| !v.is_finite()),
            JacStore::Sparse(a) => a.values().iter().any(|v| !v.is_finite()),
        }
    }
}

/// `A = [J·diag(d); diag(e)]` (the second block only when `e` is given), the matrix
/// LSMR sees in trf's subproblem.
pub(crate) struct ScaledJacobian<'a> {
    pub jac: &'a JacStore,
    pub d: &'a [f64],
    pub extra: Option<&'a [f64]>,
    pub m: usize,
    pub tmp: &'a RefCell<Vec<f64>>,
}

impl LinearMap for ScaledJacobian<'_> {
    fn rows(&self) -> usize {
        self.m + self.extra.map_or(0, <[f64]>::len)
    }

    fn cols(&self) -> usize {
        self.d.len()
    }

    fn apply(&self, x: &[f64], y: &mut [f64]) -> Result<(), Error> {
        let mut t = self.tmp.borrow_mut();
        self.jac.mul_scaled(x, self.d, &mut t, &mut y[..self.m]);
        if let Some(e) = self.extra {
            for ((y, &x), &e) in y[self.m..].iter_mut().zip(x).zip(e) {
                *y = x * e;
            }
        }
        Ok(())
    }

    fn apply_t(&self, y: &[f64], x: &mut [f64]) -> Result<(), Error> {
        self.jac.tmul(&y[..self.m], x);
        for (x, &d) in x.iter_mut().zip(self.d) {
            *x *= d;
        }
        if let Some(e) = self.extra {
            for ((x, &y), &e) in x.iter_mut().zip(&y[self.m..]).zip(e) {
                *x += y * e;
            }
        }
        Ok(())
    }
}

//! Where a method keeps J: dense (row-major m×n), sparse (CSR) or matrix-free (the
//! user's products). The products the large-scale path needs (J v, Jᵀu, column norms,
//! row scaling) cost O(nnz) on the sparse form, and the scaled operators handed to
//! LSMR never form a matrix.

use std::cell::RefCell;

use crate::error::Error;
use crate::linalg::sparse::CsrMatrix;
use crate::linalg::vector::any_non_finite;
use crate::problem::{JacobianProducts, guarded};

/// The Jacobian storage of one solve (dense and sparse storage is kept in the
/// solver between solves; an operator is set up per solve).
pub(crate) enum JacStore<'p> {
    /// Row-major `m × n`.
    Dense { data: Vec<f64>, n: usize },
    /// CSR with a fixed pattern.
    Sparse(CsrMatrix),
    /// The user's products at the last linearization point.
    Operator(OperatorJac<'p>),
}

/// A matrix-free J: `diag(row_scale)·J(x)` applied through the user's products.
///
/// Products cannot return errors through the solver's infallible kernels, so a failed
/// product is kept (the first one) and its output set to NaN; the methods call
/// [`JacStore::take_error`] after each step they build from products.
pub(crate) struct OperatorJac<'p> {
    products: &'p dyn JacobianProducts,
    x: Vec<f64>,
    /// Robust-loss row factors; all ones when `scaled` is false.
    row_scale: Vec<f64>,
    scaled: bool,
    tmp: RefCell<Vec<f64>>,
    error: RefCell<Option<Error>>,
}

impl<'p> OperatorJac<'p> {
    /// An operator for an m×n problem; [`OperatorJac::linearize`] sets its point.
    pub fn new(products: &'p dyn JacobianProducts, m: usize, n: usize) -> Self {
        Self {
            products,
            x: vec![0.0; n],
            row_scale: vec![1.0; m],
            scaled: false,
            tmp: RefCell::new(vec![0.0; m]),
            error: RefCell::new(None),
        }
    }

    /// Moves the operator to `x` (the user's `linearize`), dropping any row scaling.
    pub fn linearize(&mut self, x: &[f64]) -> Result<(), Error> {
        self.x.copy_from_slice(x);
        self.scaled = false;
        self.row_scale.fill(1.0);
        guarded("Jacobian function", || self.products.linearize(x))
    }

    /// The robust-loss row factors of the final J, if any.
    pub fn row_scale(&self) -> Option<&[f64]> {
        self.scaled.then_some(&self.row_scale[..])
    }

    fn fail(&self, e: Error, out: &mut [f64]) {
        out.fill(f64::NAN);
        let mut slot = self.error.borrow_mut();
        if slot.is_none() {
            *slot = Some(e);
        }
    }

    fn mul(&self, v: &[f64], out: &mut [f64]) {
        match guarded("Jacobian operator (matvec)", || {
            self.products.jvp(&self.x, v, out)
        }) {
            Ok(()) if self.scaled => {
                for (o, s) in out.iter_mut().zip(&self.row_scale) {
                    *o *= s;
                }
            }
            Ok(()) => {}
            Err(e) => self.fail(e, out),
        }
    }

    fn tmul(&self, u: &[f64], out: &mut [f64]) {
        let result = if self.scaled {
            let mut t = self.tmp.borrow_mut();
            for ((t, u), s) in t.iter_mut().zip(u).zip(&self.row_scale) {
                *t = u * s;
            }
            guarded("Jacobian operator (rmatvec)", || {
                self.products.vjp(&self.x, &t, out)
            })
        } else {
            guarded("Jacobian operator (rmatvec)", || {
                self.products.vjp(&self.x, u, out)
            })
        };
        if let Err(e) = result {
            self.fail(e, out);
        }
    }
}

impl JacStore<'_> {
    /// `out = J v`.
    pub fn mul(&self, v: &[f64], out: &mut [f64]) {
        match self {
            JacStore::Dense { data, n } => {
                for (o, row) in out.iter_mut().zip(data.chunks_exact(*n)) {
                    *o = row.iter().zip(v).map(|(a, b)| a * b).sum();
                }
            }
            JacStore::Sparse(a) => a.mul_vec(v, out),
            JacStore::Operator(op) => op.mul(v, out),
        }
    }

    /// The number of rows m.
    pub fn nrows(&self) -> usize {
        match self {
            JacStore::Dense { data, n } => data.len() / (*n).max(1),
            JacStore::Sparse(a) => a.nrows(),
            JacStore::Operator(op) => op.row_scale.len(),
        }
    }

    /// The first error of a product since the last call (matrix-free J only).
    pub fn take_error(&self) -> Result<(), Error> {
        match self {
            JacStore::Operator(op) => op.error.borrow_mut().take().map_or(Ok(()), Err),
            _ => Ok(()),
        }
    }

    /// `out = J·(d ⊙ v)`; `tmp` (length n) is scratch for the dense form.
    pub fn mul_scaled(&self, v: &[f64], d: &[f64], tmp: &mut [f64], out: &mut [f64]) {
        match self {
            JacStore::Sparse(a) => a.mul_vec_scaled(v, d, out),
            JacStore::Dense { .. } | JacStore::Operator(_) => {
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
            JacStore::Operator(op) => op.tmul(u, out),
        }
    }

    /// Column norms (x_scale='jac', which validation refuses for a matrix-free J:
    /// ones there).
    pub fn column_norms(&self, out: &mut [f64]) {
        match self {
            JacStore::Dense { data, n } => column_norms(data, *n, out),
            JacStore::Sparse(a) => a.column_norms(out),
            JacStore::Operator(_) => out.fill(1.0),
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
            JacStore::Operator(op) => {
                for (s, r) in op.row_scale.iter_mut().zip(rows) {
                    *s *= r;
                }
                op.scaled = true;
            }
        }
    }

    /// True when any stored value is not finite.
    pub fn has_non_finite(&self) -> bool {
        match self {
            JacStore::Dense { data, .. } => any_non_finite(data),
            JacStore::Sparse(a) => any_non_finite(a.values()),
            JacStore::Operator(_) => false,
        }
    }
}

/// `g = Jᵀ f` for row-major J.
pub(crate) fn jt_times(jac: &[f64], f: &[f64], n: usize, g: &mut [f64]) {
    match n {
        1 => jt_times_fixed::<1>(jac, f, g),
        2 => jt_times_fixed::<2>(jac, f, g),
        3 => jt_times_fixed::<3>(jac, f, g),
        4 => jt_times_fixed::<4>(jac, f, g),
        5 => jt_times_fixed::<5>(jac, f, g),
        6 => jt_times_fixed::<6>(jac, f, g),
        _ => {
            g[..n].fill(0.0);
            for (row, &fi) in jac.chunks_exact(n).zip(f) {
                for (gj, &jij) in g.iter_mut().zip(row) {
                    *gj += jij * fi;
                }
            }
        }
    }
}

/// [`jt_times`] for `N` columns known at compile time: the sums stay in registers
/// (with a run-time `n` each row's update went through memory, a store-to-load
/// round trip per entry — a tenth of a 100 × 3 fit's solve). Same additions in the
/// same order, so the same bits.
fn jt_times_fixed<const N: usize>(jac: &[f64], f: &[f64], g: &mut [f64]) {
    let mut acc = [0.0; N];
    for (row, &fi) in jac.chunks_exact(N).zip(f) {
        for (a, &jij) in acc.iter_mut().zip(row) {
            *a += jij * fi;
        }
    }
    for (gj, a) in g.iter_mut().zip(acc) {
        *gj = a;
    }
}

/// Column norms of a row-major J (x_scale='jac', spec §4).
pub(crate) fn column_norms(jac: &[f64], n: usize, out: &mut [f64]) {
    out[..n].fill(0.0);
    for row in jac.chunks_exact(n) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o += v * v;
        }
    }
    for o in out[..n].iter_mut() {
        *o = o.sqrt();
    }
}

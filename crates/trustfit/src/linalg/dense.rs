//! Thin SVD with all storage allocated once per solve.
//!
//! trf's exact subproblem needs `A = U Σ Vᵀ` of the (possibly augmented) scaled
//! Jacobian once per outer iteration; dogbox needs the minimum-norm least-squares
//! solution on the free columns. Both reuse one [`ThinSvd`].

use faer::diag::DiagMut;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::svd::{ComputeSvdVectors, svd, svd_scratch};
use faer::{MatMut, MatRef, Par};

use crate::error::Error;

/// Storage for the thin SVD of matrices up to `max_rows × max_cols`.
pub(crate) struct ThinSvd {
    /// Column-major input matrix, `rows × cols` in the leading part.
    pub a: Vec<f64>,
    /// Left singular vectors, column-major `rows × k`.
    pub u: Vec<f64>,
    /// Right singular vectors, column-major `cols × k`.
    pub v: Vec<f64>,
    /// Singular values, descending, length `k`.
    pub s: Vec<f64>,
    pub rows: usize,
    pub cols: usize,
    mem: MemBuffer,
    max_rows: usize,
    max_cols: usize,
}

impl ThinSvd {
    pub fn new(max_rows: usize, max_cols: usize) -> Self {
        let k = max_rows.min(max_cols);
        let req = svd_scratch::<f64>(
            max_rows.max(1),
            max_cols.max(1),
            ComputeSvdVectors::Thin,
            ComputeSvdVectors::Thin,
            Par::Seq,
            Default::default(),
        );
        Self {
            a: vec![0.0; max_rows * max_cols],
            u: vec![0.0; max_rows * k],
            v: vec![0.0; max_cols * k],
            s: vec![0.0; k],
            rows: max_rows,
            cols: max_cols,
            mem: MemBuffer::new(req),
            max_rows,
            max_cols,
        }
    }

    /// Sets the active shape; the caller then fills `a[..rows*cols]` column-major.
    pub fn set_shape(&mut self, rows: usize, cols: usize) {
        debug_assert!(rows <= self.max_rows && cols <= self.max_cols);
        self.rows = rows;
        self.cols = cols;
    }

    /// `k = min(rows, cols)`.
    pub fn k(&self) -> usize {
        self.rows.min(self.cols)
    }

    /// Factors the active matrix; `s`, `u`, `v` then hold the thin SVD.
    pub fn factor(&mut self) -> Result<(), Error> {
        let (r, c, k) = (self.rows, self.cols, self.k());
        if k == 0 {
            return Ok(());
        }
        if self.a[..r * c].iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                what: "Jacobian values".into(),
                best: None,
            });
        }
        let a = MatRef::from_column_major_slice(&self.a[..r * c], r, c);
        let u = MatMut::from_column_major_slice_mut(&mut self.u[..r * k], r, k);
        let v = MatMut::from_column_major_slice_mut(&mut self.v[..c * k], c, k);
        let s = DiagMut::from_slice_mut(&mut self.s[..k]);
        let stack = MemStack::new(&mut self.mem);
        svd(a, s, Some(u), Some(v), Par::Seq, stack, Default::default()).map_err(|_| {
            Error::LinearAlgebra {
                message: "SVD did not converge".into(),
                best: None,
            }
        })
    }

    /// `out = Uᵀ b` (length k), with `b` of length `rows` (missing tail entries are 0).
    pub fn ut_times(&self, b: &[f64], out: &mut [f64]) {
        let (r, k) = (self.rows, self.k());
        for (l, o) in out[..k].iter_mut().enumerate() {
            let col = &self.u[l * r..(l + 1) * r];
            *o = col.iter().zip(b).map(|(u, b)| u * b).sum();
        }
    }

    /// `out = V w` (length cols) for `w` of length k.
    pub fn v_times(&self, w: &[f64], out: &mut [f64]) {
        let (c, k) = (self.cols, self.k());
        out[..c].fill(0.0);
        for l in 0..k {
            let wl = w[l];
            let col = &self.v[l * c..(l + 1) * c];
            for (o, v) in out[..c].iter_mut().zip(col) {
                *o += v * wl;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thin_svd_reconstructs_the_matrix() {
        // 4×3, column-major.
        let a = [
            1.0, 2.0, 0.5, -1.0, 0.0, 1.0, 3.0, 2.0, 4.0, -2.0, 1.0, 0.25,
        ];
        let mut svd = ThinSvd::new(5, 3);
        svd.set_shape(4, 3);
        svd.a[..12].copy_from_slice(&a);
        svd.factor().unwrap();
        assert!(svd.s[0] >= svd.s[1] && svd.s[1] >= svd.s[2]);
        for i in 0..4 {
            for j in 0..3 {
                let mut v = 0.0;
                for l in 0..3 {
                    v += svd.u[l * 4 + i] * svd.s[l] * svd.v[l * 3 + j];
                }
                assert!((v - a[j * 4 + i]).abs() < 1e-13, "{v} vs {}", a[j * 4 + i]);
            }
        }
    }
}

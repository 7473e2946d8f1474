//! Thin SVD with all storage allocated once per solve.
//!
//! trf's exact subproblem needs `A = U Σ Vᵀ` of the (possibly augmented) scaled
//! Jacobian once per outer iteration; dogbox needs the minimum-norm least-squares
//! solution on the free columns. Both reuse one [`ThinSvd`].

use faer::diag::DiagMut;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::svd::{ComputeSvdVectors, svd, svd_scratch};
use faer::{MatMut, MatRef, Par};

use crate::linalg::error::LinalgError;
use crate::linalg::jacobi::{Summation, tall_svd, well_conditioned};
use crate::linalg::vector::{any_non_finite, copy_any_non_finite};

/// Storage for the thin SVD of matrices up to `max_rows × max_cols`.
pub(crate) struct ThinSvd {
    /// Column-major input matrix, `rows × cols` in the leading part.
    pub a: Vec<f64>,
    /// Left singular vectors, column-major `rows × k` (general SVD only; the QR +
    /// Jacobi path keeps a copy of its input here).
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
    /// Scratch for the QR + Jacobi path: a copy of the right-hand side and an n×n matrix.
    rhs: Vec<f64>,
    w: Vec<f64>,
}

/// Above this many columns the general (faer) SVD is used even for tall matrices.
const JACOBI_MAX_COLS: usize = 48;

/// From this many rows the QR's sums are interleaved. Below, the chains of dependent
/// additions are short, and LAPACK's order keeps small fits on scipy's path to the
/// last printed digit of a near-zero optimality (the verbose parity tests).
const INTERLEAVED_MIN_ROWS: usize = 64;

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
            rhs: vec![0.0; max_rows],
            w: vec![0.0; max_cols * max_cols],
        }
    }

    /// Factors the active matrix (destroying `a`) and writes `Uᵀ b` into `utb`.
    /// `s` and `v` then hold the thin SVD's singular values and right vectors.
    ///
    /// A tall matrix of at most [`JACOBI_MAX_COLS`] columns goes by QR and Jacobi. From
    /// [`INTERLEAVED_MIN_ROWS`] rows its sums are interleaved (fast), and a nearly
    /// rank-deficient result is factored again in LAPACK's order of summation, the
    /// rounding such a step depends on (see [`Summation`]); fewer rows keep that order.
    pub fn factor_and_project(&mut self, b: &[f64], utb: &mut [f64]) -> Result<(), LinalgError> {
        self.factor_projected(None, b, utb)
    }

    /// [`factor_and_project`](Self::factor_and_project) of `src` (column-major, the
    /// active shape), copied into `a` first; a second factorisation copies it again,
    /// where `factor_and_project` keeps a copy of its own on every call.
    pub fn factor_and_project_from(
        &mut self,
        src: &[f64],
        b: &[f64],
        utb: &mut [f64],
    ) -> Result<(), LinalgError> {
        let len = self.rows * self.cols;
        // Checked as copied: both ways of factoring refuse such a matrix.
        if copy_any_non_finite(&src[..len], &mut self.a[..len]) {
            return Err(LinalgError::NonFinite);
        }
        self.factor_projected(Some(src), b, utb)
    }

    /// Factors `a` (a copy of `src` when given, then already checked finite) and
    /// projects `b`.
    fn factor_projected(
        &mut self,
        src: Option<&[f64]>,
        b: &[f64],
        utb: &mut [f64],
    ) -> Result<(), LinalgError> {
        let (r, c) = (self.rows, self.cols);
        if r >= c && c > 0 && c <= JACOBI_MAX_COLS {
            if src.is_none() && any_non_finite(&self.a[..r * c]) {
                return Err(LinalgError::NonFinite);
            }
            if r < INTERLEAVED_MIN_ROWS {
                self.jacobi(Summation::Sequential, b, utb);
                return Ok(());
            }
            // Without `src`, the input kept for a second factorisation in `u`, which
            // this path leaves unused (a tall matrix's `u` holds rows × cols).
            if src.is_none() {
                self.u[..r * c].copy_from_slice(&self.a[..r * c]);
            }
            self.jacobi(Summation::Interleaved, b, utb);
            if !well_conditioned(&self.s[..c]) {
                let kept = src.unwrap_or(&self.u[..r * c]);
                self.a[..r * c].copy_from_slice(&kept[..r * c]);
                self.jacobi(Summation::Sequential, b, utb);
            }
            return Ok(());
        }
        self.factor()?;
        self.ut_times(b, utb);
        Ok(())
    }

    /// The QR + Jacobi SVD of the active (tall) matrix, `Uᵀ b` into `utb`.
    fn jacobi(&mut self, sums: Summation, b: &[f64], utb: &mut [f64]) {
        let (r, c) = (self.rows, self.cols);
        self.rhs[..r].copy_from_slice(&b[..r]);
        tall_svd(
            sums,
            &mut self.a[..r * c],
            r,
            c,
            &mut self.rhs[..r],
            &mut self.s[..c],
            &mut self.v[..c * c],
            &mut utb[..c],
            &mut self.w[..c * c],
        );
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
    pub fn factor(&mut self) -> Result<(), LinalgError> {
        let (r, c, k) = (self.rows, self.cols, self.k());
        if k == 0 {
            return Ok(());
        }
        if self.a[..r * c].iter().any(|v| !v.is_finite()) {
            return Err(LinalgError::NonFinite);
        }
        let a = MatRef::from_column_major_slice(&self.a[..r * c], r, c);
        let u = MatMut::from_column_major_slice_mut(&mut self.u[..r * k], r, k);
        let v = MatMut::from_column_major_slice_mut(&mut self.v[..c * k], c, k);
        let s = DiagMut::from_slice_mut(&mut self.s[..k]);
        let stack = MemStack::new(&mut self.mem);
        svd(a, s, Some(u), Some(v), Par::Seq, stack, Default::default())
            .map_err(|_| LinalgError::NotConverged("SVD"))
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

/// In-place Cholesky `A = L Lᵀ` of a small row-major `s × s` matrix: reads the lower
/// triangle, writes L there (the strict upper part is left as it was). `false` when A
/// is not positive definite or not finite.
pub(crate) fn small_cholesky(a: &mut [f64], s: usize) -> bool {
    for j in 0..s {
        let mut d = a[j * s + j];
        for k in 0..j {
            d -= a[j * s + k] * a[j * s + k];
        }
        if !(d > 0.0 && d.is_finite()) {
            return false;
        }
        let d = d.sqrt();
        a[j * s + j] = d;
        for i in j + 1..s {
            let mut v = a[i * s + j];
            for k in 0..j {
                v -= a[i * s + k] * a[j * s + k];
            }
            a[i * s + j] = v / d;
        }
    }
    true
}

/// Solves `L Lᵀ x = t` in place for the factor of [`small_cholesky`].
pub(crate) fn small_solve(l: &[f64], s: usize, t: &mut [f64]) {
    for i in 0..s {
        let mut v = t[i];
        for k in 0..i {
            v -= l[i * s + k] * t[k];
        }
        t[i] = v / l[i * s + i];
    }
    for i in (0..s).rev() {
        let mut v = t[i];
        for k in i + 1..s {
            v -= l[k * s + i] * t[k];
        }
        t[i] = v / l[i * s + i];
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

#[cfg(test)]
mod compare_paths {
    use super::*;

    #[test]
    fn jacobi_path_agrees_with_faer_on_powell_singular() {
        // Powell singular Jacobian at x0 = (3, -1, 0, 1), column-major 4×4.
        let x = [3.0f64, -1.0, 0.0, 1.0];
        let s5 = 5f64.sqrt();
        let s10 = 10f64.sqrt();
        let rows = [
            [1.0, 10.0, 0.0, 0.0],
            [0.0, 0.0, s5, -s5],
            [
                0.0,
                2.0 * (x[1] - 2.0 * x[2]),
                -4.0 * (x[1] - 2.0 * x[2]),
                0.0,
            ],
            [
                2.0 * s10 * (x[0] - x[3]),
                0.0,
                0.0,
                -2.0 * s10 * (x[0] - x[3]),
            ],
        ];
        let mut a = vec![0.0; 16];
        for i in 0..4 {
            for j in 0..4 {
                a[j * 4 + i] = rows[i][j];
            }
        }
        let b = [13.0, -2.2, 0.5, 3.0];
        let mut one = ThinSvd::new(4, 4);
        one.a.copy_from_slice(&a);
        let mut u1 = [0.0; 4];
        one.factor().unwrap();
        one.ut_times(&b, &mut u1);
        let mut two = ThinSvd::new(4, 4);
        two.a.copy_from_slice(&a);
        let mut u2 = [0.0; 4];
        two.factor_and_project(&b, &mut u2).unwrap();
        // Compare V·diag(uf/s) (the Gauss–Newton step), invariant to signs.
        let step = |svd: &ThinSvd, uf: &[f64]| {
            let w: Vec<f64> = (0..4).map(|l| uf[l] / svd.s[l]).collect();
            let mut p = [0.0; 4];
            svd.v_times(&w, &mut p);
            p
        };
        let (p1, p2) = (step(&one, &u1), step(&two, &u2));
        assert_eq!(one.s.len(), 4);
        for k in 0..4 {
            assert!(
                (one.s[k] - two.s[k]).abs() < 1e-12 * one.s[0],
                "{:?} vs {:?}",
                one.s,
                two.s
            );
            assert!(
                (p1[k] - p2[k]).abs() < 1e-10 * p1[k].abs().max(1.0),
                "{p1:?} vs {p2:?}"
            );
        }
    }
}

#[cfg(test)]
mod compare_tall {
    use super::*;

    #[test]
    fn jacobi_path_agrees_with_faer_on_tall_matrix() {
        let (rows, n) = (9, 3);
        let mut seed = 3u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        };
        let a: Vec<f64> = (0..rows * n).map(|_| next()).collect();
        let b: Vec<f64> = (0..rows).map(|_| next()).collect();
        let mut one = ThinSvd::new(rows, n);
        one.a.copy_from_slice(&a);
        let mut u1 = vec![0.0; n];
        one.factor().unwrap();
        one.ut_times(&b, &mut u1);
        let mut two = ThinSvd::new(rows, n);
        two.a.copy_from_slice(&a);
        let mut u2 = vec![0.0; n];
        two.factor_and_project(&b, &mut u2).unwrap();
        let step = |svd: &ThinSvd, uf: &[f64]| {
            let w: Vec<f64> = (0..n).map(|l| uf[l] / svd.s[l]).collect();
            let mut p = vec![0.0; n];
            svd.v_times(&w, &mut p);
            p
        };
        assert_eq!(
            step(&one, &u1)
                .iter()
                .map(|v| (v * 1e10).round())
                .collect::<Vec<_>>(),
            step(&two, &u2)
                .iter()
                .map(|v| (v * 1e10).round())
                .collect::<Vec<_>>(),
            "{:?} {:?}",
            one.s,
            two.s
        );
    }
}

#[cfg(test)]
mod summation_choice {
    use super::*;

    /// `factor_and_project`'s result, and `tall_svd`'s with `sums`, on `a` and `b`.
    fn both(a: &[f64], b: &[f64], rows: usize, n: usize, sums: Summation) -> [Vec<f64>; 2] {
        let mut svd = ThinSvd::new(rows, n);
        svd.a.copy_from_slice(a);
        let mut utb = vec![0.0; n];
        svd.factor_and_project(b, &mut utb).unwrap();
        let ours = [svd.s.clone(), svd.v.clone(), utb].concat();
        [
            ours,
            crate::linalg::jacobi::tall_svd_of(sums, a, rows, n, b).concat(),
        ]
    }

    /// The factorisation from a source slice equals the one of `a` bit for bit, also
    /// when it factors a second time (from `src`, not a kept copy).
    #[test]
    fn factoring_from_a_source_equals_factoring_in_place() {
        let (rows, n) = (80, 3);
        let t: Vec<f64> = (0..rows).map(|i| i as f64 * 0.05).collect();
        let b: Vec<f64> = t.iter().map(|t| (1.3 * t).sin()).collect();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for c in [0.0, -0.7] {
            // Rank-deficient at c = 0 (two equal columns), well conditioned otherwise.
            let e: Vec<f64> = t.iter().map(|t| (c * t).exp()).collect();
            let a: Vec<f64> = [vec![1.0; rows], e, t.clone()].concat();
            let mut svd = ThinSvd::new(rows, n);
            svd.a.copy_from_slice(&a);
            let mut utb = vec![0.0; n];
            svd.factor_and_project(&b, &mut utb).unwrap();
            let in_place = [svd.s.clone(), svd.v.clone(), utb.clone()].concat();
            let mut from = ThinSvd::new(rows, n);
            from.factor_and_project_from(&a, &b, &mut utb).unwrap();
            let copied = [from.s.clone(), from.v.clone(), utb].concat();
            assert_eq!(bits(&in_place), bits(&copied), "c = {c}");
            assert_eq!(well_conditioned(&from.s), c != 0.0);
        }
    }

    #[test]
    fn rank_deficient_matrix_is_factored_in_lapack_order() {
        // a + b·exp(c·t) at c = 0: the first two columns of J are equal.
        let (rows, n) = (80, 3);
        let t: Vec<f64> = (0..rows).map(|i| i as f64 * 0.05).collect();
        let a: Vec<f64> = [vec![1.0; rows], vec![1.0; rows], t.clone()].concat();
        let b: Vec<f64> = t.iter().map(|t| (1.3 * t).sin()).collect();
        let [ours, sequential] = both(&a, &b, rows, n, Summation::Sequential);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&ours), bits(&sequential));
        assert!(!well_conditioned(&ours[..n]));
    }

    #[test]
    fn few_rows_keep_lapack_order() {
        let (rows, n) = (INTERLEAVED_MIN_ROWS - 1, 2);
        let a: Vec<f64> = (0..rows * n)
            .map(|i| ((i * 7919) % 101) as f64 / 101.0)
            .collect();
        let b: Vec<f64> = (0..rows).map(|i| (i as f64).sin()).collect();
        let [ours, sequential] = both(&a, &b, rows, n, Summation::Sequential);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&ours), bits(&sequential));
        assert!(well_conditioned(&ours[..n]));
    }

    #[test]
    fn well_conditioned_matrix_takes_the_interleaved_sums() {
        let (rows, n) = (90, 3);
        let t: Vec<f64> = (0..rows).map(|i| i as f64 * 0.04).collect();
        let a: Vec<f64> = [
            vec![1.0; rows],
            t.iter().map(|t| (-t).exp()).collect(),
            t.iter().map(|t| t * t).collect(),
        ]
        .concat();
        let b: Vec<f64> = t.iter().map(|t| t.cos()).collect();
        let [ours, interleaved] = both(&a, &b, rows, n, Summation::Interleaved);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&ours), bits(&interleaved));
        assert!(well_conditioned(&ours[..n]));
    }
}

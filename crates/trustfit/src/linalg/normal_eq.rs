//! Damped normal equations `(Jᵀ diag(d)² J… + diag(c) + αI) p = r` of a sparse J.
//!
//! When every row of J spans at most [`MAX_BAND`] columns, `B = D JᵀJ D + diag(c)` is
//! a band matrix: it is filled straight into band storage (the slot of each pair of
//! a row's entries is arithmetic) and factored by [`BandLdlt`] — no symbolic
//! analysis at all. Otherwise the structure of B (upper triangle, CSC) and, for every
//! pair of entries sharing a row of J, the slot of B it adds to are computed once per
//! solve, and faer's sparse Cholesky factors it (natural order when that fills
//! nothing, else AMD) with the symbolic analysis and all workspace reused. Either
//! way nothing is allocated per iteration.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::LltRegularization;
use faer::sparse::linalg::cholesky::{
    SymbolicCholesky, SymmetricOrdering, factorize_symbolic_cholesky,
};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par, Side};

use crate::linalg::band::BandLdlt;
use crate::linalg::error::LinalgError;
use crate::linalg::sparse::{CsrMatrix, SparsityPattern};

/// B in band storage and its factorization.
struct Band {
    /// B without the shift α, band storage of [`BandLdlt`].
    b: Vec<f64>,
    ldlt: BandLdlt,
}

/// B as an upper-triangular CSC matrix and faer's sparse Cholesky of it.
struct General {
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    /// Slot in `b` of each (row of J, a ≤ b) pair, in iteration order.
    pair_slot: Vec<usize>,
    diag_slot: Vec<usize>,
    /// B without the shift α.
    b: Vec<f64>,
    /// B + αI, the matrix last factored.
    shifted: Vec<f64>,
    symbolic: Box<SymbolicCholesky<usize>>,
    l_values: Vec<f64>,
    stack: MemBuffer,
}

/// Widest half-bandwidth factored as a band (n·w² flops beat a general sparse
/// factorization's symbolic work for narrow bands).
const MAX_BAND: usize = 16;

/// The normal-equations system of one sparsity pattern.
pub(crate) struct NormalEquations {
    n: usize,
    layout: Layout,
}

enum Layout {
    Band(Band),
    General(Box<General>),
}

fn linalg_error(what: &str) -> LinalgError {
    LinalgError::Setup(format!("sparse Cholesky: {what}"))
}

/// Half-bandwidth of JᵀJ: the widest column span of a row of J.
fn normal_bandwidth(p: &SparsityPattern) -> usize {
    (0..p.nrows())
        .filter_map(|r| {
            let row = p.row(r);
            Some(row.last()? - row.first()?)
        })
        .max()
        .unwrap_or(0)
}

impl NormalEquations {
    /// Analyses the structure of `JᵀJ` for `jac`'s pattern.
    pub fn new(jac: &CsrMatrix) -> Result<Self, LinalgError> {
        Self::with_max_band(jac, MAX_BAND)
    }

    /// [`NormalEquations::new`], factoring as a band up to half-bandwidth `max_band`.
    fn with_max_band(jac: &CsrMatrix, max_band: usize) -> Result<Self, LinalgError> {
        let p = jac.pattern();
        let n = p.ncols();
        let w = normal_bandwidth(p);
        let layout = if w <= max_band {
            let ldlt = BandLdlt::new(n, w);
            Layout::Band(Band {
                b: vec![0.0; ldlt.storage_len()],
                ldlt,
            })
        } else {
            Layout::General(Box::new(General::new(p)?))
        };
        Ok(Self { n, layout })
    }

    /// `B = D JᵀJ D + diag(c)` (c omitted when `None`).
    pub fn fill(&mut self, jac: &CsrMatrix, d: &[f64], c: Option<&[f64]>) {
        let p = jac.pattern();
        let values = jac.values();
        match &mut self.layout {
            Layout::Band(band) => {
                let w = band.ldlt.width();
                let b = &mut band.b;
                b.fill(0.0);
                // A row of J spans at most w + 1 columns: its scaled values fit here.
                let mut sv = [0.0f64; MAX_BAND + 1];
                let indptr = p.indptr();
                for r in 0..p.nrows() {
                    let (start, end) = (indptr[r], indptr[r + 1]);
                    let cols = &p.indices()[start..end];
                    let len = cols.len().min(sv.len());
                    // Short rows (chains, stencils) with the length known at compile
                    // time: the loops unroll and the slot updates pipeline.
                    match len {
                        2 => {
                            band_row::<2>(b, w, &cols[..2], &values[start..start + 2], d);
                            continue;
                        }
                        3 => {
                            band_row::<3>(b, w, &cols[..3], &values[start..start + 3], d);
                            continue;
                        }
                        4 => {
                            band_row::<4>(b, w, &cols[..4], &values[start..start + 4], d);
                            continue;
                        }
                        _ => {}
                    }
                    for t in 0..len {
                        sv[t] = values[start + t] * d[cols[t]];
                    }
                    for a in 0..len {
                        let (ca, va) = (cols[a], sv[a]);
                        for t in a..len {
                            b[BandLdlt::slot(w, cols[t], ca)] += va * sv[t];
                        }
                    }
                }
                if let Some(c) = c {
                    for (j, &cj) in c.iter().enumerate() {
                        b[BandLdlt::slot(w, j, j)] += cj;
                    }
                }
            }
            Layout::General(g) => {
                g.b.fill(0.0);
                let mut t = 0;
                for r in 0..p.nrows() {
                    let start = p.indptr()[r];
                    let row = p.row(r);
                    for a in 0..row.len() {
                        let va = values[start + a] * d[row[a]];
                        for b in a..row.len() {
                            let vb = values[start + b] * d[row[b]];
                            g.b[g.pair_slot[t]] += va * vb;
                            t += 1;
                        }
                    }
                }
                if let Some(c) = c {
                    for (j, &cj) in c.iter().enumerate() {
                        g.b[g.diag_slot[j]] += cj;
                    }
                }
            }
        }
    }

    /// Factors `B + αI`; `false` when it is not numerically positive definite.
    pub fn factor(&mut self, alpha: f64) -> bool {
        match &mut self.layout {
            Layout::Band(band) => band.ldlt.factor(&band.b, alpha),
            Layout::General(g) => g.factor(self.n, alpha),
        }
    }

    /// Solves `(B + αI) x = rhs` in place with the last successful factorization.
    pub fn solve(&mut self, rhs: &mut [f64]) {
        match &mut self.layout {
            Layout::Band(band) => band.ldlt.solve(rhs),
            Layout::General(g) => {
                let llt = faer::sparse::linalg::cholesky::LltRef::new(&g.symbolic, &g.l_values);
                let n = rhs.len();
                let mat = MatMut::from_column_major_slice_mut(rhs, n, 1);
                llt.solve_in_place_with_conj(Conj::No, mat, Par::Seq, MemStack::new(&mut g.stack));
            }
        }
    }

    /// `pᵀ (B + αI)⁻¹ p` with the last successful factorization; `work` (length n)
    /// is overwritten.
    pub fn inverse_quadratic(&mut self, p: &[f64], work: &mut [f64]) -> f64 {
        if let Layout::Band(band) = &self.layout {
            return band.ldlt.inverse_quadratic(p, work);
        }
        work.copy_from_slice(p);
        self.solve(work);
        p.iter().zip(work.iter()).map(|(a, b)| a * b).sum()
    }
}

/// Adds row `(cols, vals)` of J (scaled by `d`) to B in band storage of width `w`:
/// `B(cols[t], cols[a]) += v_a v_t` for `a ≤ t`, in the general loop's order.
#[inline]
fn band_row<const L: usize>(b: &mut [f64], w: usize, cols: &[usize], vals: &[f64], d: &[f64]) {
    let mut c = [0usize; L];
    let mut v = [0.0f64; L];
    for t in 0..L {
        c[t] = cols[t];
        v[t] = vals[t] * d[c[t]];
    }
    for a in 0..L {
        for t in a..L {
            b[BandLdlt::slot(w, c[t], c[a])] += v[a] * v[t];
        }
    }
}

impl General {
    /// The CSC structure of B's upper triangle and the slot of every pair of entries
    /// of a row of J; the symbolic Cholesky analysis.
    fn new(p: &SparsityPattern) -> Result<Self, LinalgError> {
        let n = p.ncols();
        // Upper-triangle entries (i ≤ j) per column j, diagonal always present (faer
        // reads the upper side directly when it keeps the natural order): a counting
        // sort of every (row of J, pair of its columns) into flat storage, then sorted
        // and deduplicated per column in place — no allocation per column.
        let mut count = vec![1usize; n + 1];
        count[n] = 0;
        for r in 0..p.nrows() {
            for (a, &cb) in p.row(r).iter().enumerate() {
                count[cb] += a;
            }
        }
        let mut start = vec![0usize; n + 1];
        for j in 0..n {
            start[j + 1] = start[j] + count[j];
        }
        let mut all = vec![0usize; start[n]];
        let mut next = start.clone();
        for j in 0..n {
            all[next[j]] = j;
            next[j] += 1;
        }
        for r in 0..p.nrows() {
            let row = p.row(r);
            for (b, &cb) in row.iter().enumerate() {
                for &ca in &row[..b] {
                    all[next[cb]] = ca;
                    next[cb] += 1;
                }
            }
        }
        let mut col_ptr = Vec::with_capacity(n + 1);
        col_ptr.push(0);
        let mut len = 0;
        for j in 0..n {
            let seg = &mut all[start[j]..start[j + 1]];
            seg.sort_unstable();
            let mut last = usize::MAX;
            for t in start[j]..start[j + 1] {
                let v = all[t];
                if v != last {
                    all[len] = v;
                    len += 1;
                    last = v;
                }
            }
            col_ptr.push(len);
        }
        all.truncate(len);
        all.shrink_to_fit();
        let row_idx = all;
        let slot = |i: usize, j: usize| -> usize {
            let rows = &row_idx[col_ptr[j]..col_ptr[j + 1]];
            col_ptr[j] + rows.binary_search(&i).unwrap_or(0)
        };
        let mut pair_slot = Vec::new();
        for r in 0..p.nrows() {
            let row = p.row(r);
            for (a, &ca) in row.iter().enumerate() {
                for &cb in &row[a..] {
                    pair_slot.push(slot(ca, cb));
                }
            }
        }
        let diag_slot: Vec<usize> = (0..n).map(|j| slot(j, j)).collect();
        let nnz = row_idx.len();
        let s = SymbolicSparseColMatRef::new_checked(n, n, &col_ptr, None, &row_idx);
        let analyse = |ordering| {
            factorize_symbolic_cholesky(s, Side::Upper, ordering, Default::default())
                .map_err(|e| linalg_error(&format!("{e:?}")))
        };
        // Patterns that factor without fill in their own order keep it; AMD would
        // only add the cost of ordering and permuting.
        let natural = analyse(SymmetricOrdering::Identity)?;
        let symbolic = if natural.len_val() <= nnz + nnz / 4 {
            natural
        } else {
            analyse(SymmetricOrdering::Amd)?
        };
        let par = Par::Seq;
        let req = symbolic
            .factorize_numeric_llt_scratch::<f64>(par, Default::default())
            .or(symbolic.solve_in_place_scratch::<f64>(1, par));
        let stack = MemBuffer::try_new(req).map_err(|e| linalg_error(&format!("{e:?}")))?;
        let l_values = vec![0.0; symbolic.len_val()];
        Ok(Self {
            col_ptr,
            row_idx,
            pair_slot,
            diag_slot,
            b: vec![0.0; nnz],
            shifted: vec![0.0; nnz],
            symbolic: Box::new(symbolic),
            l_values,
            stack,
        })
    }

    fn factor(&mut self, n: usize, alpha: f64) -> bool {
        self.shifted.copy_from_slice(&self.b);
        for &s in &self.diag_slot {
            self.shifted[s] += alpha;
        }
        let sym = SymbolicSparseColMatRef::new_checked(n, n, &self.col_ptr, None, &self.row_idx);
        let a = SparseColMatRef::new(sym, &self.shifted);
        self.symbolic
            .factorize_numeric_llt(
                &mut self.l_values,
                a,
                Side::Upper,
                LltRegularization::default(),
                Par::Seq,
                MemStack::new(&mut self.stack),
                Default::default(),
            )
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_and_general_layouts_agree_for_rows_of_every_length() {
        // Rows of 1..=5 entries (the unrolled band kernels take 2, 3 and 4).
        let n = 7;
        let mut t = Vec::new();
        for (r, len) in [1usize, 2, 3, 4, 5, 3, 2, 4].into_iter().enumerate() {
            let first = r % (n - len + 1);
            for k in 0..len {
                t.push((
                    r,
                    first + k,
                    1.0 + 0.1 * (r * 7 + k) as f64 - 0.35 * k as f64,
                ));
            }
        }
        let j = CsrMatrix::from_triplets(8, n, &t).unwrap();
        let d: Vec<f64> = (0..n).map(|i| 0.5 + 0.25 * i as f64).collect();
        let c: Vec<f64> = (0..n).map(|i| 0.01 * i as f64).collect();
        let r: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).cos()).collect();
        let mut sols = Vec::new();
        for max_band in [MAX_BAND, 0] {
            let mut ne = NormalEquations::with_max_band(&j, max_band).unwrap();
            assert_eq!(matches!(ne.layout, Layout::Band(_)), max_band > 0);
            ne.fill(&j, &d, Some(&c));
            assert!(ne.factor(0.3));
            let mut x = r.clone();
            ne.solve(&mut x);
            sols.push(x);
        }
        for (a, b) in sols[0].iter().zip(&sols[1]) {
            assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} vs {b}");
        }
    }

    #[test]
    fn solves_the_damped_normal_equations() {
        // J (4×3) sparse; check (DJᵀJD + diag(c) + αI) x = r against a dense solve.
        #[rustfmt::skip]
        let dense = [
            2.0, 1.0, 0.0,
            0.0, 3.0, 0.0,
            0.0, 0.0, 1.5,
            1.0, 0.0, -1.0,
        ];
        let j = CsrMatrix::from_dense(4, 3, &dense).unwrap();
        let d = [1.0, 0.5, 2.0];
        let c = [0.1, 0.0, 0.3];
        let alpha = 0.7;
        for max_band in [MAX_BAND, 0] {
            let mut ne = NormalEquations::with_max_band(&j, max_band).unwrap();
            assert_eq!(matches!(ne.layout, Layout::Band(_)), max_band > 0);
            ne.fill(&j, &d, Some(&c));
            assert!(ne.factor(alpha));
            let r = [1.0, -2.0, 0.5];
            let mut x = r;
            ne.solve(&mut x);
            // Dense check: B x = r.
            let jd = j.to_dense();
            for i in 0..3 {
                let mut bx = (c[i] + alpha) * x[i];
                for k in 0..3 {
                    let mut s = 0.0;
                    for row in 0..4 {
                        s += jd[row * 3 + i] * d[i] * jd[row * 3 + k] * d[k];
                    }
                    bx += s * x[k];
                }
                assert!((bx - r[i]).abs() < 1e-12, "row {i}: {bx} vs {}", r[i]);
            }
            // A singular B (zero column) is not positive definite without a shift.
            let z = CsrMatrix::from_triplets(2, 2, &[(0, 0, 1.0), (1, 0, 1.0)]).unwrap();
            let mut ne = NormalEquations::with_max_band(&z, max_band).unwrap();
            ne.fill(&z, &[1.0, 1.0], None);
            assert!(!ne.factor(0.0));
            assert!(ne.factor(1e-3));
        }
    }
}

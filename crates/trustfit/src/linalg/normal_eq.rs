//! Damped normal equations `(Jᵀ diag(d)² J… + diag(c) + αI) p = r` of a sparse J,
//! factored by faer's sparse Cholesky with an AMD fill-reducing ordering.
//!
//! The structure of `B = D JᵀJ D + diag(c)` (upper triangle, CSC) and, for every pair
//! of entries sharing a row of J, the slot of B it adds to are computed once per
//! solve; each iteration then fills B in O(Σ nnz(row)²) and factors it numerically
//! with the symbolic analysis and all workspace reused — nothing is allocated.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::LltRegularization;
use faer::sparse::linalg::cholesky::{
    SymbolicCholesky, SymmetricOrdering, factorize_symbolic_cholesky,
};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par, Side};

use crate::error::Error;
use crate::linalg::sparse::CsrMatrix;

/// The normal-equations system of one sparsity pattern.
pub(crate) struct NormalEquations {
    n: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    /// Slot in `b` of each (row of J, a ≤ b) pair, in iteration order.
    pair_slot: Vec<usize>,
    diag_slot: Vec<usize>,
    /// B without the shift α.
    b: Vec<f64>,
    /// B + αI, the matrix last factored.
    shifted: Vec<f64>,
    symbolic: SymbolicCholesky<usize>,
    l_values: Vec<f64>,
    stack: MemBuffer,
    /// True when the last `factor` succeeded.
    factored: bool,
}

fn linalg_error(what: &str) -> Error {
    Error::LinearAlgebra {
        message: format!("sparse Cholesky: {what}"),
        best: None,
    }
}

impl NormalEquations {
    /// Analyses the structure of `JᵀJ` for `jac`'s pattern.
    pub fn new(jac: &CsrMatrix) -> Result<Self, Error> {
        let p = jac.pattern();
        let n = p.ncols();
        // Upper-triangle entries (i ≤ j) per column j, diagonal always present (faer
        // reads the upper side directly when it keeps the natural order).
        let mut cols: Vec<Vec<usize>> = (0..n).map(|j| vec![j]).collect();
        for r in 0..p.nrows() {
            let row = p.row(r);
            for (a, &ca) in row.iter().enumerate() {
                for &cb in &row[a + 1..] {
                    cols[cb].push(ca);
                }
            }
        }
        let mut col_ptr = Vec::with_capacity(n + 1);
        let mut row_idx = Vec::new();
        col_ptr.push(0);
        for c in cols.iter_mut() {
            c.sort_unstable();
            c.dedup();
            row_idx.extend_from_slice(c);
            col_ptr.push(row_idx.len());
        }
        drop(cols);
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
        let symbolic = {
            let s = SymbolicSparseColMatRef::new_checked(n, n, &col_ptr, None, &row_idx);
            let analyse = |ordering| {
                factorize_symbolic_cholesky(s, Side::Upper, ordering, Default::default())
                    .map_err(|e| linalg_error(&format!("{e:?}")))
            };
            // Banded problems (discretised PDEs, Broyden) factor without fill in their
            // own order; AMD would only add the cost of ordering and permuting.
            let natural = analyse(SymmetricOrdering::Identity)?;
            if natural.len_val() <= nnz + nnz / 4 {
                natural
            } else {
                analyse(SymmetricOrdering::Amd)?
            }
        };
        let par = Par::Seq;
        let req = symbolic
            .factorize_numeric_llt_scratch::<f64>(par, Default::default())
            .or(symbolic.solve_in_place_scratch::<f64>(1, par));
        let stack = MemBuffer::try_new(req).map_err(|e| linalg_error(&format!("{e:?}")))?;
        let l_values = vec![0.0; symbolic.len_val()];
        Ok(Self {
            n,
            col_ptr,
            row_idx,
            pair_slot,
            diag_slot,
            b: vec![0.0; nnz],
            shifted: vec![0.0; nnz],
            symbolic,
            l_values,
            stack,
            factored: false,
        })
    }

    /// `B = D JᵀJ D + diag(c)` (c omitted when `None`).
    pub fn fill(&mut self, jac: &CsrMatrix, d: &[f64], c: Option<&[f64]>) {
        self.b.fill(0.0);
        let p = jac.pattern();
        let values = jac.values();
        let mut t = 0;
        for r in 0..p.nrows() {
            let start = p.indptr()[r];
            let row = p.row(r);
            for a in 0..row.len() {
                let va = values[start + a] * d[row[a]];
                for b in a..row.len() {
                    let vb = values[start + b] * d[row[b]];
                    self.b[self.pair_slot[t]] += va * vb;
                    t += 1;
                }
            }
        }
        if let Some(c) = c {
            for (j, &cj) in c.iter().enumerate() {
                self.b[self.diag_slot[j]] += cj;
            }
        }
        self.factored = false;
    }

    /// Factors `B + αI`; `false` when it is not numerically positive definite.
    pub fn factor(&mut self, alpha: f64) -> bool {
        self.shifted.copy_from_slice(&self.b);
        for &s in &self.diag_slot {
            self.shifted[s] += alpha;
        }
        let sym = SymbolicSparseColMatRef::new_checked(
            self.n,
            self.n,
            &self.col_ptr,
            None,
            &self.row_idx,
        );
        let a = SparseColMatRef::new(sym, &self.shifted);
        let stack = MemStack::new(&mut self.stack);
        self.factored = self
            .symbolic
            .factorize_numeric_llt(
                &mut self.l_values,
                a,
                Side::Upper,
                LltRegularization::default(),
                Par::Seq,
                stack,
                Default::default(),
            )
            .is_ok();
        self.factored
    }

    /// Solves `(B + αI) x = rhs` in place with the last successful factorization.
    pub fn solve(&mut self, rhs: &mut [f64]) {
        let llt = faer::sparse::linalg::cholesky::LltRef::new(&self.symbolic, &self.l_values);
        let stack = MemStack::new(&mut self.stack);
        let n = rhs.len();
        let mat = MatMut::from_column_major_slice_mut(rhs, n, 1);
        llt.solve_in_place_with_conj(Conj::No, mat, Par::Seq, stack);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_the_damped_normal_equations() {
        // J (4×3) sparse; check (DJᵀJD + diag(c) + αI) x = r against a dense solve.
        let j = CsrMatrix::from_triplets(
            4,
            3,
            &[
                (0, 0, 2.0),
                (0, 1, 1.0),
                (1, 1, 3.0),
                (2, 2, 1.5),
                (3, 0, 1.0),
                (3, 2, -1.0),
            ],
        )
        .unwrap();
        let d = [1.0, 0.5, 2.0];
        let c = [0.1, 0.0, 0.3];
        let alpha = 0.7;
        let mut ne = NormalEquations::new(&j).unwrap();
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
        let mut ne = NormalEquations::new(&z).unwrap();
        ne.fill(&z, &[1.0, 1.0], None);
        assert!(!ne.factor(0.0));
        assert!(ne.factor(1e-3));
    }
}

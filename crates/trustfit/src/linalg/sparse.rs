//! Compressed sparse row (CSR) matrices: the storage of sparse Jacobians and of
//! `jac_sparsity` patterns.
//!
//! A [`SparsityPattern`] is the structure alone (row pointers and column indices,
//! sorted and unique within each row); a [`CsrMatrix`] is a pattern plus one value per
//! stored entry. Solvers fill the values of a fixed pattern in place, so a Jacobian
//! evaluation never allocates.

use std::sync::Arc;

use crate::error::Error;

/// The structure of an `nrows × ncols` sparse matrix in CSR form.
///
/// ```
/// use trustfit::SparsityPattern;
/// // A 3×3 tridiagonal structure.
/// let p = SparsityPattern::from_entries(3, 3, [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 1), (2, 2)]).unwrap();
/// assert_eq!((p.nnz(), p.row(1)), (7, &[0, 1, 2][..]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SparsityPattern {
    nrows: usize,
    ncols: usize,
    /// Shared, immutable: a pattern is cloned into every Jacobian and result built on
    /// it, and a clone of a 10⁶-row pattern should not copy 24 MB.
    indptr: Arc<[usize]>,
    indices: Arc<[usize]>,
    /// `indices` in 32 bits (empty when `ncols` does not fit): the products read
    /// 12 bytes per nonzero instead of 16, and they are bound by memory traffic.
    indices32: Arc<[u32]>,
}

/// The 32-bit copy of column indices, or nothing when they do not fit.
fn compact(ncols: usize, indices: &[usize]) -> Arc<[u32]> {
    if u32::try_from(ncols).is_ok() {
        indices.iter().map(|&j| j as u32).collect()
    } else {
        Arc::from(Vec::new())
    }
}

fn bad_shape(what: &str, expected: String, got: String) -> Error {
    Error::ShapeMismatch {
        what: what.into(),
        expected,
        got,
    }
}

impl SparsityPattern {
    /// Builds a pattern from `(row, column)` pairs in any order; duplicates are merged.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when an index lies outside `nrows × ncols`.
    ///
    /// ```
    /// let p = trustfit::SparsityPattern::from_entries(2, 2, [(1, 1), (0, 0), (1, 1)]).unwrap();
    /// assert_eq!(p.nnz(), 2);
    /// assert!(trustfit::SparsityPattern::from_entries(2, 2, [(2, 0)]).is_err());
    /// ```
    pub fn from_entries(
        nrows: usize,
        ncols: usize,
        entries: impl IntoIterator<Item = (usize, usize)>,
    ) -> Result<Self, Error> {
        let mut pairs: Vec<(usize, usize)> = entries.into_iter().collect();
        if let Some(&(i, j)) = pairs.iter().find(|&&(i, j)| i >= nrows || j >= ncols) {
            return Err(bad_shape(
                "A sparsity entry lies outside the matrix.",
                format!("indices below ({nrows}, {ncols})"),
                format!("({i}, {j})"),
            ));
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut indptr = vec![0usize; nrows + 1];
        for &(i, _) in &pairs {
            indptr[i + 1] += 1;
        }
        for i in 0..nrows {
            indptr[i + 1] += indptr[i];
        }
        let indices: Vec<usize> = pairs.into_iter().map(|(_, j)| j).collect();
        Ok(Self {
            nrows,
            ncols,
            indptr: indptr.into(),
            indices32: compact(ncols, &indices),
            indices: indices.into(),
        })
    }

    /// Builds a pattern from CSR arrays (scipy's `indptr`, `indices`); column indices
    /// are sorted within each row, duplicates merged.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `indptr` has the wrong length, is not
    /// non-decreasing, or an index is out of range.
    ///
    /// ```
    /// let p = trustfit::SparsityPattern::from_csr(2, 3, vec![0, 2, 3], vec![2, 0, 1]).unwrap();
    /// assert_eq!(p.row(0), &[0, 2]);
    /// ```
    pub fn from_csr(
        nrows: usize,
        ncols: usize,
        indptr: Vec<usize>,
        indices: Vec<usize>,
    ) -> Result<Self, Error> {
        if indptr.len() != nrows + 1
            || indptr[0] != 0
            || indptr.windows(2).any(|w| w[0] > w[1])
            || indptr[nrows] != indices.len()
        {
            return Err(bad_shape(
                "`indptr` does not describe the rows of a CSR matrix.",
                format!("{} non-decreasing offsets from 0 to nnz", nrows + 1),
                format!("{} offsets", indptr.len()),
            ));
        }
        // Canonical CSR (sorted unique columns per row, in range: what scipy's
        // `csr_array` usually holds) is taken as it is; anything else is rebuilt.
        let canonical = (0..nrows).all(|i| {
            let row = &indices[indptr[i]..indptr[i + 1]];
            row.windows(2).all(|w| w[0] < w[1]) && row.last().is_none_or(|&j| j < ncols)
        });
        if canonical {
            return Ok(Self {
                nrows,
                ncols,
                indices32: compact(ncols, &indices),
                indptr: indptr.into(),
                indices: indices.into(),
            });
        }
        let entries = (0..nrows).flat_map(|i| {
            indices[indptr[i]..indptr[i + 1]]
                .iter()
                .map(move |&j| (i, j))
        });
        Self::from_entries(nrows, ncols, entries.collect::<Vec<_>>())
    }

    /// Pattern of the nonzero entries of a dense row-major `nrows × ncols` array.
    ///
    /// ```
    /// let p = trustfit::SparsityPattern::from_dense(2, 2, &[1.0, 0.0, 0.0, 3.0]);
    /// assert_eq!(p.nnz(), 2);
    /// ```
    pub fn from_dense(nrows: usize, ncols: usize, values: &[f64]) -> Self {
        let mut indptr = Vec::with_capacity(nrows + 1);
        let mut indices = Vec::new();
        indptr.push(0);
        for row in values.chunks(ncols.max(1)).take(nrows) {
            indices.extend(
                row.iter()
                    .enumerate()
                    .filter(|(_, v)| **v != 0.0)
                    .map(|(j, _)| j),
            );
            indptr.push(indices.len());
        }
        indptr.resize(nrows + 1, indices.len());
        Self {
            nrows,
            ncols,
            indptr: indptr.into(),
            indices32: compact(ncols, &indices),
            indices: indices.into(),
        }
    }

    /// Number of rows.
    ///
    /// ```
    /// assert_eq!(trustfit::SparsityPattern::from_entries(4, 2, []).unwrap().nrows(), 4);
    /// ```
    pub fn nrows(&self) -> usize {
        self.nrows
    }

    /// Number of columns.
    ///
    /// ```
    /// assert_eq!(trustfit::SparsityPattern::from_entries(4, 2, []).unwrap().ncols(), 2);
    /// ```
    pub fn ncols(&self) -> usize {
        self.ncols
    }

    /// Number of stored entries.
    ///
    /// ```
    /// assert_eq!(trustfit::SparsityPattern::from_entries(2, 2, [(0, 1)]).unwrap().nnz(), 1);
    /// ```
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Column indices of row `i` (sorted).
    ///
    /// ```
    /// let p = trustfit::SparsityPattern::from_entries(2, 3, [(1, 2), (1, 0)]).unwrap();
    /// assert_eq!(p.row(1), &[0, 2]);
    /// ```
    pub fn row(&self, i: usize) -> &[usize] {
        &self.indices[self.indptr[i]..self.indptr[i + 1]]
    }

    /// Row offsets (length `nrows + 1`).
    ///
    /// ```
    /// let p = trustfit::SparsityPattern::from_entries(2, 2, [(1, 1)]).unwrap();
    /// assert_eq!(p.indptr(), &[0, 0, 1]);
    /// ```
    pub fn indptr(&self) -> &[usize] {
        &self.indptr
    }

    /// Column index of every stored entry, row after row.
    ///
    /// ```
    /// let p = trustfit::SparsityPattern::from_entries(2, 2, [(1, 1), (0, 1)]).unwrap();
    /// assert_eq!(p.indices(), &[1, 1]);
    /// ```
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }

    /// The pattern by columns (32-bit indices); `None` beyond them.
    pub(crate) fn columns(&self) -> Option<Columns> {
        Columns::new(self)
    }

    /// Whether `other` is a clone of this pattern (the same shared arrays): then they
    /// are equal without comparing them, for as long as both are held.
    pub(crate) fn is_clone_of(&self, other: &Self) -> bool {
        (self.nrows, self.ncols) == (other.nrows, other.ncols)
            && Arc::ptr_eq(&self.indptr, &other.indptr)
            && Arc::ptr_eq(&self.indices, &other.indices)
    }

    /// Bytes of the shared arrays.
    pub(crate) fn bytes(&self) -> usize {
        let word = std::mem::size_of::<usize>();
        word * (self.indptr.len() + self.indices.len()) + 4 * self.indices32.len()
    }
}

/// A pattern by columns, with 32-bit indices: the rows of column `j` are
/// `rows[colptr[j]..colptr[j + 1]]` (increasing), and `pos` is each entry's index in
/// the CSR values ([`SparsityPattern::columns`]). Built once per solve: the column
/// grouping, the differenced Jacobian and the Schur partition read it.
pub(crate) struct Columns {
    pub colptr: Vec<u32>,
    pub rows: Vec<u32>,
    pub pos: Vec<u32>,
}

impl Columns {
    /// `None` when an index does not fit in 32 bits (below `u32::MAX`).
    fn new(pattern: &SparsityPattern) -> Option<Self> {
        let (m, n, nnz) = (pattern.nrows(), pattern.ncols(), pattern.nnz());
        let fits = |v: usize| u32::try_from(v).is_ok_and(|v| v < u32::MAX);
        if !(fits(m) && fits(n) && fits(nnz)) {
            return None;
        }
        let mut colptr = vec![0u32; n + 1];
        for &j in pattern.indices() {
            colptr[j + 1] += 1;
        }
        for j in 0..n {
            colptr[j + 1] += colptr[j];
        }
        let mut next = colptr.clone();
        let mut rows = vec![0u32; nnz];
        let mut pos = vec![0u32; nnz];
        let indptr = pattern.indptr();
        for i in 0..m {
            for (t, &j) in pattern.row(i).iter().enumerate() {
                let q = next[j] as usize;
                next[j] += 1;
                rows[q] = i as u32;
                pos[q] = (indptr[i] + t) as u32;
            }
        }
        Some(Self { colptr, rows, pos })
    }

    /// Entry range of column `j`.
    #[inline]
    pub fn range(&self, j: usize) -> std::ops::Range<usize> {
        self.colptr[j] as usize..self.colptr[j + 1] as usize
    }

    /// Rows of column `j`.
    #[inline]
    pub fn col(&self, j: usize) -> &[u32] {
        &self.rows[self.range(j)]
    }
}

/// A sparse matrix in CSR form: a [`SparsityPattern`] and one value per entry.
///
/// ```
/// use trustfit::{CsrMatrix, SparsityPattern};
/// let p = SparsityPattern::from_entries(2, 2, [(0, 0), (1, 0), (1, 1)]).unwrap();
/// let a = CsrMatrix::new(p, vec![2.0, 1.0, 3.0]).unwrap();
/// let mut y = [0.0; 2];
/// a.mul_vec(&[1.0, 1.0], &mut y);
/// assert_eq!(y, [2.0, 4.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CsrMatrix {
    pattern: SparsityPattern,
    values: Vec<f64>,
}

impl CsrMatrix {
    /// A matrix with the given structure and values (in the pattern's entry order).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `values.len() != pattern.nnz()`.
    ///
    /// ```
    /// let p = trustfit::SparsityPattern::from_entries(1, 1, [(0, 0)]).unwrap();
    /// assert!(trustfit::CsrMatrix::new(p, vec![]).is_err());
    /// ```
    pub fn new(pattern: SparsityPattern, values: Vec<f64>) -> Result<Self, Error> {
        if values.len() != pattern.nnz() {
            return Err(bad_shape(
                "The values do not match the sparsity pattern.",
                format!("({},)", pattern.nnz()),
                format!("({},)", values.len()),
            ));
        }
        Ok(Self { pattern, values })
    }

    /// The nonzero entries of a dense row-major `nrows × ncols` array (scipy's
    /// `csr_array(dense)`): explicit zeros are not stored.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `values.len() != nrows·ncols`.
    ///
    /// ```
    /// let a = trustfit::CsrMatrix::from_dense(2, 2, &[1.0, 0.0, 0.0, 3.0]).unwrap();
    /// assert_eq!((a.values(), a.pattern().nnz()), (&[1.0, 3.0][..], 2));
    /// assert!(trustfit::CsrMatrix::from_dense(2, 2, &[1.0]).is_err());
    /// ```
    pub fn from_dense(nrows: usize, ncols: usize, values: &[f64]) -> Result<Self, Error> {
        if Some(values.len()) != nrows.checked_mul(ncols) {
            return Err(bad_shape(
                "The dense array does not have nrows·ncols entries.",
                format!("({nrows}, {ncols})"),
                format!("{} entries", values.len()),
            ));
        }
        let pattern = SparsityPattern::from_dense(nrows, ncols, values);
        let nonzero = values.iter().copied().filter(|v| *v != 0.0).collect();
        Self::new(pattern, nonzero)
    }

    /// The all-zero matrix with this structure.
    ///
    /// ```
    /// let p = trustfit::SparsityPattern::from_entries(1, 2, [(0, 1)]).unwrap();
    /// assert_eq!(trustfit::CsrMatrix::zeros(p).values(), &[0.0]);
    /// ```
    pub fn zeros(pattern: SparsityPattern) -> Self {
        let values = vec![0.0; pattern.nnz()];
        Self { pattern, values }
    }

    /// Builds a matrix from `(row, column, value)` triplets; duplicates are summed.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when an index lies outside `nrows × ncols`.
    ///
    /// ```
    /// let a = trustfit::CsrMatrix::from_triplets(2, 2, &[(0, 0, 1.0), (0, 0, 2.0), (1, 1, 5.0)]).unwrap();
    /// assert_eq!(a.to_dense(), vec![3.0, 0.0, 0.0, 5.0]);
    /// ```
    pub fn from_triplets(
        nrows: usize,
        ncols: usize,
        triplets: &[(usize, usize, f64)],
    ) -> Result<Self, Error> {
        let pattern =
            SparsityPattern::from_entries(nrows, ncols, triplets.iter().map(|t| (t.0, t.1)))?;
        let mut a = Self::zeros(pattern);
        for &(i, j, v) in triplets {
            if let Some(k) = a.position(i, j) {
                a.values[k] += v;
            }
        }
        Ok(a)
    }

    /// Index into [`CsrMatrix::values`] of entry `(i, j)`, if stored.
    ///
    /// ```
    /// let a = trustfit::CsrMatrix::from_triplets(2, 2, &[(1, 0, 4.0)]).unwrap();
    /// assert_eq!((a.position(1, 0), a.position(0, 0)), (Some(0), None));
    /// ```
    pub fn position(&self, i: usize, j: usize) -> Option<usize> {
        if i >= self.pattern.nrows {
            return None;
        }
        let start = self.pattern.indptr[i];
        self.pattern
            .row(i)
            .binary_search(&j)
            .ok()
            .map(|k| start + k)
    }

    /// The structure.
    ///
    /// ```
    /// let a = trustfit::CsrMatrix::from_triplets(2, 3, &[(1, 0, 4.0)]).unwrap();
    /// assert_eq!(a.pattern().ncols(), 3);
    /// ```
    pub fn pattern(&self) -> &SparsityPattern {
        &self.pattern
    }

    /// Stored values, in the pattern's entry order.
    ///
    /// ```
    /// let a = trustfit::CsrMatrix::from_triplets(1, 2, &[(0, 1, 4.0)]).unwrap();
    /// assert_eq!(a.values(), &[4.0]);
    /// ```
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Stored values, writable (the structure stays fixed).
    ///
    /// ```
    /// let mut a = trustfit::CsrMatrix::from_triplets(1, 2, &[(0, 1, 4.0)]).unwrap();
    /// a.values_mut()[0] = 1.0;
    /// assert_eq!(a.to_dense(), vec![0.0, 1.0]);
    /// ```
    pub fn values_mut(&mut self) -> &mut [f64] {
        &mut self.values
    }

    /// The structure with the values writable: filling values row by row reads both.
    pub(crate) fn pattern_and_values_mut(&mut self) -> (&SparsityPattern, &mut [f64]) {
        (&self.pattern, &mut self.values)
    }

    /// Number of rows.
    ///
    /// ```
    /// assert_eq!(trustfit::CsrMatrix::from_triplets(3, 1, &[]).unwrap().nrows(), 3);
    /// ```
    pub fn nrows(&self) -> usize {
        self.pattern.nrows
    }

    /// Number of columns.
    ///
    /// ```
    /// assert_eq!(trustfit::CsrMatrix::from_triplets(3, 1, &[]).unwrap().ncols(), 1);
    /// ```
    pub fn ncols(&self) -> usize {
        self.pattern.ncols
    }

    /// `y = A x`.
    ///
    /// ```
    /// let a = trustfit::CsrMatrix::from_triplets(1, 2, &[(0, 0, 1.0), (0, 1, 2.0)]).unwrap();
    /// let mut y = [0.0];
    /// a.mul_vec(&[3.0, 4.0], &mut y);
    /// assert_eq!(y, [11.0]);
    /// ```
    pub fn mul_vec(&self, x: &[f64], y: &mut [f64]) {
        let p = &self.pattern;
        if p.indices32.len() == p.indices.len() {
            return self.rows_with(&p.indices32, y, |j| x[j as usize]);
        }
        self.rows_with(&p.indices, y, |j| x[j]);
    }

    /// `y[i] = Σ_k values[k]·xj(indices[k])` over row i's entries, in order.
    #[inline]
    fn rows_with<I: Copy, F: Fn(I) -> f64>(&self, indices: &[I], y: &mut [f64], xj: F) {
        let mut start = 0;
        for (yi, &end) in y.iter_mut().zip(&self.pattern.indptr[1..]) {
            let mut acc = 0.0;
            for (&j, &v) in indices[start..end].iter().zip(&self.values[start..end]) {
                acc += v * xj(j);
            }
            *yi = acc;
            start = end;
        }
    }

    /// `y = A·(d ⊙ x)` without a temporary.
    pub(crate) fn mul_vec_scaled(&self, x: &[f64], d: &[f64], y: &mut [f64]) {
        super::subnormal::check(x);
        let p = &self.pattern;
        if p.indices32.len() == p.indices.len() {
            return self.rows_with(&p.indices32, y, |j| x[j as usize] * d[j as usize]);
        }
        self.rows_with(&p.indices, y, |j| x[j] * d[j]);
    }

    /// `x = Aᵀ y`.
    ///
    /// ```
    /// let a = trustfit::CsrMatrix::from_triplets(2, 1, &[(0, 0, 1.0), (1, 0, 2.0)]).unwrap();
    /// let mut x = [0.0];
    /// a.mul_t_vec(&[3.0, 4.0], &mut x);
    /// assert_eq!(x, [11.0]);
    /// ```
    pub fn mul_t_vec(&self, y: &[f64], x: &mut [f64]) {
        let p = &self.pattern;
        x[..p.ncols].fill(0.0);
        if p.indices32.len() == p.indices.len() {
            return self.scatter_rows(&p.indices32, y, x, |j| j as usize);
        }
        self.scatter_rows(&p.indices, y, x, |j| j);
    }

    /// `x[col(indices[k])] += values[k]·y[i]` over the rows in order.
    #[inline]
    fn scatter_rows<I: Copy, F: Fn(I) -> usize>(
        &self,
        indices: &[I],
        y: &[f64],
        x: &mut [f64],
        col: F,
    ) {
        let mut start = 0;
        for (&yi, &end) in y.iter().zip(&self.pattern.indptr[1..]) {
            for (&j, &v) in indices[start..end].iter().zip(&self.values[start..end]) {
                x[col(j)] += v * yi;
            }
            start = end;
        }
    }

    /// Euclidean norm of every column.
    ///
    /// ```
    /// let a = trustfit::CsrMatrix::from_triplets(2, 2, &[(0, 0, 3.0), (1, 0, 4.0)]).unwrap();
    /// let mut norms = [0.0; 2];
    /// a.column_norms(&mut norms);
    /// assert_eq!(norms, [5.0, 0.0]);
    /// ```
    pub fn column_norms(&self, out: &mut [f64]) {
        out[..self.pattern.ncols].fill(0.0);
        for (&j, &v) in self.pattern.indices.iter().zip(&self.values) {
            out[j] += v * v;
        }
        for o in out[..self.pattern.ncols].iter_mut() {
            *o = o.sqrt();
        }
    }

    /// Multiplies row `i` by `factors[i]`.
    pub(crate) fn scale_rows(&mut self, factors: impl Fn(usize) -> f64) {
        let p = &self.pattern;
        for i in 0..p.nrows {
            let s = factors(i);
            for v in &mut self.values[p.indptr[i]..p.indptr[i + 1]] {
                *v *= s;
            }
        }
    }

    /// The dense row-major copy (for small matrices and tests).
    ///
    /// ```
    /// let a = trustfit::CsrMatrix::from_triplets(2, 2, &[(1, 0, 4.0)]).unwrap();
    /// assert_eq!(a.to_dense(), vec![0.0, 0.0, 4.0, 0.0]);
    /// ```
    pub fn to_dense(&self) -> Vec<f64> {
        let p = &self.pattern;
        let mut out = vec![0.0; p.nrows * p.ncols];
        for i in 0..p.nrows {
            for k in p.indptr[i]..p.indptr[i + 1] {
                out[i * p.ncols + p.indices[k]] = self.values[k];
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_product_matches_dense() {
        let a =
            CsrMatrix::from_triplets(3, 2, &[(0, 0, 1.0), (0, 1, -2.0), (2, 1, 0.5), (1, 0, 3.0)])
                .unwrap();
        let d = a.to_dense();
        let y = [1.0, 2.0, 3.0];
        let mut x = [0.0; 2];
        a.mul_t_vec(&y, &mut x);
        for j in 0..2 {
            let expect: f64 = (0..3).map(|i| d[i * 2 + j] * y[i]).sum();
            assert_eq!(x[j], expect);
        }
        let c = a.pattern().columns().unwrap();
        assert_eq!(c.colptr, vec![0, 2, 4]);
        assert_eq!(c.rows, vec![0, 1, 0, 2]);
    }

    #[test]
    fn from_csr_takes_canonical_rows_as_they_are() {
        let a = SparsityPattern::from_csr(3, 4, vec![0, 2, 2, 4], vec![0, 3, 1, 2]).unwrap();
        let b = SparsityPattern::from_entries(3, 4, [(0, 0), (0, 3), (2, 1), (2, 2)]).unwrap();
        assert_eq!(a, b);
        // Out of range, duplicated or unsorted: rebuilt (and checked) entry by entry.
        assert!(SparsityPattern::from_csr(1, 2, vec![0, 1], vec![2]).is_err());
        let d = SparsityPattern::from_csr(1, 3, vec![0, 3], vec![2, 0, 2]).unwrap();
        assert_eq!(d.row(0), &[0, 2]);
    }

    #[test]
    fn from_csr_rejects_bad_offsets() {
        assert!(SparsityPattern::from_csr(2, 2, vec![0, 2, 1], vec![0, 1]).is_err());
        assert!(SparsityPattern::from_csr(2, 2, vec![0, 1], vec![0]).is_err());
        assert!(SparsityPattern::from_csr(1, 2, vec![0, 1], vec![5]).is_err());
    }
}

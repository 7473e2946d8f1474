//! Cholesky factorization of a symmetric positive definite band matrix, for normal
//! equations whose nonzeros stay within a few diagonals (1-D discretisations, chains,
//! the Broyden system): `n·w²/2` flops and `n·(w+1)` storage for half-bandwidth `w`,
//! with none of a general sparse factorization's symbolic work per factorization.

/// `L` of `A = L Lᵀ`, row `i` stored as `L(i, i−w..=i)` (`w + 1` slots, diagonal last).
pub(crate) struct BandCholesky {
    n: usize,
    w: usize,
    l: Vec<f64>,
    /// `1 / L(i, i)`: the substitutions are a chain of dependent operations, and a
    /// multiply is several times shorter than a divide on it.
    inv_diag: Vec<f64>,
}

impl BandCholesky {
    /// The half-bandwidth of an upper-triangular CSC pattern (sorted rows per column).
    pub fn half_bandwidth(col_ptr: &[usize], row_idx: &[usize]) -> usize {
        (0..col_ptr.len().saturating_sub(1))
            .filter(|&j| col_ptr[j + 1] > col_ptr[j])
            .map(|j| j - row_idx[col_ptr[j]].min(j))
            .max()
            .unwrap_or(0)
    }

    /// Storage for an `n × n` matrix of half-bandwidth `w`.
    pub fn new(n: usize, w: usize) -> Self {
        Self {
            n,
            w,
            l: vec![0.0; n * (w + 1)],
            inv_diag: vec![0.0; n],
        }
    }

    /// Factors `A + αI`, `A` given by its upper triangle in CSC form; `false` when it is
    /// not numerically positive definite.
    pub fn factor(
        &mut self,
        col_ptr: &[usize],
        row_idx: &[usize],
        values: &[f64],
        alpha: f64,
    ) -> bool {
        let (n, w) = (self.n, self.w);
        let stride = w + 1;
        self.l.fill(0.0);
        // Row i of the lower triangle is column i of the upper one.
        for i in 0..n {
            for t in col_ptr[i]..col_ptr[i + 1] {
                let j = row_idx[t];
                self.l[i * stride + w + j - i] = values[t];
            }
            self.l[i * stride + w] += alpha;
        }
        for i in 0..n {
            let lo = i.saturating_sub(w);
            for j in lo..=i {
                // L(i, j) = (A(i, j) − Σ_k L(i, k) L(j, k)) / L(j, j), k ≥ max(i, j) − w.
                let k0 = lo.max(j.saturating_sub(w));
                let mut s = self.l[i * stride + w + j - i];
                for k in k0..j {
                    s -= self.l[i * stride + w + k - i] * self.l[j * stride + w + k - j];
                }
                if j == i {
                    if !(s > 0.0 && s.is_finite()) {
                        return false;
                    }
                    let d = s.sqrt();
                    self.l[i * stride + w] = d;
                    self.inv_diag[i] = 1.0 / d;
                } else {
                    self.l[i * stride + w + j - i] = s * self.inv_diag[j];
                }
            }
        }
        true
    }

    /// Solves `L Lᵀ x = b` in place.
    pub fn solve(&self, b: &mut [f64]) {
        let (n, w) = (self.n, self.w);
        let stride = w + 1;
        for i in 0..n {
            let lo = i.saturating_sub(w);
            let mut s = b[i];
            for k in lo..i {
                s -= self.l[i * stride + w + k - i] * b[k];
            }
            b[i] = s * self.inv_diag[i];
        }
        for i in (0..n).rev() {
            let hi = (i + w).min(n - 1);
            let mut s = b[i];
            for k in i + 1..=hi {
                s -= self.l[k * stride + w + i - k] * b[k];
            }
            b[i] = s * self.inv_diag[i];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_and_solves_a_pentadiagonal_system() {
        // A = tridiagonal-squared-like SPD band (w = 2), upper CSC; check A x = b.
        let n: usize = 7;
        let (mut col_ptr, mut row_idx, mut values) = (vec![0], vec![], vec![]);
        let a = |i: usize, j: usize| -> f64 {
            match i.abs_diff(j) {
                0 => 6.0 + i as f64,
                1 => -1.5,
                2 => 0.5,
                _ => 0.0,
            }
        };
        for j in 0..n {
            for i in j.saturating_sub(2)..=j {
                row_idx.push(i);
                values.push(a(i, j));
            }
            col_ptr.push(row_idx.len());
        }
        assert_eq!(BandCholesky::half_bandwidth(&col_ptr, &row_idx), 2);
        let mut band = BandCholesky::new(n, 2);
        let alpha = 0.25;
        assert!(band.factor(&col_ptr, &row_idx, &values, alpha));
        let b: Vec<f64> = (0..n).map(|i| (i as f64).sin()).collect();
        let mut x = b.clone();
        band.solve(&mut x);
        for i in 0..n {
            let ax: f64 = (0..n)
                .map(|j| (a(i, j) + if i == j { alpha } else { 0.0 }) * x[j])
                .sum();
            assert!((ax - b[i]).abs() < 1e-12, "row {i}: {ax} vs {}", b[i]);
        }
        // Indefinite after a negative shift: refused, not a NaN factor.
        assert!(!band.factor(&col_ptr, &row_idx, &values, -20.0));
    }
}

//! `LDLᵀ` factorization of a symmetric positive definite band matrix, for normal
//! equations whose nonzeros stay within a few diagonals (1-D discretisations, chains,
//! the Broyden system): `n·w²` flops and `n·(w+1)` storage for half-bandwidth `w`,
//! with none of a general sparse factorization's symbolic work.
//!
//! Why `LDLᵀ` and not `LLᵀ`: a band factorization is a chain of dependent rows, and
//! each row of `LLᵀ` waits for a square root *and* a divide; `LDLᵀ` waits for one
//! divide, which halves the time per row. Narrow bands (w ≤ 8) get a kernel with the
//! width fixed at compile time, so the inner loops are unrolled.

use super::subnormal::{check, flush};

/// Row `i` of a band matrix is stored as `(i, i−w..=i)`: `w + 1` slots, diagonal last.
/// Slots left of column 0 (the first `w` rows) are never read. Widths 1..=8 have
/// compile-time kernels.
pub(crate) struct BandLdlt {
    n: usize,
    w: usize,
    /// The factor: unit-lower `L(i, i−w..i)` in slots `0..w` of row `i`, `D(i)` in slot `w`.
    l: Vec<f64>,
    /// `1 / D(i)`: the substitutions multiply instead of dividing.
    inv_d: Vec<f64>,
}

/// `$fixed` with the constant `$k` equal to `w` when a fixed-width kernel exists
/// (1 ≤ w ≤ 8), else `$general`.
macro_rules! by_width {
    ($w:expr, |$k:ident| $fixed:expr, $general:expr) => {
        by_width!(@arms $w, $k, $fixed, $general, 1 2 3 4 5 6 7 8)
    };
    (@arms $w:expr, $k:ident, $fixed:expr, $general:expr, $($n:literal)*) => {
        match $w {
            $($n => {
                const $k: usize = $n;
                $fixed
            })*
            _ => $general,
        }
    };
}

impl BandLdlt {
    /// Storage for an `n × n` matrix of half-bandwidth `w`.
    pub fn new(n: usize, w: usize) -> Self {
        Self {
            n,
            w,
            l: vec![0.0; n * (w + 1)],
            inv_d: vec![0.0; n],
        }
    }

    /// Half-bandwidth.
    pub fn width(&self) -> usize {
        self.w
    }

    /// Length of the band storage `factor` reads (`n·(w+1)`).
    pub fn storage_len(&self) -> usize {
        self.n * (self.w + 1)
    }

    /// Index of `A(i, j)`, `j ≤ i ≤ j + w`, in the band storage.
    #[inline]
    pub fn slot(w: usize, i: usize, j: usize) -> usize {
        i * (w + 1) + w + j - i
    }

    /// Factors `A + αI`, `A` given in band storage (lower triangle by rows); `false`
    /// when it is not numerically positive definite.
    pub fn factor(&mut self, a: &[f64], alpha: f64) -> bool {
        let (n, w) = (self.n, self.w);
        let a = &a[..n * (w + 1)];
        // The first w rows reach left of column 0: the general kernel bounds them.
        let head = w.min(n);
        for i in 0..head {
            if !self.factor_row(a, alpha, i) {
                return false;
            }
        }
        by_width!(
            w,
            |W| factor_rows::<W>(a, alpha, &mut self.l, &mut self.inv_d, head),
            (head..n).all(|i| self.factor_row(a, alpha, i))
        )
    }

    /// Row `i` for any width: `L(i, c) = s_c / D(c)`, `s_c = A(i, c) − Σ_k s_k L(c, k)`,
    /// `D(i) = A(i, i) + α − Σ_c s_c L(i, c)`.
    fn factor_row(&mut self, a: &[f64], alpha: f64, i: usize) -> bool {
        let w = self.w;
        let stride = w + 1;
        let lo = i.saturating_sub(w);
        let mut s = [0.0f64; MAX_BAND_SCRATCH];
        let mut s_heap;
        let s: &mut [f64] = if w <= MAX_BAND_SCRATCH {
            &mut s[..w]
        } else {
            s_heap = vec![0.0; w];
            &mut s_heap
        };
        for c in lo..i {
            let mut v = a[i * stride + w + c - i];
            for k in lo..c {
                v -= s[k - lo] * self.l[c * stride + w + k - c];
            }
            s[c - lo] = v;
            self.l[i * stride + w + c - i] = v * self.inv_d[c];
        }
        let mut d = a[i * stride + w] + alpha;
        for c in lo..i {
            d -= s[c - lo] * self.l[i * stride + w + c - i];
        }
        store_pivot(&mut self.l[i * stride + w], &mut self.inv_d[i], d)
    }

    /// Solves `L D Lᵀ x = b` in place. Both substitutions flush subnormal results to
    /// zero: a right-hand side concentrated at the ends of a long band gives a solution
    /// that decays geometrically into subnormal noise (see [`super::subnormal`]).
    pub fn solve(&self, b: &mut [f64]) {
        let b = &mut b[..self.n];
        self.forward(b);
        self.backward(b);
        check(b);
    }

    /// `x = D⁻¹ y` then `x = L⁻ᵀ x` in place. Rows without a full band below them (the
    /// last w) go through the general loop; the rest through a fixed-width kernel.
    fn backward(&self, b: &mut [f64]) {
        let (n, w) = (self.n, self.w);
        let head = w.min(n);
        by_width!(
            w,
            |W| {
                self.backward_rows(b, (n - head..n).rev());
                backward_fixed::<W>(&self.l, &self.inv_d, b, n - head);
            },
            self.backward_rows(b, (0..n).rev())
        )
    }

    /// `y = L⁻¹ b` in place (the first w rows by the general loop).
    fn forward(&self, b: &mut [f64]) {
        let (n, w) = (self.n, self.w);
        let head = w.min(n);
        by_width!(
            w,
            |W| {
                self.forward_rows(b, 0..head);
                forward_fixed::<W>(&self.l, b, head);
            },
            self.forward_rows(b, 0..n)
        )
    }

    /// Forward substitution over `rows` (any width), terms in increasing column order
    /// (the most recent unknown last, as the fixed kernels do).
    fn forward_rows(&self, b: &mut [f64], rows: std::ops::Range<usize>) {
        let w = self.w;
        let stride = w + 1;
        for i in rows {
            let lo = i.saturating_sub(w);
            let row = &self.l[i * stride + w + lo - i..i * stride + w];
            let mut s = b[i];
            for (lk, bk) in row.iter().zip(&b[lo..i]) {
                s -= lk * bk;
            }
            b[i] = flush(s);
        }
    }

    /// `x = D⁻¹ y − L⁻ᵀ…` over `rows` in decreasing order (any width), terms from
    /// the farthest unknown to the nearest.
    fn backward_rows(&self, b: &mut [f64], rows: std::iter::Rev<std::ops::Range<usize>>) {
        let (n, w) = (self.n, self.w);
        let stride = w + 1;
        for i in rows {
            let hi = (i + w).min(n - 1);
            let mut s = b[i] * self.inv_d[i];
            for k in (i + 1..=hi).rev() {
                s -= self.l[k * stride + w + i - k] * b[k];
            }
            b[i] = flush(s);
        }
    }

    /// `pᵀ (L D Lᵀ)⁻¹ p = Σ yᵢ² / D(i)` with `y = L⁻¹ p`, one triangular sweep instead
    /// of a solve; `work` is overwritten.
    pub fn inverse_quadratic(&self, p: &[f64], work: &mut [f64]) -> f64 {
        work.copy_from_slice(p);
        self.forward(work);
        work.iter().zip(&self.inv_d).map(|(y, id)| y * y * id).sum()
    }
}

/// Scratch for a row of the general kernel; wider bands allocate (never on the
/// normal-equations path, which factors bands up to 16 wide).
const MAX_BAND_SCRATCH: usize = 16;

/// Stores pivot `d` and its inverse; `false` unless it is positive and finite.
#[inline]
fn store_pivot(slot: &mut f64, inv: &mut f64, d: f64) -> bool {
    if !(d > 0.0 && d.is_finite()) {
        return false;
    }
    *slot = d;
    *inv = 1.0 / d;
    true
}

/// Rows `from..n` of a band of width `W` (all of them at least `W` from column 0).
/// The chain from row to row is `1/D(i−1)` → `L(i, i−1)` → `D(i)` → `1/D(i)`; the
/// last inverse stays in a register instead of going through memory.
fn factor_rows<const W: usize>(
    a: &[f64],
    alpha: f64,
    l: &mut [f64],
    inv_d: &mut [f64],
    from: usize,
) -> bool {
    let stride = W + 1;
    let n = inv_d.len();
    if from < W || from >= n {
        return from >= n;
    }
    let mut last_inv = inv_d[from - 1];
    for i in from..n {
        let (before, rest) = l.split_at_mut(i * stride);
        let (Some(row), Some(a_row)) =
            (rest.get_mut(..stride), a.get(i * stride..(i + 1) * stride))
        else {
            return false;
        };
        let prev = &before[(i - W) * stride..];
        let mut s = [0.0f64; W];
        for t in 0..W {
            // Column c = i − W + t; L(c, i − W + q) sits in slot q + W − t of row c.
            let c_row = &prev[t * stride..(t + 1) * stride];
            let mut v = a_row[t];
            for q in 0..t {
                v -= s[q] * c_row[q + W - t];
            }
            s[t] = v;
            let inv = if t + 1 == W {
                last_inv
            } else {
                inv_d[i - W + t]
            };
            row[t] = v * inv;
        }
        let mut d = a_row[W] + alpha;
        for t in 0..W {
            d -= s[t] * row[t];
        }
        if !store_pivot(&mut row[W], &mut inv_d[i], d) {
            return false;
        }
        last_inv = inv_d[i];
    }
    true
}

/// Forward substitution for rows `from..` (each with a full band of width `W`); the
/// last `W` unknowns ride in registers.
fn forward_fixed<const W: usize>(l: &[f64], b: &mut [f64], from: usize) {
    let stride = W + 1;
    if from < W || from >= b.len() {
        return;
    }
    let mut win = [0.0f64; W];
    win.copy_from_slice(&b[from - W..from]);
    for (i, row) in l.chunks_exact(stride).enumerate().skip(from) {
        let Some(bi) = b.get_mut(i) else {
            return;
        };
        let mut s = *bi;
        for t in 0..W {
            s -= row[t] * win[t];
        }
        let s = flush(s);
        *bi = s;
        win.copy_within(1.., 0);
        win[W - 1] = s;
    }
}

/// Backward substitution `x(i) = y(i)/D(i) − Σ L(k, i) x(k)` for rows `0..to`, from
/// the last down (each with `W` unknowns below it), the nearest unknown last.
fn backward_fixed<const W: usize>(l: &[f64], inv_d: &[f64], b: &mut [f64], to: usize) {
    let stride = W + 1;
    let n = b.len();
    if to + W > n || to == 0 {
        return;
    }
    // win[t] = x(i + 1 + t).
    let mut win = [0.0f64; W];
    win.copy_from_slice(&b[to..to + W]);
    for i in (0..to).rev() {
        let mut s = b[i] * inv_d[i];
        for t in (0..W).rev() {
            // L(k, i) with k = i + 1 + t sits in slot W − 1 − t of row k.
            s -= l[(i + 1 + t) * stride + W - 1 - t] * win[t];
        }
        let s = flush(s);
        b[i] = s;
        win.copy_within(..W - 1, 1);
        win[0] = s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_width(n: usize, w: usize) {
        let a = |i: usize, j: usize| -> f64 {
            let d = i.abs_diff(j);
            if d == 0 {
                4.0 * w as f64 + 2.0 + (i % 3) as f64
            } else if d <= w {
                -1.0 + 0.25 * ((i + j) % 4) as f64
            } else {
                0.0
            }
        };
        let mut band = BandLdlt::new(n, w);
        let mut storage = vec![0.0; band.storage_len()];
        for i in 0..n {
            for j in i.saturating_sub(w)..=i {
                storage[BandLdlt::slot(w, i, j)] = a(i, j);
            }
        }
        let alpha = 0.25;
        assert!(band.factor(&storage, alpha), "n {n} w {w}");
        let b: Vec<f64> = (0..n).map(|i| (i as f64).sin() + 0.5).collect();
        let mut x = b.clone();
        band.solve(&mut x);
        for i in 0..n {
            let ax: f64 = (0..n)
                .map(|j| (a(i, j) + if i == j { alpha } else { 0.0 }) * x[j])
                .sum();
            assert!(
                (ax - b[i]).abs() < 1e-12,
                "n {n} w {w} row {i}: {ax} vs {}",
                b[i]
            );
        }
        let mut work = vec![0.0; n];
        let q = band.inverse_quadratic(&b, &mut work);
        let direct: f64 = b.iter().zip(&x).map(|(u, v)| u * v).sum();
        assert!(
            (q - direct).abs() <= 1e-12 * direct.abs(),
            "{q} vs {direct}"
        );
        // Indefinite after a negative shift: refused, not a NaN factor.
        assert!(!band.factor(&storage, -1e3));
    }

    #[test]
    fn factors_and_solves_every_width() {
        // Fixed kernels (1..=8), the general one (9, 12), and n at or below w.
        for w in [0, 1, 2, 3, 4, 5, 8, 9, 12] {
            for n in [1, 2, w, w + 1, 3 * w + 7] {
                if n > 0 {
                    check_width(n, w);
                }
            }
        }
    }
}

//! The covariance of fitted parameters, in one place: `(JᵀJ)⁻¹` from MINPACK's R
//! (`leastsq`'s `cov_x`) or the pseudo-inverse of `JᵀJ` from a dense J (`curve_fit` for
//! trf/dogbox, [`Report::covariance`]), then scipy's rules for pcov (scaling by the
//! residual variance, `+∞` when it cannot be estimated).

use crate::error::Error;
use crate::linalg::dense::ThinSvd;
use crate::options::EPS;
use crate::report::Report;

/// Largest m·n for which [`Report::covariance`] densifies a sparse J (400 MB).
const COVARIANCE_MAX_ENTRIES: usize = 50_000_000;

/// `(JᵀJ)⁻¹ = P R⁻¹ R⁻ᵀ Pᵀ` from MINPACK's R (column-major m×n `fjac`) and pivots
/// (spec §11.3); `None` when R is singular.
pub(super) fn cov_from_r(fjac: &[f64], ipvt: &[usize], m: usize, n: usize) -> Option<Vec<f64>> {
    let (mut scratch, mut cov) = (vec![0.0; n * n], vec![0.0; n * n]);
    cov_from_r_into((fjac, ipvt), (m, n), &mut scratch, &mut cov).then_some(cov)
}

/// [`cov_from_r`] of MINPACK's (R, pivots) of an m×n J into `cov` (n×n) with `scratch`
/// (n×n), without allocating; false when R is singular (or the inputs are too short).
pub(super) fn cov_from_r_into(
    (fjac, ipvt): (&[f64], &[usize]),
    (m, n): (usize, usize),
    scratch: &mut [f64],
    cov: &mut [f64],
) -> bool {
    if fjac.len() < m * n || ipvt.len() < n || scratch.len() < n * n || cov.len() < n * n {
        return false;
    }
    let r = |i: usize, j: usize| fjac[i + j * m];
    if (0..n).any(|j| r(j, j) == 0.0) {
        return false;
    }
    // Inverse of the upper-triangular R, column by column (back substitution), row-major.
    let rinv = scratch;
    rinv.fill(0.0);
    for col in 0..n {
        for i in (0..=col).rev() {
            let mut s = if i == col { 1.0 } else { 0.0 };
            for k in i + 1..=col {
                s -= r(i, k) * rinv[k * n + col];
            }
            rinv[i * n + col] = s / r(i, i);
        }
    }
    if rinv.iter().any(|v| !v.is_finite()) || ipvt[..n].iter().any(|&t| t >= n) {
        return false;
    }
    // (JᵀJ)⁻¹ = P R⁻¹ R⁻ᵀ Pᵀ: row i of R⁻¹ belongs to variable ipvt[i].
    for i in 0..n {
        for j in 0..n {
            let s: f64 = (0..n).map(|k| rinv[i * n + k] * rinv[j * n + k]).sum();
            cov[ipvt[i] * n + ipvt[j]] = s;
        }
    }
    true
}

/// `pinv(JᵀJ)` from a dense row-major m×n Jacobian, as scipy's `curve_fit` computes it
/// for trf/dogbox: the SVD of J, dropping singular values `≤ ε·max(m, n)·s₀`. The result
/// is row-major n×n and not yet scaled by the residual variance (see
/// [`Covariance::from_unscaled`], or [`covariance_from_jacobian`] for both steps).
///
/// # Errors
/// [`Error::ShapeMismatch`] when `jac` does not hold m·n entries;
/// [`Error::LinearAlgebra`] if the SVD fails.
///
/// ```
/// // J = diag(1, 2): JᵀJ = diag(1, 4), whose inverse is diag(1, 0.25).
/// let p = trustfit::pinv_jtj(&[1.0, 0.0, 0.0, 2.0], 2, 2).unwrap();
/// assert!((p[0] - 1.0).abs() < 1e-15 && (p[3] - 0.25).abs() < 1e-15);
/// assert_eq!((p[1], p[2]), (0.0, 0.0));
/// // A zero column: its singular value is dropped, not inverted.
/// assert_eq!(trustfit::pinv_jtj(&[1.0, 0.0, 1.0, 0.0], 2, 2).unwrap()[3], 0.0);
/// assert!(trustfit::pinv_jtj(&[1.0], 2, 2).is_err());
/// ```
pub fn pinv_jtj(jac: &[f64], m: usize, n: usize) -> Result<Vec<f64>, Error> {
    let mut cov = vec![0.0; n * n];
    PinvJtj::new(m, n).compute(jac, m, n, &mut cov)?;
    Ok(cov)
}

/// The buffers of [`pinv_jtj`], kept to compute it for many fits of one shape (the
/// batch fitter keeps one per thread).
pub(crate) struct PinvJtj {
    svd: ThinSvd,
    zeros: Vec<f64>,
    utb: Vec<f64>,
}

impl PinvJtj {
    /// Buffers for m×n Jacobians.
    pub(crate) fn new(m: usize, n: usize) -> Self {
        Self {
            svd: ThinSvd::new(m.max(n), n),
            zeros: vec![0.0; m],
            utb: vec![0.0; n.min(m)],
        }
    }

    /// [`pinv_jtj`] into `cov` (n×n) without allocating.
    pub(crate) fn compute(
        &mut self,
        jac: &[f64],
        m: usize,
        n: usize,
        cov: &mut [f64],
    ) -> Result<(), Error> {
        if Some(jac.len()) != m.checked_mul(n) || self.zeros.len() != m || cov.len() != n * n {
            return Err(Error::ShapeMismatch {
                what: "The Jacobian has the wrong number of entries.".into(),
                expected: format!("{m}·{n}"),
                got: jac.len().to_string(),
            });
        }
        let rows = m.max(n);
        let svd = &mut self.svd;
        svd.set_shape(m, n);
        for j in 0..n {
            for i in 0..m {
                svd.a[j * m + i] = jac[i * n + j];
            }
        }
        svd.factor_and_project(&self.zeros, &mut self.utb)?;
        let k = svd.k();
        let threshold = EPS * rows as f64 * svd.s.first().copied().unwrap_or(0.0);
        cov.fill(0.0);
        for l in 0..k {
            let s = svd.s[l];
            if s <= threshold {
                continue;
            }
            let col = &svd.v[l * n..(l + 1) * n];
            for a in 0..n {
                for b in 0..n {
                    cov[a * n + b] += col[a] / (s * s) * col[b];
                }
            }
        }
        Ok(())
    }
}

/// scipy's pcov rules on `(JᵀJ)⁻¹` in place: scaled by `sum_sq / (m − n)` unless
/// `absolute`, all `+∞` when it holds NaN or m ≤ n (without `absolute`). Returns
/// whether the covariance was estimated.
pub(crate) fn scale_unscaled(
    matrix: &mut [f64],
    sum_sq: f64,
    m: usize,
    n: usize,
    absolute: bool,
) -> bool {
    let mut estimated = !matrix.iter().any(|v| v.is_nan());
    if estimated && !absolute {
        if m > n {
            let s = sum_sq / (m - n) as f64;
            matrix.iter_mut().for_each(|v| *v *= s);
        } else {
            estimated = false;
        }
    }
    if !estimated {
        matrix.fill(f64::INFINITY);
    }
    estimated
}

/// scipy's `curve_fit` covariance from a dense row-major m×n Jacobian of the (weighted)
/// residuals: [`pinv_jtj`], then [`Covariance::from_unscaled`] with `sum_sq = Σ fᵢ²`.
///
/// # Errors
/// As [`pinv_jtj`].
///
/// ```
/// // y = a + b t through 4 points: the standard errors of any regression table.
/// let t = [0.0, 1.0, 2.0, 3.0];
/// let jac: Vec<f64> = t.iter().flat_map(|&t| [1.0, t]).collect();
/// let sum_sq = 0.082; // Σ residuals² of the least-squares line through (t, y)
/// let c = trustfit::covariance_from_jacobian(&jac, 4, 2, sum_sq, false).unwrap();
/// assert!(c.estimated && (c.stderr[1] - (0.082f64 / 2.0 / 5.0).sqrt()).abs() < 1e-12);
/// ```
pub fn covariance_from_jacobian(
    jac: &[f64],
    m: usize,
    n: usize,
    sum_sq: f64,
    absolute: bool,
) -> Result<Covariance, Error> {
    let unscaled = pinv_jtj(jac, m, n)?;
    Ok(Covariance::from_unscaled(
        Some(unscaled),
        sum_sq,
        m,
        n,
        absolute,
    ))
}

/// Covariance, standard errors and correlations of the fitted parameters.
///
/// ```
/// let c = trustfit::Covariance::from_unscaled(Some(vec![4.0, 1.0, 1.0, 9.0]), 0.0, 5, 2, true);
/// assert_eq!((c.stderr[0], c.stderr[1]), (2.0, 3.0));
/// assert!((c.correlation[1] - 1.0 / 6.0).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Covariance {
    /// Row-major n×n covariance (entries `+∞` when it cannot be estimated).
    pub matrix: Vec<f64>,
    /// Standard errors: square roots of the diagonal.
    pub stderr: Vec<f64>,
    /// Row-major n×n correlation matrix.
    pub correlation: Vec<f64>,
    /// True when the covariance could be estimated (scipy warns otherwise).
    pub estimated: bool,
}

impl Covariance {
    /// scipy's rules (spec §12 step 14) applied to an unscaled `(JᵀJ)⁻¹` (row-major n×n;
    /// `None` when it could not be computed, e.g. a singular R in `leastsq`): not estimated
    /// (every entry `+∞`) when missing or NaN; otherwise scaled by the residual variance
    /// `sum_sq / (m − n)` (`sum_sq = Σ fᵢ²` of the weighted residuals) unless `absolute`,
    /// and not estimated when `m ≤ n` (no degrees of freedom).
    ///
    /// ```
    /// use trustfit::Covariance;
    /// let c = Covariance::from_unscaled(Some(vec![2.0]), 3.0, 4, 1, false);
    /// assert!(c.estimated && c.matrix == [2.0 * (3.0 / 3.0)]);
    /// let exact = Covariance::from_unscaled(Some(vec![2.0]), 0.0, 1, 1, false);
    /// assert!(!exact.estimated && exact.stderr[0].is_infinite());
    /// assert!(!Covariance::from_unscaled(None, 1.0, 4, 1, true).estimated);
    /// assert!(!Covariance::from_unscaled(Some(vec![f64::NAN]), 1.0, 4, 1, true).estimated);
    /// ```
    pub fn from_unscaled(
        unscaled: Option<Vec<f64>>,
        sum_sq: f64,
        m: usize,
        n: usize,
        absolute: bool,
    ) -> Self {
        let mut matrix = match unscaled {
            Some(p) if p.len() == n * n && !p.iter().any(|v| v.is_nan()) => p,
            _ => vec![f64::NAN; n * n],
        };
        let estimated = scale_unscaled(&mut matrix, sum_sq, m, n, absolute);
        Self::from_matrix(matrix, n, estimated)
    }

    fn from_matrix(matrix: Vec<f64>, n: usize, estimated: bool) -> Self {
        let stderr: Vec<f64> = (0..n).map(|i| matrix[i * n + i].sqrt()).collect();
        let mut correlation = vec![0.0; n * n];
        for a in 0..n {
            for b in 0..n {
                correlation[a * n + b] = matrix[a * n + b] / (stderr[a] * stderr[b]);
            }
        }
        Self {
            matrix,
            stderr,
            correlation,
            estimated,
        }
    }
}

impl Report {
    /// Covariance of the solution as `curve_fit` estimates it: the pseudo-inverse of
    /// `JᵀJ`, scaled by `2·cost / (m − n)` (the residual variance) unless `absolute`
    /// (residuals already divided by known standard deviations).
    ///
    /// # Errors
    /// [`Error::LinearAlgebra`] if the SVD fails; [`Error::Unsupported`] for a
    /// matrix-free J, or a sparse J with more than 5·10⁷ entries when dense.
    ///
    /// ```
    /// // y = a + b t, fitted to 4 points: standard errors as in any regression table.
    /// let t = [0.0, 1.0, 2.0, 3.0];
    /// let y = [1.1, 2.9, 5.2, 6.8];
    /// let p = trustfit::from_fn(4, |p: &[f64], f: &mut [f64]| {
    ///     for i in 0..4 { f[i] = p[0] + p[1] * t[i] - y[i]; }
    /// });
    /// let r = trustfit::least_squares(&p, &[0.0, 0.0], &Default::default()).unwrap();
    /// let c = r.covariance(false).unwrap();
    /// assert!((c.stderr[1] - 0.09055385).abs() < 1e-7); // scipy curve_fit: 0.09055385
    /// ```
    pub fn covariance(&self, absolute: bool) -> Result<Covariance, Error> {
        let (m, n) = (self.m, self.n);
        let unsupported = |message: &str| Error::Unsupported {
            method: self.method.as_str(),
            message: message.into(),
        };
        let dense;
        let jac: &[f64] = if self.jac.len() == m * n {
            &self.jac
        } else if let Some(a) = &self.jac_sparse {
            // The dense SVD below needs m·n storage; beyond that, a sparse J's
            // covariance is a dense n×n anyway.
            if m.saturating_mul(n) > COVARIANCE_MAX_ENTRIES {
                return Err(unsupported(
                    "covariance: the sparse Jacobian is too large to densify (m·n > 5e7); compute it from `jac_sparse` with a sparse method",
                ));
            }
            dense = a.to_dense();
            &dense
        } else {
            return Err(unsupported(
                "covariance needs the Jacobian's entries, which a matrix-free Jacobian (`jacobian_products`) does not provide",
            ));
        };
        covariance_from_jacobian(jac, m, n, 2.0 * self.cost, absolute)
    }
}

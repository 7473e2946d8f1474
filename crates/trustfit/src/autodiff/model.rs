//! Residuals written once, generically over [`Real`], and [`Auto`], which makes such
//! a model a [`Residuals`] whose Jacobian is exact by forward-mode differentiation.

use crate::autodiff::dual::Dual;
use crate::autodiff::real::Real;
use crate::autodiff::seeding::{DualScratch, ScratchWidth, Seeding};
use crate::error::CallbackError;
use crate::problem::Residuals;

/// Residuals `f: Rⁿ → Rᵐ` written once for any [`Real`] scalar: evaluated at `f64` for
/// residuals and at [`Dual`] numbers for exact Jacobians (`jac = JacSpec::Auto`). Wrap
/// in [`Auto`] to solve.
///
/// ```
/// use trustfit::{Auto, AutoResiduals, CallbackError, JacSpec, Options, Real};
/// /// y = a·exp(b·t)
/// struct Decay { t: Vec<f64>, y: Vec<f64> }
/// impl AutoResiduals for Decay {
///     fn num_residuals(&self) -> usize { self.t.len() }
///     fn residuals<T: Real>(&self, p: &[T], f: &mut [T]) -> Result<(), CallbackError> {
///         for ((f, &t), &y) in f.iter_mut().zip(&self.t).zip(&self.y) {
///             *f = p[0] * (p[1] * t).exp() - y;
///         }
///         Ok(())
///     }
/// }
/// let t: Vec<f64> = (0..10).map(f64::from).collect();
/// let y = t.iter().map(|t| 3.0 * (-0.5 * t).exp()).collect();
/// let opts = Options { jac: JacSpec::Auto, ..Default::default() };
/// let r = trustfit::least_squares(&Auto(Decay { t, y }), &[1.0, 0.0], &opts).unwrap();
/// assert!((r.x[0] - 3.0).abs() < 1e-8 && (r.x[1] + 0.5).abs() < 1e-8);
/// ```
pub trait AutoResiduals {
    /// The number of residuals `m`.
    fn num_residuals(&self) -> usize;

    /// Writes `f(x)` into `f` (length `m`), for any scalar type. Write every entry:
    /// `f` holds no particular values on entry (a previous pass's, for duals).
    ///
    /// # Errors
    /// Any error the model wants to report; the solve stops and returns it.
    fn residuals<T: Real>(&self, x: &[T], f: &mut [T]) -> Result<(), CallbackError>;
}

/// A generic model ([`AutoResiduals`]) as a [`Residuals`] with forward-mode
/// derivatives, for `jac = JacSpec::Auto` (see [`AutoResiduals`] for an example).
///
/// ```
/// use trustfit::{Auto, AutoResiduals, CallbackError, Real, Residuals, Seeding};
/// struct Sq;
/// impl AutoResiduals for Sq {
///     fn num_residuals(&self) -> usize { 1 }
///     fn residuals<T: Real>(&self, x: &[T], f: &mut [T]) -> Result<(), CallbackError> {
///         f[0] = x[0] * x[1];
///         Ok(())
///     }
/// }
/// let mut j = [0.0; 2];
/// Auto(Sq).auto_derivatives(&[2.0, 5.0], &Seeding::new(&[0, 1], 2), &mut j).unwrap();
/// assert_eq!(j, [5.0, 2.0]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Auto<M>(pub M);

impl<M: AutoResiduals> Auto<M> {
    /// One pass with `N ≥ seeding.width()` directions, in the seeding's scratch
    /// buffer when it lends one, else in a fresh vector.
    fn pass<const N: usize>(
        &self,
        x: &[f64],
        seeding: &Seeding<'_>,
        out: &mut [f64],
    ) -> Result<(), CallbackError>
    where
        Dual<N>: ScratchWidth,
    {
        check_output(self.0.num_residuals(), seeding, out.len())?;
        match seeding.scratch().and_then(DualScratch::lend) {
            Some(mut buffers) => {
                let (duals, seeded) = buffers.lend_width::<N>(seeding, x.len());
                self.pass_in(x, seeding, out, duals, seeded)
            }
            None => self.pass_in::<N>(x, seeding, out, &mut Vec::new(), false),
        }
    }

    /// The pass in `duals`: the dual point, then the dual residuals, in one vector
    /// so a fresh pass allocates once. The residuals' part is not cleared (the model
    /// writes every entry, as with `f64` residuals). `seeded`: the point's
    /// derivative parts are this seeding's already, only its values are written.
    fn pass_in<const N: usize>(
        &self,
        x: &[f64],
        seeding: &Seeding<'_>,
        out: &mut [f64],
        duals: &mut Vec<Dual<N>>,
        seeded: bool,
    ) -> Result<(), CallbackError> {
        duals.resize(x.len() + self.0.num_residuals(), Dual::constant(0.0));
        let (xd, fd) = duals.split_at_mut(x.len());
        if seeded {
            for (d, &v) in xd.iter_mut().zip(x) {
                d.re = v;
            }
        } else {
            seeding.seed_slice(x, xd);
        }
        self.0.residuals(xd, fd)?;
        match seeding.entries() {
            Some(source) => gather_derivatives(fd, seeding.width(), source, out),
            None => copy_derivatives(fd, seeding.width(), out),
        }
        Ok(())
    }
}

/// The output holds `m × width` values, or one per coded entry. Inlined:
/// called across crates once per pass, where a call costs as much as a small model.
#[inline]
fn check_output(m: usize, seeding: &Seeding<'_>, len: usize) -> Result<(), CallbackError> {
    let ok = match seeding.entries() {
        Some(source) => source.len() == len,
        None => len == m * seeding.width(),
    };
    match ok {
        true => Ok(()),
        false => Err(CallbackError::new(
            "auto_derivatives: the output must hold m × width values (or one per coded entry)",
        )),
    }
}

/// Each output entry from the derivative its code names (see
/// [`Seeding::into_entries`]); entries whose direction is not below the width, or
/// whose residual does not exist, are left as they are.
fn gather_derivatives<const N: usize>(
    fd: &[Dual<N>],
    width: usize,
    source: &[u32],
    out: &mut [f64],
) {
    let width = width.min(N);
    for (o, &code) in out.iter_mut().zip(source) {
        let k = (code & Seeding::DIRECTION_MASK) as usize;
        if k < width
            && let Some(&e) = fd
                .get((code >> Seeding::DIRECTION_BITS) as usize)
                .and_then(|d| d.eps.get(k))
        {
            *o = e;
        }
    }
}

/// The first `w` derivatives of each residual into `out` (`m × w`, row-major). The
/// full width apart: a copy of `N` known at compile time is a few moves, where a
/// slice copy of run-time length `w` calls `memcpy` once per row.
fn copy_derivatives<const N: usize>(fd: &[Dual<N>], w: usize, out: &mut [f64]) {
    if w == N {
        for (row, fi) in out.chunks_exact_mut(N).zip(fd) {
            row.copy_from_slice(&fi.eps);
        }
    } else if w > 0 {
        for (row, fi) in out.chunks_exact_mut(w).zip(fd) {
            for (o, e) in row.iter_mut().zip(&fi.eps) {
                *o = *e;
            }
        }
    }
}

impl<M: AutoResiduals> Residuals for Auto<M> {
    fn num_residuals(&self) -> usize {
        self.0.num_residuals()
    }
    fn residuals(&self, x: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
        self.0.residuals(x, f)
    }
    fn has_auto(&self) -> bool {
        true
    }
    /// Dual numbers of exactly the seeding's width up to 12 (a padded direction costs
    /// as much as a used one: at n = 10, `Dual<12>` spent a sixth of its arithmetic on
    /// zeros), else 16 (one monomorphised copy of the model per width).
    fn auto_derivatives(
        &self,
        x: &[f64],
        seeding: &Seeding<'_>,
        out: &mut [f64],
    ) -> Result<(), CallbackError> {
        match seeding.width() {
            0 | 1 => self.pass::<1>(x, seeding, out),
            2 => self.pass::<2>(x, seeding, out),
            3 => self.pass::<3>(x, seeding, out),
            4 => self.pass::<4>(x, seeding, out),
            5 => self.pass::<5>(x, seeding, out),
            6 => self.pass::<6>(x, seeding, out),
            7 => self.pass::<7>(x, seeding, out),
            8 => self.pass::<8>(x, seeding, out),
            9 => self.pass::<9>(x, seeding, out),
            10 => self.pass::<10>(x, seeding, out),
            11 => self.pass::<11>(x, seeding, out),
            12 => self.pass::<12>(x, seeding, out),
            _ => self.pass::<16>(x, seeding, out),
        }
    }
}

impl<M: AutoResiduals + ?Sized> AutoResiduals for &M {
    #[inline]
    fn num_residuals(&self) -> usize {
        (**self).num_residuals()
    }
    #[inline]
    fn residuals<T: Real>(&self, x: &[T], f: &mut [T]) -> Result<(), CallbackError> {
        (**self).residuals(x, f)
    }
}

//! # trustfit — nonlinear least squares with bounds and robust losses
//!
//! Solves
//!
//! ```text
//! minimise  F(x) = ½ Σᵢ ρ(fᵢ(x)²)   subject to  lb ≤ x ≤ ub
//! ```
//!
//! for residuals `f: Rⁿ → Rᵐ`, with the behaviour of scipy 1.17's
//! `scipy.optimize.least_squares`: methods `trf` (Trust Region Reflective), `dogbox`
//! (rectangular-trust-region dogleg) and `lm` (MINPACK Levenberg–Marquardt); losses
//! `linear`, `soft_l1`, `huber`, `cauchy`, `arctan` or your own; Jacobians analytic,
//! exact by automatic differentiation ([`Auto`]), by forward/central differences or by
//! complex step; the same defaults, termination
//! rules, status codes and messages.
//!
//! ```
//! use trustfit::{least_squares, from_fn, Options, Loss};
//! // Fit y = a + b·exp(c·t) robustly.
//! let t: Vec<f64> = (0..15).map(|i| i as f64 * 10.0 / 14.0).collect();
//! let mut y: Vec<f64> = t.iter().map(|&t| 0.5 + 2.0 * (-t).exp()).collect();
//! y[3] += 2.0; // an outlier
//! let model = from_fn(t.len(), move |p: &[f64], f: &mut [f64]| {
//!     for i in 0..t.len() { f[i] = p[0] + p[1] * (p[2] * t[i]).exp() - y[i]; }
//! });
//! let opts = Options { loss: Loss::SoftL1, f_scale: 0.1, ..Default::default() };
//! let report = least_squares(&model, &[1.0, 1.0, 0.0], &opts).unwrap();
//! assert!(report.success());
//! assert!((report.x[0] - 0.5).abs() < 0.05 && (report.x[2] + 1.0).abs() < 0.1);
//! ```
#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

mod autodiff;
mod batch;
mod bounds;
mod error;
mod fit;
mod jacobian;
mod linalg;
mod lockstep;
mod loss;
mod method;
mod minpack;
mod options;
mod plan;
mod problem;
mod report;
mod solve;
mod timing;
mod verbose;
mod workspace;

pub use autodiff::dual::Dual;
pub use autodiff::model::{Auto, AutoResiduals};
pub use autodiff::real::Real;
pub use autodiff::seeding::{DualScratch, Seeding};
pub use batch::{BatchResult, FitOutcome, FitSummary, Starts, solve_batch};
pub use error::{BestPoint, CallbackError, Error, ErrorKind};
pub use fit::{
    BatchCurveFit, BatchCurveFitOptions, BatchSigma, BatchSolver, Covariance, CurveFitOptions,
    CurveFitResult, LeastsqOptions, LeastsqResult, Sigma, covariance_from_jacobian, curve_fit,
    curve_fit_batch, curve_fit_batch_lockstep, leastsq, leastsq_message, pinv_jtj,
};
pub use jacobian::groups::ColumnGrouping;
pub use linalg::sparse::{CsrMatrix, SparsityPattern};
pub use lockstep::{
    BlockModel, BlockValues, Differenced, Evaluation, LockstepOptions, PerFitModel, solve_lockstep,
};
pub use loss::loss_values;
pub use options::{
    Bounds, EPS, JacSpec, Loss, LossFn, Method, NonExhaustive, Options, TrOptions, TrSolver,
    Warning, XScale,
};
pub use problem::{
    Absent, CallbackResult, FnProblem, JacobianProducts, MaybeComplex, MaybeJacobian, Residuals,
    ThreadSafe, from_fn,
};
pub use report::{IterationSummary, Report, Status};
pub use solve::{least_squares, least_squares_with_callback};
pub use timing::Timing;
pub use verbose::{Printer, py_e};
pub use workspace::{Solution, Solver};

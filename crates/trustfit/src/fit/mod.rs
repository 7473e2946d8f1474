//! scipy's `leastsq` (MINPACK, with its outputs) and `curve_fit` (covariance of the
//! fitted parameters), built on [`least_squares`](crate::least_squares) and the MINPACK
//! port; plus the covariance of any [`Report`](crate::Report), computed in one place
//! (`covariance.rs`).

mod batch_curve_fit;
mod batch_lockstep;
mod batch_options;
mod covariance;
mod curve_fit;
mod leastsq;

pub use batch_curve_fit::curve_fit_batch;
pub use batch_lockstep::curve_fit_batch_lockstep;
pub use batch_options::{BatchCurveFit, BatchCurveFitOptions, BatchSigma, BatchSolver};
pub use covariance::{Covariance, covariance_from_jacobian, pinv_jtj};
pub use curve_fit::{CurveFitOptions, CurveFitResult, Sigma, curve_fit};
pub use leastsq::{LeastsqOptions, LeastsqResult, leastsq, leastsq_message};

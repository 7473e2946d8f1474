//! Levenberg–Marquardt (scipy's `method='lm'`): MINPACK's LMDER (placeholder until the port lands).

use crate::error::Error;
use crate::method::common::{Context, Outcome};
use crate::problem::Residuals;

/// Runs lm from `x0` with `f0 = f(x0)`.
pub(crate) fn solve<P: Residuals + ?Sized>(
    _ctx: &mut Context<'_, '_, P>,
    _x0: Vec<f64>,
    _f0: Vec<f64>,
    _diag_scale: Option<Vec<f64>>,
) -> Result<Outcome, Error> {
    Err(Error::Unsupported {
        method: "lm",
        message: "method='lm' is not implemented yet".into(),
    })
}

//! Evaluating J at a point into its storage: the problem's analytic Jacobian (dense,
//! sparse or matrix-free), or differences (dense columns, or column groups of a
//! sparsity pattern), or automatic derivatives (`jacobian::auto`), always checked for
//! finite values.

use std::sync::Arc;

use crate::error::Error;
use crate::jacobian::auto::{AutoGroups, AutoJacobian};
use crate::jacobian::finite_diff::{FdParams, FdWorkspace, dense_jacobian};
use crate::jacobian::sparse_fd::SparseFd;
use crate::jacobian::store::JacStore;
use crate::linalg::vector::all_finite;
use crate::options::{JacSpec, Method};
use crate::plan::Plan;
use crate::problem::{Residuals, eval_jacobian, eval_sparse_jacobian};

/// scipy's wording, plus what to check.
fn not_finite() -> Error {
    Error::NonFinite {
        what: "The Jacobian is not finite: check `jac`, or the residuals near x (finite differences may have left their domain).".into(),
        best: None,
    }
}

/// The buffers of Jacobian evaluation for one plan: difference workspace, column
/// groups and the worker pool. Reused across solves.
pub(crate) struct JacobianEvaluator {
    fd: FdWorkspace,
    /// Column groups when J is sparse and differenced (`jac_sparsity`).
    sparse_fd: Option<SparseFd>,
    pool: Option<rayon::ThreadPool>,
    /// Seeds and buffers of automatic derivatives (`JacSpec::Auto`).
    auto: AutoJacobian,
}

impl JacobianEvaluator {
    /// Buffers for `plan`; `sparse_fd` when J is differenced by column groups,
    /// `auto_groups` when it is differentiated by them.
    pub fn new(
        plan: &Plan,
        sparse_fd: Option<SparseFd>,
        auto_groups: Option<Arc<AutoGroups>>,
        pool: Option<rayon::ThreadPool>,
    ) -> Self {
        let fd = if !plan.jac_spec.is_differenced() {
            FdWorkspace::new(0, 0, plan.jac_spec)
        } else {
            FdWorkspace::new(plan.m, plan.n, plan.jac_spec)
        };
        Self {
            fd,
            sparse_fd,
            pool,
            auto: AutoJacobian::new(auto_groups),
        }
    }

    fn params<'x>(plan: &'x Plan, x: &'x [f64], f: &'x [f64]) -> FdParams<'x> {
        FdParams {
            scheme: plan.jac_spec,
            x,
            f0: f,
            lb: &plan.lb,
            ub: &plan.ub,
            diff_step: plan.diff_step.as_deref(),
            bounded: plan.bounded,
        }
    }

    /// Dense J at `x` (row-major m×n), `f` being the residuals at `x`.
    pub fn dense<P: Residuals + ?Sized>(
        &mut self,
        problem: &P,
        plan: &Plan,
        x: &[f64],
        f: &[f64],
        jac: &mut [f64],
    ) -> Result<(), Error> {
        if plan.jac_spec == JacSpec::Analytic {
            eval_jacobian(problem, x, jac)?;
        } else if plan.jac_spec == JacSpec::Auto {
            self.auto.dense(problem, x, jac)?;
        } else {
            let params = Self::params(plan, x, f);
            dense_jacobian(problem, &params, jac, &mut self.fd, self.pool.as_ref())?;
        }
        // lm hands J to MINPACK as scipy does, non-finite or not (MINPACK then ends
        // with a status, as in scipy); trf and dogbox refuse it.
        if plan.method != Method::Lm && !all_finite(jac) {
            return Err(not_finite());
        }
        Ok(())
    }

    /// J at `x` into whichever storage the solve uses.
    pub fn evaluate<P: Residuals + ?Sized>(
        &mut self,
        problem: &P,
        plan: &Plan,
        x: &[f64],
        f: &[f64],
        jac: &mut JacStore<'_>,
    ) -> Result<(), Error> {
        match jac {
            JacStore::Dense { data, .. } => self.dense(problem, plan, x, f, data),
            JacStore::Operator(op) => op.linearize(x),
            JacStore::Sparse(a) => {
                if plan.jac_spec == JacSpec::Analytic {
                    eval_sparse_jacobian(problem, x, a.values_mut())?;
                } else if plan.jac_spec == JacSpec::Auto {
                    self.auto.sparse(problem, x, a)?;
                } else {
                    let Some(sfd) = self.sparse_fd.as_mut() else {
                        return Err(Error::option(
                            "jac_sparsity",
                            "is needed to difference a sparse Jacobian.",
                        ));
                    };
                    let params = Self::params(plan, x, f);
                    sfd.jacobian(problem, &params, a, &mut self.fd, self.pool.as_ref())?;
                }
                if jac.has_non_finite() {
                    return Err(not_finite());
                }
                Ok(())
            }
        }
    }
}

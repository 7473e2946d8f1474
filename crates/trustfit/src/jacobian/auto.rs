//! Jacobians by forward-mode automatic differentiation (`JacSpec::Auto`): the solver's
//! side of [`Seeding`]. Dense J is seeded by chunks of at most 16 columns (one pass
//! when n ≤ 16); sparse J by chunks of 16 column groups of `jac_sparsity` (the groups
//! of sparse differences), then scattered into CSR.

use crate::autodiff::seeding::Seeding;
use crate::error::Error;
use crate::jacobian::sparse_fd::SparseFd;
use crate::linalg::sparse::CsrMatrix;
use crate::problem::{Residuals, eval_auto};

/// Seed and derivative buffers, reused across evaluations.
#[derive(Default)]
pub(crate) struct AutoJacobian {
    /// Direction of each column in the current pass ([`Seeding::NONE`] when unseeded).
    dirs: Vec<u32>,
    /// `m × w` derivatives of one pass.
    out: Vec<f64>,
}

impl AutoJacobian {
    fn reset(&mut self, n: usize) {
        self.dirs.clear();
        self.dirs.resize(n, Seeding::NONE);
    }

    /// Dense J at `x` into `jac` (row-major `m × n`).
    pub fn dense<P: Residuals + ?Sized>(
        &mut self,
        problem: &P,
        x: &[f64],
        jac: &mut [f64],
    ) -> Result<(), Error> {
        let n = x.len();
        let m = jac.len() / n.max(1);
        self.reset(n);
        if n <= Seeding::MAX_WIDTH {
            // One pass; its m × n output is J itself.
            for (j, d) in self.dirs.iter_mut().enumerate() {
                *d = j as u32;
            }
            return eval_auto(problem, x, &Seeding::new(&self.dirs, n), jac);
        }
        for c0 in (0..n).step_by(Seeding::MAX_WIDTH) {
            let w = Seeding::MAX_WIDTH.min(n - c0);
            for d in 0..w {
                self.dirs[c0 + d] = d as u32;
            }
            self.out.resize(m * w, 0.0);
            eval_auto(problem, x, &Seeding::new(&self.dirs, w), &mut self.out)?;
            for (row, derivs) in jac.chunks_exact_mut(n).zip(self.out.chunks_exact(w)) {
                row[c0..c0 + w].copy_from_slice(derivs);
            }
            self.dirs[c0..c0 + w].fill(Seeding::NONE);
        }
        Ok(())
    }

    /// Sparse J at `x` into the values of `jac`, whose pattern `groups` was built from:
    /// one pass per 16 column groups.
    pub fn sparse<P: Residuals + ?Sized>(
        &mut self,
        problem: &P,
        x: &[f64],
        groups: &SparseFd,
        jac: &mut CsrMatrix,
    ) -> Result<(), Error> {
        self.reset(x.len());
        let m = jac.nrows();
        for g0 in (0..groups.groups).step_by(Seeding::MAX_WIDTH) {
            let w = Seeding::MAX_WIDTH.min(groups.groups - g0);
            for d in 0..w {
                for &j in groups.group_cols(g0 + d) {
                    self.dirs[j as usize] = d as u32;
                }
            }
            self.out.resize(m * w, 0.0);
            eval_auto(problem, x, &Seeding::new(&self.dirs, w), &mut self.out)?;
            self.scatter(groups, g0, w, jac.values_mut());
        }
        Ok(())
    }

    /// Values of the groups `g0..g0 + w` from one pass's compressed derivatives; their
    /// columns are unseeded again.
    fn scatter(&mut self, groups: &SparseFd, g0: usize, w: usize, values: &mut [f64]) {
        let cols = groups.columns();
        for d in 0..w {
            for &j in groups.group_cols(g0 + d) {
                let r = cols.range(j as usize);
                for (&i, &e) in cols.rows[r.clone()].iter().zip(&cols.pos[r]) {
                    values[e as usize] = self.out[i as usize * w + d];
                }
                self.dirs[j as usize] = Seeding::NONE;
            }
        }
    }
}

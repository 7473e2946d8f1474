//! Variable scaling (spec §4): fixed scales, or the Jacobian's column norms, never
//! decreasing (`x_scale='jac'`).

use crate::jacobian::store::JacStore;

/// How variables are scaled during the solve (from `x_scale`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scaling {
    /// 1 for every variable (the default of trf and dogbox).
    Unit,
    /// One positive scale per variable, as given (`x_scale` values).
    Fixed(Vec<f64>),
    /// Inverse column norms of J, never decreasing.
    Jac,
    /// sparse_lm's `x_scale='jac'`: inverse column norms of the current J, computed by
    /// its strategy each iteration (the loop's scales stay 1).
    Marquardt,
}

/// The variable scales of spec §4: `scale` and `inv = 1/scale`. Buffers sized once.
pub(crate) struct VariableScale {
    pub scale: Vec<f64>,
    pub inv: Vec<f64>,
    from_jac: bool,
    col_norms: Vec<f64>,
}

impl VariableScale {
    /// Buffers for n variables (column norms only for `x_scale='jac'`).
    pub fn new(n: usize, scaling: &Scaling) -> Self {
        Self {
            scale: vec![0.0; n],
            inv: vec![0.0; n],
            from_jac: false,
            col_norms: vec![0.0; if *scaling == Scaling::Jac { n } else { 0 }],
        }
    }

    /// Initial scales from the option and the Jacobian at x0.
    pub fn reset(&mut self, scaling: &Scaling, jac: &JacStore<'_>) {
        match scaling {
            Scaling::Unit | Scaling::Marquardt => {
                self.from_jac = false;
                self.scale.fill(1.0);
                self.inv.fill(1.0);
            }
            // scipy: `scale, scale_inv = x_scale, 1 / x_scale` (scale kept exactly).
            Scaling::Fixed(scale) => {
                self.from_jac = false;
                self.scale.copy_from_slice(scale);
                for (i, s) in self.inv.iter_mut().zip(scale) {
                    *i = 1.0 / s;
                }
            }
            Scaling::Jac => {
                self.from_jac = true;
                jac.column_norms(&mut self.inv);
                for (v, s) in self.inv.iter_mut().zip(self.scale.iter_mut()) {
                    if *v == 0.0 {
                        *v = 1.0;
                    }
                    *s = 1.0 / *v;
                }
            }
        }
    }

    /// After an accepted step: `inv = max(inv, column norms of the new J)` for 'jac'.
    pub fn update(&mut self, jac: &JacStore<'_>) {
        if !self.from_jac {
            return;
        }
        jac.column_norms(&mut self.col_norms);
        for j in 0..self.inv.len() {
            self.inv[j] = self.inv[j].max(self.col_norms[j]);
            self.scale[j] = 1.0 / self.inv[j];
        }
    }
}

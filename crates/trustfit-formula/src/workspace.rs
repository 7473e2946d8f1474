//! [`Workspace`]: the scratch buffers of an evaluation, reused across calls
//! so that evaluating values and Jacobians allocates nothing once the
//! buffers have grown to the largest formula evaluated with them.

use crate::eval::BLOCK;

/// Scratch space for evaluating formulas: one per thread.
///
/// A [`Formula`](crate::Formula) is immutable and shared between threads;
/// each thread evaluates it with its own workspace. The buffers grow on first
/// use (or up front with [`Workspace::for_formula`]) to
/// `2 × instructions × 128` numbers and are then reused without allocation.
///
/// ```
/// use trustfit_formula::{Formula, Workspace};
/// let f = Formula::parse("a*t + b", &["t"]).unwrap();
/// let mut ws = Workspace::for_formula(&f);
/// let mut out = [0.0; 2];
/// f.eval(&mut ws, &[2.0, 1.0], &[&[0.0, 1.0]], &mut out).unwrap();
/// assert_eq!(out, [1.0, 3.0]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    pub(crate) values: Vec<f64>,
    pub(crate) adjoints: Vec<f64>,
}

impl Workspace {
    /// An empty workspace; it grows on first use.
    ///
    /// ```
    /// let ws = trustfit_formula::Workspace::new();
    /// assert_eq!(ws.capacity(), 0);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A workspace already large enough for `formula` (values and Jacobians).
    ///
    /// ```
    /// use trustfit_formula::{Formula, Workspace};
    /// let f = Formula::parse("a*t", &["t"]).unwrap();
    /// assert!(Workspace::for_formula(&f).capacity() >= 2 * f.num_instructions());
    /// ```
    pub fn for_formula(formula: &crate::Formula) -> Self {
        let mut ws = Self::new();
        ws.reserve(formula.num_instructions(), true);
        ws
    }

    /// The numbers held (values and adjoints), for inspecting growth.
    ///
    /// ```
    /// assert_eq!(trustfit_formula::Workspace::new().capacity(), 0);
    /// ```
    pub fn capacity(&self) -> usize {
        self.values.len() + self.adjoints.len()
    }

    /// Grows the buffers for a tape of `slots` instructions (adjoints too if asked).
    pub(crate) fn reserve(&mut self, slots: usize, adjoints: bool) {
        let need = slots * BLOCK;
        if self.values.len() < need {
            self.values.resize(need, 0.0);
        }
        // One more slot of adjoints: the zero column of unused parameters.
        if adjoints && self.adjoints.len() < need + BLOCK {
            self.adjoints.resize(need + BLOCK, 0.0);
        }
    }
}

//! Where a solve's time went: residuals, Jacobian (differences included), linear
//! algebra (the strategy's model and its subproblem), and the rest. Clock reads cost
//! ~20 ns each, so phases are timed only when an iteration costs far more than that
//! (J with at least [`TIMED_ENTRIES`] stored entries, or sparse, or matrix-free).

use std::fmt;
use std::time::{Duration, Instant};

/// Below this many entries in J (dense, m·n) phases are not timed.
pub(crate) const TIMED_ENTRIES: usize = 4096;

/// Time per phase of a trf or dogbox solve.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timing {
    /// Residual evaluations of the iteration (trial points).
    pub residuals: Duration,
    /// Jacobian evaluations (analytic, or differences with their residual calls).
    pub jacobian: Duration,
    /// The model and the trust-region subproblem (factorizations, LSMR, steps).
    pub linear_algebra: Duration,
}

impl Timing {
    /// The rest of `total`: set-up, loss scaling, gradients, bookkeeping.
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = trustfit::Timing { residuals: Duration::from_millis(2), ..Default::default() };
    /// assert_eq!(t.other(Duration::from_millis(5)), Duration::from_millis(3));
    /// ```
    pub fn other(&self, total: Duration) -> Duration {
        total.saturating_sub(self.residuals + self.jacobian + self.linear_algebra)
    }
}

impl fmt::Display for Timing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        write!(
            f,
            "residuals {:.3} ms, Jacobian {:.3} ms, linear algebra {:.3} ms",
            ms(self.residuals),
            ms(self.jacobian),
            ms(self.linear_algebra)
        )
    }
}

/// Which accumulator a timed phase adds to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Phase {
    Residuals,
    Jacobian,
    LinearAlgebra,
}

/// Accumulates phase times when enabled; a no-op otherwise.
#[derive(Debug, Default)]
pub(crate) struct Stopwatch {
    pub enabled: bool,
    pub timing: Timing,
}

impl Stopwatch {
    /// Runs `f`, adding its duration to `phase` when enabled.
    #[inline(always)]
    pub fn time<T>(&mut self, phase: Phase, f: impl FnOnce() -> T) -> T {
        if !self.enabled {
            return f();
        }
        let start = Instant::now();
        let out = f();
        let slot = match phase {
            Phase::Residuals => &mut self.timing.residuals,
            Phase::Jacobian => &mut self.timing.jacobian,
            Phase::LinearAlgebra => &mut self.timing.linear_algebra,
        };
        *slot += start.elapsed();
        out
    }
}

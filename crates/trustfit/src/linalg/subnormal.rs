//! Subnormal numbers (nonzero, below 2.2·10⁻³⁰⁸ in magnitude) kept out of the hot loops.
//!
//! Intel cores take a microcode assist of 100+ cycles on every subnormal operand (AMD
//! cores barely slow down). Recurrences whose true solution decays geometrically — the
//! band substitutions of Broyden-like systems, where the right-hand side lives near the
//! ends — otherwise fill most of a vector with subnormal noise that never reaches zero
//! (round-to-nearest keeps the smallest multiples of 2⁻¹⁰⁷⁴ alive), and every later product
//! with that vector pays the assist (on an Intel Xeon, Broyden with 'cholesky' took
//! 145–198 ns per nonzero per iteration, 19–50 ns with flush-to-zero set). A library must not
//! set the caller's flush-to-zero mode, so the kernels that create such values flush them
//! themselves: [`flush`] gives the signed zero flush-to-zero hardware would give.
//!
//! Debug builds count the subnormals that reach the checkpoints ([`check`]) per thread,
//! so tests can assert that a solve never computes on them.

/// `v`, or a zero of its sign when `v` is subnormal.
///
/// Numerically this changes nothing that matters: such a value is below every
/// tolerance by 290 orders of magnitude, and adding it to a normal number is exact
/// rounding away of it anyway.
#[inline(always)]
pub(crate) fn flush(v: f64) -> f64 {
    if v.is_subnormal() {
        0.0f64.copysign(v)
    } else {
        v
    }
}

#[cfg(debug_assertions)]
thread_local! {
    static SEEN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Debug builds: adds the number of subnormal entries of `v` to this thread's count.
#[inline]
pub(crate) fn check(v: &[f64]) {
    #[cfg(debug_assertions)]
    SEEN.with(|s| s.set(s.get() + v.iter().filter(|x| x.is_subnormal()).count()));
    #[cfg(not(debug_assertions))]
    let _ = v;
}

/// Subnormal entries seen at the checkpoints on this thread so far (counted in debug
/// builds only, so only their tests ask).
#[cfg(all(test, debug_assertions))]
pub(crate) fn seen() -> usize {
    SEEN.with(std::cell::Cell::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flush_keeps_normal_numbers_and_zeros_and_signs() {
        for v in [
            1.0,
            -2.5,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            0.0,
            f64::INFINITY,
        ] {
            assert_eq!(flush(v).to_bits(), v.to_bits());
        }
        assert!(flush(f64::NAN).is_nan());
        assert_eq!(flush(f64::MIN_POSITIVE / 4.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(flush(-5e-324).to_bits(), (-0.0f64).to_bits());
    }

    #[test]
    #[cfg(debug_assertions)]
    fn check_counts_subnormals_on_this_thread() {
        let before = seen();
        check(&[1.0, 1e-310, -4e-320, 0.0]);
        assert_eq!(seen() - before, 2);
    }

    /// Broyden tridiagonal (scipy's example), n = 10⁴, from x = −1 with `jac_sparsity`: its band normal
    /// equations made 98 % of every step subnormal before the substitutions flushed them.
    #[test]
    #[cfg(debug_assertions)]
    fn broyden_solves_compute_on_no_subnormal() {
        use crate::{Method, Options, SparsityPattern, TrSolver, least_squares, problem::from_fn};
        let n = 10_000;
        let fun = move |x: &[f64], f: &mut [f64]| {
            for i in 0..n {
                let left = if i > 0 { x[i - 1] } else { 0.0 };
                let right = if i + 1 < n { x[i + 1] } else { 0.0 };
                f[i] = (3.0 - x[i]) * x[i] + 1.0 - left - 2.0 * right;
            }
        };
        let entries =
            (0..n).flat_map(|i| [(i, i.saturating_sub(1)), (i, i), (i, (i + 1).min(n - 1))]);
        let pattern = SparsityPattern::from_entries(n, n, entries.collect::<Vec<_>>()).unwrap();
        let runs = [
            (Method::Trf, TrSolver::Cholesky),
            (Method::Trf, TrSolver::Lsmr),
            (Method::SparseLm, TrSolver::Cholesky),
        ];
        for (method, solver) in runs {
            let o = Options {
                method,
                jac_sparsity: Some(pattern.clone()),
                tr_solver: Some(solver),
                ..Options::default()
            };
            let before = seen();
            let r = least_squares(&from_fn(n, fun), &vec![-1.0; n], &o).unwrap();
            assert!(r.status.is_success(), "{solver:?}: {:?}", r.status);
            assert!(r.cost < 1e-12, "{solver:?}: cost {}", r.cost);
            assert_eq!(
                seen() - before,
                0,
                "{solver:?}: subnormal values in the solve"
            );
        }
    }
}

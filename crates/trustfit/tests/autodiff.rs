//! `JacSpec::Auto`: Jacobians by forward-mode automatic differentiation equal the
//! hand-written analytic ones (NIST models, the 53 MINPACK cases, Broyden tridiagonal
//! dense and sparse), cost
//! the same residual evaluations, and fail as a non-finite analytic Jacobian does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use trustfit::{
    Auto, AutoResiduals, CallbackError, Error, JacSpec, Options, Real, Residuals, Seeding,
    SparsityPattern, least_squares,
};
use trustfit_problems::adapter::{ProblemAdapter, SparseAdapter};
use trustfit_problems::sparse::BroydenTridiagonal;
use trustfit_problems::{TestProblem, data, minpack, nist};

/// Largest `|a − b|` over the entries, each relative to the norm of its column of `b`.
fn column_scaled_error(a: &[f64], b: &[f64], n: usize) -> f64 {
    let mut norms = vec![0.0f64; n];
    for (k, v) in b.iter().enumerate() {
        norms[k % n] += v * v;
    }
    a.iter()
        .zip(b)
        .enumerate()
        .map(|(k, (a, b))| (a - b).abs() / norms[k % n].sqrt().max(f64::MIN_POSITIVE))
        .fold(0.0, f64::max)
}

fn analytic_jacobian(p: &dyn TestProblem, x: &[f64]) -> Vec<f64> {
    let mut j = vec![0.0; p.m() * p.n()];
    p.jacobian(x, &mut j);
    j
}

/// J at `x` by forward passes over chunks of at most 16 columns, as the solver does.
fn auto_jacobian<M: AutoResiduals>(model: &M, x: &[f64]) -> Vec<f64> {
    let (m, n) = (model.num_residuals(), x.len());
    let mut j = vec![0.0; m * n];
    for start in (0..n).step_by(Seeding::MAX_WIDTH) {
        let w = (n - start).min(Seeding::MAX_WIDTH);
        let dirs: Vec<u32> = (0..n)
            .map(|k| match k.checked_sub(start) {
                Some(d) if d < w => d as u32,
                _ => Seeding::NONE,
            })
            .collect();
        let mut chunk = vec![0.0; m * w];
        Auto(model)
            .auto_derivatives(x, &Seeding::new(&dirs, w), &mut chunk)
            .unwrap();
        for (row, c) in j.chunks_exact_mut(n).zip(chunk.chunks_exact(w)) {
            row[start..start + w].copy_from_slice(c);
        }
    }
    j
}

fn opts(jac: JacSpec) -> Options {
    Options {
        jac,
        ..Default::default()
    }
}

#[test]
fn nist_auto_jacobians_equal_the_analytic_ones_at_x0_and_at_the_solution() {
    let dir = match data::nist_dir(&data::default_data_dir()) {
        Ok(d) => d,
        Err(e) => return eprintln!("skipping: {e}"),
    };
    let mut same_nfev = 0;
    let problems = nist::load_all(&dir).unwrap();
    for p in &problems {
        let x0 = p.start(0).to_vec();
        let err0 = column_scaled_error(&auto_jacobian(p, &x0), &analytic_jacobian(p, &x0), p.n());
        let auto = least_squares(&Auto(p), &x0, &opts(JacSpec::Auto)).unwrap();
        let analytic = ProblemAdapter::new(p);
        let exact = least_squares(&analytic, &x0, &opts(JacSpec::Analytic)).unwrap();
        let at_x = analytic_jacobian(p, &auto.x);
        let err1 = column_scaled_error(&auto.jac, &at_x, p.n());
        eprintln!(
            "{:10} n={} J(x0) {err0:.1e}  J(x*) {err1:.1e}  nfev auto {} analytic {}",
            p.name,
            p.n(),
            auto.nfev,
            exact.nfev
        );
        assert!(
            err0 <= 1e-13 && err1 <= 1e-13,
            "{}: {err0:e} {err1:e}",
            p.name
        );
        assert_eq!(auto.njev.is_some(), exact.njev.is_some());
        same_nfev += usize::from(auto.nfev == exact.nfev);
    }
    eprintln!("same nfev as analytic: {same_nfev} of {}", problems.len());
}

#[test]
fn minpack_auto_jacobians_equal_the_analytic_ones_at_x0_and_at_the_solution() {
    let cases = minpack::cases();
    assert!(cases.iter().all(|c| c.is_generic() && c.has_auto()));
    assert_eq!(cases.len(), 53);
    let mut same_nfev = 0;
    for c in &cases {
        let err0 = column_scaled_error(&auto_jacobian(c, &c.x0), &analytic_jacobian(c, &c.x0), c.n);
        let auto = least_squares(&Auto(c), &c.x0, &opts(JacSpec::Auto)).unwrap();
        let exact =
            least_squares(&ProblemAdapter::new(c), &c.x0, &opts(JacSpec::Analytic)).unwrap();
        let err1 = column_scaled_error(&auto.jac, &analytic_jacobian(c, &auto.x), c.n);
        eprintln!(
            "{:28} {:5} J(x0) {err0:.1e}  J(x*) {err1:.1e}  nfev auto {} analytic {}",
            c.label(),
            c.start(),
            auto.nfev,
            exact.nfev
        );
        assert!(
            err0 <= 1e-13 && err1 <= 1e-13,
            "{}: {err0:e} {err1:e}",
            c.label()
        );
        same_nfev += usize::from(auto.nfev == exact.nfev);
    }
    eprintln!("same nfev as analytic: {same_nfev} of {}", cases.len());
}

/// Helical valley on the x₂ axis (x₁ = 0), where MINPACK's angle is the constant ±1/4:
/// AD still gives atan2's derivative there, as the analytic Jacobian does.
#[test]
fn helical_valley_auto_jacobian_on_the_x2_axis() {
    let c = minpack::cases()
        .into_iter()
        .find(|c| c.name == "helical_valley")
        .unwrap();
    for x in [[0.0, 0.5, 0.3], [0.0, -2.0, 1.0], [-0.0, 1e-3, 0.0]] {
        let err = column_scaled_error(&auto_jacobian(&c, &x), &analytic_jacobian(&c, &x), 3);
        assert!(err <= 1e-15, "{x:?}: {err:e}");
    }
}

#[test]
fn dense_auto_jacobian_in_chunks_of_sixteen_columns() {
    for n in [1, 2, 15, 16, 17, 37] {
        let p = BroydenTridiagonal::new(n);
        let auto = least_squares(&Auto(p), &p.x0(), &opts(JacSpec::Auto)).unwrap();
        let exact =
            least_squares(&ProblemAdapter::new(&p), &p.x0(), &opts(JacSpec::Analytic)).unwrap();
        let err = column_scaled_error(&auto.jac, &analytic_jacobian(&p, &auto.x), n);
        assert!(err <= 1e-14, "n = {n}: {err:e}");
        assert_eq!((auto.nfev, auto.njev), (exact.nfev, exact.njev), "n = {n}");
    }
}

#[test]
fn sparse_auto_jacobian_by_column_groups_equals_the_analytic_one() {
    for n in [2, 10, 1000, 100_000] {
        let analytic = SparseAdapter::new(BroydenTridiagonal::new(n)).unwrap();
        let p = *analytic.problem();
        let o = Options {
            jac_sparsity: Some(analytic.pattern().clone()),
            ..opts(JacSpec::Auto)
        };
        let auto = least_squares(&Auto(p), &p.x0(), &o).unwrap();
        let exact = least_squares(&analytic, &p.x0(), &opts(JacSpec::Analytic)).unwrap();
        let j = auto.jac_sparse.as_ref().unwrap();
        let mut want = vec![0.0; j.values().len()];
        p.jacobian_values(&auto.x, &mut want);
        for (a, b) in j.values().iter().zip(&want) {
            assert!(
                (a - b).abs() <= 1e-14 * b.abs().max(1.0),
                "n = {n}: {a} {b}"
            );
        }
        // Largest-first grouping (scipy's random order finds 5 at n = 10⁴): three
        // directions, one pass.
        assert_eq!(auto.jac_groups, Some(n.min(3)), "n = {n}");
        assert_eq!((auto.nfev, auto.njev), (exact.nfev, exact.njev), "n = {n}");
    }
}

/// `fᵢ = Σⱼ sin(xⱼ)(j + 1)/(i + 1) + xᵢ² − 1` over the columns `j` of row `i` of a
/// pattern (each row holds its diagonal, or is empty: then `fᵢ = −1`).
struct OnPattern(Vec<Vec<usize>>);

impl AutoResiduals for OnPattern {
    fn num_residuals(&self) -> usize {
        self.0.len()
    }
    fn residuals<T: Real>(&self, x: &[T], f: &mut [T]) -> Result<(), CallbackError> {
        for (i, (fi, row)) in f.iter_mut().zip(&self.0).enumerate() {
            *fi = T::constant(-1.0);
            if !row.is_empty() {
                *fi += x[i] * x[i];
            }
            for &j in row {
                *fi += x[j].sin() * ((j + 1) as f64 / (i + 1) as f64);
            }
        }
        Ok(())
    }
}

/// The sparse J by column groups at the solution equals the dense one there, bit for
/// bit: a band of 19 columns (19 groups j mod 19, two passes of 16 and 3 directions)
/// and an arrow (column 0 in every row: no band, largest-first finds 2 groups); and
/// with every seventh row empty (rows then not delimited by their last entries), a
/// band of 19 and a tridiagonal (3 groups, one pass). Patterns of one shape in turn,
/// each solved twice: groups kept for a pattern serve its clones only.
#[test]
fn sparse_auto_jacobian_over_band_and_arrow_patterns() {
    let n = 60;
    let band = |w: usize| -> Vec<Vec<usize>> {
        (0..n)
            .map(|i: usize| (i.saturating_sub(w)..(i + w + 1).min(n)).collect())
            .collect()
    };
    let holed = |mut rows: Vec<Vec<usize>>| {
        rows.iter_mut().skip(3).step_by(7).for_each(Vec::clear);
        rows
    };
    let arrow = (0..n).map(|i| if i == 0 { vec![0] } else { vec![0, i] });
    for (rows, groups) in [
        (band(9), 19),
        (arrow.collect(), 2),
        (holed(band(9)), 19),
        (holed(band(1)), 3),
    ] {
        let entries = rows
            .iter()
            .enumerate()
            .flat_map(|(i, r)| r.iter().map(move |&j| (i, j)));
        let pattern = SparsityPattern::from_entries(n, n, entries.collect::<Vec<_>>()).unwrap();
        let model = OnPattern(rows);
        let o = Options {
            jac_sparsity: Some(pattern),
            ..opts(JacSpec::Auto)
        };
        let r = least_squares(&Auto(&model), &vec![0.1; n], &o).unwrap();
        assert_eq!(r.jac_groups, Some(groups));
        let sparse = r.jac_sparse.as_ref().unwrap().to_dense();
        assert_eq!(sparse, auto_jacobian(&model, &r.x));
        // Again with the same pattern (its groups kept from the solve before).
        let again = least_squares(&Auto(&model), &vec![0.1; n], &o).unwrap();
        assert_eq!((again.x, again.jac_groups), (r.x, r.jac_groups));
        assert_eq!(again.jac_sparse.unwrap().to_dense(), sparse);
    }
}

/// One dual scratch lent to a run of passes whose seedings change in one respect at
/// a time (point, directions, width, length, dual type, entry layout, a short pass in
/// between) gives each pass the values of a pass with fresh buffers: a pass that finds
/// its dual point seeded as it would seed it writes only the values (from 256
/// columns), and must notice any change.
#[test]
fn a_kept_dual_scratch_gives_every_pass_the_values_of_fresh_buffers() {
    let on_pattern = |n: usize| Auto(OnPattern((0..n).map(|i| vec![i, (i + 2) % n]).collect()));
    let (big, small) = (on_pattern(300), on_pattern(6));
    let scratch = trustfit::DualScratch::default();
    let point = |n: usize, a: f64| (0..n).map(|i| a + 0.01 * i as f64).collect::<Vec<f64>>();
    let (x1, x2, x_small) = (point(300, 0.1), point(300, -0.7), point(6, 0.4));
    let cycle = |base: &[u32], n: usize| base.iter().copied().cycle().take(n).collect::<Vec<_>>();
    let none = Seeding::NONE;
    let a = cycle(&[0, 1, 2, 3, 4, 5], 300);
    let b = cycle(&[5, 4, 3, 2, 1, 0], 300);
    let c = cycle(&[0, 1, 0, 1, none, 1], 300);
    let d = cycle(&[13, 0, 1, 2, 3, 4], 300);
    let flipped = [1, 0, 1, 0, 1, 0];
    let source: Vec<u32> = (0..300)
        .flat_map(|i| [Seeding::entry(i, 0).unwrap(), Seeding::entry(i, 1).unwrap()])
        .collect();
    // (model, point, directions, width, coded entries)
    type Run<'a> = (&'a Auto<OnPattern>, &'a [f64], &'a [u32], usize, bool);
    let runs: [Run; 12] = [
        (&big, &x1, &a, 6, false),
        (&big, &x2, &a, 6, false),
        (&big, &x2, &b, 6, false),
        (&big, &x2, &c, 2, false),
        (&big, &x2, &c, 2, true),
        (&big, &x1, &c, 1, false),
        (&big, &x1, &c[..299], 2, false),
        (&big, &x1, &c, 2, false),
        // A short pass (seeded whole) over the front of the same buffer.
        (&small, &x_small, &flipped, 2, false),
        (&big, &x1, &c, 2, false),
        // Widths 14 and 13 both run on 16-wide duals: only the width differs.
        (&big, &x1, &d, 14, false),
        (&big, &x1, &d, 13, false),
    ];
    for (model, x, dirs, width, coded) in runs {
        let m = x.len();
        let len = if coded { source.len() } else { m * width };
        let (mut kept, mut fresh) = (vec![7.0; len], vec![7.0; len]);
        let plain = Seeding::new(dirs, width);
        let plain = if coded {
            plain.into_entries(&source)
        } else {
            plain
        };
        model
            .auto_derivatives(x, &plain.with_scratch(&scratch), &mut kept)
            .unwrap();
        model.auto_derivatives(x, &plain, &mut fresh).unwrap();
        assert_eq!(
            kept,
            fresh,
            "m {m}, width {width}, {} directions",
            dirs.len()
        );
    }
}

/// f = (√x₀ − 1, x₁): the derivative of √x₀ at x₀ = 0 is infinite.
struct SqrtAtZero;

impl AutoResiduals for SqrtAtZero {
    fn num_residuals(&self) -> usize {
        2
    }
    fn residuals<T: Real>(&self, x: &[T], f: &mut [T]) -> Result<(), CallbackError> {
        f[0] = x[0].sqrt() - 1.0;
        f[1] = x[1];
        Ok(())
    }
}

#[test]
fn non_finite_auto_jacobian_fails_as_a_non_finite_analytic_one() {
    let analytic = trustfit::from_fn(2, |x: &[f64], f: &mut [f64]| {
        f[0] = x[0].sqrt() - 1.0;
        f[1] = x[1];
    })
    .with_jacobian(|x: &[f64], j: &mut [f64]| {
        j.copy_from_slice(&[0.5 / x[0].sqrt(), 0.0, 0.0, 1.0]);
    });
    let a = least_squares(&Auto(SqrtAtZero), &[0.0, 1.0], &opts(JacSpec::Auto)).unwrap_err();
    let b = least_squares(&analytic, &[0.0, 1.0], &opts(JacSpec::Analytic)).unwrap_err();
    assert!(matches!(a, Error::NonFinite { .. }), "{a:?}");
    assert_eq!(a.to_string(), b.to_string());
}

/// `f₀ = √x₀` falls to its bound `x₀ = 0` in one dogbox step, where `√`'s derivative
/// is infinite: the Jacobian there fails mid-solve.
struct SqrtToItsBound;

impl AutoResiduals for SqrtToItsBound {
    fn num_residuals(&self) -> usize {
        2
    }
    fn residuals<T: Real>(&self, x: &[T], f: &mut [T]) -> Result<(), CallbackError> {
        f[0] = x[0].sqrt();
        f[1] = x[1] - 1.0;
        Ok(())
    }
}

/// Mid-solve, an infinite derivative fails an automatic Jacobian as it fails the
/// hand-written one: the same error and message, the same best point kept.
#[test]
fn non_finite_auto_jacobian_mid_solve_keeps_the_best_point_as_an_analytic_one() {
    let analytic = trustfit::from_fn(2, |x: &[f64], f: &mut [f64]| {
        f[0] = x[0].sqrt();
        f[1] = x[1] - 1.0;
    })
    .with_jacobian(|x: &[f64], j: &mut [f64]| {
        j.copy_from_slice(&[0.5 / x[0].sqrt(), 0.0, 0.0, 1.0]);
    });
    let o = |jac| Options {
        method: trustfit::Method::Dogbox,
        bounds: trustfit::Bounds::new(vec![0.0, f64::NEG_INFINITY], vec![f64::INFINITY; 2]),
        ..opts(jac)
    };
    let x0 = [1.0, 3.0];
    let a = least_squares(&Auto(SqrtToItsBound), &x0, &o(JacSpec::Auto)).unwrap_err();
    let b = least_squares(&analytic, &x0, &o(JacSpec::Analytic)).unwrap_err();
    assert!(matches!(a, Error::NonFinite { .. }), "{a:?}");
    assert_eq!(a.to_string(), b.to_string());
    let (pa, pb) = (
        a.best().expect("a best point"),
        b.best().expect("a best point"),
    );
    assert_eq!(pa.x[0], 0.0, "the step reached the bound: {pa:?}");
    assert_eq!((&pa.x, pa.cost, pa.nfev), (&pb.x, pb.cost, pb.nfev));
}

#[test]
fn auto_needs_generic_residuals_and_parses_as_auto() {
    let p = trustfit::from_fn(1, |x: &[f64], f: &mut [f64]| f[0] = x[0]);
    let e = least_squares(&p, &[1.0], &opts(JacSpec::Auto)).unwrap_err();
    assert!(e.to_string().contains("'auto'"), "{e}");
    assert_eq!("auto".parse::<JacSpec>().unwrap(), JacSpec::Auto);
    assert_eq!(JacSpec::Auto.as_str(), "auto");
    let pattern = SparsityPattern::from_entries(1, 1, [(0, 0)]).unwrap();
    assert_eq!(pattern.nnz(), 1);
}

#[test]
fn lm_and_dogbox_take_auto_jacobians_as_analytic_ones() {
    use trustfit::Method;
    let case = minpack::cases()
        .into_iter()
        .find(|c| c.label() == "osborne2_n11_m65")
        .unwrap();
    for method in [Method::Lm, Method::Dogbox] {
        let o = |jac| Options {
            method,
            ..opts(jac)
        };
        let auto = least_squares(&Auto(&case), &case.x0, &o(JacSpec::Auto)).unwrap();
        let exact =
            least_squares(&ProblemAdapter::new(&case), &case.x0, &o(JacSpec::Analytic)).unwrap();
        assert_eq!(
            (auto.nfev, auto.njev),
            (exact.nfev, exact.njev),
            "{method:?}"
        );
        assert!(
            (auto.cost - exact.cost).abs() <= 1e-12 * exact.cost,
            "{method:?}"
        );
    }
}

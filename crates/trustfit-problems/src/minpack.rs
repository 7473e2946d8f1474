//! MINPACK-1 least-squares test set (Moré, Garbow & Hillstrom 1981).
//!
//! The 18 problems exercised by the MINPACK-1 `lmder` test driver, with the
//! driver's (n, m) rows and starting points. Each row runs `ntries` starts:
//! x0, then 10·x0, then 100·x0 (Watson's standard start is 0, so its scaled
//! starts are the constant vectors 10 and 100). That gives the 53 cases
//! tabulated in the MINPACK-1 user guide, returned by [`cases`] in driver
//! order.
//!
//! Written from the mathematical definitions in
//! J. J. Moré, B. S. Garbow, K. E. Hillstrom, "Testing unconstrained
//! optimization software", ACM TOMS 7 (1981) 17-41, and the "User Guide for
//! MINPACK-1", Argonne report ANL-80-74 (1980); the case table, labels,
//! published minima and reference norms are the same as in
//! `shared/bench-peers/python/problems_minpack.py` and
//! `shared/bench-peers/common/minpack_problems.h`, so results join with the
//! peer benchmarks case by case.
//!
//! Residual signs follow the MINPACK driver (`ssqfcn`); the objective is
//! `sum f_i^2`.
//!
//! ```
//! use trustfit_problems::{TestProblem, minpack};
//!
//! let cases = minpack::cases();
//! assert_eq!(cases.len(), 53);
//! let w = cases.iter().find(|c| c.label() == "watson_n9_m31" && c.start() == "10x0").unwrap();
//! assert_eq!(w.x0, vec![10.0; 9]); // Watson: constant start, not 10 * 0
//! let rel = (w.residual_norm(&w.x0) - w.ref_initial_norm).abs() / w.ref_initial_norm;
//! assert!(rel < 1e-7);
//! ```

use crate::TestProblem;
use std::f64::consts::PI;
use trustfit::{CallbackError, Real};

/// Which of the 18 problems (MINPACK numbering 1..=18 in declaration order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    LinearFullRank,
    LinearRank1,
    LinearRank1ZeroColsRows,
    Rosenbrock,
    HelicalValley,
    PowellSingular,
    FreudensteinRoth,
    Bard,
    KowalikOsborne,
    Meyer,
    Watson,
    Box3d,
    JennrichSampson,
    BrownDennis,
    Chebyquad,
    BrownAlmostLinear,
    Osborne1,
    Osborne2,
}

/// The 18 problems in MINPACK order: (problem, nprob, name).
const PROBLEMS: [(Problem, usize, &str); 18] = [
    (Problem::LinearFullRank, 1, "linear_full_rank"),
    (Problem::LinearRank1, 2, "linear_rank1"),
    (
        Problem::LinearRank1ZeroColsRows,
        3,
        "linear_rank1_zero_cols_rows",
    ),
    (Problem::Rosenbrock, 4, "rosenbrock"),
    (Problem::HelicalValley, 5, "helical_valley"),
    (Problem::PowellSingular, 6, "powell_singular"),
    (Problem::FreudensteinRoth, 7, "freudenstein_roth"),
    (Problem::Bard, 8, "bard"),
    (Problem::KowalikOsborne, 9, "kowalik_osborne"),
    (Problem::Meyer, 10, "meyer"),
    (Problem::Watson, 11, "watson"),
    (Problem::Box3d, 12, "box_3d"),
    (Problem::JennrichSampson, 13, "jennrich_sampson"),
    (Problem::BrownDennis, 14, "brown_dennis"),
    (Problem::Chebyquad, 15, "chebyquad"),
    (Problem::BrownAlmostLinear, 16, "brown_almost_linear"),
    (Problem::Osborne1, 17, "osborne1"),
    (Problem::Osborne2, 18, "osborne2"),
];

/// The (nprob, n, m, ntries) rows of the MINPACK-1 lmder test driver.
const DRIVER_ROWS: [(usize, usize, usize, usize); 28] = [
    (1, 5, 10, 1),
    (1, 5, 50, 1),
    (2, 5, 10, 1),
    (2, 5, 50, 1),
    (3, 5, 10, 1),
    (3, 5, 50, 1),
    (4, 2, 2, 3),
    (5, 3, 3, 3),
    (6, 4, 4, 3),
    (7, 2, 2, 3),
    (8, 3, 15, 3),
    (9, 4, 11, 3),
    (10, 3, 16, 2),
    (11, 6, 31, 3),
    (11, 9, 31, 3),
    (11, 12, 31, 3),
    (12, 3, 10, 1),
    (13, 2, 10, 1),
    (14, 4, 20, 3),
    (15, 1, 8, 3),
    (15, 8, 8, 1),
    (15, 9, 9, 1),
    (15, 10, 10, 1),
    (16, 10, 10, 3),
    (16, 30, 30, 1),
    (16, 40, 40, 1),
    (17, 5, 33, 1),
    (18, 11, 65, 1),
];

/// (initial ‖f‖, final ‖f‖) printed by the Fortran MINPACK `lmder1` test
/// driver (tol = √eps) for the 53 cases in order, as stored in cminpack's
/// reference output `examples/ref/lmddrv.fortran.ref` (8 significant digits).
const REFERENCE_NORMS: [(f64, f64); 53] = [
    (5.0000000e+00, 2.2360680e+00),
    (8.0622577e+00, 6.7082039e+00),
    (2.9152187e+02, 1.4638501e+00),
    (3.1016004e+03, 3.4826302e+00),
    (1.2603968e+02, 1.9097274e+00),
    (1.7489500e+03, 3.6917294e+00),
    (4.9193496e+00, 0.0),
    (1.3400631e+03, 0.0),
    (1.4300005e+05, 0.0),
    (5.0000000e+01, 9.9365231e-17),
    (1.0295630e+02, 1.0446727e-19),
    (9.9126182e+02, 3.4526556e-29),
    (1.4662878e+01, 3.3916607e-167),
    (1.2709839e+03, 3.6588477e-37),
    (1.2688790e+05, 9.3192613e-35),
    (2.0012496e+01, 6.9988752e+00),
    (1.2432834e+04, 6.9988752e+00),
    (1.1426455e+07, 6.9988752e+00),
    (6.4561363e+00, 9.0635960e-02),
    (3.6141853e+01, 4.1747687e+00),
    (3.8411468e+02, 4.1747687e+00),
    (7.2891510e-02, 1.7535838e-02),
    (2.9793701e+00, 3.2052193e-02),
    (2.9959062e+01, 1.7535838e-02),
    (4.1153467e+04, 9.3779451e+00),
    (4.1682169e+06, 7.9509584e+02),
    (5.4772256e+00, 4.7829594e-02),
    (6.4331258e+03, 4.7829594e-02),
    (6.7425604e+05, 4.7829594e-02),
    (5.4772256e+00, 1.1831146e-03),
    (1.2088127e+04, 1.1831146e-03),
    (1.2691093e+06, 1.1831146e-03),
    (5.4772256e+00, 2.1731040e-05),
    (1.9220759e+04, 2.1731040e-05),
    (2.0189180e+06, 2.1731040e-05),
    (3.2111584e+01, 2.8529818e-16),
    (6.4585650e+01, 1.1151779e+01),
    (2.8154384e+03, 2.9295429e+02),
    (5.5507335e+05, 2.9295427e+02),
    (6.1211252e+07, 2.9295431e+02),
    (1.8862380e+00, 1.8862380e+00),
    (5.3833444e+09, 1.8842482e+00),
    (1.1808873e+18, 1.8842482e+00),
    (1.9651386e-01, 5.9303236e-02),
    (1.6994993e-01, 1.2137434e-16),
    (1.8374783e-01, 8.0647100e-02),
    (1.6530216e+01, 8.6625859e-15),
    (9.7656240e+06, 5.0009355e-15),
    (9.7656250e+16, 5.3290705e-15),
    (8.3476044e+01, 1.4827859e-13),
    (1.2802636e+02, 2.0245354e-13),
    (9.3756402e-01, 7.3924926e-03),
    (1.4468654e+00, 2.0034404e-01),
];

// ---------------------------------------------------------------- data

/// The problems' data tables (Moré, Garbow & Hillstrom 1981), the one copy that the
/// MINPACK twins elsewhere (trustfit's bitwise reference problems, the scipy fixtures'
/// complex-step residuals) read.
///
/// ```
/// use trustfit_problems::minpack::data::*;
/// assert_eq!((BARD_Y.len(), KOWALIK_Y.len(), KOWALIK_U.len()), (15, 11, 11));
/// assert_eq!((MEYER_Y.len(), OSBORNE1_Y.len(), OSBORNE2_Y.len()), (16, 33, 65));
/// assert_eq!((BARD_Y[14], MEYER_Y[0], OSBORNE2_Y[64]), (4.39, 34780.0, 0.054));
/// ```
pub mod data {

    /// Bard: the observations y₁..y₁₅.
    pub const BARD_Y: [f64; 15] = [
        0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58, 0.73, 0.96, 1.34, 2.10, 4.39,
    ];
    /// Kowalik & Osborne: the observations y₁..y₁₁.
    pub const KOWALIK_Y: [f64; 11] = [
        0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627, 0.0456, 0.0342, 0.0323, 0.0235, 0.0246,
    ];
    /// Kowalik & Osborne: the abscissae u₁..u₁₁.
    pub const KOWALIK_U: [f64; 11] = [
        4.0, 2.0, 1.0, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625,
    ];
    /// Meyer: the observations y₁..y₁₆.
    pub const MEYER_Y: [f64; 16] = [
        34780.0, 28610.0, 23650.0, 19630.0, 16370.0, 13720.0, 11540.0, 9744.0, 8261.0, 7030.0,
        6005.0, 5147.0, 4427.0, 3820.0, 3307.0, 2872.0,
    ];
    /// Osborne 1: the observations y₁..y₃₃.
    pub const OSBORNE1_Y: [f64; 33] = [
        0.844, 0.908, 0.932, 0.936, 0.925, 0.908, 0.881, 0.850, 0.818, 0.784, 0.751, 0.718, 0.685,
        0.658, 0.628, 0.603, 0.580, 0.558, 0.538, 0.522, 0.506, 0.490, 0.478, 0.467, 0.457, 0.448,
        0.438, 0.431, 0.424, 0.420, 0.414, 0.411, 0.406,
    ];
    /// Osborne 2: the observations y₁..y₆₅.
    pub const OSBORNE2_Y: [f64; 65] = [
        1.366, 1.191, 1.112, 1.013, 0.991, 0.885, 0.831, 0.847, 0.786, 0.725, 0.746, 0.679, 0.608,
        0.655, 0.616, 0.606, 0.602, 0.626, 0.651, 0.724, 0.649, 0.649, 0.694, 0.644, 0.624, 0.661,
        0.612, 0.558, 0.533, 0.495, 0.500, 0.423, 0.395, 0.375, 0.372, 0.391, 0.396, 0.405, 0.428,
        0.429, 0.523, 0.562, 0.607, 0.653, 0.672, 0.708, 0.633, 0.668, 0.645, 0.632, 0.591, 0.559,
        0.597, 0.625, 0.739, 0.710, 0.729, 0.720, 0.636, 0.581, 0.428, 0.292, 0.162, 0.098, 0.054,
    ];
}

use data::{BARD_Y, KOWALIK_U, KOWALIK_Y, MEYER_Y, OSBORNE1_Y, OSBORNE2_Y};

/// Chebyquad n = 1, m = 8: local minima of `sum f^2`, not published;
/// computed by 1-D search in `problems_minpack.py` (global 3.06653 at
/// x = 0.40897 and its mirror 0.59103).
const CHEBYQUAD_1_8: [f64; 4] = [
    3.066527232398,
    3.239086001247,
    3.491482170139,
    3.550391297676,
];

// ---------------------------------------------------------------- cases

/// One of the 53 MINPACK-1 driver cases: a problem, its size and a starting point.
#[derive(Debug, Clone)]
pub struct MinpackCase {
    /// Position in MINPACK test-driver order, 1..=53.
    pub index: usize,
    /// MINPACK problem number, 1..=18.
    pub nprob: usize,
    /// Short problem name, e.g. "rosenbrock".
    pub name: &'static str,
    /// Number of parameters.
    pub n: usize,
    /// Number of residuals.
    pub m: usize,
    /// Start scaling: 1, 10 or 100.
    pub factor: f64,
    /// Starting point (standard start times `factor`; Watson: constant `factor`).
    pub x0: Vec<f64>,
    /// Published minima of `sum f^2`, best first (later ones are other local minima), if known.
    pub known_ssq: Option<Vec<f64>>,
    /// ‖f(x0)‖ printed by the MINPACK-1 driver (8 significant digits).
    pub ref_initial_norm: f64,
    /// Final ‖f‖ that MINPACK `lmder1` (tol = √eps) reached from this start.
    pub ref_final_norm: f64,
    problem: Problem,
}

impl MinpackCase {
    /// Problem label shared with the peer benchmarks: `<name>_n<n>_m<m>`, e.g. "rosenbrock_n2_m2".
    pub fn label(&self) -> String {
        format!("{}_n{}_m{}", self.name, self.n, self.m)
    }

    /// Start label: "x0", "10x0" or "100x0".
    pub fn start(&self) -> &'static str {
        if self.factor == 1.0 {
            "x0"
        } else if self.factor == 10.0 {
            "10x0"
        } else {
            "100x0"
        }
    }

    /// Class of a final `sum f^2` against this case's published minima (see [`classify_ssq`]).
    pub fn classify(&self, ssq: f64) -> SsqClass {
        classify_ssq(ssq, self.known_ssq.as_deref())
    }
}

/// Standard MINPACK starting point of `problem` with n parameters.
fn standard_start(problem: Problem, n: usize) -> Vec<f64> {
    use Problem::*;
    match problem {
        LinearFullRank | LinearRank1 | LinearRank1ZeroColsRows => vec![1.0; n],
        Rosenbrock => vec![-1.2, 1.0],
        HelicalValley => vec![-1.0, 0.0, 0.0],
        PowellSingular => vec![3.0, -1.0, 0.0, 1.0],
        FreudensteinRoth => vec![0.5, -2.0],
        Bard => vec![1.0, 1.0, 1.0],
        KowalikOsborne => vec![0.25, 0.39, 0.415, 0.39],
        Meyer => vec![0.02, 4000.0, 250.0],
        Watson => vec![0.0; n],
        Box3d => vec![0.0, 10.0, 20.0],
        JennrichSampson => vec![0.3, 0.4],
        BrownDennis => vec![25.0, 5.0, -5.0, -1.0],
        Chebyquad => (1..=n).map(|j| j as f64 / (n as f64 + 1.0)).collect(),
        BrownAlmostLinear => vec![0.5; n],
        Osborne1 => vec![0.5, 1.5, -1.0, 0.01, 0.02],
        Osborne2 => vec![1.3, 0.65, 0.65, 0.7, 0.6, 3.0, 5.0, 7.0, 2.0, 4.5, 5.5],
    }
}

/// Published minima of `sum f^2` for `problem` at size (n, m), best first.
fn known_minima(problem: Problem, n: usize, m: usize) -> Option<Vec<f64>> {
    use Problem::*;
    let mf = m as f64;
    Some(match problem {
        LinearFullRank => vec![(m - n) as f64],
        LinearRank1 => vec![mf * (mf - 1.0) / (2.0 * (2.0 * mf + 1.0))],
        LinearRank1ZeroColsRows => vec![(mf * mf + 3.0 * mf - 6.0) / (2.0 * (2.0 * mf - 3.0))],
        Rosenbrock | HelicalValley | PowellSingular => vec![0.0],
        // global 0 at (5, 4); local 48.9842... at (11.41, -0.8968)
        FreudensteinRoth => vec![0.0, 48.9842536792],
        // also 17.4286 at (0.8406, -inf, -inf)
        Bard => vec![8.21487e-3, 17.4286],
        // also 1.02734e-3 at (+inf, -14.07, -inf, -inf)
        KowalikOsborne => vec![3.07505e-4, 1.02734e-3],
        Meyer => vec![87.9458],
        Watson => match n {
            6 => vec![2.28767e-3],
            9 => vec![1.39976e-6],
            12 => vec![4.72238e-10],
            _ => return None,
        },
        // 0 at (1, 10, 1), (10, 1, -1) and wherever x1 = x2, x3 = 0
        Box3d => vec![0.0],
        JennrichSampson if m == 10 => vec![124.362],
        BrownDennis if m == 20 => vec![85822.2],
        JennrichSampson | BrownDennis => return None,
        Chebyquad => match (n, m) {
            (1, 8) => CHEBYQUAD_1_8.to_vec(),
            (8, 8) => vec![3.51687e-3],
            (9, 9) => vec![0.0],
            (10, 10) => vec![6.50395e-3],
            _ => return None,
        },
        // 0 at (a, ..., a, a^(1-n)); also 1 at (0, ..., 0, n+1)
        BrownAlmostLinear => vec![0.0, 1.0],
        Osborne1 => vec![5.46489e-5],
        Osborne2 => vec![4.01377e-2],
    })
}

/// All 53 cases of the MINPACK-1 lmder test driver, in driver order (as `problems_minpack.cases()`).
pub fn cases() -> Vec<MinpackCase> {
    let mut out = Vec::with_capacity(REFERENCE_NORMS.len());
    for &(nprob, n, m, ntries) in &DRIVER_ROWS {
        let (problem, _, name) = PROBLEMS[nprob - 1];
        let mut factor = 1.0;
        for _ in 0..ntries {
            let (ref_initial_norm, ref_final_norm) = REFERENCE_NORMS[out.len()];
            let x0 = if factor == 1.0 {
                standard_start(problem, n)
            } else if problem == Problem::Watson {
                // Watson's standard start is 0: the driver uses the constant vector instead.
                vec![factor; n]
            } else {
                standard_start(problem, n)
                    .into_iter()
                    .map(|v| factor * v)
                    .collect()
            };
            out.push(MinpackCase {
                index: out.len() + 1,
                nprob,
                name,
                n,
                m,
                factor,
                x0,
                known_ssq: known_minima(problem, n, m),
                ref_initial_norm,
                ref_final_norm,
                problem,
            });
            factor *= 10.0;
        }
    }
    out
}

// ---------------------------------------------------------------- classification

/// Relative tolerance of [`classify_ssq`]: published minima carry about 6 significant digits.
pub const SSQ_RTOL: f64 = 1e-4;
/// Absolute tolerance of [`classify_ssq`], for minima that are exactly 0.
pub const SSQ_ATOL: f64 = 1e-10;

/// How a final `sum f^2` compares with a case's published minima.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SsqClass {
    /// At or below the best published minimum (within tolerance).
    Global,
    /// Matches one of the other published (local) minima.
    Local,
    /// Matches none of the published minima.
    Other,
    /// No minimum is published for this (n, m).
    Unknown,
}

named!(
    /// Lower-case name as in `problems_minpack.classify_ssq`: "global", "local", "other", "unknown".
    SsqClass {
        Global => "global",
        Local => "local",
        Other => "other",
        Unknown => "unknown",
    }
);

/// Classify `ssq` against published minima `known` (best first), with [`SSQ_RTOL`] and [`SSQ_ATOL`].
///
/// Same rule as `problems_minpack.classify_ssq`: `Global` if
/// `ssq <= known[0]·(1 + rtol) + atol` (reaching *below* the best published
/// value counts as global), else `Local` if `|ssq − v| <= rtol·|v| + atol`
/// for a later `v`, else `Other`; `Unknown` when nothing is published
/// (`None`, or an empty slice). A NaN `ssq` is `Other`.
///
/// ```
/// use trustfit_problems::minpack::{classify_ssq, SsqClass};
/// let bard = [8.21487e-3, 17.4286];
/// assert_eq!(classify_ssq(8.214877e-3, Some(&bard)), SsqClass::Global);
/// assert_eq!(classify_ssq(17.4287, Some(&bard)), SsqClass::Local);
/// assert_eq!(classify_ssq(1.0, Some(&bard)), SsqClass::Other);
/// assert_eq!(classify_ssq(1.0, None), SsqClass::Unknown);
/// ```
pub fn classify_ssq(ssq: f64, known: Option<&[f64]>) -> SsqClass {
    classify_ssq_with(ssq, known, SSQ_RTOL, SSQ_ATOL)
}

/// [`classify_ssq`] with explicit relative and absolute tolerances.
pub fn classify_ssq_with(ssq: f64, known: Option<&[f64]>, rtol: f64, atol: f64) -> SsqClass {
    let Some((&best, others)) = known.and_then(|k| k.split_first()) else {
        return SsqClass::Unknown;
    };
    if ssq <= best * (1.0 + rtol) + atol {
        return SsqClass::Global;
    }
    if others
        .iter()
        .any(|&v| (ssq - v).abs() <= rtol * v.abs() + atol)
    {
        return SsqClass::Local;
    }
    SsqClass::Other
}

// ---------------------------------------------------------------- residuals

impl MinpackCase {
    /// True: all 18 problems are written generically, so [`trustfit::AutoResiduals`]
    /// gives exact Jacobians for every case (kept for callers that filtered on it).
    ///
    /// ```
    /// assert!(trustfit_problems::minpack::cases().iter().all(|c| c.is_generic()));
    /// ```
    pub fn is_generic(&self) -> bool {
        true
    }
}

/// The residuals written once over [`Real`]: `f64` values, exact dual Jacobians.
impl trustfit::AutoResiduals for MinpackCase {
    fn num_residuals(&self) -> usize {
        self.m
    }

    fn residuals<T: Real>(&self, x: &[T], f: &mut [T]) -> Result<(), CallbackError> {
        generic_residuals(self.problem, x, f);
        Ok(())
    }
}

impl TestProblem for MinpackCase {
    fn n(&self) -> usize {
        self.n
    }

    fn m(&self) -> usize {
        self.m
    }

    fn residuals(&self, x: &[f64], f: &mut [f64]) {
        generic_residuals(self.problem, x, f);
    }

    fn jacobian(&self, x: &[f64], jac: &mut [f64]) {
        jacobian(self.problem, self.m, x, jac);
    }

    fn has_auto(&self) -> bool {
        true
    }

    fn auto_derivatives(
        &self,
        x: &[f64],
        seeding: &trustfit::Seeding<'_>,
        out: &mut [f64],
    ) -> Option<Result<(), CallbackError>> {
        use trustfit::Residuals;
        Some(trustfit::Auto(self).auto_derivatives(x, seeding, out))
    }
}

/// Helical valley angle θ(x1, x2) in turns, as in the MINPACK driver. On the x2 axis
/// (x1 = 0, x2 ≠ 0 finite) the value is MINPACK's ±0.25 and the derivative atan2's,
/// `(−1/(2π x2), 0)`, carried by a term whose value is ±0 (so f64 values are unchanged).
fn helical_theta<T: Real>(x1: T, x2: T) -> T {
    let tpi = 2.0 * PI;
    let (a, b) = (x1.value(), x2.value());
    if a > 0.0 {
        (x2 / x1).atan() / tpi
    } else if a < 0.0 {
        (x2 / x1).atan() / tpi + 0.5
    } else {
        let quarter = T::constant(if b >= 0.0 { 0.25 } else { -0.25 }); // sign(0.25, x2)
        if a == 0.0 && b != 0.0 && b.is_finite() {
            quarter - x1 / (x2 * tpi)
        } else {
            quarter
        }
    }
}

/// `Σ v` as `Iterator::sum` on `f64` computes it (from −0.0, left to right).
fn sum<T: Real>(v: impl Iterator<Item = T>) -> T {
    v.fold(T::constant(-0.0), |s, x| s + x)
}

/// Bard's (u, v, w) for 0-based row i: u = i + 1, v = 16 − u, w = min(u, v).
fn bard_uvw(i: usize) -> (f64, f64, f64) {
    let u = i as f64 + 1.0;
    let v = 16.0 - u;
    (u, v, u.min(v))
}

/// The 18 problems written once over [`Real`] (`f64` residuals, exact dual Jacobians
/// with `JacSpec::Auto`), with the operations of the closed forms in the same order.
fn generic_residuals<T: Real>(problem: Problem, x: &[T], f: &mut [T]) {
    use Problem::*;
    let c = T::constant;
    match problem {
        Rosenbrock => {
            f[0] = (x[1] - x[0] * x[0]) * 10.0;
            f[1] = c(1.0) - x[0];
        }
        HelicalValley => {
            let th = helical_theta(x[0], x[1]);
            let r = x[0].hypot(x[1]);
            f[0] = (x[2] - th * 10.0) * 10.0;
            f[1] = (r - 1.0) * 10.0;
            f[2] = x[2];
        }
        PowellSingular => {
            f[0] = x[0] + x[1] * 10.0;
            f[1] = (x[2] - x[3]) * 5.0_f64.sqrt();
            f[2] = (x[1] - x[2] * 2.0).powi(2);
            f[3] = (x[0] - x[3]).powi(2) * 10.0_f64.sqrt();
        }
        FreudensteinRoth => {
            let x2 = x[1];
            f[0] = c(-13.0) + x[0] + ((c(5.0) - x2) * x2 - 2.0) * x2;
            f[1] = c(-29.0) + x[0] + ((x2 + 1.0) * x2 - 14.0) * x2;
        }
        Bard => {
            for (i, fi) in f.iter_mut().enumerate() {
                let (u, v, w) = bard_uvw(i);
                *fi = c(BARD_Y[i]) - (x[0] + c(u) / (x[1] * v + x[2] * w));
            }
        }
        KowalikOsborne => {
            for (i, fi) in f.iter_mut().enumerate() {
                let u = KOWALIK_U[i];
                *fi = c(KOWALIK_Y[i]) - x[0] * ((x[1] + u) * u) / ((x[2] + u) * u + x[3]);
            }
        }
        Meyer => {
            for (i, fi) in f.iter_mut().enumerate() {
                let t = 45.0 + 5.0 * (i as f64 + 1.0);
                *fi = x[0] * (x[1] / (x[2] + t)).exp() - MEYER_Y[i];
            }
        }
        Watson | Chebyquad => generic_series(problem, x, f),
        LinearFullRank | LinearRank1 | LinearRank1ZeroColsRows | BrownAlmostLinear => {
            generic_linear(problem, x, f)
        }
        Box3d | JennrichSampson | BrownDennis | Osborne1 | Osborne2 => {
            generic_exponentials(problem, x, f)
        }
    }
}

/// The linear problems and Brown almost-linear of [`generic_residuals`].
fn generic_linear<T: Real>(problem: Problem, x: &[T], f: &mut [T]) {
    use Problem::*;
    let (n, m) = (x.len(), f.len());
    match problem {
        LinearFullRank => {
            let c = sum(x.iter().copied()) * -2.0 / m as f64 - 1.0;
            for (i, fi) in f.iter_mut().enumerate() {
                *fi = if i < n { c + x[i] } else { c + 0.0 };
            }
        }
        LinearRank1 => {
            let s = sum(x.iter().enumerate().map(|(j, &v)| v * (j as f64 + 1.0)));
            for (i, fi) in f.iter_mut().enumerate() {
                *fi = s * (i as f64 + 1.0) - 1.0;
            }
        }
        LinearRank1ZeroColsRows => {
            // columns 2..n-1 (1-based) enter, with weight j
            let s = sum((1..n - 1).map(|j| x[j] * (j as f64 + 1.0)));
            for (i, fi) in f.iter_mut().enumerate() {
                *fi = s * i as f64 - 1.0;
            }
            f[m - 1] = T::constant(-1.0);
        }
        _ => {
            // Brown almost-linear
            let s = sum(x.iter().copied());
            for i in 0..n - 1 {
                f[i] = x[i] + s - (n as f64 + 1.0);
            }
            f[n - 1] = x.iter().fold(T::constant(1.0), |p, &v| p * v) - 1.0;
        }
    }
}

/// Watson's and Chebyquad's polynomial series of [`generic_residuals`].
fn generic_series<T: Real>(problem: Problem, x: &[T], f: &mut [T]) {
    let n = x.len();
    let zero = T::constant(0.0);
    if problem == Problem::Watson {
        for (i, fi) in f.iter_mut().take(29).enumerate() {
            let t = (i as f64 + 1.0) / 29.0;
            // s1 = sum_{j>=1} j x_j t^(j-1), s2 = sum_j x_j t^j
            let (mut s1, mut s2, mut p) = (zero, zero, 1.0);
            for j in 0..n {
                if j + 1 < n {
                    s1 += x[j + 1] * (j as f64 + 1.0) * p;
                }
                s2 += x[j] * p;
                p *= t;
            }
            *fi = s1 - s2 * s2 - 1.0;
        }
        f[29] = x[0];
        f[30] = x[1] - x[0] * x[0] - 1.0;
        return;
    }
    // Chebyquad: f_i = mean_j T_i(2 x_j - 1) - integral_0^1 T_i(2s - 1) ds
    f.fill(zero);
    for &xj in x {
        let y = xj * 2.0 - 1.0;
        let (mut t_prev, mut t) = (T::constant(1.0), y);
        for fi in f.iter_mut() {
            *fi += t;
            let t_next = y * 2.0 * t - t_prev;
            t_prev = t;
            t = t_next;
        }
    }
    for (i, fi) in f.iter_mut().enumerate() {
        *fi = *fi / n as f64;
        let k = i as f64 + 1.0;
        if (i + 1) % 2 == 0 {
            *fi = *fi + 1.0 / (k * k - 1.0);
        }
    }
}

/// The exponential-fitting problems of [`generic_residuals`].
fn generic_exponentials<T: Real>(problem: Problem, x: &[T], f: &mut [T]) {
    use Problem::*;
    let c = T::constant;
    for (i, fi) in f.iter_mut().enumerate() {
        *fi = match problem {
            Box3d => {
                let t = 0.1 * (i as f64 + 1.0);
                (x[0] * -t).exp() - (x[1] * -t).exp() - x[2] * ((-t).exp() - (-10.0 * t).exp())
            }
            JennrichSampson => {
                let t = i as f64 + 1.0;
                c(2.0 + 2.0 * t) - ((x[0] * t).exp() + (x[1] * t).exp())
            }
            BrownDennis => {
                let t = (i as f64 + 1.0) / 5.0;
                let a = x[0] + x[1] * t - t.exp();
                let b = x[2] + x[3] * t.sin() - t.cos();
                a * a + b * b
            }
            Osborne1 => {
                let t = 10.0 * i as f64;
                c(OSBORNE1_Y[i]) - (x[0] + x[1] * (x[3] * -t).exp() + x[2] * (x[4] * -t).exp())
            }
            Osborne2 => {
                let t = i as f64 / 10.0;
                let (d2, d3, d4) = (c(t) - x[8], c(t) - x[9], c(t) - x[10]);
                c(OSBORNE2_Y[i])
                    - (x[0] * (x[4] * -t).exp()
                        + x[1] * (-d2 * d2 * x[5]).exp()
                        + x[2] * (-d3 * d3 * x[6]).exp()
                        + x[3] * (-d4 * d4 * x[7]).exp())
            }
            _ => return, // not routed here by generic_residuals
        };
    }
}

// ---------------------------------------------------------------- Jacobians

fn jacobian(problem: Problem, m: usize, x: &[f64], jac: &mut [f64]) {
    use Problem::*;
    let n = x.len();
    // row i of the row-major Jacobian
    macro_rules! row {
        ($i:expr) => {
            jac[$i * n..($i + 1) * n]
        };
    }
    match problem {
        LinearFullRank => {
            for i in 0..m {
                for j in 0..n {
                    row!(i)[j] = -2.0 / m as f64 + if i == j { 1.0 } else { 0.0 };
                }
            }
        }
        LinearRank1 => {
            for i in 0..m {
                for j in 0..n {
                    row!(i)[j] = (i as f64 + 1.0) * (j as f64 + 1.0);
                }
            }
        }
        LinearRank1ZeroColsRows => {
            for i in 0..m {
                for j in 0..n {
                    let interior = i > 0 && i < m - 1 && j > 0 && j < n - 1;
                    row!(i)[j] = if interior {
                        i as f64 * (j as f64 + 1.0)
                    } else {
                        0.0
                    };
                }
            }
        }
        Rosenbrock => {
            row!(0).copy_from_slice(&[-20.0 * x[0], 10.0]);
            row!(1).copy_from_slice(&[-1.0, 0.0]);
        }
        HelicalValley => {
            let tpi = 2.0 * PI;
            let r2 = x[0] * x[0] + x[1] * x[1];
            let r = r2.sqrt();
            row!(0).copy_from_slice(&[100.0 * x[1] / (tpi * r2), -100.0 * x[0] / (tpi * r2), 10.0]);
            row!(1).copy_from_slice(&[10.0 * x[0] / r, 10.0 * x[1] / r, 0.0]);
            row!(2).copy_from_slice(&[0.0, 0.0, 1.0]);
        }
        PowellSingular => {
            let (s5, s10) = (5.0_f64.sqrt(), 10.0_f64.sqrt());
            let a = x[1] - 2.0 * x[2];
            let b = x[0] - x[3];
            row!(0).copy_from_slice(&[1.0, 10.0, 0.0, 0.0]);
            row!(1).copy_from_slice(&[0.0, 0.0, s5, -s5]);
            row!(2).copy_from_slice(&[0.0, 2.0 * a, -4.0 * a, 0.0]);
            row!(3).copy_from_slice(&[2.0 * s10 * b, 0.0, 0.0, -2.0 * s10 * b]);
        }
        FreudensteinRoth => {
            let x2 = x[1];
            row!(0).copy_from_slice(&[1.0, x2 * (10.0 - 3.0 * x2) - 2.0]);
            row!(1).copy_from_slice(&[1.0, x2 * (3.0 * x2 + 2.0) - 14.0]);
        }
        Bard => {
            for i in 0..m {
                let (u, v, w) = bard_uvw(i);
                let d = v * x[1] + w * x[2];
                let d2 = d * d;
                row!(i).copy_from_slice(&[-1.0, u * v / d2, u * w / d2]);
            }
        }
        KowalikOsborne => {
            for i in 0..m {
                let u = KOWALIK_U[i];
                let num = u * (u + x[1]);
                let den = u * (u + x[2]) + x[3];
                let den2 = den * den;
                row!(i).copy_from_slice(&[
                    -num / den,
                    -x[0] * u / den,
                    x[0] * num * u / den2,
                    x[0] * num / den2,
                ]);
            }
        }
        Meyer => {
            for i in 0..m {
                let d = 45.0 + 5.0 * (i as f64 + 1.0) + x[2];
                let e = (x[1] / d).exp();
                row!(i).copy_from_slice(&[e, x[0] * e / d, -x[0] * x[1] * e / (d * d)]);
            }
        }
        Watson => {
            for i in 0..29 {
                let t = (i as f64 + 1.0) / 29.0;
                let mut s2 = 0.0;
                let mut p = 1.0;
                for &xj in x {
                    s2 += xj * p;
                    p *= t;
                }
                // d f_i / d x_j = j t^(j-1) - 2 s2 t^j
                let mut p_prev = 0.0; // t^(j-1), with the j = 0 term unused
                let mut p = 1.0; // t^j
                for j in 0..n {
                    row!(i)[j] = j as f64 * p_prev - 2.0 * s2 * p;
                    p_prev = p;
                    p *= t;
                }
            }
            row!(29).fill(0.0);
            row!(30).fill(0.0);
            row!(29)[0] = 1.0;
            row!(30)[0] = -2.0 * x[0];
            row!(30)[1] = 1.0;
        }
        Box3d => {
            for i in 0..m {
                let t = 0.1 * (i as f64 + 1.0);
                row!(i).copy_from_slice(&[
                    -t * (-t * x[0]).exp(),
                    t * (-t * x[1]).exp(),
                    -((-t).exp() - (-10.0 * t).exp()),
                ]);
            }
        }
        JennrichSampson => {
            for i in 0..m {
                let t = i as f64 + 1.0;
                row!(i).copy_from_slice(&[-t * (t * x[0]).exp(), -t * (t * x[1]).exp()]);
            }
        }
        BrownDennis => {
            for i in 0..m {
                let t = (i as f64 + 1.0) / 5.0;
                let s = t.sin();
                let a = x[0] + t * x[1] - t.exp();
                let b = x[2] + x[3] * s - t.cos();
                row!(i).copy_from_slice(&[2.0 * a, 2.0 * a * t, 2.0 * b, 2.0 * b * s]);
            }
        }
        Chebyquad => {
            // d f_i / d x_j = (2/n) T_i'(2 x_j - 1), with
            // T'_{k+1} = 2 T_k + 2 y T'_k - T'_{k-1}
            for j in 0..n {
                let y = 2.0 * x[j] - 1.0;
                let (mut t_prev, mut t) = (1.0, y);
                let (mut d_prev, mut d) = (0.0, 1.0);
                for i in 0..m {
                    row!(i)[j] = 2.0 * d / n as f64;
                    let t_next = 2.0 * y * t - t_prev;
                    let d_next = 2.0 * t + 2.0 * y * d - d_prev;
                    t_prev = t;
                    t = t_next;
                    d_prev = d;
                    d = d_next;
                }
            }
        }
        BrownAlmostLinear => {
            for i in 0..n - 1 {
                for j in 0..n {
                    row!(i)[j] = if i == j { 2.0 } else { 1.0 };
                }
            }
            // product of all x_k except x_j, by prefix/suffix products (no division, so zeros are fine)
            let last = n - 1;
            let mut left = 1.0;
            for j in 0..n {
                row!(last)[j] = left;
                left *= x[j];
            }
            let mut right = 1.0;
            for j in (0..n).rev() {
                row!(last)[j] *= right;
                right *= x[j];
            }
        }
        Osborne1 => {
            for i in 0..m {
                let t = 10.0 * i as f64;
                let e4 = (-t * x[3]).exp();
                let e5 = (-t * x[4]).exp();
                row!(i).copy_from_slice(&[-1.0, -e4, -e5, t * x[1] * e4, t * x[2] * e5]);
            }
        }
        Osborne2 => {
            for i in 0..m {
                let t = i as f64 / 10.0;
                let (d2, d3, d4) = (t - x[8], t - x[9], t - x[10]);
                let e1 = (-t * x[4]).exp();
                let e2 = (-d2 * d2 * x[5]).exp();
                let e3 = (-d3 * d3 * x[6]).exp();
                let e4 = (-d4 * d4 * x[7]).exp();
                row!(i).copy_from_slice(&[
                    -e1,
                    -e2,
                    -e3,
                    -e4,
                    t * x[0] * e1,
                    x[1] * d2 * d2 * e2,
                    x[2] * d3 * d3 * e3,
                    x[3] * d4 * d4 * e4,
                    -2.0 * x[1] * x[5] * d2 * e2,
                    -2.0 * x[2] * x[6] * d3 * e3,
                    -2.0 * x[3] * x[7] * d4 * e4,
                ]);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::check::jacobian_error;

    /// The driver prints ‖f(x0)‖ with 8 significant digits (d.ddddddde±xx),
    /// so a correct value is within half a unit in the 8th digit: relative
    /// error ≤ 0.5e-7 / 1.0 = 5e-8 at worst. 1e-7 leaves a factor of two
    /// for that rounding and nothing for a real difference.
    const INITIAL_NORM_RTOL: f64 = 1e-7;

    /// Central differences (step eps^(1/3)) are accurate to about
    /// eps^(2/3) ≈ 4e-11 relative to the column scale for smooth functions;
    /// 1e-6 leaves room for large third derivatives (e.g. Meyer's and
    /// Jennrich-Sampson's exponentials) while still catching any wrong
    /// formula (those give errors of order 1).
    const JAC_TOL: f64 = 1e-6;

    /// Deterministic pseudo-random numbers in [-1, 1) (xorshift64*), so the tests need no crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let v = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
            v as f64 / (1u64 << 52) as f64 - 1.0
        }
    }

    #[test]
    fn fifty_three_cases_in_driver_order() {
        let cs = cases();
        assert_eq!(cs.len(), 53);
        for (k, c) in cs.iter().enumerate() {
            assert_eq!(c.index, k + 1);
            assert_eq!(c.x0.len(), c.n);
            assert!(c.m >= c.n, "{}", c.label());
        }
        assert_eq!(cs[0].label(), "linear_full_rank_n5_m10");
        assert_eq!(cs[6].label(), "rosenbrock_n2_m2");
        assert_eq!(cs[8].start(), "100x0");
        assert_eq!(cs[8].x0, vec![-120.0, 100.0]);
        assert_eq!(cs[52].label(), "osborne2_n11_m65");
        let watson: Vec<_> = cs.iter().filter(|c| c.nprob == 11).collect();
        assert_eq!(watson.len(), 9);
        assert_eq!(watson[1].x0, vec![10.0; 6]);
        assert_eq!(watson[2].x0, vec![100.0; 6]);
        // number of cases per start
        let count = |s: &str| cs.iter().filter(|c| c.start() == s).count();
        assert_eq!((count("x0"), count("10x0"), count("100x0")), (28, 13, 12));
    }

    #[test]
    fn initial_norms_match_minpack_driver() {
        for c in cases() {
            let nrm = c.residual_norm(&c.x0);
            let rel = (nrm - c.ref_initial_norm).abs() / c.ref_initial_norm;
            assert!(
                rel <= INITIAL_NORM_RTOL,
                "case {} {} {}: ||f(x0)|| = {nrm:.9e}, driver {:.7e}, rel {rel:.1e}",
                c.index,
                c.label(),
                c.start(),
                c.ref_initial_norm
            );
        }
    }

    #[test]
    fn jacobians_match_central_differences() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for c in cases() {
            // x0 and a perturbed point (as problems_minpack.check: 10 % relative + 0.05 absolute)
            let xp: Vec<f64> =
                c.x0.iter()
                    .map(|&v| v * (1.0 + 0.1 * rng.next()) + 0.05 * rng.next())
                    .collect();
            for x in [&c.x0, &xp] {
                let e = jacobian_error(&c, x);
                assert!(
                    e < JAC_TOL,
                    "case {} {} {} at {x:?}: error {e:.2e}",
                    c.index,
                    c.label(),
                    c.start()
                );
            }
        }
    }

    #[test]
    fn known_minima_are_attained_where_the_minimiser_is_known() {
        let cs = cases();
        let get = |label: &str| cs.iter().find(|c| c.label() == label).unwrap().clone();
        let r = get("rosenbrock_n2_m2");
        assert_eq!(r.sum_of_squares(&[1.0, 1.0]), 0.0);
        let fr = get("freudenstein_roth_n2_m2");
        assert_eq!(fr.sum_of_squares(&[5.0, 4.0]), 0.0);
        let h = get("helical_valley_n3_m3");
        assert!(h.sum_of_squares(&[1.0, 0.0, 0.0]) < 1e-30);
        let b = get("box_3d_n3_m10");
        assert!(b.sum_of_squares(&[1.0, 10.0, 1.0]) < 1e-30);
        let bal = get("brown_almost_linear_n10_m10");
        assert!(bal.sum_of_squares(&[1.0; 10]) < 1e-30);
        // linear full rank: minimum m - n at x = -1
        let l = get("linear_full_rank_n5_m50");
        assert!((l.sum_of_squares(&[-1.0; 5]) - 45.0).abs() < 1e-12);
        assert_eq!(l.known_ssq, Some(vec![45.0]));
        // Chebyquad n = 1: x0 = 0.5 is a stationary point with ssq 3.55789
        let ch = get("chebyquad_n1_m8");
        assert!((ch.sum_of_squares(&ch.x0) - 3.55789).abs() < 1e-5);
        assert_eq!(ch.classify(3.0665273), SsqClass::Global);
        assert_eq!(ch.classify(3.550391297676), SsqClass::Local);
    }

    #[test]
    fn known_minima_table() {
        let cs = cases();
        let unknown: Vec<String> = cs
            .iter()
            .filter(|c| c.known_ssq.is_none())
            .map(|c| c.label())
            .collect();
        assert!(unknown.is_empty(), "{unknown:?}");
        let w12 = cs.iter().find(|c| c.label() == "watson_n12_m31").unwrap();
        assert_eq!(w12.known_ssq, Some(vec![4.72238e-10]));
    }

    #[test]
    fn classify_edge_cases() {
        // zero minimum: atol 1e-10 decides
        let zero = [0.0];
        assert_eq!(classify_ssq(0.0, Some(&zero)), SsqClass::Global);
        assert_eq!(classify_ssq(1e-10, Some(&zero)), SsqClass::Global);
        assert_eq!(classify_ssq(1.1e-10, Some(&zero)), SsqClass::Other);
        // below the best published value is still global
        let meyer = [87.9458];
        assert_eq!(classify_ssq(87.9, Some(&meyer)), SsqClass::Global);
        assert_eq!(
            classify_ssq(87.9458 * (1.0 + 0.9e-4), Some(&meyer)),
            SsqClass::Global
        );
        assert_eq!(
            classify_ssq(87.9458 * (1.0 + 1.1e-4), Some(&meyer)),
            SsqClass::Other
        );
        // local minima match from both sides, rtol 1e-4
        let fr = [0.0, 48.9842536792];
        assert_eq!(classify_ssq(48.98, Some(&fr)), SsqClass::Local);
        assert_eq!(classify_ssq(48.988, Some(&fr)), SsqClass::Local);
        assert_eq!(classify_ssq(48.99, Some(&fr)), SsqClass::Other);
        assert_eq!(classify_ssq(48.97, Some(&fr)), SsqClass::Other);
        // Brown almost-linear: local minimum 1 and global 0
        let bal = [0.0, 1.0];
        assert_eq!(classify_ssq(1.00005, Some(&bal)), SsqClass::Local);
        // nothing published, empty list, NaN, infinity
        assert_eq!(classify_ssq(0.0, None), SsqClass::Unknown);
        assert_eq!(classify_ssq(0.0, Some(&[])), SsqClass::Unknown);
        assert_eq!(classify_ssq(f64::NAN, Some(&fr)), SsqClass::Other);
        assert_eq!(classify_ssq(f64::INFINITY, Some(&fr)), SsqClass::Other);
        assert_eq!(
            classify_ssq_with(1.5, Some(&[1.0]), 0.6, 0.0),
            SsqClass::Global
        );
        assert_eq!(SsqClass::Local.to_string(), "local");
    }

    /// FNV-1a hash of the bits of every residual of the 53 cases at five points each
    /// (x0, shifted, scaled, with zeros, all zero): pins the f64 residuals bit for bit,
    /// so rewriting a problem generically over `Real` cannot change a value or a sign.
    #[test]
    fn residual_bits_are_pinned() {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for c in cases() {
            let n = c.n as f64;
            let points: [Vec<f64>; 5] = [
                c.x0.clone(),
                (0..c.n)
                    .map(|j| c.x0[j] + 0.01 * (j as f64 + 1.0))
                    .collect(),
                (0..c.n)
                    .map(|j| c.x0[j] * 0.5 - 0.3 * (j as f64 / n))
                    .collect(),
                (0..c.n)
                    .map(|j| if j % 2 == 0 { 0.0 } else { -c.x0[j] - 0.7 })
                    .collect(),
                vec![-0.0; c.n],
            ];
            let mut f = vec![0.0; c.m];
            for x in &points {
                c.residuals(x, &mut f);
                for v in &f {
                    for b in v.to_bits().to_le_bytes() {
                        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
                    }
                }
            }
        }
        assert_eq!(h, 0xcd58_6989_5e24_ab66, "digest {h:#018x}");
    }

    /// Residual values computed once with `problems_minpack.py` (numpy),
    /// printed with 17 significant digits.
    #[test]
    fn residuals_match_python_reference_values() {
        let cs = cases();
        for (index, x_kind, i, expected) in PYTHON_VALUES {
            let c = &cs[index - 1];
            let x: Vec<f64> = match x_kind {
                0 => c.x0.clone(),
                _ => {
                    c.x0.iter()
                        .enumerate()
                        .map(|(j, v)| v + 0.01 * (j as f64 + 1.0))
                        .collect()
                }
            };
            let mut f = vec![0.0; c.m];
            c.residuals(&x, &mut f);
            // relative to max(|value|, 1): some values are rounding-level zeros (Chebyquad at x0)
            let err = (f[*i] - expected).abs() / expected.abs().max(1.0);
            assert!(
                err < 1e-13,
                "case {index} f[{i}] = {:e}, python {expected:e}",
                f[*i]
            );
        }
    }

    /// (case index, 0 = x0 / 1 = x0 + 0.01·(j+1), residual index, value from Python).
    const PYTHON_VALUES: &[(usize, u8, usize, f64)] = &[
        (1, 0, 7, -2.0),
        (1, 1, 0, -1.0200000000000002),
        (2, 0, 14, -1.2),
        (2, 1, 17, -1.206),
        (4, 0, 28, 434.0),
        (4, 1, 31, 496.6),
        (5, 0, 5, 44.0),
        (5, 1, 8, 73.32),
        (8, 0, 0, -1340.0),
        (8, 1, 1, 12.99),
        (11, 0, 2, 0.0),
        (11, 1, 2, 0.03),
        (14, 0, 2, 100.0),
        (14, 1, 1, -22.383040454772896),
        (17, 0, 1, -7344.0),
        (17, 1, 0, 10003.995992000002),
        (19, 0, 13, -2.4),
        (19, 1, 1, -0.9523990208078337),
        (22, 0, 0, -0.04751329639889193),
        (22, 1, 3, 0.028919667590027703),
        (25, 0, 15, -2013.966055346571),
        (25, 1, 2, -11616.089234233437),
        (26, 0, 6, 1070585.8635794574),
        (26, 1, 9, 1031627.89291893),
        (27, 0, 3, -1.0),
        (27, 1, 6, -0.9549956780615632),
        (30, 0, 24, -1.0),
        (30, 1, 27, 0.8596766453690665),
        (33, 0, 14, -1.0),
        (33, 1, 17, -0.6664974860367575),
        (36, 0, 2, -12.870410114644942),
        (36, 1, 5, -9.951478885719744),
        (37, 0, 9, -52.68368695633191),
        (37, 1, 2, 1.9400693350167622),
        (38, 0, 6, 818.8010057720808),
        (38, 1, 9, 794.5777444831348),
        (40, 0, 0, 7024931.794534325),
        (40, 1, 3, 8724859.063247787),
        (41, 0, 7, 1.0158730158730158),
        (41, 1, 2, -0.05996800000000005),
        (44, 0, 4, 2.7755575615628914e-17),
        (44, 1, 7, 0.005977774552301807),
        (45, 0, 0, 0.0),
        (45, 1, 3, 0.03526442666666664),
        (46, 0, 2, 7.771561172376095e-17),
        (46, 1, 5, 0.1771577161768384),
        (47, 0, 9, -0.9990234375),
        (47, 1, 2, -4.920000000000001),
        (50, 0, 20, -15.5),
        (50, 1, 23, -10.61),
        (51, 0, 37, -20.5),
        (51, 1, 0, -12.29),
        (52, 0, 1, -0.13052537397595765),
        (52, 1, 4, 0.2682761302268102),
        (53, 0, 46, -0.06999193149883054),
        (53, 1, 49, 0.1260747738707203),
    ];
}

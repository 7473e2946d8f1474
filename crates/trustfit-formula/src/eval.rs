//! Evaluation of a [`Tape`] over a block of up to [`BLOCK`] points at once:
//! the forward sweep (values) and the reverse sweep (adjoints, giving the
//! derivatives of the result with respect to every parameter at every point
//! of the block in one pass).
//!
//! Slot `i` of a block occupies `values[i*BLOCK .. i*BLOCK + len]`; each
//! instruction is one loop over the block's points, so the cost of
//! interpreting an instruction is shared by up to [`BLOCK`] points. Operands
//! precede their instruction, so splitting the buffer at the instruction
//! gives the operands (before) and the output (after) without copying.

use crate::ast::BinOp;
use crate::exp::exp_in_place;
use crate::func::Func;
use crate::tape::{Op, Tape};

/// Points per block. 128 rather than 64: the interpreter's cost per instruction is
/// shared by twice the points (11% fewer instructions for the 25-point fits of the
/// batch workload), and a block of a 20-instruction formula (values and adjoints,
/// 40 kB) still stays near L1.
pub(crate) const BLOCK: usize = 128;

/// Where the values of the used columns come from.
pub(crate) trait Columns {
    /// Writes column `j` at points `start..start + out.len()` into `out`.
    fn fill(&self, j: usize, start: usize, out: &mut [f64]);
}

/// Whole columns, one slice each.
impl<S: AsRef<[f64]>> Columns for [S] {
    #[inline]
    fn fill(&self, j: usize, start: usize, out: &mut [f64]) {
        out.copy_from_slice(&self[j].as_ref()[start..start + out.len()]);
    }
}

/// One point: the value of each column.
pub(crate) struct Row<'a>(pub(crate) &'a [f64]);

impl Columns for Row<'_> {
    #[inline]
    fn fill(&self, j: usize, _start: usize, out: &mut [f64]) {
        out.fill(self.0[j]);
    }
}

/// Where the parameter values of a block's points come from.
pub(crate) trait Params {
    /// Writes parameter `k` at points `start..start + out.len()` into `out`.
    fn fill_param(&self, k: usize, start: usize, out: &mut [f64]);
}

/// One parameter vector for every point.
impl Params for [f64] {
    #[inline]
    fn fill_param(&self, k: usize, _start: usize, out: &mut [f64]) {
        out.fill(self[k]);
    }
}

/// Many fits, each over the same `m` points: point `g` is point `g mod m` of fit
/// `g div m`, whose parameters are `params[(g div m)·n ..][..n]`.
pub(crate) struct Fits<'a> {
    pub(crate) params: &'a [f64],
    pub(crate) n: usize,
    pub(crate) m: usize,
}

impl Params for Fits<'_> {
    /// Runs of one value per fit; the division locating the first point is done once
    /// per call, not once per run (an integer division costs as much as a run's stores).
    fn fill_param(&self, k: usize, start: usize, out: &mut [f64]) {
        let (mut fit, mut i) = (start / self.m, start % self.m);
        let mut rest = &mut out[..];
        while !rest.is_empty() {
            let run = (self.m - i).min(rest.len());
            let (head, tail) = rest.split_at_mut(run);
            head.fill(self.params[fit * self.n + k]);
            rest = tail;
            fit += 1;
            i = 0;
        }
    }
}

/// Columns of `m` points repeated for every fit (point `g` is row `g mod m`).
pub(crate) struct Tiled<'a, S> {
    pub(crate) cols: &'a [S],
    pub(crate) m: usize,
}

impl<S: AsRef<[f64]>> Columns for Tiled<'_, S> {
    /// Copies of the column from the block's first point on, wrapping at `m` (one
    /// division per call, as [`Fits`]).
    fn fill(&self, j: usize, start: usize, out: &mut [f64]) {
        let col = self.cols[j].as_ref();
        let mut i = start % self.m;
        let mut rest = &mut out[..];
        while !rest.is_empty() {
            let run = (self.m - i).min(rest.len());
            let (head, tail) = rest.split_at_mut(run);
            head.copy_from_slice(&col[i..i + run]);
            rest = tail;
            i = 0;
        }
    }
}

/// `out[k] = f(a[k])` for the block.
#[inline(always)]
fn map1(out: &mut [f64], a: &[f64], f: impl Fn(f64) -> f64) {
    for (o, &x) in out.iter_mut().zip(a) {
        *o = f(x);
    }
}

/// `out[k] = f(a[k], b[k])` for the block.
#[inline(always)]
fn map2(out: &mut [f64], a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> f64) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = f(x, y);
    }
}

/// `adj[k] += g[k] * partial(x[k], y[k], v[k])` for the block, or `=` for
/// the first contribution to `adj` in the reverse sweep (so adjoints need no
/// zeroing).
#[inline(always)]
fn accumulate(
    adj: &mut [f64],
    g: &[f64],
    x: &[f64],
    y: &[f64],
    v: &[f64],
    first: bool,
    partial: impl Fn(f64, f64, f64) -> f64,
) {
    contribute(adj, g, x, y, v, first, |g, x, y, v| g * partial(x, y, v));
}

/// `adj[k] += term(g[k], x[k], y[k], v[k])` for the block (`=` if `first`):
/// [`accumulate`] for the fused instructions, whose chain-rule products must
/// be rounded in the order of the unfused pair.
#[inline(always)]
fn contribute(
    adj: &mut [f64],
    g: &[f64],
    x: &[f64],
    y: &[f64],
    v: &[f64],
    first: bool,
    term: impl Fn(f64, f64, f64, f64) -> f64,
) {
    let len = adj.len();
    let (g, x, y, v) = (&g[..len], &x[..len], &y[..len], &v[..len]);
    if first {
        for k in 0..len {
            adj[k] = term(g[k], x[k], y[k], v[k]);
        }
    } else {
        for k in 0..len {
            adj[k] += term(g[k], x[k], y[k], v[k]);
        }
    }
}

/// `adj = t` for the first contribution to an adjoint in the reverse sweep, else `adj += t`.
#[inline(always)]
fn put<const FIRST: bool>(adj: &mut f64, t: f64) {
    if FIRST {
        *adj = t;
    } else {
        *adj += t;
    }
}

/// One loop adding two operands' terms (separate slices: no aliasing to check).
#[inline(always)]
fn sweep2<const F0: bool, const F1: bool>(
    a0: &mut [f64],
    a1: &mut [f64],
    [g, x, y, v]: [&[f64]; 4],
    terms: &impl Fn(f64, f64, f64, f64) -> [f64; 2],
) {
    let len = a0.len();
    let (a1, g, x, y, v) = (&mut a1[..len], &g[..len], &x[..len], &y[..len], &v[..len]);
    for p in 0..len {
        let [t0, t1] = terms(g[p], x[p], y[p], v[p]);
        put::<F0>(&mut a0[p], t0);
        put::<F1>(&mut a1[p], t1);
    }
}

/// [`sweep2`] for three operands.
#[inline(always)]
fn sweep3<const F0: bool, const F1: bool, const F2: bool>(
    a0: &mut [f64],
    a1: &mut [f64],
    a2: &mut [f64],
    [g, x, y, v]: [&[f64]; 4],
    terms: &impl Fn(f64, f64, f64, f64) -> [f64; 3],
) {
    let len = a0.len();
    let (a1, a2) = (&mut a1[..len], &mut a2[..len]);
    let (g, x, y, v) = (&g[..len], &x[..len], &y[..len], &v[..len]);
    for p in 0..len {
        let [t0, t1, t2] = terms(g[p], x[p], y[p], v[p]);
        put::<F0>(&mut a0[p], t0);
        put::<F1>(&mut a1[p], t1);
        put::<F2>(&mut a2[p], t2);
    }
}

/// The reverse sweep's contributions of one instruction to its K (2 or 3)
/// operands' adjoints (`slots`, of blocks of `ins[0].len()` points in `lo`) in one
/// loop: `first[o]` says whether operand o's is assigned rather than added. The
/// loop is chosen once per block so that the loop body has no branch. Returns false,
/// doing nothing, when two operands are the same slot.
#[inline(always)]
fn fused<const K: usize>(
    lo: &mut [f64],
    slots: [usize; K],
    first: [bool; K],
    ins: [&[f64]; 4],
    terms: impl Fn(f64, f64, f64, f64) -> [f64; K],
) -> bool {
    let len = ins[0].len();
    let Ok(adj) = lo.get_disjoint_mut(slots.map(|s| s * BLOCK..s * BLOCK + len)) else {
        return false;
    };
    let mut adj = adj.into_iter();
    let mut next = || adj.next().unwrap_or_default();
    let f = first.as_slice();
    match K {
        2 => {
            let t = |g, x, y, v| {
                let t = terms(g, x, y, v);
                [t[0], t[1]]
            };
            let (a0, a1) = (next(), next());
            match (f[0], f[1]) {
                (true, true) => sweep2::<true, true>(a0, a1, ins, &t),
                (true, false) => sweep2::<true, false>(a0, a1, ins, &t),
                (false, true) => sweep2::<false, true>(a0, a1, ins, &t),
                (false, false) => sweep2::<false, false>(a0, a1, ins, &t),
            }
        }
        3 => {
            let t = |g, x, y, v| {
                let t = terms(g, x, y, v);
                [t[0], t[1], t[2]]
            };
            let (a0, a1, a2) = (next(), next(), next());
            match (f[0], f[1], f[2]) {
                (true, true, true) => sweep3::<true, true, true>(a0, a1, a2, ins, &t),
                (true, true, false) => sweep3::<true, true, false>(a0, a1, a2, ins, &t),
                (true, false, true) => sweep3::<true, false, true>(a0, a1, a2, ins, &t),
                (true, false, false) => sweep3::<true, false, false>(a0, a1, a2, ins, &t),
                (false, true, true) => sweep3::<false, true, true>(a0, a1, a2, ins, &t),
                (false, true, false) => sweep3::<false, true, false>(a0, a1, a2, ins, &t),
                (false, false, true) => sweep3::<false, false, true>(a0, a1, a2, ins, &t),
                (false, false, false) => sweep3::<false, false, false>(a0, a1, a2, ins, &t),
            }
        }
        _ => return false,
    }
    true
}

/// Calls `$body` with `$f` bound to each function as a constant, so that
/// the match on the function happens once per block, not once per point.
macro_rules! for_each_func {
    ($func:expr, $f:ident => $body:expr) => {
        match $func {
            Func::Exp => {
                let $f = Func::Exp;
                $body
            }
            Func::Ln => {
                let $f = Func::Ln;
                $body
            }
            Func::Log10 => {
                let $f = Func::Log10;
                $body
            }
            Func::Log2 => {
                let $f = Func::Log2;
                $body
            }
            Func::Sqrt => {
                let $f = Func::Sqrt;
                $body
            }
            Func::Cbrt => {
                let $f = Func::Cbrt;
                $body
            }
            Func::Sin => {
                let $f = Func::Sin;
                $body
            }
            Func::Cos => {
                let $f = Func::Cos;
                $body
            }
            Func::Tan => {
                let $f = Func::Tan;
                $body
            }
            Func::Asin => {
                let $f = Func::Asin;
                $body
            }
            Func::Acos => {
                let $f = Func::Acos;
                $body
            }
            Func::Atan => {
                let $f = Func::Atan;
                $body
            }
            Func::Sinh => {
                let $f = Func::Sinh;
                $body
            }
            Func::Cosh => {
                let $f = Func::Cosh;
                $body
            }
            Func::Tanh => {
                let $f = Func::Tanh;
                $body
            }
            Func::Asinh => {
                let $f = Func::Asinh;
                $body
            }
            Func::Acosh => {
                let $f = Func::Acosh;
                $body
            }
            Func::Atanh => {
                let $f = Func::Atanh;
                $body
            }
            Func::Abs => {
                let $f = Func::Abs;
                $body
            }
        }
    };
}

/// `x^n` for an integer constant exponent, as [`Op::Powi`] computes it
/// (also used to fold constants, so that folding changes no result).
#[inline(always)]
pub(crate) fn powi(x: f64, n: i32) -> f64 {
    match n {
        2 => x * x,
        3 => x * x * x,
        -1 => 1.0 / x,
        _ => x.powi(n),
    }
}

/// `out = a^n`, with the common small powers as plain products.
#[inline(always)]
fn powi_block(out: &mut [f64], a: &[f64], n: i32) {
    match n {
        2 => map1(out, a, |x| x * x),
        3 => map1(out, a, |x| x * x * x),
        -1 => map1(out, a, |x| 1.0 / x),
        _ => map1(out, a, |x| x.powi(n)),
    }
}

/// `adj += g · n·a^(n−1)`.
#[inline(always)]
fn powi_adjoint(adj: &mut [f64], g: &[f64], a: &[f64], v: &[f64], first: bool, n: i32) {
    match n {
        2 => accumulate(adj, g, a, a, v, first, |x, _, _| 2.0 * x),
        3 => accumulate(adj, g, a, a, v, first, |x, _, _| 3.0 * (x * x)),
        -1 => accumulate(adj, g, a, a, v, first, |_, _, v| -(v * v)),
        _ => accumulate(adj, g, a, a, v, first, |x, _, _| {
            f64::from(n) * x.powi(n - 1)
        }),
    }
}

impl Tape {
    /// Computes every slot at points `start..start + len` (`len ≤ BLOCK`) into `values`.
    pub(crate) fn forward<P: Params + ?Sized, C: Columns + ?Sized>(
        &self,
        values: &mut [f64],
        params: &P,
        columns: &C,
        start: usize,
        len: usize,
    ) {
        for (i, op) in self.ops.iter().enumerate() {
            let (before, after) = values.split_at_mut(i * BLOCK);
            let out = &mut after[..len];
            let slot = |s: usize| &before[s * BLOCK..s * BLOCK + len];
            match *op {
                Op::Param(k) => params.fill_param(k, start, out),
                Op::Const(v) => out.fill(v),
                Op::Column(j) => columns.fill(j, start, out),
                Op::Neg(a) => map1(out, slot(a), |x| -x),
                Op::Powi(a, n) => powi_block(out, slot(a), n),
                Op::SqDiff(a, b) => map2(out, slot(a), slot(b), |x, y| (x - y) * (x - y)),
                Op::NegDiv(a, b) => map2(out, slot(a), slot(b), |x, y| -x / y),
                Op::Scale(c, a) => map1(out, slot(a), |x| c * x),
                Op::ScaleSq(c, a) => map1(out, slot(a), |x| c * (x * x)),
                Op::ExpNegDiv(a, b) => {
                    map2(out, slot(a), slot(b), |x, y| -x / y);
                    exp_in_place(out);
                }
                Op::SumSqDiff(p, a, b) => {
                    let (p, a, b) = (slot(p), slot(a), slot(b));
                    for (((o, &z), &x), &y) in out.iter_mut().zip(p).zip(a).zip(b) {
                        *o = z + (x - y) * (x - y);
                    }
                }
                Op::MulAdd(a, b, c) => {
                    let (a, b, c) = (slot(a), slot(b), slot(c));
                    for (((o, &x), &y), &z) in out.iter_mut().zip(a).zip(b).zip(c) {
                        *o = x * y + z;
                    }
                }
                Op::Func(Func::Exp, a) => {
                    out.copy_from_slice(slot(a));
                    exp_in_place(out);
                }
                Op::Func(func, a) => for_each_func!(func, f => map1(out, slot(a), |x| f.value(x))),
                Op::Bin(op, a, b) => {
                    let (a, b) = (slot(a), slot(b));
                    match op {
                        BinOp::Add => map2(out, a, b, |x, y| x + y),
                        BinOp::Sub => map2(out, a, b, |x, y| x - y),
                        BinOp::Mul => map2(out, a, b, |x, y| x * y),
                        BinOp::Div => map2(out, a, b, |x, y| x / y),
                        BinOp::Pow => map2(out, a, b, f64::powf),
                    }
                }
            }
        }
    }

    /// The reverse sweep after [`Tape::forward`] on the same block: writes
    /// d(result)/d(param k) at point `start + p` to `jac[(start + p)*n + k]`.
    pub(crate) fn backward(
        &self,
        values: &[f64],
        adjoints: &mut [f64],
        jac: &mut [f64],
        start: usize,
        len: usize,
    ) {
        let n = self.jac_slot.len();
        let zero = self.ops.len(); // the Jacobian column of an unused parameter
        if self.jac_slot.contains(&zero) {
            adjoints[zero * BLOCK..zero * BLOCK + len].fill(0.0);
        }
        let root = self.ops.len() - 1;
        if self.needs_adjoint[root] {
            adjoints[root * BLOCK..root * BLOCK + len].fill(1.0);
        }
        let val = |s: usize| &values[s * BLOCK..s * BLOCK + len];
        for i in (0..self.ops.len()).rev() {
            if !self.needs_adjoint[i] {
                continue;
            }
            let (lo, hi) = adjoints.split_at_mut(i * BLOCK);
            let g = &hi[..len];
            let v = val(i);
            // adj[s] += g * partial(x, y, v) for an operand s that depends on
            // a parameter (x, y: the operands' values, v: this slot's value).
            macro_rules! adj {
                ($operand:literal, $s:expr, $x:expr, $y:expr, |$px:pat_param, $py:pat_param, $pv:pat_param| $partial:expr) => {
                    if self.needs_adjoint[$s] {
                        let slot = &mut lo[$s * BLOCK..$s * BLOCK + len];
                        let first = self.first_adjoint[i][$operand];
                        accumulate(slot, g, $x, $y, v, first, |$px, $py, $pv| $partial);
                    }
                };
            }
            // adj[s] += term(g, x, y, v), for the fused instructions.
            macro_rules! term {
                ($operand:literal, $s:expr, $x:expr, $y:expr, |$g:pat_param, $px:pat_param, $py:pat_param, $pv:pat_param| $term:expr) => {
                    if self.needs_adjoint[$s] {
                        let slot = &mut lo[$s * BLOCK..$s * BLOCK + len];
                        let first = self.first_adjoint[i][$operand];
                        contribute(slot, g, $x, $y, v, first, |$g, $px, $py, $pv| $term);
                    }
                };
            }
            // Every operand's term in one loop over the block (g, x, y and v loaded
            // once), when at least two operands need adjoints: all of them, or any if
            // `$cheap` (an operand without one writes its term to its own adjoint block,
            // which nothing reads). Evaluates to false, doing nothing, otherwise or when
            // two operands are one slot.
            macro_rules! fused {
                ($cheap:expr, [$($s:expr),+], $x:expr, $y:expr, |$g:pat_param, $px:pat_param, $py:pat_param, $pv:pat_param| $terms:expr) => {{
                    let slots = [$($s),+];
                    let needing = slots.iter().filter(|&&s| self.needs_adjoint[s]).count();
                    let first = std::array::from_fn(|o| {
                        self.first_adjoint[i][o] || !self.needs_adjoint[slots[o]]
                    });
                    needing >= 2
                        && ($cheap || needing == slots.len())
                        && fused(lo, slots, first, [g, $x, $y, v], |$g, $px, $py, $pv| $terms)
                }};
            }
            match self.ops[i] {
                Op::Param(_) | Op::Const(_) | Op::Column(_) => {}
                Op::Neg(a) => adj!(0, a, v, v, |_, _, _| -1.0),
                Op::Powi(a, m) => {
                    if self.needs_adjoint[a] {
                        let slot = &mut lo[a * BLOCK..a * BLOCK + len];
                        powi_adjoint(slot, g, val(a), v, self.first_adjoint[i][0], m);
                    }
                }
                Op::Func(func, a) => {
                    for_each_func!(func, f => adj!(0, a, val(a), v, |x, _, v| f.derivative(x, v)))
                }
                // The products of the unfused pair, in the same order: the
                // inner adjoint g·∂outer, then times ∂inner.
                Op::SqDiff(a, b) => {
                    let (x, y) = (val(a), val(b));
                    let fused = fused!(true, [a, b], x, y, |g, x, y, _| {
                        let t = g * (2.0 * (x - y));
                        [t, -t]
                    });
                    if fused {
                        continue;
                    }
                    term!(0, a, x, y, |g, x, y, _| g * (2.0 * (x - y)));
                    term!(1, b, x, y, |g, x, y, _| -(g * (2.0 * (x - y))));
                }
                Op::NegDiv(a, b) => {
                    let y = val(b);
                    if fused!(false, [a, b], y, y, |g, _, y, v| [
                        -(g * (1.0 / y)),
                        g * (-v / y)
                    ]) {
                        continue;
                    }
                    term!(0, a, y, y, |g, _, y, _| -(g * (1.0 / y)));
                    adj!(1, b, y, y, |_, y, v| -v / y);
                }
                Op::Scale(c, a) => adj!(0, a, v, v, |_, _, _| c),
                Op::ScaleSq(c, a) => term!(0, a, val(a), v, |g, x, _, _| (g * c) * (2.0 * x)),
                Op::SumSqDiff(p, a, b) => {
                    let (x, y) = (val(a), val(b));
                    let fused = fused!(true, [p, a, b], x, y, |g, x, y, _| {
                        let t = g * (2.0 * (x - y));
                        [g, t, -t]
                    });
                    if fused {
                        continue;
                    }
                    adj!(0, p, x, y, |_, _, _| 1.0);
                    term!(1, a, x, y, |g, x, y, _| g * (2.0 * (x - y)));
                    term!(2, b, x, y, |g, x, y, _| -(g * (2.0 * (x - y))));
                }
                // g·e is the adjoint of the argument u = (-a)/b.
                Op::ExpNegDiv(a, b) => {
                    let (x, y) = (val(a), val(b));
                    // One division, by b, for both terms (d/db = e·a/b² as (a·(1/b))·(1/b)):
                    // the three of the unfused pair's rounding were half of the sweep's
                    // time on a Gaussian. Equal to the pair's terms to a few ulps.
                    let fused = fused!(false, [a, b], x, y, |g, x, y, e| {
                        let (ge, r) = (g * e, 1.0 / y);
                        [-(ge * r), ge * ((x * r) * r)]
                    });
                    if fused {
                        continue;
                    }
                    term!(0, a, x, y, |g, _, y, e| -((g * e) * (1.0 / y)));
                    term!(1, b, x, y, |g, x, y, e| {
                        let r = 1.0 / y;
                        (g * e) * ((x * r) * r)
                    });
                }
                Op::MulAdd(a, b, c) => {
                    let (x, y) = (val(a), val(b));
                    if fused!(true, [a, b, c], x, y, |g, x, y, _| [g * y, g * x, g]) {
                        continue;
                    }
                    adj!(0, a, x, y, |_, y, _| y);
                    adj!(1, b, x, y, |x, _, _| x);
                    adj!(2, c, x, y, |_, _, _| 1.0);
                }
                Op::Bin(op, a, b) => {
                    let (x, y) = (val(a), val(b));
                    let fused = match op {
                        BinOp::Add => fused!(true, [a, b], x, y, |g, _, _, _| [g, g]),
                        BinOp::Sub => fused!(true, [a, b], x, y, |g, _, _, _| [g, -g]),
                        BinOp::Mul => fused!(true, [a, b], x, y, |g, x, y, _| [g * y, g * x]),
                        BinOp::Div => {
                            fused!(false, [a, b], x, y, |g, _, y, v| [
                                g * (1.0 / y),
                                g * (-v / y)
                            ])
                        }
                        BinOp::Pow => false,
                    };
                    if fused {
                        continue;
                    }
                    match op {
                        BinOp::Add => {
                            adj!(0, a, x, y, |_, _, _| 1.0);
                            adj!(1, b, x, y, |_, _, _| 1.0);
                        }
                        BinOp::Sub => {
                            adj!(0, a, x, y, |_, _, _| 1.0);
                            adj!(1, b, x, y, |_, _, _| -1.0);
                        }
                        BinOp::Mul => {
                            adj!(0, a, x, y, |_, y, _| y);
                            adj!(1, b, x, y, |x, _, _| x);
                        }
                        BinOp::Div => {
                            adj!(0, a, x, y, |_, y, _| 1.0 / y);
                            adj!(1, b, x, y, |_, y, v| -v / y);
                        }
                        BinOp::Pow => {
                            adj!(0, a, x, y, |x, y, _| y * x.powf(y - 1.0));
                            // d/dy x^y = x^y ln x, taken as 0 where x^y = 0 (x = 0, y > 0).
                            adj!(1, b, x, y, |x, _, v| if v == 0.0 {
                                0.0
                            } else {
                                v * x.ln()
                            });
                        }
                    }
                }
            }
        }
        let rows = &mut jac[start * n..(start + len) * n];
        write_rows(rows, adjoints, &self.jac_slot);
    }
}

/// The parameters' adjoints (slot `jac_slot[k]` holds column k) written as the
/// block's Jacobian rows, row after row (each cache line of `rows` is written once,
/// not n times as column after column), with n a constant for n ≤ 8 so that a row
/// is a few stores without bounds checks.
fn write_rows(rows: &mut [f64], adjoints: &[f64], jac_slot: &[usize]) {
    match jac_slot.len() {
        0 => {}
        1 => rows_of::<1>(rows, adjoints, jac_slot),
        2 => rows_of::<2>(rows, adjoints, jac_slot),
        3 => rows_of::<3>(rows, adjoints, jac_slot),
        4 => rows_of::<4>(rows, adjoints, jac_slot),
        5 => rows_of::<5>(rows, adjoints, jac_slot),
        6 => rows_of::<6>(rows, adjoints, jac_slot),
        7 => rows_of::<7>(rows, adjoints, jac_slot),
        8 => rows_of::<8>(rows, adjoints, jac_slot),
        n => {
            for (p, row) in rows.chunks_exact_mut(n).enumerate() {
                for (d, &slot) in row.iter_mut().zip(jac_slot) {
                    *d = adjoints[slot * BLOCK + p];
                }
            }
        }
    }
}

/// [`write_rows`] for `N` parameters.
#[inline(always)]
fn rows_of<const N: usize>(rows: &mut [f64], adjoints: &[f64], jac_slot: &[usize]) {
    let len = rows.len() / N;
    let cols: [&[f64]; N] =
        std::array::from_fn(|k| &adjoints[jac_slot[k] * BLOCK..jac_slot[k] * BLOCK + len]);
    for (p, row) in rows.chunks_exact_mut(N).enumerate() {
        let row: &mut [f64; N] = row.try_into().unwrap_or_else(|_| unreachable!());
        for k in 0..N {
            row[k] = cols[k][p];
        }
    }
}

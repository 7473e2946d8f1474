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
use crate::tape::{Op, Tape};

/// Points per block.
pub(crate) const BLOCK: usize = 64;

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

/// `adj[k] += g[k] * partial(k)` for the block.
#[inline(always)]
fn accumulate(adj: &mut [f64], g: &[f64], partial: impl Fn(usize) -> f64) {
    for (k, (a, &g)) in adj.iter_mut().zip(g).enumerate() {
        *a += g * partial(k);
    }
}

impl Tape {
    /// Computes every slot at points `start..start + len` (`len ≤ BLOCK`) into `values`.
    pub(crate) fn forward<C: Columns + ?Sized>(
        &self,
        values: &mut [f64],
        params: &[f64],
        columns: &C,
        start: usize,
        len: usize,
    ) {
        for (i, op) in self.ops.iter().enumerate() {
            let (before, after) = values.split_at_mut(i * BLOCK);
            let out = &mut after[..len];
            let slot = |s: usize| &before[s * BLOCK..s * BLOCK + len];
            match *op {
                Op::Param(k) => out.fill(params[k]),
                Op::Const(v) => out.fill(v),
                Op::Column(j) => columns.fill(j, start, out),
                Op::Neg(a) => map1(out, slot(a), |x| -x),
                Op::Powi(a, n) => map1(out, slot(a), |x| x.powi(n)),
                Op::Func(f, a) => map1(out, slot(a), |x| f.value(x)),
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
        let n = self.param_slot.len();
        for (i, &needs) in self.needs_adjoint.iter().enumerate() {
            if needs {
                adjoints[i * BLOCK..i * BLOCK + len].fill(0.0);
            }
        }
        let root = self.ops.len() - 1;
        if self.needs_adjoint[root] {
            adjoints[root * BLOCK..root * BLOCK + len].fill(1.0);
        }
        for (k, slot) in self.param_slot.iter().enumerate() {
            if slot.is_none() {
                for p in 0..len {
                    jac[(start + p) * n + k] = 0.0;
                }
            }
        }
        let val = |s: usize| &values[s * BLOCK..s * BLOCK + len];
        for i in (0..self.ops.len()).rev() {
            if !self.needs_adjoint[i] {
                continue;
            }
            let (lo, hi) = adjoints.split_at_mut(i * BLOCK);
            let g = &hi[..len];
            // adj[s] += g * partial, for operands that depend on a parameter
            // (a macro, not a closure taking a closure, so each loop is inlined).
            macro_rules! adj {
                ($s:expr, |$p:ident| $partial:expr) => {
                    if self.needs_adjoint[$s] {
                        accumulate(&mut lo[$s * BLOCK..$s * BLOCK + len], g, |$p| $partial);
                    }
                };
            }
            match self.ops[i] {
                Op::Param(k) => {
                    for p in 0..len {
                        jac[(start + p) * n + k] = g[p];
                    }
                }
                Op::Const(_) | Op::Column(_) => {}
                Op::Neg(a) => adj!(a, |_p| -1.0),
                Op::Powi(a, m) => {
                    let x = val(a);
                    adj!(a, |p| f64::from(m) * x[p].powi(m - 1));
                }
                Op::Func(f, a) => {
                    let (x, v) = (val(a), val(i));
                    adj!(a, |p| f.derivative(x[p], v[p]));
                }
                Op::Bin(op, a, b) => {
                    let (x, y, v) = (val(a), val(b), val(i));
                    match op {
                        BinOp::Add => {
                            adj!(a, |_p| 1.0);
                            adj!(b, |_p| 1.0);
                        }
                        BinOp::Sub => {
                            adj!(a, |_p| 1.0);
                            adj!(b, |_p| -1.0);
                        }
                        BinOp::Mul => {
                            adj!(a, |p| y[p]);
                            adj!(b, |p| x[p]);
                        }
                        BinOp::Div => {
                            adj!(a, |p| 1.0 / y[p]);
                            adj!(b, |p| -v[p] / y[p]);
                        }
                        BinOp::Pow => {
                            adj!(a, |p| y[p] * x[p].powf(y[p] - 1.0));
                            // d/dy x^y = x^y ln x, taken as 0 where x^y = 0 (x = 0, y > 0).
                            adj!(b, |p| if v[p] == 0.0 { 0.0 } else { v[p] * x[p].ln() });
                        }
                    }
                }
            }
        }
    }
}

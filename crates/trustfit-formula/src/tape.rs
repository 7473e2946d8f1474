//! [`Ast`] → [`Tape`]: a flat list of SSA instructions, one slot each, whose
//! operands are earlier slots.
//!
//! Compilation walks the arena front to back (no recursion) and on the way
//! folds constants (`2*PI`, `-1`, `exp(0)`), turns `x^n` for an integer
//! constant `|n| ≤ 64` into [`Op::Powi`] (exact for negative `x`, finite
//! derivative), shares equal instructions (`(x-x0)^2` written twice is
//! computed once; each parameter and column is loaded once), and finally
//! drops instructions the result does not use.

use std::collections::HashMap;

use crate::ast::{Ast, BinOp, Node};
use crate::eval::powi;
use crate::func::Func;

/// Largest `|n|` of a constant integer exponent compiled to [`Op::Powi`].
const MAX_POWI: f64 = 64.0;

/// Index of an instruction, and of the slot it writes.
pub(crate) type Slot = usize;

/// One instruction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Op {
    /// The k-th parameter.
    Param(usize),
    /// The j-th used column.
    Column(usize),
    /// A constant.
    Const(f64),
    /// `-a`
    Neg(Slot),
    /// `f(a)`
    Func(Func, Slot),
    /// `a op b` (`op` is not `Pow` with an integer constant exponent).
    Bin(BinOp, Slot, Slot),
    /// `a^n`, n a small integer other than 0 and 1.
    Powi(Slot, i32),
    /// Fused `(a-b)^2`: one block loop instead of two, each way.
    SqDiff(Slot, Slot),
    /// Fused `a*b + c` (rounded twice, as written; no FMA).
    MulAdd(Slot, Slot, Slot),
    /// Fused `(-a)/b`.
    NegDiv(Slot, Slot),
    /// `c*a` with a constant `c`: no block of copies of `c`.
    Scale(f64, Slot),
    /// Fused `c*a^2`, `c` constant.
    ScaleSq(f64, Slot),
    /// Fused `p + (a-b)^2` (sums of squares).
    SumSqDiff(Slot, Slot, Slot),
    /// Fused `exp((-a)/b)` (decays, Gaussians); the reverse sweep needs one
    /// division, `1/b`, for both operands' terms.
    ExpNegDiv(Slot, Slot),
}

impl Op {
    /// The operands, for walking the tape.
    pub(crate) fn operands(&self) -> [Option<Slot>; 3] {
        match *self {
            Op::Param(_) | Op::Column(_) | Op::Const(_) => [None, None, None],
            Op::Neg(a) | Op::Func(_, a) | Op::Powi(a, _) | Op::Scale(_, a) | Op::ScaleSq(_, a) => {
                [Some(a), None, None]
            }
            Op::Bin(_, a, b) | Op::SqDiff(a, b) | Op::NegDiv(a, b) | Op::ExpNegDiv(a, b) => {
                [Some(a), Some(b), None]
            }
            Op::MulAdd(a, b, c) | Op::SumSqDiff(a, b, c) => [Some(a), Some(b), Some(c)],
        }
    }

    /// The same instruction with its operands renamed.
    fn renamed(self, map: &[Slot]) -> Op {
        match self {
            Op::Neg(a) => Op::Neg(map[a]),
            Op::Func(f, a) => Op::Func(f, map[a]),
            Op::Powi(a, n) => Op::Powi(map[a], n),
            Op::Bin(op, a, b) => Op::Bin(op, map[a], map[b]),
            Op::SqDiff(a, b) => Op::SqDiff(map[a], map[b]),
            Op::MulAdd(a, b, c) => Op::MulAdd(map[a], map[b], map[c]),
            Op::NegDiv(a, b) => Op::NegDiv(map[a], map[b]),
            Op::Scale(c, a) => Op::Scale(c, map[a]),
            Op::ScaleSq(c, a) => Op::ScaleSq(c, map[a]),
            Op::SumSqDiff(p, a, b) => Op::SumSqDiff(map[p], map[a], map[b]),
            Op::ExpNegDiv(a, b) => Op::ExpNegDiv(map[a], map[b]),
            other => other,
        }
    }
}

/// A hashable image of an [`Op`] (constants by their bits), for sharing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Param(usize),
    Column(usize),
    Const(u64),
    Neg(Slot),
    Func(Func, Slot),
    Bin(BinOp, Slot, Slot),
    Powi(Slot, i32),
    Fused,
}

impl From<Op> for Key {
    fn from(op: Op) -> Key {
        match op {
            Op::Param(k) => Key::Param(k),
            Op::Column(j) => Key::Column(j),
            Op::Const(v) => Key::Const(v.to_bits()),
            Op::Neg(a) => Key::Neg(a),
            Op::Func(f, a) => Key::Func(f, a),
            Op::Bin(op, a, b) => Key::Bin(op, a, b),
            Op::Powi(a, n) => Key::Powi(a, n),
            // Fused instructions are made after sharing, never hashed; a
            // unique key keeps them unshared should that change.
            Op::SqDiff(..)
            | Op::MulAdd(..)
            | Op::NegDiv(..)
            | Op::Scale(..)
            | Op::ScaleSq(..)
            | Op::SumSqDiff(..)
            | Op::ExpNegDiv(..) => Key::Fused,
        }
    }
}

/// The compiled formula: the result is the last slot.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tape {
    pub(crate) ops: Vec<Op>,
    /// Whether a slot depends on some parameter (only those get adjoints).
    pub(crate) needs_adjoint: Vec<bool>,
    /// For each instruction and operand: whether its adjoint contribution is
    /// the operand's first in the reverse sweep (assigned, not added).
    pub(crate) first_adjoint: Vec<[bool; 3]>,
    /// The slot whose adjoint is each parameter's Jacobian column: the
    /// parameter's load, or, for a parameter the result does not use, the
    /// extra zero slot after the root.
    pub(crate) jac_slot: Vec<Slot>,
}

/// Compiles `ast`; `param_map[k]` is the final index of the parser's k-th
/// parameter (of `num_params`), `column_map[j]` the used-column index of the
/// parser's j-th data column.
pub(crate) fn compile(ast: &Ast, param_map: &[usize], column_map: &[usize]) -> Tape {
    let mut b = Builder::default();
    let mut slot_of = Vec::with_capacity(ast.nodes.len());
    for node in &ast.nodes {
        let slot = match *node {
            Node::Num(v) => b.emit(Op::Const(v)),
            Node::Param(k) => b.emit(Op::Param(param_map[k])),
            Node::Column(j) => b.emit(Op::Column(column_map[j])),
            Node::Neg(a) => b.neg(slot_of[a]),
            Node::Call(f, a) => b.call(f, slot_of[a]),
            Node::Bin(op, x, y) => b.bin(op, slot_of[x], slot_of[y]),
        };
        slot_of.push(slot);
    }
    let root = slot_of.get(ast.root).copied().unwrap_or(0);
    let ops = live_only(&b.ops, root);
    let fused = fuse(&ops);
    let ops = live_only(&fused, fused.len() - 1);
    let mut needs_adjoint = Vec::with_capacity(ops.len());
    for op in &ops {
        let needs = match *op {
            Op::Param(_) => true,
            _ => op.operands().iter().flatten().any(|&a| needs_adjoint[a]),
        };
        needs_adjoint.push(needs);
    }
    let mut first_adjoint = vec![[false; 3]; ops.len()];
    let mut seen = vec![false; ops.len()];
    for i in (0..ops.len()).rev() {
        if needs_adjoint[i] {
            for (operand, a) in ops[i].operands().into_iter().enumerate() {
                if let Some(a) = a.filter(|&a| needs_adjoint[a] && !seen[a]) {
                    first_adjoint[i][operand] = true;
                    seen[a] = true;
                }
            }
        }
    }
    let mut jac_slot = vec![ops.len(); param_map.len()];
    for (i, op) in ops.iter().enumerate() {
        if let Op::Param(k) = *op {
            jac_slot[k] = i;
        }
    }
    Tape {
        ops,
        needs_adjoint,
        first_adjoint,
        jac_slot,
    }
}

/// The tape with common pairs of instructions fused into one (the inner
/// instruction of a pair must have no other use; it is left dead, for
/// [`live_only`] to drop). Each fusion saves a block loop in the forward
/// sweep and one in the reverse sweep, with the same rounding.
fn fuse(ops: &[Op]) -> Vec<Op> {
    let mut uses = vec![0usize; ops.len()];
    for op in ops {
        for a in op.operands().into_iter().flatten() {
            uses[a] += 1;
        }
    }
    let mut out = ops.to_vec();
    for i in 0..out.len() {
        let scale = |c: f64, s: Slot| match out[s] {
            Op::Powi(a, 2) if uses[s] == 1 => Op::ScaleSq(c, a),
            _ => Op::Scale(c, s),
        };
        let single = |s: Slot| uses[s] == 1;
        let constant = |s: Slot| match out[s] {
            Op::Const(c) => Some(c),
            _ => None,
        };
        let fused = match out[i] {
            Op::Powi(s, 2) if single(s) => match out[s] {
                Op::Bin(BinOp::Sub, a, b) => Some(Op::SqDiff(a, b)),
                _ => None,
            },
            Op::Bin(BinOp::Div, s, b) if single(s) => match out[s] {
                Op::Neg(a) => Some(Op::NegDiv(a, b)),
                _ => None,
            },
            Op::Bin(BinOp::Mul, a, b) => match (constant(a), constant(b)) {
                (Some(c), None) => Some(scale(c, b)),
                (None, Some(c)) => Some(scale(c, a)),
                _ => None,
            },
            Op::Func(Func::Exp, s) if single(s) => match out[s] {
                Op::NegDiv(a, b) => Some(Op::ExpNegDiv(a, b)),
                _ => None,
            },
            Op::Bin(BinOp::Add, s, c) | Op::Bin(BinOp::Add, c, s)
                if single(s) && matches!(out[s], Op::Bin(BinOp::Mul, ..)) =>
            {
                match out[s] {
                    Op::Bin(BinOp::Mul, a, b) => Some(Op::MulAdd(a, b, c)),
                    _ => None,
                }
            }
            Op::Bin(BinOp::Add, s, p) | Op::Bin(BinOp::Add, p, s)
                if single(s) && matches!(out[s], Op::SqDiff(..)) =>
            {
                match out[s] {
                    Op::SqDiff(a, b) => Some(Op::SumSqDiff(p, a, b)),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(op) = fused {
            out[i] = op;
        }
    }
    out
}

/// The instructions `root` depends on, renumbered, `root` last.
fn live_only(ops: &[Op], root: Slot) -> Vec<Op> {
    if ops.is_empty() {
        return vec![Op::Const(f64::NAN)];
    }
    let mut live = vec![false; root + 1];
    live[root] = true;
    for i in (0..=root).rev() {
        if live[i] {
            for a in ops[i].operands().into_iter().flatten() {
                live[a] = true;
            }
        }
    }
    let mut map = vec![0; root + 1];
    let mut out = Vec::with_capacity(root + 1);
    for i in 0..=root {
        if live[i] {
            map[i] = out.len();
            out.push(ops[i].renamed(&map));
        }
    }
    out
}

/// Emits instructions, folding and sharing them.
#[derive(Default)]
struct Builder {
    ops: Vec<Op>,
    seen: HashMap<Key, Slot>,
}

impl Builder {
    /// The slot computing `op`: an existing equal one, or a new one.
    fn emit(&mut self, op: Op) -> Slot {
        let key = Key::from(op);
        if let Some(&s) = self.seen.get(&key) {
            return s;
        }
        self.ops.push(op);
        let s = self.ops.len() - 1;
        self.seen.insert(key, s);
        s
    }

    fn constant(&self, s: Slot) -> Option<f64> {
        match self.ops[s] {
            Op::Const(v) => Some(v),
            _ => None,
        }
    }

    fn neg(&mut self, a: Slot) -> Slot {
        match self.constant(a) {
            Some(v) => self.emit(Op::Const(-v)),
            None => self.emit(Op::Neg(a)),
        }
    }

    fn call(&mut self, f: Func, a: Slot) -> Slot {
        match self.constant(a) {
            Some(v) => self.emit(Op::Const(f.value(v))),
            None => self.emit(Op::Func(f, a)),
        }
    }

    fn bin(&mut self, op: BinOp, a: Slot, b: Slot) -> Slot {
        let small_integer = |n: f64| n.fract() == 0.0 && n.abs() <= MAX_POWI;
        match (self.constant(a), self.constant(b)) {
            (Some(x), Some(n)) if op == BinOp::Pow && small_integer(n) => {
                self.emit(Op::Const(powi(x, n as i32)))
            }
            (Some(x), Some(y)) => self.emit(Op::Const(op.apply(x, y))),
            (_, Some(n)) if op == BinOp::Pow && small_integer(n) => {
                match n as i32 {
                    0 => self.emit(Op::Const(1.0)), // x^0 = 1 for every x, as powf
                    1 => a,
                    n => self.emit(Op::Powi(a, n)),
                }
            }
            _ => self.emit(Op::Bin(op, a, b)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;
    use crate::parser::parse;

    fn tape(text: &str) -> Tape {
        let p = parse(text, &["t"], &Limits::default()).unwrap();
        let params: Vec<usize> = (0..p.params.len()).collect();
        compile(&p.ast, &params, &[0])
    }

    #[test]
    fn constants_fold() {
        // The folded constant becomes a Scale factor, leaving no constant slot.
        assert_eq!(tape("a*(2*PI - 1)").ops.len(), 2);
        assert_eq!(tape("a*-2").ops, [Op::Param(0), Op::Scale(-2.0, 0)]);
        assert_eq!(tape("exp(0)*a").ops[1], Op::Scale(1.0, 0));
    }

    #[test]
    fn integer_powers_become_powi() {
        assert_eq!(tape("t^2*a").ops[1], Op::Powi(0, 2));
        assert_eq!(tape("a*t^-2").ops[2], Op::Powi(1, -2));
        assert_eq!(tape("a^1").ops, [Op::Param(0)]);
        assert_eq!(tape("a^0").ops, [Op::Const(1.0)]);
        assert!(matches!(tape("a*t^2.5").ops[3], Op::Bin(BinOp::Pow, 1, 2)));
    }

    #[test]
    fn common_pairs_are_fused() {
        let ops = tape("A*exp(-((t-x0)^2 + (a-t)^2)/(2*w^2)) + b").ops;
        let has = |f: fn(&Op) -> bool| ops.iter().any(f);
        assert!(has(|op| matches!(op, Op::SqDiff(..))));
        assert!(has(|op| matches!(op, Op::SumSqDiff(..))));
        assert!(has(|op| matches!(op, Op::ScaleSq(2.0, _))));
        assert!(has(|op| matches!(op, Op::ExpNegDiv(..))));
        assert!(matches!(ops.last(), Some(Op::MulAdd(..))));
        let unfused =
            |op: &Op| matches!(op, Op::Neg(_) | Op::Const(_) | Op::Bin(..) | Op::Func(..));
        assert!(!has(unfused));
        assert_eq!(tape("a*t*3").ops[3], Op::Scale(3.0, 2));
        assert!(
            !tape("a/(-t)")
                .ops
                .iter()
                .any(|op| matches!(op, Op::NegDiv(..)))
        );
        assert!(tape("(-a)/t").ops.contains(&Op::NegDiv(0, 1)));
        // An inner instruction used twice stays, and is not fused.
        let ops = tape("(a-t)^2 * (a-t)").ops;
        assert!(ops.contains(&Op::Powi(2, 2)));
    }

    #[test]
    fn equal_subexpressions_are_shared() {
        let t = tape("(a-t)^2 + (a-t)^2 + a");
        // a, t, (a-t)^2 fused, the two sums.
        assert_eq!(t.ops.len(), 5);
        assert_eq!(t.needs_adjoint, [true, false, true, true, true]);
        assert_eq!(t.jac_slot, [0]);
        // Reverse sweep: 4 gives 3 and 0 their first adjoints; 3 = 2 + 2 gives 2 its first.
        assert_eq!(t.first_adjoint[4], [true, true, false]);
        assert_eq!(t.first_adjoint[3], [true, false, false]);
        assert_eq!(t.first_adjoint[2], [false, false, false]);
    }
}

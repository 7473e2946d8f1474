//! The parsed formula: a tree stored in an arena, children before parents.
//!
//! Because every node's operands have smaller indices, the compiler walks the
//! arena front to back with no recursion, and dropping it is one `Vec` drop:
//! no operation on the tree recurses, however deep it is.

use crate::func::Func;

/// Index of a node in [`Ast::nodes`].
pub(crate) type NodeId = usize;

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

impl BinOp {
    /// `a op b`.
    #[inline]
    pub(crate) fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            BinOp::Add => a + b,
            BinOp::Sub => a - b,
            BinOp::Mul => a * b,
            BinOp::Div => a / b,
            BinOp::Pow => a.powf(b),
        }
    }
}

/// One node of the tree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Node {
    /// A number or named constant.
    Num(f64),
    /// The k-th parameter (order of first appearance while parsing).
    Param(usize),
    /// The j-th data column (index into the caller's column list while parsing).
    Column(usize),
    /// `-a`
    Neg(NodeId),
    /// `f(a)`
    Call(Func, NodeId),
    /// `a op b`
    Bin(BinOp, NodeId, NodeId),
}

/// A formula's tree: `nodes[root]` is the whole formula.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ast {
    pub(crate) nodes: Vec<Node>,
    pub(crate) root: NodeId,
}

impl Ast {
    /// Appends a node, returning its id.
    pub(crate) fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }
}

//! Formula text → [`Ast`]: a precedence-climbing (Pratt) parser.
//!
//! Grammar, loosest first: `+ -` (left), `* /` (left), unary `-`, `^`
//! (right-associative; its right operand may start with a unary minus).
//! So `-x^2` is `-(x^2)`, `a^-b` is `a^(-b)`, `2^3^2` is `2^9`, as in
//! mathematics and Python. A name is, in this order: a function when `(`
//! follows it, a data column, a constant (`PI`, `π`, `E`, `e`, `TAU`, `τ`),
//! an error when it is a function name, else a parameter.
//!
//! Recursion is bounded: every parenthesis, call, unary minus and right
//! operand of `^` adds a level, checked against [`Limits::max_depth`]
//! *before* recursing; the other operators recurse at most two frames
//! between such levels.

use std::collections::HashMap;

use crate::ast::{Ast, BinOp, Node, NodeId};
use crate::error::FormulaError;
use crate::func::{Func, constant};
use crate::lexer::{Tok, Token, tokenize};
use crate::limits::Limits;

/// Nesting above this is refused whatever [`Limits::max_depth`] says, so
/// that parsing never needs more than a few hundred kilobytes of stack.
pub(crate) const HARD_MAX_DEPTH: usize = 1000;

/// Binding power of a unary minus's operand: only `^` binds tighter.
const UNARY_BP: u8 = 5;

/// The result of parsing: the tree, parameters in order of first
/// appearance, and for each data column whether the formula uses it.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) ast: Ast,
    pub(crate) params: Vec<String>,
    pub(crate) column_used: Vec<bool>,
}

/// Parses `text`; names in `columns` are data columns (the first of equal names wins).
pub(crate) fn parse(text: &str, columns: &[&str], limits: &Limits) -> Result<Parsed, FormulaError> {
    let len = text.chars().count();
    if len > limits.max_len {
        return Err(FormulaError::TooLong {
            len,
            limit: limits.max_len,
        });
    }
    let tokens = tokenize(text, limits.max_name_len)?;
    let mut column_index = HashMap::with_capacity(columns.len());
    for (j, c) in columns.iter().enumerate() {
        column_index.entry(*c).or_insert(j);
    }
    let mut p = Parser {
        tokens,
        pos: 0,
        column_index,
        column_used: vec![false; columns.len()],
        max_depth: limits.max_depth.min(HARD_MAX_DEPTH),
        max_params: limits.max_params,
        depth: 0,
        ast: Ast::default(),
        params: Vec::new(),
        param_index: HashMap::new(),
    };
    let root = p.expr(0)?;
    let end = p.peek();
    if end.tok != Tok::End {
        return Err(syntax(end, "an operator or the end of the formula"));
    }
    p.ast.root = root;
    Ok(Parsed {
        ast: p.ast,
        params: p.params,
        column_used: p.column_used,
    })
}

/// A syntax error at `token`, saying what was expected.
fn syntax(token: &Token, expected: &str) -> FormulaError {
    FormulaError::Syntax {
        column: token.column,
        message: format!(
            "unexpected {} at column {} (expected {expected})",
            token.tok.describe(),
            token.column
        ),
    }
}

struct Parser<'c> {
    tokens: Vec<Token>,
    pos: usize,
    column_index: HashMap<&'c str, usize>,
    column_used: Vec<bool>,
    max_depth: usize,
    max_params: usize,
    depth: usize,
    ast: Ast,
    params: Vec<String>,
    param_index: HashMap<String, usize>,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // `tokenize` always ends with `End`, and `pos` never passes it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn advance(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        t
    }

    /// Parses one more nesting level with `expr(min_bp)`, refusing it first
    /// if too deep (naming the column of the token that opened the level).
    fn nested(&mut self, min_bp: u8) -> Result<NodeId, FormulaError> {
        if self.depth >= self.max_depth {
            let opener = &self.tokens[self.pos.saturating_sub(1)];
            return Err(FormulaError::TooDeep {
                limit: self.max_depth,
                column: opener.column,
            });
        }
        self.depth += 1;
        let r = self.expr(min_bp);
        self.depth -= 1;
        r
    }

    /// An expression whose operators bind at least as tightly as `min_bp`.
    fn expr(&mut self, min_bp: u8) -> Result<NodeId, FormulaError> {
        let mut lhs = self.prefix()?;
        loop {
            let op = match self.peek().tok {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                Tok::Caret => BinOp::Pow,
                _ => break,
            };
            // (left, right) binding powers: left-associative unless right < left.
            let (left, right) = match op {
                BinOp::Add | BinOp::Sub => (1, 2),
                BinOp::Mul | BinOp::Div => (3, 4),
                BinOp::Pow => (6, UNARY_BP),
            };
            if left < min_bp {
                break;
            }
            self.advance();
            let rhs = if op == BinOp::Pow {
                self.nested(right)?
            } else {
                self.expr(right)?
            };
            lhs = self.ast.push(Node::Bin(op, lhs, rhs));
        }
        Ok(lhs)
    }

    /// A number, name, call, parenthesised expression or unary minus.
    fn prefix(&mut self) -> Result<NodeId, FormulaError> {
        let token = self.advance();
        match token.tok {
            Tok::Num(v) => Ok(self.ast.push(Node::Num(v))),
            Tok::Minus => {
                let a = self.nested(UNARY_BP)?;
                Ok(self.ast.push(Node::Neg(a)))
            }
            Tok::LParen => {
                let a = self.nested(0)?;
                self.close(&token)?;
                Ok(a)
            }
            Tok::Name(ref name) => self.name(name, &token),
            _ => Err(syntax(&token, "a number, a name, `(` or `-`")),
        }
    }

    /// Expects the `)` matching `open`.
    fn close(&mut self, open: &Token) -> Result<(), FormulaError> {
        let t = self.peek();
        if t.tok == Tok::RParen {
            self.advance();
            Ok(())
        } else {
            Err(syntax(
                t,
                &format!(
                    "an operator or `)` closing the `(` at column {}",
                    open.column
                ),
            ))
        }
    }

    /// A name: call, column, constant or parameter (see the module doc).
    fn name(&mut self, name: &str, token: &Token) -> Result<NodeId, FormulaError> {
        if self.peek().tok == Tok::LParen {
            let Some(f) = Func::from_name(name) else {
                return Err(FormulaError::Syntax {
                    column: token.column,
                    message: format!("unknown function `{name}` at column {}", token.column),
                });
            };
            let open = self.advance();
            let a = self.nested(0)?;
            self.close(&open)?;
            return Ok(self.ast.push(Node::Call(f, a)));
        }
        if let Some(&j) = self.column_index.get(name) {
            self.column_used[j] = true;
            return Ok(self.ast.push(Node::Column(j)));
        }
        if let Some(v) = constant(name) {
            return Ok(self.ast.push(Node::Num(v)));
        }
        if Func::from_name(name).is_some() {
            return Err(FormulaError::FunctionWithoutCall {
                name: name.to_string(),
                column: token.column,
            });
        }
        let k = match self.param_index.get(name) {
            Some(&k) => k,
            None => {
                if self.params.len() >= self.max_params {
                    return Err(FormulaError::TooManyParams {
                        limit: self.max_params,
                    });
                }
                self.params.push(name.to_string());
                self.param_index
                    .insert(name.to_string(), self.params.len() - 1);
                self.params.len() - 1
            }
        };
        Ok(self.ast.push(Node::Param(k)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree in fully parenthesised form.
    fn show(text: &str) -> String {
        let p = parse(text, &["x", "e"], &Limits::default()).unwrap();
        let mut s: Vec<String> = Vec::new();
        for node in &p.ast.nodes {
            let t = match *node {
                Node::Num(v) => format!("{v}"),
                Node::Param(k) => p.params[k].clone(),
                Node::Column(j) => ["x", "e"][j].to_string(),
                Node::Neg(a) => format!("(-{})", s[a]),
                Node::Call(f, a) => format!("{f:?}({})", s[a]),
                Node::Bin(op, a, b) => {
                    let o = ["+", "-", "*", "/", "^"][op as usize];
                    format!("({}{o}{})", s[a], s[b])
                }
            };
            s.push(t);
        }
        s[p.ast.root].clone()
    }

    #[test]
    fn precedence_and_associativity() {
        for (text, tree) in [
            ("a + b*x", "(a+(b*x))"),
            ("a - b - x", "((a-b)-x)"),
            ("a / b / x", "((a/b)/x)"),
            ("a ^ b ^ x", "(a^(b^x))"),
            ("a*b^x", "(a*(b^x))"),
            ("(a + b)*x", "((a+b)*x)"),
            ("a*x/b*x", "(((a*x)/b)*x)"),
        ] {
            assert_eq!(show(text), tree, "{text}");
        }
    }

    #[test]
    fn unary_minus_binds_as_in_maths() {
        for (text, tree) in [
            ("-x^2", "(-(x^2))"),
            ("a^-b", "(a^(-b))"),
            ("a^-b^x", "(a^(-(b^x)))"),
            ("a^-b*x", "((a^(-b))*x)"),
            ("a*-x^2", "(a*(-(x^2)))"),
            ("a - -x", "(a-(-x))"),
            ("-a*x", "((-a)*x)"),
            ("--a", "(-(-a))"),
        ] {
            assert_eq!(show(text), tree, "{text}");
        }
    }

    #[test]
    fn names_resolve_columns_before_constants() {
        assert_eq!(
            show("exp(a*x) + e + E + PI"),
            "(((Exp((a*x))+e)+2.718281828459045)+3.141592653589793)"
        );
        let p = parse("a*e + TAU", &["t"], &Limits::default()).unwrap();
        assert_eq!(p.params, ["a"]);
        assert_eq!(p.column_used, [false]);
    }

    #[test]
    fn errors_name_the_column_and_what_was_expected() {
        let err = |t: &str| {
            parse(t, &["t"], &Limits::default())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("a + b*(t"),
            "unexpected end of formula at column 9 (expected an operator or `)` closing the `(` at column 7)"
        );
        assert_eq!(
            err("a t"),
            "unexpected name `t` at column 3 (expected an operator or the end of the formula)"
        );
        assert_eq!(
            err("sin + a*t"),
            "function `sin` at column 1 must be followed by `(` (write `sin(...)`)"
        );
        assert_eq!(err("foo(t)"), "unknown function `foo` at column 1");
        assert_eq!(
            err(""),
            "unexpected end of formula at column 1 (expected a number, a name, `(` or `-`)"
        );
        assert_eq!(
            err("a + )"),
            "unexpected `)` at column 5 (expected a number, a name, `(` or `-`)"
        );
        assert_eq!(
            err("2t"),
            "unexpected name `t` at column 2 (expected an operator or the end of the formula)"
        );
    }

    #[test]
    fn limits_are_checked() {
        let lim = Limits {
            max_len: 10,
            max_depth: 2,
            max_params: 2,
            max_name_len: 3,
        };
        let e = |t: &str| parse(t, &["t"], &lim).unwrap_err();
        assert_eq!(
            e("a+b+c+d+e+f"),
            FormulaError::TooLong { len: 11, limit: 10 }
        );
        assert_eq!(
            e("((((a))))"),
            FormulaError::TooDeep {
                limit: 2,
                column: 3
            }
        );
        assert_eq!(e("a+b+c"), FormulaError::TooManyParams { limit: 2 });
        assert!(matches!(
            e("abcd"),
            FormulaError::NameTooLong { len: 4, .. }
        ));
        assert!(parse("((a))+b", &["t"], &lim).is_ok());
        assert!(parse("a^t^t", &["t"], &lim).is_ok());
        assert!(matches!(
            e("a^t^t^t"),
            FormulaError::TooDeep { limit: 2, .. }
        ));
    }
}

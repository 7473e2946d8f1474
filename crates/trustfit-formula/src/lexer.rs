//! Splits a formula into tokens: numbers (`2`, `0.5`, `.5`, `2.`, `1e-3`,
//! `2.5E+4`), names (a letter or `_`, then letters, digits or `_`; Greek
//! letters such as `π` count as letters), the operators `+ - * / ^` and
//! parentheses. Whitespace separates tokens and is otherwise ignored.

use crate::error::FormulaError;

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A number literal.
    Num(f64),
    /// A name: parameter, column, function or constant.
    Name(String),
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `^`
    Caret,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// The end of the formula.
    End,
}

impl Tok {
    /// How the token reads in an error message.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Num(v) => format!("number {v}"),
            Tok::Name(n) => format!("name `{n}`"),
            Tok::Plus => "`+`".into(),
            Tok::Minus => "`-`".into(),
            Tok::Star => "`*`".into(),
            Tok::Slash => "`/`".into(),
            Tok::Caret => "`^`".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::End => "end of formula".into(),
        }
    }
}

/// A token and the 1-based character column where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) column: usize,
}

/// Splits `text` into tokens, ending with [`Tok::End`]; names longer than
/// `max_name_len` characters are refused.
pub(crate) fn tokenize(text: &str, max_name_len: usize) -> Result<Vec<Token>, FormulaError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::with_capacity(chars.len() / 2 + 1);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let tok = if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let (value, end) = number(&chars, i, column)?;
            i = end;
            Tok::Num(value)
        } else if is_name_start(c) {
            let start = i;
            while i < chars.len() && is_name_char(chars[i]) {
                i += 1;
            }
            if i - start > max_name_len {
                return Err(FormulaError::NameTooLong {
                    column,
                    len: i - start,
                    limit: max_name_len,
                });
            }
            Tok::Name(chars[start..i].iter().collect())
        } else {
            i += 1;
            match c {
                '+' => Tok::Plus,
                '-' => Tok::Minus,
                '*' => Tok::Star,
                '/' => Tok::Slash,
                '^' => Tok::Caret,
                '(' => Tok::LParen,
                ')' => Tok::RParen,
                _ => {
                    return Err(FormulaError::Syntax {
                        column,
                        message: format!("unexpected character {c:?} at column {column}"),
                    });
                }
            }
        };
        tokens.push(Token { tok, column });
    }
    tokens.push(Token {
        tok: Tok::End,
        column: chars.len() + 1,
    });
    Ok(tokens)
}

/// Whether `c` may start a name.
fn is_name_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

/// Whether `c` may continue a name.
fn is_name_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Reads the number starting at `start`: digits, an optional fraction and an
/// optional exponent (`e` or `E`, a sign, digits; without digits the `e` is
/// not part of the number). Returns the value and the index after it.
fn number(chars: &[char], start: usize, column: usize) -> Result<(f64, usize), FormulaError> {
    let digits = |mut i: usize| {
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let mut end = digits(start);
    if end < chars.len() && chars[end] == '.' {
        end = digits(end + 1);
    }
    if end < chars.len() && (chars[end] == 'e' || chars[end] == 'E') {
        let mut j = end + 1;
        if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
            j += 1;
        }
        let exp_end = digits(j);
        if exp_end > j {
            end = exp_end;
        }
    }
    let text: String = chars[start..end].iter().collect();
    match text.parse::<f64>() {
        Ok(v) => Ok((v, end)),
        Err(_) => Err(FormulaError::Syntax {
            column,
            message: format!("malformed number {text:?} at column {column}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(text: &str) -> Vec<Tok> {
        tokenize(text, 256)
            .unwrap()
            .into_iter()
            .map(|t| t.tok)
            .collect()
    }

    #[test]
    fn numbers_take_an_optional_exponent() {
        assert_eq!(toks("1e-3"), [Tok::Num(1e-3), Tok::End]);
        assert_eq!(toks("2.5E+4"), [Tok::Num(2.5e4), Tok::End]);
        assert_eq!(toks(".5"), [Tok::Num(0.5), Tok::End]);
        assert_eq!(toks("2."), [Tok::Num(2.0), Tok::End]);
        assert_eq!(toks("2e"), [Tok::Num(2.0), Tok::Name("e".into()), Tok::End]);
        assert_eq!(
            toks("3e+x"),
            [
                Tok::Num(3.0),
                Tok::Name("e".into()),
                Tok::Plus,
                Tok::Name("x".into()),
                Tok::End
            ]
        );
    }

    #[test]
    fn names_and_operators_have_columns() {
        let t = tokenize(" π*x_1 ^(b2)", 256).unwrap();
        let cols: Vec<usize> = t.iter().map(|t| t.column).collect();
        assert_eq!(cols, [2, 3, 4, 8, 9, 10, 12, 13]);
        assert_eq!(t[0].tok, Tok::Name("π".into()));
        assert_eq!(t[2].tok, Tok::Name("x_1".into()));
    }

    #[test]
    fn bad_characters_and_long_names_are_refused() {
        let e = tokenize("a + $", 256).unwrap_err();
        assert_eq!(e.to_string(), "unexpected character '$' at column 5");
        let e = tokenize("a + bbbb", 3).unwrap_err();
        assert!(matches!(
            e,
            FormulaError::NameTooLong {
                column: 5,
                len: 4,
                limit: 3
            }
        ));
        assert!(tokenize(".", 256).is_err());
    }
}

//! [`Seeding`]: which derivative directions one forward-mode pass carries, as a
//! direction per column, so dense chunks of columns and sparse column groups are one
//! interface between the solver and a generic model.

use crate::autodiff::dual::Dual;

/// The seed of one forward-mode pass: column `j` of `x` is perturbed along direction
/// `direction[j]` (or not at all), so the pass yields, for each direction `d`, the sum
/// of the columns of J seeded with `d` — one column each when dense, a column group's
/// compressed values when sparse (its columns share no row, so nothing mixes).
///
/// ```
/// use trustfit::Seeding;
/// // Columns 0 and 2 together (direction 0), column 1 alone (direction 1).
/// let dirs = [0, 1, 0];
/// let s = Seeding::new(&dirs, 2);
/// assert_eq!((s.width(), s.direction(2), s.direction(3)), (2, Some(0), None));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Seeding<'a> {
    direction: &'a [u32],
    width: usize,
}

impl<'a> Seeding<'a> {
    /// Marks a column not seeded in this pass.
    pub const NONE: u32 = u32::MAX;
    /// The most directions one pass carries (the widest [`Dual`] used).
    pub const MAX_WIDTH: usize = 16;

    /// `width` directions (at most [`MAX_WIDTH`](Self::MAX_WIDTH)); `direction[j]` is
    /// column `j`'s, or [`NONE`](Self::NONE). Directions at or beyond `width` count as
    /// `NONE`.
    ///
    /// ```
    /// let s = trustfit::Seeding::new(&[0, trustfit::Seeding::NONE], 1);
    /// assert_eq!(s.direction(1), None);
    /// ```
    pub fn new(direction: &'a [u32], width: usize) -> Self {
        Self {
            direction,
            width: width.min(Self::MAX_WIDTH),
        }
    }

    /// The number of directions `w`: derivative outputs are `m × w`, row-major.
    ///
    /// ```
    /// assert_eq!(trustfit::Seeding::new(&[0, 1, 2], 3).width(), 3);
    /// ```
    pub fn width(&self) -> usize {
        self.width
    }

    /// Column `j`'s direction, `None` when it is not seeded.
    ///
    /// ```
    /// assert_eq!(trustfit::Seeding::new(&[1, 0], 2).direction(0), Some(1));
    /// ```
    pub fn direction(&self, j: usize) -> Option<usize> {
        let d = *self.direction.get(j)? as usize;
        (d < self.width).then_some(d)
    }

    /// The dual point: `x[j]` with derivative 1 along column `j`'s direction.
    ///
    /// ```
    /// let x = trustfit::Seeding::new(&[1, 0], 2).seed::<2>(&[5.0, 6.0]);
    /// assert_eq!((x[0].eps, x[1].eps), ([0.0, 1.0], [1.0, 0.0]));
    /// ```
    pub fn seed<const N: usize>(&self, x: &[f64]) -> Vec<Dual<N>> {
        let mut duals = Vec::with_capacity(x.len());
        self.seed_into(x, &mut duals);
        duals
    }

    /// [`seed`](Self::seed), appended to `duals` (whose capacity the caller chose).
    ///
    /// ```
    /// let mut d = Vec::with_capacity(3);
    /// trustfit::Seeding::new(&[0], 1).seed_into::<1>(&[2.0], &mut d);
    /// assert_eq!((d.len(), d[0].eps), (1, [1.0]));
    /// ```
    pub fn seed_into<const N: usize>(&self, x: &[f64], duals: &mut Vec<Dual<N>>) {
        duals.extend(x.iter().enumerate().map(|(j, &v)| match self.direction(j) {
            Some(d) => Dual::variable(v, d),
            None => Dual::constant(v),
        }));
    }
}

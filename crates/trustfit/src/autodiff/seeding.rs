//! [`Seeding`]: which derivative directions one forward-mode pass carries, as a
//! direction per column, so dense chunks of columns and sparse column groups are one
//! interface between the solver and a generic model.

use std::cell::{RefCell, RefMut};

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
    scratch: Option<&'a DualScratch>,
    source: Option<&'a [u32]>,
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
    #[inline]
    pub fn new(direction: &'a [u32], width: usize) -> Self {
        Self {
            direction,
            width: width.min(Self::MAX_WIDTH),
            scratch: None,
            source: None,
        }
    }

    /// Bits of an output entry's source code (see [`into_entries`](Self::into_entries))
    /// that hold the direction; the residual index is the rest.
    ///
    /// ```
    /// use trustfit::Seeding;
    /// let code = Seeding::entry(7, 3).unwrap();
    /// assert_eq!((code >> Seeding::DIRECTION_BITS, code & 31), (7, 3));
    /// ```
    pub const DIRECTION_BITS: u32 = 5;

    /// The direction's bits of a code: `code & DIRECTION_MASK`.
    pub(crate) const DIRECTION_MASK: u32 = (1 << Self::DIRECTION_BITS) - 1;

    /// The same seeding with an output of one value per entry of `source`: entry `e`
    /// gets the derivative of residual `source[e] >> 5` along direction
    /// `source[e] & 31` (code it with [`entry`](Self::entry)), and is left as it is
    /// when that direction is not below the width or the residual does not exist.
    /// Sparse J by column groups is then written in place — an entry's residual is its
    /// row, its direction its column's — with no `m × w` array in between, and in one
    /// flat loop where a walk by rows spent more on its rows than on 2 to 3 entries.
    ///
    /// ```
    /// use trustfit::{Auto, AutoResiduals, CallbackError, Real, Residuals, Seeding};
    /// struct Pair;
    /// impl AutoResiduals for Pair {
    ///     fn num_residuals(&self) -> usize { 2 }
    ///     fn residuals<T: Real>(&self, x: &[T], f: &mut [T]) -> Result<(), CallbackError> {
    ///         f[0] = x[0] * 3.0;
    ///         f[1] = x[1] * x[1];
    ///         Ok(())
    ///     }
    /// }
    /// // Diagonal J: both columns in one group (direction 0); its two entries.
    /// let source = [Seeding::entry(0, 0).unwrap(), Seeding::entry(1, 0).unwrap()];
    /// let s = Seeding::new(&[0, 0], 1).into_entries(&source);
    /// let mut values = [0.0; 2];
    /// Auto(Pair).auto_derivatives(&[1.0, 5.0], &s, &mut values).unwrap();
    /// assert_eq!(values, [3.0, 10.0]);
    /// ```
    #[inline]
    pub fn into_entries(self, source: &'a [u32]) -> Self {
        Self {
            source: Some(source),
            ..self
        }
    }

    /// The code of an output entry (see [`into_entries`](Self::into_entries)) from
    /// residual `row` along `direction`: `None` past 2²⁷ − 1 rows; directions from
    /// 31 up all mean "not in this pass".
    ///
    /// ```
    /// use trustfit::Seeding;
    /// assert_eq!(Seeding::entry(2, 1), Some(2 * 32 + 1));
    /// assert_eq!(Seeding::entry(2, 99), Seeding::entry(2, 31));
    /// assert_eq!(Seeding::entry(1 << 27, 0), None);
    /// ```
    #[inline]
    pub fn entry(row: usize, direction: usize) -> Option<u32> {
        let row = u32::try_from(row)
            .ok()
            .filter(|&r| r < 1 << (32 - Self::DIRECTION_BITS))?;
        let direction = direction.min(Self::DIRECTION_MASK as usize) as u32;
        Some(row << Self::DIRECTION_BITS | direction)
    }

    /// The output entries' codes given by [`into_entries`](Self::into_entries), if
    /// any (else the output is `m × width`, row-major).
    ///
    /// ```
    /// assert!(trustfit::Seeding::new(&[0], 1).entries().is_none());
    /// ```
    #[inline]
    pub fn entries(&self) -> Option<&'a [u32]> {
        self.source
    }

    /// The same seeding with buffers for the dual point and residuals that outlive the
    /// pass: a solver evaluating J many times then neither allocates nor faults fresh
    /// pages in (at m = 10⁵ those were most of a sparse Jacobian's cost).
    ///
    /// ```
    /// use trustfit::{DualScratch, Seeding};
    /// let scratch = DualScratch::default();
    /// let s = Seeding::new(&[0], 1).with_scratch(&scratch);
    /// assert!(s.scratch().is_some());
    /// ```
    #[inline]
    pub fn with_scratch(self, scratch: &'a DualScratch) -> Self {
        Self {
            scratch: Some(scratch),
            ..self
        }
    }

    /// The buffers given by [`with_scratch`](Self::with_scratch), if any.
    ///
    /// ```
    /// assert!(trustfit::Seeding::new(&[0], 1).scratch().is_none());
    /// ```
    #[inline]
    pub fn scratch(&self) -> Option<&'a DualScratch> {
        self.scratch
    }

    /// The number of directions `w`: derivative outputs are `m × w`, row-major.
    ///
    /// ```
    /// assert_eq!(trustfit::Seeding::new(&[0, 1, 2], 3).width(), 3);
    /// ```
    #[inline]
    pub fn width(&self) -> usize {
        self.width
    }

    /// Column `j`'s direction, `None` when it is not seeded.
    ///
    /// ```
    /// assert_eq!(trustfit::Seeding::new(&[1, 0], 2).direction(0), Some(1));
    /// ```
    #[inline]
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
        let start = duals.len();
        duals.resize(start + x.len(), Dual::constant(0.0));
        self.seed_slice(x, &mut duals[start..]);
    }

    /// [`seed`](Self::seed) over existing duals (`duals.len() == x.len()`), so a
    /// reused buffer is written once, not cleared and then extended.
    ///
    /// ```
    /// let mut d = [trustfit::Dual::<2>::constant(9.0); 2];
    /// trustfit::Seeding::new(&[1, trustfit::Seeding::NONE], 2).seed_slice(&[5.0, 6.0], &mut d);
    /// assert_eq!((d[0].eps, d[1].re, d[1].eps), ([0.0, 1.0], 6.0, [0.0, 0.0]));
    /// ```
    pub fn seed_slice<const N: usize>(&self, x: &[f64], duals: &mut [Dual<N>]) {
        // One tight loop over the columns with a direction (at m = 10⁵ seeding was
        // 40 % of a sparse Jacobian), then the unseeded rest.
        let width = self.width.min(N);
        let seeded = self.direction.len().min(x.len()).min(duals.len());
        let (head, tail) = duals.split_at_mut(seeded);
        for ((d, &v), &k) in head.iter_mut().zip(x).zip(self.direction) {
            *d = Dual::constant(v);
            let k = k as usize;
            if k < width
                && let Some(e) = d.eps.get_mut(k)
            {
                *e = 1.0;
            }
        }
        for (d, &v) in tail.iter_mut().zip(&x[seeded..]) {
            *d = Dual::constant(v);
        }
    }
}

/// Reusable buffers of dual numbers, one per width [`Auto`](crate::Auto) evaluates at,
/// lent to a pass through [`Seeding::with_scratch`]. A buffer already lent (a model
/// differentiating inside its own residuals) is not lent twice: that pass allocates.
///
/// ```
/// use trustfit::{Auto, AutoResiduals, CallbackError, DualScratch, Real, Residuals, Seeding};
/// struct Sq;
/// impl AutoResiduals for Sq {
///     fn num_residuals(&self) -> usize { 1 }
///     fn residuals<T: Real>(&self, x: &[T], f: &mut [T]) -> Result<(), CallbackError> {
///         f[0] = x[0] * x[0];
///         Ok(())
///     }
/// }
/// let scratch = DualScratch::default();
/// let mut d = [0.0];
/// for x in [1.0, 2.0] {
///     let s = Seeding::new(&[0], 1).with_scratch(&scratch);
///     Auto(Sq).auto_derivatives(&[x], &s, &mut d).unwrap();
///     assert_eq!(d, [2.0 * x]);
/// }
/// ```
#[derive(Debug, Default)]
pub struct DualScratch(RefCell<Buffers>);

/// The buffers, one vector per width, with their lookup ([`ScratchWidth`]) and size.
macro_rules! dual_buffers {
    ($($n:literal => $field:ident),+) => {
        /// One vector per width (see `Auto::auto_derivatives` for the widths).
        #[derive(Debug, Default)]
        pub(crate) struct Buffers {
            $($field: Vec<Dual<$n>>,)+
            /// The seeding the dual point's derivatives were last written for.
            seeded: SeedRecord,
        }

        impl Buffers {
            /// Bytes held (capacity).
            fn bytes(&self) -> usize {
                0 $(+ self.$field.capacity() * std::mem::size_of::<Dual<$n>>())+
            }
        }

        $(impl ScratchWidth for Dual<$n> {
            fn buffer(b: &mut Buffers) -> &mut Vec<Self> {
                &mut b.$field
            }
        })+
    };
}

dual_buffers!(
    1 => w1, 2 => w2, 3 => w3, 4 => w4, 5 => w5, 6 => w6, 7 => w7, 8 => w8,
    9 => w9, 10 => w10, 11 => w11, 12 => w12, 16 => w16
);

impl DualScratch {
    /// The buffers, unless a pass holds them already.
    #[inline]
    pub(crate) fn lend(&self) -> Option<RefMut<'_, Buffers>> {
        self.0.try_borrow_mut().ok()
    }

    /// Bytes held (capacity), or `usize::MAX` while a pass holds the buffers.
    /// (The seed record's copy of the directions is not counted: 4 bytes per
    /// column beside at least 16 per dual.)
    pub(crate) fn bytes(&self) -> usize {
        self.0.try_borrow().map_or(usize::MAX, |b| b.bytes())
    }
}

/// Which seeding the front of one dual buffer holds: its type's width `N`, the
/// seeding's width, the point's length and a copy of the directions. A pass with
/// the same ones (every Jacobian of a solve) writes only the values `x`: the
/// derivative parts are as it would write them (the model reads the dual point,
/// never writes it), and at n = 10⁵ writing them was a third of a sparse pass.
#[derive(Debug, Default)]
pub(crate) struct SeedRecord {
    dual_width: usize,
    width: usize,
    len: usize,
    direction: Vec<u32>,
}

impl SeedRecord {
    /// Points shorter than this are seeded whole: comparing their directions costs
    /// about what writing their derivative parts saves (NIST and MINPACK sizes).
    const MIN_LEN: usize = 256;

    /// Records no seeding (the buffers' front is about to be overwritten).
    fn forget(&mut self) {
        self.dual_width = 0;
    }

    /// Whether `N`-wide duals were last seeded as `seeding` for a point of `len`;
    /// when not, records that they are about to be (the caller then seeds them).
    pub(crate) fn still_seeded<const N: usize>(
        &mut self,
        seeding: &Seeding<'_>,
        len: usize,
    ) -> bool {
        let same = self.dual_width == N
            && self.width == seeding.width
            && self.len == len
            && self.direction == seeding.direction;
        if !same {
            self.dual_width = N;
            self.width = seeding.width;
            self.len = len;
            self.direction.clear();
            self.direction.extend_from_slice(seeding.direction);
        }
        same
    }
}

impl Buffers {
    /// The `N`-wide buffer and whether its front is seeded as `seeding` already
    /// (see [`SeedRecord`]).
    pub(crate) fn lend_width<const N: usize>(
        &mut self,
        seeding: &Seeding<'_>,
        len: usize,
    ) -> (&mut Vec<Dual<N>>, bool)
    where
        Dual<N>: ScratchWidth,
    {
        let seeded = if len < SeedRecord::MIN_LEN {
            self.seeded.forget();
            false
        } else {
            self.seeded.still_seeded::<N>(seeding, len)
        };
        (Dual::<N>::buffer(self), seeded)
    }
}

/// The buffer of one dual type in [`Buffers`].
pub(crate) trait ScratchWidth: Sized {
    /// This width's vector.
    fn buffer(b: &mut Buffers) -> &mut Vec<Self>;
}

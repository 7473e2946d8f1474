//! Jacobians by forward-mode automatic differentiation (`JacSpec::Auto`): the solver's
//! side of [`Seeding`]. Dense J is seeded by chunks of at most 16 columns (one pass
//! when n ≤ 16); sparse J by chunks of 16 column groups of `jac_sparsity` (the groups
//! of sparse differences), written into CSR in place. The dual numbers of a
//! pass live in a [`DualScratch`] kept here, so no Jacobian after the first allocates.

use std::cell::RefCell;
use std::sync::Arc;

use crate::autodiff::seeding::{DualScratch, Seeding};
use crate::error::Error;
use crate::jacobian::groups::{ColumnGrouping, group_columns};
use crate::linalg::sparse::{CsrMatrix, SparsityPattern};
use crate::problem::{Residuals, eval_auto};

/// The column groups of a sparse J for forward passes: columns of one group share no
/// row, so one direction carries them all. Any grouping gives the same exact values,
/// so the fewest groups win, found as cheaply as possible.
pub(crate) struct AutoGroups {
    /// Group of each column.
    group_of: Vec<u32>,
    /// Number of groups (directions over all passes).
    pub count: usize,
    /// Each entry's code (its row and its column's group, see
    /// [`Seeding::into_entries`]) in CSR order when one pass seeds them all, else
    /// empty (filled per pass).
    source: Vec<u32>,
}

impl AutoGroups {
    /// [`new`](Self::new), or the groups the thread last built for a clone of
    /// `pattern` (same shared arrays): a loop of solves over one pattern builds them
    /// once (at n = 10⁵ they cost a twentieth of a 5-iteration solve, a sixth of what
    /// automatic differentiation adds to it). Kept only up to [`SPARE_BYTES`], counting
    /// the pattern the cache keeps alive.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn for_pattern(pattern: &SparsityPattern) -> Result<Arc<Self>, Error> {
        let cached = LAST_GROUPS.try_with(|last| {
            let last = last.try_borrow().ok()?;
            let (p, g) = last.as_ref()?;
            p.is_clone_of(pattern).then(|| Arc::clone(g))
        });
        if let Ok(Some(groups)) = cached {
            return Ok(groups);
        }
        let groups = Arc::new(Self::new(pattern)?);
        let bytes = pattern.bytes() + 4 * (groups.group_of.len() + groups.source.len());
        let kept = (bytes <= SPARE_BYTES).then(|| (pattern.clone(), Arc::clone(&groups)));
        let _ = LAST_GROUPS.try_with(|last| {
            if let Ok(mut last) = last.try_borrow_mut() {
                *last = kept;
            }
        });
        Ok(groups)
    }

    /// `j mod b` for a band (see [`band_width`]), else largest-first; with one
    /// pass, each entry's code once for all.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for patterns beyond 32-bit indices, or of 2²⁷ rows
    /// or more (entry codes hold a row in 27 bits).
    pub fn new(pattern: &SparsityPattern) -> Result<Self, Error> {
        if Seeding::entry(pattern.nrows(), 0).is_none() {
            return Err(Error::option(
                "jac_sparsity",
                "has 2²⁷ or more rows; automatic sparse Jacobians index rows in 27 bits \
                 (use jac='2-point' or an analytic Jacobian).",
            ));
        }
        let mut groups = Self::grouped(pattern)?;
        if groups.count <= Seeding::MAX_WIDTH {
            let mut source = Vec::with_capacity(pattern.indices().len());
            entry_codes(pattern, &groups.group_of, 0, &mut source);
            groups.source = source;
        }
        Ok(groups)
    }

    /// The groups alone.
    fn grouped(pattern: &SparsityPattern) -> Result<Self, Error> {
        let n = pattern.ncols();
        if let Some(b) = band_width(pattern) {
            // j mod b by a wrapping counter (a division per column cost a millisecond
            // at n = 10⁵).
            let b32 = b as u32;
            let next = |&g: &u32| Some(if g + 1 == b32 { 0 } else { g + 1 });
            let group_of = std::iter::successors(Some(0u32), next).take(n).collect();
            return Ok(Self {
                group_of,
                count: b,
                source: Vec::new(),
            });
        }
        let columns = pattern.columns().ok_or_else(|| {
            Error::option(
                "jac_sparsity",
                "has 2³² − 1 or more rows, columns or entries; column groups index them in 32 bits.",
            )
        })?;
        let g = group_columns(pattern, &columns, ColumnGrouping::LargestFirst);
        Ok(Self {
            group_of: g.group_of.iter().map(|&k| k as u32).collect(),
            count: g.count,
            source: Vec::new(),
        })
    }
}

/// Appends each entry's code (CSR order) for the pass seeding groups `g0..g0 + 16`
/// along directions `0..16`: its row, and its column's direction in the pass (none
/// outside those groups). Rows are below 2²⁷ (checked by [`AutoGroups::new`]).
fn entry_codes(pattern: &SparsityPattern, group_of: &[u32], g0: usize, source: &mut Vec<u32>) {
    let indices = pattern.indices();
    for (row, r) in pattern.indptr().windows(2).enumerate() {
        let columns = indices.get(r[0]..r[1]).unwrap_or_default();
        source.extend(columns.iter().map(|&j| {
            let d = group_of
                .get(j)
                .map_or(u32::MAX, |&g| g.wrapping_sub(g0 as u32));
            Seeding::entry(row, d as usize).unwrap_or(u32::MAX)
        }));
    }
}

/// `b` when the longest row has `b` entries and every row lies within `b`
/// consecutive columns: then columns `j mod b` share no row (two of a group are `b`
/// or more apart), and no grouping has fewer than `b` groups. One pass over the rows
/// (Curtis, Powell and Reid's banded case), where largest-first transposes the
/// pattern and sorts its columns: at 10⁵ columns that set-up cost as much as the
/// solve's Jacobians.
fn band_width(pattern: &SparsityPattern) -> Option<usize> {
    let (indptr, indices) = (pattern.indptr(), pattern.indices());
    let (mut longest, mut span) = (0, 0);
    for r in indptr.windows(2) {
        // Rows are sorted: their first and last columns bound them.
        if let (Some(&lo), Some(&hi)) = (indices.get(r[0]), indices.get(r[1].wrapping_sub(1)))
            && r[1] > r[0]
        {
            longest = longest.max(r[1] - r[0]);
            span = span.max(hi - lo + 1);
        }
    }
    (longest > 0 && span == longest && u32::try_from(span).is_ok()).then_some(span)
}

/// Seed and derivative buffers, reused across evaluations.
pub(crate) struct AutoJacobian {
    /// Direction of each column in the current pass ([`Seeding::NONE`] when unseeded).
    dirs: Vec<u32>,
    /// `m × w` derivatives of one pass (dense J beyond 16 columns).
    out: Vec<f64>,
    /// Each entry's code in the current pass (sparse J beyond 16 groups).
    source: Vec<u32>,
    /// The dual point and residuals of every pass.
    scratch: DualScratch,
    /// Column groups when J is sparse.
    groups: Option<Arc<AutoGroups>>,
}

/// Dual buffers kept past a solve, up to this many bytes per thread.
const SPARE_BYTES: usize = 32 << 20;

thread_local! {
    /// The dual buffers of the thread's last solve, for its next: a solve at
    /// m = 10⁵ otherwise faults in 6 MB of fresh pages, which cost more than the
    /// Jacobians computed in them (as the solver's own buffers, which the allocator
    /// reuses, do not).
    static SPARE: RefCell<Option<DualScratch>> = const { RefCell::new(None) };

    /// The column groups the thread last built, with (a clone of) their pattern.
    static LAST_GROUPS: RefCell<Option<(SparsityPattern, Arc<AutoGroups>)>> =
        const { RefCell::new(None) };
}

impl AutoJacobian {
    /// Buffers (the thread's spare dual buffers, if any), and the column groups of
    /// a sparse J.
    pub fn new(groups: Option<Arc<AutoGroups>>) -> Self {
        let scratch = SPARE
            .try_with(|s| s.try_borrow_mut().ok().and_then(|mut s| s.take()))
            .ok()
            .flatten()
            .unwrap_or_default();
        Self {
            dirs: Vec::new(),
            out: Vec::new(),
            source: Vec::new(),
            scratch,
            groups,
        }
    }

    fn reset(&mut self, n: usize) {
        self.dirs.clear();
        self.dirs.resize(n, Seeding::NONE);
    }
    /// Dense J at `x` into `jac` (row-major `m × n`).
    pub fn dense<P: Residuals + ?Sized>(
        &mut self,
        problem: &P,
        x: &[f64],
        jac: &mut [f64],
    ) -> Result<(), Error> {
        let n = x.len();
        let m = jac.len() / n.max(1);
        self.reset(n);
        if n <= Seeding::MAX_WIDTH {
            // One pass; its m × n output is J itself.
            for (j, d) in self.dirs.iter_mut().enumerate() {
                *d = j as u32;
            }
            let seeding = Seeding::new(&self.dirs, n).with_scratch(&self.scratch);
            return eval_auto(problem, x, &seeding, jac);
        }
        for c0 in (0..n).step_by(Seeding::MAX_WIDTH) {
            let w = Seeding::MAX_WIDTH.min(n - c0);
            for d in 0..w {
                self.dirs[c0 + d] = d as u32;
            }
            self.out.resize(m * w, 0.0);
            let seeding = Seeding::new(&self.dirs, w).with_scratch(&self.scratch);
            eval_auto(problem, x, &seeding, &mut self.out)?;
            for (row, derivs) in jac.chunks_exact_mut(n).zip(self.out.chunks_exact(w)) {
                row[c0..c0 + w].copy_from_slice(derivs);
            }
            self.dirs[c0..c0 + w].fill(Seeding::NONE);
        }
        Ok(())
    }

    /// Sparse J at `x` into the values of `jac` (the pattern the groups were built
    /// from), in place: one pass per 16 column groups.
    pub fn sparse<P: Residuals + ?Sized>(
        &mut self,
        problem: &P,
        x: &[f64],
        jac: &mut CsrMatrix,
    ) -> Result<(), Error> {
        let Some(groups) = self.groups.as_ref() else {
            return Err(Error::option(
                "jac_sparsity",
                "is needed to differentiate a sparse Jacobian.",
            ));
        };
        let (pattern, values) = jac.pattern_and_values_mut();
        for g0 in (0..groups.count).step_by(Seeding::MAX_WIDTH) {
            let w = Seeding::MAX_WIDTH.min(groups.count - g0);
            // Group g0 + d along direction d; the others (wrapped past w) unseeded.
            let (dirs, source) = if groups.count <= Seeding::MAX_WIDTH {
                (&groups.group_of, &groups.source)
            } else {
                self.dirs.clear();
                let shift = |g: u32| g.wrapping_sub(g0 as u32);
                self.dirs.extend(groups.group_of.iter().map(|&g| shift(g)));
                self.source.clear();
                entry_codes(pattern, &groups.group_of, g0, &mut self.source);
                (&self.dirs, &self.source)
            };
            let seeding = Seeding::new(dirs, w)
                .with_scratch(&self.scratch)
                .into_entries(source);
            eval_auto(problem, x, &seeding, values)?;
        }
        Ok(())
    }
}

impl Drop for AutoJacobian {
    /// Leaves the dual buffers to the thread's next solve, unless they are large.
    fn drop(&mut self) {
        if self.scratch.bytes() <= SPARE_BYTES {
            let scratch = std::mem::take(&mut self.scratch);
            let _ = SPARE.try_with(|s| {
                if let Ok(mut s) = s.try_borrow_mut() {
                    *s = Some(scratch);
                }
            });
        }
    }
}

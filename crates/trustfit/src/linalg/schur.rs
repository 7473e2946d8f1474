//! Damped normal equations `(D JᵀJ D + diag(c) + αI) x = r` solved by eliminating
//! many small, mutually independent column blocks first (a Schur complement), for
//! Jacobians shaped like bundle adjustment's: thousands of 3-column points, each
//! sharing rows only with a few of a few hundred 9-column cameras.
//!
//! Columns are split once per solve from J's pattern alone: runs of adjacent columns
//! with identical row sets form blocks; the smallest blocks that share no row of J
//! with each other are eliminated (set E, block-diagonal `C`), the rest (set F) keep a
//! dense Schur complement `S = B_FF − B_FE C⁻¹ B_EF` of size |F|. Per trial α this
//! costs the small blocks' factorizations, one rank-|block| update of S per block,
//! and one dense Cholesky of S — instead of a sparse factorization of all of B.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::{
    LltRegularization, cholesky_in_place, cholesky_in_place_scratch,
};
use faer::{MatMut, Par};

use crate::linalg::dense::{small_cholesky, small_solve};
use crate::linalg::error::LinalgError;
use crate::linalg::sparse::{CsrMatrix, SparsityPattern};

/// Largest block eliminated (its C block is factored densely).
const MAX_E_BLOCK: usize = 8;
/// Largest dense Schur complement (|F|² storage, |F|³/3 flops per factorization).
const MAX_F: usize = 4000;
/// Widest diagonal block of F kept together (the iterative solver's preconditioner).
pub(crate) const MAX_F_BLOCK: usize = 16;

/// What one entry of J is in the partition.
#[derive(Clone, Copy)]
enum Entry {
    /// Column `local` of the row's eliminated block.
    E { local: usize },
    /// Column `f` of F, the `nloc`-th neighbour of the row's eliminated block (if any).
    F { f: usize, nloc: usize },
}

/// How one sparsity pattern splits into eliminated blocks (E) and the rest (F), and
/// where each block's pieces live; shared by the exact and the iterative solver.
pub(crate) struct Partition {
    pub nf: usize,
    /// Global column of each F column.
    pub f_cols: Vec<usize>,
    /// F columns in blocks of identical rows (a camera's 9), at most
    /// [`MAX_F_BLOCK`] wide: `f_block_ptr[i]..f_block_ptr[i + 1]`.
    pub f_block_ptr: Vec<usize>,
    /// Eliminated blocks: first global column and size.
    pub e_start: Vec<usize>,
    pub e_size: Vec<usize>,
    /// Offset of block b's `C_b` (size²) in `c` / `lc`.
    pub c_ptr: Vec<usize>,
    /// F columns sharing rows with block b: `nb[nb_ptr[b]..nb_ptr[b + 1]]`, ascending.
    pub nb_ptr: Vec<usize>,
    pub nb: Vec<usize>,
    /// Runs of consecutive F columns in `nb` (a camera's 9 columns): per block b,
    /// `runs[run_ptr[b]..run_ptr[b + 1]]` = (first position in the block's neighbour
    /// list, first F column, length), so updates of S sweep contiguous memory.
    pub run_ptr: Vec<usize>,
    pub runs: Vec<(usize, usize, usize)>,
    /// Offset of `W_b = (B_EF)_b` (size × neighbours, row-major) in `w`.
    pub w_ptr: Vec<usize>,
    /// Per entry of J (CSR order).
    entries: Vec<Entry>,
    /// Prefix sums of the work of each S column's updates (to split S among threads).
    work_prefix: Vec<usize>,
    /// The rows of each eliminated block, ascending:
    /// `block_rows[block_rows_ptr[b]..block_rows_ptr[b + 1]]`.
    block_rows_ptr: Vec<usize>,
    block_rows: Vec<usize>,
    /// The largest eliminated block.
    pub s_max: usize,
}

/// The Schur-complement system of one sparsity pattern, factored densely.
pub(crate) struct SchurComplement {
    part: Partition,
    c: Vec<f64>,
    lc: Vec<f64>,
    w: Vec<f64>,
    /// `B_FF` (lower triangle, column-major |F|×|F|).
    bff: Vec<f64>,
    /// `S` and then its Cholesky factor (lower, column-major).
    s: Vec<f64>,
    /// `Y_b = L_b⁻¹ W_b` of every block (laid out as `w`).
    y: Vec<f64>,
    t: Vec<f64>,
    rf: Vec<f64>,
    stack: MemBuffer,
}

fn not_applicable(why: &str) -> LinalgError {
    LinalgError::NotApplicable(format!(
        "'schur' does not apply to this Jacobian: {why}; use 'cholesky'."
    ))
}

/// The F columns each eliminated block's rows touch (sorted, unique), as CSR-like
/// pointers and indices.
fn neighbours<'c>(
    p: &SparsityPattern,
    col: &impl Fn(usize) -> &'c [u32],
    e_start: &[usize],
    f_of_col: &[usize],
) -> (Vec<usize>, Vec<usize>) {
    let ne = e_start.len();
    let mut nb_ptr = vec![0usize; ne + 1];
    let mut nb = Vec::new();
    for b in 0..ne {
        let from = nb.len();
        for &r in col(e_start[b]) {
            for &c in p.row(r as usize) {
                if f_of_col[c] != usize::MAX {
                    nb.push(f_of_col[c]);
                }
            }
        }
        nb[from..].sort_unstable();
        let mut len = from;
        for t in from..nb.len() {
            if t == from || nb[t] != nb[len - 1] {
                nb[len] = nb[t];
                len += 1;
            }
        }
        nb.truncate(len);
        nb_ptr[b + 1] = len;
    }
    (nb_ptr, nb)
}

/// The rows of each block (ascending) as pointers and indices.
fn rows_by_block(row_block: &[usize], ne: usize) -> (Vec<usize>, Vec<usize>) {
    let mut ptr = vec![0usize; ne + 1];
    for &b in row_block.iter().filter(|&&b| b != usize::MAX) {
        ptr[b + 1] += 1;
    }
    for b in 0..ne {
        ptr[b + 1] += ptr[b];
    }
    let mut next = ptr.clone();
    let mut rows = vec![0usize; ptr[ne]];
    for (r, &b) in row_block
        .iter()
        .enumerate()
        .filter(|(_, b)| **b != usize::MAX)
    {
        rows[next[b]] = r;
        next[b] += 1;
    }
    (ptr, rows)
}

/// Each block's neighbour list cut into runs of consecutive F columns
/// `(position in the list, first column, length)`.
fn contiguous_runs(nb_ptr: &[usize], nb: &[usize]) -> (Vec<usize>, Vec<(usize, usize, usize)>) {
    let ne = nb_ptr.len() - 1;
    let mut run_ptr = vec![0usize; ne + 1];
    let mut runs = Vec::new();
    for b in 0..ne {
        let list = &nb[nb_ptr[b]..nb_ptr[b + 1]];
        let mut t = 0;
        while t < list.len() {
            let mut e = t + 1;
            while e < list.len() && list[e] == list[e - 1] + 1 {
                e += 1;
            }
            runs.push((t, list[t], e - t));
            t = e;
        }
        run_ptr[b + 1] = runs.len();
    }
    (run_ptr, runs)
}

impl Partition {
    /// Partitions the columns of `jac`'s pattern.
    ///
    /// # Errors
    /// [`LinalgError::NotApplicable`] when no block can be eliminated.
    pub fn new(jac: &CsrMatrix) -> Result<Self, LinalgError> {
        let p = jac.pattern();
        let (m, n) = (p.nrows(), p.ncols());
        let columns = p
            .columns()
            .ok_or_else(|| not_applicable("J has 2³² − 1 or more rows, columns or entries"))?;
        let col = |j: usize| columns.col(j);
        // Runs of adjacent columns with the same rows.
        let mut blocks: Vec<(usize, usize)> = Vec::new();
        let mut j = 0;
        while j < n {
            let mut e = j + 1;
            while e < n && col(e) == col(j) {
                e += 1;
            }
            blocks.push((j, e - j));
            j = e;
        }
        // Greedy independent set: small blocks touching few rows first.
        let mut order: Vec<usize> = (0..blocks.len())
            .filter(|&b| blocks[b].1 <= MAX_E_BLOCK && !col(blocks[b].0).is_empty())
            .collect();
        order.sort_by_key(|&b| (blocks[b].1, col(blocks[b].0).len(), b));
        let mut row_block = vec![usize::MAX; m];
        let mut chosen = vec![false; blocks.len()];
        for &b in &order {
            let rs = col(blocks[b].0);
            if rs.iter().all(|&r| row_block[r as usize] == usize::MAX) {
                chosen[b] = true;
                for &r in rs {
                    row_block[r as usize] = b;
                }
            }
        }
        // Renumber: E blocks in column order, F columns in column order.
        let mut e_index = vec![usize::MAX; blocks.len()];
        let (mut e_start, mut e_size) = (Vec::new(), Vec::new());
        let mut f_of_col = vec![usize::MAX; n];
        let mut f_cols = Vec::new();
        let mut f_block_ptr = vec![0];
        let mut e_of_col = vec![usize::MAX; n];
        for (b, &(start, size)) in blocks.iter().enumerate() {
            if chosen[b] {
                e_index[b] = e_start.len();
                for c in start..start + size {
                    e_of_col[c] = e_start.len();
                }
                e_start.push(start);
                e_size.push(size);
            } else {
                for c in start..start + size {
                    f_of_col[c] = f_cols.len();
                    f_cols.push(c);
                    if f_cols.len() - f_block_ptr[f_block_ptr.len() - 1] == MAX_F_BLOCK {
                        f_block_ptr.push(f_cols.len());
                    }
                }
                if f_block_ptr[f_block_ptr.len() - 1] != f_cols.len() {
                    f_block_ptr.push(f_cols.len());
                }
            }
        }
        for rb in row_block.iter_mut() {
            if *rb != usize::MAX {
                *rb = e_index[*rb];
            }
        }
        let (ne, nf) = (e_start.len(), f_cols.len());
        if ne == 0 {
            return Err(not_applicable("no column block can be eliminated"));
        }
        let (nb_ptr, nb) = neighbours(p, &col, &e_start, &f_of_col);
        let (run_ptr, runs) = contiguous_runs(&nb_ptr, &nb);
        let mut entries = Vec::with_capacity(p.nnz());
        for r in 0..m {
            let b = row_block[r];
            for &c in p.row(r) {
                entries.push(if e_of_col[c] != usize::MAX {
                    Entry::E {
                        local: c - e_start[e_of_col[c]],
                    }
                } else {
                    let f = f_of_col[c];
                    let nloc = if b == usize::MAX {
                        0
                    } else {
                        nb[nb_ptr[b]..nb_ptr[b + 1]].binary_search(&f).unwrap_or(0)
                    };
                    Entry::F { f, nloc }
                });
            }
        }
        let (mut c_ptr, mut w_ptr) = (vec![0usize; ne + 1], vec![0usize; ne + 1]);
        let mut s_max = 0;
        // Updates of S column f: per block, the block's neighbours from f on.
        let mut work_prefix = vec![0usize; nf + 1];
        for b in 0..ne {
            let (s, k) = (e_size[b], nb_ptr[b + 1] - nb_ptr[b]);
            c_ptr[b + 1] = c_ptr[b] + s * s;
            w_ptr[b + 1] = w_ptr[b] + s * k;
            s_max = s_max.max(s);
            for (q, &f) in nb[nb_ptr[b]..nb_ptr[b + 1]].iter().enumerate() {
                work_prefix[f + 1] += k - q;
            }
        }
        for f in 0..nf {
            work_prefix[f + 1] += work_prefix[f];
        }
        let (block_rows_ptr, block_rows) = rows_by_block(&row_block, ne);
        Ok(Self {
            nf,
            f_cols,
            f_block_ptr,
            e_start,
            e_size,
            c_ptr,
            nb_ptr,
            nb,
            run_ptr,
            runs,
            w_ptr,
            entries,
            work_prefix,
            block_rows_ptr,
            block_rows,
            s_max,
        })
    }

    /// Eliminated blocks.
    pub fn ne(&self) -> usize {
        self.e_start.len()
    }

    /// Storage of all `C_b` and of all `W_b`.
    pub fn block_storage(&self) -> (usize, usize) {
        (self.c_ptr[self.ne()], self.w_ptr[self.ne()])
    }

    /// `C_b`, `W_b` of every block and `B_FF` (dense lower triangle into `bff`, when
    /// given) of `B = D JᵀJ D + diag(c)`, on all of rayon's threads with the serial
    /// sums' bits: each block from its own rows in row order, and each thread owns
    /// whole columns of `B_FF`, summed over all rows in row order.
    pub fn fill(
        &self,
        jac: &CsrMatrix,
        d: &[f64],
        c: Option<&[f64]>,
        (cb, w): (&mut [f64], &mut [f64]),
        bff: Option<&mut [f64]>,
    ) {
        cb.fill(0.0);
        w.fill(0.0);
        let nf = self.nf;
        let p = jac.pattern();
        let rows = ScaledRows {
            indptr: p.indptr(),
            cols: p.indices(),
            values: jac.values(),
            d,
            entries: &self.entries,
        };
        let block_rows = (&self.block_rows_ptr[..], &self.block_rows[..]);
        self.fill_blocks(0..self.ne(), &rows, block_rows, cb, w);
        if let Some(c) = c {
            for (b, (&start, &s)) in self.e_start.iter().zip(&self.e_size).enumerate() {
                for l in 0..s {
                    cb[self.c_ptr[b] + l * s + l] += c[start + l];
                }
            }
        }
        if let Some(bff) = bff {
            bff.fill(0.0);
            let pieces = rayon::current_num_threads().max(1);
            rows.fill_complement(nf, 0..nf, pieces, bff);
            if let Some(c) = c {
                for (f, &col) in self.f_cols.iter().enumerate() {
                    bff[f + f * nf] += c[col];
                }
            }
        }
    }

    /// The entries of J's F columns, scaled by `d` (other entries zero), in CSR order.
    pub fn scaled_f_entries(&self, jac: &CsrMatrix, d: &[f64], out: &mut [f64]) {
        let cols = jac.pattern().indices();
        for (a, (o, &v)) in out.iter_mut().zip(jac.values()).enumerate() {
            *o = match self.entries[a] {
                Entry::F { .. } => v * d[cols[a]],
                Entry::E { .. } => 0.0,
            };
        }
    }

    /// The F index of entry `a` of J (CSR order), if it is in an F column.
    pub fn f_of_entry(&self, a: usize) -> Option<usize> {
        match self.entries[a] {
            Entry::F { f, .. } => Some(f),
            Entry::E { .. } => None,
        }
    }
}

impl SchurComplement {
    /// Partitions the columns of `jac`'s pattern and sets up all storage.
    ///
    /// # Errors
    /// [`LinalgError::NotApplicable`] when no block can be eliminated or the remaining
    /// columns are too many for a dense Schur complement.
    pub fn new(jac: &CsrMatrix) -> Result<Self, LinalgError> {
        let part = Partition::new(jac)?;
        let nf = part.nf;
        if nf > MAX_F {
            return Err(not_applicable(&format!(
                "{nf} columns would remain in a dense Schur complement (at most {MAX_F}; \
                 sparse_lm's 'iterative_schur' has no such limit)"
            )));
        }
        let req = cholesky_in_place_scratch::<f64>(nf, Par::Seq, Default::default());
        let stack = MemBuffer::try_new(req)
            .map_err(|e| LinalgError::Setup(format!("Schur complement workspace: {e:?}")))?;
        let (nc, nw) = part.block_storage();
        Ok(Self {
            c: vec![0.0; nc],
            lc: vec![0.0; nc],
            w: vec![0.0; nw],
            y: vec![0.0; nw],
            bff: vec![0.0; nf * nf],
            s: vec![0.0; nf * nf],
            t: vec![0.0; part.s_max],
            rf: vec![0.0; nf],
            stack,
            part,
        })
    }

    /// Columns left in the dense Schur complement.
    pub fn complement_size(&self) -> usize {
        self.part.nf
    }

    /// Number of eliminated blocks and of columns left in the Schur complement.
    #[cfg(test)]
    pub fn sizes(&self) -> (usize, usize) {
        (self.part.ne(), self.part.nf)
    }

    /// `B = D JᵀJ D + diag(c)` in block form (c omitted when `None`).
    pub fn fill(&mut self, jac: &CsrMatrix, d: &[f64], c: Option<&[f64]>) {
        let blocks = (&mut self.c[..], &mut self.w[..]);
        self.part.fill(jac, d, c, blocks, Some(&mut self.bff));
    }

    /// Factors `B + αI`; `false` when it is not numerically positive definite.
    ///
    /// On all of rayon's threads, with the same bits for any number of them: the
    /// blocks are factored independently, and each thread owns whole columns of S,
    /// which it updates block by block in the serial order.
    pub fn factor(&mut self, alpha: f64) -> bool {
        let (part, nf) = (&self.part, self.part.nf);
        self.s.copy_from_slice(&self.bff);
        for f in 0..nf {
            self.s[f + f * nf] += alpha;
        }
        let (c, w) = (&self.c[..], &self.w[..]);
        if !part.eliminate(0..part.ne(), alpha, c, w, &mut self.lc, &mut self.y) {
            return false;
        }
        let pieces = rayon::current_num_threads().max(1);
        part.update(0..nf, pieces, &self.y, &mut self.s);
        if nf == 0 {
            return true;
        }
        let a = MatMut::from_column_major_slice_mut(&mut self.s, nf, nf);
        let ok = cholesky_in_place(
            a,
            LltRegularization::default(),
            Par::Seq,
            MemStack::new(&mut self.stack),
            Default::default(),
        )
        .is_ok();
        ok && (0..nf).all(|f| {
            let v = self.s[f + f * nf];
            v > 0.0 && v.is_finite()
        })
    }

    /// Solves `(B + αI) x = rhs` in place with the last successful factorization.
    pub fn solve(&mut self, rhs: &mut [f64]) {
        let nf = self.part.nf;
        for (r, &col) in self.rf.iter_mut().zip(&self.part.f_cols) {
            *r = rhs[col];
        }
        // r_F −= Σ_b W_bᵀ C_b⁻¹ r_b.
        for b in 0..self.part.ne() {
            let (start, s) = (self.part.e_start[b], self.part.e_size[b]);
            let nbs = &self.part.nb[self.part.nb_ptr[b]..self.part.nb_ptr[b + 1]];
            let k = nbs.len();
            let t = &mut self.t[..s];
            t.copy_from_slice(&rhs[start..start + s]);
            small_solve(&self.lc[self.part.c_ptr[b]..self.part.c_ptr[b + 1]], s, t);
            let w = &self.w[self.part.w_ptr[b]..self.part.w_ptr[b + 1]];
            for (pp, &fp) in nbs.iter().enumerate() {
                let mut acc = 0.0;
                for i in 0..s {
                    acc += w[i * k + pp] * t[i];
                }
                self.rf[fp] -= acc;
            }
        }
        // x_F = S⁻¹ r_F with the dense factor L (lower, column-major).
        let l = &self.s;
        for j in 0..nf {
            let xj = self.rf[j] / l[j + j * nf];
            self.rf[j] = xj;
            for i in j + 1..nf {
                self.rf[i] -= l[i + j * nf] * xj;
            }
        }
        for j in (0..nf).rev() {
            let mut acc = self.rf[j];
            for i in j + 1..nf {
                acc -= l[i + j * nf] * self.rf[i];
            }
            self.rf[j] = acc / l[j + j * nf];
        }
        // x_b = C_b⁻¹ (r_b − W_b x_F[nb]).
        for b in 0..self.part.ne() {
            let (start, s) = (self.part.e_start[b], self.part.e_size[b]);
            let nbs = &self.part.nb[self.part.nb_ptr[b]..self.part.nb_ptr[b + 1]];
            let k = nbs.len();
            let w = &self.w[self.part.w_ptr[b]..self.part.w_ptr[b + 1]];
            let t = &mut self.t[..s];
            for i in 0..s {
                let mut acc = rhs[start + i];
                for (pp, &fp) in nbs.iter().enumerate() {
                    acc -= w[i * k + pp] * self.rf[fp];
                }
                t[i] = acc;
            }
            small_solve(&self.lc[self.part.c_ptr[b]..self.part.c_ptr[b + 1]], s, t);
            rhs[start..start + s].copy_from_slice(t);
        }
        for (r, &col) in self.rf.iter().zip(&self.part.f_cols) {
            rhs[col] = *r;
        }
        super::subnormal::check(rhs);
    }
}

/// J's rows with each entry scaled by its column's `d`, and its place in the partition.
struct ScaledRows<'a> {
    indptr: &'a [usize],
    cols: &'a [usize],
    values: &'a [f64],
    d: &'a [f64],
    entries: &'a [Entry],
}

impl ScaledRows<'_> {
    fn value(&self, a: usize) -> f64 {
        self.values[a] * self.d[self.cols[a]]
    }

    /// `B_FF`'s columns `cols` (lower triangle; `bff` holds exactly those columns),
    /// split into `pieces` ranges that run in parallel; every row in order.
    fn fill_complement(
        &self,
        nf: usize,
        cols: std::ops::Range<usize>,
        pieces: usize,
        bff: &mut [f64],
    ) {
        let (lo, hi) = (cols.start, cols.end);
        if pieces > 1 && hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            let (b0, b1) = bff.split_at_mut((mid - lo) * nf);
            let half = pieces / 2;
            rayon::join(
                || self.fill_complement(nf, lo..mid, half, b0),
                || self.fill_complement(nf, mid..hi, pieces - half, b1),
            );
            return;
        }
        for r in 0..self.indptr.len() - 1 {
            let (r0, r1) = (self.indptr[r], self.indptr[r + 1]);
            // Columns ascend along a row, so the later F entry is the lower row.
            for x in r0..r1 {
                let Entry::F { f: fa, .. } = self.entries[x] else {
                    continue;
                };
                let va = self.value(x);
                for t in r0..=x {
                    if let Entry::F { f: ft, .. } = self.entries[t]
                        && (lo..hi).contains(&ft)
                    {
                        bff[fa + (ft - lo) * nf] += va * self.value(t);
                    }
                }
            }
        }
    }
}

/// Blocks per serial piece of [`Blocks::eliminate`].
const BLOCK_GRAIN: usize = 512;

impl Partition {
    /// `L_b = chol(C_b + αI)` into `lc` and `Y_b = L_b⁻¹ W_b` into `y` for the blocks
    /// `range` (`lc`, `y` start at the range's first block); `false` if one is not
    /// positive definite. Halves run in parallel; each block is independent.
    pub fn eliminate(
        &self,
        range: std::ops::Range<usize>,
        alpha: f64,
        c: &[f64],
        w: &[f64],
        lc: &mut [f64],
        y: &mut [f64],
    ) -> bool {
        let (lo, hi) = (range.start, range.end);
        if hi - lo > BLOCK_GRAIN {
            let mid = lo + (hi - lo) / 2;
            let (lc0, lc1) = lc.split_at_mut(self.c_ptr[mid] - self.c_ptr[lo]);
            let (y0, y1) = y.split_at_mut(self.w_ptr[mid] - self.w_ptr[lo]);
            let (a, b) = rayon::join(
                || self.eliminate(lo..mid, alpha, c, w, lc0, y0),
                || self.eliminate(mid..hi, alpha, c, w, lc1, y1),
            );
            return a && b;
        }
        (lo..hi).all(|b| {
            let s = self.e_size[b];
            let k = self.nb_ptr[b + 1] - self.nb_ptr[b];
            let (c0, c1) = (self.c_ptr[b], self.c_ptr[b + 1]);
            let l = &mut lc[c0 - self.c_ptr[lo]..c1 - self.c_ptr[lo]];
            l.copy_from_slice(&c[c0..c1]);
            for i in 0..s {
                l[i * s + i] += alpha;
            }
            if !small_cholesky(l, s) {
                return false;
            }
            let (w0, w1) = (self.w_ptr[b], self.w_ptr[b + 1]);
            let yb = &mut y[w0 - self.w_ptr[lo]..w1 - self.w_ptr[lo]];
            yb.copy_from_slice(&w[w0..w1]);
            for i in 0..s {
                for q in 0..i {
                    let lij = l[i * s + q];
                    for p in 0..k {
                        yb[i * k + p] -= lij * yb[q * k + p];
                    }
                }
                let inv = 1.0 / l[i * s + i];
                for p in 0..k {
                    yb[i * k + p] *= inv;
                }
            }
            true
        })
    }

    /// `C_b` and `W_b` of the blocks `range` (`c`, `w` start at its first block) from
    /// each block's rows in order; halves run in parallel.
    fn fill_blocks(
        &self,
        range: std::ops::Range<usize>,
        rows: &ScaledRows<'_>,
        block_rows: (&[usize], &[usize]),
        c: &mut [f64],
        w: &mut [f64],
    ) {
        let (lo, hi) = (range.start, range.end);
        if hi - lo > BLOCK_GRAIN {
            let mid = lo + (hi - lo) / 2;
            let (c0, c1) = c.split_at_mut(self.c_ptr[mid] - self.c_ptr[lo]);
            let (w0, w1) = w.split_at_mut(self.w_ptr[mid] - self.w_ptr[lo]);
            rayon::join(
                || self.fill_blocks(lo..mid, rows, block_rows, c0, w0),
                || self.fill_blocks(mid..hi, rows, block_rows, c1, w1),
            );
            return;
        }
        let (ptr, list) = block_rows;
        for b in lo..hi {
            let (s, k) = (self.e_size[b], self.nb_ptr[b + 1] - self.nb_ptr[b]);
            let cb = &mut c[self.c_ptr[b] - self.c_ptr[lo]..self.c_ptr[b + 1] - self.c_ptr[lo]];
            let wb = &mut w[self.w_ptr[b] - self.w_ptr[lo]..self.w_ptr[b + 1] - self.w_ptr[lo]];
            for &r in &list[ptr[b]..ptr[b + 1]] {
                let (r0, r1) = (rows.indptr[r], rows.indptr[r + 1]);
                for a in r0..r1 {
                    let Entry::E { local: la } = rows.entries[a] else {
                        continue;
                    };
                    let va = rows.value(a);
                    for t in r0..r1 {
                        match rows.entries[t] {
                            Entry::E { local: lt } => cb[la * s + lt] += va * rows.value(t),
                            Entry::F { nloc, .. } => wb[la * k + nloc] += va * rows.value(t),
                        }
                    }
                }
            }
        }
    }

    /// `S[nb, nb] −= Y_bᵀ Y_b` for every block, restricted to S's columns `cols`
    /// (`s` holds exactly those columns): split into `pieces` ranges of equal work
    /// that run in parallel, each entry updated in block order.
    fn update(&self, cols: std::ops::Range<usize>, pieces: usize, y: &[f64], s: &mut [f64]) {
        let (lo, hi, nf, work_prefix) = (cols.start, cols.end, self.nf, &self.work_prefix);
        if pieces > 1 && hi - lo > 1 {
            let target = (work_prefix[lo] + work_prefix[hi]) / 2;
            let mid = work_prefix[lo..=hi]
                .partition_point(|&v| v < target)
                .clamp(1, hi - lo - 1)
                + lo;
            let (s0, s1) = s.split_at_mut((mid - lo) * nf);
            let half = pieces / 2;
            rayon::join(
                || self.update(lo..mid, half, y, s0),
                || self.update(mid..hi, pieces - half, y, s1),
            );
            return;
        }
        for b in 0..self.e_size.len() {
            let nbs = &self.nb[self.nb_ptr[b]..self.nb_ptr[b + 1]];
            // This block's neighbours among the owned columns (nbs ascend).
            let first = nbs.partition_point(|&f| f < lo);
            if first == nbs.len() || nbs[first] >= hi {
                continue;
            }
            let runs = &self.runs[self.run_ptr[b]..self.run_ptr[b + 1]];
            let yb = &y[self.w_ptr[b]..self.w_ptr[b + 1]];
            let sb = self.e_size[b];
            for (qq, &fq) in nbs.iter().enumerate().skip(first) {
                if fq >= hi {
                    break;
                }
                let col = &mut s[(fq - lo) * nf..(fq - lo + 1) * nf];
                subtract_column(col, yb, sb, nbs.len(), qq, runs);
            }
        }
    }
}

/// Column `nbs[qq]` of `S −= YᵀY` for one block (`Y` is `sb × k`, row-major): rows
/// from the diagonal down, run by run (contiguous in the column-major S).
fn subtract_column(
    col: &mut [f64],
    y: &[f64],
    sb: usize,
    k: usize,
    qq: usize,
    runs: &[(usize, usize, usize)],
) {
    for &(ps, fs, len) in runs {
        if ps + len <= qq {
            continue;
        }
        let from = ps.max(qq);
        let out = &mut col[fs + from - ps..fs + len];
        if sb == 3 {
            // Bundle adjustment's points: the three products in one expression.
            let (y0, rest) = y[..3 * k].split_at(k);
            let (y1, y2) = rest.split_at(k);
            let (a0, a1, a2) = (y0[qq], y1[qq], y2[qq]);
            let rows = from..ps + len;
            for (o, ((b0, b1), b2)) in out.iter_mut().zip(
                y0[rows.clone()]
                    .iter()
                    .zip(&y1[rows.clone()])
                    .zip(&y2[rows]),
            ) {
                *o -= a0 * b0 + a1 * b1 + a2 * b2;
            }
            continue;
        }
        for (t, o) in out.iter_mut().enumerate() {
            let mut acc = 0.0;
            for i in 0..sb {
                acc += y[i * k + from + t] * y[i * k + qq];
            }
            *o -= acc;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::normal_eq::NormalEquations;

    /// A BA-like J: `cams` 3-column cameras, `pts` 2-column points, each point seen
    /// by two or three cameras (two rows per observation), cameras first.
    fn ba_like(cams: usize, pts: usize, ps: usize) -> CsrMatrix {
        let n = 3 * cams + ps * pts;
        let mut t = Vec::new();
        let mut row = 0;
        for p in 0..pts {
            for o in 0..(2 + p % 2) {
                let c = (p * 7 + o * 3) % cams;
                for _ in 0..2 {
                    for k in 0..3 {
                        let v = ((row * 31 + k * 17 + c) % 13) as f64 / 7.0 - 0.8;
                        t.push((row, 3 * c + k, v));
                    }
                    for k in 0..ps {
                        let v = ((row * 11 + k * 5 + p) % 9) as f64 / 4.0 - 1.1;
                        t.push((row, 3 * cams + ps * p + k, v));
                    }
                    row += 1;
                }
            }
        }
        CsrMatrix::from_triplets(row, n, &t).unwrap()
    }

    #[test]
    fn agrees_with_the_sparse_cholesky_of_all_of_b() {
        // 2- and 3-column points (3 has its own unrolled update).
        for ps in [2, 3] {
            let j = ba_like(5, 12, ps);
            let n = j.ncols();
            let mut schur = SchurComplement::new(&j).unwrap();
            assert_eq!(schur.sizes(), (12, 15));
            let mut full = NormalEquations::new(&j).unwrap();
            let d: Vec<f64> = (0..n).map(|i| 0.5 + (i % 4) as f64 * 0.3).collect();
            let c: Vec<f64> = (0..n).map(|i| (i % 3) as f64 * 0.1).collect();
            for (alpha, cc) in [(0.0, None), (0.3, Some(&c[..])), (2.0, Some(&c[..]))] {
                schur.fill(&j, &d, cc);
                full.fill(&j, &d, cc);
                assert!(schur.factor(alpha) && full.factor(alpha));
                let r: Vec<f64> = (0..n).map(|i| ((i * 7) % 5) as f64 - 2.0).collect();
                let (mut x, mut y) = (r.clone(), r.clone());
                schur.solve(&mut x);
                full.solve(&mut y);
                let scale = y.iter().fold(0.0f64, |a, v| a.max(v.abs()));
                for (a, b) in x.iter().zip(&y) {
                    assert!((a - b).abs() <= 1e-10 * scale, "{a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn refuses_patterns_without_eliminable_blocks_or_too_large_a_complement() {
        // Dense 3×2 J: one block of two columns, eliminated whole; F is empty.
        let dense = CsrMatrix::from_dense(3, 2, &[1.0, 2.0, 3.0, 1.0, 1.0, 1.0]).unwrap();
        let mut s = SchurComplement::new(&dense).unwrap();
        assert_eq!(s.sizes(), (1, 0));
        s.fill(&dense, &[1.0, 1.0], None);
        assert!(s.factor(0.0));
        let mut x = [1.0, 1.0];
        s.solve(&mut x);
        // JᵀJ = [[11, 6], [6, 6]]: check JᵀJ x = (1, 1).
        let (a, b) = (11.0 * x[0] + 6.0 * x[1], 6.0 * x[0] + 6.0 * x[1]);
        assert!((a - 1.0).abs() < 1e-12 && (b - 1.0).abs() < 1e-12);
        // A column of 9 (> MAX_E_BLOCK) identical columns: nothing to eliminate.
        let wide: Vec<(usize, usize, f64)> = (0..9).map(|k| (0, k, 1.0 + k as f64)).collect();
        let wide = CsrMatrix::from_triplets(1, 9, &wide).unwrap();
        assert!(SchurComplement::new(&wide).is_err());
    }
}

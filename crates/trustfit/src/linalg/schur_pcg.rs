//! The damped normal equations `(B + αI) x = r` solved inexactly, for problems whose
//! reduced system is too large to factor densely (`tr_solver='iterative_schur'`,
//! `method='sparse_lm'` only; Ceres' ITERATIVE_SCHUR with its SCHUR_JACOBI
//! preconditioner).
//!
//! The same partition as [`SchurComplement`](super::schur::SchurComplement): the
//! small blocks are eliminated exactly, but the Schur complement
//! `S = B_FF + αI − Σ_b W_bᵀ C_b⁻¹ W_b` is never formed. Conjugate gradients solve
//! `S x_F = r_F` with products `S·v` taken through J's F columns and the blocks, and
//! a block-Jacobi preconditioner: the diagonal blocks of S on the F blocks (a
//! camera's 9 columns), factored once per α. PCG stops at a relative residual of
//! [`FORCING`] — a step that is accurate enough for Levenberg–Marquardt, whose gain
//! ratio is measured on the step actually taken.

use rayon::prelude::*;

use crate::linalg::dense::{small_cholesky, small_solve};
use crate::linalg::error::LinalgError;
use crate::linalg::schur::{MAX_F_BLOCK, Partition};
use crate::linalg::sparse::CsrMatrix;
use crate::linalg::vector::dot;

/// Relative residual at which PCG stops (Ceres' default forcing term for LM).
const FORCING: f64 = 0.1;
/// Most PCG iterations per solve.
const MAX_PCG: usize = 500;

/// The implicit Schur complement of one sparsity pattern and its preconditioner.
pub(crate) struct SchurPcg {
    part: Partition,
    c: Vec<f64>,
    lc: Vec<f64>,
    w: Vec<f64>,
    y: Vec<f64>,
    /// J's rows: pointers, and per entry its F column (`usize::MAX` for E entries).
    indptr: Vec<usize>,
    f_of: Vec<usize>,
    /// J's F entries scaled by d (CSR order, zero on E entries).
    jf: Vec<f64>,
    /// `diag(c)` on F and the α of the last factorization.
    c_f: Vec<f64>,
    alpha: f64,
    /// F block of each F column, and each F block's diagonal block of `B_FF`, then of
    /// S, then its Cholesky factor (size² each, at `pre_ptr`).
    f_block: Vec<usize>,
    pre_ptr: Vec<usize>,
    bdiag: Vec<f64>,
    pre: Vec<f64>,
    /// J's F entries by F column (entry, row; rows ascending), and each F column's
    /// blocks (block, position in its neighbour list; blocks ascending): the
    /// transposes that let each thread own whole F columns of `S·v`.
    fcol_ptr: Vec<usize>,
    fcol: Vec<(usize, usize)>,
    fnb_ptr: Vec<usize>,
    fnb: Vec<(usize, usize)>,
    /// Offset of each block's values in `tb` (Σ of the earlier blocks' sizes).
    e_off: Vec<usize>,
    /// Vectors of one solve: F (x, r, z, p, q, rf), rows (u), blocks (tb), a block (t).
    v: [Vec<f64>; 6],
    u: Vec<f64>,
    tb: Vec<f64>,
    t: Vec<f64>,
}

/// Rows and blocks per serial piece of the parallel products.
const GRAIN: usize = 1024;

/// `ptr`/`list` of `(key, value)` pairs grouped by key (stable: input order kept).
fn group_by_key(
    nkeys: usize,
    pairs: &[(usize, (usize, usize))],
) -> (Vec<usize>, Vec<(usize, usize)>) {
    let mut ptr = vec![0usize; nkeys + 1];
    for &(k, _) in pairs {
        ptr[k + 1] += 1;
    }
    for k in 0..nkeys {
        ptr[k + 1] += ptr[k];
    }
    let mut next = ptr.clone();
    let mut list = vec![(0, 0); pairs.len()];
    for &(k, v) in pairs {
        list[next[k]] = v;
        next[k] += 1;
    }
    (ptr, list)
}

impl SchurPcg {
    /// Partitions `jac`'s pattern and sets up all storage.
    ///
    /// # Errors
    /// [`LinalgError::NotApplicable`] when no block can be eliminated.
    pub fn new(jac: &CsrMatrix) -> Result<Self, LinalgError> {
        let part = Partition::new(jac)?;
        let p = jac.pattern();
        let f_of = (0..p.nnz())
            .map(|a| part.f_of_entry(a).unwrap_or(usize::MAX))
            .collect();
        let nb = part.f_block_ptr.len() - 1;
        let mut f_block = vec![0; part.nf];
        let mut pre_ptr = vec![0; nb + 1];
        for k in 0..nb {
            let (lo, hi) = (part.f_block_ptr[k], part.f_block_ptr[k + 1]);
            f_block[lo..hi].fill(k);
            pre_ptr[k + 1] = pre_ptr[k] + (hi - lo) * (hi - lo);
        }
        let (nc, nw) = part.block_storage();
        let nf = part.nf;
        let by_col: Vec<(usize, (usize, usize))> = (0..p.nrows())
            .flat_map(|r| (p.indptr()[r]..p.indptr()[r + 1]).map(move |a| (a, r)))
            .filter_map(|(a, r)| part.f_of_entry(a).map(|f| (f, (a, r))))
            .collect();
        let (fcol_ptr, fcol) = group_by_key(nf, &by_col);
        let by_block: Vec<(usize, (usize, usize))> = (0..part.ne())
            .flat_map(|b| {
                let nbs = &part.nb[part.nb_ptr[b]..part.nb_ptr[b + 1]];
                nbs.iter().enumerate().map(move |(pp, &f)| (f, (b, pp)))
            })
            .collect();
        let (fnb_ptr, fnb) = group_by_key(nf, &by_block);
        let mut e_off = vec![0usize; part.ne() + 1];
        for b in 0..part.ne() {
            e_off[b + 1] = e_off[b] + part.e_size[b];
        }
        Ok(Self {
            c: vec![0.0; nc],
            lc: vec![0.0; nc],
            w: vec![0.0; nw],
            y: vec![0.0; nw],
            indptr: p.indptr().to_vec(),
            f_of,
            jf: vec![0.0; p.nnz()],
            c_f: vec![0.0; nf],
            alpha: 0.0,
            f_block,
            bdiag: vec![0.0; pre_ptr[nb]],
            pre: vec![0.0; pre_ptr[nb]],
            pre_ptr,
            fcol_ptr,
            fcol,
            fnb_ptr,
            fnb,
            v: std::array::from_fn(|_| vec![0.0; nf]),
            u: vec![0.0; p.nrows()],
            tb: vec![0.0; e_off[part.ne()]],
            e_off,
            t: vec![0.0; part.s_max],
            part,
        })
    }

    /// `B = D JᵀJ D + diag(c)`: the blocks, J's scaled F entries and the diagonal
    /// blocks of `B_FF`.
    pub fn fill(&mut self, jac: &CsrMatrix, d: &[f64], c: Option<&[f64]>) {
        let blocks = (&mut self.c[..], &mut self.w[..]);
        self.part.fill(jac, d, c, blocks, None);
        self.part.scaled_f_entries(jac, d, &mut self.jf);
        for (cf, &col) in self.c_f.iter_mut().zip(&self.part.f_cols) {
            *cf = c.map_or(0.0, |c| c[col]);
        }
        self.bdiag.fill(0.0);
        for r in 0..self.indptr.len() - 1 {
            let row = self.indptr[r]..self.indptr[r + 1];
            for x in row.clone().filter(|&x| self.f_of[x] != usize::MAX) {
                let fx = self.f_of[x];
                let k = self.f_block[fx];
                let lo = self.part.f_block_ptr[k];
                let size = self.part.f_block_ptr[k + 1] - lo;
                for t in row.clone() {
                    let ft = self.f_of[t];
                    if ft != usize::MAX && self.f_block[ft] == k {
                        let at = self.pre_ptr[k] + (fx - lo) * size + (ft - lo);
                        self.bdiag[at] += self.jf[x] * self.jf[t];
                    }
                }
            }
        }
    }

    /// Factors the blocks `C_b + αI` and the preconditioner; `false` when one is not
    /// numerically positive definite.
    pub fn factor(&mut self, alpha: f64) -> bool {
        self.alpha = alpha;
        let part = &self.part;
        let (c, w) = (&self.c[..], &self.w[..]);
        if !part.eliminate(0..part.ne(), alpha, c, w, &mut self.lc, &mut self.y) {
            return false;
        }
        self.pre.copy_from_slice(&self.bdiag);
        for (f, &cf) in self.c_f.iter().enumerate() {
            let k = self.f_block[f];
            let lo = part.f_block_ptr[k];
            let size = part.f_block_ptr[k + 1] - lo;
            self.pre[self.pre_ptr[k] + (f - lo) * (size + 1)] += alpha + cf;
        }
        // Diagonal blocks of S: subtract each block's Y_pᵀ Y_q on the same F block.
        for b in 0..part.ne() {
            let nbs = &part.nb[part.nb_ptr[b]..part.nb_ptr[b + 1]];
            let (s, k) = (part.e_size[b], nbs.len());
            let yb = &self.y[part.w_ptr[b]..part.w_ptr[b + 1]];
            for (p, &fp) in nbs.iter().enumerate() {
                let kb = self.f_block[fp];
                let lo = part.f_block_ptr[kb];
                let size = part.f_block_ptr[kb + 1] - lo;
                for (q, &fq) in nbs.iter().enumerate().skip(p) {
                    if self.f_block[fq] != kb {
                        break;
                    }
                    let v: f64 = (0..s).map(|i| yb[i * k + p] * yb[i * k + q]).sum();
                    let base = self.pre_ptr[kb];
                    self.pre[base + (fp - lo) * size + (fq - lo)] -= v;
                    if q != p {
                        self.pre[base + (fq - lo) * size + (fp - lo)] -= v;
                    }
                }
            }
        }
        (0..part.f_block_ptr.len() - 1).all(|k| {
            let size = part.f_block_ptr[k + 1] - part.f_block_ptr[k];
            small_cholesky(&mut self.pre[self.pre_ptr[k]..self.pre_ptr[k + 1]], size)
        })
    }

    /// Solves `(B + αI) x = rhs` in place: F by PCG to [`FORCING`], then the blocks.
    pub fn solve(&mut self, rhs: &mut [f64]) {
        let [x, r, z, p, q, rf] = &mut self.v;
        let part = &self.part;
        for (v, &col) in rf.iter_mut().zip(&part.f_cols) {
            *v = rhs[col];
        }
        // r_F −= Σ_b W_bᵀ C_b⁻¹ r_b.
        for b in 0..part.ne() {
            let (start, s) = (part.e_start[b], part.e_size[b]);
            let t = &mut self.t[..s];
            t.copy_from_slice(&rhs[start..start + s]);
            small_solve(&self.lc[part.c_ptr[b]..part.c_ptr[b + 1]], s, t);
            scatter_wt(part, &self.w, b, t, -1.0, rf);
        }
        let op = Implicit {
            part,
            lc: &self.lc,
            w: &self.w,
            indptr: &self.indptr,
            f_of: &self.f_of,
            jf: &self.jf,
            c_f: &self.c_f,
            alpha: self.alpha,
            fcol: (&self.fcol_ptr, &self.fcol),
            fnb: (&self.fnb_ptr, &self.fnb),
            e_off: &self.e_off,
        };
        let pre = Preconditioner {
            ptr: &part.f_block_ptr,
            pre_ptr: &self.pre_ptr,
            pre: &self.pre,
        };
        pcg(&op, &pre, rf, [x, r, z, p, q], (&mut self.u, &mut self.tb));
        // x_b = C_b⁻¹ (r_b − W_b x_F).
        for b in 0..part.ne() {
            let (start, s) = (part.e_start[b], part.e_size[b]);
            let nbs = &part.nb[part.nb_ptr[b]..part.nb_ptr[b + 1]];
            let k = nbs.len();
            let wb = &self.w[part.w_ptr[b]..part.w_ptr[b + 1]];
            let t = &mut self.t[..s];
            for (i, ti) in t.iter_mut().enumerate() {
                *ti = rhs[start + i] - (0..k).map(|pp| wb[i * k + pp] * x[nbs[pp]]).sum::<f64>();
            }
            small_solve(&self.lc[part.c_ptr[b]..part.c_ptr[b + 1]], s, t);
            rhs[start..start + s].copy_from_slice(t);
        }
        for (v, &col) in x.iter().zip(&part.f_cols) {
            rhs[col] = *v;
        }
        super::subnormal::check(rhs);
    }
}

/// `out[nb(b)] += sign · W_bᵀ t`.
fn scatter_wt(part: &Partition, w: &[f64], b: usize, t: &[f64], sign: f64, out: &mut [f64]) {
    let nbs = &part.nb[part.nb_ptr[b]..part.nb_ptr[b + 1]];
    let k = nbs.len();
    let wb = &w[part.w_ptr[b]..part.w_ptr[b + 1]];
    for (pp, &fp) in nbs.iter().enumerate() {
        let acc: f64 = t
            .iter()
            .enumerate()
            .map(|(i, ti)| wb[i * k + pp] * ti)
            .sum();
        out[fp] += sign * acc;
    }
}

/// `S·v` without S: `B_FF v` through J's F entries, `(α + c) v`, and each block's
/// `−W_bᵀ C_b⁻¹ W_b v` — on rayon's threads, the same bits for any number of them.
struct Implicit<'a> {
    part: &'a Partition,
    lc: &'a [f64],
    w: &'a [f64],
    indptr: &'a [usize],
    f_of: &'a [usize],
    jf: &'a [f64],
    c_f: &'a [f64],
    alpha: f64,
    fcol: (&'a [usize], &'a [(usize, usize)]),
    fnb: (&'a [usize], &'a [(usize, usize)]),
    e_off: &'a [usize],
}

impl Implicit<'_> {
    /// `out = S v`; `u` (rows) and `tb` (blocks) are scratch.
    fn apply(&self, v: &[f64], out: &mut [f64], u: &mut [f64], tb: &mut [f64]) {
        // u = J_F D v, row by row.
        u.par_iter_mut()
            .with_min_len(GRAIN)
            .enumerate()
            .for_each(|(r, ur)| {
                *ur = (self.indptr[r]..self.indptr[r + 1])
                    .filter(|&a| self.f_of[a] != usize::MAX)
                    .map(|a| self.jf[a] * v[self.f_of[a]])
                    .sum();
            });
        self.block_solves(0..self.part.ne(), v, tb);
        // Each F block (its columns share their rows and blocks, adjacent in J's rows
        // and in each block's neighbour list): (α + c) v + D J_Fᵀ u − Σ_b W_bᵀ t_b.
        for (f, o) in out.iter_mut().enumerate() {
            *o = (self.alpha + self.c_f[f]) * v[f];
        }
        self.add_products(out, u, tb);
    }

    /// `out += D J_Fᵀ u − Σ_b W_bᵀ t_b`, F block by F block in parallel.
    fn add_products(&self, out: &mut [f64], u: &[f64], tb: &[f64]) {
        let nblocks = self.part.f_block_ptr.len() - 1;
        fn split(
            me: &Implicit<'_>,
            blocks: std::ops::Range<usize>,
            out: &mut [f64],
            u: &[f64],
            tb: &[f64],
        ) {
            let ptr = &me.part.f_block_ptr;
            let (lo, hi) = (blocks.start, blocks.end);
            if hi - lo > 8 {
                let mid = lo + (hi - lo) / 2;
                let (o0, o1) = out.split_at_mut(ptr[mid] - ptr[lo]);
                rayon::join(
                    || split(me, lo..mid, o0, u, tb),
                    || split(me, mid..hi, o1, u, tb),
                );
                return;
            }
            for kb in lo..hi {
                let (f0, f1) = (ptr[kb], ptr[kb + 1]);
                let o = &mut out[f0 - ptr[lo]..f1 - ptr[lo]];
                me.add_block(f0, o, u, tb);
            }
        }
        split(self, 0..nblocks, out, u, tb);
    }

    /// One F block's columns `f0..f0 + o.len()` of `D J_Fᵀ u − Σ_b W_bᵀ t_b` added to `o`.
    fn add_block(&self, f0: usize, o: &mut [f64], u: &[f64], tb: &[f64]) {
        let (cp, cl) = self.fcol;
        for &(a0, r) in &cl[cp[f0]..cp[f0 + 1]] {
            let ur = u[r];
            for (c, oc) in o.iter_mut().enumerate() {
                *oc += self.jf[a0 + c] * ur;
            }
        }
        let (np, nl) = self.fnb;
        let part = self.part;
        for &(b, pp0) in &nl[np[f0]..np[f0 + 1]] {
            let k = part.nb_ptr[b + 1] - part.nb_ptr[b];
            let wb = &self.w[part.w_ptr[b]..part.w_ptr[b + 1]];
            for (i, ti) in tb[self.e_off[b]..self.e_off[b + 1]].iter().enumerate() {
                let row = &wb[i * k + pp0..i * k + pp0 + o.len()];
                for (oc, w) in o.iter_mut().zip(row) {
                    *oc -= w * ti;
                }
            }
        }
    }

    /// `t_b = C_b⁻¹ W_b v` for the blocks `range` into `tb` (starting at the range's
    /// first block); halves in parallel.
    fn block_solves(&self, range: std::ops::Range<usize>, v: &[f64], tb: &mut [f64]) {
        let (lo, hi) = (range.start, range.end);
        if hi - lo > GRAIN {
            let mid = lo + (hi - lo) / 2;
            let (t0, t1) = tb.split_at_mut(self.e_off[mid] - self.e_off[lo]);
            rayon::join(
                || self.block_solves(lo..mid, v, t0),
                || self.block_solves(mid..hi, v, t1),
            );
            return;
        }
        let part = self.part;
        for b in lo..hi {
            let nbs = &part.nb[part.nb_ptr[b]..part.nb_ptr[b + 1]];
            let (s, k) = (part.e_size[b], nbs.len());
            let wb = &self.w[part.w_ptr[b]..part.w_ptr[b + 1]];
            let t = &mut tb[self.e_off[b] - self.e_off[lo]..self.e_off[b + 1] - self.e_off[lo]];
            for (i, ti) in t.iter_mut().enumerate() {
                *ti = (0..k).map(|pp| wb[i * k + pp] * v[nbs[pp]]).sum();
            }
            small_solve(&self.lc[part.c_ptr[b]..part.c_ptr[b + 1]], s, t);
        }
    }
}

/// The block-Jacobi preconditioner: each F block's Cholesky factor.
struct Preconditioner<'a> {
    ptr: &'a [usize],
    pre_ptr: &'a [usize],
    pre: &'a [f64],
}

impl Preconditioner<'_> {
    /// `z = M⁻¹ r`.
    fn apply(&self, r: &[f64], z: &mut [f64]) {
        z.copy_from_slice(r);
        for k in 0..self.ptr.len() - 1 {
            let (lo, hi) = (self.ptr[k], self.ptr[k + 1]);
            let l = &self.pre[self.pre_ptr[k]..self.pre_ptr[k + 1]];
            debug_assert!(hi - lo <= MAX_F_BLOCK);
            small_solve(l, hi - lo, &mut z[lo..hi]);
        }
    }
}

/// Preconditioned conjugate gradients on `S x = b` from x = 0, to a relative
/// residual of [`FORCING`] or [`MAX_PCG`] iterations; `x` holds the result.
fn pcg(
    op: &Implicit<'_>,
    pre: &Preconditioner<'_>,
    b: &[f64],
    [x, r, z, p, q]: [&mut Vec<f64>; 5],
    (u, tb): (&mut [f64], &mut [f64]),
) {
    x.fill(0.0);
    r.copy_from_slice(b);
    let goal = FORCING * dot(b, b).sqrt();
    pre.apply(r, z);
    p.copy_from_slice(z);
    let mut rz = dot(r, z);
    for _ in 0..MAX_PCG {
        if dot(r, r).sqrt() <= goal || rz == 0.0 {
            break;
        }
        op.apply(p, q, u, tb);
        let pq = dot(p, q);
        if pq.is_nan() || pq <= 0.0 {
            break;
        }
        let a = rz / pq;
        for i in 0..x.len() {
            x[i] += a * p[i];
            r[i] -= a * q[i];
        }
        pre.apply(r, z);
        let rz_new = dot(r, z);
        let beta = rz_new / rz;
        rz = rz_new;
        for (pi, zi) in p.iter_mut().zip(z.iter()) {
            *pi = zi + beta * *pi;
        }
    }
}

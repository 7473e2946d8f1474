//! Column groups for sparse finite differences (spec §5.4): columns that share no
//! structurally nonzero row can be perturbed together, so one residual evaluation
//! gives a whole group of Jacobian columns.
//!
//! [`ColumnGrouping::Scipy`] reproduces scipy's greedy grouping over numpy's
//! `RandomState(0).permutation(n)` order (so evaluation counts match scipy's);
//! [`ColumnGrouping::LargestFirst`] colours the column-intersection graph greedily in
//! order of decreasing degree, which usually needs fewer groups (banded matrices
//! reach the optimum, the band width).

use crate::linalg::sparse::{Columns, SparsityPattern};

/// How columns are grouped for finite differences with a sparsity pattern.
///
/// ```
/// use trustfit::ColumnGrouping;
/// assert_eq!(ColumnGrouping::default(), ColumnGrouping::Auto);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColumnGrouping {
    /// scipy's rule for scipy's methods (their evaluation counts stay scipy's);
    /// largest-first for `method='sparse_lm'`, which scipy does not have.
    #[default]
    Auto,
    /// scipy's rule: greedy over a fixed pseudo-random column order (same evaluation
    /// count as scipy).
    Scipy,
    /// Greedy colouring, columns by decreasing number of neighbours (fewer groups).
    LargestFirst,
}

/// The group of every column and the columns of every group.
#[derive(Clone, Debug)]
pub(crate) struct ColumnGroups {
    /// Group index per column.
    pub group_of: Vec<usize>,
    /// Number of groups.
    pub count: usize,
}

/// MT19937 as numpy's legacy `RandomState` seeds and draws it.
struct Mt19937 {
    state: [u32; 624],
    index: usize,
}

impl Mt19937 {
    fn new(seed: u32) -> Self {
        let mut state = [0u32; 624];
        state[0] = seed;
        for i in 1..624 {
            let prev = state[i - 1];
            state[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        Self { state, index: 624 }
    }

    fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            // The twist, without a modulo per word: i + 1 and i + 397 wrap at 624.
            let twist = |s: &mut [u32; 624], i: usize, i1: usize, im: usize| {
                let y = (s[i] & 0x8000_0000) | (s[i1] & 0x7fff_ffff);
                s[i] = s[im] ^ (y >> 1) ^ (0x9908_b0df & (y & 1).wrapping_neg());
            };
            for i in 0..227 {
                twist(&mut self.state, i, i + 1, i + 397);
            }
            for i in 227..623 {
                twist(&mut self.state, i, i + 1, i - 227);
            }
            twist(&mut self.state, 623, 0, 396);
            self.index = 0;
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// Uniform integer in `[0, max]` by masked rejection (numpy's `random_interval`).
    fn interval(&mut self, max: usize) -> usize {
        if max == 0 {
            return 0;
        }
        let mut mask = max as u64;
        for shift in [1, 2, 4, 8, 16, 32] {
            mask |= mask >> shift;
        }
        loop {
            let v = if mask <= 0xffff_ffff {
                u64::from(self.next_u32()) & mask
            } else {
                ((u64::from(self.next_u32()) << 32) | u64::from(self.next_u32())) & mask
            };
            if v <= max as u64 {
                return v as usize;
            }
        }
    }
}

/// `numpy.random.RandomState(0).permutation(n)` (n < 2³²).
pub(crate) fn legacy_permutation(n: usize) -> Vec<u32> {
    let mut rng = Mt19937::new(0);
    let mut a: Vec<u32> = (0..n as u32).collect();
    for i in (1..n).rev() {
        let j = rng.interval(i);
        a.swap(i, j);
    }
    a
}

/// Groups the columns of `pattern` (`columns` is its column form).
pub(crate) fn group_columns(
    pattern: &SparsityPattern,
    columns: &Columns,
    rule: ColumnGrouping,
) -> ColumnGroups {
    match rule {
        ColumnGrouping::Scipy | ColumnGrouping::Auto => scipy_groups(pattern.nrows(), columns),
        ColumnGrouping::LargestFirst => largest_first(pattern, columns),
    }
}

/// scipy's greedy rule: each group starts at the first ungrouped column in numpy's
/// permuted order and takes every later one that shares no row with it.
fn scipy_groups(m: usize, columns: &Columns) -> ColumnGroups {
    let n = columns.colptr.len() - 1;
    let order = legacy_permutation(n);
    // The columns' rows copied in permuted order (a gather: independent reads), so
    // every pass below reads memory in order.
    let mut tptr = Vec::with_capacity(n + 1);
    tptr.push(0u32);
    let mut trows = Vec::with_capacity(columns.rows.len());
    for &j in &order {
        trows.extend_from_slice(columns.col(j as usize));
        tptr.push(trows.len() as u32);
    }
    let col = |k: u32| &trows[tptr[k as usize] as usize..tptr[k as usize + 1] as usize];
    let mut groups = vec![0usize; n];
    // Rows taken by the current group, one bit each (m/8 bytes: stays in cache).
    let mut taken = vec![0u64; m.div_ceil(64)];
    // The ungrouped columns (positions in permuted order): each pass scans only those.
    let mut left: Vec<u32> = (0..n as u32).collect();
    let mut g = 0;
    while !left.is_empty() {
        taken.fill(0);
        let mut kept = 0;
        for t in 0..left.len() {
            let k = left[t];
            let rows = col(k);
            // The outcome is unpredictable: test every row without an early exit.
            let mut hit = 0u64;
            for &r in rows {
                hit |= taken[(r >> 6) as usize] >> (r & 63);
            }
            let join = (hit & 1) ^ 1;
            if join == 1 {
                for &r in rows {
                    taken[(r >> 6) as usize] |= 1 << (r & 63);
                }
                groups[order[k as usize] as usize] = g;
            }
            left[kept] = k;
            kept += (join ^ 1) as usize;
        }
        left.truncate(kept);
        g += 1;
    }
    ColumnGroups {
        group_of: groups,
        count: g,
    }
}

/// Column indices by decreasing degree, increasing index among equal degrees: a
/// counting sort (degrees are at most nnz), linear in n where a comparison sort of
/// 10⁵ columns cost milliseconds, as much as a solve's automatic Jacobians.
fn by_decreasing_degree(degree: &[usize]) -> Vec<usize> {
    let max = degree.iter().copied().max().unwrap_or(0);
    // Bucket `max − d` holds degree d; `next[b]` is its next free slot.
    let mut next = vec![0usize; max + 2];
    for &d in degree {
        next[max - d + 1] += 1;
    }
    for b in 1..next.len() {
        next[b] += next[b - 1];
    }
    let mut order = vec![0usize; degree.len()];
    for (j, &d) in degree.iter().enumerate() {
        order[next[max - d]] = j;
        next[max - d] += 1;
    }
    order
}

fn largest_first(pattern: &SparsityPattern, columns: &Columns) -> ColumnGroups {
    let n = pattern.ncols();
    // Degree bound: entries in the rows a column touches (cheap, no neighbour sets).
    let mut degree = vec![0usize; n];
    for j in 0..n {
        degree[j] = columns
            .col(j)
            .iter()
            .map(|&r| pattern.row(r as usize).len())
            .sum();
    }
    let order = by_decreasing_degree(&degree);
    let mut group_of = vec![usize::MAX; n];
    // `forbidden[c] == j + 1`: colour c is used by a neighbour of column j.
    let mut forbidden: Vec<usize> = Vec::new();
    let mut count = 0;
    for &j in &order {
        for &r in columns.col(j) {
            for &k in pattern.row(r as usize) {
                let c = group_of[k];
                if c != usize::MAX {
                    forbidden[c] = j + 1;
                }
            }
        }
        let c = (0..count).find(|&c| forbidden[c] != j + 1).unwrap_or(count);
        if c == count {
            count += 1;
            forbidden.push(0);
        }
        group_of[j] = c;
    }
    ColumnGroups { group_of, count }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tridiagonal(n: usize) -> SparsityPattern {
        let entries = (0..n).flat_map(|i| {
            [i.wrapping_sub(1), i, i + 1]
                .into_iter()
                .filter(move |&j| j < n)
                .map(move |j| (i, j))
        });
        SparsityPattern::from_entries(n, n, entries.collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn mt19937_matches_numpy_seed_zero() {
        let mut rng = Mt19937::new(0);
        assert_eq!(
            [rng.next_u32(), rng.next_u32(), rng.next_u32()],
            [2_357_136_044, 2_546_248_239, 3_071_714_933]
        );
        // numpy: np.random.RandomState(0).permutation(10)
        assert_eq!(legacy_permutation(10), vec![2, 8, 4, 9, 1, 6, 7, 3, 0, 5]);
    }

    fn assert_valid(p: &SparsityPattern, g: &ColumnGroups) {
        for i in 0..p.nrows() {
            let mut seen = std::collections::HashSet::new();
            for &j in p.row(i) {
                assert!(
                    seen.insert(g.group_of[j]),
                    "row {i} has two columns of one group"
                );
            }
        }
    }

    #[test]
    fn groups_never_share_a_row() {
        let p = tridiagonal(200);
        let c = p.columns().unwrap();
        let s = group_columns(&p, &c, ColumnGrouping::Scipy);
        assert_valid(&p, &s);
        let lf = group_columns(&p, &c, ColumnGrouping::LargestFirst);
        assert_valid(&p, &lf);
        assert_eq!(lf.count, 3);
        assert!(s.count >= 3);
    }

    #[test]
    fn counting_sort_orders_as_the_comparison_sort() {
        let degree: Vec<usize> = (0..500u64)
            .map(|j| ((j * 2_654_435_761) % 97 % 13) as usize)
            .collect();
        let mut want: Vec<usize> = (0..degree.len()).collect();
        want.sort_by(|&a, &b| degree[b].cmp(&degree[a]).then(a.cmp(&b)));
        assert_eq!(by_decreasing_degree(&degree), want);
        assert_eq!(by_decreasing_degree(&[]), Vec::<usize>::new());
    }
}

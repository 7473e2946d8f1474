//! Column groups for sparse finite differences (spec §5.4): columns that share no
//! structurally nonzero row can be perturbed together, so one residual evaluation
//! gives a whole group of Jacobian columns.
//!
//! [`ColumnGrouping::Scipy`] reproduces scipy's greedy grouping over numpy's
//! `RandomState(0).permutation(n)` order (so evaluation counts match scipy's);
//! [`ColumnGrouping::LargestFirst`] colours the column-intersection graph greedily in
//! order of decreasing degree, which usually needs fewer groups (banded matrices
//! reach the optimum, the band width).

use crate::linalg::sparse::SparsityPattern;

/// How columns are grouped for finite differences with a sparsity pattern.
///
/// ```
/// use trustfit::ColumnGrouping;
/// assert_eq!(ColumnGrouping::default(), ColumnGrouping::Scipy);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColumnGrouping {
    /// scipy's rule: greedy over a fixed pseudo-random column order (same evaluation
    /// count as scipy).
    #[default]
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
            for i in 0..624 {
                let y = (self.state[i] & 0x8000_0000) | (self.state[(i + 1) % 624] & 0x7fff_ffff);
                let mut v = self.state[(i + 397) % 624] ^ (y >> 1);
                if y & 1 != 0 {
                    v ^= 0x9908_b0df;
                }
                self.state[i] = v;
            }
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

/// `numpy.random.RandomState(0).permutation(n)`.
pub(crate) fn legacy_permutation(n: usize) -> Vec<usize> {
    let mut rng = Mt19937::new(0);
    let mut a: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.interval(i);
        a.swap(i, j);
    }
    a
}

/// Groups the columns of `pattern`.
pub(crate) fn group_columns(pattern: &SparsityPattern, rule: ColumnGrouping) -> ColumnGroups {
    match rule {
        ColumnGrouping::Scipy => scipy_groups(pattern),
        ColumnGrouping::LargestFirst => largest_first(pattern),
    }
}

fn scipy_groups(pattern: &SparsityPattern) -> ColumnGroups {
    let n = pattern.ncols();
    let order = legacy_permutation(n);
    let (colptr, rows) = pattern.column_rows();
    // Columns in the permuted order, stored contiguously: the scans below then read
    // memory sequentially (scipy builds `S[:, order]` for the same reason).
    let mut tptr = Vec::with_capacity(n + 1);
    let mut trows = Vec::with_capacity(rows.len());
    tptr.push(0);
    for &c in &order {
        trows.extend_from_slice(&rows[colptr[c]..colptr[c + 1]]);
        tptr.push(trows.len());
    }
    let col = |k: usize| &trows[tptr[k]..tptr[k + 1]];
    let mut groups = vec![usize::MAX; n];
    // `mark[i] == g + 1`: row i is taken by group g.
    let mut mark = vec![0usize; pattern.nrows()];
    let mut g = 0;
    for i in 0..n {
        if groups[i] != usize::MAX {
            continue;
        }
        groups[i] = g;
        for &r in col(i) {
            mark[r] = g + 1;
        }
        let mut any_unassigned = false;
        for j in i + 1..n {
            if groups[j] != usize::MAX {
                continue;
            }
            any_unassigned = true;
            if col(j).iter().all(|&r| mark[r] != g + 1) {
                groups[j] = g;
                for &r in col(j) {
                    mark[r] = g + 1;
                }
            }
        }
        if !any_unassigned {
            break;
        }
        g += 1;
    }
    let mut group_of = vec![0usize; n];
    for k in 0..n {
        group_of[order[k]] = groups[k];
    }
    let count = group_of.iter().max().map_or(0, |&m| m + 1);
    ColumnGroups { group_of, count }
}

fn largest_first(pattern: &SparsityPattern) -> ColumnGroups {
    let n = pattern.ncols();
    let (colptr, rows) = pattern.column_rows();
    // Degree bound: entries in the rows a column touches (cheap, no neighbour sets).
    let mut degree = vec![0usize; n];
    for j in 0..n {
        degree[j] = rows[colptr[j]..colptr[j + 1]]
            .iter()
            .map(|&r| pattern.row(r).len())
            .sum();
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| degree[b].cmp(&degree[a]).then(a.cmp(&b)));
    let mut group_of = vec![usize::MAX; n];
    // `forbidden[c] == j + 1`: colour c is used by a neighbour of column j.
    let mut forbidden: Vec<usize> = Vec::new();
    let mut count = 0;
    for &j in &order {
        for &r in &rows[colptr[j]..colptr[j + 1]] {
            for &k in pattern.row(r) {
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
        let s = group_columns(&p, ColumnGrouping::Scipy);
        assert_valid(&p, &s);
        let lf = group_columns(&p, ColumnGrouping::LargestFirst);
        assert_valid(&p, &lf);
        assert_eq!(lf.count, 3);
        assert!(s.count >= 3);
    }
}

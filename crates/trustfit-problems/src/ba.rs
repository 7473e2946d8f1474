//! Bundle adjustment in the BAL format (Agarwal et al., "Bundle Adjustment in the
//! Large"), as the peer benchmarks define it: a camera is a Rodrigues rotation r,
//! a translation t, a focal length f and radial distortion k1, k2 (9 parameters); a
//! point has 3 coordinates. For an observation (camera c, point X, measured u):
//! `P = R(r) X + t`, `p = −P_xy / P_z`, residual `f·(1 + k1‖p‖² + k2‖p‖⁴)·p − u`.
//!
//! Parameters are ordered cameras first (9 each), then points (3 each). The
//! Jacobian has 12 entries per residual row (its camera's 9, its point's 3); it is
//! computed exactly by forward-mode differentiation ([`trustfit::Dual`]), like Ceres'
//! autodiff.
//!
//! ```
//! // One camera at t = (0, 0, −5), f = 1, no rotation or distortion; one point.
//! let text = "1 1 1\n0 0 -1.0 2.0\n0 0 0 0 0 -5 1 0 0\n0.5 0.2 1\n";
//! let p = trustfit_problems::ba::BalProblem::parse(text).unwrap();
//! assert_eq!((p.n(), p.m()), (12, 2));
//! let mut f = [0.0; 2];
//! p.residuals(&p.x0, &mut f);
//! // P = (0.5, 0.2, −4), p = −P_xy/P_z = (0.125, 0.05); residual p − (−1, 2).
//! assert!((f[0] - 1.125).abs() < 1e-15 && (f[1] + 1.95).abs() < 1e-15);
//! ```

use crate::TestProblem;
pub use crate::scalar::Scalar;
use rayon::prelude::*;
use std::path::Path;
use trustfit::Dual;

/// Observations per piece of work on one thread.
const OBS_GRAIN: usize = 1024;

/// A BAL problem: observations, and the starting parameters from the file.
#[derive(Debug, Clone)]
pub struct BalProblem {
    /// Number of cameras.
    pub num_cameras: usize,
    /// Number of points.
    pub num_points: usize,
    /// (camera, point) of every observation.
    pub obs_index: Vec<(u32, u32)>,
    /// Measured image coordinates of every observation.
    pub obs_xy: Vec<[f64; 2]>,
    /// Starting parameters (cameras then points).
    pub x0: Vec<f64>,
}

/// Residual of one observation (BAL camera model), generic over the scalar.
pub fn reprojection<T: Scalar>(cam: &[T; 9], pt: &[T; 3], observed: [f64; 2]) -> [T; 2] {
    let r = [cam[0], cam[1], cam[2]];
    let theta2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
    let cross = |a: &[T; 3], b: &[T; 3]| {
        [
            a[1] * b[2] - a[2] * b[1],
            a[2] * b[0] - a[0] * b[2],
            a[0] * b[1] - a[1] * b[0],
        ]
    };
    let rotated = if theta2.value() > f64::EPSILON {
        // Rodrigues: p cosθ + (w × p) sinθ + w (w·p)(1 − cosθ), w = r/θ.
        let theta = theta2.sqrt();
        let (c, s) = (theta.cos(), theta.sin());
        let w = [r[0] / theta, r[1] / theta, r[2] / theta];
        let wxp = cross(&w, pt);
        let wdp = w[0] * pt[0] + w[1] * pt[1] + w[2] * pt[2];
        let k = wdp * (T::c(1.0) - c);
        [
            pt[0] * c + wxp[0] * s + w[0] * k,
            pt[1] * c + wxp[1] * s + w[1] * k,
            pt[2] * c + wxp[2] * s + w[2] * k,
        ]
    } else {
        // First order near θ = 0 (exact derivatives at r = 0).
        let rxp = cross(&r, pt);
        [pt[0] + rxp[0], pt[1] + rxp[1], pt[2] + rxp[2]]
    };
    let p = [
        rotated[0] + cam[3],
        rotated[1] + cam[4],
        rotated[2] + cam[5],
    ];
    let (px, py) = (-p[0] / p[2], -p[1] / p[2]);
    let r2 = px * px + py * py;
    let distortion = T::c(1.0) + r2 * (cam[7] + cam[8] * r2);
    let scale = cam[6] * distortion;
    [
        scale * px - T::c(observed[0]),
        scale * py - T::c(observed[1]),
    ]
}

impl BalProblem {
    /// Parses BAL text: header, observations, cameras, points.
    ///
    /// Nothing is allocated on the header's word: counts that the text cannot hold
    /// (every number takes at least two bytes) are refused before any allocation.
    /// Camera and point indices must be integers in range; every value must be a
    /// finite number.
    ///
    /// # Errors
    /// A message naming what is malformed.
    ///
    /// ```
    /// use trustfit_problems::ba::BalProblem;
    /// let e = BalProblem::parse("1000000000 1000000000 1000000000000\n0 0 1 2\n").unwrap_err();
    /// assert!(e.contains("more numbers than"), "{e}");
    /// let e = BalProblem::parse("1 1 1\n-1 0 0.5 0.2\n0 0 0 0 0 -5 1 0 0\n0 0 0\n").unwrap_err();
    /// assert!(e.contains("camera index \"-1\""), "{e}");
    /// ```
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut tok = text.split_ascii_whitespace();
        let mut next = |what: &str| {
            tok.next()
                .ok_or_else(|| format!("BAL file ends in {what} (truncated?)"))
        };
        let count = |t: &str, what: &str| {
            t.parse::<usize>()
                .map_err(|_| format!("BAL header: the {what} {t:?} is not a non-negative integer"))
        };
        let num_cameras = count(next("the header")?, "camera count")?;
        let num_points = count(next("the header")?, "point count")?;
        let num_obs = count(next("the header")?, "observation count")?;
        let n = num_cameras
            .checked_mul(9)
            .zip(num_points.checked_mul(3))
            .and_then(|(c, p)| c.checked_add(p));
        let numbers = n
            .zip(num_obs.checked_mul(4))
            .and_then(|(n, o)| n.checked_add(o));
        // A number and its separator take at least 2 bytes.
        let room = text.len() / 2 + 1;
        let (n, _) = match (n, numbers) {
            (Some(n), Some(numbers)) if numbers <= room => (n, numbers),
            _ => {
                return Err(format!(
                    "BAL header claims {num_cameras} cameras, {num_points} points and \
                     {num_obs} observations: more numbers than a file of {} bytes holds",
                    text.len()
                ));
            }
        };
        let index = |t: &str, what: &str, k: usize, limit: usize| -> Result<u32, String> {
            t.parse::<u32>()
                .ok()
                .filter(|&i| (i as usize) < limit)
                .ok_or_else(|| {
                    format!(
                        "BAL observation {k}: {what} index {t:?} is not an integer in 0..{limit}"
                    )
                })
        };
        let value = |t: &str, what: &str| {
            t.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("BAL {what}: {t:?} is not a finite number"))
        };
        let mut obs_index = Vec::with_capacity(num_obs);
        let mut obs_xy = Vec::with_capacity(num_obs);
        for k in 0..num_obs {
            let c = index(next("an observation")?, "camera", k, num_cameras)?;
            let p = index(next("an observation")?, "point", k, num_points)?;
            obs_index.push((c, p));
            obs_xy.push([
                value(next("an observation")?, "observation")?,
                value(next("an observation")?, "observation")?,
            ]);
        }
        let mut x0 = Vec::with_capacity(n);
        for _ in 0..n {
            x0.push(value(next("the parameters")?, "parameter")?);
        }
        Ok(Self {
            num_cameras,
            num_points,
            obs_index,
            obs_xy,
            x0,
        })
    }

    /// Reads a BAL file: plain text, or gzip-compressed when the name ends in `.gz`.
    ///
    /// # Errors
    /// The I/O, decompression or parse error, naming the path.
    pub fn load(path: &Path) -> Result<Self, String> {
        let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
        let text = if path.extension().is_some_and(|e| e == "gz") {
            let file = std::fs::File::open(path).map_err(|e| fail(&e))?;
            let mut text = String::new();
            std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(file), &mut text)
                .map_err(|e| fail(&e))?;
            text
        } else if path.extension().is_some_and(|e| e == "bz2") {
            return Err(fail(
                &"bzip2-compressed BAL files are not supported: decompress it, or use gzip",
            ));
        } else {
            std::fs::read_to_string(path).map_err(|e| fail(&e))?
        };
        Self::parse(&text).map_err(|e| fail(&e))
    }

    /// Number of parameters (9 per camera, 3 per point).
    pub fn n(&self) -> usize {
        9 * self.num_cameras + 3 * self.num_points
    }

    /// Number of residuals (2 per observation).
    pub fn m(&self) -> usize {
        2 * self.obs_index.len()
    }

    fn blocks<'a>(&self, x: &'a [f64], k: usize) -> (&'a [f64], &'a [f64]) {
        let (c, p) = self.obs_index[k];
        let cam = &x[9 * c as usize..9 * c as usize + 9];
        let base = 9 * self.num_cameras + 3 * p as usize;
        (cam, &x[base..base + 3])
    }

    /// Residuals at `x`, observations split among rayon's threads (each is
    /// independent: the same bits for any number of threads).
    pub fn residuals(&self, x: &[f64], f: &mut [f64]) {
        let m = self.m();
        f[..m]
            .par_chunks_mut(2)
            .with_min_len(OBS_GRAIN)
            .enumerate()
            .for_each(|(k, fk)| {
                let (cam, pt) = self.blocks(x, k);
                let cam: [f64; 9] = std::array::from_fn(|i| cam[i]);
                let pt: [f64; 3] = std::array::from_fn(|i| pt[i]);
                fk.copy_from_slice(&reprojection(&cam, &pt, self.obs_xy[k]));
            });
    }

    /// Structure of the Jacobian: for row 2k and 2k+1, the 9 camera columns then the 3
    /// point columns (sorted), as (row, column) pairs in row-major order.
    pub fn sparsity(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::with_capacity(24 * self.obs_index.len());
        for (k, &(c, p)) in self.obs_index.iter().enumerate() {
            for row in [2 * k, 2 * k + 1] {
                out.extend((0..9).map(|i| (row, 9 * c as usize + i)));
                let base = 9 * self.num_cameras + 3 * p as usize;
                out.extend((0..3).map(|i| (row, base + i)));
            }
        }
        out
    }

    /// Jacobian values at `x` in the order of [`sparsity`](Self::sparsity) (12 per row),
    /// observations split among rayon's threads.
    pub fn jacobian_values(&self, x: &[f64], values: &mut [f64]) {
        let len = 24 * self.obs_index.len();
        values[..len]
            .par_chunks_mut(24)
            .with_min_len(OBS_GRAIN)
            .enumerate()
            .for_each(|(k, vk)| {
                let [d0, d1] = self.observation_jacobian(x, k);
                vk[..12].copy_from_slice(&d0);
                vk[12..].copy_from_slice(&d1);
            });
    }

    /// Rows 2k and 2k+1 of J: derivatives by the 9 camera then the 3 point parameters.
    fn observation_jacobian(&self, x: &[f64], k: usize) -> [[f64; 12]; 2] {
        let (cam, pt) = self.blocks(x, k);
        let cam: [Dual<12>; 9] = std::array::from_fn(|i| Dual::variable(cam[i], i));
        let pt: [Dual<12>; 3] = std::array::from_fn(|i| Dual::variable(pt[i], 9 + i));
        let r = reprojection(&cam, &pt, self.obs_xy[k]);
        [r[0].eps, r[1].eps]
    }

    /// ½‖f(x)‖².
    pub fn cost(&self, x: &[f64]) -> f64 {
        let mut f = vec![0.0; self.m()];
        self.residuals(x, &mut f);
        0.5 * f.iter().map(|v| v * v).sum::<f64>()
    }
}

/// A small synthetic BAL file (text): `cams` cameras on a line looking at `pts` points,
/// each point seen by about ¾ of the cameras (at least one), observed exactly by the
/// true scene; the parameters in the file perturb it (so the minimum cost is zero).
/// For tests and examples that need bundle adjustment's shape without a data file.
///
/// ```
/// let p = trustfit_problems::ba::BalProblem::parse(&trustfit_problems::ba::synthetic_scene(3, 8)).unwrap();
/// assert_eq!((p.num_cameras, p.num_points), (3, 8));
/// assert!(p.cost(&p.x0) > 0.0);
/// ```
pub fn synthetic_scene(cams: usize, pts: usize) -> String {
    use std::fmt::Write as _;
    let cam = |c: usize, e: f64| -> [f64; 9] {
        let c = c as f64;
        [
            0.01 * c + e,
            -0.02 * c,
            0.03 - e,
            0.3 * c - 0.45,
            -0.1 + e,
            -6.0,
            1.0,
            0.01,
            0.001,
        ]
    };
    let pt = |q: usize, e: f64| -> [f64; 3] {
        let q = q as f64;
        [
            (q * 0.37).sin() + e,
            (q * 0.23).cos() - e,
            0.5 * (q * 0.11).sin() + e,
        ]
    };
    let (mut obs, mut count) = (String::new(), 0);
    for q in 0..pts {
        for c in (0..cams).filter(|&c| (q + c) % 4 != 3 || c == q % cams) {
            let uv = reprojection(&cam(c, 0.0), &pt(q, 0.0), [0.0, 0.0]);
            let _ = writeln!(obs, "{c} {q} {} {}", uv[0], uv[1]);
            count += 1;
        }
    }
    let mut text = format!("{cams} {pts} {count}\n{obs}");
    for c in 0..cams {
        cam(c, 0.002 * (c as f64 + 1.0)).iter().for_each(|v| {
            let _ = writeln!(text, "{v}");
        });
    }
    for q in 0..pts {
        pt(q, 0.01 * ((q % 5) as f64 - 2.0)).iter().for_each(|v| {
            let _ = writeln!(text, "{v}");
        });
    }
    text
}

/// The dense Jacobian is for small problems and checks: a BAL file's is far too large,
/// use [`BalProblem::sparsity`] and [`BalProblem::jacobian_values`] (or
/// [`SparseAdapter`](crate::adapter::SparseAdapter)).
impl TestProblem for BalProblem {
    fn n(&self) -> usize {
        BalProblem::n(self)
    }

    fn m(&self) -> usize {
        BalProblem::m(self)
    }

    fn residuals(&self, x: &[f64], f: &mut [f64]) {
        BalProblem::residuals(self, x, f);
    }

    fn jacobian(&self, x: &[f64], jac: &mut [f64]) {
        let n = BalProblem::n(self);
        jac.fill(0.0);
        for k in 0..self.obs_index.len() {
            let (c, p) = self.obs_index[k];
            let point = 9 * self.num_cameras + 3 * p as usize;
            for (row, d) in self.observation_jacobian(x, k).iter().enumerate() {
                let at = (2 * k + row) * n;
                jac[at + 9 * c as usize..at + 9 * c as usize + 9].copy_from_slice(&d[..9]);
                jac[at + point..at + point + 3].copy_from_slice(&d[9..]);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    // 2 cameras, 3 points, 5 observations, a non-trivial rotation.
    const SMALL: &str = "2 3 5\n0 0 0.1 -0.2\n0 1 0.3 0.1\n1 0 -0.1 0.05\n1 2 0.2 0.2\n0 2 0.0 -0.1\n\
                    0.01 -0.02 0.03 0.1 -0.1 -5 1.2 0.01 -0.001\n\
                    -0.2 0.1 0.05 0.0 0.2 -6 0.9 -0.02 0.003\n\
                    0.1 0.2 0.3\n-0.4 0.1 0.2\n0.3 -0.3 -0.1\n";

    fn small() -> BalProblem {
        BalProblem::parse(SMALL).unwrap()
    }

    #[test]
    fn loads_plain_and_gzip_files_alike() {
        use std::io::Write;
        let dir = std::env::temp_dir().join(format!("trustfit-bal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let plain = dir.join("small.txt");
        std::fs::write(&plain, SMALL).unwrap();
        let gz = dir.join("small.txt.gz");
        let mut enc =
            flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), Default::default());
        enc.write_all(SMALL.as_bytes()).unwrap();
        enc.finish().unwrap();
        let (a, b) = (
            BalProblem::load(&plain).unwrap(),
            BalProblem::load(&gz).unwrap(),
        );
        assert_eq!((a.n(), a.m(), a.x0.clone()), (b.n(), b.m(), b.x0.clone()));
        assert_eq!(a.cost(&a.x0), b.cost(&b.x0));
        // A corrupt archive and a bzip2 file are errors that name the file.
        std::fs::write(&gz, b"not gzip").unwrap();
        assert!(BalProblem::load(&gz).unwrap_err().contains("small.txt.gz"));
        let bz = dir.join("small.txt.bz2");
        assert!(BalProblem::load(&bz).unwrap_err().contains("bzip2"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The sparse Jacobian at `x0`, scattered into a dense row-major `m × n` matrix.
    fn scattered_jacobian(p: &BalProblem) -> Vec<f64> {
        let n = p.n();
        let pattern = p.sparsity();
        let mut values = vec![0.0; pattern.len()];
        p.jacobian_values(&p.x0, &mut values);
        let mut dense = vec![0.0; p.m() * n];
        for (&(i, j), v) in pattern.iter().zip(&values) {
            dense[i * n + j] = *v;
        }
        dense
    }

    #[test]
    fn jacobian_matches_central_differences() {
        let p = small();
        let (m, n) = (p.m(), p.n());
        let dense = scattered_jacobian(&p);
        let (mut fp, mut fm) = (vec![0.0; m], vec![0.0; m]);
        for j in 0..n {
            let h = 1e-6 * p.x0[j].abs().max(1.0);
            let mut x = p.x0.clone();
            x[j] += h;
            p.residuals(&x, &mut fp);
            x[j] -= 2.0 * h;
            p.residuals(&x, &mut fm);
            for i in 0..m {
                let fd = (fp[i] - fm[i]) / (2.0 * h);
                assert!(
                    (fd - dense[i * n + j]).abs() < 1e-6 * (1.0 + fd.abs()),
                    "({i},{j}): {fd} vs {}",
                    dense[i * n + j]
                );
            }
        }
    }

    #[test]
    fn dense_jacobian_is_the_sparse_one_scattered() {
        let p = small();
        let (m, n) = (p.m(), p.n());
        let scattered = scattered_jacobian(&p);
        let mut dense = vec![f64::NAN; m * n];
        TestProblem::jacobian(&p, &p.x0, &mut dense);
        assert_eq!(dense, scattered);
        assert_eq!(TestProblem::sum_of_squares(&p, &p.x0), 2.0 * p.cost(&p.x0));
    }

    #[test]
    fn rejects_out_of_range_observations() {
        assert!(BalProblem::parse("1 1 1\n0 3 0 0\n").is_err());
        assert!(BalProblem::parse("1 1 1\n0 0 0 0\n1 2").is_err());
    }

    #[test]
    fn gh14_header_counts_are_not_taken_on_trust() {
        // Used to abort: "memory allocation of 8000000000000 bytes failed".
        for header in [
            "1000000000 1000000000 1000000000000",
            "18446744073709551615 1 1",
            "1 18446744073709551615 0",
            "1 1 18446744073709551615",
        ] {
            let e = BalProblem::parse(&format!("{header}\n0 0 1 2\n")).unwrap_err();
            assert!(e.contains("more numbers than a file"), "{header}: {e}");
        }
        let e = BalProblem::parse("-1 1 1\n").unwrap_err();
        assert!(e.contains("camera count \"-1\""), "{e}");
    }

    #[test]
    fn gh14_indices_must_be_integers_in_range() {
        let tail = "0 0 0 0 0 -5 1 0 0\n0 0 0\n";
        for (obs, what) in [
            ("-1 0", "camera index \"-1\""),
            ("nan 0", "camera index \"nan\""),
            ("0 -0.5", "point index \"-0.5\""),
            ("0 NaN", "point index \"NaN\""),
            ("0.0 0", "camera index \"0.0\""),
            ("1 0", "camera index \"1\" is not an integer in 0..1"),
        ] {
            let e = BalProblem::parse(&format!("1 1 1\n{obs} 0.5 0.2\n{tail}")).unwrap_err();
            assert!(e.contains(what), "{obs}: {e}");
        }
        let e = BalProblem::parse(&format!("1 1 1\n0 0 nan 0.2\n{tail}")).unwrap_err();
        assert!(e.contains("observation: \"nan\" is not a finite"), "{e}");
        let e =
            BalProblem::parse("1 1 1\n0 0 0.5 0.2\n0 0 0 0 0 -5 1e400 0 0\n0 0 0\n").unwrap_err();
        assert!(e.contains("parameter: \"1e400\""), "{e}");
    }

    #[test]
    fn gh14_truncated_files_are_errors() {
        let cut = &SMALL[..SMALL.len() - 10];
        let e = BalProblem::parse(cut).unwrap_err();
        assert!(e.contains("ends in the parameters"), "{e}");
    }
}

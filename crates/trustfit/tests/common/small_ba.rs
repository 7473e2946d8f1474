//! A small bundle-adjustment problem shared by the sparse tests.
#![allow(dead_code)] // not every test file that includes `common` uses it

use trustfit_problems::adapter::SparseAdapter;
use trustfit_problems::ba::BalProblem;

/// A small bundle-adjustment problem: 4 cameras, 30 points, each seen by 2–4 cameras.
pub fn small_ba() -> SparseAdapter<BalProblem> {
    ba_scene(4, 30)
}

/// `cams` cameras and `pts` points, each seen by about ¾ of the cameras.
pub fn ba_scene(cams: usize, pts: usize) -> SparseAdapter<BalProblem> {
    // Observations made by the true scene; the start perturbs it.
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
    let mut obs = String::new();
    let mut count = 0;
    for q in 0..pts {
        for c in 0..cams {
            if (q + c) % 4 != 3 || c == q % cams {
                let uv = trustfit_problems::ba::reprojection(&cam(c, 0.0), &pt(q, 0.0), [0.0, 0.0]);
                obs.push_str(&format!("{c} {q} {} {}\n", uv[0], uv[1]));
                count += 1;
            }
        }
    }
    let mut params = String::new();
    for c in 0..cams {
        for v in cam(c, 0.002 * (c as f64 + 1.0)) {
            params.push_str(&format!("{v}\n"));
        }
    }
    for q in 0..pts {
        for v in pt(q, 0.01 * ((q % 5) as f64 - 2.0)) {
            params.push_str(&format!("{v}\n"));
        }
    }
    let text = format!("{cams} {pts} {count}\n{obs}{params}");
    SparseAdapter::new(BalProblem::parse(&text).unwrap()).unwrap()
}

//! A small bundle-adjustment problem shared by the sparse tests.
#![allow(dead_code)] // not every test file that includes `common` uses it

use trustfit_problems::adapter::SparseAdapter;
use trustfit_problems::ba::BalProblem;

/// A small bundle-adjustment problem: 4 cameras, 30 points, each seen by 2–4 cameras.
pub fn small_ba() -> SparseAdapter<BalProblem> {
    ba_scene(4, 30)
}

/// `cams` cameras and `pts` points, each seen by about ¾ of the cameras (see
/// [`trustfit_problems::ba::synthetic_scene`]).
pub fn ba_scene(cams: usize, pts: usize) -> SparseAdapter<BalProblem> {
    let text = trustfit_problems::ba::synthetic_scene(cams, pts);
    SparseAdapter::new(BalProblem::parse(&text).unwrap()).unwrap()
}

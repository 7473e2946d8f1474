pub mod decay_rows;
pub mod fixture_problems;
pub mod logged;
pub mod small_ba;

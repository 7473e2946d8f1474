pub mod fixture_problems;
pub mod logged;

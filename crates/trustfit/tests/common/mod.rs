pub mod fixture_problems;

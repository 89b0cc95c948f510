//! Small pieces every module shares: Redis's number rules, glob matching, clocks.

pub mod glob;
pub mod numbers;
pub mod time;

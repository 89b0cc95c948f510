//! Small pieces every module shares: Redis's number rules, glob matching, clocks, its partial sort.

pub mod broadcast;
pub mod glob;
pub mod lzf;
pub mod numbers;
pub mod pqsort;
pub mod rawslice;
pub mod time;

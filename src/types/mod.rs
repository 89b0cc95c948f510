//! The data types, one module each: the type's own structure and operations first, its commands after, as in
//! Redis's `t_<type>.c` files.

pub mod collection;
pub mod geo;
pub mod hash;
pub mod hyperloglog;
pub mod list;
pub mod set;
pub mod stream;
pub mod string;
pub mod zset;

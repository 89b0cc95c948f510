//! The data types, one module each: the type's own structure and operations first, its commands after, as in
//! Redis's `t_<type>.c` files.

pub mod collection;
pub mod geo;
pub mod hash;
pub mod hyperloglog;
pub mod list;
pub mod listpack;
pub mod set;
pub mod stream;
pub mod string;
pub mod zset;

#[cfg(test)]
mod sizes {
    /// What a small value costs besides its packed data: the boxed header of each collection type.
    #[test]
    fn collection_headers_stay_small() {
        use std::mem::size_of;
        assert!(size_of::<super::hash::Hash>() <= 16);
        assert!(size_of::<super::set::Set>() <= 16);
        assert!(size_of::<super::zset::ZSet>() <= 16);
        assert!(size_of::<super::list::List>() <= 40);
        assert_eq!(
            size_of::<crate::db::Value>(),
            24,
            "held inline, they make no value bigger"
        );
        assert_eq!(
            size_of::<crate::db::Entry>(),
            32,
            "a keyspace node of 56 bytes: a 64-byte malloc block"
        );
    }
}

//! The sorted-set command table, with Redis's key positions, flags and docs.

use super::{blocking, commands, popping, rangecmds, store};
use crate::commands::flags::*;
use crate::commands::keyspec::prelude::*;
use crate::commands::{Command, Handler};

const fn z(name: &'static str, arity: i32, flags: u32, handler: Handler) -> Command {
    Command::new(name, arity, flags, handler).keys(1, 1, 1)
}

pub const COMMANDS: &[Command] = &[
    z("zadd", -4, WRITE | DENYOOM | FAST, commands::zadd)
        .key_specs(&[ks(RW | UPDATE, Index(1), Range(0, 1, 0))])
        .doc(
            "sorted-set",
            "1.2.0",
            "Add one or more members to a sorted set, or update its score if it already exists",
        )
        .complexity(
            "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
        ),
    z("zincrby", 4, WRITE | DENYOOM | FAST, commands::zincrby)
        .key_specs(&[ks(RW | ACCESS | UPDATE, Index(1), Range(0, 1, 0))])
        .doc(
            "sorted-set",
            "1.2.0",
            "Increment the score of a member in a sorted set",
        )
        .complexity("O(log(N)) where N is the number of elements in the sorted set."),
    z("zrem", -3, WRITE | FAST, commands::zrem)
        .key_specs(&[ks(RW | DELETE, Index(1), Range(0, 1, 0))])
        .doc(
            "sorted-set",
            "1.2.0",
            "Remove one or more members from a sorted set",
        )
        .complexity(
            "O(M*log(N)) with N being the number of elements in the sorted set and M the number \
             of elements to be removed.",
        ),
    z("zcard", 2, READONLY | FAST, commands::zcard)
        .key_specs(&[ks(RO, Index(1), Range(0, 1, 0))])
        .doc(
            "sorted-set",
            "1.2.0",
            "Get the number of members in a sorted set",
        )
        .complexity("O(1)"),
    z("zscore", 3, READONLY | FAST, commands::zscore)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc(
            "sorted-set",
            "1.2.0",
            "Get the score associated with the given member in a sorted set",
        )
        .complexity("O(1)"),
    z("zmscore", -3, READONLY | FAST, commands::zmscore)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc(
            "sorted-set",
            "6.2.0",
            "Get the score associated with the given members in a sorted set",
        )
        .complexity("O(N) where N is the number of members being requested."),
    z("zrank", 3, READONLY | FAST, commands::zrank)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc(
            "sorted-set",
            "2.0.0",
            "Determine the index of a member in a sorted set",
        )
        .complexity("O(log(N))"),
    z("zrevrank", 3, READONLY | FAST, commands::zrevrank)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc(
            "sorted-set",
            "2.0.0",
            "Determine the index of a member in a sorted set, with scores ordered from high to \
             low",
        )
        .complexity("O(log(N))"),
    z("zcount", 4, READONLY | FAST, commands::zcount)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc(
            "sorted-set",
            "2.0.0",
            "Count the members in a sorted set with scores within the given values",
        )
        .complexity("O(log(N)) with N being the number of elements in the sorted set."),
    z("zlexcount", 4, READONLY | FAST, commands::zlexcount)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc(
            "sorted-set",
            "2.8.9",
            "Count the number of members in a sorted set between a given lexicographical range",
        )
        .complexity("O(log(N)) with N being the number of elements in the sorted set."),
    z("zrandmember", -2, READONLY, commands::zrandmember)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc(
            "sorted-set",
            "6.2.0",
            "Get one or multiple random elements from a sorted set",
        )
        .complexity("O(N) where N is the number of elements returned"),
    z("zscan", -3, READONLY, commands::zscan)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc(
            "sorted-set",
            "2.8.0",
            "Incrementally iterate sorted sets elements and associated scores",
        )
        .complexity(
            "O(1) for every call. O(N) for a complete iteration, including enough command calls \
             for the cursor to return back to 0. N is the number of elements inside the \
             collection..",
        ),
    z("zrange", -4, READONLY, rangecmds::zrange)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc(
            "sorted-set",
            "1.2.0",
            "Return a range of members in a sorted set",
        )
        .complexity(
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number \
             of elements returned.",
        ),
    z("zrangebyscore", -4, READONLY, rangecmds::zrangebyscore)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc(
            "sorted-set",
            "1.0.5",
            "Return a range of members in a sorted set, by score",
        )
        .complexity(
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number \
             of elements being returned. If M is constant (e.g. always asking for the first 10 \
             elements with LIMIT), you can consider it O(log(N)).",
        ),
    z(
        "zrevrangebyscore",
        -4,
        READONLY,
        rangecmds::zrevrangebyscore,
    )
    .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
    .doc(
        "sorted-set",
        "2.2.0",
        "Return a range of members in a sorted set, by score, with scores ordered from high \
             to low",
    )
    .complexity(
        "O(log(N)+M) with N being the number of elements in the sorted set and M the number \
             of elements being returned. If M is constant (e.g. always asking for the first 10 \
             elements with LIMIT), you can consider it O(log(N)).",
    ),
    z("zrangebylex", -4, READONLY, rangecmds::zrangebylex)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc(
            "sorted-set",
            "2.8.9",
            "Return a range of members in a sorted set, by lexicographical range",
        )
        .complexity(
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number \
             of elements being returned. If M is constant (e.g. always asking for the first 10 \
             elements with LIMIT), you can consider it O(log(N)).",
        ),
    z("zrevrangebylex", -4, READONLY, rangecmds::zrevrangebylex)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc(
            "sorted-set",
            "2.8.9",
            "Return a range of members in a sorted set, by lexicographical range, ordered from \
             higher to lower strings.",
        )
        .complexity(
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number \
             of elements being returned. If M is constant (e.g. always asking for the first 10 \
             elements with LIMIT), you can consider it O(log(N)).",
        ),
    z("zrevrange", -4, READONLY, rangecmds::zrevrange)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc(
            "sorted-set",
            "1.2.0",
            "Return a range of members in a sorted set, by index, with scores ordered from high \
             to low",
        )
        .complexity(
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number \
             of elements returned.",
        ),
    Command::new("zrangestore", -5, WRITE | DENYOOM, rangecmds::zrangestore)
        .key_specs(&[
            ks(OW | UPDATE, Index(1), Range(0, 1, 0)),
            ks(RO | ACCESS, Index(2), Range(0, 1, 0)),
        ])
        .keys(1, 2, 1)
        .doc(
            "sorted-set",
            "6.2.0",
            "Store a range of members from sorted set into another key",
        )
        .complexity(
            "O(log(N)+M) with N being the number of elements in the sorted set and M the \
                 number of elements stored into the destination key.",
        ),
    z("zremrangebyrank", 4, WRITE, rangecmds::zremrangebyrank)
        .key_specs(&[ks(RW | DELETE, Index(1), Range(0, 1, 0))])
        .doc(
            "sorted-set",
            "2.0.0",
            "Remove all members in a sorted set within the given indexes",
        )
        .complexity(
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number \
             of elements removed by the operation.",
        ),
    z("zremrangebyscore", 4, WRITE, rangecmds::zremrangebyscore)
        .key_specs(&[ks(RW | DELETE, Index(1), Range(0, 1, 0))])
        .doc(
            "sorted-set",
            "1.2.0",
            "Remove all members in a sorted set within the given scores",
        )
        .complexity(
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number \
             of elements removed by the operation.",
        ),
    z("zremrangebylex", 4, WRITE, rangecmds::zremrangebylex)
        .key_specs(&[ks(RW | DELETE, Index(1), Range(0, 1, 0))])
        .doc(
            "sorted-set",
            "2.8.9",
            "Remove all members in a sorted set between the given lexicographical range",
        )
        .complexity(
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number \
             of elements removed by the operation.",
        ),
    z("zpopmin", -2, WRITE | FAST, popping::zpopmin)
        .key_specs(&[ks(RW | ACCESS | DELETE, Index(1), Range(0, 1, 0))])
        .doc(
            "sorted-set",
            "5.0.0",
            "Remove and return members with the lowest scores in a sorted set",
        )
        .complexity(
            "O(log(N)*M) with N being the number of elements in the sorted set, and M being the \
             number of elements popped.",
        ),
    z("zpopmax", -2, WRITE | FAST, popping::zpopmax)
        .key_specs(&[ks(RW | ACCESS | DELETE, Index(1), Range(0, 1, 0))])
        .doc(
            "sorted-set",
            "5.0.0",
            "Remove and return members with the highest scores in a sorted set",
        )
        .complexity(
            "O(log(N)*M) with N being the number of elements in the sorted set, and M being the \
             number of elements popped.",
        ),
    Command::new("zmpop", -4, WRITE, popping::zmpop)
        .key_specs(&[ks(RW | ACCESS | DELETE, Index(1), Keynum(0, 1, 1))])
        .movable(popping::zmpop_keys)
        .doc(
            "sorted-set",
            "7.0.0",
            "Remove and return members with scores in a sorted set",
        )
        .complexity(
            "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of \
                 elements in the sorted set, and M being the number of elements popped.",
        ),
    Command::new(
        "bzpopmin",
        -3,
        WRITE | NOSCRIPT | FAST | BLOCKING,
        blocking::bzpopmin,
    )
    .key_specs(&[ks(RW | ACCESS | DELETE, Index(1), Range(-2, 1, 0))])
    .keys(1, -2, 1)
    .doc(
        "sorted-set",
        "5.0.0",
        "Remove and return the member with the lowest score from one or more sorted sets, \
                 or block until one is available",
    )
    .complexity("O(log(N)) with N being the number of elements in the sorted set."),
    Command::new(
        "bzpopmax",
        -3,
        WRITE | NOSCRIPT | FAST | BLOCKING,
        blocking::bzpopmax,
    )
    .key_specs(&[ks(RW | ACCESS | DELETE, Index(1), Range(-2, 1, 0))])
    .keys(1, -2, 1)
    .doc(
        "sorted-set",
        "5.0.0",
        "Remove and return the member with the highest score from one or more sorted \
                 sets, or block until one is available",
    )
    .complexity("O(log(N)) with N being the number of elements in the sorted set."),
    Command::new("bzmpop", -5, WRITE | BLOCKING, blocking::bzmpop)
        .key_specs(&[ks(RW | ACCESS | DELETE, Index(2), Keynum(0, 1, 1))])
        .movable(blocking::bzmpop_keys)
        .doc(
            "sorted-set",
            "7.0.0",
            "Remove and return members with scores in a sorted set or block until one is \
                 available",
        )
        .complexity(
            "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of \
                 elements in the sorted set, and M being the number of elements popped.",
        ),
    Command::new("zunion", -3, READONLY, store::zunion)
        .key_specs(&[ks(RO | ACCESS, Index(1), Keynum(0, 1, 1))])
        .movable(store::numkeys_at_1)
        .doc("sorted-set", "6.2.0", "Add multiple sorted sets")
        .complexity(
            "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and \
                 M being the number of elements in the resulting sorted set.",
        ),
    Command::new("zinter", -3, READONLY, store::zinter)
        .key_specs(&[ks(RO | ACCESS, Index(1), Keynum(0, 1, 1))])
        .movable(store::numkeys_at_1)
        .doc("sorted-set", "6.2.0", "Intersect multiple sorted sets")
        .complexity(
            "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K \
                 being the number of input sorted sets and M being the number of elements in the \
                 resulting sorted set.",
        ),
    Command::new("zdiff", -3, READONLY, store::zdiff)
        .key_specs(&[ks(RO | ACCESS, Index(1), Keynum(0, 1, 1))])
        .movable(store::numkeys_at_1)
        .doc("sorted-set", "6.2.0", "Subtract multiple sorted sets")
        .complexity(
            "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the \
                 sets, N is the size of the first set, and K is the size of the result set.",
        ),
    Command::new("zintercard", -3, READONLY, store::zintercard)
        .key_specs(&[ks(RO | ACCESS, Index(1), Keynum(0, 1, 1))])
        .movable(store::numkeys_at_1)
        .doc(
            "sorted-set",
            "7.0.0",
            "Intersect multiple sorted sets and return the cardinality of the result",
        )
        .complexity(
            "O(N*K) worst case with N being the smallest input sorted set, K being the number \
                 of input sorted sets.",
        ),
    Command::new("zunionstore", -4, WRITE | DENYOOM, store::zunionstore)
        .key_specs(&[
            ks(OW | UPDATE, Index(1), Range(0, 1, 0)),
            ks(RO | ACCESS, Index(2), Keynum(0, 1, 1)),
        ])
        .movable(store::numkeys_at_2)
        .doc(
            "sorted-set",
            "2.0.0",
            "Add multiple sorted sets and store the resulting sorted set in a new key",
        )
        .complexity(
            "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and \
                 M being the number of elements in the resulting sorted set.",
        ),
    Command::new("zinterstore", -4, WRITE | DENYOOM, store::zinterstore)
        .key_specs(&[
            ks(OW | UPDATE, Index(1), Range(0, 1, 0)),
            ks(RO | ACCESS, Index(2), Keynum(0, 1, 1)),
        ])
        .movable(store::numkeys_at_2)
        .doc(
            "sorted-set",
            "2.0.0",
            "Intersect multiple sorted sets and store the resulting sorted set in a new key",
        )
        .complexity(
            "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K \
                 being the number of input sorted sets and M being the number of elements in the \
                 resulting sorted set.",
        ),
    Command::new("zdiffstore", -4, WRITE | DENYOOM, store::zdiffstore)
        .key_specs(&[
            ks(OW | UPDATE, Index(1), Range(0, 1, 0)),
            ks(RO | ACCESS, Index(2), Keynum(0, 1, 1)),
        ])
        .movable(store::numkeys_at_2)
        .doc(
            "sorted-set",
            "6.2.0",
            "Subtract multiple sorted sets and store the resulting sorted set in a new key",
        )
        .complexity(
            "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the \
                 sets, N is the size of the first set, and K is the size of the result set.",
        ),
];

//! DESIGN-NOTES §9: effects are appended under the locks of the writes that made them, so for every key the feed's
//! order is the order the writes happened in, however many threads write at once.

use std::sync::Arc;

use super::{parse_commands, Harness};
use crate::protocol::Reply;

#[test]
fn concurrent_writes_to_one_key_replay_to_the_same_value() {
    let h = Arc::new(Harness::new());
    let threads: Vec<_> = ["a", "b", "c", "d"]
        .into_iter()
        .map(|tag| {
            let h = h.clone();
            std::thread::spawn(move || {
                let mut c = h.client();
                for _ in 0..200 {
                    h.run(&mut c, &["append", "k", tag]);
                    h.run(&mut c, &["incr", tag]);
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    let Ok(mut h) = Arc::try_unwrap(h) else {
        panic!("a writer still holds the harness")
    };
    let replayed: String = parse_commands(&h.feed.take())
        .into_iter()
        .filter(|c| c[0] == "append")
        .map(|c| c[2].clone())
        .collect();
    let mut c = h.client();
    assert_eq!(
        h.run(&mut c, &["get", "k"]),
        Reply::bulk(replayed.as_bytes())
    );
    assert_eq!(replayed.len(), 800);
}

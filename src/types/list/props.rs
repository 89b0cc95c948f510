//! The quicklist against a `VecDeque` model: random pushes, pops, sets, inserts, range removals and filters,
//! with elements from empty to larger than a node, checking every read path after each step; with
//! `list-compress-depth` 0, 1 and 2, so that compressed nodes go through every path too.

use std::collections::VecDeque;

use super::node::{set_test_depth, Node};
use super::nodes::Nodes;
use super::{End, List};

/// The node size of the default `list-max-listpack-size` (-2).
const NODE_BYTES: usize = 8192;

fn element() -> Vec<u8> {
    let len = match fastrand::u8(..10) {
        0 => 0,
        1 => fastrand::usize(NODE_BYTES - 10..NODE_BYTES + 300),
        2 => fastrand::usize(200..2000),
        _ => fastrand::usize(1..20),
    };
    if fastrand::bool() {
        // Compressible: a few distinct bytes in runs.
        let run = fastrand::u8(b'a'..b'e');
        (0..len).map(|i| run + (i / 7 % 2) as u8).collect()
    } else {
        (0..len).map(|_| fastrand::u8(..)).collect()
    }
}

fn check(list: &List, model: &VecDeque<Vec<u8>>) {
    assert_eq!(list.len(), model.len());
    assert!(list.iter().eq(model.iter().map(|v| &v[..])));
    assert!(list.iter().rev().eq(model.iter().rev().map(|v| &v[..])));
    for (i, v) in model.iter().enumerate() {
        assert_eq!(list.get(i).as_deref(), Some(&v[..]));
    }
    assert_eq!(list.get(model.len()), None);
    if !model.is_empty() {
        let a = fastrand::usize(..model.len());
        let b = fastrand::usize(a..model.len());
        assert!(list.range(a, b).eq(model.range(a..=b).map(|v| &v[..])));
    }
    assert!(list.nodes.iter().all(|n| n.len() > 0), "no empty node");
    assert!(
        !matches!(&list.nodes, super::nodes::Nodes::Many(d) if d.len() < 2),
        "one node is held inline"
    );
    let depth = super::node::compress_depth();
    let count = list.nodes.len();
    let ends_packed = (0..count)
        .filter(|&i| i < depth || i + depth >= count)
        .all(|i| !list.nodes[i].is_compressed());
    assert!(
        ends_packed || depth == 0,
        "the {depth} nodes at each end stay packed"
    );
}

#[test]
fn random_operations_match_a_deque() {
    for depth in [0, 1, 2] {
        set_test_depth(Some(depth));
        let compressed = random_operations(1915 + depth as u64);
        assert_eq!(
            compressed > 500,
            depth > 0,
            "depth {depth}: {compressed} steps"
        );
    }
    set_test_depth(None);
}

/// Runs the random steps; returns how many steps ended with a compressed node in the list.
fn random_operations(seed: u64) -> usize {
    fastrand::seed(seed);
    let mut compressed = 0;
    for _ in 0..30 {
        let mut list = List::default();
        let mut model: VecDeque<Vec<u8>> = VecDeque::new();
        for _ in 0..300 {
            let len = model.len();
            match fastrand::u8(..11) {
                0 | 1 => {
                    let e = element();
                    list.push(End::Left, &e);
                    model.push_front(e);
                }
                2 | 3 => {
                    let e = element();
                    list.push(End::Right, &e);
                    model.push_back(e);
                }
                4 => {
                    let end = if fastrand::bool() {
                        End::Left
                    } else {
                        End::Right
                    };
                    let want = match end {
                        End::Left => model.pop_front(),
                        End::Right => model.pop_back(),
                    };
                    assert_eq!(list.pop(end).map(|v| v.to_vec()), want);
                }
                5 if len > 0 => {
                    let (i, e) = (fastrand::usize(..len), element());
                    assert!(list.set(i, &e));
                    model[i] = e;
                }
                6 if len > 0 => {
                    let (i, e, after) = (fastrand::usize(..len), element(), fastrand::bool());
                    list.insert(i, &e, after);
                    model.insert(i + after as usize, e);
                }
                7 if len > 0 => {
                    let start = fastrand::usize(..len);
                    let count = fastrand::usize(..=len - start);
                    list.remove_range(start, count);
                    model.drain(start..start + count);
                }
                8 => {
                    let odd = fastrand::bool();
                    list.retain(|i, _| (i % 2 == 1) == odd);
                    let kept = model
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| (i % 2 == 1) == odd);
                    model = kept.map(|(_, v)| v.clone()).collect();
                }
                9 | 10 => {
                    let batch: Vec<Vec<u8>> =
                        (0..fastrand::usize(..40)).map(|_| element()).collect();
                    let refs: Vec<&[u8]> = batch.iter().map(|e| &e[..]).collect();
                    let end = if fastrand::bool() {
                        End::Left
                    } else {
                        End::Right
                    };
                    list.push_all(end, &refs);
                    for e in batch {
                        match end {
                            End::Left => model.push_front(e),
                            End::Right => model.push_back(e),
                        }
                    }
                }
                _ => {}
            }
            check(&list, &model);
            compressed += list.nodes.iter().any(|n| n.is_compressed()) as usize;
        }
    }
    compressed
}

#[test]
fn short_elements_share_nodes_of_at_most_eight_kilobytes() {
    let mut list = List::default();
    for i in 0..10_000 {
        list.push(End::Right, format!("item:{i}").as_bytes());
    }
    assert!(list.nodes.len() < 20, "{} nodes", list.nodes.len());
    assert_eq!(list.get(9_999).as_deref(), Some(&b"item:9999"[..]));
    assert!(!list.set(10_000, b"x"));
}

#[test]
fn pushing_a_batch_builds_the_nodes_one_by_one_pushes_build() {
    fastrand::seed(7);
    for end in [End::Left, End::Right] {
        let items: Vec<Vec<u8>> = (0..3000).map(|_| element()).collect();
        let refs: Vec<&[u8]> = items.iter().map(|e| &e[..]).collect();
        let (mut one, mut all) = (List::default(), List::default());
        refs.iter().for_each(|e| one.push(end, e));
        all.push_all(end, &refs);
        let sizes = |l: &List| l.nodes.iter().map(|n| n.len()).collect::<Vec<_>>();
        assert_eq!(sizes(&one), sizes(&all));
        assert!(one.iter().eq(all.iter()));
    }
}

/// The nodes beyond `depth` from each end are compressed, reads see the elements through them, and a pop that
/// brings a compressed node to an end decompresses it.
#[test]
fn interior_nodes_are_compressed_beyond_the_depth() {
    set_test_depth(Some(1));
    let mut list = List::default();
    let items: Vec<Vec<u8>> = (0..5000)
        .map(|i| format!("item:{:0>20}", i % 50).into_bytes())
        .collect();
    items.iter().for_each(|e| list.push(End::Right, e));
    let count = list.nodes.len();
    assert!(count > 10, "{count} nodes");
    let compressed: Vec<bool> = list.nodes.iter().map(Node::is_compressed).collect();
    assert!(!compressed[0] && !compressed[count - 1]);
    assert!(
        compressed[1..count - 1].iter().all(|&c| c),
        "{compressed:?}"
    );
    assert!(list.iter().eq(items.iter().map(|e| &e[..])));
    assert_eq!(list.get(2500).as_deref(), Some(&items[2500][..]));
    let stored: usize = list.nodes.iter().map(Node::compressed_bytes).sum();
    let raw: usize = list.nodes.iter().map(Node::bytes).sum();
    assert!(stored * 4 < raw, "{stored} bytes stored for {raw}");
    // Popping the whole first node makes the next one the head: packed again.
    let first = list.nodes[0].len();
    (0..first).for_each(|_| drop(list.pop(End::Left)));
    assert!(!list.nodes[0].is_compressed() && list.nodes[1].is_compressed());
    // LSET in the middle decompresses the node for the change and compresses it again.
    assert!(list.set(2000, b"changed"));
    assert_eq!(list.get(2000).as_deref(), Some(&b"changed"[..]));
    let middle = list.locate(2000).map(|(n, _)| n).unwrap_or(0);
    assert!(list.nodes[middle].is_compressed());
    // Depth 0 compresses nothing new, and what is compressed still reads.
    set_test_depth(Some(0));
    list.push(End::Left, b"head");
    assert_eq!(list.get(0).as_deref(), Some(&b"head"[..]));
    assert!(!matches!(&list.nodes, Nodes::Few(_)));
    set_test_depth(None);
}

//! The quicklist against a `VecDeque` model: random pushes, pops, sets, inserts, range removals and filters,
//! with elements from empty to larger than a node, checking every read path after each step.

use std::collections::VecDeque;

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
    (0..len).map(|_| fastrand::u8(..)).collect()
}

fn check(list: &List, model: &VecDeque<Vec<u8>>) {
    assert_eq!(list.len(), model.len());
    assert!(list.iter().eq(model.iter().map(|v| &v[..])));
    assert!(list.iter().rev().eq(model.iter().rev().map(|v| &v[..])));
    for (i, v) in model.iter().enumerate() {
        assert_eq!(list.get(i), Some(&v[..]));
    }
    assert_eq!(list.get(model.len()), None);
    if !model.is_empty() {
        let a = fastrand::usize(..model.len());
        let b = fastrand::usize(a..model.len());
        assert!(list.range(a, b).eq(model.range(a..=b).map(|v| &v[..])));
    }
    assert!(list.nodes.iter().all(|n| !n.is_empty()), "no empty node");
    assert!(
        !matches!(&list.nodes, super::nodes::Nodes::Many(d) if d.len() < 2),
        "one node is held inline"
    );
    assert!(
        list.nodes.iter().all(|n| super::nodes::within(-2, n)),
        "only a single big element makes a node over the size"
    );
}

#[test]
fn random_operations_match_a_deque() {
    fastrand::seed(1915);
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
                6 => {
                    let (i, e) = (fastrand::usize(..=len), element());
                    list.insert(i, &e);
                    model.insert(i, e);
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
        }
    }
}

#[test]
fn short_elements_share_nodes_of_at_most_eight_kilobytes() {
    let mut list = List::default();
    for i in 0..10_000 {
        list.push(End::Right, format!("item:{i}").as_bytes());
    }
    assert!(list.nodes.len() < 20, "{} nodes", list.nodes.len());
    assert_eq!(list.get(9_999), Some(&b"item:9999"[..]));
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

//! Property tests of the two encodings: random operations against a sorted model, under random limits, checking
//! every walk `Ordered` offers and where the listpack converts.

use super::range::{Bounds, LexRange, ScoreRange};
use super::*;

/// The model: (score, member) sorted as a sorted set orders them.
fn sorted(model: &[(f64, Vec<u8>)]) -> Vec<(f64, Vec<u8>)> {
    let mut v = model.to_vec();
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    v
}

fn check_walks(z: &ZSet, model: &[(f64, Vec<u8>)]) {
    let list = z.list();
    let got: Vec<(f64, Vec<u8>)> = list.iter().map(|(m, s)| (s, m.to_vec())).collect();
    assert_eq!(got, model);
    let back: Vec<(f64, Vec<u8>)> = std::iter::successors(list.last(), |&id| list.prev(id))
        .map(|id| (list.score(id), list.member(id).to_vec()))
        .collect();
    assert_eq!(back.into_iter().rev().collect::<Vec<_>>(), model);
    for (i, (s, m)) in model.iter().enumerate() {
        assert_eq!(z.score(m), Some(*s));
        assert_eq!(z.rank(m, false), Some(i));
        assert_eq!(z.rank(m, true), Some(model.len() - 1 - i));
        let id = list.by_rank(i + 1).expect("rank in range");
        assert_eq!(list.member(id), &m[..]);
        assert_eq!(list.rank_of(id), i + 1);
    }
    assert_eq!(list.by_rank(model.len() + 1), None);
    let (lo, hi) = (fastrand::i32(-6..6) as f64, fastrand::i32(-6..6) as f64);
    let range = ScoreRange {
        min: lo,
        max: hi,
        minex: fastrand::bool(),
        maxex: fastrand::bool(),
    };
    let inside: Vec<&Vec<u8>> = model
        .iter()
        .filter(|(s, m)| range.gte_min(*s, m) && range.lte_max(*s, m))
        .map(|(_, m)| m)
        .collect();
    assert_eq!(
        list.first_in(&range).map(|id| list.member(id)),
        inside.first().map(|m| &m[..])
    );
    assert_eq!(
        list.last_in(&range).map(|id| list.member(id)),
        inside.last().map(|m| &m[..])
    );
    if let Ok(lex) = LexRange::parse(b"[b", b"(d") {
        let first = model
            .iter()
            .find(|(s, m)| lex.gte_min(*s, m) && lex.lte_max(*s, m));
        let found = list.first_in(&lex).map(|id| list.member(id));
        if model.iter().all(|(s, _)| *s == model[0].0) {
            assert_eq!(found, first.map(|(_, m)| &m[..]));
        }
    }
}

#[test]
fn random_operations_match_a_sorted_model_in_both_encodings() {
    fastrand::seed(1915);
    for round in 0..150 {
        let limits = PackLimits {
            entries: fastrand::usize(1..24),
            value: fastrand::usize(1..6),
        };
        let mut z = ZSet::new();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        let mut packed = true;
        let same_score = round % 5 == 0;
        for _ in 0..80 {
            let member: Vec<u8> = (0..fastrand::usize(0..7))
                .map(|_| [b'a', b'b', b'c', b'd', 0, 0xff][fastrand::usize(..6)])
                .collect();
            let score = if same_score {
                1.0
            } else {
                fastrand::i32(-5..5) as f64 * 0.5
            };
            let at = model.iter().position(|(_, m)| *m == member);
            if fastrand::u8(..3) == 0 {
                assert_eq!(z.remove(&member), at.map(|i| model[i].0));
                if let Some(i) = at {
                    model.remove(i);
                }
            } else {
                let new = at.is_none();
                assert_eq!(z.insert(&member, score, limits), at.map(|i| model[i].0));
                match at {
                    Some(i) => model[i].0 = score,
                    None => model.push((score, member.clone())),
                }
                packed &= !(new && (member.len() > limits.value || model.len() > limits.entries));
            }
            model = sorted(&model);
            assert_eq!(z.is_listpack(), packed);
            assert_eq!(z.len(), model.len());
            check_walks(&z, &model);
        }
        let copy = z.clone();
        check_walks(&copy, &model);
        z.to_skiplist();
        assert_eq!(z.encoding(), "skiplist");
        check_walks(&z, &model);
    }
}

#[test]
fn loaded_listpacks_are_sorted_and_refuse_duplicates() {
    let items = vec![
        (b"b".to_vec(), 2.0),
        (b"a".to_vec(), 2.0),
        (b"z".to_vec(), -1.0),
    ];
    let z = ZSet::loaded(items.clone(), true).expect("no duplicates");
    assert_eq!(z.encoding(), "listpack");
    let order: Vec<&[u8]> = z.list().iter().map(|(m, _)| m).collect();
    assert_eq!(order, vec![&b"z"[..], b"a", b"b"]);
    let mut dup = items;
    dup.push((b"a".to_vec(), 5.0));
    assert!(ZSet::loaded(dup.clone(), true).is_none());
    assert!(ZSet::loaded(dup, false).is_none());
}

#[test]
fn listpack_scores_round_trip_exactly_and_integers_take_few_bytes() {
    use super::ordered::{score_bytes, score_of};
    fastrand::seed(53);
    let special = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        9007199254740992.0,
    ];
    let randoms = (0..10_000).map(|_| match fastrand::u8(..3) {
        0 => f64::from_bits(fastrand::u64(..)),
        1 => fastrand::i64(..) as f64,
        _ => fastrand::i32(..) as f64 / 4.0,
    });
    for s in special.into_iter().chain(randoms).filter(|s| !s.is_nan()) {
        let back = score_of(&score_bytes(s));
        assert_eq!(back.to_bits(), s.to_bits(), "{s}");
    }
    assert_eq!(score_bytes(0.0).len(), 0);
    assert_eq!(score_bytes(-64.0).len(), 1);
    assert_eq!(score_bytes(200_000.0).len(), 3);
    assert_eq!(score_bytes(0.5).len(), 8);
    assert_eq!(score_bytes(-0.0).len(), 8);
}

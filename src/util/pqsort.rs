//! Redis's partial sort (`pqsort`): Bentley and McIlroy's quicksort ("Engineering a Sort Function", 1993) that
//! skips every partition lying outside the wanted index range. GEOSEARCH ... COUNT and SORT BY ... LIMIT sort
//! with it, and since it is not stable, elements that compare equal come out in the order this very algorithm
//! leaves them: reproducing it step for step (pivot choice, three-way partition, insertion sort below seven
//! elements) is what makes such replies match Redis's.

use std::cmp::Ordering;

/// Sorts `v` enough that the elements at indexes `first..=last` are those a full sort would put there, in order.
/// Indexes outside `v` are allowed (an empty window prunes everything).
pub fn partial_sort<T>(v: &mut [T], first: i64, last: i64, cmp: impl Fn(&T, &T) -> Ordering) {
    let window = Window { first, last };
    sort_range(v, 0, v.len(), window, &cmp);
}

#[derive(Clone, Copy)]
struct Window {
    first: i64,
    last: i64,
}

impl Window {
    /// Whether the `n` elements from `lo` can hold part of the window: Redis compares byte addresses, the window
    /// running from the first byte of `first` to the last byte of `last`, which this reproduces for any window.
    fn touches(self, lo: usize, n: usize) -> bool {
        let (lo, hi) = (lo as i64, (lo + n) as i64);
        let before = self.first < lo && self.last < lo;
        let after = self.first >= hi && self.last + 1 > hi;
        !(before || after)
    }
}

fn sort_range<T>(
    v: &mut [T],
    mut lo: usize,
    mut n: usize,
    w: Window,
    cmp: &impl Fn(&T, &T) -> Ordering,
) {
    loop {
        if n < 7 {
            insertion_sort(v, lo, n, cmp);
            return;
        }
        let pivot = choose_pivot(v, lo, n, cmp);
        v.swap(lo, pivot);
        let (less, greater) = partition(v, lo, n, cmp);
        if less > 1 && w.touches(lo, less) {
            sort_range(v, lo, less, w, cmp);
        }
        if greater <= 1 {
            return;
        }
        lo = lo + n - greater;
        n = greater;
        if !w.touches(lo, n) {
            return;
        }
    }
}

fn insertion_sort<T>(v: &mut [T], lo: usize, n: usize, cmp: &impl Fn(&T, &T) -> Ordering) {
    for m in lo + 1..lo + n {
        let mut p = m;
        while p > lo && cmp(&v[p - 1], &v[p]) == Ordering::Greater {
            v.swap(p, p - 1);
            p -= 1;
        }
    }
}

/// The middle element, or for more than 7 the median of the first, middle and last, each of those a median of
/// three spread elements (Tukey's ninther) for more than 40.
fn choose_pivot<T>(v: &[T], lo: usize, n: usize, cmp: &impl Fn(&T, &T) -> Ordering) -> usize {
    let mut pm = lo + n / 2;
    if n > 7 {
        let mut pl = lo;
        let mut pn = lo + n - 1;
        if n > 40 {
            let d = n / 8;
            pl = median3(v, pl, pl + d, pl + 2 * d, cmp);
            pm = median3(v, pm - d, pm, pm + d, cmp);
            pn = median3(v, pn - 2 * d, pn - d, pn, cmp);
        }
        pm = median3(v, pl, pm, pn, cmp);
    }
    pm
}

fn median3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &impl Fn(&T, &T) -> Ordering) -> usize {
    let less = |x: usize, y: usize| cmp(&v[x], &v[y]) == Ordering::Less;
    let greater = |x: usize, y: usize| cmp(&v[x], &v[y]) == Ordering::Greater;
    if less(a, b) {
        if less(b, c) {
            b
        } else if less(a, c) {
            c
        } else {
            a
        }
    } else if greater(b, c) {
        b
    } else if less(a, c) {
        a
    } else {
        c
    }
}

/// The three-way partition around the pivot at `lo`: equal elements are first gathered at both ends, then swapped
/// into the middle. Returns how many elements ended up before the equal block and how many after it.
fn partition<T>(
    v: &mut [T],
    lo: usize,
    n: usize,
    cmp: &impl Fn(&T, &T) -> Ordering,
) -> (usize, usize) {
    let (mut pa, mut pb) = (lo + 1, lo + 1);
    let (mut pc, mut pd) = (lo + n - 1, lo + n - 1);
    loop {
        while pb <= pc {
            match cmp(&v[pb], &v[lo]) {
                Ordering::Greater => break,
                Ordering::Equal => {
                    v.swap(pa, pb);
                    pa += 1;
                }
                Ordering::Less => {}
            }
            pb += 1;
        }
        while pb <= pc {
            match cmp(&v[pc], &v[lo]) {
                Ordering::Less => break,
                Ordering::Equal => {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                Ordering::Greater => {}
            }
            pc -= 1;
        }
        if pb > pc {
            break;
        }
        v.swap(pb, pc);
        pb += 1;
        pc -= 1;
    }
    let end = lo + n;
    let r = (pa - lo).min(pb - pa);
    swap_blocks(v, lo, pb - r, r);
    let r = (pd - pc).min(end - pd - 1);
    swap_blocks(v, pb, end - r, r);
    (pb - pa, pd - pc)
}

/// Swaps `v[a..a + n]` with `v[b..b + n]` element by element, in order.
fn swap_blocks<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_sorted() {
        let mut seed = 12345u64;
        for len in [0usize, 1, 5, 7, 8, 40, 41, 200] {
            let mut v: Vec<u64> = (0..len)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (seed >> 33) % 50
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort();
            let (first, last) = (len as i64 / 4, len as i64 / 2);
            partial_sort(&mut v, first, last, |a, b| a.cmp(b));
            if len > 0 {
                let window = first as usize..=last as usize;
                assert_eq!(v[window.clone()], sorted[window]);
            }
            partial_sort(&mut v, 0, len as i64 - 1, |a, b| a.cmp(b));
            assert_eq!(v, sorted);
        }
    }

    #[test]
    fn ties_keep_the_algorithms_order() {
        // Sorted by the first field only: the second shows where equal elements went. Redis's pqsort leaves
        // these six (insertion sort, stable) in input order; longer runs are not stable.
        let mut v = vec![(1, 'a'), (0, 'b'), (1, 'c'), (0, 'd'), (1, 'e'), (0, 'f')];
        partial_sort(&mut v, 0, 2, |a, b| a.0.cmp(&b.0));
        assert_eq!(&v[..3], &[(0, 'b'), (0, 'd'), (0, 'f')]);
    }
}

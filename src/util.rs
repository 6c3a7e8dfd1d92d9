//! Small shared helpers.

use rayon::prelude::*;

/// Where a report renders its pieces in parallel: the run's thread pool (`-j N`), or
/// rayon's global pool. Results come back in input order, so the bytes written do not
/// depend on the thread count.
#[derive(Default)]
pub struct Par(Option<rayon::ThreadPool>);

impl Par {
    /// A pool of `threads` threads (`None`: the global pool, one thread per core).
    pub fn new(threads: Option<usize>) -> Result<Par, rayon::ThreadPoolBuildError> {
        Ok(Par(match threads {
            None => None,
            Some(n) => Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n.max(1))
                    .build()?,
            ),
        }))
    }

    /// `f` over `items` in parallel, results in input order.
    pub fn map<T: Sync, R: Send>(&self, items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
        let run = || items.par_iter().map(&f).collect();
        match &self.0 {
            Some(pool) => pool.install(run),
            None => run(),
        }
    }
}

/// Levenshtein distance (for "did you mean" hints).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `word`, if it is close enough to be a plausible typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_typos_only() {
        assert_eq!(
            closest("host-pdi", ["host-pid", "host-ipc"]),
            Some("host-pid")
        );
        assert_eq!(closest("zzzzzz", ["host-pid"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}

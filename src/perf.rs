//! The parse-only floor for benchmarks (`cronguard scan --parse-only`, hidden): discover,
//! read and load every file into spanned documents exactly as a scan does, then stop. A scan
//! cannot be faster than this, so `scripts/bench` reports the full scan as a ratio of it.

use crate::scan::{Options, Stats};
use crate::source::{Source, read_text};
use crate::yaml;
use rayon::prelude::*;

/// Read and load every source (in parallel, like the scan); count files, documents and
/// load issues. Nothing is checked and nothing is kept.
pub fn parse_only(sources: &[Source], opts: &Options) -> (Stats, usize) {
    sources
        .par_iter()
        .map(|s| {
            let mut st = Stats::default();
            let Ok(text) = read_text(s, &opts.read_limits) else {
                return (st, 1);
            };
            let loaded = yaml::load(&text, &opts.yaml_limits);
            st.files = 1;
            st.documents = loaded.docs.len();
            (st, loaded.issues.len())
        })
        .reduce(
            || (Stats::default(), 0),
            |(mut a, ai), (b, bi)| {
                a.files += b.files;
                a.documents += b.documents;
                (a, ai + bi)
            },
        )
}

//! Test helpers: run one rule over a YAML string.

use crate::finding::Finding;
use crate::scan::{self, Options, Outcome};
use crate::source::{Data, Source};
use std::sync::Arc;

/// Scan `src` as `test.yaml` with every rule enabled and return the findings of `rule`.
pub fn run(rule: &str, src: &str) -> Vec<Finding> {
    assert!(crate::rules::find(rule).is_some(), "no rule {rule}");
    let out = scan_all(src);
    out.findings
        .into_iter()
        .filter(|f| f.rule == rule)
        .collect()
}

/// Scan `src` with every rule enabled.
pub fn scan_all(src: &str) -> Outcome {
    let mut opts = Options::default();
    opts.selection.apply_list("all", true).unwrap();
    let sources = [Source {
        path: Arc::from("test.yaml"),
        data: Data::Memory(Arc::from(src.as_bytes())),
    }];
    scan::scan(&sources, &opts)
}

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

/// Every YAML file under `dir`, sorted (the fixture walk of the unit tests).
pub fn yaml_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

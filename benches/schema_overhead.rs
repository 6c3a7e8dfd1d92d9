//! How much schema validation adds to a full scan.
//!
//! `cargo bench --bench schema_overhead` generates a deterministic corpus with the project's
//! generator (`python3 scripts/gen_corpus.py synthetic DIR N`, the one `scripts/bench` uses;
//! 10,000 files by default, `CRONGUARD_BENCH_FILES` to change) in a temporary directory and
//! times, in the same run and alternating, a full scan with the default rules and the same
//! scan with the `schema` category disabled. It prints the medians and the overhead.
//! Discovery and reading are included (as in `cronguard scan DIR`).

use cronguard::scan::{self, Options};
use cronguard::source::{self, Discovery};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs scripts/gen_corpus.py; returns the corpus size in bytes (its second output word).
fn generate(dir: &Path, files: usize) -> u64 {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/gen_corpus.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg("synthetic")
        .arg(dir)
        .arg(files.to_string())
        .output()
        .expect("python3 runs scripts/gen_corpus.py");
    assert!(
        out.status.success(),
        "gen_corpus.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .and_then(|b| b.parse().ok())
        .expect("gen_corpus.py prints `files bytes`")
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this as a smoke test
    // on a small corpus.
    let bench = std::env::args().any(|a| a == "--bench");
    let files: usize = std::env::var("CRONGUARD_BENCH_FILES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if bench { 10_000 } else { 100 });
    let rounds: usize = std::env::var("CRONGUARD_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if bench { 5 } else { 1 });
    let dir = tempfile::tempdir().expect("temp dir");
    let corpus = dir.path().join("corpus");
    let bytes = generate(&corpus, files);
    let with = Options::default();
    let mut without = Options::default();
    without
        .selection
        .apply_list("schema", false)
        .expect("schema category");
    let run = |opts: &Options| {
        let start = Instant::now();
        let (sources, _) =
            source::discover(std::slice::from_ref(&corpus), &Discovery::default()).expect("walk");
        let out = scan::scan(&sources, opts);
        (start.elapsed(), out)
    };
    // Warm up: page cache, and the validators (compiled once per kind per process).
    let (_, base) = run(&without);
    let (_, full) = run(&with);
    let schema_findings = full
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("schema-"))
        .count();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        a.push(run(&without).0);
        b.push(run(&with).0);
    }
    assert!(
        schema_findings > 0,
        "the corpus has typos the schema rules must find"
    );
    let (ma, mb) = (median(&mut a), median(&mut b));
    let overhead = (mb.as_secs_f64() / ma.as_secs_f64() - 1.0) * 100.0;
    #[allow(clippy::cast_precision_loss)] // a corpus size in MB, for display
    let size = bytes as f64 / 1e6;
    println!(
        "corpus: {files} files, {} documents, {:.1} MB; {} findings without schema rules, {schema_findings} schema findings",
        base.stats.documents,
        size,
        base.findings.len()
    );
    println!(
        "median of {rounds}: without schema {:.3} s, with schema {:.3} s, overhead {overhead:+.1}% (threads: {})",
        ma.as_secs_f64(),
        mb.as_secs_f64(),
        rayon::current_num_threads()
    );
}

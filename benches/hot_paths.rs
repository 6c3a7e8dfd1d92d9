//! Criterion benchmarks of the scan's hot paths, on the bundled example manifests (one
//! multi-document stream of a CronJob, a Job, a Deployment and a DaemonSet):
//! YAML loading with spans, objects and workload views, the default rule set over the
//! documents, strict schema validation of one document against its compiled schema, a
//! whole `scan_text`, and JSON and SARIF rendering of the outcome.
//!
//! `cargo bench --bench hot_paths` (criterion; whole-run figures against the parse floor
//! and the peers are `scripts/bench`, see docs/performance.md).

use criterion::{Criterion, criterion_group, criterion_main};
use cronguard::index::Index;
use cronguard::k8s;
use cronguard::rules::{self, Check, Ctx};
use cronguard::scan::{self, Options, Outcome};
use cronguard::yaml;
use std::hint::black_box;
use std::sync::Arc;

const STREAM: &[&str] = &[
    include_str!("../testdata/example/apps/backup/cronjob.yaml"),
    include_str!("../testdata/example/apps/backup/cleanup.yaml"),
    include_str!("../testdata/example/apps/web/deployment.yaml"),
    include_str!("../testdata/example/infra/node-agent.yaml"),
];

fn text() -> Arc<str> {
    Arc::from(STREAM.join("\n---\n"))
}

fn hot_paths(c: &mut Criterion) {
    let text = text();
    let path: Arc<str> = Arc::from("bench.yaml");
    let opts = Options::default();
    let index = Index::default();
    let loaded = yaml::load(&text, &opts.yaml_limits);
    assert!(loaded.docs.len() >= 4, "the bench stream must load");

    c.bench_function("yaml_load", |b| {
        b.iter(|| yaml::load(black_box(&text), &opts.yaml_limits));
    });

    c.bench_function("objects_and_workloads", |b| {
        b.iter(|| {
            let mut n = 0;
            for doc in &loaded.docs {
                for obj in k8s::objects(doc).unwrap_or_default() {
                    n += usize::from(k8s::workload(doc, &obj).is_some());
                }
            }
            black_box(n)
        });
    });

    let enabled: Vec<&rules::Rule> = rules::registry()
        .iter()
        .copied()
        .filter(|r| opts.selection.is_enabled(r))
        .collect();
    let prepared: Vec<_> = loaded
        .docs
        .iter()
        .flat_map(|doc| {
            k8s::objects(doc)
                .unwrap_or_default()
                .into_iter()
                .map(move |o| (doc, k8s::workload(doc, &o), o))
        })
        .collect();
    c.bench_function("rules_over_documents", |b| {
        b.iter(|| {
            let mut findings = Vec::new();
            for (doc, workload, obj) in &prepared {
                let ctx = Ctx {
                    path: &path,
                    src: &text,
                    doc,
                    obj,
                    workload: workload.as_ref(),
                    index: &index,
                    settings: &opts.settings,
                    memo: crate::rules::Memo::default(),
                };
                for rule in &enabled {
                    if let Check::Object(check) = rule.check {
                        check(&ctx, &mut findings);
                    }
                }
            }
            black_box(findings.len())
        });
    });

    // Strict schema validation of the CronJob (the first document) against its bundled
    // schema, compiled once outside the loop as in a scan; the JSON conversion is included
    // (the schema rules convert each document once).
    let (cron_doc, _, cron_obj) = prepared
        .iter()
        .find(|(_, _, o)| o.id.kind == "CronJob")
        .expect("the bench stream has a CronJob");
    let compiled = cronguard::schemas::lookup(&opts.settings, "batch/v1", "CronJob")
        .expect("a bundled batch/v1 CronJob schema");
    assert!(
        compiled
            .validator
            .is_valid(&cron_doc.to_json(cron_obj.node)),
        "the example CronJob is schema-valid, so the bench measures the common path"
    );
    c.bench_function("schema_validate", |b| {
        b.iter(|| {
            let json = cron_doc.to_json(black_box(cron_obj.node));
            black_box(compiled.validator.is_valid(&json))
        });
    });

    c.bench_function("scan_text", |b| {
        b.iter(|| {
            let mut out = Outcome::default();
            scan::scan_text(&path, &text, &index, &opts, &mut out);
            black_box(out.findings.len())
        });
    });

    let mut outcome = Outcome::default();
    scan::scan_text(&path, &text, &index, &opts, &mut outcome);
    assert!(
        !outcome.findings.is_empty(),
        "the example has findings to render"
    );
    c.bench_function("render_json", |b| {
        b.iter(|| {
            let mut buf = Vec::new();
            cronguard::report::json::write(&mut buf, &outcome).expect("write to memory");
            black_box(buf.len())
        });
    });
    c.bench_function("render_sarif", |b| {
        b.iter(|| {
            let mut buf = Vec::new();
            cronguard::report::sarif::write(&mut buf, &outcome).expect("write to memory");
            black_box(buf.len())
        });
    });
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);

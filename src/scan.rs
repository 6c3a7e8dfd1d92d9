//! The scan pipeline: sources → documents → objects → checks → findings.
//!
//! Files are processed in parallel (rayon); the result is sorted, so the output is the same
//! bytes whatever the thread count. A file that cannot be read or parsed is skipped with a
//! reason and the rest is still scanned.

use crate::config::{RuleSelection, Settings};
use crate::finding::Finding;
use crate::index::{INDEXED_KINDS, Index};
use crate::k8s::{self, NotAnObject};
use crate::rules::{self, Ctx};
use crate::source::{ReadLimits, Skipped, Source, read_text};
use crate::yaml::{self, Limits, LineIndex};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Everything a scan needs besides its sources.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub settings: Settings,
    pub selection: RuleSelection,
    pub yaml_limits: Limits,
    pub read_limits: ReadLimits,
    /// Rules from user policy directories (besides the registry).
    pub extra_rules: Vec<&'static rules::Rule>,
    /// Ignore inline suppressions (`--no-inline-suppressions`).
    pub no_inline_suppressions: bool,
    /// Do not keep the text of files with findings in [`Outcome::sources`] (only the human
    /// report shows snippets; without this, memory grows with the corpus, not the file).
    pub drop_sources: bool,
}

/// Counts for the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub files: usize,
    pub documents: usize,
    pub objects: usize,
    pub workloads: usize,
}

/// What the scan found.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    /// Source text of the files that have findings (for rendering snippets).
    pub sources: BTreeMap<Arc<str>, Arc<str>>,
    pub stats: Stats,
    /// With `--baseline`: its entries that matched no finding, sorted (else `None`).
    pub stale_baseline: Option<Vec<crate::history::baseline::Entry>>,
}

/// Does the text mention a kind the index keeps? (a cheap pre-filter, no parsing)
fn mentions_indexed_kind(text: &str) -> bool {
    mentions_kind(text, INDEXED_KINDS)
}

/// The kinds `k8s::WorkloadKind` knows (a pre-filter: a miss only costs a parse).
const WORKLOAD_KINDS: &[&str] = &[
    "CronJob",
    "Job",
    "Pod",
    "PodTemplate",
    "ReplicationController",
    "Deployment",
    "DaemonSet",
    "StatefulSet",
    "ReplicaSet",
    "CronWorkflow",
    "Workflow",
    "WorkflowTemplate",
    "ClusterWorkflowTemplate",
    "ScaledJob",
];

/// Does the text hold `kind: K` (quoted or not) for one of `kinds`?
fn mentions_kind(text: &str, kinds: &[&str]) -> bool {
    memchr::memmem::find_iter(text.as_bytes(), "kind").any(|i| {
        let rest = text[i + 4..].trim_start_matches(['"', '\'']);
        let rest = rest.strip_prefix(':').unwrap_or("");
        let rest = rest.trim_start_matches([' ', '\t', '"', '\'']);
        kinds.iter().any(|k| {
            rest.starts_with(k) && !rest[k.len()..].starts_with(|c: char| c.is_alphanumeric())
        })
    })
}

/// The index entries of one file.
fn index_of(path: &Arc<str>, text: &Arc<str>, loaded: &yaml::Loaded) -> Index {
    let mut idx = Index::default();
    for doc in &loaded.docs {
        if let Ok(objs) = k8s::objects(doc) {
            for o in &objs {
                idx.add(path, text, doc, o);
            }
        }
    }
    idx
}

/// Go template actions: `{{` then optional `-` and spaces, then `.`, `$`, `/*` or a word.
pub fn looks_like_template(text: &str) -> bool {
    memchr::memmem::find_iter(text.as_bytes(), "{{").any(|i| {
        let rest = text[i + 2..]
            .trim_start_matches('-')
            .trim_start_matches([' ', '\t']);
        rest.starts_with(['.', '$'])
            || rest.starts_with("/*")
            || rest.starts_with(|c: char| c.is_ascii_alphabetic())
    })
}

/// Build the cross-reference index from the files that mention an indexed kind.
pub fn build_index(sources: &[Source], opts: &Options) -> Index {
    let mut index = sources
        .par_iter()
        .map(|s| {
            let mut idx = Index::default();
            let Ok(text) = read_text(s, &opts.read_limits) else {
                return idx;
            };
            if !mentions_indexed_kind(&text) {
                return idx;
            }
            let loaded = yaml::load(&text, &opts.yaml_limits);
            for doc in &loaded.docs {
                if let Ok(objs) = k8s::objects(doc) {
                    for o in &objs {
                        idx.add(&s.path, &text, doc, o);
                    }
                }
            }
            idx
        })
        .reduce(Index::default, |mut a, b| {
            a.extend(b);
            a
        });
    index.sort();
    index
}

/// Scan one source's text with an already built index.
pub fn scan_text(
    path: &Arc<str>,
    text: &Arc<str>,
    index: &Index,
    opts: &Options,
    out: &mut Outcome,
) {
    let loaded = yaml::load(text, &opts.yaml_limits);
    scan_loaded(path, text, &loaded, index, opts, out);
}

/// Scan one source's already loaded YAML.
fn scan_loaded(
    path: &Arc<str>,
    text: &Arc<str>,
    loaded: &yaml::Loaded,
    index: &Index,
    opts: &Options,
    out: &mut Outcome,
) {
    out.stats.files += 1;
    let line_index = LineIndex::new(text);
    let is_template = looks_like_template(text);
    if is_template {
        // A Go/Helm template may even parse as YAML (`{{ .x }}` is a flow mapping), but what
        // it applies is only known once rendered: never report on the unrendered text.
        if loaded.issues.is_empty() {
            out.skipped.push(Skipped {
                path: path.to_string(),
                reason: "Helm/Go template (`{{ }}`); render it first (helm template) and scan the output".into(),
            });
            return;
        }
    }
    for issue in &loaded.issues {
        let (line, col) = line_index.line_col(text, issue.span.start as usize);
        let reason = if is_template && issue.message.starts_with("invalid YAML") {
            format!(
                "line {line}, column {col}: looks like a Helm/Go template (`{{{{ }}}}`); render it first (helm template) and scan the output"
            )
        } else {
            format!("line {line}, column {col}: {}", issue.message)
        };
        out.skipped.push(Skipped {
            path: path.to_string(),
            reason,
        });
    }
    let enabled: Vec<&'static rules::Rule> = rules::registry()
        .iter()
        .chain(&opts.extra_rules)
        .copied()
        .filter(|r| opts.selection.is_enabled(r))
        .collect();
    let mut findings = Vec::new();
    for doc in &loaded.docs {
        out.stats.documents += 1;
        let objs = match k8s::objects(doc) {
            Ok(o) => o,
            Err(NotAnObject::Irrelevant) => continue,
            Err(NotAnObject::Incomplete(why)) => {
                let (line, _) = line_index.line_col(text, doc.span.start as usize);
                out.skipped.push(Skipped {
                    path: path.to_string(),
                    reason: format!(
                        "document {} (line {line}) {why}; not a Kubernetes object",
                        doc.index + 1
                    ),
                });
                continue;
            }
        };
        for obj in &objs {
            out.stats.objects += 1;
            let workload = k8s::workload(doc, obj);
            if workload.is_some() {
                out.stats.workloads += 1;
            }
            let ctx = Ctx {
                path,
                src: text,
                doc,
                obj,
                workload: workload.as_ref(),
                index,
                settings: &opts.settings,
                memo: crate::rules::Memo::default(),
            };
            for rule in &enabled {
                rule.check.run(rule, &ctx, &mut findings);
            }
        }
    }
    if !opts.no_inline_suppressions {
        let known =
            |id: &str| rules::find(id).is_some() || opts.extra_rules.iter().any(|r| r.id == id);
        crate::suppress::apply(path, text, loaded, &enabled, &known, &mut findings);
    }
    if findings.is_empty() {
        return;
    }
    // Argo templates share their workflow's pod-level fields: report each place once.
    findings.sort_by(|a, b| {
        (&a.path, a.span, a.rule, &a.message).cmp(&(&b.path, b.span, b.rule, &b.message))
    });
    findings.dedup_by(|a, b| {
        a.path == b.path && a.span == b.span && a.rule == b.rule && a.message == b.message
    });
    for f in &mut findings {
        f.severity = opts.selection.severity_of(f.rule, f.severity);
        if f.path == *path {
            locate(f, text, &line_index);
        } else if let Some(other) = index.source_of(&f.path) {
            // A finding inside another indexed file (a ConfigMap script the workload runs).
            locate(f, other, &LineIndex::new(other));
            if !opts.drop_sources {
                out.sources.insert(f.path.clone(), other.clone());
            }
        }
    }
    if !opts.drop_sources {
        out.sources.insert(path.clone(), text.clone());
    }
    out.findings.extend(findings);
}

/// Fill a finding's 1-based line/column from its span.
pub fn locate(f: &mut Finding, text: &str, li: &LineIndex) {
    let (l, c) = li.line_col(text, f.span.start as usize);
    let (el, ec) = li.line_col(text, f.span.end as usize);
    f.line = l;
    f.column = c;
    f.end_line = el;
    f.end_column = ec;
}

/// Text the index pass may keep for the scan pass, in bytes: a bound, so memory does not
/// grow with the corpus. Only small files are kept: opening and reading a file again costs
/// a few system calls, which matter for thousands of small files and not next to parsing
/// a large one.
const KEEP_TEXT: usize = 16 << 20;
const KEEP_FILE: usize = 64 << 10;

/// What the index pass did with one source.
enum First {
    /// Not parsed yet (it mentions no indexed kind, or it could not be read: the scan pass
    /// reports why). The text read for the pre-filter is kept for the scan pass when the file
    /// is small and the kept texts stay under [`KEEP_TEXT`] bytes; else it is read again.
    Later(Option<Arc<str>>),
    /// Parsed for its index entries; it holds a workload, whose checks need the whole index,
    /// so the scan pass parses it again.
    Indexed(Index, Option<Arc<str>>),
    /// Parsed for its index entries and scanned at once, because no check of it read the
    /// index (no workload, no binding whose role must be looked up): not parsed twice.
    Done(Index, Outcome),
}

/// Scan sources: index pass, then the checks, in parallel, merged deterministically.
pub fn scan(sources: &[Source], opts: &Options) -> Outcome {
    let kept = std::sync::atomic::AtomicUsize::new(0);
    let firsts: Vec<First> = sources
        .par_iter()
        .map(|s| {
            let Ok(text) = read_text(s, &opts.read_limits) else {
                return First::Later(None);
            };
            let keep = |text: Arc<str>| {
                let n = text.len();
                if n > KEEP_FILE {
                    return None;
                }
                let total = kept.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
                (total <= KEEP_TEXT).then_some(text)
            };
            if !mentions_indexed_kind(&text) {
                return First::Later(keep(text));
            }
            if mentions_kind(&text, WORKLOAD_KINDS) {
                // Its workloads' checks need the whole index, so the scan pass parses it
                // again: here, parse only the documents that can hold index entries (in a
                // rendered chart, a few of dozens).
                let loaded = yaml::load_matching(&text, &opts.yaml_limits, mentions_indexed_kind);
                let idx = index_of(&s.path, &text, &loaded);
                return First::Indexed(idx, keep(text));
            }
            let loaded = yaml::load(&text, &opts.yaml_limits);
            let mut idx = Index::default();
            let mut workloads = false;
            for doc in &loaded.docs {
                if let Ok(objs) = k8s::objects(doc) {
                    for o in &objs {
                        idx.add(&s.path, &text, doc, o);
                        workloads |= k8s::workload(doc, o).is_some();
                    }
                }
            }
            if workloads {
                // Workload checks follow references (ServiceAccounts, ConfigMaps).
                return First::Indexed(idx, keep(text.clone()));
            }
            // Scan it now against an empty index; if a check asked the index anything
            // (a binding's role), the answer needs the whole index: scan it again later.
            let probe = Index::default();
            let mut out = Outcome::default();
            scan_loaded(&s.path, &text, &loaded, &probe, opts, &mut out);
            if probe.consulted() {
                return First::Indexed(idx, keep(text.clone()));
            }
            First::Done(idx, out)
        })
        .collect();
    let mut index = Index::default();
    // Per source: its outcome (scanned in the index pass), or the text kept for the scan.
    let mut done: Vec<Result<Outcome, Option<Arc<str>>>> = Vec::with_capacity(firsts.len());
    for f in firsts {
        match f {
            First::Later(text) => done.push(Err(text)),
            First::Indexed(i, text) => {
                index.extend(i);
                done.push(Err(text));
            }
            First::Done(i, o) => {
                index.extend(i);
                done.push(Ok(o));
            }
        }
    }
    index.sort();
    let parts: Vec<Outcome> = sources
        .par_iter()
        .zip(done)
        .map(|(s, d)| match d {
            Ok(out) => out,
            Err(Some(text)) => {
                let mut out = Outcome::default();
                scan_text(&s.path, &text, &index, opts, &mut out);
                out
            }
            Err(None) => scan_one(s, &index, opts),
        })
        .collect();
    merge(parts, sources, opts)
}

fn scan_one(s: &Source, index: &Index, opts: &Options) -> Outcome {
    let mut out = Outcome::default();
    match read_text(s, &opts.read_limits) {
        Ok(text) => scan_text(&s.path, &text, index, opts, &mut out),
        Err(reason) => out.skipped.push(Skipped {
            path: s.path.to_string(),
            reason,
        }),
    }
    out
}

pub fn scan_with_index(sources: &[Source], index: &Index, opts: &Options) -> Outcome {
    let parts: Vec<Outcome> = sources
        .par_iter()
        .map(|s| scan_one(s, index, opts))
        .collect();
    merge(parts, sources, opts)
}

/// Merge per-source outcomes (in source order) into the report's deterministic order.
fn merge(parts: Vec<Outcome>, sources: &[Source], opts: &Options) -> Outcome {
    let mut out = Outcome::default();
    // One allocation of the final size: growing this vector by doubling was 40% of the
    // scan's page faults (findings are a few hundred bytes each, and there are many).
    out.findings
        .reserve_exact(parts.iter().map(|p| p.findings.len()).sum());
    for p in parts {
        out.findings.extend(p.findings);
        out.skipped.extend(p.skipped);
        out.sources.extend(p.sources);
        out.stats.files += p.stats.files;
        out.stats.documents += p.stats.documents;
        out.stats.objects += p.stats.objects;
        out.stats.workloads += p.stats.workloads;
    }
    sort_findings(&mut out.findings);
    // Related places (a RoleBinding, a ConfigMap) may sit in files without findings of their
    // own: keep their text too, so reports can show those lines.
    let missing: std::collections::BTreeSet<&Arc<str>> = out
        .findings
        .iter()
        .flat_map(|f| f.related.iter().map(|r| &r.path))
        .filter(|p| !out.sources.contains_key(*p))
        .collect();
    let extra: Vec<(Arc<str>, Arc<str>)> = sources
        .iter()
        .filter(|s| missing.contains(&s.path))
        .filter_map(|s| Some((s.path.clone(), read_text(s, &opts.read_limits).ok()?)))
        .collect();
    out.sources.extend(extra);
    out.skipped.sort();
    out.skipped.dedup();
    out
}

/// The report order: path, line, column, rule, message, then object, locator, value and
/// help, so that only findings identical in everything a report shows compare equal. That
/// makes an unstable sort (no scratch buffer of half the findings) give the same bytes as
/// a stable one, whatever the input order and the thread count.
pub fn sort_findings(f: &mut [Finding]) {
    f.sort_unstable_by(|a, b| {
        (&a.path, a.line, a.column, a.rule, &a.message)
            .cmp(&(&b.path, b.line, b.column, b.rule, &b.message))
            .then_with(|| {
                (&a.object, &a.locator, &a.value, &a.help)
                    .cmp(&(&b.object, &b.locator, &b.value, &b.help))
            })
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass scan (files without index-dependent checks scanned in the index pass)
    /// reports exactly what the two-pass scan reports, on every fixture of the repository.
    #[test]
    fn single_parse_scan_equals_index_then_scan() {
        let files = crate::rules::testing::yaml_files(std::path::Path::new("testdata"));
        assert!(files.len() > 100, "{} files", files.len());
        let sources: Vec<Source> = files
            .iter()
            .map(|p| Source {
                path: Arc::from(p.to_string_lossy().as_ref()),
                data: crate::source::Data::Memory(Arc::from(std::fs::read(p).unwrap())),
            })
            .collect();
        let opts = Options::default();
        let one = scan(&sources, &opts);
        let two = scan_with_index(&sources, &build_index(&sources, &opts), &opts);
        let key = |o: &Outcome| {
            o.findings
                .iter()
                .map(|f| {
                    (
                        f.path.clone(),
                        f.line,
                        f.column,
                        f.rule,
                        f.message.clone(),
                        f.fingerprint(),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert!(one.findings.len() > 500, "{} findings", one.findings.len());
        assert!(
            one.findings
                .iter()
                .any(|f| f.rule == "rbac-job-creation-broad"),
            "a binding whose role is in another file"
        );
        assert_eq!(key(&one), key(&two));
        assert_eq!(one.skipped, two.skipped);
        assert_eq!(one.stats.files, two.stats.files);
        assert_eq!(one.stats.objects, two.stats.objects);
        assert_eq!(
            one.sources.keys().collect::<Vec<_>>(),
            two.sources.keys().collect::<Vec<_>>()
        );
    }

    /// The index pass parses only the indexed documents of files with workloads: the index
    /// must be the one a whole parse gives, on every fixture and on streams built to cut
    /// badly (a `---` in a block scalar, CRLF, `...`, a broken document, comments only).
    #[test]
    fn index_from_matching_documents_equals_index_from_all() {
        let mut texts: Vec<(String, String)> =
            crate::rules::testing::yaml_files(std::path::Path::new("testdata"))
                .into_iter()
                .filter_map(|p| {
                    Some((
                        p.to_string_lossy().into_owned(),
                        std::fs::read_to_string(&p).ok()?,
                    ))
                })
                .collect();
        let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: s, namespace: n}\nautomountServiceAccountToken: true\n";
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: n}\ndata:\n  run.sh: |\n    curl x | sh\n";
        let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: n}\nspec: {template: {spec: {serviceAccountName: s, containers: [{name: a, image: b}]}}}\n";
        for (i, t) in [
            format!("{sa}---\n{job}---\n{cm}"),
            format!("---\n{sa}---\n{job}\n---\n{cm}---\n"),
            format!("{sa}---\n{job}").replace('\n', "\r\n"),
            format!("# only a comment\n---\n{job}...\n{sa}---\n{cm}"),
            format!("{job}---\nkind: [broken\n---\n{sa}---\n{cm}"),
            format!("{cm}  more: |\n    x\n---\n{job}---\n{sa}"),
            format!("%YAML 1.2\n---\n{sa}--- # c\n{job}--- {{kind: Role, apiVersion: rbac.authorization.k8s.io/v1, metadata: {{name: r}}}}\n"),
        ]
        .into_iter()
        .enumerate()
        {
            texts.push((format!("made-{i}.yaml"), t));
        }
        let opts = Options::default();
        let mut both = 0;
        for (path, text) in &texts {
            let path: Arc<str> = Arc::from(path.as_str());
            let text: Arc<str> = Arc::from(text.as_str());
            if !(mentions_indexed_kind(&text) && mentions_kind(&text, WORKLOAD_KINDS)) {
                continue;
            }
            both += 1;
            let all = index_of(&path, &text, &yaml::load(&text, &opts.yaml_limits));
            let some = index_of(
                &path,
                &text,
                &yaml::load_matching(&text, &opts.yaml_limits, mentions_indexed_kind),
            );
            let show = |i: &Index| {
                format!(
                    "{:?} {:?} {:?} {:?}",
                    i.service_accounts, i.bindings, i.roles, i.config_maps
                )
            };
            assert_eq!(show(&all), show(&some), "{path}");
        }
        assert!(both >= 15, "{both} files with workloads and indexed kinds");
    }

    #[test]
    fn indexed_kind_prefilter() {
        assert!(mentions_indexed_kind("kind: ServiceAccount\n"));
        assert!(mentions_indexed_kind("{\"kind\": \"ConfigMap\"}"));
        assert!(!mentions_indexed_kind("kind: ConfigMapList2x"));
        assert!(!mentions_indexed_kind("kind: CronJob\n"));
        assert!(mentions_indexed_kind("kind: Role\n"));
        assert!(!mentions_indexed_kind("kind: RoleX\n"));
    }
}

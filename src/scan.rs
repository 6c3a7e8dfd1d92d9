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
    text.match_indices("kind").any(|(i, _)| {
        let rest = text[i + 4..].trim_start_matches(['"', '\'']);
        let rest = rest.strip_prefix(':').unwrap_or("");
        let rest = rest.trim_start_matches([' ', '\t', '"', '\'']);
        INDEXED_KINDS.iter().any(|k| {
            rest.starts_with(k) && !rest[k.len()..].starts_with(|c: char| c.is_alphanumeric())
        })
    })
}

/// Go template actions: `{{` then optional `-` and spaces, then `.`, `$`, `/*` or a word.
pub fn looks_like_template(text: &str) -> bool {
    text.match_indices("{{").any(|(i, _)| {
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
    out.stats.files += 1;
    let loaded = yaml::load(text, &opts.yaml_limits);
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
            };
            for rule in &enabled {
                rule.check.run(rule, &ctx, &mut findings);
            }
        }
    }
    if !opts.no_inline_suppressions {
        let known =
            |id: &str| rules::find(id).is_some() || opts.extra_rules.iter().any(|r| r.id == id);
        crate::suppress::apply(path, text, &loaded, &enabled, &known, &mut findings);
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

/// Scan sources: index pass, then the checks, in parallel, merged deterministically.
pub fn scan(sources: &[Source], opts: &Options) -> Outcome {
    let index = build_index(sources, opts);
    scan_with_index(sources, &index, opts)
}

pub fn scan_with_index(sources: &[Source], index: &Index, opts: &Options) -> Outcome {
    let parts: Vec<Outcome> = sources
        .par_iter()
        .map(|s| {
            let mut out = Outcome::default();
            match read_text(s, &opts.read_limits) {
                Ok(text) => scan_text(&s.path, &text, index, opts, &mut out),
                Err(reason) => out.skipped.push(Skipped {
                    path: s.path.to_string(),
                    reason,
                }),
            }
            out
        })
        .collect();
    let mut out = Outcome::default();
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

/// The report order: path, line, column, rule, then message.
pub fn sort_findings(f: &mut [Finding]) {
    f.sort_by(|a, b| {
        (&a.path, a.line, a.column, a.rule, &a.message)
            .cmp(&(&b.path, b.line, b.column, b.rule, &b.message))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

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

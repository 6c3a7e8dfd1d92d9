//! The SARIF 2.1.0 report, shaped for GitHub code scanning.
//!
//! One `run`. `tool.driver.rules` holds the rules that have results (sorted by id), each
//! with its documentation as `help` (the same markdown as `cronguard explain`), a `helpUri`
//! into docs/rules.md, `properties.tags` (category, ATT&CK ids, `security`) and
//! `properties.security-severity` (critical 9.5, high 8.0, medium 5.5, low 3.0, info 0.0),
//! which GitHub turns into its own critical/high/medium/low.
//!
//! Results carry `ruleId`/`ruleIndex`, `level` (critical/high → error, medium → warning,
//! low/info → note), the message, the physical location relative to the repository root
//! (`uriBaseId: %SRCROOT%`) with a region, `relatedLocations` for secondary labels and
//! cross-file references, `partialFingerprints["cronguard/v1"]` (the stable fingerprint, so
//! alerts follow a finding across unrelated edits), and `suppressions` for suppressed
//! findings (`inSource` for annotations and comments, `external` for a baseline).
//! Skipped files are `toolExecutionNotifications` of the invocation.
//!
//! Columns: SARIF's default `columnKind` is `utf16CodeUnits`; cronguard counts characters
//! (Unicode scalar values), so the run says `columnKind: unicodeCodePoints`. `endColumn` is
//! exclusive in both.
//!
//! Written with `serde_json` rather than the `serde-sarif` crate: the subset GitHub reads is
//! small, the output stays byte-for-byte under our control (key order, what is omitted), and
//! the crate would add a dependency and its generated types for a few dozen lines.

use super::{PathResolver, RepoPath};
use crate::finding::{Finding, Severity};
use crate::rules::{self, Rule};
use crate::scan::Outcome;
use serde_json::{Map, Value, json};
use std::io::Write;

pub const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
pub const INFORMATION_URI: &str = "https://github.com/cronguard/cronguard";
/// The key of the fingerprint in `partialFingerprints`; bump when the fingerprint changes.
pub const FINGERPRINT_KEY: &str = "cronguard/v1";

pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity`: a CVSS-like score as a string.
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

pub fn help_uri(id: &str) -> String {
    format!("{INFORMATION_URI}/blob/main/docs/rules.md#{id}")
}

/// `privileged-container` → `PrivilegedContainer`.
fn pascal(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The paragraph under `## What it does`, on one line (falls back to the summary).
fn full_description(r: &Rule) -> String {
    let mut lines = r.docs.lines().map(str::trim);
    if lines.any(|l| l == "## What it does") {
        let para: Vec<&str> = lines
            .skip_while(|l| l.is_empty())
            .take_while(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        if !para.is_empty() {
            return para.join(" ");
        }
    }
    r.summary.to_string()
}

fn rule_json(r: &Rule) -> Value {
    let md = rules::docs_markdown(r);
    let mut tags = vec![r.category.as_str().to_string()];
    tags.extend(r.attack.iter().map(|a| (*a).to_string()));
    tags.push("security".to_string());
    json!({
        "id": r.id,
        "name": pascal(r.id),
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": full_description(r)},
        "help": {"text": md, "markdown": md},
        "helpUri": help_uri(r.id),
        "defaultConfiguration": {"level": level(r.severity)},
        "properties": {
            "tags": tags,
            "security-severity": security_severity(r.severity),
        },
    })
}

/// A rule that a finding names but the registry does not know (should not happen; keeps
/// the log valid anyway).
fn unknown_rule_json(id: &str, f: &Finding) -> Value {
    json!({
        "id": id,
        "name": pascal(id),
        "shortDescription": {"text": id},
        "defaultConfiguration": {"level": level(f.severity)},
        "properties": {"tags": ["security"], "security-severity": security_severity(f.severity)},
    })
}

/// Percent-encode a path for a URI reference: unreserved characters and `/` stay.
fn uri_encode(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn artifact_location(p: &RepoPath) -> Value {
    match p {
        RepoPath::Relative(rel) => json!({"uri": uri_encode(rel), "uriBaseId": "%SRCROOT%"}),
        RepoPath::Other(s) if s.starts_with('/') => {
            json!({"uri": format!("file://{}", uri_encode(s))})
        }
        RepoPath::Other(s) => json!({"uri": uri_encode(s)}),
    }
}

fn region(line: usize, col: usize, end_line: usize, end_col: usize) -> Value {
    json!({"startLine": line, "startColumn": col, "endLine": end_line, "endColumn": end_col})
}

fn span_region(o: &Outcome, path: &str, span: crate::yaml::Span) -> Option<Value> {
    let (l, c) = super::line_col(o, path, span.start as usize)?;
    let (el, ec) = super::line_col(o, path, span.end as usize)?;
    Some(region(l, c, el, ec))
}

fn related_locations(o: &Outcome, f: &Finding, paths: &mut PathResolver) -> Vec<Value> {
    let mut out = Vec::new();
    let mut push = |path: &str, span, text: &str, paths: &mut PathResolver| {
        let mut phys = Map::new();
        phys.insert(
            "artifactLocation".into(),
            artifact_location(&paths.resolve(path)),
        );
        if let Some(r) = span_region(o, path, span) {
            phys.insert("region".into(), r);
        }
        let id = out.len();
        out.push(json!({"id": id, "physicalLocation": phys, "message": {"text": text}}));
    };
    for l in &f.labels {
        push(&f.path, l.span, &l.text, paths);
    }
    for r in &f.related {
        push(&r.path, r.span, &r.text, paths);
    }
    out
}

fn result_json(o: &Outcome, f: &Finding, rule_index: usize, paths: &mut PathResolver) -> Value {
    let mut r = Map::new();
    r.insert("ruleId".into(), json!(f.rule));
    r.insert("ruleIndex".into(), json!(rule_index));
    r.insert("level".into(), json!(level(f.severity)));
    let mut text = f.message.clone();
    if let Some(h) = &f.help {
        text.push_str("\nhelp: ");
        text.push_str(h);
    }
    r.insert("message".into(), json!({"text": text}));
    r.insert(
        "locations".into(),
        json!([{"physicalLocation": {
            "artifactLocation": artifact_location(&paths.resolve(&f.path)),
            "region": region(f.line, f.column, f.end_line, f.end_column),
        }}]),
    );
    let related = related_locations(o, f, paths);
    if !related.is_empty() {
        r.insert("relatedLocations".into(), Value::Array(related));
    }
    r.insert(
        "partialFingerprints".into(),
        json!({FINGERPRINT_KEY: f.fingerprint()}),
    );
    if let Some(s) = &f.suppressed {
        let kind = if s.kind == "baseline" {
            "external"
        } else {
            "inSource"
        };
        r.insert(
            "suppressions".into(),
            json!([{"kind": kind, "justification": s.justification}]),
        );
    }
    r.insert(
        "properties".into(),
        json!({
            "severity": f.severity.as_str(),
            "object": f.object,
            "attack": f.attack,
        }),
    );
    Value::Object(r)
}

/// The whole log as a value.
pub fn to_value(o: &Outcome, paths: &mut PathResolver) -> Value {
    let mut ids: Vec<&'static str> = o.findings.iter().map(|f| f.rule).collect();
    ids.sort_unstable();
    ids.dedup();
    let rules_json: Vec<Value> = ids
        .iter()
        .map(|id| {
            if let Some(r) = rules::find(id) {
                rule_json(r)
            } else {
                let f = o.findings.iter().find(|f| f.rule == *id);
                f.map_or_else(|| json!({"id": id}), |f| unknown_rule_json(id, f))
            }
        })
        .collect();
    let results: Vec<Value> = o
        .findings
        .iter()
        .map(|f| {
            let idx = ids.binary_search(&f.rule).unwrap_or_default();
            result_json(o, f, idx, paths)
        })
        .collect();
    let notifications: Vec<Value> = o
        .skipped
        .iter()
        .map(|s| {
            json!({
                "level": "warning",
                "descriptor": {"id": "skipped"},
                "message": {"text": format!("skipped: {}", s.reason)},
                "locations": [{"physicalLocation": {
                    "artifactLocation": artifact_location(&paths.resolve(&s.path)),
                }}],
            })
        })
        .collect();
    let version = env!("CARGO_PKG_VERSION");
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "cronguard",
                "version": version,
                "semanticVersion": version,
                "informationUri": INFORMATION_URI,
                "rules": rules_json,
            }},
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

pub fn write(out: &mut dyn Write, o: &Outcome) -> std::io::Result<()> {
    let v = to_value(o, &mut PathResolver::default());
    serde_json::to_writer_pretty(&mut *out, &v).map_err(std::io::Error::other)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Suppression;
    use crate::rules::testing::scan_all;

    const JOB: &str = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: n}\nspec:\n  template:\n    spec:\n      containers:\n      - name: \"é\"\n        image: alpine:3.20\n        securityContext: {privileged: true}\n";

    fn log(o: &Outcome) -> Value {
        to_value(o, &mut PathResolver::new(None))
    }

    #[test]
    fn results_point_at_rules_with_help_and_severity() {
        let o = scan_all(JOB);
        let v = log(&o);
        let run = &v["runs"][0];
        assert_eq!(run["columnKind"], "unicodeCodePoints");
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), o.findings.len());
        for r in results {
            let rule = &rules[usize::try_from(r["ruleIndex"].as_u64().unwrap()).unwrap()];
            assert_eq!(rule["id"], r["ruleId"]);
        }
        let p = results
            .iter()
            .find(|r| r["ruleId"] == "privileged-container")
            .unwrap();
        assert_eq!(p["level"], "error");
        let region = &p["locations"][0]["physicalLocation"]["region"];
        assert_eq!(region["startLine"], 10);
        assert_eq!(region["startColumn"], 27);
        assert_eq!(region["endColumn"], 43);
        assert_eq!(
            p["locations"][0]["physicalLocation"]["artifactLocation"],
            json!({"uri": "test.yaml", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            p["partialFingerprints"][FINGERPRINT_KEY]
                .as_str()
                .unwrap()
                .len(),
            16
        );
        let rule = rules
            .iter()
            .find(|r| r["id"] == "privileged-container")
            .unwrap();
        assert_eq!(rule["properties"]["security-severity"], "9.5");
        assert_eq!(
            rule["properties"]["tags"],
            json!(["pod-security", "T1611", "security"])
        );
        assert_eq!(rule["name"], "PrivilegedContainer");
        assert!(
            rule["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("## Why is this bad?")
        );
        assert!(!rule["fullDescription"]["text"].as_str().unwrap().is_empty());
        assert_eq!(
            rule["helpUri"],
            "https://github.com/cronguard/cronguard/blob/main/docs/rules.md#privileged-container"
        );
        let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn suppressions_and_skipped_files_are_reported() {
        let mut o = scan_all(JOB);
        o.findings[0].suppressed = Some(Suppression {
            kind: "baseline",
            justification: "accepted in review".into(),
        });
        o.findings[1].suppressed = Some(Suppression {
            kind: "annotation",
            justification: "needed".into(),
        });
        o.skipped.push(crate::source::Skipped {
            path: "a b.yaml".into(),
            reason: "line 1, column 1: invalid YAML".into(),
        });
        let v = log(&o);
        let results = &v["runs"][0]["results"];
        assert_eq!(results[0]["suppressions"][0]["kind"], "external");
        assert_eq!(results[1]["suppressions"][0]["kind"], "inSource");
        assert_eq!(results[1]["suppressions"][0]["justification"], "needed");
        assert!(results[2].get("suppressions").is_none());
        let n = &v["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
        assert_eq!(
            n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "a%20b.yaml"
        );
    }

    #[test]
    fn levels_and_scores_follow_severity() {
        assert_eq!(level(Severity::Medium), "warning");
        assert_eq!(level(Severity::Info), "note");
        assert_eq!(security_severity(Severity::High), "8.0");
        assert_eq!(pascal("a-bc-d"), "ABcD");
        assert_eq!(uri_encode("x/ü:1.yaml"), "x/%C3%BC%3A1.yaml");
    }
}

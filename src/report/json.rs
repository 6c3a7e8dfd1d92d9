//! The JSON report. This format is a contract for other tools; it is versioned.
//!
//! Version 1:
//! ```json
//! {
//!   "version": 1,
//!   "tool": {"name": "cronguard", "version": "0.1.0"},
//!   "findings": [{
//!     "rule": "privileged-container", "severity": "critical",
//!     "message": "container \"job\" runs privileged",
//!     "path": "deploy/cron.yaml", "line": 12, "column": 9, "end_line": 12, "end_column": 25,
//!     "object": {"apiVersion": "batch/v1", "kind": "CronJob", "namespace": "ops", "name": "backup"},
//!     "attack": ["T1611"], "fingerprint": "9f0c3a1d5e7b2c44",
//!     "help": "remove ...", "suppressed": null
//!   }],
//!   "skipped": [{"path": "chart/templates/job.yaml", "reason": "line 3, column 1: ..."}],
//!   "summary": {"files": 3, "documents": 5, "objects": 5, "workloads": 2,
//!               "findings": 1, "suppressed": 0, "skipped": 1,
//!               "by_severity": {"critical": 1, "high": 0, "medium": 0, "low": 0, "info": 0}}
//! }
//! ```
//! With `--baseline FILE`, a `"stale_baseline"` array (before `summary`) lists the entries
//! of the baseline that no finding matched any more, sorted by rule, object, locator,
//! fingerprint: `[{"rule": "privileged-container", "object": "batch/CronJob/ops/backup",
//! "locator": "spec...privileged", "fingerprint": "9f0c3a1d5e7b2c44", "path": "deploy/cron.yaml"}]`
//! (in `diff`, only entries of the files the change touches can be stale).
//!
//! `line`/`column` are 1-based (columns count characters) and point at the offending key or
//! value; `end_*` is exclusive. Findings are sorted by path, line, column, rule. Fields are
//! only ever added within a version.

use crate::finding::Finding;
use crate::scan::Outcome;
use serde_json::{Value, json};
use std::io::Write;

pub const VERSION: u32 = 1;

pub fn finding_json(f: &Finding) -> Value {
    json!({
        "rule": f.rule,
        "severity": f.severity.as_str(),
        "message": f.message,
        "path": &*f.path,
        "line": f.line,
        "column": f.column,
        "end_line": f.end_line,
        "end_column": f.end_column,
        "object": f.object,
        "attack": f.attack,
        "fingerprint": f.fingerprint(),
        "help": f.help,
        "suppressed": f.suppressed,
    })
}

fn summary(o: &Outcome) -> Value {
    let active = o.findings.iter().filter(|f| f.suppressed.is_none()).count();
    let mut by = serde_json::Map::new();
    for (s, n) in super::by_severity(o) {
        by.insert(s.as_str().to_string(), json!(n));
    }
    json!({
        "files": o.stats.files,
        "documents": o.stats.documents,
        "objects": o.stats.objects,
        "workloads": o.stats.workloads,
        "findings": active,
        "suppressed": o.findings.len() - active,
        "skipped": o.skipped.len(),
        "by_severity": by,
    })
}

/// The whole report as one value (small reports, tests).
pub fn to_value(o: &Outcome) -> Value {
    let mut v = json!({
        "version": VERSION,
        "tool": {"name": "cronguard", "version": env!("CARGO_PKG_VERSION")},
        "findings": o.findings.iter().map(finding_json).collect::<Vec<_>>(),
        "skipped": o.skipped,
        "summary": summary(o),
    });
    if let Some(stale) = &o.stale_baseline {
        v["stale_baseline"] = json!(stale);
    }
    v
}

/// Stream the report: one finding is built at a time, so memory does not grow with the
/// number of findings. The same JSON as `to_value`, with `version` and `tool` first.
pub fn write(out: &mut dyn Write, o: &Outcome) -> std::io::Result<()> {
    let pretty = |v: &Value| serde_json::to_string_pretty(v).map_err(std::io::Error::other);
    let indent = |s: String, n: usize| {
        let pad = " ".repeat(n);
        s.lines().collect::<Vec<_>>().join(&format!("\n{pad}"))
    };
    writeln!(out, "{{")?;
    writeln!(out, "  \"version\": {VERSION},")?;
    let tool = json!({"name": "cronguard", "version": env!("CARGO_PKG_VERSION")});
    writeln!(out, "  \"tool\": {},", indent(pretty(&tool)?, 2))?;
    if o.findings.is_empty() {
        writeln!(out, "  \"findings\": [],")?;
    } else {
        writeln!(out, "  \"findings\": [")?;
        for (i, f) in o.findings.iter().enumerate() {
            let sep = if i + 1 == o.findings.len() { "" } else { "," };
            writeln!(out, "    {}{sep}", indent(pretty(&finding_json(f))?, 4))?;
        }
        writeln!(out, "  ],")?;
    }
    let skipped = serde_json::to_value(&o.skipped).map_err(std::io::Error::other)?;
    writeln!(out, "  \"skipped\": {},", indent(pretty(&skipped)?, 2))?;
    if let Some(stale) = &o.stale_baseline {
        let stale = serde_json::to_value(stale).map_err(std::io::Error::other)?;
        writeln!(out, "  \"stale_baseline\": {},", indent(pretty(&stale)?, 2))?;
    }
    writeln!(out, "  \"summary\": {}", indent(pretty(&summary(o))?, 2))?;
    writeln!(out, "}}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::scan_all;

    #[test]
    fn streamed_output_equals_the_pretty_printed_value() {
        let o = scan_all(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: true\n  containers: [{name: a, image: alpine}]\n",
        );
        assert!(o.findings.len() > 2);
        let mut streamed = Vec::new();
        write(&mut streamed, &o).unwrap();
        let parsed: Value = serde_json::from_slice(&streamed).unwrap();
        assert_eq!(parsed, to_value(&o));
        assert!(
            String::from_utf8(streamed)
                .unwrap()
                .starts_with("{\n  \"version\": 1,\n")
        );
        let empty = Outcome::default();
        let mut streamed = Vec::new();
        write(&mut streamed, &empty).unwrap();
        let parsed: Value = serde_json::from_slice(&streamed).unwrap();
        assert_eq!(parsed, to_value(&empty));
    }
}

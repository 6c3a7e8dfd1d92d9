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

pub fn to_value(o: &Outcome) -> Value {
    let active = o.findings.iter().filter(|f| f.suppressed.is_none()).count();
    let mut by = serde_json::Map::new();
    for (s, n) in super::by_severity(o) {
        by.insert(s.as_str().to_string(), json!(n));
    }
    json!({
        "version": VERSION,
        "tool": {"name": "cronguard", "version": env!("CARGO_PKG_VERSION")},
        "findings": o.findings.iter().map(finding_json).collect::<Vec<_>>(),
        "skipped": o.skipped,
        "summary": {
            "files": o.stats.files,
            "documents": o.stats.documents,
            "objects": o.stats.objects,
            "workloads": o.stats.workloads,
            "findings": active,
            "suppressed": o.findings.len() - active,
            "skipped": o.skipped.len(),
            "by_severity": by,
        }
    })
}

pub fn write(out: &mut dyn Write, o: &Outcome) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &to_value(o))?;
    writeln!(out)
}

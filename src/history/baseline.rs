//! Baseline files: the fingerprints of accepted findings, so a scan reports only what is new.
//!
//! Format (version 1), sorted by rule, object, locator, fingerprint; one entry per line-free
//! identity, nothing secret (no values, no messages):
//! ```json
//! {"version": 1, "entries": [{"fingerprint": "9f0c3a1d5e7b2c44", "rule": "privileged-container",
//!   "object": "batch/CronJob/ops/backup", "locator": "spec...privileged", "path": "deploy/backup.yaml"}]}
//! ```
//! `path` is informational (where the finding was when the baseline was written); matching
//! uses the fingerprint only, so moving the file keeps the suppression.

use crate::finding::{Finding, Suppression};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashSet};

pub const VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entry {
    pub rule: String,
    pub object: String,
    pub locator: String,
    pub fingerprint: String,
    pub path: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub entries: Vec<Entry>,
}

/// The baseline of these findings (suppressed ones are left out: they need no baseline).
pub fn from_findings(findings: &[Finding]) -> Baseline {
    let set: BTreeSet<Entry> = findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .map(|f| Entry {
            rule: f.rule.to_string(),
            object: f.object.key(),
            locator: f.locator.clone(),
            fingerprint: f.fingerprint(),
            path: f.path.to_string(),
        })
        .collect();
    Baseline {
        version: VERSION,
        entries: set.into_iter().collect(),
    }
}

pub fn to_json(b: &Baseline) -> String {
    // One entry per line: reviewable diffs when the baseline changes.
    let mut s = format!("{{\n  \"version\": {},\n  \"entries\": [", b.version);
    for (i, e) in b.entries.iter().enumerate() {
        s.push_str(if i == 0 { "\n    " } else { ",\n    " });
        s.push_str(&serde_json::to_string(e).unwrap_or_default());
    }
    s.push_str(if b.entries.is_empty() {
        "]\n}\n"
    } else {
        "\n  ]\n}\n"
    });
    s
}

pub fn parse(text: &str) -> Result<Baseline, String> {
    let b: Baseline = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if b.version != VERSION {
        return Err(format!(
            "baseline version {} is not supported (expected {VERSION})",
            b.version
        ));
    }
    Ok(b)
}

/// Mark findings the baseline holds as suppressed; return the entries that matched nothing
/// among those that could have matched (`scanned(path)` says whether the entry's file was
/// part of this run; a diff only looks at changed files).
pub fn apply<'b>(
    b: &'b Baseline,
    findings: &mut [Finding],
    scanned: &dyn Fn(&str) -> bool,
) -> Vec<&'b Entry> {
    let mut matched: HashSet<&str> = HashSet::new();
    let known: HashSet<&str> = b.entries.iter().map(|e| e.fingerprint.as_str()).collect();
    for f in findings.iter_mut() {
        let fp = f.fingerprint();
        if let Some(k) = known.get(fp.as_str()) {
            matched.insert(k);
            if f.suppressed.is_some() {
                continue;
            }
            f.suppressed = Some(Suppression {
                kind: "baseline",
                justification: format!("accepted in the baseline (fingerprint {fp})"),
            });
        }
    }
    b.entries
        .iter()
        .filter(|e| !matched.contains(e.fingerprint.as_str()) && scanned(&e.path))
        .collect()
}

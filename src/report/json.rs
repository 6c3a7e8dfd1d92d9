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
use crate::util::Par;
use serde::Serialize;
use serde_json::{Value, json};
use std::io::Write;

pub const VERSION: u32 = 1;

/// One finding as the report writes it. Fields are in alphabetical order: the report has
/// always listed them so (it was built from sorted JSON maps), and consumers diff it.
#[derive(Serialize)]
struct FindingOut<'a> {
    attack: &'a [&'a str],
    column: usize,
    end_column: usize,
    end_line: usize,
    fingerprint: String,
    help: Option<&'a str>,
    line: usize,
    message: &'a str,
    object: ObjectOut<'a>,
    path: &'a str,
    rule: &'a str,
    severity: &'a str,
    suppressed: Option<SuppressedOut<'a>>,
}

#[derive(Serialize)]
struct ObjectOut<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    kind: &'a str,
    name: Option<&'a str>,
    namespace: Option<&'a str>,
}

#[derive(Serialize)]
struct SuppressedOut<'a> {
    justification: &'a str,
    kind: &'a str,
}

impl<'a> FindingOut<'a> {
    fn of(f: &'a Finding) -> Self {
        FindingOut {
            attack: f.attack,
            column: f.column,
            end_column: f.end_column,
            end_line: f.end_line,
            fingerprint: f.fingerprint(),
            help: f.help.as_deref(),
            line: f.line,
            message: &f.message,
            object: ObjectOut {
                api_version: &f.object.api_version,
                kind: &f.object.kind,
                name: f.object.name.as_deref(),
                namespace: f.object.namespace.as_deref(),
            },
            path: &f.path,
            rule: f.rule,
            severity: f.severity.as_str(),
            suppressed: f.suppressed.as_ref().map(|s| SuppressedOut {
                justification: &s.justification,
                kind: s.kind,
            }),
        }
    }
}

pub fn finding_json(f: &Finding) -> Value {
    serde_json::to_value(FindingOut::of(f)).unwrap_or(Value::Null)
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

/// The findings, serialised one at a time as the array is written.
struct Findings<'a>(&'a [Finding]);

impl Serialize for Findings<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(FindingOut::of))
    }
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    tool: Tool,
    findings: Findings<'a>,
    skipped: &'a [crate::source::Skipped],
    /// With `--baseline`: entries that matched no finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    stale_baseline: Option<Value>,
    summary: Value,
}

/// Write the report (findings rendered on rayon's global pool; see [`write_par`]).
pub fn write(out: &mut dyn Write, o: &Outcome) -> std::io::Result<()> {
    write_par(out, o, &Par::default())
}

/// Findings per rendering task, and per batch written before the next is rendered (memory
/// stays bounded by a batch, not by the report).
const CHUNK: usize = 256;
const BATCH: usize = 16 * CHUNK;
/// Where the findings go in the report's frame. The first match is the key: a quote
/// inside a JSON string is escaped, and `findings` precedes `skipped` and `summary`.
const KEY: &[u8] = b"\"findings\": [";

/// Write the report: the same bytes as `serde_json::to_writer_pretty(&to_value(o))` with
/// `version` and `tool` first. Findings are serialised in parallel, a batch at a time, each
/// one pretty-printed on its own and indented to its place in the array (JSON strings
/// escape newlines, so every newline of a rendered finding is structural).
pub fn write_par(out: &mut dyn Write, o: &Outcome, par: &Par) -> std::io::Result<()> {
    let mut buf = std::io::BufWriter::with_capacity(1 << 16, out);
    let report = Report {
        version: VERSION,
        tool: Tool {
            name: "cronguard",
            version: env!("CARGO_PKG_VERSION"),
        },
        findings: Findings(&[]),
        skipped: &o.skipped,
        stale_baseline: o
            .stale_baseline
            .as_ref()
            .map(serde_json::to_value)
            .transpose()
            .map_err(std::io::Error::other)?,
        summary: summary(o),
    };
    let frame = serde_json::to_vec_pretty(&report).map_err(std::io::Error::other)?;
    let at = memchr::memmem::find(&frame, KEY)
        .ok_or_else(|| std::io::Error::other("no findings key"))?
        + KEY.len();
    buf.write_all(&frame[..at])?;
    if !o.findings.is_empty() {
        for (b, batch) in o.findings.chunks(BATCH).enumerate() {
            let chunks: Vec<&[Finding]> = batch.chunks(CHUNK).collect();
            let rendered = par.map(&chunks, |chunk| render_chunk(chunk));
            for (c, bytes) in rendered.into_iter().enumerate() {
                buf.write_all(if b == 0 && c == 0 { b"\n" } else { b",\n" })?;
                buf.write_all(&bytes.map_err(std::io::Error::other)?)?;
            }
        }
        buf.write_all(b"\n  ")?;
    }
    buf.write_all(&frame[at..])?;
    buf.write_all(b"\n")?;
    buf.flush()
}

/// Findings as the elements of the report's array: each pretty-printed, every line
/// indented by four spaces, joined with `,\n` (no separator before the first).
fn render_chunk(chunk: &[Finding]) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(chunk.len() * 1024);
    let mut one = Vec::with_capacity(2048);
    for (i, f) in chunk.iter().enumerate() {
        one.clear();
        serde_json::to_writer_pretty(&mut one, &FindingOut::of(f))?;
        if i > 0 {
            out.extend_from_slice(b",\n");
        }
        out.extend_from_slice(b"    ");
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', &one) {
            out.extend_from_slice(&one[start..=nl]);
            out.extend_from_slice(b"    ");
            start = nl + 1;
        }
        out.extend_from_slice(&one[start..]);
    }
    Ok(out)
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

    /// The reference: the whole report through one pretty serialiser.
    fn serial(o: &Outcome) -> Vec<u8> {
        let report = Report {
            version: VERSION,
            tool: Tool {
                name: "cronguard",
                version: env!("CARGO_PKG_VERSION"),
            },
            findings: Findings(&o.findings),
            skipped: &o.skipped,
            stale_baseline: o
                .stale_baseline
                .as_ref()
                .map(|s| serde_json::to_value(s).unwrap()),
            summary: summary(o),
        };
        let mut v = serde_json::to_vec_pretty(&report).unwrap();
        v.push(b'\n');
        v
    }

    #[test]
    fn parallel_output_is_byte_identical_to_one_serialiser_at_any_thread_count() {
        let mut o = scan_all(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: true\n  containers: [{name: a, image: \"x\\ny\"}]\n",
        );
        o.skipped.push(crate::source::Skipped {
            path: "a \"findings\": [].yaml".into(),
            reason: "line 1: \"findings\": [x".into(),
        });
        let one = o.findings.clone();
        // Enough findings to cross chunk and batch boundaries, and one past a multiple.
        for n in [0, 1, CHUNK, CHUNK + 1, BATCH, 2 * BATCH + 3] {
            o.findings = one.iter().cycle().take(n).cloned().collect();
            let want = serial(&o);
            for threads in [Some(1), Some(3), None] {
                let mut got = Vec::new();
                write_par(&mut got, &o, &Par::new(threads).unwrap()).unwrap();
                assert!(
                    got == want,
                    "{n} findings, {threads:?} threads: output differs"
                );
            }
        }
    }
}

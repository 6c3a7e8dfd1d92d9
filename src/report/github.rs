//! GitHub Actions: workflow-command annotations (`--format github`) and the markdown job
//! summary (`--summary FILE`, appended, as `$GITHUB_STEP_SUMMARY` expects).
//!
//! One annotation per active finding:
//! `::error file=deploy/cron.yaml,line=12,col=9,endLine=12,endColumn=25,title=privileged-container [critical]::container "job" runs privileged`
//! critical/high → `error`, medium → `warning`, low/info → `notice`. File paths are relative
//! to the repository root, which is where GitHub resolves them. Values are escaped the way
//! the runner decodes them (data: `%`, CR, LF; properties also `:` and `,`), and control and
//! invisible characters are shown as `\u{..}`, so a manifest cannot inject a workflow
//! command or hide text in an annotation. Skipped files are `::warning` annotations.
//!
//! The summary lists the scheduled workloads (CronJob, Job, Argo CronWorkflow, KEDA
//! ScaledJob): schedule and its human reading, images, findings. For `diff`, it takes the
//! change findings and lists the added and changed workloads only.

use super::{PathResolver, by_severity, escape_display, summary_line};
use crate::finding::{Finding, Severity};
use crate::k8s::{self, ObjectId, WorkloadKind};
use crate::rules::{self, Category};
use crate::scan::{Options, Outcome};
use crate::source::{Source, read_text};
use crate::yaml::{self, Document, LineIndex};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

/// At most this many findings are listed in the summary (the annotations have them all).
pub const SUMMARY_MAX_FINDINGS: usize = 50;
/// Untrusted values in the summary are cut to this many characters.
const MAX_CELL_CHARS: usize = 120;

pub fn command(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    }
}

fn visible(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        escape_display(ch, &mut out);
    }
    out
}

/// Escape the message part of a workflow command.
pub fn escape_data(s: &str) -> String {
    visible(
        &s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A"),
    )
}

/// Escape a property value of a workflow command.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn annotation(f: &Finding, paths: &mut PathResolver) -> String {
    let file = paths.resolve(&f.path);
    let mut msg = f.message.clone();
    if let Some(h) = &f.help {
        msg.push_str("\nhelp: ");
        msg.push_str(h);
    }
    msg.push_str(&format!("\nobject: {}", f.object.display()));
    if !f.attack.is_empty() {
        msg.push_str(&format!("\nATT&CK: {}", f.attack.join(", ")));
    }
    format!(
        "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}",
        command(f.severity),
        escape_property(file.as_str()),
        f.line,
        f.column,
        f.end_line,
        f.end_column,
        escape_property(&format!("{} [{}]", f.rule, f.severity)),
        escape_data(&msg)
    )
}

/// Write the annotations, then the summary line as plain log text.
pub fn write(out: &mut dyn Write, o: &Outcome) -> std::io::Result<()> {
    let mut paths = PathResolver::default();
    write_with(out, o, &mut paths)
}

pub fn write_with(
    out: &mut dyn Write,
    o: &Outcome,
    paths: &mut PathResolver,
) -> std::io::Result<()> {
    for f in o.findings.iter().filter(|f| f.suppressed.is_none()) {
        writeln!(out, "{}", annotation(f, paths))?;
    }
    for s in &o.skipped {
        writeln!(
            out,
            "::warning file={},title={}::{}",
            escape_property(paths.resolve(&s.path).as_str()),
            escape_property("cronguard skipped a file"),
            escape_data(&s.reason)
        )?;
    }
    writeln!(out, "cronguard: {}", visible(&summary_line(o)))
}

/// One scheduled workload, for the summary table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadRow {
    pub path: Arc<str>,
    pub line: usize,
    pub object: ObjectId,
    pub kind: WorkloadKind,
    /// The schedule expressions (CronJob `schedule`, Argo `schedule`/`schedules`).
    pub schedules: Vec<String>,
    pub time_zone: Option<String>,
    pub suspended: bool,
    /// Images of every container, in order, deduplicated.
    pub images: Vec<String>,
}

impl WorkloadRow {
    /// When it runs, for people: the human reading of each schedule.
    pub fn reading(&self) -> String {
        if self.schedules.is_empty() {
            return match self.kind {
                WorkloadKind::KedaScaledJob => "on KEDA triggers".into(),
                _ => "once, when applied".into(),
            };
        }
        let mut parts: Vec<String> = self
            .schedules
            .iter()
            .map(|s| match crate::schedule::parse(s) {
                Ok(p) => p.describe(),
                Err(e) => format!("invalid: {}", e.message),
            })
            .collect();
        if let Some(tz) = &self.time_zone {
            parts.push(format!("({tz})"));
        }
        if self.suspended {
            parts.push("(suspended)".into());
        }
        parts.join("; ").replace("; (", " (")
    }
}

fn str_list(doc: &Document, node: Option<yaml::NodeId>) -> Vec<String> {
    let Some(n) = node else { return Vec::new() };
    if let Some(s) = doc.str(n) {
        return vec![s.to_string()];
    }
    doc.seq(n)
        .iter()
        .filter_map(|i| doc.str(*i).map(str::to_string))
        .collect()
}

/// The scheduled workloads in one file's text (Helm templates are left out, as in a scan).
pub fn workloads_in(path: &Arc<str>, text: &str, opts: &Options) -> Vec<WorkloadRow> {
    if crate::scan::looks_like_template(text) {
        return Vec::new();
    }
    let loaded = yaml::load(text, &opts.yaml_limits);
    let li = LineIndex::new(text);
    let mut rows = Vec::new();
    for doc in &loaded.docs {
        let Ok(objs) = k8s::objects(doc) else {
            continue;
        };
        for obj in &objs {
            let Some(w) = k8s::workload(doc, obj) else {
                continue;
            };
            if !w.kind.is_scheduled() {
                continue;
            }
            let spec = doc.get(obj.node, "spec");
            let field = |k: &str| spec.and_then(|s| doc.get(s, k));
            let mut schedules = Vec::new();
            let mut time_zone = None;
            if matches!(
                w.kind,
                WorkloadKind::CronJob | WorkloadKind::ArgoCronWorkflow
            ) {
                schedules = str_list(doc, field("schedule"));
                schedules.extend(str_list(doc, field("schedules")));
                time_zone = field("timeZone")
                    .or_else(|| field("timezone"))
                    .and_then(|n| doc.str(n))
                    .map(str::to_string);
            }
            let suspended = field("suspend").and_then(|n| doc.as_bool(n)) == Some(true);
            let mut images: Vec<String> = Vec::new();
            for p in &w.pods {
                for c in &p.containers {
                    if let Some(i) = doc.get_str(c.node, "image")
                        && !images.iter().any(|x| x == i)
                    {
                        images.push(i.to_string());
                    }
                }
            }
            let (line, _) = li.line_col(text, doc.span(obj.node).start as usize);
            rows.push(WorkloadRow {
                path: path.clone(),
                line,
                object: obj.id.clone(),
                kind: w.kind,
                schedules,
                time_zone,
                suspended,
                images,
            });
        }
    }
    rows
}

/// The scheduled workloads of every source (read again; used only with `--summary`).
pub fn inventory(sources: &[Source], opts: &Options) -> Vec<WorkloadRow> {
    let mut rows = Vec::new();
    for s in sources {
        if let Ok(text) = read_text(s, &opts.read_limits) {
            rows.extend(workloads_in(&s.path, &text, opts));
        }
    }
    sort_rows(&mut rows);
    rows
}

/// The scheduled workloads of the files that have findings (`Outcome::sources`): enough for
/// a diff, whose added and changed workloads all have change findings.
pub fn inventory_of_outcome(o: &Outcome, opts: &Options) -> Vec<WorkloadRow> {
    let mut rows = Vec::new();
    for (path, text) in &o.sources {
        rows.extend(workloads_in(path, text, opts));
    }
    sort_rows(&mut rows);
    rows
}

fn sort_rows(rows: &mut [WorkloadRow]) {
    rows.sort_by(|a, b| (&a.path, a.line, &a.object).cmp(&(&b.path, b.line, &b.object)));
}

/// Is this a finding of the `change` category (what a diff reports)?
pub fn is_change(f: &Finding) -> bool {
    rules::find(f.rule).is_some_and(|r| r.category == Category::Change)
}

/// Markdown-escape an untrusted value for a table cell: controls and invisible characters
/// shown, the characters that form emphasis, code, links, autolinks, images, HTML, entities
/// or cell breaks backslash-escaped, cut to a reviewable length.
pub fn md(s: &str) -> String {
    let v = visible(s);
    let mut out = String::new();
    for (n, ch) in v.chars().enumerate() {
        if n == MAX_CELL_CHARS {
            out.push('…');
            break;
        }
        match ch {
            '\n' | '\r' | '\t' => out.push(' '),
            c if "\\`*_{}[]<>()#+!|~:@=&.".contains(c) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn counts(findings: &[&Finding]) -> String {
    let parts: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|s| {
            let n = findings.iter().filter(|f| f.severity == *s).count();
            (n > 0).then(|| format!("{n} {s}"))
        })
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// Write the job summary. `changes` is `Some` for a diff: the change findings; then only
/// the added and changed workloads are listed, with what changed.
pub fn write_summary(
    out: &mut dyn Write,
    o: &Outcome,
    rows: &[WorkloadRow],
    changes: Option<&[&Finding]>,
    paths: &mut PathResolver,
) -> std::io::Result<()> {
    writeln!(out, "## cronguard\n")?;
    writeln!(out, "{}\n", md(&summary_line(o)))?;
    let active: Vec<&Finding> = o
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .collect();
    let mut by_object: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
    for f in &active {
        by_object.entry(f.object.key()).or_default().push(f);
    }
    let change_by_object: Option<BTreeMap<String, Vec<&Finding>>> = changes.map(|cs| {
        let mut m: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
        for f in cs {
            m.entry(f.object.key()).or_default().push(f);
        }
        m
    });
    let listed: Vec<&WorkloadRow> = match &change_by_object {
        Some(m) => rows
            .iter()
            .filter(|r| m.contains_key(&r.object.key()))
            .collect(),
        None => rows.iter().collect(),
    };
    if change_by_object.is_some() {
        writeln!(out, "### Added and changed scheduled workloads\n")?;
    } else {
        writeln!(out, "### Scheduled workloads\n")?;
    }
    if listed.is_empty() {
        let what = if change_by_object.is_some() {
            "This change adds or changes no scheduled workload."
        } else {
            "No scheduled workload (CronJob, Job, CronWorkflow, ScaledJob) found."
        };
        writeln!(out, "{what}\n")?;
    } else {
        let change_col = if change_by_object.is_some() {
            " Change |"
        } else {
            ""
        };
        writeln!(
            out,
            "| Workload | File |{change_col} Schedule | Runs | Images | Findings |"
        )?;
        writeln!(
            out,
            "|---|---|{}---|---|---|---|",
            if change_col.is_empty() { "" } else { "---|" }
        )?;
        for r in listed {
            let key = r.object.key();
            let change = match &change_by_object {
                Some(m) => {
                    let mut ids: Vec<&str> = m
                        .get(&key)
                        .map(|v| v.iter().map(|f| f.rule).collect())
                        .unwrap_or_default();
                    ids.sort_unstable();
                    ids.dedup();
                    let text: Vec<String> = ids
                        .iter()
                        .map(|id| {
                            if *id == "scheduled-workload-added" {
                                "added".to_string()
                            } else {
                                md(id)
                            }
                        })
                        .collect();
                    format!(" {} |", text.join(", "))
                }
                None => String::new(),
            };
            let schedule = if r.schedules.is_empty() {
                "—".to_string()
            } else {
                r.schedules
                    .iter()
                    .map(|s| md(s))
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            let images = if r.images.is_empty() {
                "—".to_string()
            } else {
                r.images
                    .iter()
                    .map(|s| md(s))
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            let findings: Vec<&Finding> = by_object
                .get(&key)
                .map(|v| v.iter().copied().filter(|f| !is_change(f)).collect())
                .unwrap_or_default();
            writeln!(
                out,
                "| {} | {}:{} |{change} {schedule} | {} | {images} | {} |",
                md(&r.object.display()),
                md(paths.resolve(&r.path).as_str()),
                r.line,
                md(&r.reading()),
                counts(&findings),
            )?;
        }
        writeln!(out)?;
    }
    writeln!(out, "### Findings by severity\n")?;
    writeln!(out, "| Severity | Findings |")?;
    writeln!(out, "|---|---|")?;
    for (s, n) in by_severity(o) {
        writeln!(out, "| {s} | {n} |")?;
    }
    writeln!(out)?;
    if !active.is_empty() {
        writeln!(out, "### Findings\n")?;
        writeln!(out, "| Severity | Rule | Where | Message |")?;
        writeln!(out, "|---|---|---|---|")?;
        for f in active.iter().take(SUMMARY_MAX_FINDINGS) {
            writeln!(
                out,
                "| {} | {} | {}:{} | {} |",
                f.severity,
                md(f.rule),
                md(paths.resolve(&f.path).as_str()),
                f.line,
                md(&f.message)
            )?;
        }
        if active.len() > SUMMARY_MAX_FINDINGS {
            writeln!(
                out,
                "\n… and {} more (see the annotations or the SARIF report).",
                active.len() - SUMMARY_MAX_FINDINGS
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Append the summary to `path` (GitHub concatenates the steps' summaries).
pub fn append_summary(
    path: &std::path::Path,
    o: &Outcome,
    rows: &[WorkloadRow],
    changes: Option<&[&Finding]>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    write_summary(&mut buf, o, rows, changes, &mut PathResolver::default())?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::scan_all;

    const CRON: &str = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: backup, namespace: ops}\nspec:\n  schedule: '30 2 * * *'\n  timeZone: Europe/Paris\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: a\n            image: alpine:3.20\n            securityContext: {privileged: true}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{name: w, image: nginx}]\n";

    #[test]
    fn escaping_follows_the_runner() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
        // A manifest cannot start a new workflow command or hide bidi text.
        assert_eq!(
            escape_data("x\n::add-mask::y\u{202e}"),
            "x%0A::add-mask::y\\u{202E}"
        );
    }

    #[test]
    fn annotations_map_severity_to_commands() {
        let o = scan_all(CRON);
        let mut out = Vec::new();
        write_with(&mut out, &o, &mut PathResolver::new(None)).unwrap();
        let text = String::from_utf8(out).unwrap();
        let line = text
            .lines()
            .find(|l| l.contains("title=privileged-container [critical]"))
            .unwrap();
        assert!(
            line.starts_with("::error file=test.yaml,line=14,col=31,endLine=14,endColumn=47,"),
            "{line}"
        );
        assert!(line.contains("::container \"a\" runs privileged"), "{line}");
        assert!(text.lines().any(|l| l.starts_with("::notice ")), "{text}");
        assert!(text.lines().last().unwrap().starts_with("cronguard: "));
        // Exactly one line per finding: messages cannot break out of their command.
        assert_eq!(text.lines().count(), o.findings.len() + 1);
    }

    #[test]
    fn summary_lists_scheduled_workloads_only() {
        let o = scan_all(CRON);
        let rows = workloads_in(&Arc::from("test.yaml"), CRON, &Options::default());
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].reading(), "at 02:30 every day (Europe/Paris)");
        assert_eq!(rows[0].images, ["alpine:3.20"]);
        let mut out = Vec::new();
        write_summary(&mut out, &o, &rows, None, &mut PathResolver::new(None)).unwrap();
        let md_text = String::from_utf8(out).unwrap();
        assert!(md_text.contains("### Scheduled workloads"), "{md_text}");
        let row = md_text
            .lines()
            .find(|l| l.starts_with("| CronJob ops/backup |"))
            .unwrap();
        assert!(row.contains("| test\\.yaml:1 |"), "{row}");
        assert!(row.contains("| 30 2 \\* \\* \\* |"), "{row}");
        assert!(row.contains("alpine\\:3\\.20"), "{row}");
        assert!(row.contains("1 critical"), "{row}");
        let table = md_text
            .split("### Scheduled workloads")
            .nth(1)
            .and_then(|t| t.split("\n### ").next())
            .unwrap();
        assert!(!table.contains("Deployment"), "{md_text}");
        assert!(md_text.contains("| critical | 1 |"));
    }

    #[test]
    fn diff_summary_lists_only_changed_workloads() {
        let o = scan_all(CRON);
        let rows = workloads_in(&Arc::from("test.yaml"), CRON, &Options::default());
        let mut out = Vec::new();
        write_summary(&mut out, &o, &rows, Some(&[]), &mut PathResolver::new(None)).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("### Added and changed scheduled workloads"));
        assert!(text.contains("adds or changes no scheduled workload"));
        assert!(!text.contains("| CronJob ops/backup |"));
        // A change finding on the CronJob lists it with what changed.
        let mut added = o.findings[0].clone();
        added.rule = "scheduled-workload-added";
        let mut out = Vec::new();
        write_summary(
            &mut out,
            &o,
            &rows,
            Some(&[&added]),
            &mut PathResolver::new(None),
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let row = text
            .lines()
            .find(|l| l.starts_with("| CronJob ops/backup |"))
            .unwrap();
        assert!(row.contains("| added |"), "{row}");
    }

    #[test]
    fn summary_cells_cannot_inject_markdown() {
        assert_eq!(md("a|b"), "a\\|b");
        assert_eq!(md("[x](http://e)"), "\\[x\\]\\(http\\://e\\)");
        assert_eq!(md("<img src=x>"), "\\<img src\\=x\\>");
        assert_eq!(md("a\nb"), "a b");
        assert!(md(&"x".repeat(500)).ends_with('…'));
    }
}

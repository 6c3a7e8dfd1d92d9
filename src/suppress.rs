//! Inline suppressions, each with a reason.
//!
//! Two forms:
//! - on an object, the annotations `cronguard.io/ignore: "rule-a,rule-b"` and
//!   `cronguard.io/ignore-reason: "..."`: every finding of those rules inside the object;
//! - a YAML comment `# cronguard-ignore rule-a,rule-b: reason`, either on its own line (it
//!   applies to the next line that is not blank or a comment) or at the end of a line (it
//!   applies to that line). A finding is on the line where its span starts.
//!
//! A suppression without a reason is not applied and is itself a finding
//! (`suppression-without-reason`); a rule named in a suppression that matches no finding is
//! reported by `suppression-unused` (only for rules that ran, so `--only` does not make every
//! other suppression look stale). Suppressed findings stay in the outcome with
//! [`Finding::suppressed`] set: they are counted and listed in JSON and SARIF.

use crate::declare_rule;
use crate::finding::{Finding, Suppression};
use crate::k8s::{self, ObjectId};
use crate::rules::{Check, Rule};
use crate::yaml::{LineIndex, Loaded, Span};
use std::sync::Arc;

pub static RULES: &[&Rule] = &[&SUPPRESSION_WITHOUT_REASON, &SUPPRESSION_UNUSED];

pub const ANNOTATION: &str = "cronguard.io/ignore";
pub const ANNOTATION_REASON: &str = "cronguard.io/ignore-reason";
pub const COMMENT: &str = "cronguard-ignore";

declare_rule! {
    /// ## What it does
    /// Flags inline suppressions that give no reason: a `# cronguard-ignore rule-id` comment
    /// without `: reason`, or a `cronguard.io/ignore` annotation without a non-empty
    /// `cronguard.io/ignore-reason`. Such a suppression is **not applied**: the finding it
    /// meant to hide is still reported.
    ///
    /// ## Why is this bad?
    /// An exception nobody explained cannot be reviewed: an auditor cannot tell an accepted
    /// risk from a finding someone silenced to get a change merged. Requiring the reason next
    /// to the suppression keeps every exception visible and explained.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   # cronguard-ignore host-pid
    ///   hostPID: true
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   # cronguard-ignore host-pid: node-exporter reads /proc of the host, reviewed in SEC-142
    ///   hostPID: true
    /// ```
    ///
    /// ## References
    /// - ESLint's `eslint-comments/require-description`; kube-linter's
    ///   `ignore-check.kube-linter.io/<check>` annotation takes a free-text reason but does not
    ///   require one. cronguard requires it and does not apply a suppression without it.
    pub static SUPPRESSION_WITHOUT_REASON = {
        id: "suppression-without-reason",
        category: Hygiene,
        severity: Medium,
        enabled: true,
        attack: [],
        summary: "an inline suppression gives no reason",
        check: Check::Pipeline,
    }
}

declare_rule! {
    /// ## What it does
    /// Flags rule ids named in an inline suppression (comment or annotation) that suppress
    /// nothing: the rule ran and found nothing there, or the id is not a rule at all (with a
    /// did-you-mean hint). Rules that did not run (disabled, or outside `--only`) are not
    /// reported.
    ///
    /// ## Why is this bad?
    /// A stale suppression silently covers the next real problem at that place; a misspelt id
    /// suppresses nothing while looking like it does.
    ///
    /// ## Example
    /// ```yaml
    /// # cronguard-ignore host-pdi: reviewed in SEC-142
    /// hostPID: true
    /// ```
    ///
    /// ## Use instead
    /// Remove the suppression, or fix the rule id:
    /// ```yaml
    /// # cronguard-ignore host-pid: reviewed in SEC-142
    /// hostPID: true
    /// ```
    ///
    /// ## References
    /// - ESLint `--report-unused-disable-directives`, ruff `RUF100` (unused `noqa`).
    pub static SUPPRESSION_UNUSED = {
        id: "suppression-unused",
        category: Hygiene,
        severity: Low,
        enabled: true,
        attack: [],
        summary: "an inline suppression matches no finding",
        check: Check::Pipeline,
    }
}

/// Where a suppression applies.
#[derive(Clone, Debug)]
enum Scope {
    /// Findings that start on this (1-based) line.
    Line(usize),
    /// Findings inside this object's span.
    Object(Span),
}

#[derive(Clone, Debug)]
struct Directive {
    kind: &'static str,
    /// Rule ids with their spans in the file.
    ids: Vec<(String, Span)>,
    reason: Option<String>,
    /// The whole directive (comment, or the annotation's value).
    span: Span,
    scope: Scope,
    locator: String,
    object: ObjectId,
    value: String,
}

/// Split `ids` (as written from byte `base` of the file) on commas, with spans.
fn split_ids(ids: &str, base: usize) -> Vec<(String, Span)> {
    let mut out = Vec::new();
    let mut at = 0;
    for part in ids.split(',') {
        let lead = part.len() - part.trim_start().len();
        let id = part.trim();
        if !id.is_empty() {
            let s = base + at + lead;
            out.push((id.to_string(), Span::new(s, s + id.len())));
        }
        at += part.len() + 1;
    }
    out
}

/// The object a place belongs to (the innermost object whose span holds it).
fn object_at(objects: &[(ObjectId, Span)], at: usize) -> ObjectId {
    objects
        .iter()
        .filter(|(_, s)| s.start as usize <= at && at <= s.end as usize)
        .min_by_key(|(_, s)| s.len())
        .map(|(id, _)| id.clone())
        .unwrap_or_default()
}

fn comment_directives(
    text: &str,
    li: &LineIndex,
    loaded: &Loaded,
    objects: &[(ObjectId, Span)],
) -> Vec<Directive> {
    let mut out = Vec::new();
    for c in &loaded.comments {
        let body = c.text.trim_start();
        let Some(rest) = body.strip_prefix(COMMENT) else {
            continue;
        };
        // A further ` # ` ends the directive (room for a note after it).
        let rest = rest.split(" # ").next().unwrap_or(rest);
        if !rest.starts_with([' ', '\t']) {
            continue;
        }
        // Offset of `rest` in the file: the comment text follows its `#`.
        let Some(pos) = text.get(c.span.range()).and_then(|raw| raw.find(COMMENT)) else {
            continue;
        };
        let rest_at = c.span.start as usize + pos + COMMENT.len();
        let (ids, reason) = match rest.split_once(':') {
            Some((ids, reason)) => (ids, Some(reason.trim().to_string())),
            None => (rest, None),
        };
        let reason = reason.filter(|r| !r.is_empty());
        let (line, _) = li.line_col(text, c.span.start as usize);
        let line_text = text.get(li.line_range(text, line)).unwrap_or_default();
        let own_line = line_text.trim_start().starts_with('#');
        let target = if own_line {
            // The next line that is not blank or a comment.
            let mut l = line + 1;
            while l <= li.line_count() {
                let t = text.get(li.line_range(text, l)).unwrap_or_default().trim();
                if !t.is_empty() && !t.starts_with('#') {
                    break;
                }
                l += 1;
            }
            l
        } else {
            line
        };
        // The directive's own text, without a trailing note.
        let end = (rest_at + rest.trim_end().len()).min(c.span.end as usize);
        out.push(Directive {
            kind: "comment",
            ids: split_ids(ids, rest_at),
            reason,
            span: Span::new(c.span.start as usize, end),
            scope: Scope::Line(target),
            locator: format!("# {COMMENT}"),
            object: object_at(objects, c.span.start as usize),
            value: ids.trim().to_string(),
        });
    }
    out
}

fn annotation_directives(text: &str, loaded: &Loaded) -> Vec<Directive> {
    let mut out = Vec::new();
    for doc in &loaded.docs {
        let Ok(objs) = k8s::objects(doc) else {
            continue;
        };
        for obj in objs {
            let Some(ann) = doc.path(obj.node, &["metadata", "annotations"]) else {
                continue;
            };
            let Some(v) = doc.get(ann, ANNOTATION) else {
                continue;
            };
            let ids = doc.str(v).unwrap_or_default();
            let span = doc.span(v);
            // Spans of the ids when the value is written verbatim (plain or simply quoted).
            let base = text
                .get(span.range())
                .and_then(|raw| raw.find(ids))
                .map_or(span.start as usize, |off| span.start as usize + off);
            let mut list = split_ids(ids, base);
            if text.get(span.range()).is_none_or(|raw| !raw.contains(ids)) {
                for (_, s) in &mut list {
                    *s = span;
                }
            }
            let reason = doc
                .get(ann, ANNOTATION_REASON)
                .and_then(|r| doc.str(r))
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty());
            out.push(Directive {
                kind: "annotation",
                ids: list,
                reason,
                span,
                scope: Scope::Object(doc.span(obj.node)),
                locator: doc.locator(v),
                object: obj.id.clone(),
                value: ids.to_string(),
            });
        }
    }
    out
}

fn finding(
    rule: &'static Rule,
    path: &Arc<str>,
    d: &Directive,
    span: Span,
    message: String,
    label: &str,
    help: String,
) -> Finding {
    Finding {
        rule: rule.id,
        severity: rule.severity,
        message,
        path: path.clone(),
        span,
        label: label.to_string(),
        labels: Vec::new(),
        related: Vec::new(),
        help: Some(help),
        object: d.object.clone(),
        attack: rule.attack,
        locator: d.locator.clone(),
        value: d.value.clone(),
        suppressed: None,
        line: 0,
        column: 0,
        end_line: 0,
        end_column: 0,
    }
}

/// Apply the inline suppressions of one file to its findings, and add the findings about
/// the suppressions themselves. `enabled` are the rules that ran; `known` tells whether a
/// rule id exists at all (built-in or a loaded policy).
pub fn apply(
    path: &Arc<str>,
    text: &str,
    loaded: &Loaded,
    enabled: &[&'static Rule],
    known: &dyn Fn(&str) -> bool,
    findings: &mut Vec<Finding>,
) {
    if !text.contains(COMMENT) && !text.contains(ANNOTATION) {
        return;
    }
    let li = LineIndex::new(text);
    let mut objects = Vec::new();
    for doc in &loaded.docs {
        if let Ok(objs) = k8s::objects(doc) {
            objects.extend(objs.into_iter().map(|o| (o.id, doc.span(o.node))));
        }
    }
    let mut directives = annotation_directives(text, loaded);
    directives.extend(comment_directives(text, &li, loaded, &objects));
    let is_on = |r: &Rule| enabled.iter().any(|e| e.id == r.id);
    let mut extra = Vec::new();
    for d in &directives {
        let Some(reason) = &d.reason else {
            if is_on(&SUPPRESSION_WITHOUT_REASON) {
                let (message, help) = if d.kind == "annotation" {
                    (
                        format!("annotation {ANNOTATION} has no {ANNOTATION_REASON}"),
                        format!(
                            "add `{ANNOTATION_REASON}: \"<why this is acceptable>\"` to the object's annotations; until then the suppression is not applied"
                        ),
                    )
                } else {
                    (
                        format!("suppression of `{}` gives no reason", d.value),
                        format!(
                            "write why after a colon: `# {COMMENT} {}: <why this is acceptable>`; until then the suppression is not applied",
                            d.value
                        ),
                    )
                };
                extra.push(finding(
                    &SUPPRESSION_WITHOUT_REASON,
                    path,
                    d,
                    d.span,
                    message,
                    "no reason given",
                    help,
                ));
            }
            continue;
        };
        for (id, id_span) in &d.ids {
            let mut used = false;
            for f in findings.iter_mut() {
                if f.rule != id.as_str() {
                    continue;
                }
                let applies = match d.scope {
                    Scope::Line(l) => li.line_col(text, f.span.start as usize).0 == l,
                    Scope::Object(s) => s.start <= f.span.start && f.span.end <= s.end,
                };
                if applies {
                    used = true;
                    if f.suppressed.is_none() {
                        f.suppressed = Some(Suppression {
                            kind: d.kind,
                            justification: reason.clone(),
                        });
                    }
                }
            }
            if used || !is_on(&SUPPRESSION_UNUSED) {
                continue;
            }
            if !known(id) {
                let hint = crate::util::closest(
                    id,
                    crate::rules::registry().iter().chain(enabled).map(|r| r.id),
                )
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
                extra.push(finding(
                    &SUPPRESSION_UNUSED,
                    path,
                    d,
                    *id_span,
                    format!("suppression names unknown rule `{id}`{hint}"),
                    "not a rule id",
                    "fix the rule id (`cronguard rules` lists them) or remove it".into(),
                ));
            } else if enabled.iter().any(|r| r.id == id.as_str()) {
                extra.push(finding(
                    &SUPPRESSION_UNUSED,
                    path,
                    d,
                    *id_span,
                    format!("suppression of `{id}` matches no finding"),
                    "nothing to suppress here",
                    format!("remove `{id}` from the suppression"),
                ));
            }
        }
    }
    findings.extend(extra);
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::scan_all;

    #[test]
    fn crlf_unicode_and_odd_directives_do_not_panic() {
        for src in [
            "apiVersion: v1\r\nkind: Pod\r\nmetadata: {name: p}\r\nspec:\r\n  # cronguard-ignore host-pid: r\u{e9}sum\u{e9} \u{1F600}\r\n  hostPID: true\r\n  containers: [{name: a, image: x}]\r\n",
            "# cronguard-ignore\n# cronguard-ignore ,,: x\n# cronguard-ignore :\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {cronguard.io/ignore: [a], cronguard.io/ignore-reason: {x: 1}}\nspec: {containers: []}\n# cronguard-ignore host-pid: at the end of the file",
        ] {
            let out = scan_all(src);
            assert!(out.skipped.is_empty(), "{:?}", out.skipped);
        }
        let out = scan_all(
            "apiVersion: v1\r\nkind: Pod\r\nmetadata: {name: p}\r\nspec:\r\n  # cronguard-ignore host-pid: r\u{e9}sum\u{e9}\r\n  hostPID: true\r\n  containers: [{name: a, image: x}]\r\n",
        );
        let f = out.findings.iter().find(|f| f.rule == "host-pid").unwrap();
        assert_eq!(
            f.suppressed.as_ref().unwrap().justification,
            "r\u{e9}sum\u{e9}"
        );
    }

    #[test]
    fn a_directive_cannot_suppress_the_suppression_rules() {
        let out = scan_all(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  # cronguard-ignore suppression-without-reason\n  hostPID: true\n  containers: [{name: a, image: x}]\n",
        );
        let f = out
            .findings
            .iter()
            .find(|f| f.rule == "suppression-without-reason")
            .unwrap();
        assert!(f.suppressed.is_none());
    }
}

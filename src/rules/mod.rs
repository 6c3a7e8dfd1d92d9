//! The rule engine: rule metadata, the registry, and the context a check receives.
//!
//! A rule lives in one file with its docs (the `///` comment of `declare_rule!`, which feeds
//! `cronguard explain`, the SARIF help and docs/rules.md), its check, and its tests.

use crate::config::Settings;
use crate::finding::{Finding, Severity};
use crate::index::Index;
use crate::k8s::{ContainerRef, Object, PodView, Workload};
use crate::yaml::{Document, NodeId, Span};
use std::sync::Arc;

pub mod change;
pub mod command;
pub mod evasion;
pub mod identity;
pub mod image;
pub mod indicators;
pub mod job;
pub mod placement;
pub mod pod_hardening;
pub mod pod_security;
pub mod reference;
pub mod schedule;
pub mod schema;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    Schedule,
    PodSecurity,
    Image,
    Command,
    Placement,
    Identity,
    Evasion,
    Schema,
    Change,
    Node,
    Drift,
    Hygiene,
}

impl Category {
    pub const ALL: [Category; 12] = [
        Category::Schedule,
        Category::PodSecurity,
        Category::Image,
        Category::Command,
        Category::Placement,
        Category::Identity,
        Category::Evasion,
        Category::Schema,
        Category::Change,
        Category::Node,
        Category::Drift,
        Category::Hygiene,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Schedule => "schedule",
            Category::PodSecurity => "pod-security",
            Category::Image => "image",
            Category::Command => "command",
            Category::Placement => "placement",
            Category::Identity => "identity",
            Category::Evasion => "evasion",
            Category::Schema => "schema",
            Category::Change => "change",
            Category::Node => "node",
            Category::Drift => "drift",
            Category::Hygiene => "hygiene",
        }
    }
}

/// What a rule looks at.
#[derive(Clone, Copy)]
pub enum Check {
    /// One Kubernetes object (with its workload view, when it has one).
    Object(fn(&Ctx, &mut Vec<Finding>)),
    /// A declarative policy (policies/*.yaml or a user's policy directory).
    Policy(&'static crate::policy::Policy),
    /// Reported by the scan pipeline for a file as a whole (inline suppressions); it runs on
    /// fixtures like an object rule.
    Pipeline,
    /// Reported by another part of the pipeline (git history, node scan, drift, loader).
    External,
}

impl Check {
    /// Run a per-object check (code or policy) of `rule` on one object.
    pub fn run(&self, rule: &Rule, ctx: &Ctx, out: &mut Vec<Finding>) {
        match self {
            Check::Object(check) => check(ctx, out),
            Check::Policy(p) => p.check(rule, ctx, out),
            Check::Pipeline | Check::External => {}
        }
    }

    /// Whether scanning a manifest file produces this rule's findings (so it has fixtures
    /// under testdata/rules/<id>/ and a snapshot).
    pub fn scans_files(&self) -> bool {
        matches!(self, Check::Object(_) | Check::Policy(_) | Check::Pipeline)
    }
}

pub struct Rule {
    pub id: &'static str,
    pub category: Category,
    pub severity: Severity,
    pub default_enabled: bool,
    pub attack: &'static [&'static str],
    /// One line: what the rule flags.
    pub summary: &'static str,
    /// Markdown with the sections What it does / Why is this bad? / Example / Use instead /
    /// References.
    pub docs: &'static str,
    pub check: Check,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)
    }
}

/// Declare a rule. The `///` lines are its documentation (markdown).
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis static $name:ident = {
            id: $id:literal,
            category: $cat:ident,
            severity: $sev:ident,
            enabled: $en:literal,
            attack: [$($att:literal),* $(,)?],
            summary: $summary:literal,
            check: $check:expr $(,)?
        }
    ) => {
        $vis static $name: $crate::rules::Rule = $crate::rules::Rule {
            id: $id,
            category: $crate::rules::Category::$cat,
            severity: $crate::finding::Severity::$sev,
            default_enabled: $en,
            attack: &[$($att),*],
            summary: $summary,
            docs: concat!($($doc, "\n"),*),
            check: $check,
        };
    };
}

/// Every rule cronguard knows, in a stable order.
pub fn registry() -> &'static [&'static Rule] {
    static ALL: std::sync::OnceLock<Vec<&'static Rule>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut v: Vec<&'static Rule> = Vec::new();
        v.extend_from_slice(schedule::RULES);
        v.extend(crate::policy::builtin_rules());
        v.extend_from_slice(pod_security::RULES);
        v.extend_from_slice(pod_hardening::RULES);
        v.extend_from_slice(job::RULES);
        v.extend_from_slice(evasion::RULES);
        v.extend_from_slice(crate::node::RULES);
        v.extend_from_slice(image::RULES);
        v.extend_from_slice(identity::RULES);
        v.extend_from_slice(placement::RULES);
        v.extend_from_slice(command::RULES);
        v.extend_from_slice(schema::RULES);
        v.extend_from_slice(change::RULES);
        v.extend_from_slice(crate::drift::RULES);
        v.extend_from_slice(crate::suppress::RULES);
        v
    })
}

pub fn find(id: &str) -> Option<&'static Rule> {
    registry().iter().copied().find(|r| r.id == id)
}

/// What a check sees: one object, its document and source, the workload view, the index of
/// all objects in the scan, and the settings.
pub struct Ctx<'a> {
    pub path: &'a Arc<str>,
    pub src: &'a str,
    pub doc: &'a Document,
    pub obj: &'a Object,
    pub workload: Option<&'a Workload>,
    pub index: &'a Index,
    pub settings: &'a Settings,
    /// Work shared by several rules on this object, done once (see [`Memo`]).
    pub memo: Memo,
}

/// Findings of several rules, by rule id.
pub type ByRule = Vec<(&'static str, Vec<Finding>)>;

/// Results several rules of one object share, computed by the first rule that needs them:
/// the ten command rules read one analysis of the commands instead of ten, and the
/// policies one JSON view of each pod and container instead of one per policy.
#[derive(Default)]
pub struct Memo {
    /// Command-rule findings by rule id, taken by each rule when it runs.
    pub command: std::cell::RefCell<Option<ByRule>>,
    /// The JSON views the declarative policies evaluate.
    pub policy: crate::policy::Views,
}

impl Ctx<'_> {
    /// Start a finding of `rule` on `node` (the offending key or value).
    pub fn finding(&self, rule: &Rule, node: NodeId, message: impl Into<String>) -> Finding {
        let value = self.doc.str(node).unwrap_or_default().to_string();
        self.finding_at(
            rule,
            self.doc.span(node),
            self.doc.locator(node),
            value,
            message,
        )
    }

    /// Start a finding on the key of the entry whose value is `value` (e.g. `hostPID`).
    pub fn finding_on_key(
        &self,
        rule: &Rule,
        key: NodeId,
        value: NodeId,
        message: impl Into<String>,
    ) -> Finding {
        let v = self.doc.str(value).unwrap_or_default().to_string();
        let span = self.doc.span(key);
        let span = Span::new(
            span.start as usize,
            self.doc.span(value).end.max(span.end) as usize,
        );
        self.finding_at(rule, span, self.doc.locator(value), v, message)
    }

    pub fn finding_at(
        &self,
        rule: &Rule,
        span: Span,
        locator: String,
        value: String,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            rule: rule.id,
            severity: rule.severity,
            message: message.into(),
            path: self.path.clone(),
            span,
            label: String::new(),
            labels: Vec::new(),
            related: Vec::new(),
            help: None,
            object: self.obj.id.clone(),
            attack: rule.attack,
            locator,
            value,
            suppressed: None,
            line: 0,
            column: 0,
            end_line: 0,
            end_column: 0,
        }
    }

    /// The source span of byte range `r` of a scalar's string value, when the scalar is
    /// written so that its text appears verbatim (plain, or quoted without escapes, or a
    /// literal block scalar `|`, whose lines appear verbatim after their indentation).
    pub fn inner_span(&self, node: NodeId, r: std::ops::Range<usize>) -> Option<Span> {
        let text = self.doc.str(node)?;
        scalar_inner_span(self.src, self.doc.span(node), text, r)
    }

    pub fn pods(&self) -> &[PodView] {
        self.workload.map_or(&[], |w| &w.pods)
    }

    /// Every container of every pod, with its pod.
    pub fn containers(&self) -> impl Iterator<Item = (&PodView, &ContainerRef)> {
        self.pods()
            .iter()
            .flat_map(|p| p.containers.iter().map(move |c| (p, c)))
    }

    /// `name` of a container for messages.
    pub fn container_name(&self, c: &ContainerRef) -> String {
        match self.doc.get_str(c.node, "name") {
            Some(n) => format!("container {n:?}"),
            None => format!("a {} entry", c.list.key()),
        }
    }
}

/// The source span of byte range `r` of a scalar's value `text`, the scalar being written at
/// `span` of `src`. Plain and quoted scalars need their text verbatim in the source (no
/// escapes, one line); a literal block scalar (`|`) maps line by line past its indentation.
/// Folded scalars and escaped strings give `None` (callers fall back to the whole scalar).
pub fn scalar_inner_span(
    src: &str,
    span: Span,
    text: &str,
    r: std::ops::Range<usize>,
) -> Option<Span> {
    let raw = src.get(span.range())?;
    if text.is_empty() || r.end > text.len() || r.start > r.end {
        return None;
    }
    // A literal block scalar: its span starts at the `|` header, or (as the parser reports
    // it) at its first content line, whose previous line ends with the header.
    let body_start = if raw.starts_with('|') {
        Some(span.start as usize + raw.find('\n')? + 1)
    } else {
        let line_start = src[..span.start as usize].rfind('\n').map_or(0, |i| i + 1);
        let prev = &src[..line_start.saturating_sub(1)];
        let prev = &prev[prev.rfind('\n').map_or(0, |i| i + 1)..];
        let header = prev.split(" #").next().unwrap_or("").trim_end();
        let header = header.trim_end_matches(|c: char| c == '-' || c == '+' || c.is_ascii_digit());
        (header.ends_with('|') && text.contains('\n')).then_some(line_start)
    };
    if let Some(body_start) = body_start {
        let body = src.get(body_start..span.end as usize)?;
        let indent = body
            .lines()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start_matches(' ').len())?;
        let map = |off: usize| -> Option<usize> {
            let before = text.get(..off)?;
            let line_no = before.matches('\n').count();
            let col = off - before.rfind('\n').map_or(0, |i| i + 1);
            let mut start = 0usize;
            for _ in 0..line_no {
                start += body.get(start..)?.find('\n')? + 1;
            }
            let line = body.get(start..)?;
            let line_len = line.find('\n').unwrap_or(line.len());
            let pos = (indent + col).min(line_len);
            Some(body_start + start + pos)
        };
        let a = map(r.start)?;
        let b = map(r.end)?.max(a);
        return Some(Span::new(a, b));
    }
    if raw.starts_with('>') {
        return None;
    }
    let off = raw.find(text)?;
    Some(span.slice(off + r.start..off + r.end))
}

/// A securityContext setting as it applies to one container, and where it was set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Effective {
    /// The key node.
    pub key: NodeId,
    /// The value node.
    pub value: NodeId,
    /// Set on the container (true) or inherited from the pod (false).
    pub from_container: bool,
}

/// Fields of a container's securityContext that the pod-level securityContext provides
/// when the container does not set them (the kubelet's merge).
pub const POD_INHERITED: &[&str] = &[
    "runAsUser",
    "runAsGroup",
    "runAsNonRoot",
    "seLinuxOptions",
    "seccompProfile",
    "appArmorProfile",
    "windowsOptions",
];

/// The effective value of securityContext `field` for container `c`.
pub fn effective(
    doc: &Document,
    pod: &PodView,
    c: &ContainerRef,
    field: &str,
) -> Option<Effective> {
    if let Some(sc) = doc.get(c.node, "securityContext")
        && let Some((key, value)) = doc.entry(sc, field)
    {
        return Some(Effective {
            key,
            value,
            from_container: true,
        });
    }
    if POD_INHERITED.contains(&field)
        && let Some(sc) = pod.field(doc, "securityContext")
        && let Some((key, value)) = doc.entry(sc, field)
    {
        return Some(Effective {
            key,
            value,
            from_container: false,
        });
    }
    None
}

/// Resolve `.`/`..`/duplicate slashes of an absolute path the way the kubelet's mount would.
pub fn normalize_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let mut out = String::from("/");
    out.push_str(&parts.join("/"));
    out
}

#[cfg(test)]
pub mod testing;

/// The full markdown documentation of a rule (for `explain`, SARIF help and docs/rules.md).
pub fn docs_markdown(r: &Rule) -> String {
    let attack = if r.attack.is_empty() {
        "none".to_string()
    } else {
        r.attack
            .iter()
            .map(|a| match crate::report::attack_name(a) {
                Some(n) => format!("{a} ({n})"),
                None => (*a).to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "# {}\n\n{}\n\n- Category: {}\n- Default severity: {}\n- Enabled by default: {}\n- MITRE ATT&CK: {}\n\n{}",
        r.id,
        r.summary,
        r.category.as_str(),
        r.severity,
        if r.default_enabled { "yes" } else { "no" },
        attack,
        r.docs
            .lines()
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_path_resolves_tricks() {
        assert_eq!(normalize_path("//etc/"), "/etc");
        assert_eq!(normalize_path("/etc/../etc"), "/etc");
        assert_eq!(
            normalize_path("/var/run/../run/docker.sock"),
            "/var/run/docker.sock"
        );
        assert_eq!(normalize_path("/"), "/");
        assert_eq!(normalize_path("/.."), "/");
    }

    #[test]
    fn inner_spans_of_plain_quoted_and_literal_block_scalars() {
        let src = "a: curl x\nb: \"c''d\"\nc: |\n  one\n    two three\n  four\n";
        let find = |s: &str| src.find(s).unwrap();
        let plain = Span::new(find("curl"), find("curl") + 6);
        assert_eq!(
            scalar_inner_span(src, plain, "curl x", 5..6),
            Some(Span::new(find("x\n"), find("x\n") + 1))
        );
        let block = Span::new(find("|"), src.len());
        let text = "one\n  two three\nfour\n";
        let s = scalar_inner_span(src, block, text, 10..15).unwrap();
        assert_eq!(&src[s.range()], "three");
        let s = scalar_inner_span(src, block, text, 16..20).unwrap();
        assert_eq!(&src[s.range()], "four");
        // The parser's span may start at the first content line.
        let content = Span::new(find("one"), src.len());
        let s = scalar_inner_span(src, content, text, 16..20).unwrap();
        assert_eq!(&src[s.range()], "four");
        let folded = "k: >\n  a b\n";
        assert_eq!(
            scalar_inner_span(folded, Span::new(3, folded.len()), "a b\n", 0..1),
            None
        );
    }

    #[test]
    fn rule_ids_are_unique_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for r in registry() {
            assert!(seen.insert(r.id), "duplicate id {}", r.id);
            assert!(
                r.id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{} is not kebab-case",
                r.id
            );
        }
    }
}

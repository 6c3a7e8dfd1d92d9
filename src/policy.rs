//! Declarative policies: rules written as YAML files (policies/*.yaml, or a user's
//! `--policy-dir`) with the same metadata as code rules and a `match` in JSON Schema.
//!
//! A policy names a **target** (`object`, `podSpec` or `container`), which is turned into
//! JSON the way Kubernetes reads it, and a `match` schema that a compliant target satisfies.
//! Every validation error is a finding, located by the error's instance path: the JSON
//! pointer is mapped back to the YAML node it came from, so the finding points at the exact
//! key or value. The views:
//!
//! - `object`: the whole object.
//! - `podSpec`: each pod-level spec of a workload (an Argo template's overrides applied;
//!   sysctl names with `/` separators read as `.`, as the kubelet reads them).
//! - `container`: each container, init and ephemeral container, with `securityContext` the
//!   **effective** one (the pod-level runAsUser, runAsGroup, runAsNonRoot, seLinuxOptions,
//!   seccompProfile, appArmorProfile and windowsOptions filled in where the container does
//!   not set them) and the pod-level spec under `_pod`.
//!
//! Policies compile to ordinary [`Rule`]s (leaked, `'static`, like the code rules) whose
//! check is [`Check::Policy`], so the registry, rule selection, severity overrides,
//! suppressions and reports treat them like any other rule. Schemas are compiled once.

use crate::finding::{Finding, Severity};
use crate::k8s::{ContainerRef, PodView};
use crate::rules::{Category, Check, Ctx, Rule};
use crate::spanned::{FileError, Reader};
use crate::yaml::{Document, NodeId, Span};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

/// What a policy's `match` is evaluated against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Object,
    PodSpec,
    Container,
}

/// Which span a finding on a wrong value covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    /// From the key through the value (`hostPID: true`).
    Entry,
    /// The value only.
    Value,
}

/// One example manifest of a policy file.
#[derive(Clone, Debug)]
pub struct Example {
    pub text: String,
    /// Where it is written in the policy file.
    pub span: Span,
}

/// A compiled declarative policy (the part of a rule that code rules keep in a function).
pub struct Policy {
    pub target: Target,
    pub report: Report,
    pub message: String,
    pub label: String,
    /// The label of findings about something missing (a required property, a mapping that
    /// fails as a whole), when it differs.
    pub label_missing: Option<String>,
    /// Template of the finding's fingerprint value (default: the offending scalar's text).
    pub value: Option<String>,
    pub help: String,
    pub schema: Value,
    validator: jsonschema::Validator,
    /// Whether the schema mentions `_pod` (else container views skip building it).
    needs_pod: bool,
    /// The only top-level fields of the target the `match` can see, when that is known
    /// (see [`projection`]): the view then holds just those, and is built per policy
    /// instead of converting the whole pod spec or container.
    fields: Option<Vec<String>>,
    pub flagged: Vec<Example>,
    pub clean: Vec<Example>,
    /// The file it was read from (`policies/host-pid.yaml` for built-ins).
    pub path: String,
    pub text: Arc<str>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("path", &self.path)
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// Keys a policy file may have.
pub const KEYS: &[&str] = &[
    "id",
    "category",
    "severity",
    "enabled",
    "attack",
    "summary",
    "docs",
    "target",
    "match",
    "report",
    "message",
    "label",
    "label-missing",
    "value",
    "help",
    "examples",
];

/// The built-in policies, embedded in the binary (file name = rule id).
macro_rules! builtin {
    ($($id:literal),* $(,)?) => {
        &[$(($id, include_str!(concat!("../policies/", $id, ".yaml")))),*]
    };
}

/// (id, text) of every file in policies/ (a test checks this list against the directory).
pub static BUILTIN: &[(&str, &str)] = builtin![
    "capabilities-not-dropped",
    "host-ipc",
    "host-network",
    "host-pid",
    "privileged-container",
    "root-filesystem-writable",
    "unsafe-sysctls",
];

/// The built-in policies as rules.
pub fn builtin_rules() -> Vec<&'static Rule> {
    BUILTIN
        .iter()
        .map(|(id, text)| {
            // The files are part of the source tree and tested; failing here is a build bug.
            parse(&format!("policies/{id}.yaml"), text)
                .unwrap_or_else(|e| panic!("built-in policy {id}: {e}"))
        })
        .collect()
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Parse and compile one policy file into a rule.
pub fn parse(path: &str, text: &str) -> Result<&'static Rule, FileError> {
    let r = Reader::load(path, text)?;
    let Some(root) = r.doc.root else {
        return Err(r.error_at(Span::default(), "empty policy file", "expected a mapping"));
    };
    let entries = r.map(root, "the policy", KEYS)?;
    let get = |k: &str| entries.iter().find(|(n, _, _)| n == k).map(|(_, _, v)| *v);
    let need = |k: &str| {
        get(k).ok_or_else(|| {
            r.error(
                root,
                format!("the policy has no `{k}`"),
                format!("`{k}` is required"),
            )
        })
    };
    let id_node = need("id")?;
    let id = r.string(id_node, "id")?;
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(r.error(
            id_node,
            format!("policy id `{id}` is not kebab-case"),
            "use lowercase letters, digits and `-`",
        ));
    }
    let cat_node = need("category")?;
    let cat = r.string(cat_node, "category")?;
    let category = Category::ALL
        .into_iter()
        .find(|c| c.as_str() == cat)
        .ok_or_else(|| {
            let mut e = r.error(
                cat_node,
                format!("unknown category `{cat}`"),
                "not a category",
            );
            e.help = Some(
                Category::ALL
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            e
        })?;
    let severity: Severity = r.severity(need("severity")?, "severity")?;
    let enabled = match get("enabled") {
        Some(n) => r.bool(n, "enabled")?,
        None => true,
    };
    let attack: Vec<&'static str> = match get("attack") {
        Some(n) => r
            .strings(n, "attack")?
            .into_iter()
            .map(|(s, _)| leak(s))
            .collect(),
        None => Vec::new(),
    };
    let summary = r.string(need("summary")?, "summary")?;
    let docs = r.string(need("docs")?, "docs")?;
    let target_node = need("target")?;
    let target = match r.string(target_node, "target")?.as_str() {
        "object" => Target::Object,
        "podSpec" => Target::PodSpec,
        "container" => Target::Container,
        other => {
            let mut e = r.error(
                target_node,
                format!("unknown target `{other}`"),
                "not a target",
            );
            e.help = Some("expected object, podSpec or container".into());
            return Err(e);
        }
    };
    let report = match get("report") {
        None => Report::Entry,
        Some(n) => match r.string(n, "report")?.as_str() {
            "entry" => Report::Entry,
            "value" => Report::Value,
            other => {
                let mut e = r.error(n, format!("unknown report `{other}`"), "not a report");
                e.help = Some("expected entry (key through value) or value".into());
                return Err(e);
            }
        },
    };
    let message = r.string(need("message")?, "message")?;
    let label = r.string(need("label")?, "label")?;
    let label_missing = get("label-missing")
        .map(|n| r.string(n, "label-missing"))
        .transpose()?;
    let value = get("value").map(|n| r.string(n, "value")).transpose()?;
    let help = r.string(need("help")?, "help")?;
    let match_node = need("match")?;
    let schema = r.doc.to_json(match_node);
    let validator = jsonschema::options().build(&schema).map_err(|e| {
        r.error(
            match_node,
            format!("`match` is not a valid JSON Schema: {e}"),
            "this schema",
        )
    })?;
    let mut flagged = Vec::new();
    let mut clean = Vec::new();
    if let Some(ex) = get("examples") {
        for (name, _, v) in r.map(ex, "examples", &["flagged", "clean"])? {
            let list = if name == "flagged" {
                &mut flagged
            } else {
                &mut clean
            };
            for (text, n) in r.strings(v, &format!("examples.{name}"))? {
                list.push(Example {
                    text,
                    span: r.doc.span(n),
                });
            }
        }
    }
    // Rust doc comments keep one leading space per line; store docs the same way so
    // `docs_markdown` renders both kinds alike.
    let docs: String = docs
        .lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!(" {l}\n")
            }
        })
        .collect();
    let fields = projection(
        &schema,
        [
            message.as_str(),
            label.as_str(),
            label_missing.as_deref().unwrap_or_default(),
            value.as_deref().unwrap_or_default(),
            help.as_str(),
        ],
    );
    let policy: &'static Policy = Box::leak(Box::new(Policy {
        target,
        report,
        message,
        label,
        label_missing,
        value,
        help,
        needs_pod: schema.to_string().contains("\"_pod\""),
        fields,
        schema,
        validator,
        flagged,
        clean,
        path: path.to_string(),
        text: r.text.clone(),
    }));
    Ok(Box::leak(Box::new(Rule {
        id: leak(id),
        category,
        severity,
        default_enabled: enabled,
        attack: Box::leak(attack.into_boxed_slice()),
        summary: leak(summary),
        docs: leak(docs),
        check: Check::Policy(policy),
    })))
}

/// Load every `*.yaml`/`*.yml` policy of a directory, in file-name order.
pub fn load_dir(dir: &Path) -> Result<Vec<&'static Rule>, PolicyError> {
    let rd = std::fs::read_dir(dir).map_err(|e| {
        PolicyError::Io(format!(
            "cannot read policy directory {}: {e}",
            dir.display()
        ))
    })?;
    let mut files: Vec<_> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for p in files {
        let text = std::fs::read_to_string(&p)
            .map_err(|e| PolicyError::Io(format!("cannot read policy {}: {e}", p.display())))?;
        out.push(parse(&p.to_string_lossy(), &text).map_err(PolicyError::File)?);
    }
    Ok(out)
}

/// Why policies could not be loaded.
#[derive(Debug)]
pub enum PolicyError {
    Io(String),
    File(FileError),
}

/// `/` → `~1`, `~` → `~0` (RFC 6901).
fn escape(seg: &str) -> String {
    seg.replace('~', "~0").replace('/', "~1")
}

fn unescape(seg: &str) -> String {
    seg.replace("~1", "/").replace("~0", "~")
}

/// Where the parts of a target's JSON came from: JSON pointer prefix → YAML node.
type Grafts = Vec<(String, NodeId)>;

/// A target as JSON, with where its parts came from.
type View = (Value, Grafts);
/// Per pod, per container: one view each, shared between the policies that project the
/// same fields.
type PodContainerViews = std::rc::Rc<Vec<Vec<View>>>;

fn key_text(doc: &Document, k: NodeId) -> Option<&str> {
    doc.node(k).kind.scalar_text()
}

/// The JSON views of one object, built once and shared by every policy that evaluates it
/// (four podSpec and three container policies are built in; each used to convert the same
/// pod spec again).
#[derive(Default)]
pub struct Views {
    /// One per pod of the workload.
    pods: std::cell::OnceCell<Vec<View>>,
    /// Per pod, per container: without `_pod` (index 0) and with it (index 1).
    containers: [std::cell::OnceCell<Vec<Vec<View>>>; 2],
    /// Per set of fields: per pod, per container, the view with just those fields (the
    /// three built-in container policies all read `securityContext`).
    projected: std::cell::RefCell<Vec<(Vec<String>, PodContainerViews)>>,
}

impl Views {
    fn projected_containers(&self, ctx: &Ctx, fields: &[String]) -> PodContainerViews {
        if let Some((_, v)) = self.projected.borrow().iter().find(|(f, _)| f == fields) {
            return v.clone();
        }
        let none = (Value::Null, Vec::new());
        let views: Vec<Vec<View>> = ctx
            .pods()
            .iter()
            .enumerate()
            .map(|(i, pod)| {
                let (pv, pg) = if fields.iter().any(|f| f == "_pod") {
                    &self.pods(ctx)[i]
                } else {
                    &none
                };
                pod.containers
                    .iter()
                    .map(|c| container_view(ctx.doc, pod, pv, pg, *c, Some(fields)))
                    .collect()
            })
            .collect();
        let views = std::rc::Rc::new(views);
        self.projected
            .borrow_mut()
            .push((fields.to_vec(), views.clone()));
        views
    }

    fn pods(&self, ctx: &Ctx) -> &[(Value, Grafts)] {
        self.pods
            .get_or_init(|| ctx.pods().iter().map(|p| pod_view(ctx.doc, p)).collect())
    }

    fn containers(&self, ctx: &Ctx, with_pod: bool) -> &[Vec<(Value, Grafts)>] {
        self.containers[usize::from(with_pod)].get_or_init(|| {
            let none = (Value::Null, Vec::new());
            ctx.pods()
                .iter()
                .enumerate()
                .map(|(i, pod)| {
                    let (pv, pg) = if with_pod { &self.pods(ctx)[i] } else { &none };
                    pod.containers
                        .iter()
                        .map(|c| container_view(ctx.doc, pod, pv, pg, *c, None))
                        .collect()
                })
                .collect()
        })
    }
}

/// The pod-level spec as JSON, with an Argo template's overrides applied.
fn pod_view(doc: &Document, pod: &PodView) -> (Value, Grafts) {
    let mut v = doc.to_json(pod.spec);
    let mut g = vec![(String::new(), pod.spec)];
    if let (Some(o), Value::Object(obj)) = (pod.overlay, &mut v) {
        for &(k, val) in doc.map(o) {
            if let Some(name) = key_text(doc, k) {
                obj.insert(name.to_string(), doc.to_json(val));
                g.push((format!("/{}", escape(name)), val));
            }
        }
    }
    fix_sysctl_names(&mut v);
    (v, g)
}

/// Sysctl names with `/` separators read as `.`, as the kubelet reads them.
fn fix_sysctl_names(v: &mut Value) {
    if let Some(list) = v
        .pointer_mut("/securityContext/sysctls")
        .and_then(Value::as_array_mut)
    {
        for s in list {
            if let Some(Value::String(n)) = s.get_mut("name") {
                *n = n.replace('/', ".");
            }
        }
    }
}

/// A container as JSON with its effective securityContext and the pod under `_pod`.
fn container_view(
    doc: &Document,
    pod: &PodView,
    pod_json: &Value,
    pod_grafts: &Grafts,
    c: ContainerRef,
    fields: Option<&[String]>,
) -> (Value, Grafts) {
    let keep = |n: &str| fields.is_none_or(|f| f.iter().any(|x| x == n));
    let mut v = match fields {
        Some(_) if doc.is_map(c.node) => Value::Object(
            doc.map(c.node)
                .iter()
                .filter_map(|&(k, val)| {
                    let name = key_text(doc, k).filter(|n| keep(n))?;
                    Some((name.to_string(), doc.to_json(val)))
                })
                .collect(),
        ),
        _ => doc.to_json(c.node),
    };
    let mut g = vec![(String::new(), c.node)];
    let Value::Object(obj) = &mut v else {
        return (v, g);
    };
    if !keep("securityContext") {
        if !pod_json.is_null() && keep("_pod") {
            obj.insert("_pod".into(), pod_json.clone());
            for (p, n) in pod_grafts {
                g.push((format!("/_pod{p}"), *n));
            }
        }
        return (v, g);
    }
    let own = doc.get(c.node, "securityContext");
    let mut sc = match own.map(|n| doc.to_json(n)) {
        Some(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    let mut inherited = false;
    if let Some(psc) = pod.field(doc, "securityContext") {
        for f in crate::rules::POD_INHERITED {
            if !sc.contains_key(*f)
                && let Some(val) = doc.get(psc, f)
            {
                sc.insert((*f).to_string(), doc.to_json(val));
                g.push((format!("/securityContext/{f}"), val));
                inherited = true;
            }
        }
    }
    if own.is_some() || inherited {
        obj.insert("securityContext".into(), Value::Object(sc));
    }
    if !pod_json.is_null() && keep("_pod") {
        obj.insert("_pod".into(), pod_json.clone());
    }
    for (p, n) in pod_grafts {
        g.push((format!("/_pod{p}"), *n));
    }
    (v, g)
}

/// The YAML node a JSON pointer of a target designates; `false` when the pointer goes
/// where no node is (a part the view made up), and the node is then its nearest ancestor.
fn resolve(doc: &Document, grafts: &Grafts, ptr: &str) -> (NodeId, bool) {
    let (base, node) = grafts
        .iter()
        .filter(|(g, _)| {
            ptr == g || (ptr.starts_with(g.as_str()) && ptr[g.len()..].starts_with('/'))
        })
        .max_by_key(|(g, _)| g.len())
        .map_or(("", grafts[0].1), |(g, n)| (g.as_str(), *n));
    let mut cur = node;
    for seg in ptr[base.len()..].split('/').filter(|s| !s.is_empty()) {
        let next = if doc.is_map(cur) {
            doc.get(cur, &unescape(seg))
        } else {
            seg.parse::<usize>()
                .ok()
                .and_then(|i| doc.seq(cur).get(i).copied())
        };
        match next {
            Some(n) => cur = n,
            None => return (cur, false),
        }
    }
    (cur, true)
}

fn render_value(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// The top-level fields of a target that `schema` can look at, when it only constrains
/// named properties (root keywords `properties`, `required`, `type` and annotations): the
/// result of validating a view with just those fields is the same as validating the whole
/// target. `None` when any other root keyword (`additionalProperties`, `not`, `$ref`,
/// combinators...) could see the rest, or when a root `required` error would render the
/// whole target into a `{value}` template.
fn projection<'a>(
    schema: &Value,
    templates: impl IntoIterator<Item = &'a str>,
) -> Option<Vec<String>> {
    const ROOT: &[&str] = &[
        "properties",
        "required",
        "type",
        "title",
        "description",
        "$comment",
    ];
    let root = schema.as_object()?;
    if root.keys().any(|k| !ROOT.contains(&k.as_str())) {
        return None;
    }
    if root.get("type").is_some_and(|t| t != "object") {
        return None;
    }
    let mut fields: Vec<String> = match root.get("properties") {
        Some(p) => p.as_object()?.keys().cloned().collect(),
        None => Vec::new(),
    };
    if let Some(r) = root.get("required") {
        if templates.into_iter().any(|t| t.contains("{value}")) {
            return None;
        }
        for f in r.as_array()? {
            fields.push(f.as_str()?.to_string());
        }
    }
    fields.sort();
    fields.dedup();
    Some(fields)
}

/// `pod_view` restricted to `fields` (the same JSON for those keys, nothing else).
fn pod_view_of(doc: &Document, pod: &PodView, fields: &[String]) -> (Value, Grafts) {
    if !doc.is_map(pod.spec) {
        return pod_view(doc, pod);
    }
    let wanted = |k: NodeId| key_text(doc, k).filter(|n| fields.iter().any(|f| f == n));
    let mut obj = serde_json::Map::new();
    let mut g = vec![(String::new(), pod.spec)];
    for &(k, val) in doc.map(pod.spec) {
        if let Some(name) = wanted(k) {
            obj.insert(name.to_string(), doc.to_json(val));
        }
    }
    if let Some(o) = pod.overlay {
        for &(k, val) in doc.map(o) {
            if let Some(name) = wanted(k) {
                obj.insert(name.to_string(), doc.to_json(val));
                g.push((format!("/{}", escape(name)), val));
            }
        }
    }
    let mut v = Value::Object(obj);
    fix_sysctl_names(&mut v);
    (v, g)
}

impl Policy {
    /// Evaluate the policy on one object.
    pub fn check(&self, rule: &Rule, ctx: &Ctx, out: &mut Vec<Finding>) {
        self.check_views(rule, ctx, self.fields.as_deref(), out);
    }

    /// Evaluate on views restricted to `fields`, or on the whole views (`None`).
    fn check_views(
        &self,
        rule: &Rule,
        ctx: &Ctx,
        fields: Option<&[String]>,
        out: &mut Vec<Finding>,
    ) {
        match self.target {
            Target::Object => {
                let v = ctx.doc.to_json(ctx.obj.node);
                self.eval(
                    rule,
                    ctx,
                    &v,
                    &vec![(String::new(), ctx.obj.node)],
                    None,
                    out,
                );
            }
            Target::PodSpec if let Some(fields) = fields => {
                for pod in ctx.pods() {
                    let (v, g) = pod_view_of(ctx.doc, pod, fields);
                    self.eval(rule, ctx, &v, &g, None, out);
                }
            }
            Target::PodSpec => {
                for (v, g) in ctx.memo.policy.pods(ctx) {
                    self.eval(rule, ctx, v, g, None, out);
                }
            }
            Target::Container if let Some(fields) = fields => {
                let views = ctx.memo.policy.projected_containers(ctx, fields);
                for (pod, views) in ctx.pods().iter().zip(views.iter()) {
                    for (c, (v, g)) in pod.containers.iter().zip(views) {
                        self.eval(rule, ctx, v, g, Some(c), out);
                    }
                }
            }
            Target::Container => {
                let views = ctx.memo.policy.containers(ctx, self.needs_pod);
                for (pod, views) in ctx.pods().iter().zip(views) {
                    for (c, (v, g)) in pod.containers.iter().zip(views) {
                        self.eval(rule, ctx, v, g, Some(c), out);
                    }
                }
            }
        }
    }

    fn eval(
        &self,
        rule: &Rule,
        ctx: &Ctx,
        target: &Value,
        grafts: &Grafts,
        container: Option<&ContainerRef>,
        out: &mut Vec<Finding>,
    ) {
        let doc = ctx.doc;
        for err in self.validator.iter_errors(target) {
            let ptr = err.instance_path().as_str();
            let missing = matches!(
                err.kind(),
                jsonschema::error::ValidationErrorKind::Required { .. }
            );
            let (node, exact) = resolve(doc, grafts, ptr);
            let fill = |t: &str| {
                let mut s = t.replace("{value}", &render_value(target.pointer(ptr)));
                s = s.replace(
                    "{key}",
                    &unescape(ptr.rsplit('/').next().unwrap_or_default()),
                );
                s = s.replace("{pointer}", ptr);
                if let Some(c) = container {
                    s = s.replace("{container}", &ctx.container_name(c));
                }
                s
            };
            let message = fill(&self.message);
            // A mapping that fails as a whole (a combinator over its properties) is, like a
            // missing property, reported at its key.
            let whole = missing || !exact || target.pointer(ptr).is_some_and(Value::is_object);
            let mut f = if whole {
                // Something is missing: point at the key of the mapping that lacks it; for
                // the target itself (a container, a list item), at its `name`.
                let key = if node == grafts[0].1 {
                    None
                } else {
                    doc.key_of(node)
                };
                let at = key.or_else(|| doc.get(node, "name")).unwrap_or(node);
                let mut f = ctx.finding(rule, at, message);
                // The fingerprint must not depend on how much of the compliant shape is
                // there (no securityContext vs one without the field): anchor it on the
                // target, or adding an unrelated field makes the finding look new.
                f.locator = format!("{}.<missing>", doc.locator(grafts[0].1));
                f.value.clear();
                f
            } else {
                match (self.report, doc.key_of(node)) {
                    (Report::Entry, Some(k)) => ctx.finding_on_key(rule, k, node, message),
                    _ => ctx.finding(rule, node, message),
                }
            };
            f.label = fill(match (&self.label_missing, whole) {
                (Some(l), true) => l,
                _ => &self.label,
            });
            if let Some(v) = &self.value {
                f.value = fill(v);
            }
            out.push(f.with_help(fill(&self.help)));
        }
    }
}

/// Lines of `text` marked `# expect: <id>`.
fn expected_lines(text: &str, id: &str) -> Vec<usize> {
    let marker = format!("# expect: {id}");
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            l.match_indices(&marker).any(|(at, _)| {
                !l[at + marker.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '-')
            })
        })
        .map(|(i, _)| i + 1)
        .collect()
}

/// The outcome of one example of `policy test`.
#[derive(Debug)]
pub struct ExampleResult {
    pub flagged: bool,
    pub index: usize,
    /// Line of the example in the policy file.
    pub line: usize,
    /// None when it passed.
    pub failure: Option<String>,
}

/// The outcome of `policy test` for one policy file.
#[derive(Debug)]
pub struct PolicyResult {
    pub path: String,
    pub id: &'static str,
    pub examples: Vec<ExampleResult>,
    /// Metadata problems (docs sections, message style, missing examples).
    pub problems: Vec<String>,
}

impl PolicyResult {
    pub fn passed(&self) -> bool {
        self.problems.is_empty() && self.examples.iter().all(|e| e.failure.is_none())
    }
}

/// Metadata problems of a policy rule (what the rule contract test checks for code rules).
pub fn lint(rule: &Rule, p: &Policy) -> Vec<String> {
    let mut out = Vec::new();
    for s in [
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "## Use instead",
        "## References",
    ] {
        if !rule.docs.contains(s) {
            out.push(format!("docs lack the section `{s}`"));
        }
    }
    if let Some(a) = rule.attack.first()
        && !rule.docs.contains(a)
    {
        out.push(format!("docs do not name the ATT&CK technique {a}"));
    }
    for (what, t) in [("summary", rule.summary), ("message", p.message.as_str())] {
        if !t.starts_with(|c: char| c.is_lowercase() || c == '{') || t.ends_with('.') {
            out.push(format!(
                "{what} must start lowercase and not end with a period"
            ));
        }
    }
    if p.flagged.is_empty() {
        out.push("no flagged example".into());
    }
    if p.clean.is_empty() {
        out.push("no clean example".into());
    }
    out
}

/// Run one policy's examples: each flagged example must produce a finding of it (on exactly
/// the lines marked `# expect: <id>`, when it marks any), each clean example none.
pub fn test_rule(rule: &'static Rule) -> Option<PolicyResult> {
    let Check::Policy(p) = rule.check else {
        return None;
    };
    let li = crate::yaml::LineIndex::new(&p.text);
    let mut selection = crate::config::RuleSelection::default();
    selection.enabled.insert(rule.id, true);
    let opts = crate::scan::Options {
        selection,
        extra_rules: vec![rule],
        ..crate::scan::Options::default()
    };
    let index = crate::index::Index::default();
    let mut examples = Vec::new();
    for (flagged, list) in [(true, &p.flagged), (false, &p.clean)] {
        for (i, ex) in list.iter().enumerate() {
            let name: Arc<str> = Arc::from(format!(
                "{}#{}[{}]",
                p.path,
                if flagged { "flagged" } else { "clean" },
                i + 1
            ));
            let mut o = crate::scan::Outcome::default();
            crate::scan::scan_text(&name, &Arc::from(ex.text.as_str()), &index, &opts, &mut o);
            let got: Vec<&Finding> = o.findings.iter().filter(|f| f.rule == rule.id).collect();
            let mut lines: Vec<usize> = got.iter().map(|f| f.line).collect();
            lines.sort_unstable();
            let want = expected_lines(&ex.text, rule.id);
            let listing = || {
                got.iter()
                    .map(|f| format!("line {}: {}", f.line, f.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let failure = if !o.skipped.is_empty() {
                Some(format!(
                    "the example is not scanned: {}",
                    o.skipped
                        .iter()
                        .map(|s| s.reason.clone())
                        .collect::<Vec<_>>()
                        .join("; ")
                ))
            } else if flagged && got.is_empty() {
                Some("expected a finding, got none".to_string())
            } else if flagged && !want.is_empty() && lines != want {
                Some(format!(
                    "expected findings on lines {want:?}, got lines {lines:?} ({})",
                    listing()
                ))
            } else if !flagged && !got.is_empty() {
                Some(format!(
                    "expected no finding, got {} ({})",
                    got.len(),
                    listing()
                ))
            } else {
                None
            };
            examples.push(ExampleResult {
                flagged,
                index: i + 1,
                line: li.line_col(&p.text, ex.span.start as usize).0,
                failure,
            });
        }
    }
    Some(PolicyResult {
        path: p.path.clone(),
        id: rule.id,
        examples,
        problems: lint(rule, p),
    })
}

/// `cronguard policy test DIR`: write the report, return whether everything passed.
pub fn write_test_report(
    out: &mut dyn std::io::Write,
    results: &[PolicyResult],
) -> std::io::Result<bool> {
    let mut failed = 0usize;
    let mut total = 0usize;
    for r in results {
        writeln!(
            out,
            "{} {} ({})",
            if r.passed() { "ok  " } else { "FAIL" },
            r.id,
            r.path
        )?;
        for p in &r.problems {
            writeln!(out, "  FAIL  {p}")?;
        }
        for e in &r.examples {
            total += 1;
            let what = format!(
                "{} example {} (line {})",
                if e.flagged { "flagged" } else { "clean" },
                e.index,
                e.line
            );
            match &e.failure {
                None => writeln!(out, "  ok    {what}")?,
                Some(why) => {
                    failed += 1;
                    writeln!(out, "  FAIL  {what}: {why}")?;
                }
            }
        }
    }
    let bad = results.iter().filter(|r| !r.passed()).count();
    writeln!(
        out,
        "{} policies, {total} examples: {} passed, {failed} failed{}",
        results.len(),
        total - failed,
        if bad > 0 {
            format!(" ({bad} policies failing)")
        } else {
            String::new()
        }
    )?;
    Ok(bad == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_list_matches_the_policies_directory() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(Result::ok)
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".yaml"))
                    .map(str::to_string)
            })
            .collect();
        on_disk.sort();
        let listed: Vec<&str> = BUILTIN.iter().map(|(id, _)| *id).collect();
        assert_eq!(on_disk, listed);
        for r in builtin_rules() {
            let (id, _) = BUILTIN.iter().find(|(id, _)| *id == r.id).unwrap();
            assert_eq!(*id, r.id, "file name must be the rule id");
        }
    }

    #[test]
    fn pointers_resolve_through_grafts_and_escapes() {
        let l = crate::yaml::load(
            "a:\n  b/c: [x, {d: 1}]\nover: {e: 2}\n",
            &crate::yaml::Limits::default(),
        );
        let doc = &l.docs[0];
        let root = doc.root.unwrap();
        let over = doc.get(root, "over").unwrap();
        let g = vec![(String::new(), root), ("/z".to_string(), over)];
        let (n, exact) = resolve(doc, &g, "/a/b~1c/1/d");
        assert!(exact);
        assert_eq!(doc.str(n), Some("1"));
        let (n, exact) = resolve(doc, &g, "/z/e");
        assert!(exact);
        assert_eq!(doc.str(n), Some("2"));
        let (n, exact) = resolve(doc, &g, "/a/missing/x");
        assert!(!exact);
        assert_eq!(n, doc.get(root, "a").unwrap());
    }

    // Moved with the rules from src/rules/pod_security.rs.
    #[test]
    fn privileged_merges_and_reads_yaml11() {
        let f = crate::rules::testing::run(
            "privileged-container",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    securityContext: {privileged: yes}\n  - name: b\n    image: x\n    securityContext: {privileged: \"true\"}\n",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].message, "container \"a\" runs privileged");
    }

    #[test]
    fn host_namespaces_on_argo_overlay() {
        use crate::rules::testing::run;
        let src = "apiVersion: argoproj.io/v1alpha1\nkind: CronWorkflow\nmetadata: {name: w}\nspec:\n  schedule: '0 * * * *'\n  workflowSpec:\n    hostPID: true\n    templates:\n    - name: main\n      container: {image: alpine}\n";
        assert_eq!(run("host-pid", src).len(), 1);
        assert_eq!(run("host-ipc", src).len(), 0);
    }

    #[test]
    fn projection_needs_a_schema_that_only_names_properties() {
        let p = |v: Value, t: &[&str]| projection(&v, t.iter().copied());
        let s = serde_json::json!({"properties": {"hostPID": {"not": {"const": true}}}});
        assert_eq!(p(s, &["{value}"]), Some(vec!["hostPID".to_string()]));
        let s = serde_json::json!({"required": ["securityContext"], "properties": {"a": {}}});
        assert_eq!(
            p(s.clone(), &["{container}"]),
            Some(vec!["a".to_string(), "securityContext".to_string()])
        );
        // A root `required` error renders the whole target into `{value}`.
        assert_eq!(p(s, &["{value}"]), None);
        for other in [
            serde_json::json!({"additionalProperties": false}),
            serde_json::json!({"not": {"required": ["x"]}}),
            serde_json::json!({"anyOf": [{"required": ["x"]}]}),
            serde_json::json!({"$ref": "#/$defs/x"}),
            serde_json::json!({"type": "array"}),
            serde_json::json!({"minProperties": 3}),
        ] {
            assert_eq!(p(other.clone(), &[]), None, "{other}");
        }
        for (id, _) in BUILTIN {
            let rule = crate::rules::find(id).unwrap();
            let Check::Policy(pol) = rule.check else {
                panic!("{id} is not a policy")
            };
            assert!(
                pol.fields.is_some(),
                "{id}: built-in policies are projected"
            );
        }
    }

    /// Projected views give exactly the findings of whole views, on every example of every
    /// built-in policy and on every fixture of the pod-security rules.
    #[test]
    fn projected_views_find_what_whole_views_find() {
        let mut texts: Vec<String> = Vec::new();
        for (id, _) in BUILTIN {
            let Check::Policy(pol) = crate::rules::find(id).unwrap().check else {
                unreachable!()
            };
            texts.extend(pol.flagged.iter().chain(&pol.clean).map(|e| e.text.clone()));
        }
        for entry in crate::rules::testing::yaml_files(std::path::Path::new("testdata/rules")) {
            texts.push(std::fs::read_to_string(entry).unwrap());
        }
        assert!(texts.len() > 50, "{} texts", texts.len());
        let mut compared = 0;
        for text in &texts {
            let loaded = crate::yaml::load(text, &crate::yaml::Limits::default());
            for doc in &loaded.docs {
                let Ok(objs) = crate::k8s::objects(doc) else {
                    continue;
                };
                for obj in &objs {
                    let wl = crate::k8s::workload(doc, obj);
                    let path: Arc<str> = Arc::from("t.yaml");
                    let index = crate::index::Index::default();
                    let settings = crate::config::Settings::default();
                    let ctx = Ctx {
                        path: &path,
                        src: text,
                        doc,
                        obj,
                        workload: wl.as_ref(),
                        index: &index,
                        settings: &settings,
                        memo: crate::rules::Memo::default(),
                    };
                    for (id, _) in BUILTIN {
                        let rule = crate::rules::find(id).unwrap();
                        let Check::Policy(pol) = rule.check else {
                            unreachable!()
                        };
                        let (mut a, mut b) = (Vec::new(), Vec::new());
                        pol.check_views(rule, &ctx, pol.fields.as_deref(), &mut a);
                        pol.check_views(rule, &ctx, None, &mut b);
                        let key = |f: &Finding| {
                            (f.span, f.message.clone(), f.label.clone(), f.fingerprint())
                        };
                        assert_eq!(
                            a.iter().map(key).collect::<Vec<_>>(),
                            b.iter().map(key).collect::<Vec<_>>(),
                            "{id} on {text}"
                        );
                        compared += a.len();
                    }
                }
            }
        }
        assert!(compared > 20, "only {compared} findings compared");
    }

    #[test]
    fn container_view_inherits_pod_security_context() {
        let src = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: true\n  securityContext: {runAsUser: 0, seccompProfile: {type: RuntimeDefault}}\n  containers:\n  - name: a\n    image: x\n    securityContext: {runAsUser: 5}\n";
        let loaded = crate::yaml::load(src, &crate::yaml::Limits::default());
        let doc = &loaded.docs[0];
        let objs = crate::k8s::objects(doc).unwrap();
        let wl = crate::k8s::workload(doc, &objs[0]).unwrap();
        let pod = &wl.pods[0];
        let (pv, pg) = pod_view(doc, pod);
        let (cv, cg) = container_view(doc, pod, &pv, &pg, pod.containers[0], None);
        assert_eq!(
            cv["securityContext"]["runAsUser"], 5,
            "the container's own value wins"
        );
        assert_eq!(
            cv["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        assert_eq!(cv["_pod"]["hostPID"], true);
        let (n, exact) = resolve(doc, &cg, "/securityContext/seccompProfile/type");
        assert!(exact);
        assert_eq!(doc.str(n), Some("RuntimeDefault"));
        let (n, exact) = resolve(doc, &cg, "/_pod/hostPID");
        assert!(exact);
        assert_eq!(doc.as_bool(n), Some(true));
    }

    #[test]
    fn structural_errors_point_into_the_policy_file() {
        let e = parse("p.yaml", "id: x\ncategory: pod-security\nseverity: huge\n").unwrap_err();
        assert_eq!(e.message, "unknown severity `huge` in `severity`");
        assert_eq!(&e.text[e.span.range()], "huge");
        let e = parse("p.yaml", "id: x\nmatchh: {}\n").unwrap_err();
        assert_eq!(e.help.as_deref(), Some("did you mean `match`?"));
    }
}

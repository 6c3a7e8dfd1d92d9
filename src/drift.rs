//! Drift: scheduled workloads the cluster runs that git never saw.
//!
//! `cronguard drift` compares what a cluster runs (a `kubectl get cronjobs,jobs,pods -A`
//! export) with the repository's working tree, scanned with the normal discovery and loader.
//! Identity is [`ObjectId::key`] (group, kind, namespace, name); repository objects without a
//! namespace get the namespace a GitOps tool would apply them to (`--default-namespace`).
//! Comparisons use a normalized view of the security-relevant fields, so server-set fields
//! (status, managedFields, uid...) and values the API server fills in by default never count
//! as drift. The audit log (`--audit`) and the event list (`--events`) add what the export
//! cannot show: who changed a CronJob outside GitOps, and jobs that ran and are gone.
//! The live export and recorded request objects are scanned with every rule too.

use crate::cli::{self, CommonArgs, Fatal, Io};
use crate::declare_rule;
use crate::finding::{Finding, Related};
use crate::index::Index;
use crate::k8s::{self, ObjectId, WorkloadKind};
use crate::rules::{self, Check, Ctx, Rule};
use crate::scan::{self, Options, Outcome};
use crate::source::{self, Data, Skipped, Source};
use crate::yaml::{self, Document, Kind, LineIndex, NodeId, Span};
use rayon::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub static RULES: &[&Rule] = &[&UNMANAGED, &MODIFIED, &IMPERATIVE];

declare_rule! {
    /// ## What it does
    /// `cronguard drift`: flags a CronJob, Job or Pod that runs in the cluster (in the
    /// `--live` export, or named by a job event of `--events`) whose identity (group, kind,
    /// namespace, name) is not in the repository. Jobs and Pods created by a CronJob or Job
    /// that git manages are not drift; Pods of Deployments, DaemonSets and other controllers
    /// are not scheduled workloads and are left out.
    ///
    /// ## Why is this bad?
    /// In a GitOps cluster every scheduled workload comes from the repository. A CronJob
    /// created straight through the API (`kubectl create cronjob`, a stolen service account
    /// token) never shows up in a pull request, yet it runs again and again: persistence as
    /// MITRE ATT&CK T1053.007 (Scheduled Task/Job: Container Orchestration Job) describes it.
    ///
    /// ## Example
    /// The cluster runs `CronJob kube-system/node-metrics` (`*/5 * * * *`, image
    /// `203.0.113.9:5000/xmr`) and no file in the repository defines it.
    ///
    /// ## Use instead
    /// Export the object for investigation (`kubectl get cronjob -o yaml`), find who created
    /// it in the audit log, then delete it; a legitimate workload belongs in the repository.
    ///
    /// ## References
    /// - Argo CD and Flux report resources they do not manage only per application
    ///   (`orphanedResources` warnings, `kustomize.toolkit.fluxcd.io` labels); cronguard works
    ///   offline on a plain export and needs neither controller.
    /// - Peers: driftctl (cloud resources, not Kubernetes), kubectl diff (the other
    ///   direction: what applying git would change).
    pub static UNMANAGED = {
        id: "drift-unmanaged-workload",
        category: Drift,
        severity: High,
        enabled: true,
        attack: ["T1053.007"],
        summary: "a live scheduled workload whose identity is not in the repository",
        check: Check::External,
    }
}

declare_rule! {
    /// ## What it does
    /// `cronguard drift`: flags a workload that the repository defines but that runs in the
    /// cluster with different security-relevant fields: schedule, timeZone, suspend, images,
    /// command, args, env, pod or container securityContext, volumes, hostPID, hostNetwork,
    /// hostIPC, serviceAccountName, tolerations or nodeName. The finding points at the live
    /// value and names the repository's location. Server-set fields and values the API server
    /// defaults (`suspend: false`, `securityContext: {}`, `serviceAccountName: default`,
    /// `defaultMode: 420`, `fieldRef.apiVersion: v1`, the default tolerations and the
    /// service-account token volume of Pods) are not differences.
    ///
    /// ## Why is this bad?
    /// A `kubectl edit` or `kubectl patch` that swaps a managed CronJob's image or adds
    /// `privileged: true` keeps the name git knows, so a review of the repository sees
    /// nothing: persistence inside a trusted workload (MITRE ATT&CK T1053.007).
    ///
    /// ## Example
    /// git has `image: registry.example.com/backup:1.4.2`; the cluster runs
    /// `image: backup:latest` with `securityContext: {privileged: true}`.
    ///
    /// ## Use instead
    /// Let the GitOps controller restore the repository's version (sync with self-heal), find
    /// who changed it in the audit log, and commit wanted changes to git instead.
    ///
    /// ## References
    /// - Argo CD's diffing (normalized live state, `ignoreDifferences`) and `kubectl diff`
    ///   compare whole objects and need cluster access; cronguard compares only the
    ///   security-relevant fields, offline, and reports each with its line.
    pub static MODIFIED = {
        id: "drift-modified-workload",
        category: Drift,
        severity: High,
        enabled: true,
        attack: ["T1053.007"],
        summary: "a managed workload whose security-relevant fields differ from git in the cluster",
        check: Check::External,
    }
}

declare_rule! {
    /// ## What it does
    /// `cronguard drift --audit FILE`: flags every create, update, patch or delete of a
    /// CronJob or Job (`batch` group) in a Kubernetes audit log whose authenticated user is
    /// not a GitOps identity (`--gitops-identity`; Argo CD's application controller and
    /// Flux's kustomize and helm controllers by default) nor a built-in controller doing its
    /// job (the CronJob controller creating Jobs, the garbage collector deleting them). The
    /// finding names the user, verb, time, object and source IPs; when the audit level
    /// recorded the request object, that object is scanned with every rule too.
    ///
    /// ## Why is this bad?
    /// Detection guidance for MITRE ATT&CK T1053.007 is to watch job creation through the
    /// API: in a GitOps cluster a person or token changing CronJobs directly is either an
    /// emergency fix that must go back to git or an attacker installing persistence.
    ///
    /// ## Example
    /// `alice@example.com created CronJob payments/cache-warmup from 203.0.113.7`, its
    /// request object running a privileged container.
    ///
    /// ## Use instead
    /// Change workloads through the repository; list other legitimate automation with
    /// `--gitops-identity` (a trailing `*` matches a prefix).
    ///
    /// ## References
    /// - Falco's k8s_audit rules ("Create/Modify Configmap", "Attach/Exec Pod") and cloud
    ///   audit detections do this live; cronguard reads the recorded log offline and
    ///   scans the request object with the same rules as the repository.
    pub static IMPERATIVE = {
        id: "drift-imperative-change",
        category: Drift,
        severity: High,
        enabled: true,
        attack: ["T1053.007"],
        summary: "an audit event changing a CronJob or Job by an identity other than the GitOps controllers",
        check: Check::External,
    }
}

/// GitOps controllers trusted by default.
pub const DEFAULT_GITOPS_IDENTITIES: &[&str] = &[
    "system:serviceaccount:argocd:argocd-application-controller",
    "system:serviceaccount:flux-system:kustomize-controller",
    "system:serviceaccount:flux-system:helm-controller",
];

/// Built-in controllers and what they normally do to batch objects: (user, resource, verbs).
const BUILTIN_CONTROLLERS: &[(&str, &str, &[&str])] = &[
    (
        "system:serviceaccount:kube-system:cronjob-controller",
        "jobs",
        &["create", "update", "patch", "delete"],
    ),
    (
        "system:kube-controller-manager",
        "jobs",
        &["create", "update", "patch", "delete"],
    ),
    (
        "system:serviceaccount:kube-system:job-controller",
        "jobs",
        &["update", "patch"],
    ),
    (
        "system:serviceaccount:kube-system:ttl-after-finished-controller",
        "jobs",
        &["delete"],
    ),
    (
        "system:serviceaccount:kube-system:generic-garbage-collector",
        "*",
        &["delete", "patch"],
    ),
    (
        "system:serviceaccount:kube-system:namespace-controller",
        "*",
        &["delete", "deletecollection"],
    ),
];

/// `cronguard drift` arguments.
#[derive(clap::Args, Debug)]
pub struct DriftArgs {
    /// Live objects: `kubectl get cronjobs,jobs,pods -A -o yaml` (or `-o json`); `-` reads stdin
    #[arg(long, value_name = "FILE")]
    pub live: Option<PathBuf>,
    /// Kubernetes audit log (JSON lines of audit.k8s.io/v1 Event); `-` reads stdin
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,
    /// Events: `kubectl get events -A -o json`; `-` reads stdin
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// The repository's files and directories (default `.`)
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Namespace of repository objects that set none (where Argo CD or Flux applies them)
    #[arg(long, value_name = "NAMESPACE", default_value = "default")]
    pub default_namespace: String,
    /// A user whose changes are GitOps (repeatable, adds to the Argo CD and Flux defaults;
    /// a trailing `*` matches a prefix)
    #[arg(long, value_name = "USER")]
    pub gitops_identity: Vec<String>,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// An input file of a drift run, already read.
#[derive(Clone, Debug)]
pub struct Input {
    pub path: Arc<str>,
    pub text: Arc<str>,
}

/// What a drift run compares.
#[derive(Clone, Debug)]
pub struct DriftOptions {
    pub live: Option<Input>,
    pub audit: Option<Input>,
    pub events: Option<Input>,
    pub default_namespace: String,
}

impl Default for DriftOptions {
    fn default() -> Self {
        DriftOptions {
            live: None,
            audit: None,
            events: None,
            default_namespace: "default".into(),
        }
    }
}

/// The CLI entry point.
pub fn cmd(a: &DriftArgs, io: &mut Io) -> Result<i32, Fatal> {
    let mut opts = cli::options(&a.common)?;
    opts.settings
        .gitops_identities
        .extend(a.gitops_identity.iter().cloned());
    if a.live.is_none() && a.audit.is_none() && a.events.is_none() {
        return Err(Fatal(
            "drift needs at least one of --live, --audit or --events".into(),
        ));
    }
    let inputs = [&a.live, &a.audit, &a.events];
    let stdin_uses = inputs
        .iter()
        .filter(|p| p.as_ref().is_some_and(|p| p.as_os_str() == "-"))
        .count()
        + a.paths.iter().filter(|p| p.as_os_str() == "-").count();
    if stdin_uses > 1 {
        return Err(Fatal("only one input can be read from stdin (`-`)".into()));
    }
    let mut read = |p: &Option<PathBuf>| -> Result<Option<Input>, Fatal> {
        p.as_ref()
            .map(|p| read_input(p, &opts, &mut *io.stdin))
            .transpose()
    };
    let d = DriftOptions {
        live: read(&a.live)?,
        audit: read(&a.audit)?,
        events: read(&a.events)?,
        default_namespace: a.default_namespace.clone(),
    };
    let (mut repo, skipped) = cli::gather(&a.paths, &a.common, io)?;
    // The exports themselves may sit in the repository directory: they are not git's.
    let exports: Vec<PathBuf> = inputs
        .iter()
        .filter_map(|p| p.as_ref())
        .filter(|p| p.as_os_str() != "-")
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    repo.retain(|s| match &s.data {
        Data::Disk(p) => p.canonicalize().map_or(true, |c| !exports.contains(&c)),
        Data::Memory(_) => true,
    });
    let mut out = cli::with_threads(a.common.threads, || run(&repo, &d, &opts))?;
    out.skipped.extend(skipped);
    out.skipped.sort();
    out.skipped.dedup();
    cli::finish(&out, &a.common, io)
}

fn read_input(p: &Path, opts: &Options, stdin: &mut dyn Read) -> Result<Input, Fatal> {
    if p.as_os_str() == "-" {
        let mut buf = Vec::new();
        stdin
            .take(opts.read_limits.max_file_bytes + 1)
            .read_to_end(&mut buf)
            .map_err(|e| Fatal(format!("cannot read stdin: {e}")))?;
        if buf.len() as u64 > opts.read_limits.max_file_bytes {
            return Err(Fatal(format!(
                "stdin is over the limit of {} bytes (--max-file-size)",
                opts.read_limits.max_file_bytes
            )));
        }
        let text = source::decode(buf).map_err(|e| Fatal(format!("stdin: {e}")))?;
        return Ok(Input {
            path: Arc::from("<stdin>"),
            text,
        });
    }
    let path: Arc<str> = Arc::from(p.to_string_lossy().replace('\\', "/"));
    let text = source::read_text(
        &Source {
            path: path.clone(),
            data: Data::Disk(p.to_path_buf()),
        },
        &opts.read_limits,
    )
    .map_err(|e| Fatal(format!("{}: {e}", p.display())))?;
    Ok(Input { path, text })
}

/// Run a drift comparison: the repository's sources against the inputs.
pub fn run(repo_sources: &[Source], d: &DriftOptions, opts: &Options) -> Outcome {
    let repo = load_repo(repo_sources, opts, &d.default_namespace);
    let mut out = match &d.live {
        Some(live) => scan::scan(
            &[Source {
                path: live.path.clone(),
                data: Data::Memory(Arc::from(live.text.as_bytes())),
            }],
            opts,
        ),
        None => Outcome::default(),
    };
    out.stats.files += repo.files;
    out.skipped.extend(repo.skipped.iter().cloned());
    let mut live_keys = BTreeSet::new();
    let mut findings = Vec::new();
    if let Some(live) = &d.live {
        let lives = load_live(live, opts, &d.default_namespace);
        live_keys = lives.iter().map(|l| l.key.clone()).collect();
        compare_live(live, &lives, &repo, opts, &mut findings);
        if !findings.is_empty() {
            out.sources.insert(live.path.clone(), live.text.clone());
        }
    }
    if let Some(ev) = &d.events {
        out.stats.files += 1;
        let before = findings.len();
        let ctx = EventCtx {
            repo: &repo,
            live_keys: &live_keys,
            default_ns: &d.default_namespace,
        };
        events(ev, &ctx, opts, &mut findings, &mut out.skipped);
        if findings.len() > before {
            out.sources.insert(ev.path.clone(), ev.text.clone());
        }
    }
    if let Some(au) = &d.audit {
        out.stats.files += 1;
        let before = findings.len();
        audit(au, opts, &mut findings, &mut out.skipped);
        if findings.len() > before {
            out.sources.insert(au.path.clone(), au.text.clone());
        }
    }
    for f in &mut findings {
        f.severity = opts.selection.severity_of(f.rule, f.severity);
    }
    out.findings.extend(findings);
    scan::sort_findings(&mut out.findings);
    out.skipped.sort();
    out.skipped.dedup();
    out
}

// ---------------------------------------------------------------------------------------
// Normalized views

/// One compared field: its normalized value and where it is written.
#[derive(Clone, Debug)]
struct Facet {
    value: Value,
    /// The value when it is a scalar, else its key (`env:`).
    span: Span,
    /// Entries of a mapping (key → `key: value`) or named items of a list (name → the
    /// name's value), to point at the entry that differs.
    parts: BTreeMap<String, Span>,
}

impl Facet {
    fn new(doc: &Document, node: NodeId, value: Value) -> Facet {
        let is_scalar = |n: NodeId| matches!(doc.node(n).kind, Kind::Scalar { .. });
        let span = if is_scalar(node) {
            doc.span(node)
        } else {
            doc.key_of(node)
                .map_or_else(|| doc.span(node), |k| doc.span(k))
        };
        let mut parts = BTreeMap::new();
        for &(k, v) in doc.map(node) {
            let ks = doc.span(k);
            let sp = if is_scalar(v) {
                Span::new(ks.start as usize, doc.span(v).end.max(ks.end) as usize)
            } else {
                ks
            };
            parts.insert(
                doc.node(k).kind.scalar_text().unwrap_or("?").to_string(),
                sp,
            );
        }
        for &item in doc.seq(node) {
            if let Some(n) = doc.get(item, "name")
                && let Some(name) = doc.str(n)
            {
                parts.insert(name.to_string(), doc.span(n));
            }
        }
        Facet { value, span, parts }
    }

    /// The span of the first entry that differs from `other`, if this facet has entries.
    fn focus(&self, other: Option<&Value>) -> Option<Span> {
        match &self.value {
            Value::Object(m) => m
                .iter()
                .find(|(k, v)| other.and_then(|o| o.get(k.as_str())) != Some(*v))
                .and_then(|(k, _)| self.parts.get(k).copied()),
            Value::Array(_) => {
                let (l, g) = (names(Some(&self.value)), names(other));
                l.iter()
                    .find(|(k, v)| g.get(*k) != Some(*v))
                    .and_then(|(k, _)| self.parts.get(k).copied())
            }
            _ => None,
        }
    }
}

type Facets = BTreeMap<String, Facet>;

/// A scalar the way Kubernetes' YAML decoder (YAML 1.1) reads it.
fn scalar(text: &str, plain: bool) -> Value {
    if !plain {
        return Value::String(text.to_string());
    }
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Value::Null;
    }
    if let Some(b) = yaml::yaml11_bool(text) {
        return Value::Bool(b);
    }
    let t = text.replace('_', "");
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(&t)),
    };
    let int = if let Some(h) = digits.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = digits.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if digits.len() > 1
        && digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        i64::from_str_radix(&digits[1..], 8).ok()
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse::<i64>().ok()
    } else {
        None
    };
    if let Some(i) = int {
        return Value::from(if neg { -i } else { i });
    }
    if t.bytes().any(|b| b.is_ascii_digit())
        && t.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
        && let Ok(f) = t.parse::<f64>()
        && let Some(n) = serde_json::Number::from_f64(f)
    {
        return Value::Number(n);
    }
    Value::String(text.to_string())
}

/// A subtree as JSON; nulls in mappings are dropped (Kubernetes omits them).
fn to_value(doc: &Document, id: NodeId) -> Value {
    // Depth is bounded by the loader's nesting limit.
    match &doc.node(id).kind {
        Kind::Scalar { text, plain } => scalar(text, *plain),
        Kind::Seq(items) => Value::Array(items.iter().map(|&c| to_value(doc, c)).collect()),
        Kind::Map(entries) => {
            let mut m = serde_json::Map::new();
            for &(k, v) in entries {
                let key = doc.node(k).kind.scalar_text().unwrap_or("?").to_string();
                let val = to_value(doc, v);
                if !val.is_null() {
                    m.insert(key, val);
                }
            }
            Value::Object(m)
        }
    }
}

/// Drop empty mappings and sequences, recursively (`securityContext: {capabilities: {}}`).
fn prune(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, prune(v)))
                .filter(|(_, v)| !is_empty(v))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(prune).collect()),
        v => v,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Remove `obj[key]` when it equals `default`.
fn drop_default(v: &mut Value, key: &str, default: &Value) {
    if let Value::Object(m) = v
        && m.get(key) == Some(default)
    {
        m.remove(key);
    }
}

/// The canonical form of an image reference (`nginx` → `docker.io/library/nginx:latest`).
fn canonical_image(image: &str) -> String {
    match crate::image::parse(image) {
        Ok(r) => {
            let mut s = r.familiar();
            if r.tag.is_none() && r.digest.is_none() {
                s.push_str(":latest");
            }
            s
        }
        Err(_) => image.to_string(),
    }
}

fn normalize_env(v: Value) -> Value {
    let Value::Array(items) = v else { return v };
    Value::Array(
        items
            .into_iter()
            .map(|mut e| {
                drop_default(&mut e, "value", &Value::String(String::new()));
                if let Some(vf) = e.get_mut("valueFrom") {
                    if let Some(fr) = vf.get_mut("fieldRef") {
                        drop_default(fr, "apiVersion", &Value::String("v1".into()));
                    }
                    if let Some(rr) = vf.get_mut("resourceFieldRef") {
                        drop_default(rr, "divisor", &Value::String("0".into()));
                        drop_default(rr, "divisor", &Value::from(0));
                    }
                }
                prune(e)
            })
            .collect(),
    )
}

/// Volumes the API server adds to Pods (the service-account token), never written in git.
fn is_injected_volume(v: &Value) -> bool {
    let name = v.get("name").and_then(Value::as_str).unwrap_or("");
    (name.starts_with("kube-api-access-") && v.get("projected").is_some())
        || (name.starts_with("default-token-") && v.get("secret").is_some())
}

fn normalize_volumes(v: Value) -> Value {
    let Value::Array(items) = v else { return v };
    let mode = Value::from(420);
    let mut out: Vec<Value> = items
        .into_iter()
        .filter(|v| !is_injected_volume(v))
        .map(|mut vol| {
            for src in ["configMap", "secret", "projected", "downwardAPI"] {
                if let Some(s) = vol.get_mut(src) {
                    drop_default(s, "defaultMode", &mode);
                }
            }
            if let Some(h) = vol.get_mut("hostPath") {
                drop_default(h, "type", &Value::String(String::new()));
            }
            let field_refs = |items: Option<&mut Value>| {
                if let Some(Value::Array(items)) = items {
                    for i in items {
                        if let Some(fr) = i.get_mut("fieldRef") {
                            drop_default(fr, "apiVersion", &Value::String("v1".into()));
                        }
                    }
                }
            };
            field_refs(vol.get_mut("downwardAPI").and_then(|d| d.get_mut("items")));
            if let Some(Value::Array(sources)) =
                vol.get_mut("projected").and_then(|p| p.get_mut("sources"))
            {
                for s in sources {
                    if let Some(t) = s.get_mut("serviceAccountToken") {
                        drop_default(t, "expirationSeconds", &Value::from(3600));
                    }
                    field_refs(s.get_mut("downwardAPI").and_then(|d| d.get_mut("items")));
                }
            }
            vol
        })
        .collect();
    out.sort_by_key(|v| {
        v.get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    });
    Value::Array(out)
}

/// The tolerations the DefaultTolerationSeconds admission plugin adds to every Pod.
fn is_default_toleration(t: &Value) -> bool {
    let key = t.get("key").and_then(Value::as_str).unwrap_or("");
    matches!(
        key,
        "node.kubernetes.io/not-ready" | "node.kubernetes.io/unreachable"
    ) && t.get("operator").and_then(Value::as_str) == Some("Exists")
        && t.get("effect").and_then(Value::as_str) == Some("NoExecute")
        && t.get("tolerationSeconds").and_then(Value::as_i64) == Some(300)
}

fn normalize_tolerations(v: Value, is_pod: bool) -> Value {
    let Value::Array(items) = v else { return v };
    let mut out: Vec<Value> = items
        .into_iter()
        .filter(|t| !(is_pod && is_default_toleration(t)))
        .map(|mut t| {
            drop_default(&mut t, "operator", &Value::String("Equal".into()));
            t
        })
        .collect();
    out.sort_by_key(ToString::to_string);
    Value::Array(out)
}

/// The normalized, security-relevant view of a workload.
fn facets(doc: &Document, obj: &k8s::Object) -> Facets {
    let mut f = Facets::new();
    let Some(w) = k8s::workload(doc, obj) else {
        return f;
    };
    let put = |f: &mut Facets, key: String, node: NodeId, value: Value| {
        if !is_empty(&value) {
            f.insert(key, Facet::new(doc, node, value));
        }
    };
    if w.kind == WorkloadKind::CronJob
        && let Some(spec) = doc.get(obj.node, "spec")
    {
        for key in ["schedule", "timeZone"] {
            if let Some(n) = doc.get(spec, key) {
                let v = match to_value(doc, n) {
                    Value::String(s) => Value::String(s.trim().to_string()),
                    v => v,
                };
                put(&mut f, key.into(), n, v);
            }
        }
        if let Some(n) = doc.get(spec, "suspend") {
            let v = to_value(doc, n);
            if v != Value::Bool(false) {
                put(&mut f, "suspend".into(), n, v);
            }
        }
    }
    let is_pod = w.kind == WorkloadKind::Pod;
    let Some(pod) = w.pods.first() else {
        return f;
    };
    for key in ["hostPID", "hostNetwork", "hostIPC"] {
        if let Some(n) = pod.field(doc, key) {
            let v = to_value(doc, n);
            if v != Value::Bool(false) {
                put(&mut f, key.into(), n, v);
            }
        }
    }
    if let Some(n) = pod
        .field(doc, "serviceAccountName")
        .or_else(|| pod.field(doc, "serviceAccount"))
    {
        let v = to_value(doc, n);
        if v != Value::String("default".into()) {
            put(&mut f, "serviceAccountName".into(), n, v);
        }
    }
    if let Some(n) = pod.field(doc, "nodeName") {
        put(&mut f, "nodeName".into(), n, to_value(doc, n));
    }
    if let Some(n) = pod.field(doc, "securityContext") {
        put(&mut f, "securityContext".into(), n, prune(to_value(doc, n)));
    }
    if let Some(n) = pod.field(doc, "volumes") {
        put(
            &mut f,
            "volumes".into(),
            n,
            normalize_volumes(to_value(doc, n)),
        );
    }
    if let Some(n) = pod.field(doc, "tolerations") {
        put(
            &mut f,
            "tolerations".into(),
            n,
            normalize_tolerations(to_value(doc, n), is_pod),
        );
    }
    for (i, c) in pod.containers.iter().enumerate() {
        let name = doc
            .get_str(c.node, "name")
            .map_or_else(|| format!("#{i}"), str::to_string);
        let prefix = format!("{}[{name}]", c.list.key());
        let image = doc.get_str(c.node, "image").map(canonical_image);
        f.insert(
            prefix.clone(),
            Facet {
                value: image.clone().map_or(Value::Null, Value::String),
                span: doc
                    .get(c.node, "name")
                    .map_or_else(|| doc.span(c.node), |n| doc.span(n)),
                parts: BTreeMap::new(),
            },
        );
        if let (Some(img), Some(n)) = (image, doc.get(c.node, "image")) {
            put(&mut f, format!("{prefix}.image"), n, Value::String(img));
        }
        for key in ["command", "args"] {
            if let Some(n) = doc.get(c.node, key) {
                put(&mut f, format!("{prefix}.{key}"), n, to_value(doc, n));
            }
        }
        if let Some(n) = doc.get(c.node, "env") {
            put(
                &mut f,
                format!("{prefix}.env"),
                n,
                normalize_env(to_value(doc, n)),
            );
        }
        if let Some(n) = doc.get(c.node, "securityContext") {
            put(
                &mut f,
                format!("{prefix}.securityContext"),
                n,
                prune(to_value(doc, n)),
            );
        }
    }
    f
}

fn name_span(doc: &Document, node: NodeId) -> Span {
    doc.get(node, "metadata")
        .and_then(|m| doc.get(m, "name"))
        .map_or_else(|| doc.span(node), |n| doc.span(n))
}

fn with_namespace(id: &ObjectId, default_ns: &str) -> ObjectId {
    let mut id = id.clone();
    if id.namespace.as_deref().is_none_or(str::is_empty) {
        id.namespace = Some(default_ns.to_string());
    }
    id
}

// ---------------------------------------------------------------------------------------
// The repository

/// One workload the repository defines.
struct Managed {
    path: Arc<str>,
    text: Arc<str>,
    name_span: Span,
    facets: Facets,
}

struct Repo {
    objects: BTreeMap<String, Vec<Managed>>,
    /// Keys of every object of the repository (owners of operator-made workloads).
    all: BTreeSet<String>,
    skipped: Vec<Skipped>,
    files: usize,
}

impl Repo {
    fn has(&self, key: &str) -> bool {
        self.objects.contains_key(key)
    }
}

/// What one repository file yields: its workloads by key, and why parts were skipped.
type RepoFile = (Vec<(String, Managed)>, Vec<String>, Vec<Skipped>);

fn load_repo(sources: &[Source], opts: &Options, default_ns: &str) -> Repo {
    let parts: Vec<RepoFile> = sources
        .par_iter()
        .map(|s| {
            let mut objs = Vec::new();
            let mut all = Vec::new();
            let mut skipped = Vec::new();
            let text = match source::read_text(s, &opts.read_limits) {
                Ok(t) => t,
                Err(reason) => {
                    skipped.push(Skipped {
                        path: s.path.to_string(),
                        reason,
                    });
                    return (objs, all, skipped);
                }
            };
            let loaded = yaml::load(&text, &opts.yaml_limits);
            if scan::looks_like_template(&text) && loaded.issues.is_empty() {
                skipped.push(Skipped {
                    path: s.path.to_string(),
                    reason: "Helm/Go template (`{{ }}`); render it first (helm template) and scan the output".into(),
                });
                return (objs, all, skipped);
            }
            let li = LineIndex::new(&text);
            for issue in &loaded.issues {
                let (line, col) = li.line_col(&text, issue.span.start as usize);
                skipped.push(Skipped {
                    path: s.path.to_string(),
                    reason: format!("line {line}, column {col}: {}", issue.message),
                });
            }
            for doc in &loaded.docs {
                let Ok(list) = k8s::objects(doc) else {
                    continue;
                };
                for o in list {
                    let key = with_namespace(&o.id, default_ns).key();
                    if WorkloadKind::of(&o.id).is_none() {
                        all.push(key);
                        continue;
                    }
                    objs.push((
                        key,
                        Managed {
                            path: s.path.clone(),
                            text: text.clone(),
                            name_span: name_span(doc, o.node),
                            facets: facets(doc, &o),
                        },
                    ));
                }
            }
            (objs, all, skipped)
        })
        .collect();
    let mut repo = Repo {
        objects: BTreeMap::new(),
        all: BTreeSet::new(),
        skipped: Vec::new(),
        files: sources.len(),
    };
    for (objs, all, skipped) in parts {
        for (k, m) in objs {
            repo.all.insert(k.clone());
            repo.objects.entry(k).or_default().push(m);
        }
        repo.all.extend(all);
        repo.skipped.extend(skipped);
    }
    repo
}

// ---------------------------------------------------------------------------------------
// The live export

struct Owner {
    api_version: String,
    kind: String,
    name: String,
    uid: String,
}

struct Live {
    id: ObjectId,
    uid: String,
    key: String,
    kind: Option<WorkloadKind>,
    name_span: Span,
    owner: Option<Owner>,
    facets: Facets,
}

fn load_live(live: &Input, opts: &Options, default_ns: &str) -> Vec<Live> {
    let loaded = yaml::load(&live.text, &opts.yaml_limits);
    let mut out = Vec::new();
    for doc in &loaded.docs {
        let Ok(list) = k8s::objects(doc) else {
            continue;
        };
        for o in list {
            let id = with_namespace(&o.id, default_ns);
            let refs = doc
                .path(o.node, &["metadata", "ownerReferences"])
                .map(|r| doc.seq(r).to_vec())
                .unwrap_or_default();
            let pick = refs
                .iter()
                .find(|r| doc.get(**r, "controller").and_then(|c| doc.as_bool(c)) == Some(true))
                .or_else(|| refs.first());
            let owner = pick.map(|&r| Owner {
                api_version: doc.get_str(r, "apiVersion").unwrap_or("").to_string(),
                kind: doc.get_str(r, "kind").unwrap_or("").to_string(),
                name: doc.get_str(r, "name").unwrap_or("").to_string(),
                uid: doc.get_str(r, "uid").unwrap_or("").to_string(),
            });
            out.push(Live {
                uid: doc
                    .path(o.node, &["metadata", "uid"])
                    .and_then(|u| doc.str(u))
                    .unwrap_or("")
                    .to_string(),
                key: id.key(),
                kind: WorkloadKind::of(&id),
                id,
                name_span: name_span(doc, o.node),
                owner,
                facets: facets(doc, &o),
            });
        }
    }
    out
}

/// How a live object relates to what git manages.
enum Standing {
    /// Git defines it.
    Managed,
    /// Created by the workload git defines under this key (compared with its template).
    Derived(String),
    /// Created by an unmanaged object of the export, which is reported on its own.
    OwnedInExport,
    /// Not a scheduled workload (a Deployment's Pod, a mirror Pod).
    NotScheduled,
    /// Unknown to git; the text says why.
    Unmanaged(String),
}

fn batch_key(kind: &str, ns: &str, name: &str) -> String {
    ObjectId {
        api_version: "batch/v1".into(),
        kind: kind.into(),
        namespace: Some(ns.into()),
        name: Some(name.into()),
    }
    .key()
}

/// A CronJob's Jobs are named `<cronjob>-<scheduled minute>`.
fn cronjob_of_job(name: &str) -> Option<&str> {
    let (base, n) = name.rsplit_once('-')?;
    (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && !base.is_empty()).then_some(base)
}

fn standing(l: &Live, repo: &Repo, lives: &BTreeMap<&str, &Live>, depth: usize) -> Standing {
    if repo.has(&l.key) {
        return Standing::Managed;
    }
    let scheduled = l
        .kind
        .is_some_and(|k| k.is_scheduled() || k == WorkloadKind::Pod);
    if !scheduled || depth > 4 {
        return Standing::NotScheduled;
    }
    let ns = l.id.namespace.as_deref().unwrap_or("");
    let Some(o) = &l.owner else {
        return Standing::Unmanaged(String::new());
    };
    let owner_id = ObjectId {
        api_version: o.api_version.clone(),
        kind: o.kind.clone(),
        namespace: Some(ns.to_string()),
        name: Some(o.name.clone()),
    };
    let k = owner_id.key();
    if owner_id.group() != "batch" || !matches!(o.kind.as_str(), "CronJob" | "Job") {
        // Pods of Deployments, DaemonSets, operators, mirror Pods: not scheduled workloads.
        if l.kind == Some(WorkloadKind::Pod) {
            return Standing::NotScheduled;
        }
        // A CronJob or Job an operator made: managed when git defines its owner.
        return if repo.all.contains(&k) {
            Standing::Managed
        } else {
            Standing::Unmanaged(format!(
                " (owned by {}, which is not in the repository)",
                owner_id.display()
            ))
        };
    }
    if let Some(owner) = lives.get(k.as_str()) {
        // ownerReferences are written by whoever creates the object: one that names a
        // managed CronJob must carry that object's uid.
        if !o.uid.is_empty() && !owner.uid.is_empty() && o.uid != owner.uid {
            return Standing::Unmanaged(format!(
                " (its ownerReference names {} with uid {}, which is not that object's uid)",
                owner_id.display(),
                o.uid
            ));
        }
        return match standing(owner, repo, lives, depth + 1) {
            Standing::Managed => Standing::Derived(k),
            Standing::Derived(root) => Standing::Derived(root),
            _ => Standing::OwnedInExport,
        };
    }
    if repo.has(&k) {
        return Standing::Derived(k);
    }
    if o.kind == "Job"
        && let Some(c) = cronjob_of_job(&o.name).map(|c| batch_key("CronJob", ns, c))
        && repo.has(&c)
    {
        return Standing::Derived(c);
    }
    Standing::Unmanaged(format!(
        " (created by {}, which is not in the repository either)",
        owner_id.display()
    ))
}

fn new_finding(
    rule: &'static Rule,
    path: &Arc<str>,
    span: Span,
    object: ObjectId,
    message: String,
) -> Finding {
    Finding {
        rule: rule.id,
        severity: rule.severity,
        message,
        path: path.clone(),
        span,
        label: String::new(),
        labels: Vec::new(),
        related: Vec::new(),
        help: None,
        object,
        attack: rule.attack,
        locator: String::new(),
        value: String::new(),
        suppressed: None,
        line: 0,
        column: 0,
        end_line: 0,
        end_column: 0,
    }
}

fn compare_live(live: &Input, lives: &[Live], repo: &Repo, opts: &Options, out: &mut Vec<Finding>) {
    let li = LineIndex::new(&live.text);
    let mut line_indexes: BTreeMap<Arc<str>, LineIndex> = BTreeMap::new();
    let by_key: BTreeMap<&str, &Live> = lives.iter().map(|l| (l.key.as_str(), l)).collect();
    for l in lives {
        let (root, from) = match standing(l, repo, &by_key, 0) {
            Standing::Managed => (l.key.clone(), None),
            Standing::Derived(root) => (root, Some(())),
            Standing::OwnedInExport | Standing::NotScheduled => continue,
            Standing::Unmanaged(why) => {
                if !opts.selection.is_enabled(&UNMANAGED) {
                    continue;
                }
                let mut f = new_finding(
                    &UNMANAGED,
                    &live.path,
                    l.name_span,
                    l.id.clone(),
                    format!(
                        "{} runs in the cluster but is not in the repository{why}",
                        l.id.display()
                    ),
                );
                f.label = "no file in the repository defines this object".into();
                f.locator = "metadata.name".into();
                f.value.clone_from(&l.key);
                f = f.with_help(
                    "export it for investigation, find who created it in the audit log, then delete it; a legitimate workload belongs in the repository",
                );
                scan::locate(&mut f, &live.text, &li);
                out.push(f);
                continue;
            }
        };
        let Some(cands) = repo.objects.get(&root) else {
            continue;
        };
        if !opts.selection.is_enabled(&MODIFIED) {
            continue;
        }
        let is_pod = l.kind == Some(WorkloadKind::Pod);
        // A Job or Pod a managed workload created is compared with its pod template.
        let templates: Vec<Facets> = cands
            .iter()
            .map(|m| {
                if from.is_some() {
                    m.facets
                        .iter()
                        .filter(|(k, _)| !matches!(k.as_str(), "schedule" | "timeZone" | "suspend"))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                } else {
                    m.facets.clone()
                }
            })
            .collect();
        let best = cands
            .iter()
            .zip(&templates)
            .map(|(m, t)| (m, diff(&l.facets, t, is_pod)))
            .min_by_key(|(_, d)| d.len());
        let Some((m, diffs)) = best else { continue };
        if diffs.is_empty() {
            continue;
        }
        let mli = line_indexes
            .entry(m.path.clone())
            .or_insert_with(|| LineIndex::new(&m.text));
        let suffix = if from.is_some() {
            let root_name = root.splitn(4, '/').collect::<Vec<_>>();
            format!(
                " (created from {} {}/{} of git)",
                root_name.get(1).unwrap_or(&""),
                root_name.get(2).unwrap_or(&""),
                root_name.get(3).unwrap_or(&"")
            )
        } else {
            String::new()
        };
        for d in diffs {
            let span = d.live.map_or(l.name_span, |f| {
                f.focus(d.git.map(|g| &g.value)).unwrap_or(f.span)
            });
            let mut f = new_finding(
                &MODIFIED,
                &live.path,
                span,
                l.id.clone(),
                format!("{}{suffix}", describe(&d)),
            );
            f.label = if d.live.is_some() {
                "differs from git".into()
            } else {
                format!("{} is missing here", field_name(&d.key))
            };
            let gspan = d.git.map_or(m.name_span, |g| {
                g.focus(d.live.map(|l| &l.value)).unwrap_or(g.span)
            });
            let (gl, _) = mli.line_col(&m.text, gspan.start as usize);
            let at = format!("{} line {gl}", m.path);
            f.related.push(Related {
                path: m.path.clone(),
                span: gspan,
                text: format!("git defines this at {at}"),
            });
            f.locator.clone_from(&d.key);
            f.value = d.live.map(|v| v.value.to_string()).unwrap_or_default();
            f = f.with_help(format!(
                "git defines this at {at}: restore the repository's version (let the GitOps controller sync, or apply the file), then find who changed it in the audit log; commit wanted changes to git"
            ));
            scan::locate(&mut f, &live.text, &li);
            out.push(f);
        }
    }
}

struct Diff<'a> {
    key: String,
    live: Option<&'a Facet>,
    git: Option<&'a Facet>,
}

fn diff<'a>(live: &'a Facets, git: &'a Facets, is_pod: bool) -> Vec<Diff<'a>> {
    let keys: BTreeSet<&String> = live.keys().chain(git.keys()).collect();
    let mut out = Vec::new();
    let mut absent_containers: Vec<String> = Vec::new();
    for k in keys {
        if absent_containers.iter().any(|c| k.starts_with(c.as_str())) {
            continue;
        }
        let (l, g) = (live.get(k), git.get(k));
        // The scheduler sets a Pod's nodeName.
        if is_pod && k == "nodeName" && g.is_none() {
            continue;
        }
        let is_container = !k.contains('.') && k.ends_with(']');
        if is_container && (l.is_none() || g.is_none()) {
            absent_containers.push(format!("{k}."));
        } else if is_container {
            continue; // compared field by field
        }
        if l.map(|f| &f.value) != g.map(|f| &f.value) {
            out.push(Diff {
                key: k.clone(),
                live: l,
                git: g,
            });
        }
    }
    out
}

/// `image of container "app"` / `schedule`.
fn field_name(key: &str) -> String {
    if let Some((c, field)) = key.split_once("].") {
        let (list, name) = c.split_once('[').unwrap_or(("containers", c));
        let what = match list {
            "initContainers" => "init container",
            "ephemeralContainers" => "ephemeral container",
            _ => "container",
        };
        format!("{field} of {what} {name:?}")
    } else if let Some((list, name)) = key.strip_suffix(']').and_then(|k| k.split_once('[')) {
        let what = match list {
            "initContainers" => "init container",
            "ephemeralContainers" => "ephemeral container",
            _ => "container",
        };
        format!("{what} {name:?}")
    } else {
        key.to_string()
    }
}

fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => format!("{s:?}"),
        v => v.to_string(),
    };
    if s.chars().count() > 160 {
        let cut: String = s.chars().take(157).collect();
        format!("{cut}...")
    } else {
        s
    }
}

fn names(v: Option<&Value>) -> BTreeMap<String, Value> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .enumerate()
                .map(|(i, e)| {
                    let n = e
                        .get("name")
                        .and_then(Value::as_str)
                        .map_or_else(|| format!("#{i}"), str::to_string);
                    (n, e.clone())
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Added, changed and removed names of two named lists (values are not shown: env values
/// may be secrets).
fn name_changes(live: Option<&Value>, git: Option<&Value>) -> String {
    let (l, g) = (names(live), names(git));
    let mut parts = Vec::new();
    let added: Vec<&str> = l
        .keys()
        .filter(|k| !g.contains_key(*k))
        .map(String::as_str)
        .collect();
    let changed: Vec<&str> = l
        .iter()
        .filter(|(k, v)| g.get(*k).is_some_and(|gv| gv != *v))
        .map(|(k, _)| k.as_str())
        .collect();
    let removed: Vec<&str> = g
        .keys()
        .filter(|k| !l.contains_key(*k))
        .map(String::as_str)
        .collect();
    for (what, list) in [("added", added), ("changed", changed), ("removed", removed)] {
        if !list.is_empty() {
            parts.push(format!("{what} {}", list.join(", ")));
        }
    }
    if parts.is_empty() {
        "order changed".into()
    } else {
        parts.join("; ")
    }
}

fn map_changes(live: Option<&Value>, git: Option<&Value>) -> String {
    let empty = serde_json::Map::new();
    let l = live.and_then(Value::as_object).unwrap_or(&empty);
    let g = git.and_then(Value::as_object).unwrap_or(&empty);
    let keys: BTreeSet<&String> = l.keys().chain(g.keys()).collect();
    keys.into_iter()
        .filter(|k| l.get(*k) != g.get(*k))
        .map(|k| {
            format!(
                "{k}: {} (git: {})",
                l.get(k).map_or_else(|| "unset".into(), short),
                g.get(k).map_or_else(|| "unset".into(), short)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe(d: &Diff) -> String {
    let what = field_name(&d.key);
    let (l, g) = (d.live.map(|f| &f.value), d.git.map(|f| &f.value));
    let field = d.key.rsplit_once('.').map_or(d.key.as_str(), |(_, f)| f);
    let is_container = !d.key.contains('.') && d.key.ends_with(']');
    if is_container {
        return match (l, g) {
            (Some(img), None) => format!(
                "{what} runs in the cluster but not in git (image {})",
                short(img)
            ),
            _ => format!("{what} of git is missing in the cluster"),
        };
    }
    match field {
        "env" => format!("{what} differs from git ({})", name_changes(l, g)),
        "volumes" => format!("{what} differ from git ({})", name_changes(l, g)),
        "command" | "args" => format!("{what} differs from git"),
        "securityContext" => format!("{what} differs from git ({})", map_changes(l, g)),
        "tolerations" => format!(
            "{what} differ from git ({} in the cluster, {} in git)",
            l.and_then(Value::as_array).map_or(0, Vec::len),
            g.and_then(Value::as_array).map_or(0, Vec::len)
        ),
        _ => format!(
            "{what} is {} in the cluster but {} in git",
            l.map_or_else(|| "unset".into(), short),
            g.map_or_else(|| "unset".into(), short)
        ),
    }
}

// ---------------------------------------------------------------------------------------
// Events

struct EventCtx<'a> {
    repo: &'a Repo,
    live_keys: &'a BTreeSet<String>,
    default_ns: &'a str,
}

fn events(
    ev: &Input,
    cx: &EventCtx,
    opts: &Options,
    out: &mut Vec<Finding>,
    skipped: &mut Vec<Skipped>,
) {
    let loaded = yaml::load(&ev.text, &opts.yaml_limits);
    let li = LineIndex::new(&ev.text);
    for issue in &loaded.issues {
        let (line, col) = li.line_col(&ev.text, issue.span.start as usize);
        skipped.push(Skipped {
            path: ev.path.to_string(),
            reason: format!("line {line}, column {col}: {}", issue.message),
        });
    }
    if !opts.selection.is_enabled(&UNMANAGED) {
        return;
    }
    // key → (finding, number of events)
    let mut seen: BTreeMap<String, (Finding, usize)> = BTreeMap::new();
    let mut order = Vec::new();
    for doc in &loaded.docs {
        let Ok(list) = k8s::objects(doc) else {
            continue;
        };
        for o in list.iter().filter(|o| o.id.kind == "Event") {
            let n = o.node;
            let Some(inv) = doc
                .get(n, "involvedObject")
                .or_else(|| doc.get(n, "regarding"))
            else {
                continue;
            };
            let kind = doc.get_str(inv, "kind").unwrap_or("");
            let reason = doc.get_str(n, "reason").unwrap_or("");
            if !matches!(kind, "CronJob" | "Job")
                || !matches!(reason, "SuccessfulCreate" | "Completed" | "SawCompletedJob")
            {
                continue;
            }
            let ns = doc
                .get_str(inv, "namespace")
                .or(o.id.namespace.as_deref())
                .unwrap_or(cx.default_ns);
            let Some(name_node) = doc.get(inv, "name") else {
                continue;
            };
            let name = doc.str(name_node).unwrap_or("").to_string();
            let key = batch_key(kind, ns, &name);
            if let Some(e) = seen.get_mut(&key) {
                e.1 += 1;
                continue;
            }
            let via_cron = (kind == "Job")
                .then(|| cronjob_of_job(&name).map(|c| batch_key("CronJob", ns, c)))
                .flatten();
            let known = cx.repo.has(&key)
                || cx.live_keys.contains(&key)
                || via_cron
                    .as_deref()
                    .is_some_and(|c| cx.repo.has(c) || cx.live_keys.contains(c));
            if known {
                continue;
            }
            let msg = doc
                .get_str(n, "message")
                .or_else(|| doc.get_str(n, "note"))
                .unwrap_or("");
            let when = ["lastTimestamp", "eventTime", "firstTimestamp"]
                .iter()
                .find_map(|k| doc.get_str(n, k))
                .unwrap_or("unknown time");
            let id = ObjectId {
                api_version: doc.get_str(inv, "apiVersion").unwrap_or("batch/v1").into(),
                kind: kind.into(),
                namespace: Some(ns.to_string()),
                name: Some(name.clone()),
            };
            let mut f = new_finding(
                &UNMANAGED,
                &ev.path,
                doc.span(name_node),
                id.clone(),
                format!(
                    "event {reason} at {when} ({:?}): {} is not in the repository",
                    msg.chars().take(120).collect::<String>(),
                    id.display()
                ),
            );
            f.label = "this job ran, but git does not know it".into();
            f.locator = "involvedObject.name".into();
            f.value.clone_from(&key);
            f = f.with_help(
                "find the CronJob or Job that ran (it may already be deleted) and who created it in the audit log; a legitimate workload belongs in the repository",
            );
            scan::locate(&mut f, &ev.text, &li);
            order.push(key.clone());
            seen.insert(key, (f, 1));
        }
    }
    for k in order {
        if let Some((mut f, count)) = seen.remove(&k) {
            if count > 1 {
                f.message.push_str(&format!(" ({count} events)"));
            }
            out.push(f);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Audit log

/// Does `user` match one of the identities (exact, or a prefix before a trailing `*`)?
pub fn is_identity(user: &str, identities: &[String]) -> bool {
    identities.iter().any(|i| match i.strip_suffix('*') {
        Some(prefix) => user.starts_with(prefix),
        None => user == i,
    })
}

fn builtin_allows(user: &str, resource: &str, verb: &str) -> bool {
    BUILTIN_CONTROLLERS
        .iter()
        .any(|(u, r, verbs)| *u == user && (*r == "*" || *r == resource) && verbs.contains(&verb))
}

/// How far an audit event got: later stages of one request replace earlier ones.
fn stage_rank(stage: &str) -> u8 {
    match stage {
        "RequestReceived" => 0,
        "ResponseStarted" => 1,
        _ => 2,
    }
}

struct AuditHit {
    line: usize,
    start: usize,
    event: Value,
}

fn audit(au: &Input, opts: &Options, out: &mut Vec<Finding>, skipped: &mut Vec<Skipped>) {
    let mut hits: Vec<AuditHit> = Vec::new();
    let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
    let mut start = 0usize;
    for (i, raw) in au.text.split_inclusive('\n').enumerate() {
        let line_start = start;
        start += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        let ev: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                skipped.push(Skipped {
                    path: au.path.to_string(),
                    reason: format!("line {}: not a JSON audit event ({e})", i + 1),
                });
                continue;
            }
        };
        let is_event = ev.get("kind").and_then(Value::as_str) == Some("Event")
            && ev
                .get("apiVersion")
                .and_then(Value::as_str)
                .is_some_and(|a| a.starts_with("audit.k8s.io/"));
        if !is_event {
            skipped.push(Skipped {
                path: au.path.to_string(),
                reason: format!("line {}: not an audit.k8s.io Event", i + 1),
            });
            continue;
        }
        let s = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_string);
        let resource = s(&ev, "/objectRef/resource").unwrap_or_default();
        let group = s(&ev, "/objectRef/apiGroup").unwrap_or_default();
        let verb = s(&ev, "/verb").unwrap_or_default();
        if group != "batch"
            || !matches!(resource.as_str(), "cronjobs" | "jobs")
            || !matches!(
                verb.as_str(),
                "create" | "update" | "patch" | "delete" | "deletecollection"
            )
            || s(&ev, "/objectRef/subresource").is_some_and(|r| !r.is_empty())
        {
            continue;
        }
        let hit = AuditHit {
            line: i + 1,
            start: line_start,
            event: ev,
        };
        let id = s(&hit.event, "/auditID");
        if let Some(&at) = id.as_ref().and_then(|id| by_id.get(id)) {
            let old = s(&hits[at].event, "/stage").unwrap_or_default();
            let new = s(&hit.event, "/stage").unwrap_or_default();
            if stage_rank(&new) >= stage_rank(&old) {
                hits[at] = hit;
            }
        } else {
            if let Some(id) = id {
                by_id.insert(id, hits.len());
            }
            hits.push(hit);
        }
    }
    let li = LineIndex::new(&au.text);
    for h in hits {
        let ev = &h.event;
        let s = |p: &str| ev.pointer(p).and_then(Value::as_str);
        let code = ev
            .pointer("/responseStatus/code")
            .and_then(Value::as_i64)
            .unwrap_or(200);
        if code >= 400 {
            continue; // refused: nothing changed
        }
        let user = s("/user/username").unwrap_or("<unknown user>");
        let resource = s("/objectRef/resource").unwrap_or("");
        let verb = s("/verb").unwrap_or("");
        if is_identity(user, &opts.settings.gitops_identities)
            || builtin_allows(user, resource, verb)
        {
            continue;
        }
        let raw_line = &au.text[h.start..];
        let raw_line = &raw_line[..raw_line.find('\n').unwrap_or(raw_line.len())];
        let loaded = yaml::load(raw_line, &opts.yaml_limits);
        let doc = loaded.docs.first();
        let node_at = |path: &[&str]| doc.and_then(|d| d.root.and_then(|r| d.path(r, path)));
        let shift = |s: Span| Span::new(s.start as usize + h.start, s.end as usize + h.start);
        let user_span = node_at(&["user", "username"])
            .and_then(|n| doc.map(|d| shift(d.span(n))))
            .unwrap_or_else(|| Span::new(h.start, h.start + raw_line.len()));
        let kind = if resource == "cronjobs" {
            "CronJob"
        } else {
            "Job"
        };
        let body = ["requestObject", "responseObject"].into_iter().find(|k| {
            ev.get(*k)
                .is_some_and(|o| o.get("kind").is_some() && o.get("apiVersion").is_some())
        });
        let ns = s("/objectRef/namespace").map(str::to_string);
        let name = s("/objectRef/name")
            .or_else(|| s("/requestObject/metadata/name"))
            .or_else(|| s("/responseObject/metadata/name"))
            .map(str::to_string);
        let id = ObjectId {
            api_version: format!("batch/{}", s("/objectRef/apiVersion").unwrap_or("v1")),
            kind: kind.into(),
            namespace: ns.clone(),
            name,
        };
        let when = s("/stageTimestamp")
            .or_else(|| s("/requestReceivedTimestamp"))
            .unwrap_or("unknown time");
        let ips: Vec<&str> = ev
            .get("sourceIPs")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let done = match verb {
            "create" => "created",
            "update" => "updated",
            "patch" => "patched",
            "delete" | "deletecollection" => "deleted",
            v => v,
        };
        let target = if verb == "deletecollection" {
            format!("{kind}s in {}", ns.as_deref().unwrap_or("all namespaces"))
        } else {
            id.display()
        };
        let mut message = format!(
            "{user} {done} {target} outside GitOps at {when} from {}",
            if ips.is_empty() {
                "an unknown address".to_string()
            } else {
                ips.join(", ")
            }
        );
        if let Some(imp) = s("/impersonatedUser/username") {
            message.push_str(&format!(" (impersonating {imp})"));
        }
        if opts.selection.is_enabled(&IMPERATIVE) {
            let mut f = new_finding(&IMPERATIVE, &au.path, user_span, id.clone(), message);
            f.label = format!(
                "not a GitOps identity{}",
                s("/userAgent")
                    .map(|a| format!(" (user agent {})", a.chars().take(60).collect::<String>()))
                    .unwrap_or_default()
            );
            f.locator = format!("line {}", h.line);
            f.value = format!("{user} {verb} {}", id.key());
            f = f.with_help(
                "change workloads through the repository; if this identity is legitimate automation, add it with --gitops-identity",
            );
            scan::locate(&mut f, &au.text, &li);
            out.push(f);
        }
        // The recorded object runs through every rule.
        if let (Some(key), Some(d)) = (body, doc)
            && let Some(n) = d.root.and_then(|r| d.get(r, key))
        {
            let span = d.span(n);
            if let Some(sub) = raw_line.get(span.range()) {
                for mut f in check_embedded(&au.path, sub, ns.as_deref(), opts) {
                    f.span = shift(Span::new(
                        f.span.start as usize + span.start as usize,
                        f.span.end as usize + span.start as usize,
                    ));
                    for l in &mut f.labels {
                        l.span = shift(Span::new(
                            l.span.start as usize + span.start as usize,
                            l.span.end as usize + span.start as usize,
                        ));
                    }
                    scan::locate(&mut f, &au.text, &li);
                    out.push(f);
                }
            }
        }
    }
}

/// Run every enabled per-object check on an object's text embedded in another file; spans
/// are relative to `sub`.
fn check_embedded(path: &Arc<str>, sub: &str, ns: Option<&str>, opts: &Options) -> Vec<Finding> {
    let loaded = yaml::load(sub, &opts.yaml_limits);
    let index = Index::default();
    let enabled: Vec<&Rule> = rules::registry()
        .iter()
        .chain(&opts.extra_rules)
        .copied()
        .filter(|r| opts.selection.is_enabled(r))
        .collect();
    let mut findings = Vec::new();
    for doc in &loaded.docs {
        let Ok(objs) = k8s::objects(doc) else {
            continue;
        };
        for mut obj in objs {
            if obj.id.namespace.is_none() {
                obj.id.namespace = ns.map(str::to_string);
            }
            let workload = k8s::workload(doc, &obj);
            let ctx = Ctx {
                path,
                src: sub,
                doc,
                obj: &obj,
                workload: workload.as_ref(),
                index: &index,
                settings: &opts.settings,
                memo: crate::rules::Memo::default(),
            };
            for r in &enabled {
                r.check.run(r, &ctx, &mut findings);
            }
        }
    }
    findings.sort_by(|a, b| (a.span, a.rule, &a.message).cmp(&(b.span, b.rule, &b.message)));
    findings.dedup_by(|a, b| a.span == b.span && a.rule == b.rule && a.message == b.message);
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_resolve_like_kubernetes() {
        assert_eq!(scalar("0644", true), Value::from(420));
        assert_eq!(scalar("420", true), Value::from(420));
        assert_eq!(scalar("0o644", true), Value::from(420));
        assert_eq!(scalar("0644", false), Value::String("0644".into()));
        assert_eq!(scalar("yes", true), Value::Bool(true));
        assert_eq!(scalar("~", true), Value::Null);
        assert_eq!(scalar("-3", true), Value::from(-3));
        assert_eq!(scalar("1.5", true), serde_json::json!(1.5));
        assert_eq!(scalar("1.2.3", true), Value::String("1.2.3".into()));
    }

    #[test]
    fn images_compare_in_canonical_form() {
        assert_eq!(
            canonical_image("nginx"),
            canonical_image("docker.io/library/nginx:latest")
        );
        assert_ne!(canonical_image("nginx:1.25"), canonical_image("nginx:1.26"));
    }

    #[test]
    fn identities_match_exactly_or_by_prefix() {
        let ids = vec![
            "system:serviceaccount:argocd:*".to_string(),
            "bot".to_string(),
        ];
        assert!(is_identity(
            "system:serviceaccount:argocd:argocd-server",
            &ids
        ));
        assert!(is_identity("bot", &ids));
        assert!(!is_identity("bot2", &ids));
        assert!(!is_identity("system:serviceaccount:argo:x", &ids));
    }

    #[test]
    fn cronjob_jobs_are_named_after_their_cronjob() {
        assert_eq!(cronjob_of_job("backup-29012345"), Some("backup"));
        assert_eq!(cronjob_of_job("db-backup-29012345"), Some("db-backup"));
        assert_eq!(cronjob_of_job("backup-manual"), None);
        assert_eq!(cronjob_of_job("-1"), None);
    }

    #[test]
    fn builtin_controllers_only_do_their_job() {
        assert!(builtin_allows(
            "system:serviceaccount:kube-system:cronjob-controller",
            "jobs",
            "create"
        ));
        assert!(!builtin_allows(
            "system:serviceaccount:kube-system:cronjob-controller",
            "cronjobs",
            "create"
        ));
        assert!(!builtin_allows(
            "system:serviceaccount:kube-system:job-controller",
            "jobs",
            "create"
        ));
    }

    fn facets_of(src: &str) -> Facets {
        let l = yaml::load(src, &yaml::Limits::default());
        let objs = k8s::objects(&l.docs[0]).unwrap();
        facets(&l.docs[0], &objs[0])
    }

    #[test]
    fn defaulted_values_are_not_differences() {
        let git = facets_of(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: '0 2 * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          volumes: [{name: cfg, configMap: {name: c, defaultMode: 0644}}]\n          containers:\n          - name: a\n            image: alpine:3.20\n            env: [{name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}]\n",
        );
        let live = facets_of(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c, namespace: default}\nspec:\n  schedule: 0 2 * * *\n  suspend: false\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          securityContext: {}\n          serviceAccountName: default\n          volumes: [{name: cfg, configMap: {name: c, defaultMode: 420}}]\n          containers:\n          - name: a\n            image: docker.io/library/alpine:3.20\n            securityContext: {capabilities: {}}\n            env: [{name: NODE, valueFrom: {fieldRef: {apiVersion: v1, fieldPath: spec.nodeName}}}]\n",
        );
        let d = diff(&live, &git, false);
        assert!(
            d.is_empty(),
            "{:?}",
            d.iter().map(|d| &d.key).collect::<Vec<_>>()
        );
    }
}

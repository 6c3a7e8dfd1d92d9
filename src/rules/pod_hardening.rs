//! pod-security, continued: the hardening settings that decide how far a compromised job
//! gets (privilege escalation, root, capabilities, file system, sysctls, resources), and the
//! off-by-default hygiene rules that peers have.

use super::{Check, Ctx, Effective, Rule, effective};
use crate::declare_rule;
use crate::finding::{Finding, Severity};
use crate::k8s::{ContainerList, ContainerRef};
use crate::yaml::NodeId;

pub static RULES: &[&Rule] = &[
    &HOSTPATH_WRITABLE,
    &PRIVILEGE_ESCALATION_ALLOWED,
    &RUN_AS_ROOT,
    &RESOURCES_UNBOUNDED,
    &SECCOMP_PROFILE_MISSING,
    &IMAGE_PULL_POLICY_NOT_ALWAYS,
    &RUN_AS_LOW_UID,
    &CAPABILITIES_ADDED,
    &HOSTPATH_VOLUME,
    &DEFAULT_NAMESPACE,
];

/// Where to report a setting a container lacks: its `securityContext` key when it has one,
/// else its `name` value, else the container itself.
fn anchor(ctx: &Ctx, c: ContainerRef, prefer: &[&str]) -> NodeId {
    for key in prefer {
        if let Some((k, _)) = ctx.doc.entry(c.node, key) {
            return k;
        }
    }
    ctx.doc.get(c.node, "name").unwrap_or(c.node)
}

/// The fingerprint locator of a setting container `c` lacks: the container's locator and the
/// field, whether or not the enclosing `securityContext`/`resources` exists (the label's
/// anchor moves when one is added; the fingerprint must not, or `--new-only` and baselines
/// would see a new finding).
fn missing_locator(ctx: &Ctx, c: ContainerRef, field: &str) -> String {
    format!("{}.{field}", ctx.doc.locator(c.node))
}

fn is_true(ctx: &Ctx, e: Option<Effective>) -> bool {
    e.is_some_and(|e| ctx.doc.as_bool(e.value) == Some(true))
}

declare_rule! {
    /// ## What it does
    /// Flags hostPath volumes (other than the sensitive paths and runtime sockets, which have
    /// their own rules) that a container mounts without `readOnly: true`.
    ///
    /// ## Why is this bad?
    /// A writable node directory lets a compromised job leave files behind on the node that
    /// outlive the pod: binaries other workloads execute, or data the node trusts (MITRE
    /// ATT&CK T1611).
    ///
    /// ## Example
    /// ```yaml
    /// volumeMounts: [{name: cache, mountPath: /cache}]
    /// volumes: [{name: cache, hostPath: {path: /data/cache}}]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// volumeMounts: [{name: cache, mountPath: /cache, readOnly: true}]
    /// ```
    /// or an `emptyDir` / PersistentVolumeClaim.
    ///
    /// ## References
    /// - Peers: Kubescape C-0045, kube-linter writable-host-mount. cronguard reports the
    ///   volume once, with a label on every writable mount.
    pub static HOSTPATH_WRITABLE = {
        id: "hostpath-writable",
        category: PodSecurity,
        severity: Medium,
        enabled: true,
        attack: ["T1611"],
        summary: "a hostPath volume is mounted writable",
        check: Check::Object(check_hostpath_writable),
    }
}

fn check_hostpath_writable(ctx: &Ctx, out: &mut Vec<Finding>) {
    for pod in ctx.pods() {
        for (name, node, p) in super::pod_security::host_paths(ctx, pod) {
            if super::pod_security::is_runtime_socket(&p)
                || super::pod_security::sensitive(&p).is_some()
            {
                continue;
            }
            let mut writable = Vec::new();
            for c in &pod.containers {
                let Some(mounts) = ctx.doc.get(c.node, "volumeMounts") else {
                    continue;
                };
                for &m in ctx.doc.seq(mounts) {
                    let ro = ctx.doc.get(m, "readOnly").and_then(|r| ctx.doc.as_bool(r));
                    if ctx.doc.get_str(m, "name") == Some(name.as_str()) && ro != Some(true) {
                        writable.push((c, ctx.doc.get(m, "mountPath").unwrap_or(m)));
                    }
                }
            }
            if writable.is_empty() {
                continue;
            }
            let mut f = ctx.finding(
                &HOSTPATH_WRITABLE,
                node,
                format!("hostPath volume {name:?} (`{p}`) is mounted writable"),
            );
            f.value.clone_from(&p);
            f.label = "a node directory".into();
            for (c, at) in writable {
                f = f.with_label(
                    ctx.doc.span(at),
                    format!("writable mount in {}", ctx.container_name(c)),
                );
            }
            out.push(f.with_help("add `readOnly: true` to the volumeMount, or use an emptyDir"));
        }
    }
}

declare_rule! {
    /// ## What it does
    /// Flags containers with `allowPrivilegeEscalation: true` (high), or without the setting
    /// (low: the default lets a setuid binary or file capability raise privileges). Privileged
    /// containers are left to `privileged-container`.
    ///
    /// ## Why is this bad?
    /// `no_new_privs` is what stops a process from gaining more privileges than its parent
    /// through setuid binaries such as `sudo` or `su` (MITRE ATT&CK T1548, Abuse Elevation
    /// Control Mechanism).
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   allowPrivilegeEscalation: true
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// securityContext:
    ///   allowPrivilegeEscalation: false
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, Restricted: Privilege Escalation
    /// - Peers: Checkov CKV_K8S_20, Trivy KSV001, Kubescape C-0016. cronguard separates the
    ///   explicit `true` (high) from the default (low) instead of one severity for both.
    pub static PRIVILEGE_ESCALATION_ALLOWED = {
        id: "privilege-escalation-allowed",
        category: PodSecurity,
        severity: High,
        enabled: true,
        attack: ["T1548"],
        summary: "a container allows privilege escalation",
        check: Check::Object(check_escalation),
    }
}

fn check_escalation(ctx: &Ctx, out: &mut Vec<Finding>) {
    for (pod, c) in ctx.containers() {
        if is_true(ctx, effective(ctx.doc, pod, c, "privileged")) {
            continue;
        }
        match effective(ctx.doc, pod, c, "allowPrivilegeEscalation") {
            Some(e) if ctx.doc.as_bool(e.value) == Some(true) => {
                let mut f = ctx.finding_on_key(
                    &PRIVILEGE_ESCALATION_ALLOWED,
                    e.key,
                    e.value,
                    format!("{} allows privilege escalation", ctx.container_name(c)),
                );
                f.label = "setuid binaries can raise privileges".into();
                out.push(f.with_help("set `allowPrivilegeEscalation: false`"));
            }
            Some(_) => {}
            None => {
                let at = anchor(ctx, *c, &["securityContext"]);
                let mut f = ctx.finding(
                    &PRIVILEGE_ESCALATION_ALLOWED,
                    at,
                    format!(
                        "{} does not set allowPrivilegeEscalation (it defaults to true)",
                        ctx.container_name(c)
                    ),
                );
                f.severity = Severity::Low;
                f.value = "unset".into();
                f.locator = missing_locator(ctx, *c, "securityContext.allowPrivilegeEscalation");
                f.label = "no allowPrivilegeEscalation: false".into();
                out.push(f.with_help(
                    "set `allowPrivilegeEscalation: false` in the container's securityContext",
                ));
            }
        }
    }
}

declare_rule! {
    /// ## What it does
    /// Flags containers whose effective `runAsUser` is 0 (high), or that neither set
    /// `runAsNonRoot: true` nor a non-zero `runAsUser` on the container or the pod (low: the
    /// image's user decides, often root). Pod-level settings apply to every container that
    /// does not override them, as the kubelet merges them.
    ///
    /// ## Why is this bad?
    /// Root in the container is root on the node's kernel: every kernel bug, writable mount or
    /// runtime flaw becomes a host compromise (MITRE ATT&CK T1611 follows from it).
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   runAsUser: 0
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// securityContext:
    ///   runAsNonRoot: true
    ///   runAsUser: 10001
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, Restricted: Running as Non-root
    /// - Peers: Checkov CKV_K8S_23/CKV_K8S_40, Trivy KSV012, Kubescape C-0013. A non-zero
    ///   `runAsUser` alone is accepted as non-root (the kubelet runs that uid), unlike
    ///   Checkov's CKV_K8S_23, which insists on `runAsNonRoot`.
    pub static RUN_AS_ROOT = {
        id: "run-as-root",
        category: PodSecurity,
        severity: High,
        enabled: true,
        attack: [],
        summary: "a container runs as root",
        check: Check::Object(check_root),
    }
}

fn check_root(ctx: &Ctx, out: &mut Vec<Finding>) {
    for (pod, c) in ctx.containers() {
        let user = effective(ctx.doc, pod, c, "runAsUser");
        let uid = user.and_then(|e| ctx.doc.as_i64(e.value));
        if let (Some(e), Some(0)) = (user, uid) {
            let mut f = ctx.finding_on_key(
                &RUN_AS_ROOT,
                e.key,
                e.value,
                format!(
                    "{} runs as root (uid 0{})",
                    ctx.container_name(c),
                    if e.from_container {
                        ""
                    } else {
                        ", from the pod's securityContext"
                    }
                ),
            );
            f.label = "uid 0".into();
            out.push(
                f.with_help("run as a non-root uid (`runAsUser: 10001`) with `runAsNonRoot: true`"),
            );
            continue;
        }
        if uid.is_some_and(|u| u > 0) || is_true(ctx, effective(ctx.doc, pod, c, "runAsNonRoot")) {
            continue;
        }
        let at = anchor(ctx, *c, &["securityContext"]);
        let mut f = ctx.finding(
            &RUN_AS_ROOT,
            at,
            format!(
                "{} may run as root (no runAsNonRoot or runAsUser)",
                ctx.container_name(c)
            ),
        );
        f.severity = Severity::Low;
        f.value = "unset".into();
        f.locator = missing_locator(ctx, *c, "securityContext.runAsNonRoot");
        f.label = "the image decides the user".into();
        out.push(f.with_help(
            "set `runAsNonRoot: true` and a non-zero `runAsUser` on the pod or container",
        ));
    }
}

declare_rule! {
    /// ## What it does
    /// Flags containers without both a CPU and a memory limit (ephemeral containers cannot
    /// set resources and are skipped).
    ///
    /// ## Why is this bad?
    /// A job without limits can take the node's CPU and memory: a miner hidden in a CronJob
    /// runs at full speed, and a runaway run starves everything else (MITRE ATT&CK T1496,
    /// Resource Hijacking).
    ///
    /// ## Example
    /// ```yaml
    /// resources:
    ///   requests: {cpu: 100m}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// resources:
    ///   limits: {cpu: 500m, memory: 256Mi}
    /// ```
    ///
    /// ## References
    /// - Peers: Checkov CKV_K8S_11 (CPU) and CKV_K8S_13 (memory); cronguard reports both in
    ///   one finding that names what is missing.
    pub static RESOURCES_UNBOUNDED = {
        id: "resources-unbounded",
        category: PodSecurity,
        severity: Low,
        enabled: true,
        attack: ["T1496"],
        summary: "a container has no CPU or memory limit",
        check: Check::Object(check_resources),
    }
}

fn check_resources(ctx: &Ctx, out: &mut Vec<Finding>) {
    for (_, c) in ctx.containers() {
        if c.list == ContainerList::EphemeralContainers {
            continue;
        }
        let limits = ctx
            .doc
            .get(c.node, "resources")
            .and_then(|r| ctx.doc.get(r, "limits"));
        let has = |k: &str| limits.and_then(|l| ctx.doc.get(l, k)).is_some();
        let missing: Vec<&str> = ["cpu", "memory"].into_iter().filter(|k| !has(k)).collect();
        if missing.is_empty() {
            continue;
        }
        let at = anchor(ctx, *c, &["resources"]);
        let mut f = ctx.finding(
            &RESOURCES_UNBOUNDED,
            at,
            format!(
                "{} has no {} limit",
                ctx.container_name(c),
                missing.join(" or ")
            ),
        );
        f.value = missing.join(",");
        f.locator = missing_locator(ctx, *c, "resources.limits");
        f.label = format!("no resources.limits.{}", missing.join(" / "));
        out.push(f.with_help("set `resources.limits.cpu` and `resources.limits.memory`"));
    }
}

declare_rule! {
    /// ## What it does
    /// Off by default. Flags containers with no seccomp profile, neither on the container nor
    /// on the pod (`seccompProfile`).
    ///
    /// ## Why is this bad?
    /// Without a profile the container can call every syscall the kernel offers; the runtime's
    /// default profile blocks the rarely needed ones used by escapes.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext: {runAsNonRoot: true}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// securityContext:
    ///   seccompProfile: {type: RuntimeDefault}
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, Restricted: Seccomp
    /// - Peers: Checkov CKV_K8S_31, Trivy KSV030. Off by default because the kubelet can apply
    ///   RuntimeDefault cluster-wide (`--seccomp-default`).
    pub static SECCOMP_PROFILE_MISSING = {
        id: "seccomp-profile-missing",
        category: Hygiene,
        severity: Low,
        enabled: false,
        attack: [],
        summary: "a container has no seccomp profile",
        check: Check::Object(check_seccomp_missing),
    }
}

fn check_seccomp_missing(ctx: &Ctx, out: &mut Vec<Finding>) {
    for (pod, c) in ctx.containers() {
        if effective(ctx.doc, pod, c, "seccompProfile").is_some() {
            continue;
        }
        let at = anchor(ctx, *c, &["securityContext"]);
        let mut f = ctx.finding(
            &SECCOMP_PROFILE_MISSING,
            at,
            format!("{} has no seccomp profile", ctx.container_name(c)),
        );
        f.value.clear();
        f.locator = missing_locator(ctx, *c, "securityContext.seccompProfile");
        f.label = "no seccompProfile".into();
        out.push(f.with_help("set `seccompProfile: {type: RuntimeDefault}` on the pod"));
    }
}

declare_rule! {
    /// ## What it does
    /// Off by default. Flags containers whose `imagePullPolicy` is not `Always` when the image
    /// is not pinned by digest.
    ///
    /// ## Why is this bad?
    /// With `IfNotPresent`, a node may run a stale or tampered image cached under the same tag,
    /// and a private image pulled once by someone else can be reused without credentials.
    ///
    /// ## Example
    /// ```yaml
    /// image: ghcr.io/acme/job:1.2
    /// imagePullPolicy: IfNotPresent
    /// ```
    ///
    /// ## Use instead
    /// Pin the image by digest, or set `imagePullPolicy: Always`.
    ///
    /// ## References
    /// - Peers: Checkov CKV_K8S_15. cronguard accepts digest-pinned images whatever the policy.
    pub static IMAGE_PULL_POLICY_NOT_ALWAYS = {
        id: "image-pull-policy-not-always",
        category: Hygiene,
        severity: Low,
        enabled: false,
        attack: [],
        summary: "a container does not always pull its mutable image",
        check: Check::Object(check_pull_policy),
    }
}

fn check_pull_policy(ctx: &Ctx, out: &mut Vec<Finding>) {
    for (_, c) in ctx.containers() {
        let Some(image) = ctx.doc.get_str(c.node, "image") else {
            continue;
        };
        let Ok(r) = crate::image::parse(image) else {
            continue;
        };
        if r.is_pinned() {
            continue;
        }
        let policy = ctx.doc.get(c.node, "imagePullPolicy");
        let value = policy.and_then(|p| ctx.doc.str(p));
        // Kubernetes defaults to Always for `latest` or untagged images.
        let effective_always = value.map_or(r.is_latest(), |v| v == "Always");
        if effective_always {
            continue;
        }
        let at = policy.unwrap_or_else(|| anchor(ctx, *c, &["image"]));
        let mut f = ctx.finding(
            &IMAGE_PULL_POLICY_NOT_ALWAYS,
            at,
            format!("{} may run a cached copy of {image}", ctx.container_name(c)),
        );
        f.label = format!(
            "imagePullPolicy {}",
            value.unwrap_or("IfNotPresent (default)")
        );
        out.push(f.with_help("pin the image by digest or set `imagePullPolicy: Always`"));
    }
}

declare_rule! {
    /// ## What it does
    /// Off by default. Flags containers whose effective `runAsUser` is between 1 and 9999.
    ///
    /// ## Why is this bad?
    /// Low uids collide with users on the node (system accounts, the first human user): after
    /// an escape, files created with that uid belong to a real account.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext: {runAsUser: 1000}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// securityContext: {runAsUser: 10001}
    /// ```
    ///
    /// ## References
    /// - Peers: kube-score container-security-context-user-group-id, Checkov CKV_K8S_40. Same
    ///   10000 threshold; cronguard evaluates the effective uid (the pod's `runAsUser` for
    ///   containers that do not set one) and leaves uid 0 to `run-as-root`.
    pub static RUN_AS_LOW_UID = {
        id: "run-as-low-uid",
        category: Hygiene,
        severity: Low,
        enabled: false,
        attack: [],
        summary: "a container runs with a uid below 10000",
        check: Check::Object(check_low_uid),
    }
}

fn check_low_uid(ctx: &Ctx, out: &mut Vec<Finding>) {
    for (pod, c) in ctx.containers() {
        let Some(e) = effective(ctx.doc, pod, c, "runAsUser") else {
            continue;
        };
        let Some(uid) = ctx.doc.as_i64(e.value) else {
            continue;
        };
        if (1..10_000).contains(&uid) {
            let mut f = ctx.finding(
                &RUN_AS_LOW_UID,
                e.value,
                format!(
                    "{} runs as uid {uid}, which may exist on the node",
                    ctx.container_name(c)
                ),
            );
            f.label = "below 10000".into();
            out.push(f.with_help("use a uid of 10000 or more"));
        }
    }
}

declare_rule! {
    /// ## What it does
    /// Off by default. Flags every `capabilities.add` entry (the dangerous ones also raise
    /// `capabilities-dangerous`).
    ///
    /// ## Why is this bad?
    /// Any added capability widens what a compromised process can do; teams that run a strict
    /// policy review each one.
    ///
    /// ## Example
    /// ```yaml
    /// capabilities: {add: [CHOWN]}
    /// ```
    ///
    /// ## Use instead
    /// Drop ALL and add nothing, or suppress this finding with a reason where a capability is
    /// needed.
    ///
    /// ## References
    /// - Peers: kube-score, Checkov CKV_K8S_25 (any added capability). cronguard reports one
    ///   finding per added capability, named after normalisation (`cap_chown` is CHOWN).
    pub static CAPABILITIES_ADDED = {
        id: "capabilities-added",
        category: Hygiene,
        severity: Low,
        enabled: false,
        attack: [],
        summary: "a container adds a capability",
        check: Check::Object(check_caps_added),
    }
}

fn check_caps_added(ctx: &Ctx, out: &mut Vec<Finding>) {
    for (_, c) in ctx.containers() {
        let Some(add) = ctx
            .doc
            .get(c.node, "securityContext")
            .and_then(|sc| ctx.doc.path(sc, &["capabilities", "add"]))
        else {
            continue;
        };
        for &cap in ctx.doc.seq(add) {
            let Some(name) = ctx.doc.str(cap) else {
                continue;
            };
            let norm = super::pod_security::normalize_cap(name);
            let mut f = ctx.finding(
                &CAPABILITIES_ADDED,
                cap,
                format!("{} adds capability {norm}", ctx.container_name(c)),
            );
            f.label = "added capability".into();
            out.push(f.with_help("drop ALL and add back nothing unless the job needs it"));
        }
    }
}

declare_rule! {
    /// ## What it does
    /// Off by default. Flags every hostPath volume, whatever its path (the sensitive paths,
    /// runtime sockets and writable mounts also raise `hostpath-sensitive`,
    /// `container-runtime-socket` and `hostpath-writable`).
    ///
    /// ## Why is this bad?
    /// Any node directory couples the job to one node and lets it read or leave data that
    /// outlives the pod; the Pod Security Standards' baseline profile forbids hostPath
    /// entirely. Teams that enforce that profile want every one reported (MITRE ATT&CK T1611
    /// is what the worst of them enable).
    ///
    /// ## Example
    /// ```yaml
    /// volumes:
    /// - name: cache
    ///   hostPath: {path: /data/cache}
    /// ```
    ///
    /// ## Use instead
    /// An `emptyDir`, a PersistentVolumeClaim, a ConfigMap or a Secret.
    ///
    /// ## References
    /// - Pod Security Standards, Baseline: HostPath Volumes
    /// - Peers: Trivy KSV023, Kubescape C-0048, kube-linter host-mounts (all any hostPath).
    ///   cronguard splits the cases by risk and keeps this catch-all off by default.
    pub static HOSTPATH_VOLUME = {
        id: "hostpath-volume",
        category: Hygiene,
        severity: Low,
        enabled: false,
        attack: [],
        summary: "the pod mounts a hostPath volume",
        check: Check::Object(check_hostpath_volume),
    }
}

fn check_hostpath_volume(ctx: &Ctx, out: &mut Vec<Finding>) {
    for pod in ctx.pods() {
        let Some(vols) = pod.field(ctx.doc, "volumes") else {
            continue;
        };
        for &v in ctx.doc.seq(vols) {
            let Some((hk, hp)) = ctx.doc.entry(v, "hostPath") else {
                continue;
            };
            let name = ctx.doc.get_str(v, "name").unwrap_or("");
            let path = ctx.doc.get(hp, "path");
            let raw = path.and_then(|p| ctx.doc.str(p)).unwrap_or_default();
            let norm = super::normalize_path(raw);
            let shown = if raw == norm {
                format!("`{norm}`")
            } else {
                format!("`{raw}` (that is `{norm}`)")
            };
            let mut f = ctx.finding(
                &HOSTPATH_VOLUME,
                path.unwrap_or(hk),
                format!("hostPath volume {name:?} mounts the node's {shown}"),
            );
            f.value = norm;
            f.label = "a directory on the node".into();
            out.push(f.with_help(
                "use an emptyDir, a PersistentVolumeClaim, a ConfigMap or a Secret instead",
            ));
        }
    }
}

declare_rule! {
    /// ## What it does
    /// Off by default. Flags workloads (every workload kind) with no `metadata.namespace`
    /// or with `namespace: default`.
    ///
    /// ## Why is this bad?
    /// Without a namespace, the object lands wherever the applying client points
    /// (usually `default`), which has no quotas, NetworkPolicies or restricted RBAC of its
    /// own; jobs there share the namespace's `default` ServiceAccount and Secrets with
    /// everything else that ended up there.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   name: report
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// metadata:
    ///   name: report
    ///   namespace: reporting
    /// ```
    ///
    /// ## References
    /// - Peers: Checkov CKV_K8S_21, Kubescape C-0209. Off by default: kustomize, Helm and
    ///   Argo CD often set the namespace at render or apply time, so a missing namespace in
    ///   the repository is common and correct there. Only workloads are checked, not every
    ///   namespaced kind.
    pub static DEFAULT_NAMESPACE = {
        id: "default-namespace",
        category: Hygiene,
        severity: Low,
        enabled: false,
        attack: [],
        summary: "the workload has no namespace or uses default",
        check: Check::Object(check_default_namespace),
    }
}

fn check_default_namespace(ctx: &Ctx, out: &mut Vec<Finding>) {
    if ctx.workload.is_none() {
        return;
    }
    let meta = ctx.doc.get(ctx.obj.node, "metadata");
    let ns = meta.and_then(|m| ctx.doc.entry(m, "namespace"));
    let kind = &ctx.obj.id.kind;
    let f = if let Some((k, v)) = ns {
        if ctx.doc.str(v) != Some("default") {
            return;
        }
        let mut f = ctx.finding_on_key(
            &DEFAULT_NAMESPACE,
            k,
            v,
            format!("the {kind} runs in the default namespace"),
        );
        f.label = "namespace: default".into();
        f
    } else {
        let at = meta.and_then(|m| ctx.doc.key_of(m)).unwrap_or(ctx.obj.node);
        let mut f = ctx.finding(
            &DEFAULT_NAMESPACE,
            at,
            format!("the {kind} has no namespace, so it lands in the client's current one"),
        );
        f.value = String::new();
        f.label = "no metadata.namespace".into();
        f
    };
    out.push(f.with_help("set `metadata.namespace` to the team's or application's namespace"));
}

#[cfg(test)]
mod tests {
    use crate::finding::Severity;
    use crate::rules::testing::run;

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {runAsUser: 0}\n  containers:\n  - name: a\n    image: x:1\n  - name: b\n    image: x:1\n    securityContext: {runAsUser: 1000, allowPrivilegeEscalation: true}\n  - name: c\n    image: x:1\n    securityContext: {privileged: true}\n";

    #[test]
    fn root_follows_the_kubelet_merge() {
        let f = run("run-as-root", POD);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f.iter().all(|f| f.severity == Severity::High));
        assert!(f[0].message.contains("from the pod's securityContext"));
    }

    #[test]
    fn escalation_explicit_is_high_unset_is_low_privileged_is_left_alone() {
        let f = run("privilege-escalation-allowed", POD);
        let sev: Vec<Severity> = f.iter().map(|f| f.severity).collect();
        assert_eq!(sev, [Severity::Low, Severity::High]);
    }

    #[test]
    fn sysctl_slash_form_is_normalised() {
        let src = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext:\n    sysctls:\n    - {name: net/ipv4/tcp_syncookies, value: '1'}\n    - {name: kernel/msgmax, value: '1'}\n  containers: [{name: a, image: x}]\n";
        let f = run("unsafe-sysctls", src);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.ends_with("kernel.msgmax"));
    }
}

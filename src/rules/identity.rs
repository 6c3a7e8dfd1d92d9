//! identity: who a workload runs as, and where.

use super::{Check, Ctx, Rule};
use crate::declare_rule;
use crate::finding::{Finding, Related};
use crate::index::{Binding, PolicyRule, Role, Subject};
use crate::k8s::PodView;
use crate::yaml::NodeId;

pub static RULES: &[&Rule] = &[
    &SYSTEM_NAMESPACE_JOB,
    &SA_TOKEN_AUTOMOUNT,
    &DEFAULT_SERVICE_ACCOUNT,
    &SERVICE_ACCOUNT_PRIVILEGED,
    &RBAC_JOB_CREATION_BROAD,
    &MASQUERADING_NAME,
];

/// At most this many related places are attached to one finding.
const MAX_RELATED: usize = 8;

/// Namespaces that belong to the cluster itself.
pub const SYSTEM_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];

declare_rule! {
    /// ## What it does
    /// Flags CronJobs, Jobs, Argo CronWorkflows and KEDA ScaledJobs created in `kube-system`,
    /// `kube-public` or `kube-node-lease` (namespaces can be allowed in the config with
    /// `allowed-system-namespaces`).
    ///
    /// ## Why is this bad?
    /// Scheduled work in a system namespace hides among cluster components, often runs with
    /// their powerful ServiceAccounts, and escapes reviews and policies that exclude system
    /// namespaces. It is a classic persistence spot (MITRE ATT&CK T1053.007).
    ///
    /// ## Example
    /// ```yaml
    /// kind: CronJob
    /// metadata:
    ///   name: cleanup
    ///   namespace: kube-system
    /// ```
    ///
    /// ## Use instead
    /// Run the job in a namespace of its own, with its own ServiceAccount and RBAC.
    ///
    /// ## References
    /// - Peers: Trivy KSV037, Kubescape C-0061 (both flag every workload in kube-system;
    ///   cronguard flags scheduled and run-to-completion workloads, the persistence vector, and
    ///   leaves system Deployments and DaemonSets alone).
    pub static SYSTEM_NAMESPACE_JOB = {
        id: "system-namespace-job",
        category: Identity,
        severity: High,
        enabled: true,
        attack: ["T1053.007"],
        summary: "a scheduled or batch workload runs in a system namespace",
        check: Check::Object(check_system_namespace),
    }
}

fn check_system_namespace(ctx: &Ctx, out: &mut Vec<Finding>) {
    let Some(w) = ctx.workload else { return };
    if !w.kind.is_scheduled() {
        return;
    }
    let Some(ns) = ctx.obj.id.namespace.as_deref() else {
        return;
    };
    if !SYSTEM_NAMESPACES.contains(&ns)
        || ctx
            .settings
            .allowed_system_namespaces
            .iter()
            .any(|a| a == ns)
    {
        return;
    }
    let Some(node) = ctx
        .doc
        .get(ctx.obj.node, "metadata")
        .and_then(|m| ctx.doc.get(m, "namespace"))
    else {
        return;
    };
    let mut f = ctx.finding(
        &SYSTEM_NAMESPACE_JOB,
        node,
        format!(
            "scheduled workload ({}) runs in the system namespace {ns}",
            ctx.obj.id.kind
        ),
    );
    f.label = "a system namespace".into();
    out.push(f.with_help(
        "move the workload to its own namespace, or allow this namespace with `allowed-system-namespaces` in .cronguard.yaml",
    ));
}

/// The ServiceAccount a pod runs as, and where the manifest says so.
struct SaRef {
    namespace: String,
    name: String,
    /// `serviceAccountName` (or the deprecated `serviceAccount`) key and value.
    entry: Option<(NodeId, NodeId)>,
}

fn service_account_of(ctx: &Ctx, pod: &PodView) -> SaRef {
    let doc = ctx.doc;
    let entry = pod
        .entry(doc, "serviceAccountName")
        .or_else(|| pod.entry(doc, "serviceAccount"))
        .filter(|(_, v)| doc.str(*v).is_some_and(|s| !s.trim().is_empty()));
    SaRef {
        namespace: ctx
            .obj
            .id
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into()),
        name: entry
            .and_then(|(_, v)| doc.str(v))
            .map_or_else(|| "default".into(), |s| s.trim().to_string()),
        entry,
    }
}

/// A finding on the pod's `serviceAccountName`, or on the key of its pod spec when the
/// field is absent.
fn finding_on_sa(ctx: &Ctx, rule: &Rule, pod: &PodView, sa: &SaRef, message: String) -> Finding {
    if let Some((k, v)) = sa.entry {
        return ctx.finding_on_key(rule, k, v, message);
    }
    let at = ctx.doc.key_of(pod.spec).unwrap_or(pod.spec);
    ctx.finding(rule, at, message)
}

fn related(path: &std::sync::Arc<str>, span: crate::yaml::Span, text: String) -> Related {
    Related {
        path: path.clone(),
        span,
        text,
    }
}

declare_rule! {
    /// ## What it does
    /// Flags pods that get a ServiceAccount token mounted: `automountServiceAccountToken` is
    /// not `false` on the pod, and the pod's ServiceAccount, when its manifest is in the
    /// scanned set, does not set it to `false` either. The pod's setting wins over the
    /// ServiceAccount's, as in Kubernetes: `true` on the pod mounts the token even when the
    /// ServiceAccount says `false`.
    ///
    /// ## Why is this bad?
    /// The token at `/var/run/secrets/kubernetes.io/serviceaccount/token` is a credential
    /// for the API server. Anything that runs in the job (a compromised image, a script
    /// fetched at run time) can read it and act with the ServiceAccount's permissions
    /// (MITRE ATT&CK T1528, Steal Application Access Token). Most jobs never call the API.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   serviceAccountName: report
    ///   containers: [...]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   serviceAccountName: report
    ///   automountServiceAccountToken: false
    /// ```
    /// or set `automountServiceAccountToken: false` on the ServiceAccount. A job that does
    /// call the API can mount a short-lived projected token explicitly.
    ///
    /// ## References
    /// - Kubernetes: configure service accounts for pods (opt out of API credential automounting)
    /// - Peers: Checkov CKV_K8S_38, Kubescape C-0034, Trivy KSV036. Checkov and Trivy read
    ///   the pod only; cronguard also follows `serviceAccountName` to the ServiceAccount in
    ///   the scanned set (another file included) and accepts its `false`, as Kubescape does.
    pub static SA_TOKEN_AUTOMOUNT = {
        id: "sa-token-automount",
        category: Identity,
        severity: Low,
        enabled: true,
        attack: ["T1528"],
        summary: "the pod gets a ServiceAccount token mounted",
        check: Check::Object(check_automount),
    }
}

fn check_automount(ctx: &Ctx, out: &mut Vec<Finding>) {
    let doc = ctx.doc;
    for pod in ctx.pods() {
        let sa = service_account_of(ctx, pod);
        let account = ctx.index.service_account(&sa.namespace, &sa.name);
        let mut f = match pod.entry(doc, "automountServiceAccountToken") {
            Some((_, v)) if doc.as_bool(v) == Some(false) => continue,
            Some((k, v)) => {
                let mut f = ctx.finding_on_key(
                    &SA_TOKEN_AUTOMOUNT,
                    k,
                    v,
                    format!(
                        "the pod mounts the token of ServiceAccount {}/{}",
                        sa.namespace, sa.name
                    ),
                );
                f.label = if doc.as_bool(v) == Some(true) {
                    "automountServiceAccountToken: true".into()
                } else {
                    "not the boolean false".into()
                };
                if let Some(a) = account.filter(|a| a.automount == Some(false)) {
                    f.related.push(related(
                        &a.at.path,
                        a.focus,
                        "the pod overrides its ServiceAccount's `false`".into(),
                    ));
                }
                f
            }
            None => {
                if account.is_some_and(|a| a.automount == Some(false)) {
                    continue;
                }
                let mut f = finding_on_sa(
                    ctx,
                    &SA_TOKEN_AUTOMOUNT,
                    pod,
                    &sa,
                    format!(
                        "the pod mounts the token of ServiceAccount {}/{}: automount is disabled neither on the pod nor on the ServiceAccount",
                        sa.namespace, sa.name
                    ),
                );
                f.label = "its token is mounted into every container".into();
                if let Some(a) = account {
                    f.related.push(related(
                        &a.at.path,
                        a.focus,
                        format!(
                            "ServiceAccount {}/{} does not set automountServiceAccountToken: false",
                            sa.namespace, sa.name
                        ),
                    ));
                }
                f
            }
        };
        f = f.with_help(
            "set `automountServiceAccountToken: false` on the pod spec (or on its ServiceAccount, when the pod does not set it)",
        );
        out.push(f);
    }
}

declare_rule! {
    /// ## What it does
    /// Flags pods that run as their namespace's `default` ServiceAccount: no
    /// `serviceAccountName`, or `serviceAccountName: default`.
    ///
    /// ## Why is this bad?
    /// Every pod of the namespace that names no account shares `default`. Permissions
    /// granted to it for one workload (often by a quick `RoleBinding` to `default`) reach all
    /// of them, and the job cannot be told apart from the others in audit logs.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   containers: [...]
    /// ```
    ///
    /// ## Use instead
    /// Give the job its own ServiceAccount (with `automountServiceAccountToken: false`
    /// unless it calls the API) and name it with `serviceAccountName`.
    ///
    /// ## References
    /// - Kubernetes: service accounts ("default service accounts")
    /// - Peers: kube-linter default-service-account (flags `default` and an empty name
    ///   alike; so does cronguard). cronguard also reads the deprecated `serviceAccount` field
    ///   and Argo workflow and template `serviceAccountName`.
    pub static DEFAULT_SERVICE_ACCOUNT = {
        id: "default-service-account",
        category: Identity,
        severity: Low,
        enabled: true,
        attack: [],
        summary: "the pod runs as the namespace's default ServiceAccount",
        check: Check::Object(check_default_sa),
    }
}

fn check_default_sa(ctx: &Ctx, out: &mut Vec<Finding>) {
    for pod in ctx.pods() {
        let sa = service_account_of(ctx, pod);
        if sa.name != "default" {
            continue;
        }
        let message = if sa.entry.is_some() {
            format!(
                "the pod runs as the default ServiceAccount of namespace {}",
                sa.namespace
            )
        } else {
            format!(
                "no serviceAccountName: the pod runs as the default ServiceAccount of namespace {}",
                sa.namespace
            )
        };
        let mut f = finding_on_sa(ctx, &DEFAULT_SERVICE_ACCOUNT, pod, &sa, message);
        f.label = "shared by every pod that names no ServiceAccount".into();
        out.push(f.with_help(
            "create a ServiceAccount for this workload and set `serviceAccountName` to it",
        ));
    }
}

/// Does a policy rule's `apiGroups` cover `group`? (a missing list is read as the core
/// group; the API server rejects it, and reading it generously errs on reporting)
fn group_matches(r: &PolicyRule, group: &str) -> bool {
    if r.api_groups.is_empty() {
        return group.is_empty();
    }
    r.api_groups.iter().any(|g| g == group || g == "*")
}

fn resource_matches(r: &PolicyRule, resource: &str) -> bool {
    r.resources.iter().any(|x| x == resource || x == "*")
}

fn verb_matches(r: &PolicyRule, verb: &str) -> bool {
    r.verbs.iter().any(|v| v == verb || v == "*")
}

/// What makes a policy rule dangerous to hold, if anything: wildcards, reading secrets,
/// creating pods/jobs/cronjobs/bindings, exec into pods, impersonation, escalate/bind.
pub fn privileged_grant(r: &PolicyRule) -> Option<String> {
    let all_verbs = r.verbs.iter().any(|v| v == "*");
    let all_resources = r.resources.iter().any(|x| x == "*");
    if all_verbs && all_resources {
        return Some("use every verb on every resource (`*`)".into());
    }
    if all_verbs && !r.resources.is_empty() {
        return Some(format!(
            "use every verb (`*`) on {}",
            r.resources.join(", ")
        ));
    }
    if all_resources && !r.verbs.is_empty() {
        return Some(format!("{} every resource (`*`)", r.verbs.join("/")));
    }
    if r.resource_names.is_empty()
        && group_matches(r, "")
        && resource_matches(r, "secrets")
        && ["get", "list", "watch"].iter().any(|v| verb_matches(r, v))
    {
        return Some("read secrets".into());
    }
    let creates: &[(&str, &str)] = &[
        ("", "pods"),
        ("batch", "jobs"),
        ("batch", "cronjobs"),
        ("rbac.authorization.k8s.io", "rolebindings"),
        ("rbac.authorization.k8s.io", "clusterrolebindings"),
    ];
    let made: Vec<&str> = creates
        .iter()
        .filter(|(g, res)| group_matches(r, g) && resource_matches(r, res))
        .map(|(_, res)| *res)
        .collect();
    if verb_matches(r, "create") && !made.is_empty() {
        return Some(format!("create {}", made.join(", ")));
    }
    if verb_matches(r, "create") && group_matches(r, "") && resource_matches(r, "pods/exec") {
        return Some("exec into pods".into());
    }
    if verb_matches(r, "impersonate") {
        return Some("impersonate other identities".into());
    }
    if ["escalate", "bind"].iter().any(|v| verb_matches(r, v))
        && group_matches(r, "rbac.authorization.k8s.io")
    {
        return Some("escalate or bind roles".into());
    }
    None
}

/// Can a policy rule create or change scheduled work (cronjobs, jobs or pods)?
pub fn job_creation_grant(r: &PolicyRule) -> Option<String> {
    let verbs: Vec<&str> = ["create", "update", "patch"]
        .into_iter()
        .filter(|v| verb_matches(r, v))
        .collect();
    if verbs.is_empty() {
        return None;
    }
    let targets: Vec<&str> = [("batch", "cronjobs"), ("batch", "jobs"), ("", "pods")]
        .into_iter()
        .filter(|(g, res)| group_matches(r, g) && resource_matches(r, res))
        .map(|(_, res)| res)
        .collect();
    (!targets.is_empty()).then(|| format!("{} {}", verbs.join("/"), targets.join(", ")))
}

/// What a built-in ClusterRole grants, for bindings to roles that are not in the repo.
fn builtin_grant(kind: &str, name: &str, job_creation: bool) -> Option<&'static str> {
    if kind != "ClusterRole" {
        return None;
    }
    match name {
        "cluster-admin" => Some("use every verb on every resource (built-in cluster-admin)"),
        "admin" if job_creation => {
            Some("create/update/patch cronjobs, jobs, pods (built-in admin)")
        }
        "admin" => {
            Some("create pods, jobs, cronjobs, rolebindings and read secrets (built-in admin)")
        }
        "edit" if job_creation => Some("create/update/patch cronjobs, jobs, pods (built-in edit)"),
        "edit" => Some("create pods, jobs, cronjobs and read secrets (built-in edit)"),
        _ => None,
    }
}

/// What the role a binding names lets its subjects do, per `classify`, with where it says so.
struct Grant<'a> {
    what: String,
    /// The role and the rule that grants it, when the role is in the scanned set.
    at: Option<(&'a Role, &'a PolicyRule)>,
}

fn grants_of<'a>(
    ctx: &'a Ctx,
    role_kind: &str,
    role_name: &str,
    namespace: Option<&str>,
    job_creation: bool,
) -> Vec<Grant<'a>> {
    // cluster-admin is cluster-admin whatever a repo redefines under that name.
    if role_name == "cluster-admin" || ctx.index.role(role_kind, role_name, namespace).is_none() {
        return builtin_grant(role_kind, role_name, job_creation)
            .map(|w| Grant {
                what: w.to_string(),
                at: None,
            })
            .into_iter()
            .collect();
    }
    let Some(role) = ctx.index.role(role_kind, role_name, namespace) else {
        return Vec::new();
    };
    let classify = if job_creation {
        job_creation_grant
    } else {
        privileged_grant
    };
    ctx.index
        .rules_of(role)
        .into_iter()
        .filter_map(|(r, p)| {
            classify(p).map(|what| Grant {
                what,
                at: Some((r, p)),
            })
        })
        .collect()
}

fn role_display(kind: &str, name: &str) -> String {
    format!("{kind} {name}")
}

/// `Kind namespace/name`, or `Kind name` for cluster-scoped RBAC objects.
fn rbac_display(id: &crate::k8s::ObjectId) -> String {
    let name = id.name.as_deref().unwrap_or("<unnamed>");
    if id.kind.starts_with("Cluster") {
        format!("{} {name}", id.kind)
    } else {
        format!(
            "{} {}/{name}",
            id.kind,
            id.namespace.as_deref().unwrap_or("default")
        )
    }
}

declare_rule! {
    /// ## What it does
    /// Follows a workload's ServiceAccount to the RoleBindings and ClusterRoleBindings in the
    /// scanned set that bind it (by name, as the `system:serviceaccount:<ns>:<name>` user,
    /// or through the `system:serviceaccounts`, `system:serviceaccounts:<ns>` and
    /// `system:authenticated` groups), and to the roles they grant (ClusterRole aggregation
    /// included). Flags the workload when a role grants `cluster-admin`, wildcard verbs or
    /// resources, reading secrets (get/list/watch without `resourceNames`), create on pods,
    /// jobs, cronjobs, rolebindings or clusterrolebindings, exec into pods, impersonation, or
    /// escalate/bind on roles. The built-in `admin` and `edit` ClusterRoles count when the
    /// repo does not define them. The finding points at `serviceAccountName` (or the pod spec
    /// when it is absent) and names each binding and role rule, in whatever file they are.
    ///
    /// ## Why is this bad?
    /// Whoever controls what the job runs (its image, a script it fetches) acts with those
    /// permissions: read every secret, or create more pods, jobs and CronJobs and bindings,
    /// which is persistence and privilege escalation in one (MITRE ATT&CK T1078, Valid
    /// Accounts; T1053.007, Container Orchestration Job).
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRoleBinding
    /// roleRef: {kind: ClusterRole, name: cluster-admin}
    /// subjects:
    /// - {kind: ServiceAccount, name: backup, namespace: data}
    /// ```
    ///
    /// ## Use instead
    /// Bind the job's ServiceAccount to a Role in its own namespace that lists only the
    /// verbs and resources it uses, with `resourceNames` where it can.
    ///
    /// ## References
    /// - Kubernetes: RBAC good practices (least privilege, escalation paths)
    /// - Peers: Kubescape C-0267 (workload with cluster takeover roles) and C-0272
    ///   (workload with administrative roles), which need a live cluster or a full manifest
    ///   set. cronguard does it statically across the files of the scan and reports the
    ///   binding and the exact rule as related locations; roles that are not in the scanned
    ///   set are unknown and not reported (except the built-in cluster-admin, admin, edit).
    pub static SERVICE_ACCOUNT_PRIVILEGED = {
        id: "service-account-privileged",
        category: Identity,
        severity: Critical,
        enabled: true,
        attack: ["T1078", "T1053.007"],
        summary: "the pod's ServiceAccount is bound to powerful permissions",
        check: Check::Object(check_sa_privileged),
    }
}

fn check_sa_privileged(ctx: &Ctx, out: &mut Vec<Finding>) {
    for pod in ctx.pods() {
        let sa = service_account_of(ctx, pod);
        let mut found: Vec<(&Binding, &Subject, Grant)> = Vec::new();
        for (b, subj) in ctx
            .index
            .bindings_of_service_account(&sa.namespace, &sa.name)
        {
            for g in grants_of(
                ctx,
                &b.role_kind,
                &b.role_name,
                b.id.namespace.as_deref(),
                false,
            ) {
                found.push((b, subj, g));
            }
        }
        let Some((b0, _, g0)) = found.first() else {
            continue;
        };
        let mut f = finding_on_sa(
            ctx,
            &SERVICE_ACCOUNT_PRIVILEGED,
            pod,
            &sa,
            format!(
                "service account {}/{} can {} through {}",
                sa.namespace,
                sa.name,
                g0.what,
                rbac_display(&b0.id)
            ),
        );
        f.label = format!("runs as ServiceAccount {}/{}", sa.namespace, sa.name);
        for (b, subj, g) in &found {
            let bname = rbac_display(&b.id);
            let binding_note = format!(
                "{bname} binds it to {}",
                role_display(&b.role_kind, &b.role_name)
            );
            if !f.related.iter().any(|r| r.text == binding_note) {
                f.related.push(related(&b.at.path, subj.span, binding_note));
            }
            if let Some((role, rule)) = g.at {
                f.related.push(related(
                    &role.at.path,
                    rule.span,
                    format!("{} lets it {}", rbac_display(&role.id), g.what),
                ));
            }
        }
        f.related.truncate(MAX_RELATED);
        out.push(f.with_help(
            "bind this ServiceAccount only to a namespaced Role with the verbs and resources the job needs, or give the job its own unprivileged ServiceAccount",
        ));
    }
}

/// Is a binding subject one that many identities share?
fn broad_subject(s: &Subject) -> Option<String> {
    match (s.kind.as_str(), s.name.as_str()) {
        ("Group", "system:authenticated") => Some("every authenticated user".into()),
        ("Group", "system:unauthenticated") => Some("anonymous users".into()),
        ("User", "system:anonymous") => Some("the anonymous user".into()),
        ("Group", "system:serviceaccounts") => Some("every ServiceAccount of the cluster".into()),
        ("Group", n) if n.starts_with("system:serviceaccounts:") => Some(format!(
            "every ServiceAccount of namespace {}",
            &n["system:serviceaccounts:".len()..]
        )),
        ("ServiceAccount", "default") => Some(format!(
            "the default ServiceAccount of namespace {} (every pod that names none)",
            s.namespace.as_deref().unwrap_or("default")
        )),
        _ => None,
    }
}

declare_rule! {
    /// ## What it does
    /// Flags RoleBindings and ClusterRoleBindings that give a broad subject a role able to
    /// create, update or patch cronjobs, jobs or pods (explicitly, by `*`, or through the
    /// built-in `cluster-admin`, `admin` and `edit` ClusterRoles). Broad subjects are the
    /// groups `system:authenticated`, `system:unauthenticated`, `system:serviceaccounts`,
    /// `system:serviceaccounts:<ns>`, the user `system:anonymous`, and any `default`
    /// ServiceAccount. The finding is on the subject; the role rule is a related location,
    /// in whatever file of the scan it is.
    ///
    /// ## Why is this bad?
    /// Anyone in the group, or any pod that runs as the shared account, can schedule its own
    /// CronJob: code that runs again and again under the cluster's authority, the core of
    /// MITRE ATT&CK T1053.007 (Container Orchestration Job).
    ///
    /// ## Example
    /// ```yaml
    /// kind: RoleBinding
    /// roleRef: {kind: ClusterRole, name: edit}
    /// subjects:
    /// - {kind: Group, name: system:serviceaccounts:ci}
    /// ```
    ///
    /// ## Use instead
    /// Bind the role to the one ServiceAccount or group that needs it.
    ///
    /// ## References
    /// - Kubernetes: RBAC good practices ("workload creation")
    /// - Peers: none in RULES.md. Kubescape's C-0015/C-0262 style controls look at the live
    ///   cluster's bindings for anonymous or authenticated users in general; cronguard
    ///   checks the repo's bindings, and only for the ability to create scheduled work.
    pub static RBAC_JOB_CREATION_BROAD = {
        id: "rbac-job-creation-broad",
        category: Identity,
        severity: High,
        enabled: true,
        attack: ["T1053.007"],
        summary: "a broad subject may create cronjobs, jobs or pods",
        check: Check::Object(check_job_creation_broad),
    }
}

fn check_job_creation_broad(ctx: &Ctx, out: &mut Vec<Finding>) {
    let doc = ctx.doc;
    let id = &ctx.obj.id;
    if id.group() != "rbac.authorization.k8s.io"
        || !matches!(id.kind.as_str(), "RoleBinding" | "ClusterRoleBinding")
    {
        return;
    }
    let root = ctx.obj.node;
    let role_ref = doc.get(root, "roleRef");
    let role_kind = role_ref.and_then(|r| doc.get_str(r, "kind")).unwrap_or("");
    let role_name = role_ref.and_then(|r| doc.get_str(r, "name")).unwrap_or("");
    let Some(subjects) = doc.get(root, "subjects") else {
        return;
    };
    let mut grants: Option<Vec<Grant>> = None;
    for &s in doc.seq(subjects) {
        let subject = Subject {
            kind: doc.get_str(s, "kind").unwrap_or("").to_string(),
            name: doc.get_str(s, "name").unwrap_or("").to_string(),
            namespace: doc
                .get_str(s, "namespace")
                .or(id.namespace.as_deref())
                .map(str::to_string),
            span: doc.span(s),
        };
        let Some(who) = broad_subject(&subject) else {
            continue;
        };
        let grants = grants.get_or_insert_with(|| {
            grants_of(ctx, role_kind, role_name, id.namespace.as_deref(), true)
        });
        let Some(first) = grants.first() else {
            return;
        };
        let Some((k, v)) = doc.entry(s, "name") else {
            continue;
        };
        let mut f = ctx.finding_on_key(
            &RBAC_JOB_CREATION_BROAD,
            k,
            v,
            format!(
                "the {} lets {who} {} through {}",
                rbac_display(id),
                first.what,
                role_display(role_kind, role_name)
            ),
        );
        f.label = format!("{who} may schedule workloads");
        for g in grants.iter().filter_map(|g| g.at.map(|a| (g, a))) {
            let (g, (role, rule)) = g;
            f.related.push(related(
                &role.at.path,
                rule.span,
                format!("{} lets it {}", rbac_display(&role.id), g.what),
            ));
        }
        f.related.truncate(MAX_RELATED);
        out.push(f.with_help(
            "bind the role to the specific ServiceAccount or group that needs it, not to a shared or anonymous subject",
        ));
    }
}

/// A system component, and where its official images come from (`registry/repository`
/// prefixes; `*` in a host part matches one DNS label or more, for cloud registries).
struct Component {
    name: &'static str,
    images: &'static [&'static str],
}

/// Registries of the managed Kubernetes distributions, allowed for every core component.
const CORE_SOURCES: &[&str] = &[
    "registry.k8s.io/",
    "k8s.gcr.io/",
    "gcr.io/google-containers/",
    "gcr.io/google_containers/",
    "gke.gcr.io/",
    "mcr.microsoft.com/oss/",
    "public.ecr.aws/eks/",
    "public.ecr.aws/eks-distro/",
    "*.dkr.ecr.*.amazonaws.com/eks/",
];

const COMPONENTS: &[Component] = &[
    Component {
        name: "kube-proxy",
        images: &[],
    },
    Component {
        name: "kube-apiserver",
        images: &[],
    },
    Component {
        name: "kube-controller-manager",
        images: &[],
    },
    Component {
        name: "kube-scheduler",
        images: &[],
    },
    Component {
        name: "cloud-controller-manager",
        images: &[],
    },
    Component {
        name: "etcd",
        images: &[
            "quay.io/coreos/etcd",
            "gcr.io/etcd-development/etcd",
            "docker.io/bitnami/etcd",
        ],
    },
    Component {
        name: "coredns",
        images: &["docker.io/coredns/coredns"],
    },
    Component {
        name: "kube-dns",
        images: &[],
    },
    Component {
        name: "metrics-server",
        images: &["docker.io/bitnami/metrics-server"],
    },
    Component {
        name: "kube-state-metrics",
        images: &[
            "quay.io/coreos/kube-state-metrics",
            "docker.io/bitnami/kube-state-metrics",
        ],
    },
    Component {
        name: "cluster-autoscaler",
        images: &[],
    },
    Component {
        name: "konnectivity-agent",
        images: &[],
    },
    Component {
        name: "node-local-dns",
        images: &[],
    },
    Component {
        name: "cilium",
        images: &["quay.io/cilium/", "docker.io/cilium/"],
    },
    Component {
        name: "cilium-operator",
        images: &["quay.io/cilium/", "docker.io/cilium/"],
    },
    Component {
        name: "cilium-envoy",
        images: &["quay.io/cilium/", "docker.io/cilium/"],
    },
    Component {
        name: "hubble-relay",
        images: &["quay.io/cilium/", "docker.io/cilium/"],
    },
    Component {
        name: "calico-node",
        images: &["docker.io/calico/", "quay.io/calico/", "quay.io/tigera/"],
    },
    Component {
        name: "calico-kube-controllers",
        images: &["docker.io/calico/", "quay.io/calico/", "quay.io/tigera/"],
    },
    Component {
        name: "calico-typha",
        images: &["docker.io/calico/", "quay.io/calico/", "quay.io/tigera/"],
    },
    Component {
        name: "aws-node",
        images: &[
            "*.dkr.ecr.*.amazonaws.com/amazon-k8s-cni",
            "*.dkr.ecr.*.amazonaws.com/amazon/",
            "public.ecr.aws/amazon-k8s-cni",
            "public.ecr.aws/eks/",
        ],
    },
    Component {
        name: "kube-flannel",
        images: &[
            "docker.io/flannel/",
            "ghcr.io/flannel-io/",
            "quay.io/coreos/flannel",
        ],
    },
    Component {
        name: "weave-net",
        images: &["docker.io/weaveworks/", "ghcr.io/weaveworks/"],
    },
];

/// System namespaces whose look-alikes are reported.
const IMITATED_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];

/// Does `host` match a pattern host where `*` stands for one or more DNS labels' worth of
/// characters without a `/`?
fn host_matches(host: &str, pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = host;
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(p) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.len() > p.len() && rest.ends_with(p);
        } else {
            let Some(at) = rest.find(p).filter(|at| *at > 0) else {
                return false;
            };
            rest = &rest[at + p.len()..];
        }
    }
    rest.is_empty()
}

/// Is `image` (normalised `registry/repository`) one of the sources in `allowed`?
fn from_source(image: &crate::image::ImageRef, allowed: &[&str]) -> bool {
    let full = format!("{}/{}", image.registry, image.repository);
    allowed.iter().any(|src| {
        let (host, path) = src.split_once('/').unwrap_or((src, ""));
        let Some((ihost, ipath)) = full.split_once('/') else {
            return false;
        };
        host_matches(ihost, host)
            && (ipath.starts_with(path)
                && (path.is_empty()
                    || path.ends_with('/')
                    || ipath.len() == path.len()
                    || ipath[path.len()..].starts_with(['/', '-'])))
    })
}

/// The component `name` imitates with look-alike characters (its TR39 skeleton equals the
/// component's, or starts with the component's followed by `-`, but the text differs).
fn lookalike_of(name: &str, candidates: &[Known]) -> Option<&'static str> {
    if name.is_empty() || name.len() > 253 {
        return None;
    }
    let sk = crate::unicode::skeleton(name);
    for c in candidates {
        if name == c.name
            || name
                .strip_prefix(c.name)
                .is_some_and(|r| r.starts_with('-'))
        {
            return None;
        }
        if sk == c.skeleton || sk.starts_with(&c.prefix) {
            return Some(c.name);
        }
    }
    None
}

/// A name with its UTS #39 skeleton, and the skeleton of `name-` (computed once).
struct Known {
    name: &'static str,
    skeleton: String,
    prefix: String,
}

fn skeletons(names: impl Iterator<Item = &'static str>) -> Vec<Known> {
    names
        .map(|name| Known {
            name,
            skeleton: crate::unicode::skeleton(name),
            prefix: crate::unicode::skeleton(&format!("{name}-")),
        })
        .collect()
}

fn component_skeletons() -> &'static [Known] {
    static S: std::sync::OnceLock<Vec<Known>> = std::sync::OnceLock::new();
    S.get_or_init(|| skeletons(COMPONENTS.iter().map(|c| c.name)))
}

fn namespace_skeletons() -> &'static [Known] {
    static S: std::sync::OnceLock<Vec<Known>> = std::sync::OnceLock::new();
    S.get_or_init(|| skeletons(IMITATED_NAMESPACES.iter().copied()))
}

/// The component an object's name claims to be: the exact name anywhere, or
/// `<component>-...` inside a system namespace (where DaemonSet pods and generated names
/// live).
fn claimed_component(name: &str, namespace: &str) -> Option<&'static Component> {
    let in_system = IMITATED_NAMESPACES.contains(&namespace);
    COMPONENTS
        .iter()
        .filter(|c| name == c.name || (in_system && name.starts_with(&format!("{}-", c.name))))
        .max_by_key(|c| c.name.len())
}

declare_rule! {
    /// ## What it does
    /// Flags objects that pass for a cluster component:
    /// - a workload named like a system component (kube-proxy, coredns, etcd,
    ///   kube-apiserver, metrics-server, cilium, calico-node, aws-node, kube-flannel, ...;
    ///   the exact name in any namespace, or `<component>-...` in a system namespace) whose
    ///   images do not come from that component's official registries (registry.k8s.io and
    ///   the managed-Kubernetes registries, quay.io/cilium, docker.io/calico, the EKS ECR
    ///   repositories, ...);
    /// - any object whose name is a look-alike of a component (`kube-pr0xy` is not, but
    ///   `kube-proxу` with a Cyrillic `у`, or `ca1ico-node` with a digit one, are: their UTS
    ///   #39 skeletons match), or whose namespace is a look-alike of `kube-system`,
    ///   `kube-public` or `kube-node-lease` (`kube-systern`).
    ///
    /// ## Why is this bad?
    /// Reviewers and responders skip what looks like the platform's own pods. Naming a
    /// miner or a backdoor `kube-proxy` in `kube-system`, or a namespace `kube-systern`,
    /// is how it survives a glance at `kubectl get pods -A` (MITRE ATT&CK T1036.005,
    /// Masquerading: Match Legitimate Name or Location).
    ///
    /// ## Example
    /// ```yaml
    /// kind: CronJob
    /// metadata:
    ///   name: kube-proxy-sync
    ///   namespace: kube-system
    /// # ... image: docker.io/someone/tools:1
    /// ```
    ///
    /// ## Use instead
    /// Name the workload after what it does, in its own namespace; run components from
    /// their official images.
    ///
    /// ## References
    /// - MITRE ATT&CK T1036.005; Unicode Technical Standard #39 (confusable detection)
    /// - Peers: none in RULES.md. `confusable-identifier` reports any non-ASCII look-alike;
    ///   this rule adds the system-component context, ASCII look-alikes (`1`/`l`, `rn`/`m`)
    ///   and the image provenance check. The registry list is built in; a component run from
    ///   a private mirror needs a suppression with the reason.
    pub static MASQUERADING_NAME = {
        id: "masquerading-name",
        category: Identity,
        severity: High,
        enabled: true,
        attack: ["T1036.005"],
        summary: "a name imitates a system component",
        check: Check::Object(check_masquerading),
    }
}

fn check_masquerading(ctx: &Ctx, out: &mut Vec<Finding>) {
    let doc = ctx.doc;
    let Some(meta) = doc.get(ctx.obj.node, "metadata") else {
        return;
    };
    let kind = &ctx.obj.id.kind;
    let name_node = doc
        .get(meta, "name")
        .or_else(|| doc.get(meta, "generateName"));
    let name = name_node.and_then(|n| doc.str(n)).unwrap_or("");
    let namespace = ctx.obj.id.namespace.as_deref().unwrap_or("");
    if let Some(n) = name_node
        && let Some(c) = lookalike_of(name, component_skeletons())
    {
        let mut f = ctx.finding(
            &MASQUERADING_NAME,
            n,
            format!("the {kind} name {name:?} is a look-alike of the system component {c}"),
        );
        f.label = format!("reads as {c}, but is not");
        out.push(f.with_help(format!(
            "rename the object; it must not be mistaken for {c}"
        )));
    }
    if let Some(n) = doc.get(meta, "namespace")
        && let Some(c) = lookalike_of(namespace, namespace_skeletons())
    {
        let mut f = ctx.finding(
            &MASQUERADING_NAME,
            n,
            format!("namespace {namespace:?} is a look-alike of {c}"),
        );
        f.label = format!("reads as {c}, but is not");
        out.push(f.with_help(format!("use a namespace that cannot be mistaken for {c}")));
    }
    let (Some(n), Some(comp)) = (name_node, claimed_component(name, namespace)) else {
        return;
    };
    for (_, c) in ctx.containers() {
        let Some(img_node) = doc.get(c.node, "image") else {
            continue;
        };
        let Some(text) = doc.str(img_node) else {
            continue;
        };
        let official = crate::image::parse(text.trim())
            .is_ok_and(|img| from_source(&img, CORE_SOURCES) || from_source(&img, comp.images));
        if official {
            continue;
        }
        let mut f = ctx.finding(
            &MASQUERADING_NAME,
            n,
            format!(
                "the {kind} {name:?} is named like the system component {} but runs an image from elsewhere",
                comp.name
            ),
        );
        f.label = format!("named like {}", comp.name);
        let f = f.with_label(doc.span(img_node), "not an official image of the component");
        out.push(f.with_help(format!(
            "rename the workload after what it does, or run {} from its official registry",
            comp.name
        )));
        break;
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::run;

    #[test]
    fn only_scheduled_workloads_in_system_namespaces() {
        let job = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c, namespace: kube-system}\nspec: {}\n";
        assert_eq!(run("system-namespace-job", job).len(), 1);
        let dep = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: c, namespace: kube-system}\nspec: {}\n";
        assert!(run("system-namespace-job", dep).is_empty());
        let other = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: c, namespace: kube-systemx}\nspec: {}\n";
        assert!(run("system-namespace-job", other).is_empty());
    }

    const CRONJOB: &str = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c, namespace: ops}\nspec:\n  schedule: '0 * * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          serviceAccountName: runner\n          containers: [{name: a, image: alpine}]\n";

    fn with_rbac(rbac: &str) -> String {
        format!("{CRONJOB}---\n{rbac}")
    }

    #[test]
    fn aggregation_loops_terminate_and_unmatched_selectors_are_ignored() {
        let rbac = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: a, labels: {x: '1'}}\naggregationRule:\n  clusterRoleSelectors: [{matchLabels: {y: '1'}}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: b, labels: {y: '1'}}\naggregationRule:\n  clusterRoleSelectors: [{matchLabels: {x: '1'}}, {matchExpressions: []}]\nrules:\n- {apiGroups: [''], resources: [pods], verbs: [get]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: r}\nroleRef: {kind: ClusterRole, name: a}\nsubjects: [{kind: ServiceAccount, name: runner, namespace: ops}]\n";
        assert!(run("service-account-privileged", &with_rbac(rbac)).is_empty());
        let wide = rbac.replace("verbs: [get]", "verbs: [create]");
        let f = run("service-account-privileged", &with_rbac(&wide));
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("create pods"), "{}", f[0].message);
        // The binding and the rule of the aggregated role are named.
        assert_eq!(f[0].related.len(), 2, "{:?}", f[0].related);
        assert!(f[0].related[1].text.contains("ClusterRole b"));
    }

    #[test]
    fn subjects_match_by_namespace_user_and_group() {
        let bind = |subject: &str| {
            with_rbac(&format!(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: r, namespace: ops}}\nroleRef: {{kind: ClusterRole, name: cluster-admin}}\nsubjects: [{subject}]\n"
            ))
        };
        for hit in [
            "{kind: ServiceAccount, name: runner}",
            "{kind: User, name: 'system:serviceaccount:ops:runner'}",
            "{kind: Group, name: 'system:serviceaccounts:ops'}",
            "{kind: Group, name: 'system:authenticated'}",
        ] {
            assert_eq!(
                run("service-account-privileged", &bind(hit)).len(),
                1,
                "{hit}"
            );
        }
        for miss in [
            "{kind: ServiceAccount, name: runner, namespace: other}",
            "{kind: Group, name: 'system:serviceaccounts:other'}",
            "{kind: User, name: runner}",
        ] {
            assert!(
                run("service-account-privileged", &bind(miss)).is_empty(),
                "{miss}"
            );
        }
    }

    #[test]
    fn privileged_and_job_creation_grants() {
        use super::{job_creation_grant, privileged_grant};
        use crate::index::PolicyRule;
        let rule = |g: &[&str], r: &[&str], v: &[&str], names: &[&str]| PolicyRule {
            api_groups: g.iter().map(|s| (*s).to_string()).collect(),
            resources: r.iter().map(|s| (*s).to_string()).collect(),
            verbs: v.iter().map(|s| (*s).to_string()).collect(),
            resource_names: names.iter().map(|s| (*s).to_string()).collect(),
            ..PolicyRule::default()
        };
        assert!(privileged_grant(&rule(&[""], &["secrets"], &["watch"], &[])).is_some());
        assert!(privileged_grant(&rule(&[""], &["secrets"], &["get"], &["one"])).is_none());
        assert!(privileged_grant(&rule(&["apps"], &["secrets"], &["get"], &[])).is_none());
        assert!(privileged_grant(&rule(&["batch"], &["cronjobs"], &["create"], &[])).is_some());
        assert!(privileged_grant(&rule(&[""], &["pods"], &["create"], &[])).is_some());
        assert!(privileged_grant(&rule(&["batch"], &["pods"], &["create"], &[])).is_none());
        assert!(privileged_grant(&rule(&[""], &["users"], &["impersonate"], &[])).is_some());
        assert!(privileged_grant(&rule(&[""], &["configmaps"], &["get", "list"], &[])).is_none());
        assert!(job_creation_grant(&rule(&["*"], &["*"], &["patch"], &[])).is_some());
        assert!(job_creation_grant(&rule(&["batch"], &["jobs"], &["delete"], &[])).is_none());
        assert!(job_creation_grant(&rule(&["apps"], &["deployments"], &["create"], &[])).is_none());
    }

    #[test]
    fn registry_sources_and_lookalikes() {
        use super::{CORE_SOURCES, component_skeletons, from_source, host_matches, lookalike_of};
        assert!(host_matches(
            "602401143452.dkr.ecr.eu-west-1.amazonaws.com",
            "*.dkr.ecr.*.amazonaws.com"
        ));
        assert!(!host_matches(
            ".dkr.ecr..amazonaws.com",
            "*.dkr.ecr.*.amazonaws.com"
        ));
        assert!(!host_matches("evil.com", "*.dkr.ecr.*.amazonaws.com"));
        let img = |s: &str| crate::image::parse(s).unwrap();
        assert!(from_source(
            &img("registry.k8s.io/kube-proxy:v1.31.0"),
            CORE_SOURCES
        ));
        assert!(!from_source(
            &img("registry.k8s.io.evil.com/kube-proxy:v1"),
            CORE_SOURCES
        ));
        assert!(from_source(
            &img("quay.io/coreos/etcd-operator:1"),
            &["quay.io/coreos/etcd"]
        ));
        assert!(!from_source(
            &img("quay.io/coreos/etcdx:1"),
            &["quay.io/coreos/etcd"]
        ));
        assert!(from_source(&img("calico/node:v3"), &["docker.io/calico/"]));
        let names = component_skeletons;
        assert_eq!(
            lookalike_of("kube-pr\u{043e}xy", names()),
            Some("kube-proxy")
        );
        assert_eq!(lookalike_of("c0redns", names()), None);
        assert_eq!(lookalike_of("cilium-operator", names()), None);
        assert_eq!(lookalike_of("etcd-backup", names()), None);
        assert_eq!(lookalike_of("ca1ico-node-x", names()), Some("calico-node"));
        assert_eq!(lookalike_of("", names()), None);
    }
}

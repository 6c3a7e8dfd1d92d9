//! placement: where a workload lands (control-plane nodes, taints, pinned nodes).

use super::{Check, Ctx, Rule};
use crate::declare_rule;
use crate::finding::Finding;
use crate::k8s::PodView;
use crate::yaml::NodeId;

pub static RULES: &[&Rule] = &[
    &CONTROL_PLANE_TOLERATION,
    &TOLERATES_ALL_TAINTS,
    &CONTROL_PLANE_AFFINITY,
    &NODE_NAME_PINNED,
];

/// Node labels and taint keys that mark control-plane nodes: kubeadm's current and legacy
/// keys, and RKE's `controlplane`/`etcd` roles.
pub const CONTROL_PLANE_KEYS: &[&str] = &[
    "node-role.kubernetes.io/control-plane",
    "node-role.kubernetes.io/master",
    "node-role.kubernetes.io/controlplane",
    "node-role.kubernetes.io/etcd",
];

fn is_control_plane_key(k: &str) -> bool {
    CONTROL_PLANE_KEYS.contains(&k.trim())
}

/// The `tolerations` entries of a pod (Argo templates first, then the workflow's).
fn tolerations(ctx: &Ctx, pod: &PodView) -> Vec<NodeId> {
    pod.field(ctx.doc, "tolerations")
        .map(|t| ctx.doc.seq(t).to_vec())
        .unwrap_or_default()
}

declare_rule! {
    /// ## What it does
    /// Flags pods that tolerate the control-plane taint: a toleration whose `key` is
    /// `node-role.kubernetes.io/control-plane`, the legacy `node-role.kubernetes.io/master`,
    /// or RKE's `node-role.kubernetes.io/controlplane` and `node-role.kubernetes.io/etcd`.
    ///
    /// ## Why is this bad?
    /// The taint is what keeps ordinary workloads off the nodes that run the API server,
    /// etcd and the controllers. A job allowed onto them sits next to etcd's data, the
    /// cluster CA and the admin kubeconfig under `/etc/kubernetes`; with any hostPath or
    /// host namespace it owns the cluster, and every scheduled run re-enters (MITRE ATT&CK
    /// T1053.007, Container Orchestration Job).
    ///
    /// ## Example
    /// ```yaml
    /// tolerations:
    /// - key: node-role.kubernetes.io/control-plane
    ///   operator: Exists
    ///   effect: NoSchedule
    /// ```
    ///
    /// ## Use instead
    /// Remove the toleration; run the job on worker nodes. Cluster add-ons that must run
    /// on control-plane nodes belong to the platform team's manifests, with a suppression
    /// that says why.
    ///
    /// ## References
    /// - Kubernetes: well-known labels, annotations and taints (`node-role.kubernetes.io/control-plane`)
    /// - Peers: Kyverno policy restrict-controlplane-scheduling (checks the `master` and
    ///   `control-plane` keys). cronguard also knows RKE's keys, trims the key as the API
    ///   server compares it, and reports each toleration on its `key`.
    pub static CONTROL_PLANE_TOLERATION = {
        id: "control-plane-toleration",
        category: Placement,
        severity: High,
        enabled: true,
        attack: ["T1053.007"],
        summary: "the pod tolerates the control-plane taint",
        check: Check::Object(check_control_plane_toleration),
    }
}

fn check_control_plane_toleration(ctx: &Ctx, out: &mut Vec<Finding>) {
    for pod in ctx.pods() {
        for t in tolerations(ctx, pod) {
            let Some((k, v)) = ctx.doc.entry(t, "key") else {
                continue;
            };
            let Some(key) = ctx.doc.str(v).filter(|k| is_control_plane_key(k)) else {
                continue;
            };
            let mut f = ctx.finding_on_key(
                &CONTROL_PLANE_TOLERATION,
                k,
                v,
                format!("the pod tolerates the control-plane taint {key}"),
            );
            f.label = "lets the pod onto control-plane nodes".into();
            out.push(f.with_help("remove this toleration so the job runs on worker nodes only"));
        }
    }
}

declare_rule! {
    /// ## What it does
    /// Flags a toleration with `operator: Exists` and no `key` (or an empty one): it matches
    /// every taint (of its `effect`, or of every effect when `effect` is unset).
    ///
    /// ## Why is this bad?
    /// Tolerating every taint tolerates the control-plane taint, the taints that fence off
    /// dedicated or sensitive node pools, and `NoExecute` taints such as
    /// `node.kubernetes.io/unreachable`; the pod can land anywhere, including next to etcd
    /// (MITRE ATT&CK T1053.007).
    ///
    /// ## Example
    /// ```yaml
    /// tolerations:
    /// - operator: Exists
    /// ```
    ///
    /// ## Use instead
    /// Tolerate the specific taint the job needs:
    /// ```yaml
    /// tolerations:
    /// - key: dedicated
    ///   operator: Equal
    ///   value: batch
    ///   effect: NoSchedule
    /// ```
    ///
    /// ## References
    /// - Kubernetes: taints and tolerations ("an empty key with operator Exists matches all keys")
    /// - Peers: none in RULES.md. Node agents (CNI, log shippers) legitimately tolerate all
    ///   taints; cronguard reports them too and expects a suppression with the reason.
    pub static TOLERATES_ALL_TAINTS = {
        id: "tolerates-all-taints",
        category: Placement,
        severity: High,
        enabled: true,
        attack: ["T1053.007"],
        summary: "a toleration matches every taint",
        check: Check::Object(check_tolerates_all),
    }
}

fn check_tolerates_all(ctx: &Ctx, out: &mut Vec<Finding>) {
    let doc = ctx.doc;
    for pod in ctx.pods() {
        for t in tolerations(ctx, pod) {
            let Some((k, v)) = doc.entry(t, "operator") else {
                continue;
            };
            if doc.str(v).map(str::trim) != Some("Exists") {
                continue;
            }
            if doc
                .get_str(t, "key")
                .is_some_and(|key| !key.trim().is_empty())
            {
                continue;
            }
            let scope = match doc.get_str(t, "effect").filter(|e| !e.is_empty()) {
                Some(e) => format!("every {e} taint"),
                None => "every taint".to_string(),
            };
            let mut f = ctx.finding_on_key(
                &TOLERATES_ALL_TAINTS,
                k,
                v,
                format!("a toleration without a key tolerates {scope}"),
            );
            f.label = format!("`operator: Exists` without `key`: matches {scope}");
            out.push(f.with_help(
                "name the taint with `key` (and `value`/`effect`) instead of tolerating everything",
            ));
        }
    }
}

declare_rule! {
    /// ## What it does
    /// Flags pods that ask for control-plane nodes: a `nodeSelector` on a control-plane
    /// label (`node-role.kubernetes.io/control-plane`, `.../master`, RKE's
    /// `.../controlplane` and `.../etcd`), or a required or preferred node affinity term
    /// with `operator: In` or `Exists` on one of them.
    ///
    /// ## Why is this bad?
    /// Selecting control-plane nodes is deliberate: the job wants to run where the API
    /// server's certificates, etcd's data and admin kubeconfigs live. Together with a
    /// control-plane toleration it lands there on every run (MITRE ATT&CK T1053.007).
    ///
    /// ## Example
    /// ```yaml
    /// nodeSelector:
    ///   node-role.kubernetes.io/control-plane: ""
    /// ```
    ///
    /// ## Use instead
    /// Drop the selector, or select a worker pool label. Keeping jobs *off* the control
    /// plane (`operator: DoesNotExist` or `NotIn`) is fine and not reported.
    ///
    /// ## References
    /// - Kubernetes: assigning pods to nodes (nodeSelector, node affinity)
    /// - Peers: none in RULES.md (Kyverno restrict-controlplane-scheduling looks at
    ///   tolerations only). cronguard reads `requiredDuringScheduling...` and
    ///   `preferredDuringScheduling...` terms alike, since a preference is honoured whenever
    ///   the control-plane node fits.
    pub static CONTROL_PLANE_AFFINITY = {
        id: "control-plane-affinity",
        category: Placement,
        severity: High,
        enabled: true,
        attack: ["T1053.007"],
        summary: "the pod selects control-plane nodes",
        check: Check::Object(check_control_plane_affinity),
    }
}

/// `matchExpressions` items of every node selector term of a pod's node affinity.
fn affinity_expressions(ctx: &Ctx, pod: &PodView) -> Vec<(NodeId, &'static str)> {
    let doc = ctx.doc;
    let Some(na) = pod
        .field(doc, "affinity")
        .and_then(|a| doc.get(a, "nodeAffinity"))
    else {
        return Vec::new();
    };
    let mut terms: Vec<(NodeId, &'static str)> = Vec::new();
    if let Some(req) = doc.path(
        na,
        &[
            "requiredDuringSchedulingIgnoredDuringExecution",
            "nodeSelectorTerms",
        ],
    ) {
        terms.extend(doc.seq(req).iter().map(|t| (*t, "requires")));
    }
    if let Some(pref) = doc.get(na, "preferredDuringSchedulingIgnoredDuringExecution") {
        terms.extend(
            doc.seq(pref)
                .iter()
                .filter_map(|p| doc.get(*p, "preference"))
                .map(|t| (t, "prefers")),
        );
    }
    terms
        .into_iter()
        .flat_map(|(t, how)| {
            doc.get(t, "matchExpressions")
                .map(|m| doc.seq(m).iter().map(|e| (*e, how)).collect::<Vec<_>>())
                .unwrap_or_default()
        })
        .collect()
}

fn check_control_plane_affinity(ctx: &Ctx, out: &mut Vec<Finding>) {
    let doc = ctx.doc;
    for pod in ctx.pods() {
        if let Some(sel) = pod.field(doc, "nodeSelector") {
            for &(k, v) in doc.map(sel) {
                let Some(key) = doc.str(k).filter(|k| is_control_plane_key(k)) else {
                    continue;
                };
                let mut f = ctx.finding_on_key(
                    &CONTROL_PLANE_AFFINITY,
                    k,
                    v,
                    format!("the pod's nodeSelector requires control-plane nodes ({key})"),
                );
                f.label = "schedules the pod onto control-plane nodes".into();
                out.push(f.with_help("remove this nodeSelector entry, or select worker nodes"));
            }
        }
        for (e, how) in affinity_expressions(ctx, pod) {
            let Some((k, v)) = doc.entry(e, "key") else {
                continue;
            };
            let Some(key) = doc.str(v).filter(|k| is_control_plane_key(k)) else {
                continue;
            };
            let op = doc.get_str(e, "operator").unwrap_or("").trim();
            if !matches!(op, "In" | "Exists") {
                continue;
            }
            let mut f = ctx.finding_on_key(
                &CONTROL_PLANE_AFFINITY,
                k,
                v,
                format!("the pod's node affinity {how} control-plane nodes ({key} {op})"),
            );
            f.label = format!("node affinity {how} control-plane nodes");
            out.push(f.with_help(
                "remove this match expression, or use `operator: DoesNotExist` to keep the job off the control plane",
            ));
        }
    }
}

declare_rule! {
    /// ## What it does
    /// Flags pods with `spec.nodeName` set.
    ///
    /// ## Why is this bad?
    /// `nodeName` binds the pod to a node directly: the scheduler, and with it taints,
    /// resource checks and scheduling policies, never sees it. It is how a pod reaches a
    /// control-plane node without any toleration, or a specific node an attacker has
    /// prepared.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   nodeName: cp-1
    /// ```
    ///
    /// ## Use instead
    /// Let the scheduler place the pod; express real constraints with node affinity on
    /// node labels.
    ///
    /// ## References
    /// - Kubernetes: assigning pods to nodes (nodeName: "bypasses the scheduler")
    /// - Peers: Kyverno policy restrict-node-selection (also forbids `nodeSelector`;
    ///   cronguard reports only `nodeName`, which skips the scheduler, and leaves label
    ///   selection to `control-plane-affinity`).
    pub static NODE_NAME_PINNED = {
        id: "node-name-pinned",
        category: Placement,
        severity: Medium,
        enabled: true,
        attack: [],
        summary: "the pod is bound to a node by nodeName",
        check: Check::Object(check_node_name),
    }
}

fn check_node_name(ctx: &Ctx, out: &mut Vec<Finding>) {
    for pod in ctx.pods() {
        let Some((k, v)) = pod.entry(ctx.doc, "nodeName") else {
            continue;
        };
        let Some(node) = ctx.doc.str(v).filter(|n| !n.trim().is_empty()) else {
            continue;
        };
        let mut f = ctx.finding_on_key(
            &NODE_NAME_PINNED,
            k,
            v,
            format!("the pod is bound to node {node:?} and bypasses the scheduler"),
        );
        f.label = "nodeName skips the scheduler, taints included".into();
        out.push(f.with_help(
            "remove `nodeName`; use node affinity on labels if the job needs specific nodes",
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::run;

    fn pod(spec: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: n}}\nspec:\n{spec}  containers: [{{name: a, image: alpine}}]\n"
        )
    }

    #[test]
    fn control_plane_keys_in_tolerations() {
        let f = run(
            "control-plane-toleration",
            &pod(
                "  tolerations:\n  - {key: node-role.kubernetes.io/master, effect: NoSchedule}\n  - {key: dedicated, operator: Exists}\n",
            ),
        );
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("master"));
        assert!(run("control-plane-toleration", &pod("  tolerations: []\n")).is_empty());
    }

    #[test]
    fn exists_without_key_matches_everything() {
        let f = run(
            "tolerates-all-taints",
            &pod(
                "  tolerations:\n  - {operator: Exists, effect: NoExecute}\n  - {key: a, operator: Exists}\n  - {key: '', operator: Exists}\n",
            ),
        );
        assert_eq!(f.len(), 2);
        assert!(
            f[0].message.contains("every NoExecute taint"),
            "{}",
            f[0].message
        );
        assert!(
            run(
                "tolerates-all-taints",
                &pod("  tolerations:\n  - {operator: Equal}\n")
            )
            .is_empty()
        );
    }

    #[test]
    fn affinity_in_and_exists_but_not_not_in() {
        let aff = "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n        - matchExpressions:\n          - {key: node-role.kubernetes.io/control-plane, operator: OP}\n";
        assert_eq!(
            run("control-plane-affinity", &pod(&aff.replace("OP", "Exists"))).len(),
            1
        );
        assert!(
            run(
                "control-plane-affinity",
                &pod(&aff.replace("OP", "DoesNotExist"))
            )
            .is_empty()
        );
        assert!(run("control-plane-affinity", &pod(&aff.replace("OP", "NotIn"))).is_empty());
        let sel = "  nodeSelector: {node-role.kubernetes.io/master: '', zone: a}\n";
        assert_eq!(run("control-plane-affinity", &pod(sel)).len(), 1);
    }

    #[test]
    fn node_name_set_and_empty() {
        assert_eq!(run("node-name-pinned", &pod("  nodeName: cp-1\n")).len(), 1);
        assert!(run("node-name-pinned", &pod("  nodeName: ''\n")).is_empty());
    }
}

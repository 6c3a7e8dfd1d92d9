//! identity: who a workload runs as, and where.

use super::{Check, Ctx, Rule};
use crate::declare_rule;
use crate::finding::Finding;

pub static RULES: &[&Rule] = &[&SYSTEM_NAMESPACE_JOB];

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
}

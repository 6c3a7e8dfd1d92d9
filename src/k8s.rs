//! Kubernetes objects on top of the spanned YAML tree, and the workload *view*: one function
//! finds the pod template of every workload kind, so pod-level rules never hand-walk kinds.

use crate::yaml::{Document, NodeId};
use serde::Serialize;

/// The identity of an object: what it is across files and revisions.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Default)]
pub struct ObjectId {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl ObjectId {
    /// API group of the apiVersion (`""` for the core group).
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }
    /// `kind/namespace/name` for messages.
    pub fn display(&self) -> String {
        // A file that is not a Kubernetes object (a script): no API version, no namespace.
        if self.api_version.is_empty() && self.namespace.is_none() && !self.kind.is_empty() {
            if let Some(name) = &self.name {
                return format!("{} {name}", self.kind);
            }
        }
        let ns = self.namespace.as_deref().unwrap_or("default");
        let name = self.name.as_deref().unwrap_or("<unnamed>");
        format!("{} {ns}/{name}", self.kind)
    }
    /// Identity across revisions: group, kind, namespace, name (not the file path, nor the
    /// API version, so `batch/v1beta1` → `batch/v1` is the same CronJob).
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.group(),
            self.kind,
            self.namespace.as_deref().unwrap_or(""),
            self.name.as_deref().unwrap_or("")
        )
    }
}

/// One Kubernetes object inside a document (a `List` yields several).
#[derive(Clone, Debug)]
pub struct Object {
    pub id: ObjectId,
    /// The object's mapping node.
    pub node: NodeId,
    /// Index of the document in the file.
    pub doc: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkloadKind {
    CronJob,
    Job,
    Pod,
    Deployment,
    DaemonSet,
    StatefulSet,
    ReplicaSet,
    ReplicationController,
    PodTemplate,
    ArgoCronWorkflow,
    ArgoWorkflow,
    ArgoWorkflowTemplate,
    KedaScaledJob,
}

impl WorkloadKind {
    pub fn of(id: &ObjectId) -> Option<WorkloadKind> {
        let group = id.group();
        Some(match (group, id.kind.as_str()) {
            ("batch", "CronJob") => WorkloadKind::CronJob,
            ("batch", "Job") => WorkloadKind::Job,
            ("", "Pod") => WorkloadKind::Pod,
            ("", "PodTemplate") => WorkloadKind::PodTemplate,
            ("", "ReplicationController") => WorkloadKind::ReplicationController,
            ("apps" | "extensions", "Deployment") => WorkloadKind::Deployment,
            ("apps" | "extensions", "DaemonSet") => WorkloadKind::DaemonSet,
            ("apps", "StatefulSet") => WorkloadKind::StatefulSet,
            ("apps" | "extensions", "ReplicaSet") => WorkloadKind::ReplicaSet,
            ("argoproj.io", "CronWorkflow") => WorkloadKind::ArgoCronWorkflow,
            ("argoproj.io", "Workflow") => WorkloadKind::ArgoWorkflow,
            ("argoproj.io", "WorkflowTemplate" | "ClusterWorkflowTemplate") => {
                WorkloadKind::ArgoWorkflowTemplate
            }
            ("keda.sh", "ScaledJob") => WorkloadKind::KedaScaledJob,
            _ => return None,
        })
    }

    /// Runs on a schedule or to completion: what T1053.007 is about.
    pub fn is_scheduled(self) -> bool {
        matches!(
            self,
            WorkloadKind::CronJob
                | WorkloadKind::Job
                | WorkloadKind::ArgoCronWorkflow
                | WorkloadKind::KedaScaledJob
        )
    }

    pub fn is_job_like(self) -> bool {
        matches!(
            self,
            WorkloadKind::CronJob | WorkloadKind::Job | WorkloadKind::KedaScaledJob
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ContainerList {
    Containers,
    InitContainers,
    EphemeralContainers,
    /// Argo: a template's `container` or `script`.
    Template,
    /// Argo: a template's `sidecars`.
    Sidecars,
}

impl ContainerList {
    pub fn key(self) -> &'static str {
        match self {
            ContainerList::Containers => "containers",
            ContainerList::InitContainers => "initContainers",
            ContainerList::EphemeralContainers => "ephemeralContainers",
            ContainerList::Template => "container",
            ContainerList::Sidecars => "sidecars",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct ContainerRef {
    pub node: NodeId,
    pub list: ContainerList,
}

/// A pod, as a workload will run it: the pod-level fields and every container.
#[derive(Clone, Debug)]
pub struct PodView {
    /// The node that holds pod-level fields (a PodSpec, or an Argo WorkflowSpec).
    pub spec: NodeId,
    /// An Argo template that overrides some pod-level fields (securityContext, nodeSelector,
    /// tolerations, affinity, serviceAccountName...).
    pub overlay: Option<NodeId>,
    /// The pod template's metadata (labels, annotations), when there is one.
    pub metadata: Option<NodeId>,
    pub containers: Vec<ContainerRef>,
}

impl PodView {
    /// A pod-level field, taking an Argo template's override first.
    pub fn field(&self, doc: &Document, key: &str) -> Option<NodeId> {
        self.overlay
            .and_then(|o| doc.get(o, key))
            .or_else(|| doc.get(self.spec, key))
    }
    /// The (key, value) of a pod-level field.
    pub fn entry(&self, doc: &Document, key: &str) -> Option<(NodeId, NodeId)> {
        self.overlay
            .and_then(|o| doc.entry(o, key))
            .or_else(|| doc.entry(self.spec, key))
    }
}

/// The workload view of an object: its kind and the pods it runs.
#[derive(Clone, Debug)]
pub struct Workload {
    pub kind: WorkloadKind,
    /// The spec that carries job-level fields: a CronJob's `jobTemplate.spec`, a Job's
    /// `spec`, a ScaledJob's `jobTargetRef`.
    pub job_spec: Option<NodeId>,
    pub pods: Vec<PodView>,
}

fn containers_of(doc: &Document, spec: NodeId, out: &mut Vec<ContainerRef>) {
    for list in [
        ContainerList::InitContainers,
        ContainerList::Containers,
        ContainerList::EphemeralContainers,
    ] {
        if let Some(seq) = doc.get(spec, list.key()) {
            for &c in doc.seq(seq) {
                if doc.is_map(c) {
                    out.push(ContainerRef { node: c, list });
                }
            }
        }
    }
}

fn pod_from_template(doc: &Document, template: Option<NodeId>) -> Option<PodView> {
    let template = template?;
    let spec = doc.get(template, "spec").filter(|s| doc.is_map(*s))?;
    let mut containers = Vec::new();
    containers_of(doc, spec, &mut containers);
    Some(PodView {
        spec,
        overlay: None,
        metadata: doc.get(template, "metadata"),
        containers,
    })
}

fn argo_pods(doc: &Document, wf_spec: Option<NodeId>) -> Vec<PodView> {
    let Some(wf_spec) = wf_spec.filter(|s| doc.is_map(*s)) else {
        return Vec::new();
    };
    let mut pods = Vec::new();
    if let Some(templates) = doc.get(wf_spec, "templates") {
        for &t in doc.seq(templates) {
            let mut containers = Vec::new();
            for key in ["container", "script"] {
                if let Some(c) = doc.get(t, key).filter(|c| doc.is_map(*c)) {
                    containers.push(ContainerRef {
                        node: c,
                        list: ContainerList::Template,
                    });
                }
            }
            if let Some(cs) = doc.path(t, &["containerSet", "containers"]) {
                for &c in doc.seq(cs) {
                    containers.push(ContainerRef {
                        node: c,
                        list: ContainerList::Containers,
                    });
                }
            }
            for (key, list) in [
                ("initContainers", ContainerList::InitContainers),
                ("sidecars", ContainerList::Sidecars),
            ] {
                if let Some(seq) = doc.get(t, key) {
                    for &c in doc.seq(seq) {
                        if doc.is_map(c) {
                            containers.push(ContainerRef { node: c, list });
                        }
                    }
                }
            }
            if !containers.is_empty() {
                pods.push(PodView {
                    spec: wf_spec,
                    overlay: Some(t),
                    metadata: doc.get(t, "metadata"),
                    containers,
                });
            }
        }
    }
    pods
}

/// Find the pods a workload runs, for every kind listed in RULES.md.
pub fn workload(doc: &Document, obj: &Object) -> Option<Workload> {
    let kind = WorkloadKind::of(&obj.id)?;
    let root = obj.node;
    let spec = doc.get(root, "spec");
    let (job_spec, pods) = match kind {
        WorkloadKind::CronJob => {
            let js = spec.and_then(|s| doc.path(s, &["jobTemplate", "spec"]));
            let pod = pod_from_template(doc, js.and_then(|j| doc.get(j, "template")));
            (js, pod.into_iter().collect())
        }
        WorkloadKind::Job => {
            let pod = pod_from_template(doc, spec.and_then(|s| doc.get(s, "template")));
            (spec, pod.into_iter().collect())
        }
        WorkloadKind::KedaScaledJob => {
            let js = spec.and_then(|s| doc.get(s, "jobTargetRef"));
            let pod = pod_from_template(doc, js.and_then(|j| doc.get(j, "template")));
            (js, pod.into_iter().collect())
        }
        WorkloadKind::Pod => {
            let pod = spec.filter(|s| doc.is_map(*s)).map(|spec| {
                let mut containers = Vec::new();
                containers_of(doc, spec, &mut containers);
                PodView {
                    spec,
                    overlay: None,
                    metadata: doc.get(root, "metadata"),
                    containers,
                }
            });
            (None, pod.into_iter().collect())
        }
        WorkloadKind::PodTemplate => (
            None,
            pod_from_template(doc, doc.get(root, "template"))
                .into_iter()
                .collect(),
        ),
        WorkloadKind::Deployment
        | WorkloadKind::DaemonSet
        | WorkloadKind::StatefulSet
        | WorkloadKind::ReplicaSet
        | WorkloadKind::ReplicationController => (
            None,
            pod_from_template(doc, spec.and_then(|s| doc.get(s, "template")))
                .into_iter()
                .collect(),
        ),
        WorkloadKind::ArgoCronWorkflow => (
            None,
            argo_pods(doc, spec.and_then(|s| doc.get(s, "workflowSpec"))),
        ),
        WorkloadKind::ArgoWorkflow | WorkloadKind::ArgoWorkflowTemplate => {
            (None, argo_pods(doc, spec))
        }
    };
    Some(Workload {
        kind,
        job_spec,
        pods,
    })
}

/// Why a document yields no object.
#[derive(Debug, PartialEq, Eq)]
pub enum NotAnObject {
    /// Not Kubernetes at all (no apiVersion and no kind): silently irrelevant.
    Irrelevant,
    /// Looks like Kubernetes but is incomplete: reported as skipped.
    Incomplete(String),
}

fn object_at(doc: &Document, node: NodeId) -> Result<Object, NotAnObject> {
    if !doc.is_map(node) {
        return Err(NotAnObject::Irrelevant);
    }
    let api = doc.get_str(node, "apiVersion");
    let kind = doc.get_str(node, "kind");
    let (api, kind) = match (api, kind) {
        (Some(a), Some(k)) => (a, k),
        (None, None) => return Err(NotAnObject::Irrelevant),
        (Some(_), None) => {
            return Err(NotAnObject::Incomplete(
                "has apiVersion but no kind".to_string(),
            ));
        }
        (None, Some(k)) => {
            return Err(NotAnObject::Incomplete(format!(
                "has kind {k:?} but no apiVersion"
            )));
        }
    };
    let meta = doc.get(node, "metadata");
    let namespace = meta
        .and_then(|m| doc.get_str(m, "namespace"))
        .map(str::to_string);
    let name = meta
        .and_then(|m| {
            doc.get_str(m, "name")
                .or_else(|| doc.get_str(m, "generateName"))
        })
        .map(str::to_string);
    Ok(Object {
        id: ObjectId {
            api_version: api.to_string(),
            kind: kind.to_string(),
            namespace,
            name,
        },
        node,
        doc: doc.index,
    })
}

/// Every object in a document: the object itself, or the items of a `List`/`*List`.
pub fn objects(doc: &Document) -> Result<Vec<Object>, NotAnObject> {
    let Some(root) = doc.root else {
        return Err(NotAnObject::Irrelevant);
    };
    let obj = object_at(doc, root)?;
    if obj.id.kind == "List" || (obj.id.kind.ends_with("List") && doc.get(root, "items").is_some())
    {
        let mut out = Vec::new();
        if let Some(items) = doc.get(root, "items") {
            for &item in doc.seq(items) {
                // Items of a List are complete objects; anything else in it is ignored.
                if let Ok(o) = object_at(doc, item) {
                    out.push(o);
                }
            }
        }
        return Ok(out);
    }
    Ok(vec![obj])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, load};

    fn first(src: &str) -> (Document, Vec<Object>) {
        let mut l = load(src, &Limits::default());
        let d = l.docs.remove(0);
        let o = objects(&d).unwrap();
        (d, o)
    }

    #[test]
    fn cronjob_view_reaches_all_container_lists() {
        let src = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c, namespace: n}\nspec:\n  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          initContainers: [{name: i, image: a}]\n          containers: [{name: m, image: b}]\n          ephemeralContainers: [{name: e, image: c}]\n";
        let (d, o) = first(src);
        let w = workload(&d, &o[0]).unwrap();
        assert_eq!(w.kind, WorkloadKind::CronJob);
        assert!(w.job_spec.is_some());
        let names: Vec<_> = w.pods[0]
            .containers
            .iter()
            .map(|c| d.get_str(c.node, "name").unwrap())
            .collect();
        assert_eq!(names, ["i", "m", "e"]);
        assert_eq!(o[0].id.display(), "CronJob n/c");
    }

    #[test]
    fn list_wrappers_are_unwrapped() {
        let src = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: batch/v1\n  kind: Job\n  metadata: {name: a}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: b}\n";
        let (_, o) = first(src);
        let kinds: Vec<_> = o.iter().map(|o| o.id.kind.as_str()).collect();
        assert_eq!(kinds, ["Job", "Pod"]);
        let src2 = "apiVersion: batch/v1\nkind: CronJobList\nitems:\n- apiVersion: batch/v1\n  kind: CronJob\n  metadata: {name: a}\n";
        assert_eq!(first(src2).1[0].id.kind, "CronJob");
    }

    #[test]
    fn argo_cron_workflow_templates_are_pods_with_overlay() {
        let src = "apiVersion: argoproj.io/v1alpha1\nkind: CronWorkflow\nmetadata: {name: w}\nspec:\n  schedule: '0 * * * *'\n  workflowSpec:\n    hostNetwork: true\n    templates:\n    - name: main\n      container: {image: alpine}\n    - name: s\n      script: {image: python, source: print(1)}\n    - name: steps\n      steps: []\n";
        let (d, o) = first(src);
        let w = workload(&d, &o[0]).unwrap();
        assert_eq!(w.pods.len(), 2);
        let p = &w.pods[0];
        assert!(p.field(&d, "hostNetwork").is_some());
        assert_eq!(p.containers.len(), 1);
    }

    #[test]
    fn non_kubernetes_yaml_is_irrelevant_and_half_objects_are_incomplete() {
        let l = load("name: ci\non: push\n", &Limits::default());
        assert_eq!(objects(&l.docs[0]).unwrap_err(), NotAnObject::Irrelevant);
        let l = load("apiVersion: v1\nmetadata: {}\n", &Limits::default());
        assert!(matches!(
            objects(&l.docs[0]),
            Err(NotAnObject::Incomplete(_))
        ));
    }

    #[test]
    fn identity_ignores_api_version_but_keeps_group() {
        let a = ObjectId {
            api_version: "batch/v1beta1".into(),
            kind: "CronJob".into(),
            namespace: Some("n".into()),
            name: Some("x".into()),
        };
        let mut b = a.clone();
        b.api_version = "batch/v1".into();
        assert_eq!(a.key(), b.key());
        assert_eq!(a.key(), "batch/CronJob/n/x");
    }
}

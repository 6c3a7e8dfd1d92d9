//! What a change can alter in a scheduled workload, read from one blob: schedule, time zone,
//! suspend, per-container image/command/args, mounted ConfigMaps. Comparable across
//! revisions; spans point into the blob the facts were read from.

use crate::k8s::{self, ObjectId, WorkloadKind};
use crate::yaml::{self, Document, Limits, NodeId, Span};

/// A value and where it is written.
#[derive(Clone, Debug)]
pub struct Valued {
    pub text: String,
    pub span: Span,
}

impl PartialEq for Valued {
    fn eq(&self, o: &Self) -> bool {
        self.text == o.text
    }
}

fn same(a: Option<&Valued>, b: Option<&Valued>) -> bool {
    a.map(|v| &v.text) == b.map(|v| &v.text)
}

#[derive(Clone, Debug)]
pub struct ContainerFacts {
    /// Stable slot: `containers[name=app]` (index when unnamed).
    pub slot: String,
    /// For messages: `container "app"`.
    pub label: String,
    pub span: Span,
    pub image: Option<Valued>,
    pub command: Option<Valued>,
    pub args: Option<Valued>,
    /// Argo script template `source`.
    pub source: Option<Valued>,
}

#[derive(Clone, Debug)]
pub struct Facts {
    pub id: ObjectId,
    pub kind: WorkloadKind,
    /// The object's `metadata.name` value (or the object node).
    pub name_span: Span,
    /// The `spec` key, where a removed field is reported.
    pub spec_span: Span,
    pub schedule: Option<Valued>,
    pub time_zone: Option<Valued>,
    /// `suspend` value and the span of its key and value.
    pub suspend: Option<(bool, Span)>,
    pub containers: Vec<ContainerFacts>,
    /// Names of ConfigMaps mounted as volumes (span at the name).
    pub config_maps: Vec<Valued>,
}

impl Facts {
    /// Same definition for the purposes of the change rules?
    pub fn same_definition(&self, o: &Facts) -> bool {
        same(self.schedule.as_ref(), o.schedule.as_ref())
            && same(self.time_zone.as_ref(), o.time_zone.as_ref())
            && self.suspend.map(|s| s.0) == o.suspend.map(|s| s.0)
            && self.containers.len() == o.containers.len()
            && self.containers.iter().zip(&o.containers).all(|(a, b)| {
                a.slot == b.slot
                    && same(a.image.as_ref(), b.image.as_ref())
                    && same(a.command.as_ref(), b.command.as_ref())
                    && same(a.args.as_ref(), b.args.as_ref())
                    && same(a.source.as_ref(), b.source.as_ref())
            })
    }

    pub fn container(&self, slot: &str) -> Option<&ContainerFacts> {
        self.containers.iter().find(|c| c.slot == slot)
    }

    pub fn namespace(&self) -> &str {
        self.id.namespace.as_deref().unwrap_or("default")
    }
}

/// Is `path` a kubelet static-pod directory (`…/kubernetes/manifests/x.yaml`)?
pub fn is_static_pod_path(path: &str) -> bool {
    path.starts_with("etc/kubernetes/manifests/") || path.contains("/kubernetes/manifests/")
}

/// Does this workload run on a schedule or to completion (what the change rules follow)?
pub fn is_scheduled(f: &Facts, path: &str) -> bool {
    f.kind.is_scheduled() || (f.kind == WorkloadKind::Pod && is_static_pod_path(path))
}

/// Quote a word for display if it needs it (so `["a b"]` and `["a", "b"]` differ).
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '=' | ',' | '@')
        })
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn words(doc: &Document, node: NodeId) -> String {
    let items = doc.seq(node);
    if items.is_empty() {
        return doc.str(node).map_or_else(
            || doc.to_json(node).to_string(),
            |s| format!("{s:?} (not a list)"),
        );
    }
    items
        .iter()
        .map(|i| {
            doc.str(*i)
                .map_or_else(|| doc.to_json(*i).to_string(), shell_word)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn valued(
    doc: &Document,
    node: Option<NodeId>,
    render: impl Fn(NodeId) -> String,
) -> Option<Valued> {
    let n = node?;
    Some(Valued {
        text: render(n),
        span: doc.span(n),
    })
}

fn scalar(doc: &Document, node: Option<NodeId>) -> Option<Valued> {
    valued(doc, node, |n| {
        doc.str(n).map_or_else(
            || {
                let seq = doc.seq(n);
                if seq.is_empty() {
                    doc.to_json(n).to_string()
                } else {
                    // CronWorkflow `schedules: [...]`
                    seq.iter()
                        .filter_map(|i| doc.str(*i))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            },
            |s| s.trim().to_string(),
        )
    })
}

fn facts_of(doc: &Document, obj: &k8s::Object) -> Option<Facts> {
    let w = k8s::workload(doc, obj)?;
    let root = obj.node;
    let spec = doc.get(root, "spec");
    let name_span = doc
        .path(root, &["metadata", "name"])
        .map_or(doc.span(root), |n| doc.span(n));
    let spec_span = doc
        .entry(root, "spec")
        .map_or(name_span, |(k, _)| doc.span(k));
    let (schedule, time_zone, suspend) = match spec {
        Some(s) if doc.is_map(s) => {
            let sched = doc.get(s, "schedule").or_else(|| doc.get(s, "schedules"));
            let tz = doc.get(s, "timeZone").or_else(|| doc.get(s, "timezone"));
            let susp = doc.entry(s, "suspend").and_then(|(k, v)| {
                let b = doc.as_bool(v)?;
                let ks = doc.span(k);
                Some((b, Span::new(ks.start as usize, doc.span(v).end as usize)))
            });
            (scalar(doc, sched), scalar(doc, tz), susp)
        }
        _ => (None, None, None),
    };
    let mut containers = Vec::new();
    let mut config_maps = Vec::new();
    for (pi, pod) in w.pods.iter().enumerate() {
        let prefix = if w.pods.len() > 1 {
            let t = pod
                .overlay
                .and_then(|o| doc.get_str(o, "name"))
                .map_or_else(|| pi.to_string(), str::to_string);
            format!("templates[name={t}].")
        } else {
            String::new()
        };
        for (ci, c) in pod.containers.iter().enumerate() {
            let name = doc.get_str(c.node, "name");
            let slot = match name {
                Some(n) => format!("{prefix}{}[name={n}]", c.list.key()),
                None => format!("{prefix}{}[{ci}]", c.list.key()),
            };
            let label = match name {
                Some(n) => format!("container {n:?}"),
                None => format!("the {} entry {ci}", c.list.key()),
            };
            containers.push(ContainerFacts {
                slot,
                label,
                span: doc.span(c.node),
                image: scalar(doc, doc.get(c.node, "image")),
                command: valued(doc, doc.get(c.node, "command"), |n| words(doc, n)),
                args: valued(doc, doc.get(c.node, "args"), |n| words(doc, n)),
                source: valued(doc, doc.get(c.node, "source"), |n| {
                    doc.str(n).unwrap_or_default().to_string()
                }),
            });
        }
        if let Some(vols) = pod.field(doc, "volumes") {
            for &v in doc.seq(vols) {
                let mut names = Vec::new();
                if let Some(n) = doc.path(v, &["configMap", "name"]) {
                    names.push(n);
                }
                if let Some(srcs) = doc.path(v, &["projected", "sources"]) {
                    for &s in doc.seq(srcs) {
                        if let Some(n) = doc.path(s, &["configMap", "name"]) {
                            names.push(n);
                        }
                    }
                }
                for n in names {
                    if let Some(text) = doc.str(n) {
                        config_maps.push(Valued {
                            text: text.to_string(),
                            span: doc.span(n),
                        });
                    }
                }
            }
        }
    }
    // Two pods of one Argo workflow may list the same container slot; keep the first.
    let mut seen = std::collections::HashSet::new();
    containers.retain(|c| seen.insert(c.slot.clone()));
    Some(Facts {
        id: obj.id.clone(),
        kind: w.kind,
        name_span,
        spec_span,
        schedule,
        time_zone,
        suspend,
        containers,
        config_maps,
    })
}

/// Every workload defined in `text`, in document order.
pub fn extract(text: &str, limits: &Limits) -> Vec<Facts> {
    if crate::scan::looks_like_template(text) {
        return Vec::new();
    }
    let loaded = yaml::load(text, limits);
    let mut out = Vec::new();
    for doc in &loaded.docs {
        let Ok(objs) = k8s::objects(doc) else {
            continue;
        };
        for o in &objs {
            if let Some(f) = facts_of(doc, o) {
                out.push(f);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_schedule_suspend_and_containers() {
        let src = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c, namespace: n}\nspec:\n  schedule: ' 0 3 * * *'\n  suspend: true\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          volumes: [{name: s, configMap: {name: scripts}}]\n          containers:\n          - name: a\n            image: alpine:3.20\n            command: [sh, -c, 'echo hi']\n";
        let f = extract(src, &Limits::default());
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert_eq!(f.schedule.as_ref().unwrap().text, "0 3 * * *");
        assert_eq!(f.suspend.map(|s| s.0), Some(true));
        assert_eq!(f.containers[0].slot, "containers[name=a]");
        assert_eq!(
            f.containers[0].command.as_ref().unwrap().text,
            "sh -c 'echo hi'"
        );
        assert_eq!(f.config_maps[0].text, "scripts");
        assert!(is_scheduled(f, "x.yaml"));
    }

    #[test]
    fn static_pods_are_scheduled_only_in_a_manifest_directory() {
        let src = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: x}]\n";
        let f = &extract(src, &Limits::default())[0];
        assert!(is_scheduled(f, "nodes/etc/kubernetes/manifests/p.yaml"));
        assert!(!is_scheduled(f, "apps/p.yaml"));
    }
}

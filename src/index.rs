//! A read-only index of the objects other objects refer to (ServiceAccounts, RBAC, ConfigMaps),
//! built before the checks run so a rule can follow a reference into another file.
//!
//! It holds compact owned copies, not parse trees, so memory stays bounded by what is indexed.

use crate::k8s::{Object, ObjectId};
use crate::yaml::{Document, Span};
use std::sync::Arc;

/// Kinds the index keeps. The pipeline pre-parses only files that mention one of them.
pub const INDEXED_KINDS: &[&str] = &[
    "ServiceAccount",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
];

#[derive(Clone, Debug)]
pub struct Located {
    pub path: Arc<str>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct ServiceAccount {
    pub id: ObjectId,
    pub at: Located,
    pub automount: Option<bool>,
    /// The `automountServiceAccountToken` entry, or `metadata.name` when it is absent.
    pub focus: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    /// The subject's entry in `subjects`.
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Binding {
    pub id: ObjectId,
    pub at: Located,
    pub role_kind: String,
    pub role_name: String,
    /// The `roleRef` mapping (or the whole object when it is missing).
    pub role_ref: Span,
    pub subjects: Vec<Subject>,
}

#[derive(Clone, Debug, Default)]
pub struct PolicyRule {
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub verbs: Vec<String>,
    pub resource_names: Vec<String>,
    /// The rule's entry in `rules`.
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Role {
    pub id: ObjectId,
    pub at: Located,
    pub rules: Vec<PolicyRule>,
    /// `metadata.labels` (what an aggregating ClusterRole selects on).
    pub labels: Vec<(String, String)>,
    /// `aggregationRule.clusterRoleSelectors[].matchLabels`, one entry per selector.
    pub aggregation: Vec<Vec<(String, String)>>,
}

#[derive(Clone, Debug)]
pub struct ConfigMapEntry {
    pub key: String,
    pub value: String,
    /// Span of the value in its file (for a block scalar, the whole block).
    pub span: Span,
    /// Byte offset in the file where the value's content starts (after `|` and indentation
    /// for block scalars), used to point inside scripts.
    pub content_start: u32,
    /// True if the value is a literal block scalar: content lines map 1:1 to source lines.
    pub literal: bool,
}

#[derive(Clone, Debug)]
pub struct ConfigMap {
    pub id: ObjectId,
    pub at: Located,
    pub source: Arc<str>,
    pub data: Vec<ConfigMapEntry>,
}

#[derive(Clone, Debug, Default)]
pub struct Index {
    pub service_accounts: Vec<ServiceAccount>,
    pub bindings: Vec<Binding>,
    pub roles: Vec<Role>,
    pub config_maps: Vec<ConfigMap>,
}

fn pairs(doc: &Document, node: Option<crate::yaml::NodeId>) -> Vec<(String, String)> {
    node.map(|n| {
        doc.map(n)
            .iter()
            .filter_map(|(k, v)| {
                Some((
                    doc.str(*k)?.to_string(),
                    doc.str(*v).unwrap_or("").to_string(),
                ))
            })
            .collect()
    })
    .unwrap_or_default()
}

fn strings(doc: &Document, node: Option<crate::yaml::NodeId>) -> Vec<String> {
    node.map(|n| {
        doc.seq(n)
            .iter()
            .filter_map(|i| doc.str(*i).map(str::to_string))
            .collect()
    })
    .unwrap_or_default()
}

impl Index {
    /// Add one object if it is of an indexed kind.
    pub fn add(&mut self, path: &Arc<str>, src: &Arc<str>, doc: &Document, obj: &Object) {
        let at = Located {
            path: path.clone(),
            span: doc.span(obj.node),
        };
        let root = obj.node;
        match (obj.id.group(), obj.id.kind.as_str()) {
            ("", "ServiceAccount") => {
                let entry = doc.entry(root, "automountServiceAccountToken");
                let focus = match entry {
                    Some((k, v)) => Span::new(doc.span(k).start as usize, doc.span(v).end as usize),
                    None => doc
                        .path(root, &["metadata", "name"])
                        .map_or(at.span, |n| doc.span(n)),
                };
                self.service_accounts.push(ServiceAccount {
                    id: obj.id.clone(),
                    at,
                    automount: entry.and_then(|(_, v)| doc.as_bool(v)),
                    focus,
                });
            }
            ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
                let role_ref = doc.get(root, "roleRef");
                let subjects = doc
                    .get(root, "subjects")
                    .map(|s| {
                        doc.seq(s)
                            .iter()
                            .map(|&s| Subject {
                                kind: doc.get_str(s, "kind").unwrap_or_default().to_string(),
                                name: doc.get_str(s, "name").unwrap_or_default().to_string(),
                                namespace: doc.get_str(s, "namespace").map(str::to_string),
                                span: doc.span(s),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                self.bindings.push(Binding {
                    id: obj.id.clone(),
                    role_kind: role_ref
                        .and_then(|r| doc.get_str(r, "kind"))
                        .unwrap_or_default()
                        .to_string(),
                    role_name: role_ref
                        .and_then(|r| doc.get_str(r, "name"))
                        .unwrap_or_default()
                        .to_string(),
                    role_ref: role_ref.map_or(at.span, |r| doc.span(r)),
                    at,
                    subjects,
                });
            }
            ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => {
                let rules = doc
                    .get(root, "rules")
                    .map(|r| {
                        doc.seq(r)
                            .iter()
                            .map(|&r| PolicyRule {
                                api_groups: strings(doc, doc.get(r, "apiGroups")),
                                resources: strings(doc, doc.get(r, "resources")),
                                verbs: strings(doc, doc.get(r, "verbs")),
                                resource_names: strings(doc, doc.get(r, "resourceNames")),
                                span: doc.span(r),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let aggregation = doc
                    .path(root, &["aggregationRule", "clusterRoleSelectors"])
                    .map(|sel| {
                        doc.seq(sel)
                            .iter()
                            .map(|&s| pairs(doc, doc.get(s, "matchLabels")))
                            .collect()
                    })
                    .unwrap_or_default();
                self.roles.push(Role {
                    id: obj.id.clone(),
                    at,
                    rules,
                    labels: pairs(doc, doc.path(root, &["metadata", "labels"])),
                    aggregation,
                });
            }
            ("", "ConfigMap") => {
                let mut data = Vec::new();
                if let Some(d) = doc.get(root, "data") {
                    for &(k, v) in doc.map(d) {
                        let (Some(key), Some(value)) = (doc.str(k), doc.str(v)) else {
                            continue;
                        };
                        let span = doc.span(v);
                        let raw = &src[span.range()];
                        let literal = raw.starts_with('|');
                        let content_start = if literal {
                            // Skip the header line, then the indentation of the first line.
                            let after = raw.find('\n').map_or(raw.len(), |i| i + 1);
                            let indent = raw[after..].bytes().take_while(|b| *b == b' ').count();
                            span.start + (after + indent) as u32
                        } else {
                            span.start
                        };
                        data.push(ConfigMapEntry {
                            key: key.to_string(),
                            value: value.to_string(),
                            span,
                            content_start,
                            literal,
                        });
                    }
                }
                self.config_maps.push(ConfigMap {
                    id: obj.id.clone(),
                    at,
                    source: src.clone(),
                    data,
                });
            }
            _ => {}
        }
    }

    /// Merge another index (from another thread) into this one.
    pub fn extend(&mut self, other: Index) {
        self.service_accounts.extend(other.service_accounts);
        self.bindings.extend(other.bindings);
        self.roles.extend(other.roles);
        self.config_maps.extend(other.config_maps);
    }

    /// Sort everything so lookups and reports are deterministic.
    pub fn sort(&mut self) {
        let key = |a: &Located| (a.path.clone(), a.span.start);
        self.service_accounts.sort_by_key(|x| key(&x.at));
        self.bindings.sort_by_key(|x| key(&x.at));
        self.roles.sort_by_key(|x| key(&x.at));
        self.config_maps.sort_by_key(|x| key(&x.at));
    }

    pub fn service_account(&self, namespace: &str, name: &str) -> Option<&ServiceAccount> {
        self.service_accounts.iter().find(|s| {
            s.id.name.as_deref() == Some(name)
                && s.id.namespace.as_deref().unwrap_or("default") == namespace
        })
    }

    /// The source text of an indexed file (kept by its ConfigMaps).
    pub fn source_of(&self, path: &str) -> Option<&Arc<str>> {
        self.config_maps
            .iter()
            .find(|c| &*c.at.path == path)
            .map(|c| &c.source)
    }

    /// The Role or ClusterRole a `roleRef` names, when it is in the scanned set. A RoleBinding
    /// in `namespace` finds a Role of that namespace, or a ClusterRole.
    pub fn role(&self, kind: &str, name: &str, namespace: Option<&str>) -> Option<&Role> {
        let ns = namespace.unwrap_or("default");
        self.roles.iter().find(|r| {
            r.id.kind == kind
                && r.id.name.as_deref() == Some(name)
                && (kind == "ClusterRole" || r.id.namespace.as_deref().unwrap_or("default") == ns)
        })
    }

    /// The rules `role` grants, including those of the ClusterRoles it aggregates (followed
    /// transitively, each role once). Selectors without `matchLabels` are not followed.
    pub fn rules_of<'a>(&'a self, role: &'a Role) -> Vec<(&'a Role, &'a PolicyRule)> {
        let mut seen: Vec<*const Role> = vec![std::ptr::from_ref(role)];
        let mut todo = vec![role];
        let mut out = Vec::new();
        while let Some(r) = todo.pop() {
            out.extend(r.rules.iter().map(|p| (r, p)));
            if r.id.kind != "ClusterRole" {
                continue;
            }
            for sel in r.aggregation.iter().filter(|s| !s.is_empty()) {
                for c in self.roles.iter().filter(|c| {
                    c.id.kind == "ClusterRole" && sel.iter().all(|l| c.labels.contains(l))
                }) {
                    if !seen.contains(&std::ptr::from_ref(c)) {
                        seen.push(std::ptr::from_ref(c));
                        todo.push(c);
                    }
                }
            }
        }
        out
    }

    /// Bindings whose subjects include ServiceAccount `namespace/name`, directly, as the
    /// `system:serviceaccount:` user, or through the groups every service account is in.
    pub fn bindings_of_service_account(
        &self,
        namespace: &str,
        name: &str,
    ) -> Vec<(&Binding, &Subject)> {
        let user = format!("system:serviceaccount:{namespace}:{name}");
        let ns_group = format!("system:serviceaccounts:{namespace}");
        self.bindings
            .iter()
            .filter_map(|b| {
                let bns = b.id.namespace.as_deref().unwrap_or("default");
                b.subjects
                    .iter()
                    .find(|s| match s.kind.as_str() {
                        "ServiceAccount" => {
                            s.name == name && s.namespace.as_deref().unwrap_or(bns) == namespace
                        }
                        "User" => s.name == user,
                        "Group" => {
                            matches!(
                                s.name.as_str(),
                                "system:serviceaccounts" | "system:authenticated"
                            ) || s.name == ns_group
                        }
                        _ => false,
                    })
                    .map(|s| (b, s))
            })
            .collect()
    }

    pub fn config_map(&self, namespace: &str, name: &str) -> Option<&ConfigMap> {
        self.config_maps.iter().find(|s| {
            s.id.name.as_deref() == Some(name)
                && s.id.namespace.as_deref().unwrap_or("default") == namespace
        })
    }
}

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

impl Subject {
    /// Does this subject of a binding in namespace `bns` name ServiceAccount
    /// `namespace/name`: directly, as the `system:serviceaccount:` user, or through the
    /// groups every service account (of the namespace) is in?
    pub fn names_service_account(&self, bns: &str, namespace: &str, name: &str) -> bool {
        match self.kind.as_str() {
            "ServiceAccount" => {
                self.name == name && self.namespace.as_deref().unwrap_or(bns) == namespace
            }
            "User" => {
                self.name
                    .strip_prefix("system:serviceaccount:")
                    .and_then(|r| r.strip_prefix(namespace))
                    .and_then(|r| r.strip_prefix(':'))
                    == Some(name)
            }
            "Group" => {
                matches!(
                    self.name.as_str(),
                    "system:serviceaccounts" | "system:authenticated"
                ) || self.name.strip_prefix("system:serviceaccounts:") == Some(namespace)
            }
            _ => false,
        }
    }
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
    /// Hash tables over the lists, built at the first lookup (every workload asks; a linear
    /// search per question was O(workloads x bindings)). Reset by every `&mut` method.
    lookup: std::sync::OnceLock<Lookup>,
    /// Set by every query: the scan tells from it whether a file's checks depended on the
    /// index (see `scan::scan`).
    consulted: Consulted,
}

#[derive(Debug, Default)]
struct Consulted(std::sync::atomic::AtomicBool);

impl Clone for Consulted {
    fn clone(&self) -> Self {
        Consulted(std::sync::atomic::AtomicBool::new(
            self.0.load(std::sync::atomic::Ordering::Relaxed),
        ))
    }
}

type NsName = (String, String);

/// Positions in the lists, by what the queries ask for. Each list keeps its order, so a
/// lookup returns what the linear search returned: the first match, or every match in
/// list order.
#[derive(Clone, Debug, Default)]
struct Lookup {
    service_accounts: std::collections::HashMap<NsName, usize>,
    config_maps: std::collections::HashMap<NsName, usize>,
    /// (kind, name) -> roles of that kind and name, in list order.
    roles: std::collections::HashMap<(String, String), Vec<usize>>,
    /// Bindings with a subject naming the ServiceAccount (directly or as its user name).
    by_account: std::collections::HashMap<NsName, Vec<usize>>,
    /// Bindings to the `system:serviceaccounts:<ns>` group.
    by_namespace_group: std::collections::HashMap<String, Vec<usize>>,
    /// Bindings to `system:serviceaccounts` or `system:authenticated`.
    to_everyone: Vec<usize>,
}

fn ns_name(id: &ObjectId) -> Option<NsName> {
    Some((
        id.namespace.as_deref().unwrap_or("default").to_string(),
        id.name.clone()?,
    ))
}

impl Lookup {
    fn build(i: &Index) -> Lookup {
        let mut l = Lookup::default();
        for (n, sa) in i.service_accounts.iter().enumerate() {
            if let Some(k) = ns_name(&sa.id) {
                l.service_accounts.entry(k).or_insert(n);
            }
        }
        for (n, cm) in i.config_maps.iter().enumerate() {
            if let Some(k) = ns_name(&cm.id) {
                l.config_maps.entry(k).or_insert(n);
            }
        }
        for (n, r) in i.roles.iter().enumerate() {
            if let Some(name) = &r.id.name {
                l.roles
                    .entry((r.id.kind.clone(), name.clone()))
                    .or_default()
                    .push(n);
            }
        }
        for (n, b) in i.bindings.iter().enumerate() {
            let bns = b.id.namespace.as_deref().unwrap_or("default");
            for s in &b.subjects {
                let list = match s.kind.as_str() {
                    "ServiceAccount" => l
                        .by_account
                        .entry((
                            s.namespace.as_deref().unwrap_or(bns).to_string(),
                            s.name.clone(),
                        ))
                        .or_default(),
                    "User" => match s
                        .name
                        .strip_prefix("system:serviceaccount:")
                        .and_then(|r| r.split_once(':'))
                    {
                        Some((ns, name)) => l
                            .by_account
                            .entry((ns.to_string(), name.to_string()))
                            .or_default(),
                        None => continue,
                    },
                    "Group" => match s.name.as_str() {
                        "system:serviceaccounts" | "system:authenticated" => &mut l.to_everyone,
                        g => match g.strip_prefix("system:serviceaccounts:") {
                            Some(ns) => l.by_namespace_group.entry(ns.to_string()).or_default(),
                            None => continue,
                        },
                    },
                    _ => continue,
                };
                if list.last() != Some(&n) {
                    list.push(n);
                }
            }
        }
        l
    }
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
        self.lookup.take();
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
        self.lookup.take();
        self.service_accounts.extend(other.service_accounts);
        self.bindings.extend(other.bindings);
        self.roles.extend(other.roles);
        self.config_maps.extend(other.config_maps);
    }

    /// Sort everything so lookups and reports are deterministic.
    pub fn sort(&mut self) {
        self.lookup.take();
        let key = |a: &Located| (a.path.clone(), a.span.start);
        self.service_accounts.sort_by_key(|x| key(&x.at));
        self.bindings.sort_by_key(|x| key(&x.at));
        self.roles.sort_by_key(|x| key(&x.at));
        self.config_maps.sort_by_key(|x| key(&x.at));
    }

    fn lookup(&self) -> &Lookup {
        self.consulted
            .0
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.lookup.get_or_init(|| Lookup::build(self))
    }

    /// Whether any query was made of this index.
    pub fn consulted(&self) -> bool {
        self.consulted.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn service_account(&self, namespace: &str, name: &str) -> Option<&ServiceAccount> {
        let n = *self
            .lookup()
            .service_accounts
            .get(&(namespace.to_string(), name.to_string()))?;
        self.service_accounts.get(n)
    }

    /// The source text of an indexed file (kept by its ConfigMaps).
    pub fn source_of(&self, path: &str) -> Option<&Arc<str>> {
        self.lookup();
        self.config_maps
            .iter()
            .find(|c| &*c.at.path == path)
            .map(|c| &c.source)
    }

    /// The Role or ClusterRole a `roleRef` names, when it is in the scanned set. A RoleBinding
    /// in `namespace` finds a Role of that namespace, or a ClusterRole.
    pub fn role(&self, kind: &str, name: &str, namespace: Option<&str>) -> Option<&Role> {
        let ns = namespace.unwrap_or("default");
        self.lookup()
            .roles
            .get(&(kind.to_string(), name.to_string()))?
            .iter()
            .map(|&n| &self.roles[n])
            .find(|r| kind == "ClusterRole" || r.id.namespace.as_deref().unwrap_or("default") == ns)
    }

    /// The rules `role` grants, including those of the ClusterRoles it aggregates (followed
    /// transitively, each role once). Selectors without `matchLabels` are not followed.
    pub fn rules_of<'a>(&'a self, role: &'a Role) -> Vec<(&'a Role, &'a PolicyRule)> {
        self.lookup();
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
        let l = self.lookup();
        let mut candidates: Vec<usize> = l
            .by_account
            .get(&(namespace.to_string(), name.to_string()))
            .into_iter()
            .flatten()
            .chain(l.by_namespace_group.get(namespace).into_iter().flatten())
            .chain(&l.to_everyone)
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        // The same test as before on each candidate, so the subject reported is the first
        // matching one of the binding.
        candidates
            .into_iter()
            .map(|n| &self.bindings[n])
            .filter_map(|b| {
                let bns = b.id.namespace.as_deref().unwrap_or("default");
                b.subjects
                    .iter()
                    .find(|s| s.names_service_account(bns, namespace, name))
                    .map(|s| (b, s))
            })
            .collect()
    }

    pub fn config_map(&self, namespace: &str, name: &str) -> Option<&ConfigMap> {
        let n = *self
            .lookup()
            .config_maps
            .get(&(namespace.to_string(), name.to_string()))?;
        self.config_maps.get(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index_of(src: &str) -> Index {
        let loaded = crate::yaml::load(src, &crate::yaml::Limits::default());
        let path: Arc<str> = Arc::from("rbac.yaml");
        let text: Arc<str> = Arc::from(src);
        let mut i = Index::default();
        for doc in &loaded.docs {
            for o in &crate::k8s::objects(doc).unwrap() {
                i.add(&path, &text, doc, o);
            }
        }
        i.sort();
        i
    }

    /// The linear search the hash tables replaced: the reference for the lookups.
    fn bindings_linear<'a>(i: &'a Index, namespace: &str, name: &str) -> Vec<(&'a str, &'a str)> {
        i.bindings
            .iter()
            .filter_map(|b| {
                let bns = b.id.namespace.as_deref().unwrap_or("default");
                let s = b
                    .subjects
                    .iter()
                    .find(|s| s.names_service_account(bns, namespace, name))?;
                Some((b.id.name.as_deref().unwrap_or(""), s.name.as_str()))
            })
            .collect()
    }

    #[test]
    fn lookups_answer_what_a_linear_search_answers() {
        let mut src = String::new();
        let subjects = [
            "{kind: ServiceAccount, name: app}",
            "{kind: ServiceAccount, name: app, namespace: other}",
            "{kind: User, name: 'system:serviceaccount:team:app'}",
            "{kind: User, name: alice}",
            "{kind: Group, name: 'system:serviceaccounts:team'}",
            "{kind: Group, name: 'system:authenticated'}",
            "{kind: Group, name: devs}",
        ];
        for n in 0..40 {
            let a = subjects[n % subjects.len()];
            let b = subjects[(n * 3 + 1) % subjects.len()];
            let (kind, ns) = if n % 4 == 0 {
                ("ClusterRoleBinding", String::new())
            } else {
                (
                    "RoleBinding",
                    format!("  namespace: {}\n", ["team", "other"][n % 2]),
                )
            };
            src.push_str(&format!(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata:\n  name: b{n:02}\n{ns}roleRef: {{kind: ClusterRole, name: r{}}}\nsubjects: [{a}, {b}]\n---\n",
                n % 3
            ));
            src.push_str(&format!(
                "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: sa{}, namespace: {}}}\n---\n",
                n % 7,
                ["team", "other"][n % 2]
            ));
        }
        src.push_str("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r1}\nrules: []\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r1, namespace: team}\nrules: []\n");
        let i = index_of(&src);
        assert!(!i.consulted());
        for ns in ["team", "other", "default", "x"] {
            for name in ["app", "sa1", "alice", "nobody"] {
                let fast: Vec<(&str, &str)> = i
                    .bindings_of_service_account(ns, name)
                    .into_iter()
                    .map(|(b, s)| (b.id.name.as_deref().unwrap_or(""), s.name.as_str()))
                    .collect();
                assert_eq!(fast, bindings_linear(&i, ns, name), "{ns}/{name}");
                let linear = i.service_accounts.iter().find(|s| {
                    s.id.name.as_deref() == Some(name)
                        && s.id.namespace.as_deref().unwrap_or("default") == ns
                });
                assert_eq!(
                    i.service_account(ns, name).map(|s| s.at.span),
                    linear.map(|s| s.at.span)
                );
            }
        }
        assert!(i.consulted());
        assert!(!i.bindings_of_service_account("team", "app").is_empty());
        // A Role of the namespace, else the ClusterRole, as before.
        let r = i.role("Role", "r1", Some("team")).unwrap();
        assert_eq!(r.id.namespace.as_deref(), Some("team"));
        assert!(i.role("Role", "r1", Some("other")).is_none());
        assert!(i.role("ClusterRole", "r1", Some("other")).is_some());
        assert!(i.role("ClusterRole", "r2", None).is_none());
    }

    #[test]
    fn the_tables_follow_changes_to_the_index() {
        let mut i =
            index_of("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: n}\n");
        assert!(i.service_account("n", "b").is_none());
        i.extend(index_of(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: b, namespace: n}\n",
        ));
        assert!(
            i.service_account("n", "b").is_some(),
            "lookup rebuilt after extend"
        );
        assert!(i.service_account("n", "a").is_some());
    }
}

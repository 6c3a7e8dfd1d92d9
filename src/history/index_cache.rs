//! A persistent, content-addressed cache of each manifest blob's contribution to the
//! cross-reference index (ServiceAccounts, RBAC, ConfigMaps), so a repeated `diff` (a
//! pre-commit hook, a re-run on a pull request) reads from the object database only the
//! blobs that changed.
//!
//! - **Where**: `<git common dir>/cronguard/index-cache-v1.json` (the common dir, so every
//!   worktree of a clone shares it; git never commits or pushes anything there). A symlink
//!   at `cronguard/` or at the file is never followed: the cache is then neither read nor
//!   written.
//! - **Key**: the blob id. The file as a whole is tagged with the cache format, the
//!   cronguard version and the loader limits that change what a blob contributes
//!   (`--max-file-size`, the YAML depth/alias/document limits); any mismatch discards the
//!   whole file, so a new version or other limits never reuse an entry.
//! - **Value**: the blob's index entries without their path (one blob can sit at several
//!   paths; the path is filled in per side), or nothing: most blobs are workloads and are
//!   listed by id only. A blob holding a ConfigMap also keeps its text, since the rules that
//!   follow a workload into a ConfigMap script point at places inside that text
//!   (`ConfigMap::source`): findings are then the same bytes with or without the cache.
//! - **Bounded**: each run keeps only the entries of the blobs on its two sides, and writes
//!   the file only when that set or an entry changed (a warm run writes nothing). Alternating
//!   between very different revisions therefore re-reads blobs; it is never wrong.
//! - **Untrusted input**: a file that does not parse, is over 256 MiB, has the wrong tag, or
//!   holds an entry whose spans do not fit its recorded text length is ignored (in whole or
//!   per entry) and rebuilt; never an error. Writing goes to a temporary file in the same
//!   directory, then a rename; when that fails (read-only git dir) the run goes on and
//!   `--stats` counts it in `index_cache_write_failures`.
//! - `--no-cache` (on `diff` and `scan --base`) neither reads nor writes it.

use crate::index::{
    Binding, ConfigMap, ConfigMapEntry, Index, Located, PolicyRule, Role, ServiceAccount, Subject,
};
use crate::k8s::ObjectId;
use crate::scan::Options;
use crate::yaml::Span;
use git2::{Oid, Repository};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bump when what a blob contributes changes (index fields, parsing) within a version.
const FORMAT: u32 = 1;
const DIR: &str = "cronguard";
const FILE: &str = "index-cache-v1.json";
const MAX_BYTES: u64 = 256 << 20;

/// What the file tags itself with; a mismatch discards every entry.
pub fn key(opts: &Options) -> String {
    format!(
        "cronguard {} format {FORMAT} max-file-bytes {} yaml {:?}",
        env!("CARGO_PKG_VERSION"),
        opts.read_limits.max_file_bytes,
        opts.yaml_limits
    )
}

/// The contribution of one blob: `None` when it holds no indexed object.
pub type Contribution = Option<Arc<Index>>;

pub struct IndexCache {
    /// The cache file; `None` when disabled (`--no-cache`).
    file: Option<PathBuf>,
    key: String,
    /// Contribution and text length, by blob id.
    entries: HashMap<Oid, Option<(Arc<Index>, u32)>>,
    used: HashSet<Oid>,
    changed: bool,
    pub hits: usize,
    pub misses: usize,
}

type S = (u32, u32);
type Id = (String, String, Option<String>, Option<String>);

#[derive(Serialize, Deserialize)]
struct CacheFile {
    key: String,
    /// Blobs without indexed objects (sorted).
    none: Vec<String>,
    some: BTreeMap<String, Blob>,
}

#[derive(Serialize, Deserialize)]
struct Blob {
    /// Length of the blob's text: every span must fit.
    len: u32,
    /// The text, kept only when the blob holds a ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sa: Vec<Sa>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    bindings: Vec<Bd>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    roles: Vec<Rl>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    config_maps: Vec<Cm>,
}

#[derive(Serialize, Deserialize)]
struct Sa {
    id: Id,
    at: S,
    automount: Option<bool>,
    focus: S,
}

#[derive(Serialize, Deserialize)]
struct Bd {
    id: Id,
    at: S,
    role_kind: String,
    role_name: String,
    role_ref: S,
    subjects: Vec<(String, String, Option<String>, S)>,
}

#[derive(Serialize, Deserialize)]
struct Pr {
    groups: Vec<String>,
    resources: Vec<String>,
    verbs: Vec<String>,
    names: Vec<String>,
    span: S,
}

#[derive(Serialize, Deserialize)]
struct Rl {
    id: Id,
    at: S,
    rules: Vec<Pr>,
    labels: Vec<(String, String)>,
    aggregation: Vec<Vec<(String, String)>>,
}

#[derive(Serialize, Deserialize)]
struct Ce {
    key: String,
    value: String,
    span: S,
    content_start: u32,
    literal: bool,
}

#[derive(Serialize, Deserialize)]
struct Cm {
    id: Id,
    at: S,
    data: Vec<Ce>,
}

fn s(x: Span) -> S {
    (x.start, x.end)
}

fn id(x: &ObjectId) -> Id {
    (
        x.api_version.clone(),
        x.kind.clone(),
        x.namespace.clone(),
        x.name.clone(),
    )
}

fn to_blob(ix: &Index, len: usize) -> Blob {
    Blob {
        len: len as u32,
        source: ix.config_maps.first().map(|c| c.source.to_string()),
        sa: ix
            .service_accounts
            .iter()
            .map(|a| Sa {
                id: id(&a.id),
                at: s(a.at.span),
                automount: a.automount,
                focus: s(a.focus),
            })
            .collect(),
        bindings: ix
            .bindings
            .iter()
            .map(|b| Bd {
                id: id(&b.id),
                at: s(b.at.span),
                role_kind: b.role_kind.clone(),
                role_name: b.role_name.clone(),
                role_ref: s(b.role_ref),
                subjects: b
                    .subjects
                    .iter()
                    .map(|x| {
                        (
                            x.kind.clone(),
                            x.name.clone(),
                            x.namespace.clone(),
                            s(x.span),
                        )
                    })
                    .collect(),
            })
            .collect(),
        roles: ix
            .roles
            .iter()
            .map(|r| Rl {
                id: id(&r.id),
                at: s(r.at.span),
                rules: r
                    .rules
                    .iter()
                    .map(|p| Pr {
                        groups: p.api_groups.clone(),
                        resources: p.resources.clone(),
                        verbs: p.verbs.clone(),
                        names: p.resource_names.clone(),
                        span: s(p.span),
                    })
                    .collect(),
                labels: r.labels.clone(),
                aggregation: r.aggregation.clone(),
            })
            .collect(),
        config_maps: ix
            .config_maps
            .iter()
            .map(|c| Cm {
                id: id(&c.id),
                at: s(c.at.span),
                data: c
                    .data
                    .iter()
                    .map(|e| Ce {
                        key: e.key.clone(),
                        value: e.value.clone(),
                        span: s(e.span),
                        content_start: e.content_start,
                        literal: e.literal,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Rebuild a blob's index (with an empty path), or `None` if the entry is inconsistent.
fn from_blob(b: Blob) -> Option<Index> {
    let len = b.len;
    let source: Option<Arc<str>> = b.source.map(Arc::from);
    if source.as_ref().is_some_and(|t| t.len() != len as usize) {
        return None;
    }
    let kept = source.clone();
    let text = kept.as_deref();
    // Spans fit the text; inside a kept text they also fall on character boundaries.
    let ok = |x: S| {
        x.0 <= x.1
            && x.1 <= len
            && text.is_none_or(|t| {
                t.is_char_boundary(x.0 as usize) && t.is_char_boundary(x.1 as usize)
            })
    };
    let span = |x: S| Span {
        start: x.0,
        end: x.1,
    };
    let oid = |x: Id| ObjectId {
        api_version: x.0,
        kind: x.1,
        namespace: x.2,
        name: x.3,
    };
    let at = |x: S| Located {
        path: Arc::from(""),
        span: span(x),
    };
    let mut ix = Index::default();
    for a in b.sa {
        if !(ok(a.at) && ok(a.focus)) {
            return None;
        }
        ix.service_accounts.push(ServiceAccount {
            id: oid(a.id),
            at: at(a.at),
            automount: a.automount,
            focus: span(a.focus),
        });
    }
    for d in b.bindings {
        if !(ok(d.at) && ok(d.role_ref) && d.subjects.iter().all(|x| ok(x.3))) {
            return None;
        }
        ix.bindings.push(Binding {
            id: oid(d.id),
            at: at(d.at),
            role_kind: d.role_kind,
            role_name: d.role_name,
            role_ref: span(d.role_ref),
            subjects: d
                .subjects
                .into_iter()
                .map(|x| Subject {
                    kind: x.0,
                    name: x.1,
                    namespace: x.2,
                    span: span(x.3),
                })
                .collect(),
        });
    }
    for r in b.roles {
        if !(ok(r.at) && r.rules.iter().all(|p| ok(p.span))) {
            return None;
        }
        ix.roles.push(Role {
            id: oid(r.id),
            at: at(r.at),
            rules: r
                .rules
                .into_iter()
                .map(|p| PolicyRule {
                    api_groups: p.groups,
                    resources: p.resources,
                    verbs: p.verbs,
                    resource_names: p.names,
                    span: span(p.span),
                })
                .collect(),
            labels: r.labels,
            aggregation: r.aggregation,
        });
    }
    if !b.config_maps.is_empty() {
        let src = source?;
        for c in b.config_maps {
            let entries_ok = c
                .data
                .iter()
                .all(|e| ok(e.span) && ok((e.content_start, e.content_start)));
            if !(ok(c.at) && entries_ok) {
                return None;
            }
            ix.config_maps.push(ConfigMap {
                id: oid(c.id),
                at: at(c.at),
                source: src.clone(),
                data: c
                    .data
                    .into_iter()
                    .map(|e| ConfigMapEntry {
                        key: e.key,
                        value: e.value,
                        span: span(e.span),
                        content_start: e.content_start,
                        literal: e.literal,
                    })
                    .collect(),
            });
        }
    }
    if ix.service_accounts.is_empty()
        && ix.bindings.is_empty()
        && ix.roles.is_empty()
        && ix.config_maps.is_empty()
    {
        // "Some" with nothing in it is not what we write.
        return None;
    }
    Some(ix)
}

/// A regular file or directory, not a symlink (`None`: absent; `Some(false)`: unusable).
fn plain(p: &Path, dir: bool) -> Option<bool> {
    let m = std::fs::symlink_metadata(p).ok()?;
    Some(if dir { m.is_dir() } else { m.is_file() })
}

fn load(file: &Path, key: &str) -> HashMap<Oid, Option<(Arc<Index>, u32)>> {
    let mut out = HashMap::new();
    let dir_ok = file.parent().is_some_and(|d| plain(d, true) == Some(true));
    if !dir_ok || plain(file, false) != Some(true) {
        return out;
    }
    let Ok(meta) = std::fs::metadata(file) else {
        return out;
    };
    if meta.len() > MAX_BYTES {
        return out;
    }
    let Ok(text) = std::fs::read_to_string(file) else {
        return out;
    };
    let Ok(cf) = serde_json::from_str::<CacheFile>(&text) else {
        return out;
    };
    if cf.key != key {
        return out;
    }
    for o in &cf.none {
        if let Ok(oid) = Oid::from_str(o) {
            out.insert(oid, None);
        }
    }
    for (o, b) in cf.some {
        let len = b.len;
        let (Ok(oid), Some(ix)) = (Oid::from_str(&o), from_blob(b)) else {
            continue;
        };
        out.insert(oid, Some((Arc::new(ix), len)));
    }
    out
}

impl IndexCache {
    /// Open (and read) the cache of `repo`; `enabled: false` gives an empty cache that is
    /// never written.
    pub fn open(repo: &Repository, opts: &Options, enabled: bool) -> IndexCache {
        let key = key(opts);
        let file = enabled.then(|| repo.commondir().join(DIR).join(FILE));
        let entries = file.as_deref().map(|f| load(f, &key)).unwrap_or_default();
        IndexCache {
            file,
            key,
            entries,
            used: HashSet::new(),
            changed: false,
            hits: 0,
            misses: 0,
        }
    }

    /// The cached contribution of a blob (counted as a hit), if any.
    pub fn get(&mut self, oid: Oid) -> Option<Contribution> {
        let c = self.entries.get(&oid)?.as_ref().map(|(ix, _)| ix.clone());
        self.used.insert(oid);
        self.hits += 1;
        Some(c)
    }

    /// Record a freshly computed contribution of a blob whose text is `len` bytes (counted
    /// as a miss).
    pub fn insert(&mut self, oid: Oid, c: Contribution, len: usize) {
        self.misses += 1;
        self.used.insert(oid);
        self.entries.insert(oid, c.map(|ix| (ix, len as u32)));
        self.changed = true;
    }

    /// Write the entries this run used, when they differ from what was read. `Ok(false)`:
    /// nothing to write (or disabled); `Err`: writing failed (the run goes on).
    pub fn save(&mut self) -> Result<bool, String> {
        let Some(file) = self.file.clone() else {
            return Ok(false);
        };
        let before = self.entries.len();
        let used = std::mem::take(&mut self.used);
        self.entries.retain(|o, _| used.contains(o));
        if !self.changed && self.entries.len() == before {
            return Ok(false);
        }
        let mut cf = CacheFile {
            key: self.key.clone(),
            none: Vec::new(),
            some: BTreeMap::new(),
        };
        for (oid, c) in &self.entries {
            match c {
                None => cf.none.push(oid.to_string()),
                Some((ix, len)) => {
                    cf.some.insert(oid.to_string(), to_blob(ix, *len as usize));
                }
            }
        }
        cf.none.sort();
        let json = serde_json::to_string(&cf).map_err(|e| e.to_string())?;
        write_atomic(&file, json.as_bytes())?;
        Ok(true)
    }
}

fn write_atomic(file: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = file.parent().ok_or("no parent directory")?;
    match plain(dir, true) {
        Some(true) => {}
        Some(false) => return Err(format!("{} is not a directory", dir.display())),
        None => std::fs::create_dir(dir).map_err(|e| e.to_string())?,
    }
    if plain(file, false) == Some(false) {
        return Err(format!("{} is not a regular file", file.display()));
    }
    let tmp = dir.join(format!("{FILE}.{}.tmp", std::process::id()));
    let res = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        drop(f);
        std::fs::rename(&tmp, file)
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inconsistent_entries_are_dropped() {
        let mk = |len: u32, at: S| Blob {
            len,
            source: None,
            sa: vec![Sa {
                id: (
                    String::from("v1"),
                    "ServiceAccount".into(),
                    None,
                    Some("a".into()),
                ),
                at,
                automount: Some(true),
                focus: (0, 1),
            }],
            bindings: Vec::new(),
            roles: Vec::new(),
            config_maps: Vec::new(),
        };
        assert!(from_blob(mk(10, (0, 10))).is_some());
        assert!(from_blob(mk(10, (0, 11))).is_none(), "span past the text");
        assert!(from_blob(mk(10, (5, 4))).is_none(), "reversed span");
        let cm = Blob {
            len: 3,
            source: None,
            sa: Vec::new(),
            bindings: Vec::new(),
            roles: Vec::new(),
            config_maps: vec![Cm {
                id: (
                    String::from("v1"),
                    "ConfigMap".into(),
                    None,
                    Some("c".into()),
                ),
                at: (0, 3),
                data: Vec::new(),
            }],
        };
        assert!(from_blob(cm).is_none(), "a ConfigMap without its text");
    }
}

//! `cronguard history`: the timeline of every scheduled workload's definition.
//!
//! Walks the first-parent history of HEAD, oldest first (a merge counts as one change: what
//! it brought into the branch). Each commit's tree is compared with its first parent's,
//! skipping identical subtrees by id and subtrees outside the PATH filter; only the changed
//! manifest blobs are read, and each blob's workloads are extracted once (cached by blob id).

use super::facts::{self, Facts};
use super::{Cache, Filter};
use crate::k8s::ObjectId;
use crate::scan::Options;
use git2::{ObjectType, Oid, Repository, Sort};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

#[derive(Clone, Debug, Serialize)]
pub struct Event {
    pub commit: String,
    pub author: String,
    /// ISO 8601, UTC.
    pub date: String,
    pub summary: String,
    /// `introduced`, `removed`, `moved`, `schedule`, `time-zone`, `suspend`, `image`,
    /// `command`.
    pub change: &'static str,
    pub detail: String,
    pub path: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Timeline {
    pub object: ObjectId,
    /// Where it is defined at HEAD (`null` if it was removed).
    pub path: Option<String>,
    pub events: Vec<Event>,
}

#[derive(Debug, Default, Serialize)]
pub struct History {
    pub commits: usize,
    pub workloads: Vec<Timeline>,
    #[serde(skip)]
    pub stats: super::RunStats,
}

type State = HashMap<String, Vec<(String, Arc<Facts>)>>;

fn current<'a>(by_key: &'a State, key: &str) -> Option<&'a (String, Arc<Facts>)> {
    by_key
        .get(key)
        .and_then(|v| v.iter().min_by(|a, b| a.0.cmp(&b.0)))
}

fn events_between(
    old: Option<&(String, Arc<Facts>)>,
    new: Option<&(String, Arc<Facts>)>,
) -> Vec<(&'static str, String, String)> {
    let mut ev = Vec::new();
    match (old, new) {
        (None, None) => {}
        (None, Some((p, f))) => {
            let mut d = String::new();
            if let Some(s) = &f.schedule {
                d.push_str(&format!("schedule {:?}", s.text));
                if let Ok(sc) = crate::schedule::parse(&s.text) {
                    d.push_str(&format!(" ({})", sc.describe()));
                }
            }
            let images: Vec<&str> = f
                .containers
                .iter()
                .filter_map(|c| c.image.as_ref().map(|i| i.text.as_str()))
                .collect();
            if !images.is_empty() {
                if !d.is_empty() {
                    d.push_str(", ");
                }
                d.push_str(&format!("image {}", images.join(", ")));
            }
            if f.suspend.is_some_and(|s| s.0) {
                d.push_str(", suspended");
            }
            ev.push(("introduced", d, p.clone()));
        }
        (Some((p, _)), None) => ev.push(("removed", String::new(), p.clone())),
        (Some((op, o)), Some((np, n))) => {
            if op != np {
                ev.push(("moved", format!("from {op} to {np}"), np.clone()));
            }
            if o.schedule.as_ref().map(|v| &v.text) != n.schedule.as_ref().map(|v| &v.text) {
                ev.push((
                    "schedule",
                    super::changes::schedule_message(o.schedule.as_ref(), n.schedule.as_ref()),
                    np.clone(),
                ));
            }
            if o.time_zone.as_ref().map(|v| &v.text) != n.time_zone.as_ref().map(|v| &v.text) {
                let s = |v: &Option<facts::Valued>| {
                    v.as_ref()
                        .map_or("unset".to_string(), |v| format!("{:?}", v.text))
                };
                ev.push((
                    "time-zone",
                    format!("{} → {}", s(&o.time_zone), s(&n.time_zone)),
                    np.clone(),
                ));
            }
            let (os, ns) = (
                o.suspend.is_some_and(|s| s.0),
                n.suspend.is_some_and(|s| s.0),
            );
            if os != ns {
                ev.push((
                    "suspend",
                    if ns {
                        "suspended".into()
                    } else {
                        "suspension lifted".into()
                    },
                    np.clone(),
                ));
            }
            for c in &n.containers {
                let oc = o.container(&c.slot);
                let (oi, ni) = (
                    oc.and_then(|x| x.image.as_ref()).map(|v| v.text.as_str()),
                    c.image.as_ref().map(|v| v.text.as_str()),
                );
                if oi != ni {
                    ev.push((
                        "image",
                        format!(
                            "{}: {} → {}",
                            c.label,
                            oi.unwrap_or("none"),
                            ni.unwrap_or("none")
                        ),
                        np.clone(),
                    ));
                }
                if let Some(oc) = oc {
                    let t = |v: &Option<facts::Valued>| v.as_ref().map(|v| v.text.clone());
                    if t(&oc.command) != t(&c.command)
                        || t(&oc.args) != t(&c.args)
                        || t(&oc.source) != t(&c.source)
                    {
                        let show = |v: &Option<facts::Valued>| {
                            v.as_ref()
                                .map_or(String::new(), |v| super::changes::redact(&v.text))
                        };
                        ev.push((
                            "command",
                            format!(
                                "{}: `{}` → `{}`",
                                c.label,
                                format!("{} {}", show(&oc.command), show(&oc.args)).trim(),
                                format!("{} {}", show(&c.command), show(&c.args)).trim()
                            ),
                            np.clone(),
                        ));
                    }
                }
            }
        }
    }
    ev
}

type TreeItem = (Oid, i32, Option<ObjectType>);

/// Manifest paths whose blob differs between two trees, with the new blob (`None` when it is
/// gone or became a symlink). Identical subtrees are skipped by id, like `git diff-tree`.
fn tree_changes(
    repo: &Repository,
    old: Option<&git2::Tree>,
    new: Option<&git2::Tree>,
    prefix: &str,
    filter: &Filter,
    out: &mut Vec<(String, Option<Oid>)>,
) -> Result<(), git2::Error> {
    let mut names: BTreeMap<Vec<u8>, (Option<TreeItem>, Option<TreeItem>)> = BTreeMap::new();
    for e in old.iter().flat_map(|t| t.iter()) {
        names.entry(e.name_bytes().to_vec()).or_default().0 =
            Some((e.id(), e.filemode(), e.kind()));
    }
    for e in new.iter().flat_map(|t| t.iter()) {
        names.entry(e.name_bytes().to_vec()).or_default().1 =
            Some((e.id(), e.filemode(), e.kind()));
    }
    let of = |x: Option<TreeItem>, k: ObjectType| x.filter(|x| x.2 == Some(k));
    for (name, (o, n)) in names {
        if o.map(|x| (x.0, x.1)) == n.map(|x| (x.0, x.1)) {
            continue;
        }
        let path = format!("{prefix}{}", String::from_utf8_lossy(&name));
        let (ot, nt) = (of(o, ObjectType::Tree), of(n, ObjectType::Tree));
        if (ot.is_some() || nt.is_some()) && filter.may_contain(&path) {
            let ot = ot.map(|x| repo.find_tree(x.0)).transpose()?;
            let nt = nt.map(|x| repo.find_tree(x.0)).transpose()?;
            tree_changes(
                repo,
                ot.as_ref(),
                nt.as_ref(),
                &format!("{path}/"),
                filter,
                out,
            )?;
        }
        let (ob, nb) = (of(o, ObjectType::Blob), of(n, ObjectType::Blob));
        if (ob.is_some() || nb.is_some())
            && filter.classify(&path) == Some(super::FileKind::Manifest)
        {
            out.push((path, nb.filter(|x| x.1 != 0o120_000).map(|x| x.0)));
        }
    }
    Ok(())
}

fn iso_date(t: &git2::Time) -> String {
    chrono::DateTime::from_timestamp(t.seconds(), 0)
        .map_or_else(String::new, |d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// Build the timelines of the workloads under `filter`.
pub fn history(repo: &Repository, filter: &Filter, opts: &Options) -> Result<History, String> {
    let mut walk = repo.revwalk().map_err(|e| e.to_string())?;
    walk.push_head()
        .map_err(|e| format!("HEAD does not point at a commit: {}", e.message()))?;
    walk.simplify_first_parent().map_err(|e| e.to_string())?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
        .map_err(|e| e.to_string())?;
    let ids: Vec<Oid> = walk.filter_map(Result::ok).collect();
    let mut cache = Cache::new();
    // path → workloads defined there; key → [(path, facts)].
    let mut by_path: HashMap<String, Vec<Arc<Facts>>> = HashMap::new();
    let mut by_key: State = HashMap::new();
    let mut timelines: BTreeMap<String, Timeline> = BTreeMap::new();
    let mut prev_tree: Option<git2::Tree> = None;
    for id in &ids {
        let commit = repo.find_commit(*id).map_err(|e| e.to_string())?;
        let tree = commit.tree().map_err(|e| e.to_string())?;
        let mut touched_paths: Vec<(String, Option<Oid>)> = Vec::new();
        tree_changes(
            repo,
            prev_tree.as_ref(),
            Some(&tree),
            "",
            filter,
            &mut touched_paths,
        )
        .map_err(|e| e.to_string())?;
        prev_tree = Some(tree);
        if touched_paths.is_empty() {
            continue;
        }
        let mut keys: BTreeSet<String> = BTreeSet::new();
        let mut updates: Vec<(String, Vec<Arc<Facts>>)> = Vec::new();
        for (p, blob) in &touched_paths {
            if let Some(old) = by_path.get(p) {
                keys.extend(old.iter().map(|f| f.id.key()));
            }
            let new: Vec<Arc<Facts>> = match blob {
                Some(oid) => cache
                    .facts(repo, *oid, opts)
                    .iter()
                    .filter(|f| facts::is_scheduled(f, p))
                    .map(|f| Arc::new(f.clone()))
                    .collect(),
                None => Vec::new(),
            };
            keys.extend(new.iter().map(|f| f.id.key()));
            updates.push((p.clone(), new));
        }
        let before: HashMap<String, Option<(String, Arc<Facts>)>> = keys
            .iter()
            .map(|k| (k.clone(), current(&by_key, k).cloned()))
            .collect();
        for (p, new) in updates {
            if let Some(old) = by_path.remove(&p) {
                for f in old {
                    if let Some(v) = by_key.get_mut(&f.id.key()) {
                        v.retain(|(q, _)| *q != p);
                    }
                }
            }
            for f in &new {
                by_key
                    .entry(f.id.key())
                    .or_default()
                    .push((p.clone(), f.clone()));
            }
            if !new.is_empty() {
                by_path.insert(p, new);
            }
        }
        let sig = commit.author();
        let author = String::from_utf8_lossy(sig.name_bytes()).into_owned();
        let date = iso_date(&commit.time());
        let summary =
            String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default()).into_owned();
        for k in &keys {
            let old = before.get(k).and_then(Option::as_ref);
            let new = current(&by_key, k);
            let evs = events_between(old, new);
            if evs.is_empty() {
                continue;
            }
            let object = new.or(old).map(|(_, f)| f.id.clone()).unwrap_or_default();
            let tl = timelines.entry(k.clone()).or_insert_with(|| Timeline {
                object,
                path: None,
                events: Vec::new(),
            });
            for (change, detail, path) in evs {
                tl.events.push(Event {
                    commit: id.to_string(),
                    author: author.clone(),
                    date: date.clone(),
                    summary: summary.clone(),
                    change,
                    detail,
                    path,
                });
            }
        }
    }
    for (k, tl) in &mut timelines {
        tl.path = current(&by_key, k).map(|(p, _)| p.clone());
    }
    let mut stats = cache.stats;
    stats.head = "HEAD".into();
    Ok(History {
        commits: ids.len(),
        workloads: timelines.into_values().collect(),
        stats,
    })
}

fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        crate::report::escape_display(ch, &mut out);
    }
    out
}

/// The human rendering.
pub fn write_human(h: &History, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    for tl in &h.workloads {
        let at = tl
            .path
            .as_deref()
            .map_or_else(|| "removed".to_string(), clean);
        writeln!(out, "{} ({at})", clean(&tl.object.display()))?;
        for e in &tl.events {
            let detail = if e.detail.is_empty() {
                String::new()
            } else {
                format!(": {}", clean(&e.detail))
            };
            writeln!(
                out,
                "  {} {} {:<20} {}{detail}",
                &e.date.get(..10).unwrap_or(&e.date),
                &e.commit[..12.min(e.commit.len())],
                clean(&e.author),
                e.change
            )?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "{} scheduled workload{} over {} commit{}",
        h.workloads.len(),
        if h.workloads.len() == 1 { "" } else { "s" },
        h.commits,
        if h.commits == 1 { "" } else { "s" }
    )
}

/// The JSON rendering (version 1): `{"version": 1, "commits": N, "workloads": [...]}`.
pub fn write_json(h: &History, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let v = serde_json::json!({
        "version": 1,
        "tool": {"name": "cronguard", "version": env!("CARGO_PKG_VERSION")},
        "commits": h.commits,
        "workloads": h.workloads,
    });
    let s = serde_json::to_string_pretty(&v).map_err(std::io::Error::other)?;
    writeln!(out, "{s}")
}

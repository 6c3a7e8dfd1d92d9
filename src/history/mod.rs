//! Git history: what a change adds to what runs on a schedule.
//!
//! `diff` compares two revisions (base: a commit; head: the working tree, the index or a
//! commit). Base files are read from the object database, never checked out; every blob is
//! read and decoded at most once per run (a cache keyed by blob id), and only the files that
//! differ between the two sides are scanned and compared. The cross-reference index
//! (ServiceAccounts, RBAC, ConfigMaps) still needs every manifest of a revision: what each
//! blob contributes to it comes from a persistent cache keyed by blob id
//! ([`index_cache`]), so a warm run reads only the blobs it scans; a blob missing from the
//! cache is read once for both sides and parsed only when it mentions an indexed kind.
//! When the change touches an indexed object, every workload is re-checked on both sides,
//! since a reference from an unchanged file may now resolve differently.
//!
//! Workloads are identified across revisions by (API group, kind, namespace, name)
//! ([`crate::k8s::ObjectId::key`]), so moving or renaming a file is not an addition.
//! Symlinks committed in the repository (blob mode 120000) are never followed.

pub mod baseline;
pub mod changes;
pub mod cmd;
pub mod facts;
pub mod imperative;
pub mod index_cache;
pub mod timeline;

use crate::finding::Finding;
use crate::index::Index;
use crate::scan::{self, Options, Outcome};
use crate::source::{self, Data, Discovery, Skipped, Source};
use facts::Facts;
use git2::{ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// Which revision the head side is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeadSpec {
    WorkTree,
    Staged,
    Rev(String),
}

/// What `cronguard diff` (and `scan --base`) is asked to do.
#[derive(Clone, Debug)]
pub struct DiffRequest {
    /// A directory inside the repository (the current directory by default).
    pub dir: PathBuf,
    /// PATH filters, relative to `dir` (or absolute).
    pub paths: Vec<PathBuf>,
    pub base: Option<String>,
    pub head: HeadSpec,
    /// Report only scan findings whose fingerprint is absent at base.
    pub new_only: bool,
    /// `scan --base`: report the scan findings of every file (not only changed ones) and no
    /// change findings.
    pub scan_mode: bool,
    /// `GITHUB_BASE_REF`, when set.
    pub github_base_ref: Option<String>,
    pub discovery: Discovery,
    /// Neither read nor write the persistent index cache (`--no-cache`).
    pub no_cache: bool,
}

/// Counters of one run (for `--stats` and the benchmark).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct RunStats {
    pub base: String,
    pub head: String,
    pub files_base: usize,
    pub files_head: usize,
    pub changed_files: usize,
    /// Blobs read from the object database (each at most once).
    pub blobs_read: usize,
    /// Working-tree files read.
    pub files_read: usize,
    /// Blobs or files whose workloads were extracted (each at most once).
    pub facts_parsed: usize,
    /// Files scanned by the rules, base + head.
    pub files_scanned: usize,
    /// The change touched an indexed kind, so every file was re-checked.
    pub wide: bool,
    /// Manifest blobs whose index contribution came from the persistent cache
    /// ([`index_cache`]), so they were not read unless scanned.
    pub index_cache_hits: usize,
    /// Manifest blobs whose index contribution was computed (then cached).
    pub index_cache_misses: usize,
    /// The cache file was rewritten by this run.
    pub index_cache_written: bool,
    /// Writing the cache failed (a read-only git dir, say); the run went on without it.
    pub index_cache_write_failures: usize,
}

#[derive(Debug)]
pub struct DiffReport {
    pub outcome: Outcome,
    pub stats: RunStats,
    /// Paths whose findings this run could report (for stale-baseline detection).
    pub reported_paths: HashSet<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileKind {
    Manifest,
    Script,
}

#[derive(Clone, Debug)]
struct Entry {
    oid: Oid,
    kind: FileKind,
}

/// The files of one side, by repository-relative path.
#[derive(Debug, Default)]
struct Side {
    label: String,
    files: BTreeMap<String, Entry>,
    skipped: Vec<Skipped>,
}

/// Blob texts and extracted facts, by blob id.
pub struct Cache {
    texts: HashMap<Oid, Result<Arc<str>, String>>,
    facts: HashMap<Oid, Arc<Vec<Facts>>>,
    pub stats: RunStats,
}

impl Cache {
    pub fn new() -> Cache {
        Cache {
            texts: HashMap::new(),
            facts: HashMap::new(),
            stats: RunStats::default(),
        }
    }

    /// The text of a blob, read once.
    pub fn text(&mut self, repo: &Repository, oid: Oid, max: u64) -> Result<Arc<str>, String> {
        if let Some(t) = self.texts.get(&oid) {
            return t.clone();
        }
        let t = read_blob(repo, oid, max);
        self.stats.blobs_read += 1;
        self.texts.insert(oid, t.clone());
        t
    }

    fn put(&mut self, oid: Oid, t: Result<Arc<str>, String>) {
        self.texts.entry(oid).or_insert(t);
    }

    /// Extract the workloads of these blobs in parallel (those not extracted yet), so the
    /// [`Cache::facts`] calls that follow find them. The scan loaded these texts too, but
    /// shares nothing with this second load: about 5% of a warm `diff` (2.5 ms of 45 ms on
    /// 100 changed files, scripts/bench-history), 17% on 900.
    pub fn prefetch_facts(&mut self, repo: &Repository, oids: &[Oid], opts: &Options) {
        use rayon::prelude::*;
        let mut todo: Vec<(Oid, Arc<str>)> = Vec::new();
        let mut seen: HashSet<Oid> = HashSet::new();
        for &oid in oids {
            if self.facts.contains_key(&oid) || !seen.insert(oid) {
                continue;
            }
            if let Ok(t) = self.text(repo, oid, opts.read_limits.max_file_bytes) {
                todo.push((oid, t));
            }
        }
        let done: Vec<(Oid, Arc<Vec<Facts>>)> = todo
            .par_iter()
            .map(|(oid, t)| (*oid, Arc::new(facts::extract(t, &opts.yaml_limits))))
            .collect();
        self.stats.facts_parsed += done.len();
        self.facts.extend(done);
    }

    /// The workloads of a blob, extracted once.
    pub fn facts(&mut self, repo: &Repository, oid: Oid, opts: &Options) -> Arc<Vec<Facts>> {
        if let Some(f) = self.facts.get(&oid) {
            return f.clone();
        }
        let f = match self.text(repo, oid, opts.read_limits.max_file_bytes) {
            Ok(t) => Arc::new(facts::extract(&t, &opts.yaml_limits)),
            Err(_) => Arc::new(Vec::new()),
        };
        self.stats.facts_parsed += 1;
        self.facts.insert(oid, f.clone());
        f
    }
}

impl Default for Cache {
    fn default() -> Self {
        Cache::new()
    }
}

fn read_blob(repo: &Repository, oid: Oid, max: u64) -> Result<Arc<str>, String> {
    let odb = repo
        .odb()
        .map_err(|e| format!("cannot open the object database: {e}"))?;
    let (size, _) = odb
        .read_header(oid)
        .map_err(|e| format!("cannot read blob {oid}: {e}"))?;
    if size as u64 > max {
        return Err(format!(
            "file is {size} bytes, over the limit of {max} bytes (--max-file-size)"
        ));
    }
    let blob = repo
        .find_blob(oid)
        .map_err(|e| format!("cannot read blob {oid}: {e}"))?;
    source::decode(blob.content().to_vec())
}

/// Open the repository that contains `dir`.
pub fn open(dir: &Path) -> Result<Repository, String> {
    Repository::discover(dir).map_err(|e| {
        format!(
            "{} is not inside a git repository ({})",
            dir.display(),
            e.message()
        )
    })
}

/// PATH filters and the hidden-file rule, applied to repository-relative paths.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    prefixes: Vec<String>,
    respect_ignore: bool,
    include: Option<globset::GlobSet>,
    exclude: Option<globset::GlobSet>,
}

/// `--include`/`--exclude` globs as discovery reads them: a pattern without a slash matches
/// at any depth.
fn globs(list: &[String]) -> Result<Option<globset::GlobSet>, String> {
    if list.is_empty() {
        return Ok(None);
    }
    let mut b = globset::GlobSetBuilder::new();
    for g in list {
        let mut add = |pat: &str| -> Result<(), String> {
            b.add(globset::Glob::new(pat).map_err(|e| format!("invalid glob `{g}`: {e}"))?);
            Ok(())
        };
        if g.contains('/') {
            add(g)?;
        } else {
            add(&format!("**/{g}"))?;
            add(g)?;
        }
    }
    b.build().map(Some).map_err(|e| e.to_string())
}

impl Filter {
    pub fn all(respect_ignore: bool) -> Filter {
        Filter {
            prefixes: Vec::new(),
            respect_ignore,
            include: None,
            exclude: None,
        }
    }

    /// Apply the `--include`/`--exclude` globs of discovery to manifests too.
    pub fn with_globs(mut self, disc: &Discovery) -> Result<Filter, String> {
        self.include = globs(&disc.include)?;
        self.exclude = globs(&disc.exclude)?;
        Ok(self)
    }

    fn under(&self, path: &str) -> bool {
        self.prefixes.is_empty()
            || self.prefixes.iter().any(|p| {
                p.is_empty()
                    || path == p
                    || (path.starts_with(p.as_str()) && path.as_bytes().get(p.len()) == Some(&b'/'))
            })
    }

    /// Could anything below directory `dir` (`a/b/`) pass?
    fn may_contain(&self, dir: &str) -> bool {
        let dir = dir.trim_end_matches('/');
        self.prefixes.is_empty()
            || self
                .prefixes
                .iter()
                .any(|p| p.is_empty() || self.under_dir(p, dir))
    }

    fn under_dir(&self, p: &str, dir: &str) -> bool {
        let _ = self;
        dir.is_empty()
            || p == dir
            || (p.starts_with(dir) && p.as_bytes().get(dir.len()) == Some(&b'/'))
            || (dir.starts_with(p) && dir.as_bytes().get(p.len()) == Some(&b'/'))
    }

    fn classify(&self, path: &str) -> Option<FileKind> {
        if !self.under(path) {
            return None;
        }
        if imperative::is_script_path(path) {
            return Some(FileKind::Script);
        }
        let hidden = path.split('/').any(|c| c.starts_with('.'));
        let globbed = self.exclude.as_ref().is_none_or(|g| !g.is_match(path))
            && self.include.as_ref().is_none_or(|g| g.is_match(path));
        if source::is_manifest_name(Path::new(path)) && !(hidden && self.respect_ignore) && globbed
        {
            return Some(FileKind::Manifest);
        }
        None
    }
}

fn lexical_normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Build the PATH filter: paths relative to `dir` (or absolute) → repository-relative.
pub fn filter_for(
    repo: &Repository,
    dir: &Path,
    paths: &[PathBuf],
    respect_ignore: bool,
) -> Result<Filter, String> {
    let mut f = Filter::all(respect_ignore);
    let Some(wd) = repo.workdir() else {
        // A bare repository: paths are repository-relative as given.
        f.prefixes = paths
            .iter()
            .map(|p| {
                p.to_string_lossy()
                    .replace('\\', "/")
                    .trim_matches('/')
                    .to_string()
            })
            .collect();
        return Ok(f);
    };
    let wd = wd.canonicalize().map_err(|e| e.to_string())?;
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let rel_dir = dir
        .strip_prefix(&wd)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    if paths.is_empty() && !rel_dir.as_os_str().is_empty() {
        // Run from a subdirectory without PATH: the whole repository, like `git diff`.
        return Ok(f);
    }
    for p in paths {
        let abs = if p.is_absolute() {
            p.clone()
        } else {
            dir.join(p)
        };
        let abs = abs
            .canonicalize()
            .unwrap_or_else(|_| lexical_normalize(&abs));
        let rel = abs.strip_prefix(&wd).map_err(|_| {
            format!(
                "{} is outside the repository at {}",
                p.display(),
                wd.display()
            )
        })?;
        f.prefixes.push(
            rel.to_string_lossy()
                .replace('\\', "/")
                .trim_matches('/')
                .to_string(),
        );
    }
    Ok(f)
}

const SYMLINK_REASON: &str = "symlink committed in the repository (mode 120000); not followed";

fn tree_side(repo: &Repository, tree: &git2::Tree, filter: &Filter, label: String) -> Side {
    let mut side = Side {
        label,
        ..Side::default()
    };
    let _ = tree.walk(TreeWalkMode::PreOrder, |dir, e| {
        let name = String::from_utf8_lossy(e.name_bytes());
        let path = format!("{dir}{name}");
        match e.kind() {
            Some(ObjectType::Tree) => {
                if filter.may_contain(&path) {
                    TreeWalkResult::Ok
                } else {
                    TreeWalkResult::Skip
                }
            }
            Some(ObjectType::Blob) => {
                if let Some(kind) = filter.classify(&path) {
                    if e.filemode() == 0o120_000 {
                        side.skipped.push(Skipped {
                            path,
                            reason: SYMLINK_REASON.into(),
                        });
                    } else {
                        side.files.insert(path, Entry { oid: e.id(), kind });
                    }
                }
                TreeWalkResult::Ok
            }
            _ => TreeWalkResult::Ok,
        }
    });
    let _ = repo;
    side
}

fn index_side(repo: &Repository, filter: &Filter) -> Result<Side, String> {
    let index = repo
        .index()
        .map_err(|e| format!("cannot read the index: {e}"))?;
    let mut side = Side {
        label: "the index (staged changes)".into(),
        ..Side::default()
    };
    for e in index.iter() {
        let stage = (e.flags >> 12) & 0x3;
        if stage != 0 {
            continue;
        }
        let path = String::from_utf8_lossy(&e.path).into_owned();
        let Some(kind) = filter.classify(&path) else {
            continue;
        };
        match e.mode & 0o170_000 {
            0o120_000 => side.skipped.push(Skipped {
                path,
                reason: SYMLINK_REASON.into(),
            }),
            0o100_000 => {
                side.files.insert(path, Entry { oid: e.id, kind });
            }
            _ => {}
        }
    }
    Ok(side)
}

fn worktree_side(
    repo: &Repository,
    filter: &Filter,
    disc: &Discovery,
    opts: &Options,
    cache: &mut Cache,
) -> Result<Side, String> {
    let wd = repo
        .workdir()
        .ok_or("the repository is bare: there is no working tree; pass --head REV")?
        .canonicalize()
        .map_err(|e| e.to_string())?;
    let mut side = Side {
        label: "the working tree".into(),
        ..Side::default()
    };
    let rel = |p: &Path| -> Option<String> {
        let r = p.strip_prefix(&wd).ok()?;
        Some(r.to_string_lossy().replace('\\', "/"))
    };
    let (found, skipped) = source::discover(std::slice::from_ref(&wd), disc)?;
    for s in skipped {
        let path = rel(Path::new(&s.path)).unwrap_or(s.path);
        if filter.under(&path) {
            side.skipped.push(Skipped {
                path,
                reason: s.reason,
            });
        }
    }
    let mut files: Vec<(String, PathBuf, FileKind)> = Vec::new();
    for s in found {
        let Data::Disk(p) = &s.data else { continue };
        let Some(r) = rel(p) else { continue };
        if r.starts_with(".git/") {
            continue;
        }
        if let Some(FileKind::Manifest) = filter.classify(&r) {
            files.push((r, p.clone(), FileKind::Manifest));
        }
    }
    // Scripts, Makefiles and CI files: hidden directories included (.github), never
    // through a symlink.
    let mut walker = ignore::WalkBuilder::new(&wd);
    walker
        .follow_links(false)
        .hidden(false)
        .git_ignore(disc.respect_ignore)
        .git_exclude(disc.respect_ignore)
        .ignore(disc.respect_ignore)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git");
    for e in walker.build().flatten() {
        if !e.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Some(r) = rel(e.path()) else { continue };
        if let Some(FileKind::Script) = filter.classify(&r) {
            files.push((r, e.path().to_path_buf(), FileKind::Script));
        }
    }
    for (r, p, kind) in files {
        let bytes = match std::fs::metadata(&p) {
            Ok(m) if m.len() > opts.read_limits.max_file_bytes => {
                side.skipped.push(Skipped {
                    path: r,
                    reason: format!(
                        "file is {} bytes, over the limit of {} bytes (--max-file-size)",
                        m.len(),
                        opts.read_limits.max_file_bytes
                    ),
                });
                continue;
            }
            Ok(_) => std::fs::read(&p),
            Err(e) => Err(e),
        };
        let bytes = match bytes {
            Ok(b) => b,
            Err(e) => {
                side.skipped.push(Skipped {
                    path: r,
                    reason: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        cache.stats.files_read += 1;
        let oid = Oid::hash_object(ObjectType::Blob, &bytes).map_err(|e| e.to_string())?;
        cache.put(oid, source::decode(bytes));
        side.files.insert(r, Entry { oid, kind });
    }
    Ok(side)
}

/// Say exactly what to do when the base revision is missing.
fn missing_base(repo: &Repository, what: &str, fetch: &str) -> String {
    if repo.is_shallow() {
        format!(
            "{what}: this is a shallow clone, so the base revision is not in it \
             (actions/checkout fetches a single commit by default). Fetch the history: set \
             `fetch-depth: 0` on actions/checkout, or run `git fetch origin {fetch}` \
             (or `git fetch --unshallow`), then run cronguard again"
        )
    } else {
        format!(
            "{what}: run `git fetch origin {fetch}` to get it, or pass the base with --base REV"
        )
    }
}

fn resolve_rev<'r>(repo: &'r Repository, rev: &str) -> Result<git2::Commit<'r>, String> {
    let obj = repo
        .revparse_single(rev)
        .map_err(|_| missing_base(repo, &format!("base revision `{rev}` not found"), rev))?;
    obj.peel_to_commit().map_err(|_| {
        missing_base(
            repo,
            &format!("base revision `{rev}` is not a commit in this repository"),
            rev,
        )
    })
}

/// The base commit: `--base`, else the merge base of HEAD and the upstream default branch
/// (`GITHUB_BASE_REF`, `origin/HEAD`, `origin/main`, `origin/master`). Never "nothing".
pub fn resolve_base<'r>(
    repo: &'r Repository,
    base: Option<&str>,
    github_base_ref: Option<&str>,
) -> Result<(git2::Commit<'r>, String), String> {
    if let Some(rev) = base {
        let c = resolve_rev(repo, rev)?;
        return Ok((c, rev.to_string()));
    }
    let mut candidates: Vec<String> = Vec::new();
    if let Some(b) = github_base_ref.filter(|b| !b.trim().is_empty()) {
        candidates.push(format!("origin/{}", b.trim()));
        candidates.push(b.trim().to_string());
    } else {
        candidates.extend(["origin/HEAD", "origin/main", "origin/master"].map(String::from));
    }
    let head = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .ok_or("HEAD does not point at a commit; pass --base REV")?;
    for cand in &candidates {
        let Ok(obj) = repo.revparse_single(cand) else {
            continue;
        };
        let Ok(up) = obj.peel_to_commit() else {
            continue;
        };
        return match repo.merge_base(head.id(), up.id()) {
            Ok(mb) => {
                let c = repo.find_commit(mb).map_err(|e| e.to_string())?;
                Ok((c, format!("merge-base(HEAD, {cand})")))
            }
            Err(_) => Err(missing_base(
                repo,
                &format!("HEAD and {cand} have no common commit in this clone"),
                cand.strip_prefix("origin/").unwrap_or(cand),
            )),
        };
    }
    let fetch = github_base_ref
        .filter(|b| !b.trim().is_empty())
        .map_or("main", str::trim);
    Err(missing_base(
        repo,
        &format!(
            "no base revision: none of {} exists (pass --base REV)",
            candidates.join(", ")
        ),
        fetch,
    ))
}

fn sources_of(
    repo: &Repository,
    side: &Side,
    paths: &[String],
    cache: &mut Cache,
    opts: &Options,
) -> (Vec<Source>, Vec<Skipped>) {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for p in paths {
        let e = &side.files[p];
        match cache.text(repo, e.oid, opts.read_limits.max_file_bytes) {
            Ok(t) => out.push(Source {
                path: Arc::from(p.as_str()),
                data: Data::Memory(Arc::from(t.as_bytes())),
            }),
            Err(reason) => skipped.push(Skipped {
                path: p.clone(),
                reason,
            }),
        }
    }
    (out, skipped)
}

fn index_is_empty(i: &Index) -> bool {
    i.service_accounts.is_empty()
        && i.bindings.is_empty()
        && i.roles.is_empty()
        && i.config_maps.is_empty()
}

/// The index contribution of every manifest blob of these sides, by blob id: cached ones
/// are not read; the others are read once, parsed in parallel and added to the cache. A
/// blob that cannot be read contributes nothing (and is not cached).
fn contributions(
    repo: &Repository,
    sides: &[(&Side, &Vec<String>)],
    icache: &mut index_cache::IndexCache,
    cache: &mut Cache,
    opts: &Options,
) -> HashMap<Oid, index_cache::Contribution> {
    use rayon::prelude::*;
    let mut out: HashMap<Oid, index_cache::Contribution> = HashMap::new();
    let mut todo: Vec<(Oid, Arc<str>)> = Vec::new();
    let mut seen: HashSet<Oid> = HashSet::new();
    for (side, paths) in sides {
        for p in *paths {
            let oid = side.files[p].oid;
            if !seen.insert(oid) {
                continue;
            }
            if let Some(c) = icache.get(oid) {
                out.insert(oid, c);
            } else if let Ok(t) = cache.text(repo, oid, opts.read_limits.max_file_bytes) {
                todo.push((oid, t));
            } else {
                out.insert(oid, None);
            }
        }
    }
    let computed: Vec<(Oid, index_cache::Contribution, usize)> = todo
        .par_iter()
        .map(|(oid, t)| {
            let src = Source {
                path: Arc::from(""),
                data: Data::Memory(Arc::from(t.as_bytes())),
            };
            let ix = scan::build_index(std::slice::from_ref(&src), opts);
            (*oid, (!index_is_empty(&ix)).then(|| Arc::new(ix)), t.len())
        })
        .collect();
    for (oid, c, len) in computed {
        icache.insert(oid, c.clone(), len);
        out.insert(oid, c);
    }
    out
}

/// The index of one side, from its blobs' contributions (the same entries, in the same
/// order, as [`scan::build_index`] over all its manifests).
fn side_index(
    side: &Side,
    paths: &[String],
    contribs: &HashMap<Oid, index_cache::Contribution>,
) -> Index {
    let mut index = Index::default();
    for p in paths {
        let Some(Some(c)) = contribs.get(&side.files[p].oid) else {
            continue;
        };
        let path: Arc<str> = Arc::from(p.as_str());
        let mut ix = (**c).clone();
        for x in &mut ix.service_accounts {
            x.at.path = path.clone();
        }
        for x in &mut ix.bindings {
            x.at.path = path.clone();
        }
        for x in &mut ix.roles {
            x.at.path = path.clone();
        }
        for x in &mut ix.config_maps {
            x.at.path = path.clone();
        }
        index.extend(ix);
    }
    index.sort();
    index
}

/// One side, prepared: its index, its scan, its workloads.
pub struct Prepared {
    pub index: Index,
    pub outcome: Outcome,
    /// Workload key → (path, facts), first definition by path.
    pub workloads: BTreeMap<String, (String, Facts)>,
    pub texts: BTreeMap<String, Arc<str>>,
}

/// Run `diff` (or `scan --base`).
pub fn diff(req: &DiffRequest, opts: &Options) -> Result<DiffReport, String> {
    let repo = open(&req.dir)?;
    let filter = filter_for(&repo, &req.dir, &req.paths, req.discovery.respect_ignore)?
        .with_globs(&req.discovery)?;
    let (base_commit, base_label) =
        resolve_base(&repo, req.base.as_deref(), req.github_base_ref.as_deref())?;
    let mut cache = Cache::new();
    let base_tree = base_commit.tree().map_err(|e| e.to_string())?;
    let short = |c: &git2::Commit| c.id().to_string()[..12].to_string();
    let base = tree_side(
        &repo,
        &base_tree,
        &filter,
        format!("{base_label} ({})", short(&base_commit)),
    );
    let head = match &req.head {
        HeadSpec::WorkTree => worktree_side(&repo, &filter, &req.discovery, opts, &mut cache)?,
        HeadSpec::Staged => index_side(&repo, &filter)?,
        HeadSpec::Rev(r) => {
            let c = repo
                .revparse_single(r)
                .and_then(|o| o.peel_to_commit())
                .map_err(|_| format!("head revision `{r}` not found"))?;
            let t = c.tree().map_err(|e| e.to_string())?;
            tree_side(&repo, &t, &filter, format!("{r} ({})", short(&c)))
        }
    };
    let changed: BTreeSet<String> = base
        .files
        .iter()
        .filter(|(p, e)| head.files.get(*p).is_none_or(|h| h.oid != e.oid))
        .map(|(p, _)| p.clone())
        .chain(
            head.files
                .iter()
                .filter(|(p, e)| base.files.get(*p).is_none_or(|b| b.oid != e.oid))
                .map(|(p, _)| p.clone()),
        )
        .collect();
    let manifests = |s: &Side| -> Vec<String> {
        s.files
            .iter()
            .filter(|(_, e)| e.kind == FileKind::Manifest)
            .map(|(p, _)| p.clone())
            .collect()
    };
    let base_m = manifests(&base);
    let head_m = manifests(&head);
    // The index contribution of every manifest blob of both sides: from the persistent
    // cache (no blob read), else read, parsed once, and cached.
    let mut icache = index_cache::IndexCache::open(&repo, opts, !req.no_cache);
    let contribs = contributions(
        &repo,
        &[(&base, &base_m), (&head, &head_m)],
        &mut icache,
        &mut cache,
        opts,
    );
    let has_index = |side: &Side, p: &String| {
        contribs
            .get(&side.files[p].oid)
            .is_some_and(Option::is_some)
    };
    let wide = base_m
        .iter()
        .any(|p| changed.contains(p) && has_index(&base, p))
        || head_m
            .iter()
            .any(|p| changed.contains(p) && has_index(&head, p));
    let base_index = side_index(&base, &base_m, &contribs);
    let head_index = side_index(&head, &head_m, &contribs);
    let base_scan: Vec<String> = if wide {
        base_m.clone()
    } else {
        base_m
            .iter()
            .filter(|p| changed.contains(*p))
            .cloned()
            .collect()
    };
    let head_scan: Vec<String> = if wide || req.scan_mode {
        head_m.clone()
    } else {
        head_m
            .iter()
            .filter(|p| changed.contains(*p))
            .cloned()
            .collect()
    };
    let (base_src, base_skip) = sources_of(&repo, &base, &base_scan, &mut cache, opts);
    let (head_src, head_skip) = sources_of(&repo, &head, &head_scan, &mut cache, opts);
    let base_set: &[Source] = &base_src;
    let head_set: &[Source] = &head_src;
    let base_out = scan::scan_with_index(base_set, &base_index, opts);
    let head_out = scan::scan_with_index(head_set, &head_index, opts);
    let mut stats = std::mem::take(&mut cache.stats);
    stats.files_scanned = base_set.len() + head_set.len();
    cache.stats = stats;

    let workloads = |side: &Side, set: &[Source], cache: &mut Cache| {
        let oids: Vec<Oid> = set.iter().map(|s| side.files[&*s.path].oid).collect();
        cache.prefetch_facts(&repo, &oids, opts);
        let mut m: BTreeMap<String, (String, Facts)> = BTreeMap::new();
        for s in set {
            let e = &side.files[&*s.path];
            for f in cache.facts(&repo, e.oid, opts).iter() {
                m.entry(f.id.key())
                    .or_insert_with(|| (s.path.to_string(), f.clone()));
            }
        }
        m
    };
    let texts = |set: &[Source], cache: &mut Cache, side: &Side| {
        set.iter()
            .filter_map(|s| {
                let e = &side.files[&*s.path];
                cache
                    .text(&repo, e.oid, u64::MAX)
                    .ok()
                    .map(|t| (s.path.to_string(), t))
            })
            .collect::<BTreeMap<_, _>>()
    };
    let base_p = Prepared {
        workloads: workloads(&base, base_set, &mut cache),
        texts: texts(base_set, &mut cache, &base),
        index: base_index,
        outcome: base_out,
    };
    let head_p = Prepared {
        workloads: workloads(&head, head_set, &mut cache),
        texts: texts(head_set, &mut cache, &head),
        index: head_index,
        outcome: head_out,
    };

    let mut findings: Vec<Finding> = Vec::new();
    let mut sources = BTreeMap::new();
    if !req.scan_mode {
        findings.extend(changes::workload_changes(&base_p, &head_p, &changed, opts));
        // Scripts, Makefiles, CI files.
        let scripts = |side: &Side, cache: &mut Cache| {
            side.files
                .iter()
                .filter(|(p, e)| e.kind == FileKind::Script && changed.contains(*p))
                .filter_map(|(p, e)| {
                    cache
                        .text(&repo, e.oid, opts.read_limits.max_file_bytes)
                        .ok()
                        .map(|t| (p.clone(), t))
                })
                .collect::<Vec<_>>()
        };
        let base_scripts = scripts(&base, &mut cache);
        let head_scripts = scripts(&head, &mut cache);
        let (f, s) = changes::imperative(&base_scripts, &head_scripts, opts);
        findings.extend(f);
        sources.extend(s);
    }
    // Scan findings: of changed files (diff) or of every file (scan --base).
    let base_fps: HashSet<String> = base_p
        .outcome
        .findings
        .iter()
        .map(Finding::fingerprint)
        .chain(
            head_p
                .outcome
                .findings
                .iter()
                .filter(|f| !wide && !changed.contains(&*f.path))
                .map(Finding::fingerprint),
        )
        .collect();
    let mut reported_paths: HashSet<String> = HashSet::new();
    for f in &head_p.outcome.findings {
        let in_scope = req.scan_mode || changed.contains(&*f.path);
        if in_scope && (!req.new_only || !base_fps.contains(&f.fingerprint())) {
            findings.push(f.clone());
        }
    }
    for s in head_set {
        if req.scan_mode || changed.contains(&*s.path) {
            reported_paths.insert(s.path.to_string());
        }
    }
    for f in &findings {
        if let Some(t) = head_p.texts.get(&*f.path) {
            sources.insert(Arc::from(&*f.path), t.clone());
        }
    }
    for (p, t) in &head_p.outcome.sources {
        if findings.iter().any(|f| f.path == *p) {
            sources.insert(p.clone(), t.clone());
        }
    }
    let mut skipped: Vec<Skipped> = head.skipped.clone();
    skipped.extend(
        head_skip
            .into_iter()
            .filter(|s| req.scan_mode || changed.contains(&s.path)),
    );
    skipped.extend(
        head_p
            .outcome
            .skipped
            .iter()
            .filter(|s| req.scan_mode || changed.contains(&s.path))
            .cloned(),
    );
    for s in base_skip
        .iter()
        .chain(&base_p.outcome.skipped)
        .chain(&base.skipped)
        .filter(|s| changed.contains(&s.path) || base.skipped.contains(s))
    {
        skipped.push(Skipped {
            path: s.path.clone(),
            reason: format!("at base: {}", s.reason),
        });
    }
    skipped.sort();
    skipped.dedup();
    scan::sort_findings(&mut findings);
    let mut stats = std::mem::take(&mut cache.stats);
    stats.base.clone_from(&base.label);
    stats.head.clone_from(&head.label);
    stats.files_base = base.files.len();
    stats.files_head = head.files.len();
    stats.changed_files = changed.len();
    stats.wide = wide;
    stats.index_cache_hits = icache.hits;
    stats.index_cache_misses = icache.misses;
    match icache.save() {
        Ok(w) => stats.index_cache_written = w,
        Err(_) => stats.index_cache_write_failures += 1,
    }
    let outcome = Outcome {
        findings,
        skipped,
        sources: sources.into_iter().collect(),
        stats: head_p.outcome.stats.clone(),
        stale_baseline: None,
    };
    Ok(DiffReport {
        outcome,
        stats,
        reported_paths,
    })
}

//! On the node: the kubelet's static-pod directory (`/etc/kubernetes/manifests`).
//!
//! The kubelet runs every file in that directory whose name does not start with a dot,
//! whatever its extension, bypassing the API server's admission. `scan_dir` runs the normal
//! pipeline on what the kubelet would load, then adds the node rules: unexpected static pods,
//! loose file permissions, stray files (`kube-apiserver.yaml.bak`), and changes against a
//! node baseline. Pods of a stock kubeadm control plane get documented allowances for what
//! they need (host network, their certificate and data directories), recorded as suppressed
//! findings so the audit trail stays complete.

use crate::declare_rule;
use crate::finding::{Finding, Suppression};
use crate::k8s::{self, ObjectId};
use crate::rules::{Check, Rule};
use crate::scan::{self, Options, Outcome};
use crate::source::{Data, Skipped, Source};
use crate::yaml::{self, LineIndex, Span};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub static RULES: &[&Rule] = &[
    &STATIC_POD_UNEXPECTED,
    &STATIC_POD_FILE_PERMISSIONS,
    &STATIC_POD_STRAY_FILE,
    &STATIC_POD_CHANGED,
];

declare_rule! {
    /// ## What it does
    /// `cronguard node`: flags a static pod whose name is not one of the expected
    /// control-plane components (etcd, kube-apiserver, kube-controller-manager,
    /// kube-scheduler) or the names configured in `expected-static-pods`.
    ///
    /// ## Why is this bad?
    /// Whoever can write one file into the kubelet's manifest directory runs a pod on that
    /// node that no admission controller saw and that `kubectl delete` cannot remove (the
    /// kubelet recreates its mirror pod). It is persistence below the API server (MITRE ATT&CK
    /// T1053.007).
    ///
    /// ## Example
    /// `/etc/kubernetes/manifests/kube-metrics.yaml` defining a privileged pod.
    ///
    /// ## Use instead
    /// Run add-ons as DaemonSets through the API server; list legitimate static pods in
    /// `expected-static-pods`.
    ///
    /// ## References
    /// - Kubernetes docs, "Create static Pods". Peers: none.
    pub static STATIC_POD_UNEXPECTED = {
        id: "static-pod-unexpected",
        category: Node,
        severity: High,
        enabled: true,
        attack: ["T1053.007"],
        summary: "a static pod outside the expected set",
        check: Check::External,
    }
}

declare_rule! {
    /// ## What it does
    /// `cronguard node`: flags a manifest file or the manifest directory that is writable by
    /// group or others, or not owned by root.
    ///
    /// ## Why is this bad?
    /// Anyone who can write there can make the kubelet run a pod of their choice as root on
    /// the node (MITRE ATT&CK T1222, File and Directory Permissions Modification).
    ///
    /// ## Example
    /// `-rw-rw-rw- 1 root root kube-apiserver.yaml`
    ///
    /// ## Use instead
    /// `chown root:root` and `chmod 600` the files, `chmod 700` the directory (CIS Kubernetes
    /// Benchmark 1.1.1-1.1.8).
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark, section 1.1. Peers: kube-bench (runtime checks).
    pub static STATIC_POD_FILE_PERMISSIONS = {
        id: "static-pod-file-permissions",
        category: Node,
        severity: High,
        enabled: true,
        attack: ["T1222"],
        summary: "a static-pod manifest or its directory has loose ownership or permissions",
        check: Check::External,
    }
}

declare_rule! {
    /// ## What it does
    /// `cronguard node`: flags files in the manifest directory that the kubelet will load
    /// although they do not look like manifests: backups (`kube-apiserver.yaml.bak`),
    /// editor leftovers (`etcd.yaml~`), any name not ending in `.yaml`, `.yml` or `.json`.
    ///
    /// ## Why is this bad?
    /// The kubelet ignores the extension: a "backup" copy runs as a second pod, often with the
    /// old, weaker settings; an attacker can hide a pod behind a harmless-looking name (MITRE
    /// ATT&CK T1053.007).
    ///
    /// ## Example
    /// `/etc/kubernetes/manifests/kube-apiserver.yaml.bak`
    ///
    /// ## Use instead
    /// Keep backups outside the manifest directory.
    ///
    /// ## References
    /// - kubelet `--pod-manifest-path`/`staticPodPath`: files starting with `.` are ignored,
    ///   everything else is loaded. Peers: none.
    pub static STATIC_POD_STRAY_FILE = {
        id: "static-pod-stray-file",
        category: Node,
        severity: Medium,
        enabled: true,
        attack: ["T1053.007"],
        summary: "a stray file in the static-pod directory that the kubelet will still load",
        check: Check::External,
    }
}

declare_rule! {
    /// ## What it does
    /// `cronguard node --baseline FILE`: flags a static-pod file that was added, changed
    /// (content hash, owner or mode) or removed since the baseline was written with
    /// `--write-baseline`.
    ///
    /// ## Why is this bad?
    /// Control-plane manifests change only on upgrades; any other change is someone altering
    /// what the kubelet runs as root (MITRE ATT&CK T1053.007).
    ///
    /// ## Example
    /// `kube-apiserver.yaml` gains `--anonymous-auth=true` between two runs.
    ///
    /// ## Use instead
    /// Re-write the baseline after a reviewed upgrade.
    ///
    /// ## References
    /// - Peers: file integrity monitors (AIDE, Tripwire) without Kubernetes context.
    pub static STATIC_POD_CHANGED = {
        id: "static-pod-changed",
        category: Node,
        severity: High,
        enabled: true,
        attack: ["T1053.007"],
        summary: "a static-pod file differs from the node baseline",
        check: Check::External,
    }
}

/// Static pods a kubeadm control plane runs.
pub const CONTROL_PLANE: &[&str] = &[
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
];

/// Registries the allowances trust for control-plane images.
const CONTROL_PLANE_REGISTRIES: &[&str] = &["registry.k8s.io", "k8s.gcr.io"];

/// Node paths kubeadm's control-plane pods mount, and nothing else gets an allowance.
const CONTROL_PLANE_PATHS: &[&str] = &[
    "/etc/kubernetes/pki",
    "/etc/kubernetes/pki/etcd",
    "/var/lib/etcd",
    "/etc/ssl/certs",
    "/etc/ca-certificates",
    "/etc/pki",
    "/usr/share/ca-certificates",
    "/usr/local/share/ca-certificates",
    "/usr/libexec/kubernetes/kubelet-plugins/volume/exec",
    "/etc/kubernetes/controller-manager.conf",
    "/etc/kubernetes/scheduler.conf",
];

/// One file's state, for baselines and the watcher.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileState {
    pub name: String,
    pub sha256: String,
    pub uid: u32,
    pub mode: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub files: Vec<FileState>,
}

/// What the kubelet would load from `dir`: (name, path), sorted; plus what is skipped.
/// Files the kubelet loads, as (name, path).
pub type KubeletFiles = Vec<(String, PathBuf)>;

pub fn kubelet_files(dir: &Path) -> Result<(KubeletFiles, Vec<Skipped>), String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    let canon = dir.canonicalize().map_err(|e| e.to_string())?;
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue; // the kubelet ignores these too
        }
        let path = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            continue;
        }
        if ft.is_symlink() {
            match path.canonicalize() {
                Ok(t) if t.starts_with(&canon) && t.is_file() => {}
                _ => {
                    skipped.push(Skipped {
                        path: path.to_string_lossy().into_owned(),
                        reason: "symlink points outside the manifest directory (the kubelet would follow it); not read".into(),
                    });
                    continue;
                }
            }
        }
        files.push((name, path));
    }
    files.sort();
    Ok((files, skipped))
}

#[cfg(unix)]
fn owner_mode(meta: &std::fs::Metadata) -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    (meta.uid(), meta.mode() & 0o7777)
}

#[cfg(not(unix))]
fn owner_mode(_meta: &std::fs::Metadata) -> (u32, u32) {
    (0, 0o600)
}

/// Current state of every file the kubelet would load.
pub fn snapshot(dir: &Path) -> Result<Vec<FileState>, String> {
    let (files, _) = kubelet_files(dir)?;
    let mut out = Vec::new();
    for (name, path) in files {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let (uid, mode) = owner_mode(&meta);
        out.push(FileState {
            name,
            sha256: sha256_hex(&bytes),
            uid,
            mode: format!("{mode:04o}"),
        });
    }
    Ok(out)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in d {
        use std::fmt::Write;
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn node_finding(
    rule: &Rule,
    path: &Arc<str>,
    span: Span,
    object: ObjectId,
    message: String,
    help: &str,
) -> Finding {
    Finding {
        rule: rule.id,
        severity: rule.severity,
        message,
        path: path.clone(),
        span,
        label: String::new(),
        labels: Vec::new(),
        related: Vec::new(),
        help: Some(help.to_string()),
        object,
        attack: rule.attack,
        locator: String::new(),
        value: String::new(),
        suppressed: None,
        line: 1,
        column: 1,
        end_line: 1,
        end_column: 1,
    }
}

/// Options of a node scan.
#[derive(Clone, Debug, Default)]
pub struct NodeOptions {
    pub expected: Vec<String>,
    pub baseline: Option<Baseline>,
}

/// Per static pod: its name span and whether its images all come from the trusted registries.
struct PodInfo {
    id: ObjectId,
    name_span: Span,
    trusted_images: bool,
}

fn pods_of(text: &str, opts: &Options) -> Vec<PodInfo> {
    let loaded = yaml::load(text, &opts.yaml_limits);
    let mut out = Vec::new();
    for doc in &loaded.docs {
        let Ok(objs) = k8s::objects(doc) else {
            continue;
        };
        for o in objs {
            let Some(w) = k8s::workload(doc, &o) else {
                continue;
            };
            let name_span = doc
                .get(o.node, "metadata")
                .and_then(|m| doc.get(m, "name"))
                .map_or(doc.span(o.node), |n| doc.span(n));
            let trusted_images = w.pods.iter().flat_map(|p| &p.containers).all(|c| {
                doc.get_str(c.node, "image")
                    .and_then(|i| crate::image::parse(i).ok())
                    .is_some_and(|r| CONTROL_PLANE_REGISTRIES.contains(&r.registry.as_str()))
            });
            out.push(PodInfo {
                id: o.id,
                name_span,
                trusted_images,
            });
        }
    }
    out
}

/// Scan a static-pod directory.
pub fn scan_dir(dir: &Path, opts: &Options, node: &NodeOptions) -> Result<Outcome, String> {
    let (files, skipped) = kubelet_files(dir)?;
    let sources: Vec<Source> = files
        .iter()
        .map(|(_, p)| Source {
            path: Arc::from(p.to_string_lossy().replace('\\', "/")),
            data: Data::Disk(p.clone()),
        })
        .collect();
    let mut out = scan::scan(&sources, opts);
    out.skipped.extend(skipped);
    let enabled = |r: &Rule| opts.selection.is_enabled(r);
    let mut extra = Vec::new();
    let mut expected: Vec<&str> = CONTROL_PLANE.to_vec();
    expected.extend(node.expected.iter().map(String::as_str));
    expected.extend(
        opts.settings
            .expected_static_pods
            .iter()
            .map(String::as_str),
    );

    // Directory permissions.
    if let Ok(meta) = std::fs::metadata(dir) {
        let (uid, mode) = owner_mode(&meta);
        if (uid != 0 || mode & 0o022 != 0) && enabled(&STATIC_POD_FILE_PERMISSIONS) {
            let path: Arc<str> = Arc::from(dir.to_string_lossy().as_ref());
            let mut f = node_finding(
                &STATIC_POD_FILE_PERMISSIONS,
                &path,
                Span::default(),
                ObjectId::default(),
                format!("the manifest directory has mode {mode:04o} and owner uid {uid}"),
                "chown root:root and chmod 700 the directory",
            );
            f.value = format!("{uid}:{mode:o}");
            extra.push(f);
        }
    }
    for (name, p) in &files {
        let path: Arc<str> = Arc::from(p.to_string_lossy().replace('\\', "/"));
        let Ok(meta) = std::fs::metadata(p) else {
            continue;
        };
        let (uid, mode) = owner_mode(&meta);
        if (uid != 0 || mode & 0o022 != 0) && enabled(&STATIC_POD_FILE_PERMISSIONS) {
            let mut f = node_finding(
                &STATIC_POD_FILE_PERMISSIONS,
                &path,
                Span::default(),
                ObjectId::default(),
                format!(
                    "{name} has mode {mode:04o} and owner uid {uid}; {}",
                    if uid != 0 {
                        "it is not owned by root"
                    } else {
                        "group or others can write it"
                    }
                ),
                "chown root:root and chmod 600 the file",
            );
            f.label = "the kubelet runs what this file says, as root".into();
            f.value = format!("{uid}:{mode:o}");
            extra.push(f);
        }
        if !crate::source::is_manifest_name(Path::new(name)) && enabled(&STATIC_POD_STRAY_FILE) {
            let mut f = node_finding(
                &STATIC_POD_STRAY_FILE,
                &path,
                Span::default(),
                ObjectId::default(),
                format!("{name} is not named like a manifest, but the kubelet loads it"),
                "move backups and other files out of the manifest directory",
            );
            f.label = "loaded by the kubelet whatever its extension".into();
            f.value.clone_from(name);
            extra.push(f);
        }
        let Ok(text) = crate::source::read_text(
            &Source {
                path: path.clone(),
                data: Data::Disk(p.clone()),
            },
            &opts.read_limits,
        ) else {
            continue;
        };
        let li = LineIndex::new(&text);
        for pod in pods_of(&text, opts) {
            let name = pod.id.name.clone().unwrap_or_default();
            if !expected.contains(&name.as_str()) && enabled(&STATIC_POD_UNEXPECTED) {
                let mut f = node_finding(
                    &STATIC_POD_UNEXPECTED,
                    &path,
                    pod.name_span,
                    pod.id.clone(),
                    format!("static pod {name:?} is not an expected control-plane component"),
                    "remove the file, or add the name to expected-static-pods if it is legitimate",
                );
                f.label = "the kubelet runs this pod outside the API server's control".into();
                f.value.clone_from(&name);
                scan::locate(&mut f, &text, &li);
                extra.push(f);
                out.sources.insert(path.clone(), text.clone());
            }
            // kubeadm allowances.
            if CONTROL_PLANE.contains(&name.as_str()) && pod.trusted_images {
                for f in out
                    .findings
                    .iter_mut()
                    .filter(|f| f.path == path && f.object == pod.id)
                {
                    let allowed = match f.rule {
                        "host-network" => true,
                        "hostpath-sensitive" | "hostpath-writable" => {
                            CONTROL_PLANE_PATHS.contains(&f.value.as_str())
                        }
                        _ => false,
                    };
                    if allowed && f.suppressed.is_none() {
                        f.suppressed = Some(Suppression {
                            kind: "allowance",
                            justification: format!(
                                "kubeadm's {name} static pod needs this ({}); allowed because its image comes from {}",
                                f.value.as_str().trim(),
                                CONTROL_PLANE_REGISTRIES.join(" or ")
                            ),
                        });
                    }
                }
            }
        }
    }
    // Baseline comparison.
    if let Some(base) = &node.baseline
        && enabled(&STATIC_POD_CHANGED)
    {
        let now = snapshot(dir)?;
        let old: BTreeMap<&str, &FileState> =
            base.files.iter().map(|f| (f.name.as_str(), f)).collect();
        let new: BTreeMap<&str, &FileState> = now.iter().map(|f| (f.name.as_str(), f)).collect();
        for (name, state) in &new {
            let path: Arc<str> = Arc::from(dir.join(name).to_string_lossy().replace('\\', "/"));
            let msg = match old.get(name) {
                None => Some(format!("{name} was added since the baseline")),
                Some(o) if o.sha256 != state.sha256 => {
                    Some(format!("{name} changed since the baseline (content)"))
                }
                Some(o) if o.uid != state.uid || o.mode != state.mode => Some(format!(
                    "{name} changed since the baseline (owner {} → {}, mode {} → {})",
                    o.uid, state.uid, o.mode, state.mode
                )),
                Some(_) => None,
            };
            if let Some(m) = msg {
                let mut f = node_finding(
                    &STATIC_POD_CHANGED,
                    &path,
                    Span::default(),
                    ObjectId::default(),
                    m,
                    "review the change; re-write the baseline once it is approved",
                );
                f.value.clone_from(&state.sha256);
                extra.push(f);
            }
        }
        for name in old.keys().filter(|n| !new.contains_key(*n)) {
            let path: Arc<str> = Arc::from(dir.join(name).to_string_lossy().replace('\\', "/"));
            let mut f = node_finding(
                &STATIC_POD_CHANGED,
                &path,
                Span::default(),
                ObjectId::default(),
                format!("{name} was removed since the baseline"),
                "review the change; re-write the baseline once it is approved",
            );
            f.value = "removed".into();
            extra.push(f);
        }
    }
    out.findings.extend(extra);
    scan::sort_findings(&mut out.findings);
    out.skipped.sort();
    Ok(out)
}

/// The kubelet's static-pod path: `staticPodPath` of its config file, else the kubeadm default.
pub fn manifest_dir(kubelet_config: Option<&Path>) -> Result<PathBuf, String> {
    let default_cfg = Path::new("/var/lib/kubelet/config.yaml");
    let cfg = kubelet_config.unwrap_or(default_cfg);
    match std::fs::read_to_string(cfg) {
        Ok(text) => {
            let loaded = yaml::load(&text, &yaml::Limits::default());
            let path = loaded.docs.first().and_then(|d| {
                d.root
                    .and_then(|r| d.get_str(r, "staticPodPath"))
                    .map(str::to_string)
            });
            Ok(path.map_or_else(|| PathBuf::from("/etc/kubernetes/manifests"), PathBuf::from))
        }
        Err(e) if kubelet_config.is_some() => {
            Err(format!("cannot read kubelet config {}: {e}", cfg.display()))
        }
        Err(_) => Ok(PathBuf::from("/etc/kubernetes/manifests")),
    }
}

/// One line of `--watch` output.
#[derive(Debug, Serialize)]
pub struct WatchEvent {
    pub event: &'static str,
    pub file: String,
    pub findings: Vec<serde_json::Value>,
}

/// Compare two snapshots: (event, name) for created, modified and deleted files.
pub fn diff_states(old: &[FileState], new: &[FileState]) -> Vec<(&'static str, String)> {
    let o: BTreeMap<&str, &FileState> = old.iter().map(|f| (f.name.as_str(), f)).collect();
    let n: BTreeMap<&str, &FileState> = new.iter().map(|f| (f.name.as_str(), f)).collect();
    let mut ev = Vec::new();
    for (name, s) in &n {
        match o.get(name) {
            None => ev.push(("created", (*name).to_string())),
            Some(p) if p != s => ev.push(("modified", (*name).to_string())),
            Some(_) => {}
        }
    }
    for name in o.keys().filter(|k| !n.contains_key(*k)) {
        ev.push(("deleted", (*name).to_string()));
    }
    ev
}

/// Watch `dir` and write one JSON line per change. Survives the directory being removed and
/// recreated (the parent is watched) and editors' atomic-rename saves (state is compared,
/// not raw events). Stops after `max_events` change lines when given.
pub fn watch(
    dir: &Path,
    opts: &Options,
    node: &NodeOptions,
    out: &mut dyn std::io::Write,
    max_events: Option<usize>,
) -> Result<(), String> {
    use notify::{RecursiveMode, Watcher};
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |res| {
        let _ = tx.send(res);
    })
    .map_err(|e| format!("cannot watch: {e}"))?;
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    watcher
        .watch(&parent, RecursiveMode::Recursive)
        .map_err(|e| format!("cannot watch {}: {e}", parent.display()))?;
    let mut state = snapshot(dir).unwrap_or_default();
    let ready =
        serde_json::json!({"event": "ready", "dir": dir.to_string_lossy(), "files": state.len()});
    writeln!(out, "{ready}").map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    let mut emitted = 0usize;
    loop {
        // Wait for an event, then let a burst settle.
        if rx.recv().is_err() {
            return Ok(());
        }
        while rx
            .recv_timeout(std::time::Duration::from_millis(150))
            .is_ok()
        {}
        let new = snapshot(dir).unwrap_or_default();
        let changes = diff_states(&state, &new);
        if changes.is_empty() {
            continue;
        }
        let outcome = if dir.is_dir() {
            scan_dir(dir, opts, node).ok()
        } else {
            None
        };
        for (event, name) in changes {
            let file = dir.join(&name).to_string_lossy().replace('\\', "/");
            let findings = outcome
                .as_ref()
                .map(|o| {
                    o.findings
                        .iter()
                        .filter(|f| *f.path == *file && f.suppressed.is_none())
                        .map(crate::report::json::finding_json)
                        .collect()
                })
                .unwrap_or_default();
            let line = WatchEvent {
                event,
                file,
                findings,
            };
            writeln!(
                out,
                "{}",
                serde_json::to_string(&line).map_err(|e| e.to_string())?
            )
            .map_err(|e| e.to_string())?;
            emitted += 1;
        }
        out.flush().map_err(|e| e.to_string())?;
        state = new;
        if max_events.is_some_and(|m| emitted >= m) {
            return Ok(());
        }
    }
}

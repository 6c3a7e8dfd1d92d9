//! `cronguard node`: static-pod directories built in temp dirs.

mod common;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn cg(args: &[&str]) -> (i32, String, String) {
    let r = common::cg(args);
    (r.code, r.stdout, r.stderr)
}

fn kubeadm_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("manifests");
    std::fs::create_dir(&dir).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/node/kubeadm");
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    set_mode(&dir, 0o700);
    for e in std::fs::read_dir(&dir).unwrap() {
        set_mode(&e.unwrap().path(), 0o600);
    }
    (tmp, dir)
}

#[cfg(unix)]
fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn json(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "node",
        "--format",
        "json",
        "--manifests",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (_, out, err) = cg(&args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"))
}

fn active(v: &serde_json::Value, min: &[&str]) -> Vec<(String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["suppressed"].is_null() && min.contains(&f["severity"].as_str().unwrap()))
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn is_root() -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let t = tempfile::NamedTempFile::new().unwrap();
        t.as_file().metadata().unwrap().uid() == 0
    }
    #[cfg(not(unix))]
    false
}

const MEDIUM_UP: &[&str] = &["critical", "high", "medium"];

#[test]
fn stock_kubeadm_control_plane_reports_nothing_at_medium_or_above() {
    let (_t, dir) = kubeadm_dir();
    let v = json(&dir, &[]);
    if is_root() {
        assert_eq!(active(&v, MEDIUM_UP), Vec::<(String, String)>::new());
    }
    // The allowances are visible, with their justification.
    let allowed: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["suppressed"]["kind"] == "allowance")
        .collect();
    assert!(allowed.iter().any(|f| f["rule"] == "host-network"));
    assert!(
        allowed
            .iter()
            .any(|f| f["rule"] == "hostpath-sensitive" && f["object"]["name"] == "etcd")
    );
    let (code, _, _) = cg(&[
        "node",
        "--manifests",
        dir.to_str().unwrap(),
        "--fail-on",
        "medium",
    ]);
    if is_root() {
        assert_eq!(code, 0);
    }
}

#[test]
fn allowances_need_the_official_image_and_the_component_paths() {
    let (_t, dir) = kubeadm_dir();
    let text = std::fs::read_to_string(dir.join("kube-scheduler.yaml")).unwrap();
    std::fs::write(
        dir.join("kube-scheduler.yaml"),
        text.replace(
            "registry.k8s.io/kube-scheduler",
            "ghcr.io/evil/kube-scheduler",
        ),
    )
    .unwrap();
    let text = std::fs::read_to_string(dir.join("etcd.yaml")).unwrap();
    std::fs::write(
        dir.join("etcd.yaml"),
        text.replace("path: /var/lib/etcd", "path: /root"),
    )
    .unwrap();
    let v = json(&dir, &[]);
    let a = active(&v, MEDIUM_UP);
    assert!(
        a.iter().any(|(r, m)| r == "host-network" && !m.is_empty()),
        "{a:?}"
    );
    assert!(
        a.iter()
            .any(|(r, m)| r == "hostpath-sensitive" && m.contains("`/root`")),
        "{a:?}"
    );
    assert!(
        a.iter()
            .any(|(r, m)| r == "hostpath-sensitive" && m.contains("scheduler.conf")),
        "{a:?}"
    );
}

#[test]
fn an_extra_static_pod_and_a_backup_file_are_reported() {
    let (_t, dir) = kubeadm_dir();
    std::fs::write(dir.join("kube-metrics.yaml"), "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-metrics\n  namespace: kube-system\nspec:\n  hostPID: true\n  containers:\n  - name: m\n    image: 203.0.113.7:5000/m:1\n    securityContext: {privileged: true}\n").unwrap();
    std::fs::copy(
        dir.join("kube-apiserver.yaml"),
        dir.join("kube-apiserver.yaml.bak"),
    )
    .unwrap();
    std::fs::write(
        dir.join(".hidden.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: ignored}\n",
    )
    .unwrap();
    set_mode(&dir.join("kube-metrics.yaml"), 0o600);
    set_mode(&dir.join("kube-apiserver.yaml.bak"), 0o600);
    let v = json(&dir, &[]);
    let a = active(&v, MEDIUM_UP);
    let rules: Vec<&str> = a.iter().map(|(r, _)| r.as_str()).collect();
    assert!(rules.contains(&"static-pod-unexpected"), "{a:?}");
    assert!(
        a.iter()
            .any(|(r, m)| r == "static-pod-stray-file" && m.starts_with("kube-apiserver.yaml.bak")),
        "{a:?}"
    );
    assert!(rules.contains(&"privileged-container"));
    assert!(rules.contains(&"host-pid"));
    // the .bak copy is a second kube-apiserver: it is scanned like the kubelet would run it
    assert!(v["findings"].as_array().unwrap().iter().any(|f| {
        f["path"]
            .as_str()
            .unwrap()
            .ends_with("kube-apiserver.yaml.bak")
            && f["rule"] == "host-network"
    }));
    // dot-files are ignored like the kubelet ignores them
    assert!(!v.to_string().contains("ignored"));
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "static-pod-unexpected")
        .unwrap();
    assert_eq!(f["line"], 4);
    assert_eq!(f["column"], 9);
}

#[cfg(unix)]
#[test]
fn world_writable_files_and_directories_are_reported() {
    let (_t, dir) = kubeadm_dir();
    set_mode(&dir.join("etcd.yaml"), 0o666);
    set_mode(&dir, 0o777);
    let v = json(&dir, &[]);
    let a = active(&v, MEDIUM_UP);
    let perms: Vec<&String> = a
        .iter()
        .filter(|(r, _)| r == "static-pod-file-permissions")
        .map(|(_, m)| m)
        .collect();
    assert_eq!(perms.len(), 2, "{a:?}");
    assert!(
        perms
            .iter()
            .any(|m| m.starts_with("etcd.yaml has mode 0666"))
    );
    assert!(
        perms
            .iter()
            .any(|m| m.starts_with("the manifest directory has mode 0777"))
    );
}

#[cfg(unix)]
#[test]
fn a_file_not_owned_by_root_is_reported() {
    if !is_root() {
        eprintln!("not root: cannot chown; skipped");
        return;
    }
    let (_t, dir) = kubeadm_dir();
    std::os::unix::fs::chown(dir.join("kube-scheduler.yaml"), Some(1000), Some(1000)).unwrap();
    let v = json(&dir, &[]);
    let a = active(&v, MEDIUM_UP);
    assert!(
        a.iter()
            .any(|(r, m)| r == "static-pod-file-permissions" && m.contains("not owned by root")),
        "{a:?}"
    );
}

#[test]
fn baseline_reports_added_changed_and_removed_files() {
    let (t, dir) = kubeadm_dir();
    let base = t.path().join("baseline.json");
    let (code, _, err) = cg(&[
        "node",
        "--manifests",
        dir.to_str().unwrap(),
        "--write-baseline",
        base.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&base).unwrap()).unwrap();
    assert_eq!(b["files"].as_array().unwrap().len(), 4);
    // unchanged: no static-pod-changed
    let v = json(&dir, &["--baseline", base.to_str().unwrap()]);
    assert!(
        active(&v, MEDIUM_UP)
            .iter()
            .all(|(r, _)| r != "static-pod-changed")
    );
    let text = std::fs::read_to_string(dir.join("kube-apiserver.yaml")).unwrap();
    std::fs::write(
        dir.join("kube-apiserver.yaml"),
        text.replace(
            "- --secure-port=6443",
            "- --secure-port=6443\n    - --anonymous-auth=true",
        ),
    )
    .unwrap();
    std::fs::remove_file(dir.join("kube-scheduler.yaml")).unwrap();
    std::fs::write(dir.join("extra.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: {name: etcd}\nspec: {containers: [{name: a, image: registry.k8s.io/etcd:3.5.15-0}]}\n").unwrap();
    let v = json(&dir, &["--baseline", base.to_str().unwrap()]);
    let mut changed: Vec<String> = active(&v, MEDIUM_UP)
        .into_iter()
        .filter(|(r, _)| r == "static-pod-changed")
        .map(|(_, m)| m)
        .collect();
    changed.sort();
    assert_eq!(
        changed,
        [
            "extra.yaml was added since the baseline",
            "kube-apiserver.yaml changed since the baseline (content)",
            "kube-scheduler.yaml was removed since the baseline"
        ]
    );
}

#[test]
fn kubelet_config_static_pod_path_is_used() {
    let (t, dir) = kubeadm_dir();
    let cfg = t.path().join("config.yaml");
    std::fs::write(&cfg, format!("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nstaticPodPath: {}\n", dir.display())).unwrap();
    let (_, out, err) = cg(&[
        "node",
        "--format",
        "json",
        "--kubelet-config",
        cfg.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e} {err}"));
    assert_eq!(v["summary"]["files"], 4);
    let (code, _, err) = cg(&["node", "--kubelet-config", "/nonexistent/config.yaml"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read kubelet config"));
}

/// Read JSON lines from the watcher until `n` change lines arrived or time ran out.
fn read_lines(reader: &mut impl BufRead, n: usize, deadline: Instant) -> Vec<serde_json::Value> {
    let mut v = Vec::new();
    let mut line = String::new();
    while v.len() < n && Instant::now() < deadline {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        v.push(serde_json::from_str(line.trim()).unwrap());
    }
    v
}

#[test]
fn watch_prints_created_modified_and_deleted_events() {
    let (_t, dir) = kubeadm_dir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cronguard"))
        .args([
            "node",
            "--watch",
            "--max-events",
            "8",
            "--manifests",
            dir.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    let ready = read_lines(&mut out, 1, deadline);
    assert_eq!(ready[0]["event"], "ready");
    let pause = || std::thread::sleep(Duration::from_millis(600));
    // created
    std::fs::write(dir.join("backdoor.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: {name: backdoor}\nspec:\n  containers: [{name: a, image: alpine, securityContext: {privileged: true}}]\n").unwrap();
    pause();
    // an editor's atomic save: write a temp file, rename it over the original
    let text = std::fs::read_to_string(dir.join("kube-scheduler.yaml")).unwrap();
    std::fs::write(
        dir.join(".kube-scheduler.yaml.swp"),
        text.replace("--leader-elect=true", "--leader-elect=false"),
    )
    .unwrap();
    std::fs::rename(
        dir.join(".kube-scheduler.yaml.swp"),
        dir.join("kube-scheduler.yaml"),
    )
    .unwrap();
    pause();
    // deleted
    std::fs::remove_file(dir.join("backdoor.yaml")).unwrap();
    pause();
    // the directory removed and recreated
    let kept = std::fs::read_to_string(dir.join("etcd.yaml")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    pause();
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("etcd.yaml"), kept).unwrap();
    let events = read_lines(&mut out, 8, deadline);
    let _ = child.kill();
    let _ = child.wait();
    let kinds: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_string(),
                e["file"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        kinds[0],
        ("created".to_string(), "backdoor.yaml".to_string()),
        "{kinds:?}"
    );
    let rules: Vec<&str> = events[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"privileged-container") && rules.contains(&"static-pod-unexpected"),
        "{rules:?}"
    );
    assert_eq!(
        kinds[1],
        ("modified".to_string(), "kube-scheduler.yaml".to_string()),
        "{kinds:?}"
    );
    assert_eq!(
        kinds[2],
        ("deleted".to_string(), "backdoor.yaml".to_string()),
        "{kinds:?}"
    );
    // the directory vanished: its four files are deleted; recreated: etcd.yaml is back
    assert!(kinds[3..7].iter().all(|k| k.0 == "deleted"), "{kinds:?}");
    assert_eq!(
        kinds[7],
        ("created".to_string(), "etcd.yaml".to_string()),
        "{kinds:?}"
    );
}

/// deploy/cronguard-node.yaml is what we tell users to run: cronguard's own scan of it may
/// report only what its `cronguard.io/ignore` annotation lists and explains, and every id
/// listed there must be a real rule that the scan actually reports (no stale allowances).
#[test]
fn deploy_example_reports_only_its_documented_needs() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/cronguard-node.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let listed: std::collections::BTreeSet<String> = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("cronguard.io/ignore: "))
        .expect("the DaemonSet carries a cronguard.io/ignore annotation")
        .trim_matches('"')
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    assert!(
        text.contains("cronguard.io/ignore-reason: \""),
        "every allowance needs a reason"
    );
    for id in &listed {
        assert!(cronguard::rules::find(id).is_some(), "unknown rule {id}");
    }
    let (code, out, err) = cg(&[
        "scan",
        "--format",
        "json",
        "--fail-on",
        "critical",
        path.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    assert!(v["skipped"].as_array().unwrap().is_empty(), "{out}");
    let reported: std::collections::BTreeSet<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    for f in v["findings"].as_array().unwrap() {
        let rule = f["rule"].as_str().unwrap();
        let sev = f["severity"].as_str().unwrap();
        if matches!(sev, "critical" | "high" | "medium") {
            assert!(
                listed.contains(rule),
                "unexplained {sev} finding {rule}: {f}"
            );
        }
    }
    for id in &listed {
        assert!(
            reported.contains(id),
            "allowance for {id}, which is not reported"
        );
    }
    // Exit code follows the unsuppressed findings at or above --fail-on.
    let unsuppressed_critical = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["severity"] == "critical" && f["suppressed"].is_null());
    assert_eq!(code, i32::from(unsuppressed_critical), "{out}");
}

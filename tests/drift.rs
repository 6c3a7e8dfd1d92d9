//! `cronguard drift`: recorded kubectl exports, an audit log and events (testdata/drift)
//! against the repository tree testdata/drift/repo, driven in-process.

mod common;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn cg_stdin(args: &[&str], stdin: &str) -> (i32, String, String) {
    let r = common::cg_stdin(args, stdin);
    (r.code, r.stdout, r.stderr)
}

fn cg(args: &[&str]) -> (i32, String, String) {
    cg_stdin(args, "")
}

fn data(p: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/drift")
        .join(p)
        .to_string_lossy()
        .into_owned()
}

fn repo() -> String {
    data("repo")
}

/// Run `drift` with JSON output; returns (exit code, report).
fn drift(args: &[&str]) -> (i32, Value) {
    let mut a = vec!["drift", "--format", "json"];
    a.extend_from_slice(args);
    let (code, out, err) = cg(&a);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    (code, v)
}

fn of_rule<'a>(v: &'a Value, rule: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn messages(v: &Value, rule: &str) -> Vec<String> {
    of_rule(v, rule)
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

/// The 1-based line of the first occurrence of `needle` in a testdata file.
fn line_of(file: &str, needle: &str) -> usize {
    let text = std::fs::read_to_string(data(file)).unwrap();
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in {file}"))
        + 1
}

#[test]
fn an_in_sync_cluster_export_reports_nothing() {
    for live in ["live/in-sync.yaml", "live/in-sync.json"] {
        let (code, v) = drift(&["--only", "drift", "--live", &data(live), &repo()]);
        assert_eq!(code, 0, "{live}: {v:#}");
        assert_eq!(v["findings"], Value::Array(vec![]), "{live}");
        assert_eq!(v["skipped"], Value::Array(vec![]), "{live}");
        // The export was loaded: seven objects, all workloads.
        assert_eq!(v["summary"]["objects"], 7, "{live}");
        // And every other rule has nothing to say about these hardened workloads either.
        let (_, all) = drift(&["--live", &data(live), &repo()]);
        let rules: Vec<&Value> = all["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| &f["rule"])
            .collect();
        assert!(
            rules
                .iter()
                .all(|r| !r.as_str().unwrap().starts_with("drift-")),
            "{live}: {rules:?}"
        );
    }
}

#[test]
fn unmanaged_cronjobs_jobs_and_pods_are_reported_once_each() {
    for live in ["live/drifted.yaml", "live/drifted.json"] {
        let (code, v) = drift(&["--only", "drift", "--live", &data(live), &repo()]);
        assert_eq!(code, 1, "{live}");
        let mut m = messages(&v, "drift-unmanaged-workload");
        m.sort();
        assert_eq!(
            m,
            [
                "CronJob kube-system/node-metrics runs in the cluster but is not in the repository",
                "Job ops/cleanup-manual runs in the cluster but is not in the repository (created by CronJob ops/cleanup, which is not in the repository either)",
                "Pod default/debug-shell runs in the cluster but is not in the repository",
            ],
            "{live}"
        );
        // The miner's Job and Pod are covered by the CronJob's finding; the managed backup's
        // Job and Pod, the managed Job's Pod and the Deployment's Pod are not drift.
        for f in of_rule(&v, "drift-unmanaged-workload") {
            assert_eq!(f["path"].as_str().unwrap(), data(live));
            assert_eq!(f["severity"], "high");
            assert_eq!(f["attack"][0], "T1053.007");
        }
    }
    // The finding sits on the live object's name.
    let (_, v) = drift(&[
        "--only",
        "drift",
        "--live",
        &data("live/drifted.yaml"),
        &repo(),
    ]);
    let miner = of_rule(&v, "drift-unmanaged-workload")
        .into_iter()
        .find(|f| f["object"]["name"] == "node-metrics")
        .unwrap();
    let text = std::fs::read_to_string(data("live/drifted.yaml")).unwrap();
    let line = text
        .lines()
        .nth(miner["line"].as_u64().unwrap() as usize - 1);
    assert_eq!(line.map(str::trim), Some("name: node-metrics"));
}

#[test]
fn modified_security_fields_are_reported_on_the_live_value_with_the_git_location() {
    let (_, v) = drift(&[
        "--only",
        "drift",
        "--live",
        &data("live/drifted.yaml"),
        &repo(),
    ]);
    let mods = of_rule(&v, "drift-modified-workload");
    let mut m: Vec<&str> = mods
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    m.sort_unstable();
    assert_eq!(
        m,
        [
            "env of container \"backup\" differs from git (added EXFIL_URL)",
            "hostNetwork is true in the cluster but unset in git",
            "image of container \"backup\" is \"registry.example.com/ops/backup:latest\" in the cluster but \"registry.example.com/ops/backup:1.4.2@sha256:9b2a6f0c8e1d4a7b3c5e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c\" in git",
            "schedule is \"*/10 * * * *\" in the cluster but \"0 2 * * *\" in git",
            "securityContext of container \"backup\" differs from git (privileged: true (git: unset))",
        ]
    );
    for f in &mods {
        assert_eq!(f["object"]["name"], "backup");
        assert_eq!(f["object"]["namespace"], "ops");
    }
    let sched = mods
        .iter()
        .find(|f| f["message"].as_str().unwrap().starts_with("schedule"))
        .unwrap();
    assert_eq!(
        sched["line"],
        line_of("live/drifted.yaml", "schedule: '*/10 * * * *'")
    );
    // The human report names the repository's location of the field.
    let (code, out, _) = cg(&[
        "drift",
        "--only",
        "drift-modified-workload",
        "--color",
        "never",
        "--live",
        &data("live/drifted.yaml"),
        &repo(),
    ]);
    assert_eq!(code, 1);
    let want = format!(
        "git defines this at {}/cronjobs/backup.yaml line {}",
        repo(),
        line_of("repo/cronjobs/backup.yaml", "schedule:")
    );
    assert!(out.contains(&want), "{out}");
    // So does the JSON report, in the help.
    assert!(
        sched["help"].as_str().unwrap().starts_with(&want),
        "{sched}"
    );
    // A changed mapping or list points at the entry that differs.
    let sc = mods
        .iter()
        .find(|f| {
            f["message"]
                .as_str()
                .unwrap()
                .starts_with("securityContext")
        })
        .unwrap();
    let privileged = line_of("live/drifted.yaml", "privileged: true");
    assert_eq!(sc["line"], privileged);
    assert_eq!(sc["end_line"], privileged);
    let env = mods
        .iter()
        .find(|f| f["message"].as_str().unwrap().starts_with("env"))
        .unwrap();
    assert_eq!(env["line"], line_of("live/drifted.yaml", "name: EXFIL_URL"));
}

#[test]
fn server_set_and_defaulted_fields_are_ignored() {
    // Written by hand: every server-set field and default the API server adds, on top of
    // the repository's report CronJob and its namespace defaulting.
    let live = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: batch/v1\n  kind: CronJob\n  metadata:\n    name: report\n    namespace: default\n    uid: 5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9\n    resourceVersion: \"1\"\n    generation: 9\n    creationTimestamp: \"2026-11-28T09:14:03Z\"\n    annotations:\n      kubectl.kubernetes.io/last-applied-configuration: '{\"spec\":{\"schedule\":\"* * * * *\"}}'\n      deployment.kubernetes.io/revision: \"4\"\n    managedFields:\n    - manager: kubectl-edit\n      operation: Update\n  spec:\n    schedule: 30 6 * * 1-5\n    concurrencyPolicy: Allow\n    suspend: false\n    successfulJobsHistoryLimit: 3\n    failedJobsHistoryLimit: 1\n    startingDeadlineSeconds: 300\n    jobTemplate:\n      metadata: {creationTimestamp: null}\n      spec:\n        activeDeadlineSeconds: 1800\n        ttlSecondsAfterFinished: 3600\n        template:\n          metadata: {creationTimestamp: null}\n          spec:\n            restartPolicy: Never\n            dnsPolicy: ClusterFirst\n            schedulerName: default-scheduler\n            serviceAccountName: default\n            serviceAccount: default\n            hostNetwork: false\n            automountServiceAccountToken: false\n            terminationGracePeriodSeconds: 30\n            securityContext:\n              runAsNonRoot: true\n              runAsUser: 10002\n              seccompProfile: {type: RuntimeDefault}\n            containers:\n            - name: report\n              image: ghcr.io/acme/report:2.0.1@sha256:1c3e5a7b9d0f2e4c6a8b0d1f3e5c7a9b1d3f5e7c9a0b2d4f6e8a0c2e4b6d8f0a\n              imagePullPolicy: IfNotPresent\n              args: [--since, 24h]\n              ports: [{containerPort: 8080, protocol: TCP}]\n              terminationMessagePath: /dev/termination-log\n              terminationMessagePolicy: File\n              resources: {limits: {cpu: 200m, memory: 256Mi}}\n              securityContext:\n                allowPrivilegeEscalation: false\n                readOnlyRootFilesystem: true\n                capabilities: {drop: [ALL]}\n  status:\n    lastScheduleTime: \"2026-12-04T05:30:00Z\"\n";
    let (code, out, err) = cg_stdin(
        &[
            "drift",
            "--only",
            "drift",
            "--format",
            "json",
            "--live",
            "-",
            &repo(),
        ],
        live,
    );
    assert_eq!(code, 0, "{out} {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["findings"], Value::Array(vec![]), "{v:#}");
    // The same object with a real change is reported, so the comparison did run.
    let changed = live.replace("hostNetwork: false", "hostNetwork: true");
    let (code, out, _) = cg_stdin(
        &[
            "drift",
            "--only",
            "drift",
            "--format",
            "json",
            "--live",
            "-",
            &repo(),
        ],
        &changed,
    );
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        messages(&v, "drift-modified-workload"),
        ["hostNetwork is true in the cluster but unset in git"]
    );
}

#[test]
fn the_default_namespace_is_configurable() {
    // The repository's `report` sets no namespace: with another default it is unmanaged
    // in `default` (and `apps/report` would be the managed one).
    let (_, v) = drift(&[
        "--only",
        "drift",
        "--default-namespace",
        "apps",
        "--live",
        &data("live/in-sync.yaml"),
        &repo(),
    ]);
    assert_eq!(
        messages(&v, "drift-unmanaged-workload"),
        ["CronJob default/report runs in the cluster but is not in the repository"]
    );
}

#[test]
fn every_rule_runs_on_the_live_objects() {
    let (_, v) = drift(&["--live", &data("live/drifted.yaml"), &repo()]);
    let privileged: Vec<&Value> = of_rule(&v, "privileged-container");
    let names: Vec<&str> = privileged
        .iter()
        .map(|f| f["object"]["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"node-metrics"), "{names:?}");
    assert!(names.contains(&"backup"), "{names:?}");
    for f in privileged {
        assert_eq!(f["path"].as_str().unwrap(), data("live/drifted.yaml"));
    }
    assert!(!of_rule(&v, "image-registry-ip").is_empty());
}

fn audit(extra: &[&str]) -> Value {
    let mut a = vec!["--only", "drift", "--audit"];
    let path = data("audit/audit.jsonl");
    a.push(&path);
    a.extend_from_slice(extra);
    let r = repo();
    a.push(&r);
    drift(&a).1
}

#[test]
fn audit_reports_changes_by_identities_other_than_gitops() {
    let v = audit(&[]);
    let m = messages(&v, "drift-imperative-change");
    assert_eq!(
        m,
        [
            "alice@example.com created CronJob payments/cache-warmup outside GitOps at 2026-12-04T03:21:09.770031Z from 203.0.113.7",
            "system:serviceaccount:ci:deployer deleted Job shop/db-migrate outside GitOps at 2026-12-04T03:30:12.004551Z from 10.0.5.20",
            "mallory@example.com patched CronJob ops/backup outside GitOps at 2026-12-04T03:40:00.000000Z from 198.51.100.66 (impersonating system:serviceaccount:argocd:argocd-application-controller)",
        ]
    );
    // Argo CD, Flux, the CronJob controller creating a Job, the Job controller's status
    // update, a refused patch (403) and a pod list are not reported. One request recorded
    // at two stages is one finding, on the line of its last stage.
    let alice = &of_rule(&v, "drift-imperative-change")[0];
    assert_eq!(alice["line"], 5);
    assert_eq!(alice["object"]["kind"], "CronJob");
    assert_eq!(alice["object"]["namespace"], "payments");
}

#[test]
fn gitops_identities_are_configurable() {
    let v = audit(&["--gitops-identity", "system:serviceaccount:ci:*"]);
    let m = messages(&v, "drift-imperative-change");
    assert_eq!(m.len(), 2, "{m:?}");
    assert!(m.iter().all(|m| !m.contains("ci:deployer")), "{m:?}");
    // The defaults stay trusted: Argo CD's and Flux's changes are still not reported.
    assert!(
        m.iter()
            .all(|m| !m.starts_with("system:serviceaccount:argocd"))
    );
    assert!(
        m.iter()
            .all(|m| !m.starts_with("system:serviceaccount:flux"))
    );
}

#[test]
fn a_malformed_audit_line_is_skipped_with_its_number() {
    let v = audit(&[]);
    let skipped = v["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(
        skipped[0]["path"].as_str().unwrap(),
        data("audit/audit.jsonl")
    );
    let reason = skipped[0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("line 6: not a JSON audit event"),
        "{reason}"
    );
    // Garbage of every kind: still no crash, every bad line named.
    let (code, out, err) = cg_stdin(
        &["drift", "--format", "json", "--audit", "-", &repo()],
        "not json\n{\"kind\":\"Pod\",\"apiVersion\":\"v1\"}\n\n[1,2]\n{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"verb\":\"create\",\"objectRef\":{\"resource\":\"cronjobs\",\"apiGroup\":\"batch\"}}\n",
    );
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let reasons: Vec<&str> = v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(reasons[0].starts_with("line 1: not a JSON audit event"));
    assert_eq!(reasons[1], "line 2: not an audit.k8s.io Event");
    assert_eq!(reasons[2], "line 4: not an audit.k8s.io Event");
    // The event without user, time or name is still reported.
    assert_eq!(
        messages(&v, "drift-imperative-change"),
        [
            "<unknown user> created CronJob default/<unnamed> outside GitOps at unknown time from an unknown address"
        ]
    );
}

#[test]
fn the_recorded_request_object_is_scanned_with_every_rule() {
    let (_, v) = drift(&["--audit", &data("audit/audit.jsonl"), &repo()]);
    for rule in ["privileged-container", "host-pid"] {
        let f = of_rule(&v, rule);
        assert_eq!(f.len(), 1, "{rule}: {f:?}");
        assert_eq!(f[0]["path"].as_str().unwrap(), data("audit/audit.jsonl"));
        assert_eq!(f[0]["line"], 5, "{rule}");
        assert_eq!(f[0]["object"]["name"], "cache-warmup");
    }
    // The column points into the JSON line at the offending value.
    let text = std::fs::read_to_string(data("audit/audit.jsonl")).unwrap();
    let line5 = text.lines().nth(4).unwrap();
    let f = &of_rule(&v, "privileged-container")[0];
    let col = f["column"].as_u64().unwrap() as usize;
    assert!(
        line5[col - 1..].starts_with("\"privileged\":true") || line5[col - 1..].starts_with("true"),
        "{}",
        &line5[col - 1..col + 20]
    );
}

#[test]
fn events_name_jobs_that_ran_for_workloads_unknown_to_git() {
    let (code, v) = drift(&[
        "--only",
        "drift",
        "--events",
        &data("events/events.json"),
        &repo(),
    ]);
    assert_eq!(code, 1);
    let m = messages(&v, "drift-unmanaged-workload");
    assert_eq!(
        m,
        [
            "event SuccessfulCreate at 2026-12-04T04:15:00Z (\"Created job node-metrics-29412375\"): CronJob kube-system/node-metrics is not in the repository (2 events)",
            "event Completed at 2026-12-04T00:41:17Z (\"Job completed\"): Job default/one-off-5kq8w is not in the repository",
        ]
    );
    let f = &of_rule(&v, "drift-unmanaged-workload")[0];
    assert_eq!(
        f["line"],
        line_of("events/events.json", "\"name\": \"node-metrics\"")
    );
    // With the live export, what it already reports is not reported again from events.
    let (_, v) = drift(&[
        "--only",
        "drift",
        "--events",
        &data("events/events.json"),
        "--live",
        &data("live/drifted.yaml"),
        &repo(),
    ]);
    let from_events: Vec<String> = messages(&v, "drift-unmanaged-workload")
        .into_iter()
        .filter(|m| m.starts_with("event"))
        .collect();
    assert_eq!(from_events.len(), 1, "{from_events:?}");
    assert!(from_events[0].contains("one-off-5kq8w"));
}

#[test]
fn an_export_inside_the_repository_is_not_taken_for_git() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    copy_dir(Path::new(&repo()), root);
    std::fs::copy(data("live/drifted.yaml"), root.join("live.yaml")).unwrap();
    let live = root.join("live.yaml");
    let (_, v) = drift(&[
        "--only",
        "drift",
        "--live",
        live.to_str().unwrap(),
        root.to_str().unwrap(),
    ]);
    assert_eq!(of_rule(&v, "drift-unmanaged-workload").len(), 3, "{v:#}");
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest: PathBuf = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, err) = cg(&["drift", &repo()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("at least one of --live, --audit or --events"),
        "{err}"
    );
    let (code, _, err) = cg(&["drift", "--live", "-", "--audit", "-", &repo()]);
    assert_eq!(code, 2);
    assert!(err.contains("only one input"), "{err}");
    let (code, _, _) = cg(&["drift", "--live", "/definitely/not/here.yaml", &repo()]);
    assert_eq!(code, 2);
}

#[test]
fn human_report_of_a_drifted_cluster() {
    // Relative paths (tests run in the package root), so the snapshot does not depend on
    // where the checkout is.
    assert!(Path::new("testdata/drift/repo").is_dir());
    let (code, out, _) = cg(&[
        "drift",
        "--only",
        "drift",
        "--color",
        "never",
        "--width",
        "100",
        "--live",
        "testdata/drift/live/drifted.yaml",
        "--audit",
        "testdata/drift/audit/audit.jsonl",
        "--events",
        "testdata/drift/events/events.json",
        "testdata/drift/repo",
    ]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("drift_human", out);
}

#[test]
fn events_k8s_io_events_are_read_too() {
    let events = r#"{"apiVersion": "events.k8s.io/v1", "kind": "EventList", "items": [
  {"apiVersion": "events.k8s.io/v1", "kind": "Event",
   "metadata": {"name": "x.1", "namespace": "ops"},
   "regarding": {"apiVersion": "batch/v1", "kind": "CronJob", "name": "sidecar-sync", "namespace": "ops"},
   "reason": "SuccessfulCreate", "note": "Created job sidecar-sync-29412390",
   "eventTime": "2026-12-04T04:30:00.000000Z", "reportingController": "cronjob-controller"},
  {"apiVersion": "events.k8s.io/v1", "kind": "Event",
   "metadata": {"name": "x.2", "namespace": "ops"},
   "regarding": {"apiVersion": "batch/v1", "kind": "CronJob", "name": "backup", "namespace": "ops"},
   "reason": "SuccessfulCreate", "note": "Created job backup-29412360",
   "eventTime": "2026-12-04T01:00:00.000000Z"}
]}"#;
    let (code, out, err) = cg_stdin(
        &[
            "drift",
            "--only",
            "drift",
            "--format",
            "json",
            "--events",
            "-",
            &repo(),
        ],
        events,
    );
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        messages(&v, "drift-unmanaged-workload"),
        [
            "event SuccessfulCreate at 2026-12-04T04:30:00.000000Z (\"Created job sidecar-sync-29412390\"): CronJob ops/sidecar-sync is not in the repository"
        ]
    );
    assert_eq!(v["findings"][0]["path"], "<stdin>");
}

#[test]
fn owner_references_are_checked_not_trusted() {
    // live/owners.yaml: the managed backup CronJob; a Job claiming it with another uid; a Job
    // it really created (`kubectl create job --from`), then edited; CronJobs two operator
    // custom resources own, one of them in git (repo/operators), so only the other is drift.
    let live = std::fs::read_to_string(data("live/owners.yaml")).unwrap();
    let (code, out, err) = cg_stdin(
        &[
            "drift",
            "--only",
            "drift",
            "--format",
            "json",
            "--live",
            "-",
            &repo(),
        ],
        &live,
    );
    assert_eq!(code, 1, "{out} {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["skipped"], Value::Array(vec![]), "{v:#}");
    let mut m = messages(&v, "drift-unmanaged-workload");
    m.sort();
    assert_eq!(
        m,
        [
            "CronJob ops/op-made runs in the cluster but is not in the repository (owned by Backup ops/nightly, which is not in the repository)",
            "Job ops/backup-29412999 runs in the cluster but is not in the repository (its ownerReference names CronJob ops/backup with uid ffffffff-0000-4000-8000-000000000000, which is not that object's uid)",
        ]
    );
    let modified = messages(&v, "drift-modified-workload");
    assert!(
        modified.iter().any(|m| m.starts_with("image of container \"backup\" is \"registry.example.com/ops/backup:evil\" in the cluster")
            && m.ends_with("(created from CronJob ops/backup of git)")),
        "{modified:?}"
    );
    assert!(
        of_rule(&v, "drift-modified-workload")
            .iter()
            .all(|f| f["object"]["name"] == "backup-manual"),
        "{v:#}"
    );
}

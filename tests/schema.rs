//! Schema validation through the command line: the target version, --schema-dir, and
//! configuration errors.

mod common;
use common::{Ran, cg_stdin as cg};

/// The rule ids of a JSON report.
fn rules_of(r: &Ran) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| {
        panic!("not JSON ({e}): {}\n{}", r.stdout, r.stderr);
    });
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

const OLD_CRON: &str = "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata:\n  name: old\nspec:\n  schedule: \"0 3 * * *\"\n";

#[test]
fn removed_api_version_depends_on_the_target_version() {
    let args = ["scan", "--only", "schema", "--format", "json", "-"];
    let newest = cg(&args, OLD_CRON);
    assert_eq!(rules_of(&newest), ["api-version-removed"]);
    let mut old = args.to_vec();
    old.splice(1..1, ["--kubernetes-version", "1.24"]);
    assert!(rules_of(&cg(&old, OLD_CRON)).is_empty());
    let mut exact = args.to_vec();
    exact.splice(1..1, ["--kubernetes-version", "v1.25.3"]);
    assert_eq!(rules_of(&cg(&exact, OLD_CRON)), ["api-version-removed"]);
}

#[test]
fn every_bundled_version_accepts_the_clean_fixture() {
    let clean = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/rules/schema-invalid/clean.yaml"
    );
    for v in cronguard::schemas::bundled_versions() {
        let r = cg(
            &[
                "scan",
                "--only",
                "schema",
                "--kubernetes-version",
                v,
                "--format",
                "json",
                clean,
            ],
            "",
        );
        assert!(rules_of(&r).is_empty(), "{v}: {}", r.stdout);
        let flagged = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/rules/schema-unknown-field/flagged.yaml"
        );
        let r = cg(
            &[
                "scan",
                "--only",
                "schema-unknown-field",
                "--kubernetes-version",
                v,
                "--format",
                "json",
                flagged,
            ],
            "",
        );
        assert_eq!(rules_of(&r).len(), 8, "{v}: {}", r.stdout);
    }
}

#[test]
fn invalid_kubernetes_version_is_a_usage_error() {
    let r = cg(&["scan", "--kubernetes-version", "latest", "-"], OLD_CRON);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--kubernetes-version"), "{}", r.stderr);
}

const WORKFLOW: &str = "apiVersion: argoproj.io/v1alpha1\nkind: CronWorkflow\nmetadata:\n  name: w\nspec:\n  schedule: \"0 3 * * *\"\n  concurencyPolicy: Forbid\n";

const WORKFLOW_SCHEMA: &str = r#"{
  "type": "object",
  "properties": {
    "apiVersion": {"type": "string"},
    "kind": {"type": "string"},
    "metadata": {"type": "object"},
    "spec": {
      "type": "object",
      "additionalProperties": false,
      "required": ["schedule"],
      "properties": {
        "schedule": {"type": "string"},
        "concurrencyPolicy": {"type": "string", "enum": ["Allow", "Forbid", "Replace"]}
      }
    }
  }
}"#;

#[test]
fn schema_dir_validates_custom_resources_by_kubeconform_name() {
    let args = ["scan", "--only", "schema", "--format", "json", "-"];
    // Without a schema: skipped quietly.
    let quiet = cg(&args, WORKFLOW);
    assert!(rules_of(&quiet).is_empty());
    assert_eq!(quiet.code, 0);
    for name in [
        "cronworkflow-argoproj-v1alpha1.json",
        "cronworkflow-argoproj.io-v1alpha1.json",
        "argoproj.io/cronworkflow_v1alpha1.json",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, WORKFLOW_SCHEMA).unwrap();
        let dir_arg = dir.path().to_string_lossy().to_string();
        let mut with_dir = args.to_vec();
        with_dir.splice(1..1, ["--schema-dir", dir_arg.as_str()]);
        let ran = cg(&with_dir, WORKFLOW);
        assert_eq!(rules_of(&ran), ["schema-unknown-field"], "{name}");
        let report: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
        let finding = &report["findings"][0];
        assert_eq!(finding["line"], 7);
        assert!(
            finding["help"]
                .as_str()
                .unwrap()
                .contains("`concurrencyPolicy`"),
            "{finding}"
        );
        let bad = WORKFLOW.replace("concurencyPolicy: Forbid", "concurrencyPolicy: Sometimes");
        assert_eq!(rules_of(&cg(&with_dir, &bad)), ["schema-invalid"], "{name}");
    }
}

#[test]
fn schema_dir_overrides_a_bundled_kind() {
    let dir = tempfile::tempdir().unwrap();
    // A permissive ConfigMap schema: the bundled one rejects a number in `data`.
    std::fs::write(
        dir.path().join("configmap-v1.json"),
        r#"{"type": "object"}"#,
    )
    .unwrap();
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  n: 3\n";
    let args = ["scan", "--only", "schema", "--format", "json", "-"];
    assert_eq!(rules_of(&cg(&args, cm)), ["schema-invalid"]);
    let d = dir.path().to_string_lossy().to_string();
    let mut a = args.to_vec();
    a.splice(1..1, ["--schema-dir", d.as_str()]);
    assert!(rules_of(&cg(&a, cm)).is_empty());
}

#[test]
fn broken_schema_dir_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("thing-v1.json"), "{not json").unwrap();
    let d = dir.path().to_string_lossy().to_string();
    let r = cg(&["scan", "--schema-dir", &d, "-"], "kind: Pod\n");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("thing-v1.json"), "{}", r.stderr);
    let missing = dir.path().join("nope").to_string_lossy().to_string();
    let r = cg(&["scan", "--schema-dir", &missing, "-"], "kind: Pod\n");
    assert_eq!(r.code, 2);
}

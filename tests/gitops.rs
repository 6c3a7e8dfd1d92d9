//! End to end on a realistic, hardened GitOps repository (testdata/gitops-hardened): a
//! hardened CronJob with its own ServiceAccount, a narrow Role and RoleBinding in another
//! file, a Deployment, a Service, a ConfigMap and a Kustomization. cronguard must not raise
//! a false alarm at medium or above on it, and must notice when its RBAC is widened.

mod common;
use std::path::{Path, PathBuf};

fn cg(args: &[&str]) -> (i32, String, String) {
    let r = common::cg(args);
    (r.code, r.stdout, r.stderr)
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/gitops-hardened")
}

/// (rule, severity, path:line) of every finding at medium or above.
fn medium_or_above(json: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !matches!(f["severity"].as_str(), Some("low" | "info")))
        .map(|f| {
            format!(
                "{} {} {}:{}",
                f["rule"], f["severity"], f["path"], f["line"]
            )
        })
        .collect()
}

#[test]
fn hardened_gitops_repo_has_no_finding_at_medium_or_above() {
    let dir = repo();
    let (code, stdout, stderr) = cg(&[
        "scan",
        "--fail-on",
        "medium",
        "--format",
        "json",
        dir.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // The scan really looked at the repository.
    assert_eq!(v["summary"]["workloads"], 2, "{stdout}");
    assert_eq!(v["summary"]["files"], 9, "{stdout}");
    assert_eq!(v["skipped"].as_array().unwrap().len(), 0, "{stdout}");
    assert_eq!(medium_or_above(&stdout), Vec::<String>::new());
    assert_eq!(code, 0, "{stderr}");
    // Every rule enabled, off-by-default ones included: still nothing at medium or above.
    let (_, all, _) = cg(&[
        "scan",
        "--enable",
        "all",
        "--format",
        "json",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(medium_or_above(&all), Vec::<String>::new());
}

#[test]
fn widening_the_role_in_another_file_flags_the_cronjob() {
    let tmp = tempfile::tempdir().unwrap();
    let src = repo();
    for entry in ["kustomization.yaml", "apps/reports", "apps/web"] {
        let from = src.join(entry);
        if from.is_dir() {
            std::fs::create_dir_all(tmp.path().join(entry)).unwrap();
            for f in std::fs::read_dir(&from).unwrap() {
                let f = f.unwrap().path();
                std::fs::copy(&f, tmp.path().join(entry).join(f.file_name().unwrap())).unwrap();
            }
        } else {
            std::fs::copy(&from, tmp.path().join(entry)).unwrap();
        }
    }
    let rbac = tmp.path().join("apps/reports/rbac.yaml");
    let text = std::fs::read_to_string(&rbac).unwrap();
    let widened = text.replace(
        "  resources: [\"configmaps\"]\n  resourceNames: [\"report-settings\"]\n  verbs: [\"get\"]",
        "  resources: [\"secrets\"]\n  verbs: [\"list\"]",
    );
    assert_ne!(text, widened);
    std::fs::write(&rbac, widened).unwrap();
    let dir = tmp.path().to_str().unwrap();
    let (code, stdout, _) = cg(&["scan", "--format", "json", dir]);
    assert_eq!(code, 1);
    let found = medium_or_above(&stdout);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("\"service-account-privileged\" \"critical\"")
            && found[0].contains("apps/reports/cronjob.yaml")
            && found[0].ends_with(":27"),
        "{found:?}"
    );
    // The human report shows the binding and the rule from rbac.yaml under the finding.
    let (_, human, _) = cg(&["scan", "--width", "120", "--only", "identity", dir]);
    assert!(
        human.contains("RoleBinding reports/report-generator binds it to Role report-generator"),
        "{human}"
    );
    assert!(human.contains("rbac.yaml:8:3"), "{human}");
    assert!(human.contains("verbs: [\"list\"]"), "{human}");
}

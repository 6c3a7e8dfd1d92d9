//! The command line, driven in-process: exit codes, the JSON contract, skipped-file
//! accounting, stdin, determinism across thread counts.

use std::path::Path;

mod common;
use common::{cg, cg_stdin};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn example() -> String {
    root()
        .join("testdata/example")
        .to_string_lossy()
        .into_owned()
}

const PRIVILEGED_JOB: &str = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: n}\nspec:\n  template:\n    spec:\n      containers:\n      - name: a\n        image: alpine:3.20\n        securityContext: {privileged: true}\n";

#[test]
fn exit_code_is_1_when_a_finding_reaches_fail_on() {
    let r = cg(&["scan", &example()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("privileged-container"));
}

#[test]
fn exit_code_is_0_below_fail_on() {
    let r = cg_stdin(
        &[
            "scan",
            "--fail-on",
            "critical",
            "--disable",
            "privileged-container",
            "-",
        ],
        PRIVILEGED_JOB,
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    let r = cg_stdin(&["scan", "--fail-on", "critical", "-"], PRIVILEGED_JOB);
    assert_eq!(r.code, 1);
}

#[test]
fn exit_code_is_2_on_usage_and_config_errors() {
    let r = cg(&["scan", "--enable", "host-pdi", &example()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("unknown rule or category `host-pdi` (did you mean `host-pid`?)"),
        "{}",
        r.stderr
    );
    assert_eq!(cg(&["scan", "--fail-on", "severe"]).code, 2);
    assert_eq!(cg(&["scan", "/definitely/not/here"]).code, 2);
    assert_eq!(cg(&["frobnicate"]).code, 2);
    assert_eq!(cg(&["--help"]).code, 0);
}

#[test]
fn json_report_follows_the_documented_contract() {
    let r = cg_stdin(
        &[
            "scan",
            "--only",
            "privileged-container",
            "--format",
            "json",
            "-",
        ],
        PRIVILEGED_JOB,
    );
    assert_eq!(r.code, 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["version"], 1);
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "privileged-container");
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["path"], "<stdin>");
    assert_eq!(f["line"], 10);
    assert_eq!(f["column"], 27);
    assert_eq!(f["end_line"], 10);
    assert_eq!(f["end_column"], 43);
    assert_eq!(f["object"]["apiVersion"], "batch/v1");
    assert_eq!(f["object"]["kind"], "Job");
    assert_eq!(f["object"]["namespace"], "n");
    assert_eq!(f["object"]["name"], "j");
    assert_eq!(f["attack"][0], "T1611");
    assert_eq!(f["fingerprint"].as_str().unwrap().len(), 16);
    assert_eq!(v["summary"]["findings"], 1);
    assert_eq!(v["summary"]["by_severity"]["critical"], 1);
}

#[test]
fn fingerprint_ignores_lines_above_the_finding() {
    let a = cg_stdin(
        &[
            "scan",
            "--only",
            "privileged-container",
            "--format",
            "json",
            "-",
        ],
        PRIVILEGED_JOB,
    );
    let shifted = format!("# a comment\n# another\n{PRIVILEGED_JOB}");
    let b = cg_stdin(
        &[
            "scan",
            "--only",
            "privileged-container",
            "--format",
            "json",
            "-",
        ],
        &shifted,
    );
    let fa: serde_json::Value = serde_json::from_str(&a.stdout).unwrap();
    let fb: serde_json::Value = serde_json::from_str(&b.stdout).unwrap();
    assert_eq!(
        fa["findings"][0]["fingerprint"],
        fb["findings"][0]["fingerprint"]
    );
    assert_ne!(fa["findings"][0]["line"], fb["findings"][0]["line"]);
}

#[test]
fn bad_files_are_skipped_with_reasons_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("good.yaml"), PRIVILEGED_JOB).unwrap();
    std::fs::write(
        d.join("broken.yaml"),
        format!(
            "{PRIVILEGED_JOB}---\nkey: [unclosed\n---\n{}",
            PRIVILEGED_JOB.replace("name: j,", "name: k,")
        ),
    )
    .unwrap();
    std::fs::write(d.join("binary.yaml"), b"\x00\x01\x02").unwrap();
    std::fs::write(d.join("latin1.yaml"), b"name: caf\xe9\n").unwrap();
    std::fs::write(d.join("empty.yaml"), "").unwrap();
    std::fs::write(d.join("ci.yml"), "on: push\njobs: {}\n").unwrap();
    std::fs::write(
        d.join("nokind.yaml"),
        "apiVersion: v1\nmetadata: {name: x}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("helm.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\n",
    )
    .unwrap();
    std::fs::write(d.join("notes.txt"), "not a manifest").unwrap();
    let r = cg(&[
        "scan",
        "--only",
        "pod-security",
        "--disable",
        "run-as-root,root-filesystem-writable,capabilities-not-dropped,privilege-escalation-allowed,resources-unbounded",
        "--format",
        "json",
        d.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "a bad file is not exit 2: {}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let skipped: Vec<(String, String)> = v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let p = s["path"].as_str().unwrap();
            (
                Path::new(p)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let names: Vec<&str> = skipped.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "binary.yaml",
            "broken.yaml",
            "helm.yaml",
            "latin1.yaml",
            "nokind.yaml"
        ],
        "{skipped:?}"
    );
    assert!(skipped[0].1.starts_with("binary file"));
    assert!(
        skipped[1].1.starts_with("line 12, column"),
        "{}",
        skipped[1].1
    );
    assert!(skipped[2].1.contains("Helm/Go template"));
    assert_eq!(
        skipped[3].1,
        "not valid UTF-8 (invalid byte at line 1, column 10)"
    );
    assert!(skipped[4].1.contains("has apiVersion but no kind"));
    // Both documents around the broken one still report.
    let names: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["object"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["j", "k", "j"]);
    assert_eq!(
        v["summary"]["files"], 6,
        "binary.yaml and latin1.yaml are skipped, not scanned"
    );
}

#[test]
fn output_is_identical_whatever_the_thread_count() {
    let one = cg(&["scan", "-j", "1", "--format", "json", &example()]);
    let four = cg(&["scan", "-j", "4", "--format", "json", &example()]);
    assert_eq!(one.stdout, four.stdout);
    let h1 = cg(&["scan", "-j", "1", &example()]);
    let h3 = cg(&["scan", "-j", "3", &example()]);
    assert_eq!(h1.stdout, h3.stdout);
}

#[test]
fn gitignored_hidden_and_excluded_files_are_not_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join(".gitignore"), "ignored/\n").unwrap();
    for sub in ["ignored", ".hidden", "vendor", "kept"] {
        std::fs::create_dir(d.join(sub)).unwrap();
        std::fs::write(d.join(sub).join("job.yaml"), PRIVILEGED_JOB).unwrap();
    }
    let r = cg(&[
        "scan",
        "--only",
        "privileged-container",
        "--format",
        "json",
        "--exclude",
        "vendor/**",
        d.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let paths: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 1, "{paths:?}");
    assert!(paths[0].ends_with("kept/job.yaml"));
    let r = cg(&[
        "scan",
        "--only",
        "privileged-container",
        "--format",
        "json",
        "--no-ignore",
        d.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 4);
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_root_are_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.yaml"), PRIVILEGED_JOB).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::os::unix::fs::symlink(outside.path().join("secret.yaml"), d.join("link.yaml")).unwrap();
    std::os::unix::fs::symlink(d.join("loop.yaml"), d.join("loop.yaml")).unwrap();
    std::fs::write(d.join("inside.yaml"), PRIVILEGED_JOB).unwrap();
    std::os::unix::fs::symlink(d.join("inside.yaml"), d.join("alias.yaml")).unwrap();
    let r = cg(&[
        "scan",
        "--only",
        "pod-security",
        "--disable",
        "run-as-root,root-filesystem-writable,capabilities-not-dropped,privilege-escalation-allowed,resources-unbounded",
        "--format",
        "json",
        d.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let reasons: Vec<String> = v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s["path"].as_str().unwrap().rsplit('/').next().unwrap(),
                s["reason"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons[0].starts_with("link.yaml symlink points outside the scanned root"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].starts_with("loop.yaml broken or looping symlink"),
        "{reasons:?}"
    );
    // inside.yaml and the in-root alias both scanned
    assert_eq!(v["findings"].as_array().unwrap().len(), 2);
}

#[test]
fn human_report_is_plain_and_escapes_terminal_sequences() {
    let evil = PRIVILEGED_JOB.replace("name: a\n", "name: \"a\\e[2J\\e]0;pwned\\a\"\n");
    let r = cg_stdin(&["scan", "-"], &evil);
    assert!(!r.stdout.contains('\x1b'), "{}", r.stdout);
    assert!(!r.stdout.contains('\x07'));
    assert!(r.stdout.contains("\\u{1b}[2J"), "{}", r.stdout);
}

#[test]
fn rules_and_explain() {
    let r = cg(&["rules"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("privileged-container")
                && l.contains("critical")
                && l.contains("T1611"))
    );
    let r = cg(&["explain", "host-pid"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("# host-pid\n"));
    assert!(r.stdout.contains("## Why is this bad?"));
    let r = cg(&["explain", "host-pdi"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("did you mean `host-pid`?"));
}

#[test]
fn human_snapshot_of_the_example() {
    let r = cg(&["scan", "--width", "100", &example()]);
    let text = r.stdout.replace(&example(), "testdata/example");
    insta::assert_snapshot!("example_human", text);
}

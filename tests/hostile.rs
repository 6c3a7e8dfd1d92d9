//! Hostile input: a crafted manifest must not crash, hang, exhaust memory, read outside the
//! scanned root, or write terminal escapes. The set is generated here at run time (the large
//! files would not belong in git) into a temp dir, and scanned by the real binary under an
//! address-space ceiling and a time ceiling, both generous for a noisy shared machine.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const PRIV_JOB: &str = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: NAME}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: a, image: alpine, securityContext: {privileged: true}}]\n";

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn build_set(dir: &Path) {
    // billion laughs
    let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        let _ = writeln!(s, "a{i}: &a{i} [{refs}]");
    }
    write(dir, "billion-laughs.yaml", &s);
    // 100,000-deep nesting, flow and block
    write(
        dir,
        "deep-flow.yaml",
        format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000)),
    );
    let mut block = String::new();
    for i in 0..2_000 {
        let _ = writeln!(block, "{}- ", " ".repeat(i * 2));
    }
    write(dir, "deep-block.yaml", &block);
    // a 200 MiB file (sparse: skipped by size before it is read)
    let f = std::fs::File::create(dir.join("huge.yaml")).unwrap();
    f.set_len(200 * 1024 * 1024).unwrap();
    // invalid UTF-8 and NUL bytes
    write(
        dir,
        "invalid-utf8.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata: {name: \xc3\x28}\n",
    );
    write(dir, "nul.yaml", b"apiVersion: v1\x00\nkind: Pod\n");
    // terminal escape sequences in keys and values
    write(
        dir,
        "escapes.yaml",
        PRIV_JOB.replace("name: a,", "name: \"a\\e]0;owned\\a\\e[2J\","),
    );
    // 10,000 documents in one file
    let docs: Vec<String> = (0..10_000)
        .map(|i| PRIV_JOB.replace("NAME", &format!("j{i}")))
        .collect();
    write(dir, "many-docs.yaml", docs.join("---\n"));
    // CRLF, BOM, YAML 1.1 booleans, tabs
    write(
        dir,
        "crlf.yaml",
        PRIV_JOB.replace("NAME", "crlf").replace('\n', "\r\n"),
    );
    write(
        dir,
        "bom.yaml",
        format!("\u{feff}{}", PRIV_JOB.replace("NAME", "bom")),
    );
    write(
        dir,
        "yaml11.yaml",
        PRIV_JOB
            .replace("NAME", "yes11")
            .replace("privileged: true", "privileged: on"),
    );
    write(
        dir,
        "tabs.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n\tname: tabbed\n",
    );
    // symlinks: out of the root, and a loop
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/etc/passwd", dir.join("passwd.yaml")).unwrap();
        std::os::unix::fs::symlink(dir.join("loop-b.yaml"), dir.join("loop-a.yaml")).unwrap();
        std::os::unix::fs::symlink(dir.join("loop-a.yaml"), dir.join("loop-b.yaml")).unwrap();
    }
}

#[test]
fn hostile_set_is_scanned_within_bounds_with_reasons() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hostile");
    std::fs::create_dir(&dir).unwrap();
    build_set(&dir);
    let bin = env!("CARGO_BIN_EXE_cronguard");
    // An address-space ceiling of 2 GiB: a run that tries to materialise a billion laughs or
    // the 200 MiB file dies instead of passing.
    let script = format!(
        "ulimit -v 2097152; exec '{bin}' scan --format json --only pod-security,evasion '{}'",
        dir.display()
    );
    let start = Instant::now();
    let out = Command::new("sh").arg("-c").arg(&script).output().unwrap();
    let took = start.elapsed();
    assert!(took < Duration::from_secs(60), "took {took:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        !out.stdout.contains(&0x1b),
        "an escape sequence reached the output"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reason = |file: &str| -> String {
        v["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["path"].as_str().unwrap().ends_with(file))
            .map(|s| s["reason"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
            .join(" | ")
    };
    assert!(
        reason("billion-laughs.yaml").contains("billion-laughs"),
        "{}",
        reason("billion-laughs.yaml")
    );
    assert!(
        reason("deep-flow.yaml").contains("nesting deeper than"),
        "{}",
        reason("deep-flow.yaml")
    );
    assert!(
        reason("deep-block.yaml").contains("nesting deeper than"),
        "{}",
        reason("deep-block.yaml")
    );
    assert!(
        reason("huge.yaml").contains("over the limit"),
        "{}",
        reason("huge.yaml")
    );
    assert!(reason("invalid-utf8.yaml").starts_with("not valid UTF-8"));
    assert!(reason("nul.yaml").starts_with("binary file"));
    assert!(
        reason("tabs.yaml").contains("line 4"),
        "{}",
        reason("tabs.yaml")
    );
    #[cfg(unix)]
    {
        assert!(reason("passwd.yaml").contains("outside the scanned root"));
        assert!(reason("loop-a.yaml").contains("looping symlink"));
        assert!(!String::from_utf8_lossy(&out.stdout).contains("root:x:0:0"));
    }
    // Every input is scanned or skipped with a reason.
    let findings = v["findings"].as_array().unwrap();
    let with_finding = |file: &str| {
        findings.iter().any(|f| {
            f["path"].as_str().unwrap().ends_with(file) && f["rule"] == "privileged-container"
        })
    };
    for ok in ["crlf.yaml", "bom.yaml", "yaml11.yaml", "escapes.yaml"] {
        assert!(with_finding(ok), "{ok} should be scanned and flagged");
    }
    let many = findings
        .iter()
        .filter(|f| {
            f["path"].as_str().unwrap().ends_with("many-docs.yaml")
                && f["rule"] == "privileged-container"
        })
        .count();
    assert_eq!(many, 10_000);
    // The CRLF file reports the same line as the LF original.
    let crlf = findings
        .iter()
        .find(|f| {
            f["path"].as_str().unwrap().ends_with("crlf.yaml")
                && f["rule"] == "privileged-container"
        })
        .unwrap();
    assert_eq!(crlf["line"], 8);
}

#[test]
fn document_limit_is_a_reason_not_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let docs: Vec<String> = (0..10_005).map(|i| format!("a: {i}\n")).collect();
    write(tmp.path(), "x.yaml", docs.join("---\n"));
    let out = Command::new(env!("CARGO_BIN_EXE_cronguard"))
        .args(["scan", "--format", "json", tmp.path().to_str().unwrap()])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("more than 10000 documents")
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn loader_limits_are_configurable_and_each_hit_is_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let docs: Vec<String> = (0..5)
        .map(|i| PRIV_JOB.replace("NAME", &format!("j{i}")))
        .collect();
    write(tmp.path(), "five.yaml", docs.join("---\n"));
    write(
        tmp.path(),
        "deep.yaml",
        format!("a: {}{}\n", "[".repeat(40), "]".repeat(40)),
    );
    let run = |extra: &[&str]| {
        let mut args = vec!["scan", "--format", "json"];
        args.extend_from_slice(extra);
        args.push(tmp.path().to_str().unwrap());
        let out = Command::new(env!("CARGO_BIN_EXE_cronguard"))
            .args(&args)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let reasons: Vec<String> = v["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                format!(
                    "{}: {}",
                    s["path"].as_str().unwrap(),
                    s["reason"].as_str().unwrap()
                )
            })
            .collect();
        let privileged = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "privileged-container")
            .count();
        (reasons, privileged)
    };
    // Defaults: everything is read.
    let (reasons, privileged) = run(&[]);
    assert!(reasons.is_empty(), "{reasons:?}");
    assert_eq!(privileged, 5);
    // Tighter limits: the first three documents are still scanned, the rest is a reason.
    let (reasons, privileged) = run(&["--max-documents", "3", "--max-depth", "20"]);
    assert_eq!(privileged, 3, "{reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("five.yaml") && r.contains("more than 3 documents")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("deep.yaml") && r.contains("nest")),
        "{reasons:?}"
    );
}

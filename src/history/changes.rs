//! The change findings: compare the workloads of two prepared sides.

use super::Prepared;
use super::facts::{self, ContainerFacts, Facts, Valued};
use super::imperative;
use crate::finding::{Finding, Severity};
use crate::index::Index;
use crate::k8s::ObjectId;
use crate::rules::change::{
    COMMAND_CHANGED, IMAGE_CHANGED, IMPERATIVE_JOB_CREATION, PRIVILEGE_INCREASED, SCHEDULE_CHANGED,
    SCHEDULED_WORKLOAD_ADDED, SUSPEND_LIFTED,
};
use crate::rules::{self, Category, Rule};
use crate::scan::{self, Options};
use crate::yaml::{LineIndex, Span};
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

/// A change finding, located in `text`.
#[allow(clippy::too_many_arguments)]
fn finding(
    rule: &Rule,
    opts: &Options,
    path: &str,
    text: &str,
    span: Span,
    object: &ObjectId,
    locator: String,
    value: String,
    message: String,
    label: &str,
    help: &str,
) -> Finding {
    let mut f = Finding {
        rule: rule.id,
        severity: opts.selection.severity_of(rule.id, rule.severity),
        message,
        path: Arc::from(path),
        span,
        label: label.to_string(),
        labels: Vec::new(),
        related: Vec::new(),
        help: Some(help.to_string()),
        object: object.clone(),
        attack: rule.attack,
        locator,
        value,
        suppressed: None,
        line: 0,
        column: 0,
        end_line: 0,
        end_column: 0,
    };
    scan::locate(&mut f, text, &LineIndex::new(text));
    f
}

/// Cut a value for a message (whole characters).
fn short(s: &str) -> String {
    const MAX: usize = 120;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

/// Hide what looks like a credential in a command line before it is shown: the value of
/// `--password=…`-style flags (or the word after them) and the password of a URL.
pub fn redact(cmd: &str) -> String {
    const SENSITIVE: &[&str] = &[
        "password",
        "passwd",
        "token",
        "secret",
        "apikey",
        "api-key",
        "credential",
    ];
    let sensitive = |flag: &str| {
        let l = flag.to_ascii_lowercase();
        l.starts_with('-') && SENSITIVE.iter().any(|s| l.contains(s))
    };
    let mut out: Vec<String> = Vec::new();
    let mut hide_next = false;
    for w in cmd.split(' ') {
        if hide_next {
            out.push("***".into());
            hide_next = false;
            continue;
        }
        let mut w = w.to_string();
        if let Some((flag, _)) = w.split_once('=')
            && sensitive(flag)
        {
            w = format!("{flag}=***");
        } else if sensitive(&w) {
            hide_next = true;
        }
        if let Some(i) = w.find("://") {
            let rest = &w[i + 3..];
            if let Some(at) = rest.find('@')
                && let Some(colon) = rest[..at].find(':')
            {
                w = format!("{}{}:***{}", &w[..i + 3], &rest[..colon], &rest[at..]);
            }
        }
        out.push(w);
    }
    out.join(" ")
}

fn describe_schedule(s: Option<&Valued>) -> (String, Option<f64>) {
    match s {
        None => ("no schedule".to_string(), None),
        Some(v) => match crate::schedule::parse(&v.text) {
            Ok(p) => (
                format!("{:?} ({})", short(&v.text), p.describe()),
                Some(p.runs_per_day()),
            ),
            Err(_) => (format!("{:?} (invalid)", short(&v.text)), None),
        },
    }
}

fn fmt_runs(r: f64) -> String {
    if (r - r.round()).abs() < 0.005 {
        format!("{r:.0}")
    } else {
        format!("{r:.2}")
    }
}

/// `schedule "a" (reading) → "b" (reading), 1 → 288 runs per day`.
pub fn schedule_message(old: Option<&Valued>, new: Option<&Valued>) -> String {
    let (o, or) = describe_schedule(old);
    let (n, nr) = describe_schedule(new);
    let mut m = format!("schedule changed from {o} to {n}");
    if let (Some(a), Some(b)) = (or, nr) {
        m.push_str(&format!("; {} → {} runs per day", fmt_runs(a), fmt_runs(b)));
    }
    m
}

fn registry_of(image: &str) -> String {
    crate::image::parse(image).map_or_else(
        |_| image.split('/').next().unwrap_or(image).to_string(),
        |r| r.registry,
    )
}

fn config_map_digest(index: &Index, ns: &str, name: &str) -> Option<String> {
    let cm = index.config_map(ns, name)?;
    let mut h = crate::finding::Fnv::new();
    let mut entries: Vec<_> = cm.data.iter().map(|e| (&e.key, &e.value)).collect();
    entries.sort();
    for (k, v) in entries {
        h.write(k.as_bytes());
        h.write(&[0]);
        h.write(v.as_bytes());
        h.write(&[0]);
    }
    Some(format!("{:016x}", h.finish()))
}

/// Rule and place of a finding, cut after the container it is about: a rule whose locator
/// moves from a container's `name` to its new `securityContext` is the same finding.
fn privilege_key(f: &Finding) -> String {
    let loc = &f.locator;
    let cut = loc
        .find("ontainers[")
        .and_then(|i| loc[i..].find(']').map(|j| i + j + 1))
        .unwrap_or(loc.len());
    format!("{}:{}", f.rule, &loc[..cut])
}

fn privilege_category(rule: &str) -> bool {
    rules::find(rule).is_some_and(|r| {
        matches!(
            r.category,
            Category::PodSecurity | Category::Placement | Category::Identity
        )
    })
}

/// Compare every workload of head with its definition at base.
pub fn workload_changes(
    base: &Prepared,
    head: &Prepared,
    changed: &BTreeSet<String>,
    opts: &Options,
) -> Vec<Finding> {
    let on = |r: &Rule| opts.selection.is_enabled(r);
    let mut out = Vec::new();
    for (key, (path, hf)) in &head.workloads {
        if !facts::is_scheduled(hf, path) {
            continue;
        }
        let Some(text) = head.texts.get(path) else {
            continue;
        };
        let f = |rule: &Rule,
                 span: Span,
                 locator: String,
                 value: String,
                 message: String,
                 label: &str,
                 help: &str| {
            finding(
                rule, opts, path, text, span, &hf.id, locator, value, message, label, help,
            )
        };
        let Some((_, bf)) = base.workloads.get(key) else {
            if changed.contains(path) && on(&SCHEDULED_WORKLOAD_ADDED) {
                let what = match &hf.schedule {
                    Some(s) => {
                        let (d, _) = describe_schedule(Some(s));
                        format!(", runs on schedule {d}")
                    }
                    None => String::new(),
                };
                out.push(f(
                    &SCHEDULED_WORKLOAD_ADDED,
                    hf.name_span,
                    String::new(),
                    String::new(),
                    format!("new scheduled workload {}{what}", hf.id.display()),
                    "a scheduled workload that did not exist at base",
                    "review what it runs, with which privileges and how often; it is how code keeps running in a cluster",
                ));
            }
            continue;
        };
        compare(hf, bf, &f, opts, &mut out);
        // Scripts the workload mounts from ConfigMaps in the repository.
        if on(&COMMAND_CHANGED) {
            let ns = hf.namespace();
            let mut seen = HashSet::new();
            for cm in &hf.config_maps {
                if !seen.insert(cm.text.clone()) {
                    continue;
                }
                let (a, b) = (
                    config_map_digest(&base.index, ns, &cm.text),
                    config_map_digest(&head.index, ns, &cm.text),
                );
                if a != b && b.is_some() {
                    out.push(f(
                        &COMMAND_CHANGED,
                        cm.span,
                        format!("configMap[{}]", cm.text),
                        b.unwrap_or_default(),
                        format!(
                            "mounted ConfigMap {:?} {} in this change",
                            cm.text,
                            if a.is_some() { "changed" } else { "is new" }
                        ),
                        "the scripts or configuration this job reads changed",
                        "review the new ConfigMap content: it is code the job runs",
                    ));
                }
            }
        }
        // New pod-security, placement and identity findings (medium and above).
        if on(&PRIVILEGE_INCREASED) {
            let base_has: Vec<(String, Severity)> = base
                .outcome
                .findings
                .iter()
                .filter(|x| x.object.key() == *key)
                .map(|x| (privilege_key(x), x.severity))
                .collect();
            for hfnd in head.outcome.findings.iter().filter(|x| {
                x.object.key() == *key
                    && *x.path == **path
                    && x.suppressed.is_none()
                    && x.severity >= Severity::Medium
                    && privilege_category(x.rule)
            }) {
                let pk = privilege_key(hfnd);
                if base_has
                    .iter()
                    .any(|(k, sev)| *k == pk && *sev >= hfnd.severity)
                {
                    continue;
                }
                out.push(f(
                    &PRIVILEGE_INCREASED,
                    hfnd.span,
                    pk,
                    hfnd.fingerprint(),
                    format!(
                        "this change gives an existing workload `{}`: {}",
                        hfnd.rule, hfnd.message
                    ),
                    "new at head; the workload did not have it at base",
                    "remove the new privilege, or justify it and suppress the underlying finding",
                ));
            }
        }
    }
    out
}

type Mk<'a> = dyn Fn(&Rule, Span, String, String, String, &str, &str) -> Finding + 'a;

fn compare(hf: &Facts, bf: &Facts, f: &Mk, opts: &Options, out: &mut Vec<Finding>) {
    let on = |r: &Rule| opts.selection.is_enabled(r);
    let sched_changed =
        hf.schedule.as_ref().map(|v| &v.text) != bf.schedule.as_ref().map(|v| &v.text);
    let tz_changed =
        hf.time_zone.as_ref().map(|v| &v.text) != bf.time_zone.as_ref().map(|v| &v.text);
    if (sched_changed || tz_changed) && on(&SCHEDULE_CHANGED) {
        let mut parts = Vec::new();
        if sched_changed {
            parts.push(schedule_message(bf.schedule.as_ref(), hf.schedule.as_ref()));
        }
        if tz_changed {
            let show = |v: Option<&Valued>| {
                v.map_or_else(
                    || "unset (the controller's zone)".into(),
                    |v| format!("{:?}", short(&v.text)),
                )
            };
            parts.push(format!(
                "timeZone changed from {} to {}",
                show(bf.time_zone.as_ref()),
                show(hf.time_zone.as_ref())
            ));
        }
        let span = hf
            .schedule
            .as_ref()
            .filter(|_| sched_changed)
            .or(hf.time_zone.as_ref())
            .map_or(hf.spec_span, |v| v.span);
        let value = format!(
            "{}→{}|{}→{}",
            bf.schedule.as_ref().map_or("", |v| &v.text),
            hf.schedule.as_ref().map_or("", |v| &v.text),
            bf.time_zone.as_ref().map_or("", |v| &v.text),
            hf.time_zone.as_ref().map_or("", |v| &v.text)
        );
        out.push(f(
            &SCHEDULE_CHANGED,
            span,
            "spec.schedule".into(),
            value,
            parts.join("; "),
            "when this job runs changed",
            "check the new frequency and time window are intended",
        ));
    }
    if bf.suspend.is_some_and(|s| s.0) && !hf.suspend.is_some_and(|s| s.0) && on(&SUSPEND_LIFTED) {
        let (span, now) = match hf.suspend {
            Some((_, s)) => (s, "false"),
            None => (hf.spec_span, "unset"),
        };
        out.push(f(
            &SUSPEND_LIFTED,
            span,
            "spec.suspend".into(),
            now.into(),
            format!(
                "suspension of {} lifted: suspend was true at base and is {now} now, so it will run",
                hf.id.display()
            ),
            "the suspension is lifted here",
            "review the workload as if it were new: it starts running once this is applied",
        ));
    }
    let base_registries: HashSet<String> = bf
        .containers
        .iter()
        .filter_map(|c| c.image.as_ref().map(|i| registry_of(&i.text)))
        .collect();
    for hc in &hf.containers {
        let bc = bf.container(&hc.slot);
        image_change(hc, bc, &base_registries, f, opts, out);
        let Some(bc) = bc else { continue };
        if !on(&COMMAND_CHANGED) {
            continue;
        }
        for (what, new, old) in [
            ("command", &hc.command, &bc.command),
            ("args", &hc.args, &bc.args),
            ("script source", &hc.source, &bc.source),
        ] {
            if new.as_ref().map(|v| &v.text) == old.as_ref().map(|v| &v.text) {
                continue;
            }
            let show = |v: &Option<Valued>| {
                v.as_ref().map_or_else(
                    || "unset".to_string(),
                    |v| format!("`{}`", short(&redact(&v.text))),
                )
            };
            let span = new.as_ref().map_or(hc.span, |v| v.span);
            out.push(f(
                &COMMAND_CHANGED,
                span,
                format!("{}.{what}", hc.slot),
                new.as_ref().map(|v| v.text.clone()).unwrap_or_default(),
                format!(
                    "{what} of {} changed from {} to {}",
                    hc.label,
                    show(old),
                    show(new)
                ),
                "what this container runs changed",
                "read the new command line: it runs with the job's privileges",
            ));
        }
    }
}

fn image_change(
    hc: &ContainerFacts,
    bc: Option<&ContainerFacts>,
    base_registries: &HashSet<String>,
    f: &Mk,
    opts: &Options,
    out: &mut Vec<Finding>,
) {
    if !opts.selection.is_enabled(&IMAGE_CHANGED) {
        return;
    }
    let Some(new) = &hc.image else { return };
    let new_reg = registry_of(&new.text);
    #[allow(clippy::single_match_else)] // two cases that read better side by side
    let (message, high) = match bc {
        Some(bc) => {
            let old = bc.image.as_ref().map_or("", |v| v.text.as_str());
            if old == new.text {
                return;
            }
            let old_reg = registry_of(old);
            let reg = if old_reg == new_reg {
                String::new()
            } else {
                format!(" (registry {old_reg} → {new_reg})")
            };
            (
                format!(
                    "image of {} changed from {:?} to {:?}{reg}",
                    hc.label,
                    short(old),
                    short(&new.text)
                ),
                old_reg != new_reg,
            )
        }
        None => {
            let novel = !base_registries.contains(&new_reg);
            (
                format!(
                    "{} is added with image {:?}{}",
                    hc.label,
                    short(&new.text),
                    if novel {
                        format!(" from registry {new_reg}, which the workload did not use")
                    } else {
                        String::new()
                    }
                ),
                novel,
            )
        }
    };
    let mut fd = f(
        &IMAGE_CHANGED,
        new.span,
        format!("{}.image", hc.slot),
        new.text.clone(),
        message,
        if high {
            "the image now comes from another registry"
        } else {
            "a different image runs here"
        },
        "check the new image's origin and pin it by digest",
    );
    if high {
        fd.severity = opts
            .selection
            .severity_of(IMAGE_CHANGED.id, Severity::High)
            .max(Severity::High);
    }
    out.push(fd);
}

/// A file's path and text.
pub type Named = (Arc<str>, Arc<str>);

/// The identity of a script, Makefile or CI file: kind `file`, its repository path as name,
/// no API version and no namespace ([`ObjectId::display`] shows `file <path>`).
pub fn script_id(path: &str) -> ObjectId {
    ObjectId {
        api_version: String::new(),
        kind: "file".into(),
        namespace: None,
        name: Some(path.to_string()),
    }
}

/// `imperative-job-creation` in changed scripts: commands not present at base.
pub fn imperative(
    base: &[(String, Arc<str>)],
    head: &[(String, Arc<str>)],
    opts: &Options,
) -> (Vec<Finding>, Vec<Named>) {
    let mut out = Vec::new();
    let mut sources = Vec::new();
    if !opts.selection.is_enabled(&IMPERATIVE_JOB_CREATION) {
        return (out, sources);
    }
    let known: HashSet<String> = base
        .iter()
        .flat_map(|(_, t)| imperative::scan(t))
        .map(|h| h.normalized)
        .collect();
    for (path, text) in head {
        let mut any = false;
        // Not a Kubernetes object: the script file is the identity (the command is the
        // finding's value), so the report says "in file bin/run.sh".
        let id = script_id(path);
        for h in imperative::scan(text) {
            if known.contains(&h.normalized) {
                continue;
            }
            any = true;
            out.push(finding(
                &IMPERATIVE_JOB_CREATION,
                opts,
                path,
                text,
                Span::new(h.range.start, h.range.end),
                &id,
                "script".into(),
                h.normalized.clone(),
                format!("this command {}, outside the reviewed manifests", h.what),
                "imperative kubectl command",
                "commit the manifest to the repository and apply it from there, so it is reviewed and scanned",
            ));
        }
        if any {
            sources.push((Arc::from(path.as_str()), text.clone()));
        }
    }
    (out, sources)
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redacts_credentials_in_command_lines() {
        assert_eq!(
            redact("backup --password=hunter2 --token abc --user=u https://u:pw@h/x"),
            "backup --password=*** --token *** --user=u https://u:***@h/x"
        );
        assert_eq!(redact("sh -c 'echo hi'"), "sh -c 'echo hi'");
    }
}

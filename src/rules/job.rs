//! schedule, job-level: how a Job or CronJob runs, keeps its traces and ends.

use super::{Check, Ctx, Rule};
use crate::declare_rule;
use crate::finding::Finding;
use crate::k8s::WorkloadKind;
use crate::yaml::NodeId;

pub static RULES: &[&Rule] = &[
    &CRONJOB_HISTORY_DISABLED,
    &JOB_TTL_TOO_SHORT,
    &JOB_NO_ACTIVE_DEADLINE,
    &CRONJOB_STARTING_DEADLINE_MISSING,
    &JOB_RESTART_POLICY_INVALID,
];

/// The CronJob's `spec` (not for other kinds).
fn cron_spec(ctx: &Ctx) -> Option<NodeId> {
    (ctx.workload?.kind == WorkloadKind::CronJob)
        .then(|| ctx.doc.get(ctx.obj.node, "spec"))
        .flatten()
}

/// The node to report a missing job-level field on: the key that holds the job spec.
fn job_spec_key(ctx: &Ctx) -> Option<(NodeId, NodeId)> {
    let w = ctx.workload?;
    let js = w.job_spec?;
    let key = if w.kind == WorkloadKind::CronJob {
        // Report on `jobTemplate`, whose `spec` holds the job spec.
        ctx.doc.node(js).parent.and_then(|p| ctx.doc.key_of(p))?
    } else {
        ctx.doc.key_of(js)?
    };
    Some((key, js))
}

declare_rule! {
    /// ## What it does
    /// Flags CronJobs with both `successfulJobsHistoryLimit: 0` and
    /// `failedJobsHistoryLimit: 0`.
    ///
    /// ## Why is this bad?
    /// Every finished Job (and its pods and logs) is deleted at once: nothing shows what ran,
    /// when, or what it printed. Attackers use it to run on a schedule without leaving
    /// evidence (MITRE ATT&CK T1070, Indicator Removal).
    ///
    /// ## Example
    /// ```yaml
    /// successfulJobsHistoryLimit: 0
    /// failedJobsHistoryLimit: 0
    /// ```
    ///
    /// ## Use instead
    /// Keep the defaults (3 and 1) or more.
    ///
    /// ## References
    /// - Kubernetes CronJob docs, "Jobs history limits". Peers: none.
    pub static CRONJOB_HISTORY_DISABLED = {
        id: "cronjob-history-disabled",
        category: Schedule,
        severity: High,
        enabled: true,
        attack: ["T1070"],
        summary: "a CronJob keeps no history of its runs",
        check: Check::Object(check_history),
    }
}

fn check_history(ctx: &Ctx, out: &mut Vec<Finding>) {
    let Some(spec) = cron_spec(ctx) else { return };
    let s = ctx.doc.entry(spec, "successfulJobsHistoryLimit");
    let f = ctx.doc.entry(spec, "failedJobsHistoryLimit");
    let (Some((sk, sv)), Some((fk, fv))) = (s, f) else {
        return;
    };
    if ctx.doc.as_i64(sv) != Some(0) || ctx.doc.as_i64(fv) != Some(0) {
        return;
    }
    let mut finding = ctx.finding_on_key(
        &CRONJOB_HISTORY_DISABLED,
        sk,
        sv,
        "the CronJob deletes every finished run, successful or failed",
    );
    finding.label = "no successful run is kept".into();
    let span = ctx.doc.span(fk);
    let finding = finding.with_label(
        crate::yaml::Span::new(span.start as usize, ctx.doc.span(fv).end as usize),
        "no failed run is kept",
    );
    out.push(finding.with_help(
        "keep at least the defaults: successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1",
    ));
}

declare_rule! {
    /// ## What it does
    /// Flags a Job or CronJob job template whose `ttlSecondsAfterFinished` is below the
    /// configured minimum (default 300 seconds; `min-ttl-seconds` in the config).
    ///
    /// ## Why is this bad?
    /// The Job and its pods, with their logs, are deleted that many seconds after it finishes;
    /// `0` deletes them at once, so nobody can see what ran (MITRE ATT&CK T1070).
    ///
    /// ## Example
    /// ```yaml
    /// ttlSecondsAfterFinished: 0
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// ttlSecondsAfterFinished: 86400
    /// ```
    ///
    /// ## References
    /// - Peers: kube-linter job-ttl-seconds-after-finished asks for a TTL to be *set* (to clean
    ///   up); cronguard asks that it not be so short that evidence disappears.
    pub static JOB_TTL_TOO_SHORT = {
        id: "job-ttl-too-short",
        category: Schedule,
        severity: Medium,
        enabled: true,
        attack: ["T1070"],
        summary: "a Job is deleted too soon after it finishes",
        check: Check::Object(check_ttl),
    }
}

fn check_ttl(ctx: &Ctx, out: &mut Vec<Finding>) {
    let Some(js) = ctx.workload.and_then(|w| w.job_spec) else {
        return;
    };
    let Some((k, v)) = ctx.doc.entry(js, "ttlSecondsAfterFinished") else {
        return;
    };
    let Some(ttl) = ctx.doc.as_i64(v) else { return };
    let min = ctx.settings.min_ttl_secs;
    if ttl >= min {
        return;
    }
    let mut f = ctx.finding_on_key(
        &JOB_TTL_TOO_SHORT,
        k,
        v,
        if ttl == 0 {
            "the Job and its pod logs are deleted as soon as it finishes".to_string()
        } else {
            format!(
                "the Job and its pod logs are deleted {ttl}s after it finishes (minimum {min}s)"
            )
        },
    );
    f.label = "evidence of each run disappears".into();
    out.push(f.with_help(format!(
        "set ttlSecondsAfterFinished to at least {min}, or ship logs elsewhere first"
    )));
}

declare_rule! {
    /// ## What it does
    /// Flags Jobs and CronJob job templates without `activeDeadlineSeconds`.
    ///
    /// ## Why is this bad?
    /// A run that never ends holds its resources forever; a miner or a beacon started by a
    /// CronJob keeps running between schedules (MITRE ATT&CK T1496).
    ///
    /// ## Example
    /// ```yaml
    /// jobTemplate:
    ///   spec:
    ///     template: ...
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// jobTemplate:
    ///   spec:
    ///     activeDeadlineSeconds: 3600
    /// ```
    ///
    /// ## References
    /// - Kubernetes Job docs, "Job termination and cleanup". Peers: none.
    pub static JOB_NO_ACTIVE_DEADLINE = {
        id: "job-no-active-deadline",
        category: Schedule,
        severity: Low,
        enabled: true,
        attack: ["T1496"],
        summary: "a Job has no activeDeadlineSeconds",
        check: Check::Object(check_deadline),
    }
}

fn check_deadline(ctx: &Ctx, out: &mut Vec<Finding>) {
    if !matches!(
        ctx.workload.map(|w| w.kind),
        Some(WorkloadKind::CronJob | WorkloadKind::Job)
    ) {
        return;
    }
    let Some((key, js)) = job_spec_key(ctx) else {
        return;
    };
    if ctx.doc.get(js, "activeDeadlineSeconds").is_some() {
        return;
    }
    let mut f = ctx.finding(
        &JOB_NO_ACTIVE_DEADLINE,
        key,
        "a run of this Job may never end",
    );
    f.value = String::new();
    f.label = "no activeDeadlineSeconds".into();
    out.push(
        f.with_help("set `activeDeadlineSeconds` on the Job spec to the longest a run may take"),
    );
}

declare_rule! {
    /// ## What it does
    /// Flags CronJobs without `startingDeadlineSeconds`.
    ///
    /// ## Why is this bad?
    /// Without it, a controller that was down catches up missed schedules in a burst, and
    /// after more than 100 missed schedules the CronJob stops being scheduled at all.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   schedule: "*/5 * * * *"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   schedule: "*/5 * * * *"
    ///   startingDeadlineSeconds: 200
    /// ```
    ///
    /// ## References
    /// - Peers: KICS cronjob_deadline_not_configured, kube-score cronjob-has-deadline. Same
    ///   condition; cronguard labels the `schedule` line rather than the object.
    pub static CRONJOB_STARTING_DEADLINE_MISSING = {
        id: "cronjob-starting-deadline-missing",
        category: Schedule,
        severity: Low,
        enabled: true,
        attack: [],
        summary: "a CronJob has no startingDeadlineSeconds",
        check: Check::Object(check_starting_deadline),
    }
}

fn check_starting_deadline(ctx: &Ctx, out: &mut Vec<Finding>) {
    let Some(spec) = cron_spec(ctx) else { return };
    if ctx.doc.get(spec, "startingDeadlineSeconds").is_some() {
        return;
    }
    let at = ctx.doc.entry(spec, "schedule").map_or(spec, |(k, _)| k);
    let mut f = ctx.finding(
        &CRONJOB_STARTING_DEADLINE_MISSING,
        at,
        "missed schedules are caught up without a deadline",
    );
    f.value = String::new();
    f.label = "no startingDeadlineSeconds".into();
    out.push(f.with_help("set `startingDeadlineSeconds` (for example 200) next to the schedule"));
}

declare_rule! {
    /// ## What it does
    /// Flags Jobs and CronJobs whose pod `restartPolicy` is not `Never` or `OnFailure`
    /// (including unset, which defaults to `Always`).
    ///
    /// ## Why is this bad?
    /// The API server rejects such a Job: the CronJob is accepted but every run fails to be
    /// created, so the scheduled task silently never happens.
    ///
    /// ## Example
    /// ```yaml
    /// template:
    ///   spec:
    ///     restartPolicy: Always
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    ///     restartPolicy: OnFailure
    /// ```
    ///
    /// ## References
    /// - Peers: kube-score cronjob-restartpolicy, which checks CronJobs; cronguard checks Jobs
    ///   and KEDA ScaledJobs too, and counts an unset policy (the `Always` default) as wrong.
    pub static JOB_RESTART_POLICY_INVALID = {
        id: "job-restart-policy-invalid",
        category: Schedule,
        severity: High,
        enabled: true,
        attack: [],
        summary: "a Job's pods do not use restartPolicy Never or OnFailure",
        check: Check::Object(check_restart),
    }
}

fn check_restart(ctx: &Ctx, out: &mut Vec<Finding>) {
    let Some(w) = ctx.workload else { return };
    if !w.kind.is_job_like() {
        return;
    }
    for pod in &w.pods {
        let entry = ctx.doc.entry(pod.spec, "restartPolicy");
        let value = entry.and_then(|(_, v)| ctx.doc.str(v));
        if matches!(value, Some("Never" | "OnFailure")) {
            continue;
        }
        let at = entry.map_or_else(|| ctx.doc.key_of(pod.spec).unwrap_or(pod.spec), |(_, v)| v);
        let mut f = ctx.finding(
            &JOB_RESTART_POLICY_INVALID,
            at,
            match value {
                Some(v) => format!("restartPolicy {v} is not allowed in a Job"),
                None => "restartPolicy is unset (Always), which a Job does not allow".to_string(),
            },
        );
        f.label = "must be Never or OnFailure".into();
        out.push(f.with_help("set `restartPolicy: OnFailure` (or Never) in the pod template"));
    }
}

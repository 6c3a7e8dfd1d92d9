//! schedule: the CronJob's own definition.

use super::{Check, Ctx, Rule};
use crate::declare_rule;
use crate::finding::Finding;
use crate::k8s::WorkloadKind;
use crate::schedule::{Schedule, human_secs};
use crate::yaml::{NodeId, Span};

pub static RULES: &[&Rule] = &[
    &SCHEDULE_INVALID,
    &SCHEDULE_TIMEZONE_PREFIX,
    &TIMEZONE_INVALID,
    &SCHEDULE_NEVER_RUNS,
    &SCHEDULE_TOO_FREQUENT,
    &CRONJOB_CONCURRENCY_ALLOW,
];

fn is_argo(ctx: &Ctx) -> bool {
    ctx.workload
        .is_some_and(|w| w.kind == WorkloadKind::ArgoCronWorkflow)
}

/// The CronJob or CronWorkflow `spec`, for the kinds that have a schedule.
fn cron_spec(ctx: &Ctx) -> Option<NodeId> {
    let w = ctx.workload?;
    matches!(
        w.kind,
        WorkloadKind::CronJob | WorkloadKind::ArgoCronWorkflow
    )
    .then(|| ctx.doc.get(ctx.obj.node, "spec"))
    .flatten()
    .filter(|s| ctx.doc.is_map(*s))
}

/// Where the expression proper starts: after a `TZ=`/`CRON_TZ=` prefix and the blanks that
/// follow it (0 without a prefix).
fn body_start(expr: &str) -> usize {
    crate::schedule::timezone_prefix(expr).map_or(0, |r| {
        let mut e = r.end;
        while expr.as_bytes().get(e).is_some_and(u8::is_ascii_whitespace) {
            e += 1;
        }
        e
    })
}

/// A value quoted for a message, cut to a reviewable length (hostile input can be huge).
fn quoted(s: &str) -> String {
    const MAX: usize = 80;
    if s.len() <= MAX {
        return format!("{s:?}");
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}…", &s[..end])
}

/// A schedule that parses.
struct Parsed<'a> {
    node: NodeId,
    expr: &'a str,
    /// Byte offset of the expression after any time zone prefix.
    at: usize,
    schedule: Schedule,
}

impl Parsed<'_> {
    /// The source span of field `i` (0 = minute) of a five-field schedule, or of the whole
    /// expression for a descriptor.
    fn field_span(&self, ctx: &Ctx, i: usize) -> Span {
        let body = &self.expr[self.at..];
        let trimmed = body.trim_end();
        let range = if let Some(d) = trimmed.trim_start().strip_prefix("@every ") {
            trimmed.len() - d.trim_start().len()..trimmed.len()
        } else if trimmed.trim_start().starts_with('@') {
            body.len() - body.trim_start().len()..trimmed.len()
        } else {
            crate::schedule::field_ranges(body)
                .get(i)
                .cloned()
                .unwrap_or(0..body.len())
        };
        ctx.inner_span(self.node, self.at + range.start..self.at + range.end)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| ctx.doc.span(self.node))
    }
}

/// Every schedule of the object that parses (`schedule-invalid` reports the others).
fn parsed_schedules<'a>(ctx: &Ctx<'a>) -> Vec<Parsed<'a>> {
    let doc: &'a crate::yaml::Document = ctx.doc;
    schedule_nodes(ctx)
        .into_iter()
        .filter_map(|node| {
            let expr = doc.str(node)?;
            let at = body_start(expr);
            let schedule = crate::schedule::parse(&expr[at..]).ok()?;
            Some(Parsed {
                node,
                expr,
                at,
                schedule,
            })
        })
        .collect()
}

/// The `schedule` value node of a CronJob or Argo CronWorkflow (Argo also allows a list in
/// `schedules`).
pub fn schedule_nodes(ctx: &Ctx) -> Vec<NodeId> {
    let Some(w) = ctx.workload else {
        return Vec::new();
    };
    if !matches!(
        w.kind,
        WorkloadKind::CronJob | WorkloadKind::ArgoCronWorkflow
    ) {
        return Vec::new();
    }
    let Some(spec) = ctx.doc.get(ctx.obj.node, "spec") else {
        return Vec::new();
    };
    let mut out: Vec<NodeId> = ctx.doc.get(spec, "schedule").into_iter().collect();
    if let Some(list) = ctx.doc.get(spec, "schedules") {
        out.extend(ctx.doc.seq(list).iter().copied());
    }
    out
}

declare_rule! {
    /// ## What it does
    /// Flags a CronJob `spec.schedule` that the Kubernetes CronJob controller would not
    /// accept. cronguard parses it the way the controller does (robfig/cron v3's standard
    /// parser): exactly five fields, month and day names, ranges, steps, lists, `?`, and the
    /// descriptors `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`,
    /// `@hourly` and `@every <duration>`. The label points at the wrong field.
    ///
    /// ## Why is this bad?
    /// An invalid schedule is rejected at apply time, or, for schedules that other tools accept
    /// (a seconds field, `7` for Sunday, `L`, `#`), breaks the sync of a GitOps repository and
    /// the job silently never runs: a backup or a security scan that everyone believes is
    /// scheduled.
    ///
    /// ## Example
    /// ```yaml
    /// schedule: "0 0 * * 7"        # robfig rejects 7 for Sunday
    /// schedule: "0 */5 * * * *"    # six fields
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// schedule: "0 0 * * 0"
    /// ```
    ///
    /// ## References
    /// - Kubernetes CronJob docs, "Schedule syntax"; robfig/cron v3 `ParseStandard`
    /// - Peers: none validate schedules (kubeconform only checks that it is a string).
    pub static SCHEDULE_INVALID = {
        id: "schedule-invalid",
        category: Schedule,
        severity: High,
        enabled: true,
        attack: [],
        summary: "the schedule does not parse as Kubernetes parses it",
        check: Check::Object(check_invalid),
    }
}

fn check_invalid(ctx: &Ctx, out: &mut Vec<Finding>) {
    for node in schedule_nodes(ctx) {
        let Some(expr) = ctx.doc.str(node) else {
            continue;
        };
        // A TZ= prefix is its own rule; parse the rest.
        let rest_at = body_start(expr);
        let Err(e) = crate::schedule::parse(&expr[rest_at..]) else {
            continue;
        };
        let mut f = ctx.finding(
            &SCHEDULE_INVALID,
            node,
            format!("schedule {} is invalid: {}", quoted(expr), e.message),
        );
        if let Some(s) = ctx.inner_span(node, rest_at + e.range.start..rest_at + e.range.end)
            && !s.is_empty()
        {
            f.span = s;
        }
        f.label.clone_from(&e.message);
        out.push(f.with_help(
            "use five fields (minute hour day-of-month month day-of-week), Sunday as 0, or a descriptor such as @daily",
        ));
    }
}

declare_rule! {
    /// ## What it does
    /// Flags a CronJob schedule that starts with `TZ=` or `CRON_TZ=` (for example
    /// `CRON_TZ=Europe/Paris 0 3 * * *`). The label points at the prefix.
    ///
    /// On an Argo `CronWorkflow` the prefix works (Argo hands the string to robfig/cron), so
    /// it is flagged only when `spec.timezone` is set too: Argo then prepends its own
    /// `CRON_TZ=` and the doubled prefix does not parse.
    ///
    /// ## Why is this bad?
    /// Since Kubernetes 1.25 the API server rejects a new CronJob whose schedule contains
    /// `TZ`; before that the prefix was unsupported and its meaning depended on the
    /// controller's version. A GitOps sync then fails, and the job silently never runs on the
    /// new cluster.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   schedule: "CRON_TZ=Europe/Paris 0 3 * * *"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   schedule: "0 3 * * *"
    ///   timeZone: Europe/Paris
    /// ```
    ///
    /// ## References
    /// - Kubernetes CronJob docs, "Time zones" (`spec.timeZone`, GA in 1.27)
    /// - Peers: none.
    pub static SCHEDULE_TIMEZONE_PREFIX = {
        id: "schedule-timezone-prefix",
        category: Schedule,
        severity: High,
        enabled: true,
        attack: [],
        summary: "the schedule carries a TZ= or CRON_TZ= prefix instead of spec.timeZone",
        check: Check::Object(check_timezone_prefix),
    }
}

fn check_timezone_prefix(ctx: &Ctx, out: &mut Vec<Finding>) {
    let Some(spec) = cron_spec(ctx) else { return };
    let argo = is_argo(ctx);
    let zone_field = if argo { "timezone" } else { "timeZone" };
    let zone = ctx.doc.entry(spec, zone_field);
    if argo && zone.is_none() {
        return; // Argo applies the prefix itself
    }
    for node in schedule_nodes(ctx) {
        let Some(expr) = ctx.doc.str(node) else {
            continue;
        };
        let Some(r) = crate::schedule::timezone_prefix(expr) else {
            continue;
        };
        let prefix = &expr[r.clone()];
        let (kw, tz) = prefix.split_once('=').unwrap_or((prefix, ""));
        let rest = expr[body_start(expr)..].trim_end();
        let message = if argo {
            format!(
                "schedule {} has a {kw}= prefix and spec.timezone is set: Argo prepends its own and the schedule no longer parses",
                quoted(expr)
            )
        } else {
            format!(
                "schedule {} sets its time zone with a {kw}= prefix, which the API server rejects since Kubernetes 1.25",
                quoted(expr)
            )
        };
        let mut f = ctx.finding(&SCHEDULE_TIMEZONE_PREFIX, node, message);
        if let Some(s) = ctx.inner_span(node, r).filter(|s| !s.is_empty()) {
            f.span = s;
        }
        f.label = format!("{kw}= prefix");
        if let Some((k, v)) = zone {
            let at = ctx.doc.span(k);
            f = f.with_label(
                Span::new(at.start as usize, ctx.doc.span(v).end as usize),
                format!("{zone_field} is set as well"),
            );
        }
        let help = if zone.is_some() {
            format!(
                "remove the prefix and keep \"{rest}\"; the zone belongs in `{zone_field}` only"
            )
        } else {
            format!("use `schedule: \"{rest}\"` with `{zone_field}: {tz}`")
        };
        out.push(f.with_help(help));
    }
}

declare_rule! {
    /// ## What it does
    /// Flags a CronJob `spec.timeZone` (an Argo CronWorkflow's `spec.timezone`) that is not an
    /// IANA time zone name, checked offline against the tz database built into cronguard:
    /// unknown names, wrong case (`europe/paris`), `Local`, and the empty string. It also
    /// flags `timeZone` (capital Z) on a CronWorkflow, which Argo ignores, and, on a
    /// CronWorkflow without `timezone`, the zone of a `CRON_TZ=` prefix (Argo honours the
    /// prefix; a wrong zone makes the schedule fail to parse).
    ///
    /// ## Why is this bad?
    /// The API server rejects an unknown zone, so the CronJob is never created and its runs
    /// never happen. On Argo a wrong zone makes the CronWorkflow fail to schedule, and a
    /// misspelt field name silently runs the workflow in the controller's local time.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   timeZone: Europe/Pari
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   timeZone: Europe/Paris
    /// ```
    ///
    /// ## References
    /// - Kubernetes CronJob docs, "Time zones"; the IANA tz database
    /// - Peers: none. The API server validates against its own embedded tz database, whose
    ///   version can differ from cronguard's by a release.
    pub static TIMEZONE_INVALID = {
        id: "timezone-invalid",
        category: Schedule,
        severity: High,
        enabled: true,
        attack: [],
        summary: "the time zone is not an IANA zone name",
        check: Check::Object(check_timezone_invalid),
    }
}

fn check_timezone_invalid(ctx: &Ctx, out: &mut Vec<Finding>) {
    let Some(spec) = cron_spec(ctx) else { return };
    let argo = is_argo(ctx);
    let field = if argo { "timezone" } else { "timeZone" };
    if argo
        && let Some((k, v)) = ctx.doc.entry(spec, "timeZone")
        && ctx.doc.get(spec, "timezone").is_none()
    {
        let mut f = ctx.finding_on_key(
            &TIMEZONE_INVALID,
            k,
            v,
            "the CronWorkflow sets `timeZone`, which Argo ignores: it reads `timezone`",
        );
        f.label = "ignored: Argo's field is `timezone`".into();
        out.push(f.with_help("rename the field to `timezone` (lowercase z)"));
    }
    let Some(v) = ctx.doc.get(spec, field) else {
        if argo {
            check_prefix_zones(ctx, out);
        }
        return;
    };
    let name = ctx.doc.str(v).unwrap_or_default();
    let Err(why) = crate::schedule::check_timezone(name) else {
        return;
    };
    let message = match name {
        "" => "the time zone is empty".to_string(),
        "Local" => "time zone \"Local\" is not allowed: it depends on the controller's host".into(),
        _ => format!("time zone {} is not an IANA zone name", quoted(name)),
    };
    let mut f = ctx.finding(&TIMEZONE_INVALID, v, message);
    f.label = why;
    let help = match crate::schedule::suggest_timezone(name).filter(|_| name != "Local") {
        Some(s) => format!("use `{field}: {s}`"),
        None => format!(
            "use an IANA zone name such as `Europe/Paris` or `Etc/UTC`, or remove `{field}` for the controller's zone"
        ),
    };
    out.push(f.with_help(help));
}

/// Argo without `spec.timezone` takes the zone from a `CRON_TZ=` prefix: check that zone,
/// with the label on it inside the string.
fn check_prefix_zones(ctx: &Ctx, out: &mut Vec<Finding>) {
    for node in schedule_nodes(ctx) {
        let Some(expr) = ctx.doc.str(node) else {
            continue;
        };
        let Some(r) = crate::schedule::timezone_prefix(expr) else {
            continue;
        };
        let Some(eq) = expr[r.clone()].find('=') else {
            continue;
        };
        let zone_at = r.start + eq + 1..r.end;
        let name = &expr[zone_at.clone()];
        let Err(why) = crate::schedule::check_timezone(name) else {
            continue;
        };
        let mut f = ctx.finding(
            &TIMEZONE_INVALID,
            node,
            format!(
                "time zone {} in schedule {} is not an IANA zone name",
                quoted(name),
                quoted(expr)
            ),
        );
        if let Some(s) = ctx.inner_span(node, zone_at).filter(|s| !s.is_empty()) {
            f.span = s;
        }
        f.label = why;
        let help = match crate::schedule::suggest_timezone(name) {
            Some(s) => format!("use `CRON_TZ={s}`, or `timezone: {s}` without the prefix"),
            None => "use an IANA zone name such as `Europe/Paris` or `Etc/UTC`".to_string(),
        };
        out.push(f.with_help(help));
    }
}

declare_rule! {
    /// ## What it does
    /// Flags a schedule that is valid but can never fire because the day of the month does
    /// not exist in any selected month (`0 0 30 2 *`, `0 0 31 4,6,9,11 *`). Day-of-month and
    /// day-of-week are combined the way robfig/cron combines them (ORed only when both are
    /// restricted), and leap years count: `0 0 29 2 *` runs. The labels point at the
    /// day-of-month and month fields; the message gives the schedule's human reading.
    ///
    /// ## Why is this bad?
    /// The CronJob is accepted and looks scheduled, but no Job is ever created: a backup,
    /// rotation or report that everyone believes runs. A schedule that never fires is also a
    /// way to park a dormant workload in a cluster until someone edits one field.
    ///
    /// ## Example
    /// ```yaml
    /// schedule: "0 0 30 2 *"   # 30 February
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// schedule: "0 0 1 3 *"    # 1 March, or "0 0 28 2 *"
    /// ```
    ///
    /// ## References
    /// - robfig/cron v3 (which the CronJob controller uses) and its day-of-month/day-of-week rule
    /// - Peers: none.
    pub static SCHEDULE_NEVER_RUNS = {
        id: "schedule-never-runs",
        category: Schedule,
        severity: Medium,
        enabled: true,
        attack: [],
        summary: "the schedule is valid but can never fire",
        check: Check::Object(check_never_runs),
    }
}

fn check_never_runs(ctx: &Ctx, out: &mut Vec<Finding>) {
    for p in parsed_schedules(ctx) {
        if !p.schedule.never_runs() {
            continue;
        }
        let mut f = ctx.finding(
            &SCHEDULE_NEVER_RUNS,
            p.node,
            format!(
                "schedule {} ({}) never runs: no selected month has that day",
                quoted(p.expr),
                p.schedule.describe()
            ),
        );
        f.span = p.field_span(ctx, 2);
        f.label = "this day of the month".into();
        f = f.with_label(p.field_span(ctx, 3), "does not occur in these months");
        out.push(f.with_help(
            "pick a day that exists in every selected month (for a month's end, run on day 1 of the next one)",
        ));
    }
}

declare_rule! {
    /// ## What it does
    /// Flags a schedule whose closest two runs are less than the configured minimum interval
    /// apart (`min-schedule-interval-secs`, default 300 seconds: anything more often than every
    /// 5 minutes). The interval is the shortest gap over a full calendar cycle, so
    /// `0,1 * * * *` counts as one minute, and `@every 30s` as thirty seconds. The label is on
    /// the field that makes it frequent (minute, hour, or the `@every` duration).
    ///
    /// ## Why is this bad?
    /// Every run starts a pod: image pulls, scheduling and API load add up, and a
    /// compromised or malicious job running every minute is a cheap way to keep a miner or a
    /// beacon alive (MITRE ATT&CK T1496, Resource Hijacking). Very frequent jobs are usually
    /// better as a Deployment with a loop.
    ///
    /// ## Example
    /// ```yaml
    /// schedule: "* * * * *"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// schedule: "*/15 * * * *"
    /// ```
    ///
    /// ## References
    /// - Peers: none. The gap is computed on wall-clock time; in a `timeZone` with daylight
    ///   saving one gap a year can be an hour shorter.
    pub static SCHEDULE_TOO_FREQUENT = {
        id: "schedule-too-frequent",
        category: Schedule,
        severity: Medium,
        enabled: true,
        attack: ["T1496"],
        summary: "the schedule fires more often than the configured minimum interval",
        check: Check::Object(check_too_frequent),
    }
}

fn check_too_frequent(ctx: &Ctx, out: &mut Vec<Finding>) {
    let min = ctx.settings.min_schedule_interval_secs;
    for p in parsed_schedules(ctx) {
        let Some(gap) = p.schedule.min_interval_secs() else {
            continue;
        };
        if gap >= min {
            continue;
        }
        let field = match &p.schedule {
            Schedule::Standard { minute, .. } if minute.count_ones() > 1 => 0,
            _ => 1,
        };
        let per_day = p.schedule.runs_per_day();
        let mut f = ctx.finding(
            &SCHEDULE_TOO_FREQUENT,
            p.node,
            format!(
                "schedule {} ({}) has runs {} apart, closer than the {} minimum (about {per_day:.0} runs a day)",
                quoted(p.expr),
                p.schedule.describe(),
                human_secs(gap),
                human_secs(min)
            ),
        );
        f.span = p.field_span(ctx, field);
        f.label = format!("runs {} apart", human_secs(gap));
        out.push(f.with_help(format!(
            "space the runs at least {} apart, or run a long-lived Deployment instead",
            human_secs(min)
        )));
    }
}

/// Without a deadline, schedules this frequent are reported: a hung run overlaps the next.
const NO_DEADLINE_MAX_GAP_SECS: u64 = 3600;

declare_rule! {
    /// ## What it does
    /// Flags a CronJob (or Argo CronWorkflow) whose `concurrencyPolicy` is `Allow` (the
    /// default when unset) when its runs can overlap:
    /// - the job has an `activeDeadlineSeconds` (a CronWorkflow: `workflowSpec.activeDeadlineSeconds`)
    ///   longer than the shortest gap between two runs, or
    /// - it has no deadline at all and the schedule fires at least hourly. Less frequent
    ///   schedules without a deadline are left to `job-no-active-deadline`, which reports the
    ///   missing deadline itself: a daily job that hangs piles up one pod a day, not dozens.
    ///
    /// ## Why is this bad?
    /// With `Allow`, the controller starts the next run while the previous one is still
    /// running: a slow or hung job piles up pods, and two runs of a backup or migration work
    /// on the same data at once. A job that never finishes on purpose (a miner, a beacon)
    /// multiplies itself on every tick (MITRE ATT&CK T1496, Resource Hijacking).
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   schedule: "*/5 * * * *"
    ///   jobTemplate:
    ///     spec:
    ///       activeDeadlineSeconds: 3600
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   schedule: "*/5 * * * *"
    ///   concurrencyPolicy: Forbid   # or Replace
    ///   jobTemplate:
    ///     spec:
    ///       activeDeadlineSeconds: 240
    /// ```
    ///
    /// ## References
    /// - Kubernetes CronJob docs, "Concurrency policy"
    /// - Peers: none.
    pub static CRONJOB_CONCURRENCY_ALLOW = {
        id: "cronjob-concurrency-allow",
        category: Schedule,
        severity: Low,
        enabled: true,
        attack: ["T1496"],
        summary: "concurrencyPolicy Allow lets runs of the schedule overlap",
        check: Check::Object(check_concurrency),
    }
}

fn check_concurrency(ctx: &Ctx, out: &mut Vec<Finding>) {
    let Some(spec) = cron_spec(ctx) else { return };
    let policy = ctx.doc.entry(spec, "concurrencyPolicy");
    if let Some((_, v)) = policy
        && ctx.doc.str(v) != Some("Allow")
    {
        return; // Forbid, Replace (or a value the schema rules report)
    }
    let parsed = parsed_schedules(ctx);
    let Some((gap, p)) = parsed
        .iter()
        .filter_map(|p| Some((p.schedule.min_interval_secs()?, p)))
        .min_by_key(|(g, _)| *g)
    else {
        return;
    };
    let deadline_at = if is_argo(ctx) {
        ctx.doc.get(spec, "workflowSpec")
    } else {
        ctx.workload.and_then(|w| w.job_spec)
    };
    let deadline = deadline_at.and_then(|js| ctx.doc.entry(js, "activeDeadlineSeconds"));
    let secs = deadline.and_then(|(_, v)| ctx.doc.as_i64(v));
    let sched = format!(
        "{} ({}) starts runs {} apart",
        quoted(p.expr),
        p.schedule.describe(),
        human_secs(gap)
    );
    let message = match secs {
        Some(d) if d > 0 && u64::try_from(d).is_ok_and(|d| d > gap) => format!(
            "runs can overlap: {sched}, a run may last {}, and concurrencyPolicy is Allow",
            human_secs(u64::try_from(d).unwrap_or(u64::MAX))
        ),
        Some(_) => return,
        None if deadline.is_some() => return, // not a number: the schema rules report it
        None if gap <= NO_DEADLINE_MAX_GAP_SECS => format!(
            "runs can pile up: {sched}, runs have no deadline, and concurrencyPolicy is Allow"
        ),
        None => return,
    };
    let mut f = if let Some((k, v)) = policy {
        ctx.finding_on_key(&CRONJOB_CONCURRENCY_ALLOW, k, v, message)
    } else {
        let key = ctx
            .doc
            .key_of(p.node)
            .filter(|_| ctx.doc.get(spec, "schedule") == Some(p.node))
            .unwrap_or(p.node);
        let mut f = ctx.finding(&CRONJOB_CONCURRENCY_ALLOW, key, message);
        f.value = "Allow".into();
        f
    };
    f.label = if policy.is_some() {
        "Allow starts a run while the last one is still running".into()
    } else {
        "concurrencyPolicy unset: Allow".into()
    };
    if let Some((k, v)) = deadline {
        let at = ctx.doc.span(k);
        f = f.with_label(
            Span::new(at.start as usize, ctx.doc.span(v).end as usize),
            "a run may last this long",
        );
    }
    out.push(f.with_help(format!(
        "set `concurrencyPolicy: Forbid` (or Replace), or an activeDeadlineSeconds of at most {gap}"
    )));
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::run;

    #[test]
    fn invalid_field_is_labelled() {
        let src = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: \"0 0 * * 7\"\n  jobTemplate: {spec: {template: {spec: {containers: [{name: a, image: x}]}}}}\n";
        let f = run("schedule-invalid", src);
        assert_eq!(f.len(), 1);
        assert_eq!(&src[f[0].span.range()], "7");
        let ok = src.replace("* * 7", "* * 0");
        assert!(run("schedule-invalid", &ok).is_empty());
    }

    const CJ: &str = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: \"SCHED\"\n  jobTemplate: {spec: {template: {spec: {containers: [{name: a, image: x}]}}}}\n";

    #[test]
    fn labels_land_on_the_responsible_field() {
        let src = CJ.replace("SCHED", "0,1 3 * * *");
        let f = run("schedule-too-frequent", &src);
        assert_eq!(f.len(), 1);
        assert_eq!(&src[f[0].span.range()], "0,1");
        let src = CJ.replace("SCHED", "@every 45s");
        let f = run("schedule-too-frequent", &src);
        assert_eq!(&src[f[0].span.range()], "45s");
        let src = CJ.replace("SCHED", "CRON_TZ=UTC 0 0 30 2 *");
        let f = run("schedule-never-runs", &src);
        assert_eq!(f.len(), 1);
        assert_eq!(&src[f[0].span.range()], "30");
        assert_eq!(&src[f[0].labels[0].span.range()], "2");
        let f = run("schedule-timezone-prefix", &src);
        assert_eq!(&src[f[0].span.range()], "CRON_TZ=UTC");
        assert!(f[0].help.as_deref().unwrap().contains("timeZone: UTC"));
    }

    #[test]
    fn concurrency_without_deadline_only_for_frequent_schedules() {
        let hourly = CJ.replace("SCHED", "0 * * * *");
        assert_eq!(run("cronjob-concurrency-allow", &hourly).len(), 1);
        let daily = CJ.replace("SCHED", "0 4 * * *");
        assert!(run("cronjob-concurrency-allow", &daily).is_empty());
        let deadline = daily.replace(
            "{spec: {template",
            "{spec: {activeDeadlineSeconds: 172800, template",
        );
        assert_eq!(run("cronjob-concurrency-allow", &deadline).len(), 1);
    }

    #[test]
    fn huge_time_zone_is_reported_without_a_slow_suggestion() {
        let src = CJ.replace("SCHED", "0 3 * * *").replace(
            "  jobTemplate",
            &format!("  timeZone: {}\n  jobTemplate", "x".repeat(100_000)),
        );
        let f = run("timezone-invalid", &src);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.len() < 200, "{}", f[0].message.len());
        assert!(!f[0].help.as_deref().unwrap().contains("xxxx"));
    }

    #[test]
    fn argo_prefix_zone_is_checked_when_timezone_is_unset() {
        let src = "apiVersion: argoproj.io/v1alpha1\nkind: CronWorkflow\nmetadata: {name: w}\nspec:\n  schedule: \"CRON_TZ=Asia/Tokio 0 9 * * *\"\n  workflowSpec:\n    templates:\n    - name: main\n      container: {image: alpine}\n";
        let f = run("timezone-invalid", src);
        assert_eq!(f.len(), 1);
        assert_eq!(&src[f[0].span.range()], "Asia/Tokio");
        assert!(f[0].help.as_deref().unwrap().contains("Asia/Tokyo"));
        assert!(run("schedule-timezone-prefix", src).is_empty());
    }
}

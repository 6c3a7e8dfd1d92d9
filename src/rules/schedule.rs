//! schedule: the CronJob's own definition.

use super::{Check, Ctx, Rule};
use crate::declare_rule;
use crate::finding::Finding;
use crate::k8s::WorkloadKind;
use crate::yaml::NodeId;

pub static RULES: &[&Rule] = &[&SCHEDULE_INVALID];

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
        let rest_at = crate::schedule::timezone_prefix(expr).map_or(0, |r| {
            let mut e = r.end;
            while expr.as_bytes().get(e).is_some_and(u8::is_ascii_whitespace) {
                e += 1;
            }
            e
        });
        let Err(e) = crate::schedule::parse(&expr[rest_at..]) else {
            continue;
        };
        let mut f = ctx.finding(
            &SCHEDULE_INVALID,
            node,
            format!("schedule {expr:?} is invalid: {}", e.message),
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
}

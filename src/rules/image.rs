//! image: where the code a workload runs comes from.

use super::{Check, Ctx, Rule};
use crate::declare_rule;
use crate::finding::Finding;
use crate::yaml::NodeId;

pub static RULES: &[&Rule] = &[
    &IMAGE_LATEST_TAG,
    &IMAGE_NOT_PINNED,
    &IMAGE_REGISTRY_NOT_ALLOWED,
    &IMAGE_REGISTRY_IP,
];

/// Every container image of the workload: (container, image value node, image text).
pub fn images<'a>(
    ctx: &'a Ctx,
) -> impl Iterator<Item = (&'a crate::k8s::ContainerRef, NodeId, &'a str)> + 'a {
    ctx.containers().filter_map(move |(_, c)| {
        let node = ctx.doc.get(c.node, "image")?;
        Some((c, node, ctx.doc.str(node)?))
    })
}

declare_rule! {
    /// ## What it does
    /// Flags container images with no tag or the `latest` tag, and no digest.
    ///
    /// ## Why is this bad?
    /// A mutable tag is resolved at every pull: each run of a CronJob may execute different
    /// code than the one reviewed. Whoever can push to the repository (or poison a mirror)
    /// changes what the cluster runs on its next schedule (MITRE ATT&CK T1525, Implant
    /// Internal Image).
    ///
    /// ## Example
    /// ```yaml
    /// image: alpine
    /// image: ghcr.io/acme/backup:latest
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// image: ghcr.io/acme/backup:1.4.2@sha256:0123…
    /// ```
    ///
    /// ## References
    /// - Peers: Checkov CKV_K8S_14, Trivy KSV013, kube-linter latest-tag. Like Checkov,
    ///   cronguard accepts `:latest` when a digest pins it (the digest is what is pulled).
    pub static IMAGE_LATEST_TAG = {
        id: "image-latest-tag",
        category: Image,
        severity: Medium,
        enabled: true,
        attack: ["T1525"],
        summary: "an image uses no tag or the latest tag, without a digest",
        check: Check::Object(check_latest),
    }
}

fn check_latest(ctx: &Ctx, out: &mut Vec<Finding>) {
    for (c, node, image) in images(ctx) {
        let Ok(r) = crate::image::parse(image) else {
            continue;
        };
        if !r.is_latest() {
            continue;
        }
        let mut f = ctx.finding(
            &IMAGE_LATEST_TAG,
            node,
            match &r.tag {
                Some(_) => format!(
                    "{} uses the mutable tag `latest` ({image})",
                    ctx.container_name(c)
                ),
                None => format!(
                    "{} uses an image without a tag ({image}, that is `latest`)",
                    ctx.container_name(c)
                ),
            },
        );
        // Point at the tag when there is one.
        if let Some(tr) = &r.tag_range {
            let base = ctx.doc.span(node);
            let raw = &ctx.src[base.range()];
            if let Some(off) = raw.find(image) {
                f.span = base.slice(off + tr.start..off + tr.end);
            }
        }
        f.label = "mutable: each run may pull different code".into();
        out.push(f.with_help("pin the image to a version tag and a digest: name:1.2.3@sha256:…"));
    }
}

/// The span of a byte range of the image string inside its YAML value.
fn image_span(
    ctx: &Ctx,
    node: NodeId,
    image: &str,
    r: &std::ops::Range<usize>,
) -> Option<crate::yaml::Span> {
    let base = ctx.doc.span(node);
    let raw = &ctx.src[base.range()];
    raw.find(image)
        .map(|off| base.slice(off + r.start..off + r.end))
}

declare_rule! {
    /// ## What it does
    /// Flags container images that are not pinned by digest (`@sha256:...`).
    ///
    /// ## Why is this bad?
    /// Any tag can be moved. A scheduled job re-pulls on new nodes and after eviction, so a
    /// re-pushed tag changes what runs without a change in git (MITRE ATT&CK T1525).
    ///
    /// ## Example
    /// ```yaml
    /// image: ghcr.io/acme/backup:1.4.2
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// image: ghcr.io/acme/backup:1.4.2@sha256:0123…
    /// ```
    ///
    /// ## References
    /// - Peers: Checkov CKV_K8S_43. Images already reported by `image-latest-tag` are reported
    ///   there only.
    pub static IMAGE_NOT_PINNED = {
        id: "image-not-pinned",
        category: Image,
        severity: Low,
        enabled: true,
        attack: ["T1525"],
        summary: "an image is not pinned by digest",
        check: Check::Object(check_not_pinned),
    }
}

fn check_not_pinned(ctx: &Ctx, out: &mut Vec<Finding>) {
    for (c, node, image) in images(ctx) {
        let Ok(r) = crate::image::parse(image) else {
            continue;
        };
        if r.is_pinned() || r.is_latest() {
            continue;
        }
        let mut f = ctx.finding(
            &IMAGE_NOT_PINNED,
            node,
            format!("{} uses {image} without a digest", ctx.container_name(c)),
        );
        f.label = "a tag can be re-pushed".into();
        out.push(f.with_help("append the digest: name:tag@sha256:… (crane digest / docker buildx imagetools inspect)"));
    }
}

declare_rule! {
    /// ## What it does
    /// Flags images from a registry outside the configured allowlist (`allowed-registries` in
    /// `.cronguard.yaml`; entries like `ghcr.io/acme`, `registry.example.com:5000`,
    /// `*.dkr.ecr.eu-west-1.amazonaws.com`). An image without a registry counts as `docker.io`.
    /// With no allowlist configured the rule has nothing to check.
    ///
    /// ## Why is this bad?
    /// A job that pulls from an unexpected registry runs code nobody vetted; a malicious
    /// change often swaps only the registry host (MITRE ATT&CK T1525, T1610).
    ///
    /// ## Example
    /// ```yaml
    /// image: docker.io/someone/tool:1.0   # allowlist: [ghcr.io/acme]
    /// ```
    ///
    /// ## Use instead
    /// Mirror the image into an allowed registry.
    ///
    /// ## References
    /// - Peers: Kubescape C-0001/C-0078, Trivy KSV125. cronguard matches on registry and path
    ///   boundaries (`ghcr.io/acme` does not allow `ghcr.io/acme-evil`).
    pub static IMAGE_REGISTRY_NOT_ALLOWED = {
        id: "image-registry-not-allowed",
        category: Image,
        severity: High,
        enabled: true,
        attack: ["T1525", "T1610"],
        summary: "an image comes from a registry outside the allowlist",
        check: Check::Object(check_registry_allowed),
    }
}

fn check_registry_allowed(ctx: &Ctx, out: &mut Vec<Finding>) {
    let allow = &ctx.settings.allowed_registries;
    if allow.is_empty() {
        return;
    }
    for (c, node, image) in images(ctx) {
        let Ok(r) = crate::image::parse(image) else {
            continue;
        };
        if crate::image::registry_allowed(&r, allow) {
            continue;
        }
        let mut f = ctx.finding(
            &IMAGE_REGISTRY_NOT_ALLOWED,
            node,
            format!(
                "{} pulls from {}, which is not an allowed registry",
                ctx.container_name(c),
                r.registry
            ),
        );
        f.value = format!("{}/{}", r.registry, r.repository);
        if let Some(s) = r
            .registry_range
            .as_ref()
            .and_then(|rr| image_span(ctx, node, image, rr))
        {
            f.span = s;
        }
        f.label = format!("not in allowed-registries ({})", allow.join(", "));
        out.push(f.with_help(
            "use an image from an allowed registry, or add the registry to allowed-registries",
        ));
    }
}

declare_rule! {
    /// ## What it does
    /// Flags images whose registry is a literal IP address (also in decimal or hex form), an
    /// onion service, or a dynamic-DNS or tunnelling host (duckdns, no-ip, ngrok, ...).
    ///
    /// ## Why is this bad?
    /// Legitimate registries have stable names and TLS certificates; throwaway hosts are how
    /// attackers serve payloads that disappear after use (MITRE ATT&CK T1105, Ingress Tool
    /// Transfer).
    ///
    /// ## Example
    /// ```yaml
    /// image: 203.0.113.7:5000/updater:1
    /// ```
    ///
    /// ## Use instead
    /// Pull from your organisation's registry by name.
    ///
    /// ## References
    /// - Peers: none.
    pub static IMAGE_REGISTRY_IP = {
        id: "image-registry-ip",
        category: Image,
        severity: High,
        enabled: true,
        attack: ["T1105"],
        summary: "an image comes from an IP address or throwaway host",
        check: Check::Object(check_registry_ip),
    }
}

fn check_registry_ip(ctx: &Ctx, out: &mut Vec<Finding>) {
    for (c, node, image) in images(ctx) {
        let Ok(r) = crate::image::parse(image) else {
            continue;
        };
        let why = if r.registry_is_ip() {
            "an IP address".to_string()
        } else if let Some(reason) = r.registry_is_suspicious() {
            reason.to_string()
        } else {
            continue;
        };
        let mut f = ctx.finding(
            &IMAGE_REGISTRY_IP,
            node,
            format!(
                "{} pulls from {} ({why})",
                ctx.container_name(c),
                r.registry
            ),
        );
        f.value.clone_from(&r.registry);
        if let Some(s) = r
            .registry_range
            .as_ref()
            .and_then(|rr| image_span(ctx, node, image, rr))
        {
            f.span = s;
        }
        f.label = why;
        out.push(f.with_help("pull from a named registry you control"));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::run;

    #[test]
    fn latest_untagged_and_pinned() {
        let src = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: alpine}\n  - {name: b, image: 'alpine:latest'}\n  - {name: c, image: alpine:3.20}\n  - {name: d, image: 'alpine:latest@sha256:0000000000000000000000000000000000000000000000000000000000000000'}\n";
        let f = run("image-latest-tag", src);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(&src[f[1].span.range()], "latest");
    }
}

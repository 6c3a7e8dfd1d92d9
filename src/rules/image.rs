//! image: where the code a workload runs comes from.

use super::{Check, Ctx, Rule};
use crate::declare_rule;
use crate::finding::Finding;
use crate::yaml::NodeId;

pub static RULES: &[&Rule] = &[&IMAGE_LATEST_TAG];

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

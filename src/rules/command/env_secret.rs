//! `env-secret-literal`: credentials written as env values. The secret is never printed:
//! messages, labels and the fingerprint value name only its kind, and the human report masks
//! the value in the source snippet (`Finding::secret_span`).

use super::super::indicators as ind;
use super::super::{Check, Ctx};
use crate::declare_rule;
use crate::finding::Finding;

declare_rule! {
    /// ## What it does
    /// Flags container `env` entries whose literal `value` looks like a credential: AWS
    /// access keys, GitHub, GitLab, Slack, Stripe, Google, npm and PyPI tokens, Slack
    /// webhooks, PEM private keys, JWTs, URLs with a password, and high-entropy values of
    /// variables named like secrets (`*_PASSWORD`, `*_TOKEN`, `*_SECRET`, ...). The value is
    /// never printed: the report masks it.
    ///
    /// ## Why is this bad?
    /// Manifests live in Git, in CI logs and in every `kubectl get -o yaml`; a credential in
    /// them is readable by anyone who can read those (MITRE ATT&CK T1552.001, Unsecured
    /// Credentials: Credentials In Files). Rotating it means rewriting history.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    /// - name: AWS_ACCESS_KEY_ID
    ///   value: AKIA................
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// env:
    /// - name: AWS_ACCESS_KEY_ID
    ///   valueFrom:
    ///     secretKeyRef: {name: aws, key: access-key-id}
    /// ```
    /// Better still, use workload identity and no static keys at all.
    ///
    /// ## References
    /// - Peers: Checkov CKV_K8S_35 (prefers secret files to env), Kubescape C-0012
    ///   (name-based), kube-linter env-var-secret (name-based). cronguard checks the value's
    ///   shape too, so `DB_PASSWORD_FILE=/run/secrets/db` is not flagged, and it redacts.
    pub static ENV_SECRET_LITERAL = {
        id: "env-secret-literal",
        category: Command,
        severity: High,
        enabled: true,
        attack: ["T1552.001"],
        summary: "an env value is a literal credential",
        check: Check::Object(check),
    }
}

fn shannon(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    #[allow(clippy::cast_precision_loss)] // lengths of env values are small
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|&c| {
            #[allow(clippy::cast_precision_loss)]
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

fn token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b'+' | b'=')
}

/// What kind of credential `value` (of variable `name`) looks like.
pub fn classify(name: &str, value: &str, extra: &[String]) -> Option<String> {
    let v = value.trim();
    if v.contains("-----BEGIN") && v.contains("PRIVATE KEY") {
        return Some("a private key".into());
    }
    for (prefix, what, min) in ind::SECRET_PREFIXES {
        if let Some(rest) = v.strip_prefix(prefix) {
            let tail = rest.bytes().take_while(|b| token_char(*b)).count();
            if tail >= *min {
                return Some((*what).to_string());
            }
        }
    }
    for p in extra {
        if !p.is_empty() && v.starts_with(p.as_str()) && v.len() > p.len() + 8 {
            return Some("a credential".into());
        }
    }
    let parts: Vec<&str> = v.split('.').collect();
    if parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts[1].starts_with("eyJ")
        && parts
            .iter()
            .all(|p| p.len() >= 4 && p.bytes().all(token_char))
    {
        return Some("a JSON Web Token".into());
    }
    if let Some((scheme, rest)) = v.split_once("://")
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+')
        && let Some((userinfo, _)) = rest.split_once('@')
        && !userinfo.contains('/')
        && let Some((_, pass)) = userinfo.split_once(':')
        && pass.len() >= 4
        && !pass.starts_with('$')
    {
        return Some("a URL with a password".into());
    }
    let lname = name.to_ascii_lowercase();
    let secretish = ind::SECRET_NAME_HINTS.iter().any(|h| lname.contains(h))
        && ![
            "_file",
            "_path",
            "_dir",
            "_url",
            "_host",
            "_user",
            "_username",
            "_name",
            "_env",
            "_enabled",
        ]
        .iter()
        .any(|s| lname.ends_with(s));
    let placeholder = v.starts_with('$')
        || v.starts_with('<')
        || v.starts_with('/')
        || v.contains("://")
        || v.contains(' ')
        || [
            "changeme",
            "change-me",
            "example",
            "placeholder",
            "redacted",
            "xxxx",
            "****",
        ]
        .iter()
        .any(|p| v.to_ascii_lowercase().contains(p));
    if secretish && !placeholder && v.len() >= 12 && shannon(v) >= 3.0 {
        return Some("a high-entropy secret".into());
    }
    None
}

fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let extra = &ctx.settings.command_indicators.secret_prefixes;
    for (_, c) in ctx.containers() {
        let Some(list) = ctx.doc.get(c.node, "env") else {
            continue;
        };
        for &e in ctx.doc.seq(list) {
            let Some(name) = ctx.doc.get_str(e, "name") else {
                continue;
            };
            let Some((_, vnode)) = ctx.doc.entry(e, "value") else {
                continue;
            };
            let Some(value) = ctx.doc.str(vnode) else {
                continue;
            };
            let Some(kind) = classify(name, value, extra) else {
                continue;
            };
            let mut f = ctx.finding_at(
                &ENV_SECRET_LITERAL,
                ctx.doc.span(vnode),
                ctx.doc.locator(vnode),
                format!("{name}: {kind}"),
                format!(
                    "env `{name}` of {} holds {kind} in clear text",
                    ctx.container_name(c)
                ),
            );
            f.label = format!("{kind} (redacted, {} characters)", value.chars().count());
            out.push(f.with_help(
                "move the value into a Secret and reference it with `valueFrom.secretKeyRef`; rotate the exposed credential",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::classify;

    #[test]
    fn shapes_of_credentials() {
        let aws = format!("AKIA{}", "IOSFODNN7EXAMPLQ");
        assert!(classify("X", &aws, &[]).is_some());
        let gh = format!("ghp_{}", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8");
        assert_eq!(
            classify("T", &gh, &[]).as_deref(),
            Some("a GitHub personal access token")
        );
        assert!(classify("DB_URL", "postgres://app:s3cr3tpw@db:5432/x", &[]).is_some());
        assert!(classify("DB_URL", "postgres://db:5432/x", &[]).is_none());
        assert!(classify("API_TOKEN", "9f8e7d6c5b4a3f2e1d0c9b8a", &[]).is_some());
        assert!(classify("API_TOKEN_FILE", "/run/secrets/token", &[]).is_none());
        assert!(classify("LOG_LEVEL", "9f8e7d6c5b4a3f2e1d0c9b8a", &[]).is_none());
        assert!(classify("PASSWORD", "changeme", &[]).is_none());
        assert!(classify("X", "-----BEGIN RSA PRIVATE KEY-----\nabc", &[]).is_some());
        assert!(classify("X", "corp_0123456789abc", &["corp_".into()]).is_some());
    }
}

//! Container image references, parsed and normalised the way Docker and
//! containerd do it (the `distribution/reference` grammar).
//!
//! ```text
//! reference  := name [ ":" tag ] [ "@" digest ]
//! name       := [ domain "/" ] path-component [ "/" path-component ]*
//! domain     := host [ ":" port ]
//! host       := domain-name | "[" ipv6 "]"
//! domain-name:= component [ "." component ]*   component = [A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?
//! path-comp  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//! tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//! digest     := algorithm ":" hex
//! ```
//!
//! The first path component is a registry only when it contains `.` or `:`,
//! is `localhost`, or contains an uppercase letter (Docker's rule: an
//! uppercase first component cannot be a repository, so it is taken as a
//! host). `index.docker.io` and `registry-1.docker.io` normalise to
//! `docker.io`, and single-component Docker Hub names get `library/`.
//!
//! Nothing here panics: input is first checked to be ASCII from a fixed
//! alphabet, so every later byte slice falls on a character boundary.

use std::fmt;
use std::net::Ipv6Addr;
use std::ops::Range;

/// The registry an image without an explicit registry is pulled from.
pub const DEFAULT_REGISTRY: &str = "docker.io";

/// Aliases of Docker Hub that normalise to [`DEFAULT_REGISTRY`].
const DOCKER_HUB_ALIASES: &[&str] = &["index.docker.io", "registry-1.docker.io"];

/// `NameTotalLengthMax` in distribution/reference.
const NAME_TOTAL_LENGTH_MAX: usize = 255;
/// A tag is at most 128 characters.
const TAG_LENGTH_MAX: usize = 128;
/// Digest algorithms whose encoded length is fixed (lowercase hex), as
/// registered in go-digest / the OCI image spec.
const KNOWN_DIGESTS: &[(&str, usize)] = &[("sha256", 64), ("sha384", 96), ("sha512", 128)];
/// Minimum hex length for a digest of an unregistered algorithm.
const UNKNOWN_DIGEST_MIN_HEX: usize = 32;

/// A parsed, normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Lowercase registry, including a port if one was given;
    /// `docker.io` when implicit or written as a Docker Hub alias.
    pub registry: String,
    /// Whether the registry appeared in the input.
    pub registry_explicit: bool,
    /// Byte range of the registry (host and port) in the input, when explicit.
    pub registry_range: Option<Range<usize>>,
    /// Repository path, with `library/` added for single-component Docker Hub names.
    pub repository: String,
    /// Tag without the `:`.
    pub tag: Option<String>,
    /// Byte range of the tag (without the `:`) in the input.
    pub tag_range: Option<Range<usize>>,
    /// Digest as `algorithm:hex`, without the `@`.
    pub digest: Option<String>,
    /// Byte range of the digest (without the `@`) in the input.
    pub digest_range: Option<Range<usize>>,
}

/// Why a reference did not parse. `range` is a byte range of the input that
/// always falls on character boundaries; `message` never quotes the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageError {
    pub range: Range<usize>,
    pub message: String,
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (bytes {}..{})",
            self.message, self.range.start, self.range.end
        )
    }
}

impl std::error::Error for ImageError {}

fn err(range: Range<usize>, message: impl Into<String>) -> ImageError {
    ImageError {
        range,
        message: message.into(),
    }
}

/// Parse and normalise an image reference such as `nginx`,
/// `ghcr.io/org/app:1.2@sha256:...` or `localhost:5000/x`.
///
/// # Errors
/// Returns an [`ImageError`] with the offending byte range for an empty
/// reference, characters outside the grammar (whitespace, non-ASCII,
/// controls...), an uppercase repository, an empty or invalid tag, an
/// invalid digest, an invalid registry host or port, a name longer than 255
/// characters, or a bare 64-hex string (ambiguous with an image ID).
pub fn parse(image: &str) -> Result<ImageRef, ImageError> {
    if image.is_empty() {
        return Err(err(0..0, "empty image reference"));
    }
    for (i, c) in image.char_indices() {
        let ok =
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':' | '@' | '[' | ']');
        if !ok {
            let message = if c.is_whitespace() {
                "image reference must not contain whitespace"
            } else if c.is_control() {
                "image reference must not contain control characters"
            } else if !c.is_ascii() {
                "image reference must contain only ascii characters"
            } else {
                "invalid character in image reference"
            };
            return Err(err(i..i + c.len_utf8(), message));
        }
    }
    // From here on the input is ASCII: any byte index is a char boundary.
    if image.len() == 64
        && image
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(err(
            0..image.len(),
            "cannot specify 64-byte hexadecimal strings as a repository name",
        ));
    }

    // Digest: everything after the first '@' ('@' is not allowed elsewhere).
    let (left_end, digest_range) = match image.find('@') {
        Some(at) => (at, Some(at + 1..image.len())),
        None => (image.len(), None),
    };
    if let Some(r) = &digest_range {
        let d = &image[r.clone()];
        if d.is_empty() {
            return Err(err(left_end..left_end + 1, "digest is empty"));
        }
        validate_digest(d).map_err(|m| err(r.clone(), m))?;
    }

    // Tag: the first ':' after the last '/' of the name part.
    let left = &image[..left_end];
    let last_component = left.rfind('/').map_or(0, |i| i + 1);
    let (name_end, tag_range) = match left[last_component..].find(':') {
        Some(c) => {
            let colon = last_component + c;
            (colon, Some(colon + 1..left_end))
        }
        None => (left_end, None),
    };
    if let Some(r) = &tag_range {
        if r.is_empty() {
            return Err(err(name_end..name_end + 1, "tag is empty"));
        }
        validate_tag(&image[r.clone()]).map_err(|m| err(r.clone(), m))?;
    }

    let name = &image[..name_end];
    if name.is_empty() {
        return Err(err(0..0, "repository name is empty"));
    }

    // Registry: the first component, when it looks like a host.
    let (registry_range, remote_start) = match name.find('/') {
        Some(i) if is_domain_like(&name[..i]) => (Some(0..i), i + 1),
        _ => (None, 0),
    };
    if let Some(r) = &registry_range {
        validate_domain(&name[r.clone()], r.start)?;
    }

    let remote = &name[remote_start..];
    validate_remote(remote, remote_start)?;
    if name.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(err(
            0..name_end,
            "repository name must not be more than 255 characters",
        ));
    }

    let registry = match &registry_range {
        Some(r) => normalise_registry(&image[r.clone()]),
        None => DEFAULT_REGISTRY.to_string(),
    };
    let repository = if registry == DEFAULT_REGISTRY && !remote.contains('/') {
        format!("library/{remote}")
    } else {
        remote.to_string()
    };

    Ok(ImageRef {
        registry,
        registry_explicit: registry_range.is_some(),
        registry_range,
        repository,
        tag: tag_range.as_ref().map(|r| image[r.clone()].to_string()),
        tag_range,
        digest: digest_range.as_ref().map(|r| image[r.clone()].to_string()),
        digest_range,
    })
}

/// Check the repository path (`org/app`), `remote_start` being its offset.
fn validate_remote(remote: &str, remote_start: usize) -> Result<(), ImageError> {
    let remote_range = remote_start..remote_start + remote.len();
    if remote.is_empty() {
        return Err(err(remote_range, "repository name is empty"));
    }
    if remote.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(err(remote_range, "repository name must be lowercase"));
    }
    let mut start = remote_start;
    for comp in remote.split('/') {
        let range = start..start + comp.len();
        if comp.is_empty() {
            return Err(err(range, "repository path component is empty"));
        }
        if !is_path_component(comp) {
            return Err(err(range, "invalid repository path component"));
        }
        start += comp.len() + 1;
    }
    Ok(())
}

fn normalise_registry(raw: &str) -> String {
    let lower = raw.to_ascii_lowercase();
    if DOCKER_HUB_ALIASES.contains(&lower.as_str()) {
        DEFAULT_REGISTRY.to_string()
    } else {
        lower
    }
}

/// Docker's `splitDockerDomain` rule for the first path component.
fn is_domain_like(first: &str) -> bool {
    first.contains(['.', ':'])
        || first == "localhost"
        || first.bytes().any(|b| b.is_ascii_uppercase())
}

fn validate_domain(domain: &str, offset: usize) -> Result<(), ImageError> {
    let whole = offset..offset + domain.len();
    let (host_len, port) = if let Some(rest) = domain.strip_prefix('[') {
        let Some(close) = rest.find(']') else {
            return Err(err(whole, "unterminated ipv6 address in registry"));
        };
        let inner = &rest[..close];
        if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return Err(err(
                offset..offset + close + 2,
                "invalid ipv6 address in registry",
            ));
        }
        let after = &rest[close + 1..];
        match after.strip_prefix(':') {
            Some(p) => (close + 2, Some(p)),
            None if after.is_empty() => (close + 2, None),
            None => return Err(err(whole, "invalid registry host")),
        }
    } else {
        match domain.split_once(':') {
            Some((h, p)) => (h.len(), Some(p)),
            None => (domain.len(), None),
        }
    };
    let host = &domain[..host_len];
    if !host.starts_with('[') {
        if host.is_empty() {
            return Err(err(whole, "registry host is empty"));
        }
        let valid = host.split('.').all(|c| {
            !c.is_empty()
                && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !c.starts_with('-')
                && !c.ends_with('-')
        });
        if !valid {
            return Err(err(offset..offset + host_len, "invalid registry host"));
        }
    }
    if let Some(p) = port {
        let range = offset + host_len + 1..offset + domain.len();
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(range, "registry port must be a number"));
        }
    }
    Ok(())
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`
fn is_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if !b.first().is_some_and(|&x| alnum(x)) || !b.last().is_some_and(|&x| alnum(x)) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &b[start..i];
        let ok = matches!(sep, b"." | b"_" | b"__") || sep.iter().all(|&x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn validate_tag(tag: &str) -> Result<(), &'static str> {
    if tag.len() > TAG_LENGTH_MAX {
        return Err("tag must not be more than 128 characters");
    }
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut bytes = tag.bytes();
    if !bytes.next().is_some_and(word) {
        return Err("tag must start with a letter, digit or underscore");
    }
    if !bytes.all(|b| word(b) || b == b'.' || b == b'-') {
        return Err("tag contains an invalid character");
    }
    Ok(())
}

fn validate_digest(d: &str) -> Result<(), String> {
    let Some((alg, hex)) = d.split_once(':') else {
        return Err("digest must be algorithm:hex".to_string());
    };
    // [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*
    let alg_ok = alg.split(['-', '_', '+', '.']).all(|c| {
        c.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && c.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    if !alg_ok {
        return Err("invalid digest algorithm".to_string());
    }
    if let Some(&(name, len)) = KNOWN_DIGESTS.iter().find(|(n, _)| *n == alg) {
        if hex.len() != len || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(format!(
                "{name} digest must be {len} lowercase hex characters"
            ));
        }
    } else if hex.len() < UNKNOWN_DIGEST_MIN_HEX || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("digest must be at least 32 hex characters".to_string());
    }
    Ok(())
}

/// A host whose name marks it as worth a closer look, with the reason.
/// An entry matches the host itself or any subdomain of it; an entry ending
/// in `.*` matches that label followed by a TLD or a country second-level
/// suffix such as `co.uk` (`no-ip.*` covers `no-ip.org`, `no-ip.co.uk`,
/// but not `no-ip.example.com`).
///
/// The list covers anonymity networks, free dynamic-DNS providers (a home
/// machine or throwaway host behind a name), tunnelling services (a laptop
/// exposed to the internet), and wildcard DNS that resolves to an address
/// embedded in the name (an IP address in disguise).
pub const SUSPICIOUS_REGISTRY_DOMAINS: &[(&str, &str)] = &[
    ("onion", "tor onion service"),
    ("i2p", "i2p anonymous network"),
    // Dynamic DNS providers.
    ("duckdns.org", "dynamic dns provider (duckdns.org)"),
    ("no-ip.*", "dynamic dns provider (no-ip)"),
    ("noip.me", "dynamic dns provider (no-ip)"),
    ("ddns.net", "dynamic dns provider (no-ip)"),
    ("hopto.org", "dynamic dns provider (no-ip)"),
    ("zapto.org", "dynamic dns provider (no-ip)"),
    ("sytes.net", "dynamic dns provider (no-ip)"),
    ("myftp.biz", "dynamic dns provider (no-ip)"),
    ("myftp.org", "dynamic dns provider (no-ip)"),
    ("servehttp.com", "dynamic dns provider (no-ip)"),
    ("serveftp.com", "dynamic dns provider (no-ip)"),
    ("redirectme.net", "dynamic dns provider (no-ip)"),
    ("bounceme.net", "dynamic dns provider (no-ip)"),
    ("myvnc.com", "dynamic dns provider (no-ip)"),
    ("gotdns.ch", "dynamic dns provider (no-ip)"),
    ("dyndns.org", "dynamic dns provider (dyndns)"),
    ("dynalias.com", "dynamic dns provider (dyndns)"),
    ("homeip.net", "dynamic dns provider (dyndns)"),
    ("mooo.com", "dynamic dns provider (freedns)"),
    ("afraid.org", "dynamic dns provider (freedns)"),
    ("chickenkiller.com", "dynamic dns provider (freedns)"),
    ("freeddns.org", "dynamic dns provider (dynu)"),
    ("dynu.net", "dynamic dns provider (dynu)"),
    ("dynv6.net", "dynamic dns provider (dynv6)"),
    ("dedyn.io", "dynamic dns provider (desec)"),
    ("nsupdate.info", "dynamic dns provider (nsupdate.info)"),
    ("ddnss.de", "dynamic dns provider (ddnss)"),
    // Tunnelling services.
    ("ngrok.io", "tunnelling service (ngrok)"),
    ("ngrok.app", "tunnelling service (ngrok)"),
    ("ngrok.dev", "tunnelling service (ngrok)"),
    ("ngrok-free.app", "tunnelling service (ngrok)"),
    ("ngrok-free.dev", "tunnelling service (ngrok)"),
    ("serveo.net", "tunnelling service (serveo)"),
    ("serveousercontent.com", "tunnelling service (serveo)"),
    (
        "trycloudflare.com",
        "tunnelling service (cloudflare quick tunnel)",
    ),
    ("loca.lt", "tunnelling service (localtunnel)"),
    ("localtunnel.me", "tunnelling service (localtunnel)"),
    ("localhost.run", "tunnelling service (localhost.run)"),
    ("lhr.life", "tunnelling service (localhost.run)"),
    ("pagekite.me", "tunnelling service (pagekite)"),
    ("bore.pub", "tunnelling service (bore)"),
    ("pinggy.link", "tunnelling service (pinggy)"),
    ("pinggy.online", "tunnelling service (pinggy)"),
    (
        "devtunnels.ms",
        "tunnelling service (microsoft dev tunnels)",
    ),
    // Wildcard DNS: the name resolves to an IP address written inside it.
    ("nip.io", "wildcard dns resolving to an embedded ip address"),
    (
        "sslip.io",
        "wildcard dns resolving to an embedded ip address",
    ),
    ("xip.io", "wildcard dns resolving to an embedded ip address"),
];

fn domain_matches(host: &str, entry: &str) -> bool {
    if let Some(label) = entry.strip_suffix(".*") {
        // `label` followed by a TLD (`no-ip.org`) or a country second-level
        // suffix (`no-ip.co.uk`), at a label boundary.
        let labels: Vec<&str> = host.split('.').collect();
        return match labels.as_slice() {
            [.., l, _tld] if *l == label => true,
            [.., l, sld, cc] if *l == label => {
                matches!(*sld, "co" | "com" | "net" | "org") && cc.len() == 2
            }
            _ => false,
        };
    }
    host == entry
        || host
            .strip_suffix(entry)
            .is_some_and(|rest| rest.ends_with('.'))
}

impl ImageRef {
    /// No tag and no digest, or tag `latest` without a digest: the image
    /// that runs can change under the same reference.
    #[must_use]
    pub fn is_latest(&self) -> bool {
        self.digest.is_none() && self.tag.as_deref().is_none_or(|t| t == "latest")
    }

    /// The reference carries a well-formed digest (sha256 with 64 lowercase
    /// hex characters, sha384/sha512 likewise, or another algorithm with at
    /// least 32 hex characters). Checked again here since fields are public.
    #[must_use]
    pub fn is_pinned(&self) -> bool {
        self.digest
            .as_deref()
            .is_some_and(|d| validate_digest(d).is_ok())
    }

    /// The registry without its port (and without the brackets of an IPv6
    /// literal): `localhost:5000` -> `localhost`, `[fd00::1]:5000` -> `fd00::1`.
    #[must_use]
    pub fn registry_host(&self) -> &str {
        let r = self.registry.as_str();
        if let Some(rest) = r.strip_prefix('[') {
            return rest.split(']').next().unwrap_or(rest);
        }
        r.split(':').next().unwrap_or(r)
    }

    /// The registry is an IP address: dotted IPv4, a bracketed IPv6 literal,
    /// or any other form `inet_aton` accepts (`2130706433`, `0x7f000001`,
    /// `0177.1`, `10.1`), which resolvers turn into an address.
    #[must_use]
    pub fn registry_is_ip(&self) -> bool {
        if self.registry.starts_with('[') {
            // Docker accepts any bracketed [0-9a-f:]+; treat all as literals.
            return true;
        }
        let host = self.registry_host();
        host.parse::<Ipv6Addr>().is_ok() || inet_aton(host).is_some()
    }

    /// Why the registry host is suspicious, if it is: see
    /// [`SUSPICIOUS_REGISTRY_DOMAINS`].
    #[must_use]
    pub fn registry_is_suspicious(&self) -> Option<&'static str> {
        let host = self.registry_host().to_ascii_lowercase();
        let host = host.trim_end_matches('.');
        SUSPICIOUS_REGISTRY_DOMAINS
            .iter()
            .find(|(entry, _)| domain_matches(host, entry))
            .map(|&(_, reason)| reason)
    }

    /// The canonical, fully qualified form:
    /// `docker.io/library/nginx:1.25@sha256:...`.
    #[must_use]
    pub fn familiar(&self) -> String {
        let mut s = format!("{}/{}", self.registry, self.repository);
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }
}

/// IPv4 in any form `inet_aton` accepts: 1 to 4 parts, each decimal, octal
/// (leading `0`) or hex (`0x`); the last part fills the remaining bytes.
fn inet_aton(host: &str) -> Option<u32> {
    let parts: Vec<&str> = host.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut value: u64 = 0;
    for (i, p) in parts.iter().enumerate() {
        let n = parse_aton_number(p)?;
        if i + 1 < parts.len() {
            if n > 255 {
                return None;
            }
            value = (value << 8) | n;
        } else {
            let remaining_bits = 8 * (5 - parts.len());
            if n >> remaining_bits != 0 {
                return None;
            }
            value = (value << remaining_bits) | n;
        }
    }
    u32::try_from(value).ok()
}

fn parse_aton_number(p: &str) -> Option<u64> {
    let (digits, radix) = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
        (h, 16)
    } else if p.len() > 1 && p.starts_with('0') {
        (&p[1..], 8)
    } else {
        (p, 10)
    };
    // Bounded length keeps u64 arithmetic from overflowing.
    if digits.is_empty() || digits.len() > 12 {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// An allowlist entry split into host pattern, port and path prefix.
struct AllowEntry {
    host: String,
    wildcard: bool,
    port: Option<String>,
    path: Option<String>,
}

fn parse_allow_entry(raw: &str) -> Option<AllowEntry> {
    let e = raw.trim().to_ascii_lowercase();
    let e = e.trim_end_matches("/*").trim_end_matches('/');
    if e.is_empty() {
        return None;
    }
    let (first, rest) = match e.split_once('/') {
        Some((f, r)) => (f, Some(r)),
        None => (e, None),
    };
    let first_is_registry = first.contains(['.', ':']) || first == "localhost";
    let (registry, path) = if first_is_registry {
        (first.to_string(), rest.map(str::to_string))
    } else {
        // No registry: a Docker Hub path prefix, as Docker would read it.
        (DEFAULT_REGISTRY.to_string(), Some(e.to_string()))
    };
    let registry = normalise_registry(&registry);
    let (host, port) = if registry.starts_with('[') {
        match registry.split_once("]:") {
            Some((h, p)) => (format!("{h}]"), Some(p.to_string())),
            None => (registry, None),
        }
    } else {
        match registry.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p.to_string())),
            None => (registry, None),
        }
    };
    let (host, wildcard) = match host.strip_prefix("*.") {
        Some(h) => (h.to_string(), true),
        None => (host, false),
    };
    Some(AllowEntry {
        host,
        wildcard,
        port,
        path: path.filter(|p| !p.is_empty()),
    })
}

/// Whether the image's registry (and, when the entry has a path, its
/// repository) is on the allowlist. Entries (case-insensitive):
/// - `ghcr.io`, `registry.example.com:5000`: that registry exactly; the port
///   must match too (no port in the entry matches only an image without one);
/// - `docker.io/library`, `ghcr.io/org/`, `ghcr.io/org/*`: that registry and a
///   repository equal to the path or under it at a `/` boundary
///   (`docker.io/lib` does not allow `docker.io/library/nginx`);
/// - `*.example.com`: any subdomain of `example.com` (not `example.com`);
/// - an entry without a registry (`bitnami`) is a Docker Hub path prefix.
///
/// `index.docker.io` and `registry-1.docker.io` in entries mean `docker.io`.
/// Empty entries are ignored.
#[must_use]
pub fn registry_allowed(img: &ImageRef, allowlist: &[String]) -> bool {
    let registry = img.registry.to_ascii_lowercase();
    let (img_host, img_port) = if registry.starts_with('[') {
        match registry.split_once("]:") {
            Some((h, p)) => (format!("{h}]"), Some(p)),
            None => (registry.clone(), None),
        }
    } else {
        match registry.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (registry.clone(), None),
        }
    };
    allowlist
        .iter()
        .filter_map(|e| parse_allow_entry(e))
        .any(|e| {
            let host_ok = if e.wildcard {
                img_host
                    .strip_suffix(&e.host)
                    .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.'))
            } else {
                img_host == e.host
            };
            let port_ok = e.port.as_deref() == img_port;
            let path_ok = e.path.as_deref().is_none_or(|p| {
                img.repository == p
                    || img
                        .repository
                        .strip_prefix(p)
                        .is_some_and(|r| r.starts_with('/'))
            });
            host_ok && port_ok && path_ok
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const H64: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn ok(s: &str) -> ImageRef {
        match parse(s) {
            Ok(r) => r,
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }

    fn bad(s: &str) -> ImageError {
        match parse(s) {
            Ok(r) => panic!("{s:?} should fail, got {r:?}"),
            Err(e) => {
                assert!(
                    e.range.start <= e.range.end && e.range.end <= s.len().max(1),
                    "{s:?} {e:?}"
                );
                assert!(!e.message.ends_with('.'), "{e:?}");
                assert_eq!(e.message, e.message.to_lowercase(), "{e:?}");
                e
            }
        }
    }

    /// (input, familiar form)
    const VALID: &[(&str, &str)] = &[
        ("nginx", "docker.io/library/nginx"),
        ("nginx:latest", "docker.io/library/nginx:latest"),
        ("library/nginx:1.25", "docker.io/library/nginx:1.25"),
        ("docker.io/nginx", "docker.io/library/nginx"),
        (
            "docker.io/library/nginx:1.25",
            "docker.io/library/nginx:1.25",
        ),
        ("index.docker.io/nginx", "docker.io/library/nginx"),
        (
            "registry-1.docker.io/bitnami/redis:7",
            "docker.io/bitnami/redis:7",
        ),
        ("bitnami/redis", "docker.io/bitnami/redis"),
        ("localhost/x", "localhost/x"),
        ("localhost:5000/x:1", "localhost:5000/x:1"),
        ("localhost:5000", "docker.io/library/localhost:5000"),
        ("10.0.0.5:5000/miner:1", "10.0.0.5:5000/miner:1"),
        ("[fd00::1]:5000/x", "[fd00::1]:5000/x"),
        ("[fd00::1]/x:v1", "[fd00::1]/x:v1"),
        ("abc.onion/x", "abc.onion/x"),
        ("foo.duckdns.org/x", "foo.duckdns.org/x"),
        ("GHCR.IO/org/app", "ghcr.io/org/app"),
        ("Foo/bar", "foo/bar"),
        ("quay.io/a/b/c/d:v1.2.3-rc_1", "quay.io/a/b/c/d:v1.2.3-rc_1"),
        ("a__b/c-----d/e.f/g_h", "docker.io/a__b/c-----d/e.f/g_h"),
        (
            "registry.example.com:443/team/app:_x",
            "registry.example.com:443/team/app:_x",
        ),
    ];

    #[test]
    fn valid_vectors() {
        for &(input, familiar) in VALID {
            assert_eq!(ok(input).familiar(), familiar, "{input}");
        }
        let d = format!("ghcr.io/org/app@sha256:{H64}");
        let r = ok(&d);
        assert_eq!(r.familiar(), d);
        assert!(r.is_pinned() && !r.is_latest());
        let sha512 = format!("my-reg.example.com/app@sha512:{H64}{H64}");
        assert!(ok(&sha512).is_pinned());
        let both = format!("nginx:1.25@sha256:{H64}");
        assert_eq!(
            ok(&both).familiar(),
            format!("docker.io/library/nginx:1.25@sha256:{H64}")
        );
        let other_alg = "nginx@blake3:0123456789abcdef0123456789abcdef";
        assert!(ok(other_alg).is_pinned());
    }

    #[test]
    fn fields_and_ranges() {
        let r = ok("nginx");
        assert_eq!(r.registry, "docker.io");
        assert!(!r.registry_explicit);
        assert_eq!(r.registry_range, None);
        assert_eq!(r.repository, "library/nginx");
        assert_eq!((r.tag, r.digest), (None, None));

        let s = "localhost:5000/x:1";
        let r = ok(s);
        assert!(r.registry_explicit);
        assert_eq!(r.registry_range, Some(0..14));
        assert_eq!(&s[0..14], "localhost:5000");
        assert_eq!(r.tag.as_deref(), Some("1"));
        assert_eq!(r.tag_range, Some(17..18));
        assert_eq!(r.registry_host(), "localhost");

        let s = format!("ghcr.io/o/a:v2@sha256:{H64}");
        let r = ok(&s);
        assert_eq!(r.tag_range.clone().map(|x| &s[x]), Some("v2"));
        assert_eq!(
            r.digest_range.clone().map(|x| s[x].to_string()),
            Some(format!("sha256:{H64}"))
        );
        assert_eq!(r.registry_range, Some(0..7));

        let r = ok("index.docker.io/nginx");
        assert!(r.registry_explicit);
        assert_eq!(r.registry, "docker.io");
        assert_eq!(r.registry_range, Some(0..15));
    }

    #[test]
    fn latest_and_pinned() {
        assert!(ok("nginx").is_latest());
        assert!(ok("nginx:latest").is_latest());
        assert!(!ok("nginx:1.25").is_latest());
        assert!(!ok("nginx:1.25").is_pinned());
        let pinned = ok(&format!("nginx:latest@sha256:{H64}"));
        assert!(!pinned.is_latest() && pinned.is_pinned());
        // Public fields: a hand-built bad digest is not pinned.
        let mut r = ok("nginx");
        r.digest = Some("sha256:short".into());
        assert!(!r.is_pinned());
    }

    #[test]
    fn ip_registries() {
        assert!(ok("10.0.0.5:5000/miner:1").registry_is_ip());
        assert_eq!(ok("10.0.0.5:5000/miner:1").registry_host(), "10.0.0.5");
        let v6 = ok("[fd00::1]:5000/x");
        assert!(v6.registry_is_ip());
        assert_eq!(v6.registry_host(), "fd00::1");
        assert!(ok("2130706433:80/x").registry_is_ip()); // decimal
        assert!(ok("0x7f000001:5000/x").registry_is_ip()); // hex
        assert!(!ok("0x7f000001/x").registry_is_ip()); // no dot or colon: a Docker Hub org
        assert!(ok("0177.0.0.1/x").registry_is_ip()); // octal
        assert!(ok("10.1/x").registry_is_ip()); // short form
        assert!(!ok("nginx").registry_is_ip());
        assert!(!ok("ghcr.io/x").registry_is_ip());
        assert!(!ok("1.2.3.4.5/x").registry_is_ip());
        assert!(!ok("256.1.1.1/x").registry_is_ip());
        assert!(!ok("localhost:5000/x").registry_is_ip());
    }

    #[test]
    fn suspicious_registries() {
        assert_eq!(
            ok("abc.onion/x").registry_is_suspicious(),
            Some("tor onion service")
        );
        assert!(ok("foo.duckdns.org/x").registry_is_suspicious().is_some());
        assert!(
            ok("a.b.ngrok-free.app:443/x")
                .registry_is_suspicious()
                .is_some()
        );
        assert!(
            ok("x.trycloudflare.com/x")
                .registry_is_suspicious()
                .is_some()
        );
        assert!(ok("me.no-ip.org/x").registry_is_suspicious().is_some());
        assert!(ok("me.no-ip.co.uk/x").registry_is_suspicious().is_some());
        assert!(ok("10.0.0.1.nip.io/x").registry_is_suspicious().is_some());
        assert!(ok("Evil.DuckDNS.org/x").registry_is_suspicious().is_some());
        // Label boundary: not a subdomain.
        assert_eq!(ok("notduckdns.org/x").registry_is_suspicious(), None);
        assert_eq!(ok("no-ip.example.com/x").registry_is_suspicious(), None);
        assert_eq!(ok("ghcr.io/x").registry_is_suspicious(), None);
        assert_eq!(ok("nginx").registry_is_suspicious(), None);
    }

    #[test]
    fn invalid_vectors() {
        assert_eq!(bad("").message, "empty image reference");
        let e = bad("NGINX");
        assert_eq!(e.message, "repository name must be lowercase");
        assert_eq!(e.range, 0..5);
        let e = bad("nginx:");
        assert_eq!(e.message, "tag is empty");
        assert_eq!(e.range, 5..6);
        let e = bad("nginx@sha256:short");
        assert_eq!(e.range, 6..18);
        assert!(e.message.contains("sha256"));
        let e = bad("nginx @x");
        assert_eq!(e.range, 5..6);
        assert!(e.message.contains("whitespace"));
        let e = bad(" nginx");
        assert_eq!(e.range, 0..1);
        let e = bad("ngіnx"); // Cyrillic і: 2 bytes
        assert_eq!(e.range, 2..4);
        bad("nginx\u{1b}[2J");
        bad("nginx@");
        bad("nginx:-x");
        bad(&format!("nginx:{}", "a".repeat(129)));
        bad(&format!("nginx@sha256:{}", H64.to_uppercase()));
        bad(&format!("nginx@sha256:{H64}0"));
        bad("nginx@sha256");
        bad("nginx@1sha:0123456789abcdef0123456789abcdef");
        bad("nginx@foo:abc");
        bad("ghcr.io/Org/app");
        bad("ghcr.io/");
        bad("ghcr.io//x");
        bad("/nginx");
        bad("nginx/");
        bad("-nginx");
        bad("ng..inx");
        bad("ng___inx");
        bad("ng-.inx");
        bad("-bad.example.com/x");
        bad("host:/x");
        bad("host:99a/x");
        bad("[fd00::1/x");
        bad("[zz::1]/x");
        bad("[fd00::1]x/y");
        bad("a/b:c:d");
        bad("a@b@c");
        bad(H64);
        bad(&format!("{}/x", "a".repeat(300)));
    }

    #[test]
    fn huge_inputs_do_not_panic() {
        let long = "a".repeat(10 * 1024);
        assert!(parse(&long).is_err());
        let _ = parse(&"a/".repeat(5 * 1024));
        let _ = parse(&":@/[]".repeat(2 * 1024));
        let _ = parse(&"é".repeat(5 * 1024));
        let _ = parse(&format!("{}:{}", "x".repeat(100), "y".repeat(10_000)));
        // All byte ranges land on char boundaries and are within the input.
        for s in [
            "[",
            "]",
            "[]",
            "[:]",
            ":",
            "@",
            "@@",
            "a:@",
            "[::]:/x",
            "a:b/c",
            "é",
            "aé",
            "\u{202e}x",
        ] {
            if let Err(e) = parse(s) {
                assert!(s.get(e.range.clone()).is_some(), "{s:?} {e:?}");
            }
        }
    }

    #[test]
    fn allowlist() {
        let list = |v: &[&str]| v.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
        let l = list(&[
            "ghcr.io",
            "registry.example.com:5000",
            "docker.io/library",
            "*.corp.example",
            "quay.io/team/*",
        ]);
        assert!(registry_allowed(&ok("ghcr.io/any/thing"), &l));
        assert!(registry_allowed(&ok("nginx"), &l));
        assert!(registry_allowed(&ok("docker.io/library/redis:7"), &l));
        assert!(!registry_allowed(&ok("bitnami/redis"), &l));
        assert!(registry_allowed(&ok("registry.example.com:5000/x"), &l));
        assert!(!registry_allowed(&ok("registry.example.com/x"), &l));
        assert!(!registry_allowed(&ok("ghcr.io:8443/x"), &l));
        assert!(registry_allowed(&ok("a.corp.example/x"), &l));
        assert!(registry_allowed(&ok("a.b.corp.example/x"), &l));
        assert!(!registry_allowed(&ok("corp.example/x"), &l));
        assert!(!registry_allowed(&ok("evilcorp.example/x"), &l));
        assert!(registry_allowed(&ok("quay.io/team/app"), &l));
        assert!(!registry_allowed(&ok("quay.io/teamevil/app"), &l));
        assert!(!registry_allowed(&ok("ghcr.io.evil.com/x"), &l));
        assert!(!registry_allowed(&ok("10.0.0.5:5000/miner:1"), &l));
        let prefix = list(&["docker.io/lib"]);
        assert!(!registry_allowed(&ok("nginx"), &prefix));
        let hub = list(&["bitnami", "index.docker.io/library", "  ", ""]);
        assert!(registry_allowed(&ok("bitnami/redis"), &hub));
        assert!(registry_allowed(&ok("nginx"), &hub));
        assert!(!registry_allowed(&ok("ghcr.io/x"), &hub));
        assert!(!registry_allowed(&ok("nginx"), &[]));
        let v6 = list(&["[fd00::1]:5000"]);
        assert!(registry_allowed(&ok("[fd00::1]:5000/x"), &v6));
        assert!(!registry_allowed(&ok("[fd00::1]/x"), &v6));
    }
}

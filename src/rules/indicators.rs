//! Known-bad indicators the command rules match, in one place.
//!
//! Each list is plain data. Users add entries through the config file
//! (`Settings::extra_indicators`, see docs/command.md); built-in entries cannot be removed,
//! only the rule that uses them disabled.
//!
//! - [`MINER_BINARIES`]: program names (basename, without a version suffix) of crypto miners.
//! - [`POOL_HOSTS`]: mining pool domains (a host matches the domain or any subdomain).
//! - [`MINER_SCHEMES`]: URL schemes miners use for pools.
//! - [`METADATA_HOSTS`]: cloud instance metadata endpoints, with the numeric spellings of
//!   169.254.169.254 that resolvers and curl accept (decimal, hex, octal).
//! - [`LOG_FILES`]: paths whose removal or truncation hides what happened.
//! - [`FIREWALL_OFF`]: commands (program + argument) that disable firewalls and auditing.
//! - [`DOWNLOADERS`], [`SHELLS`], [`INTERPRETERS`], [`DECODERS`]: program classes.
//! - [`SECRET_PREFIXES`], [`SECRET_NAME_HINTS`]: credential patterns for `env-secret-literal`.

pub const MINER_BINARIES: &[&str] = &[
    "xmrig",
    "xmrig-cuda",
    "xmrig-nvidia",
    "xmr-stak",
    "xmr-stak-cpu",
    "xmr-stak-rx",
    "minerd",
    "cpuminer",
    "cpuminer-multi",
    "cpuminer-opt",
    "ccminer",
    "cgminer",
    "bfgminer",
    "ethminer",
    "t-rex",
    "nbminer",
    "lolminer",
    "gminer",
    "teamredminer",
    "phoenixminer",
    "nanominer",
    "srbminer",
    "srbminer-multi",
    "kswapd0",
    "xmr",
];

pub const POOL_HOSTS: &[&str] = &[
    "minexmr.com",
    "supportxmr.com",
    "moneroocean.stream",
    "nanopool.org",
    "2miners.com",
    "f2pool.com",
    "hashvault.pro",
    "c3pool.com",
    "ethermine.org",
    "nicehash.com",
    "herominers.com",
    "unmineable.com",
    "minergate.com",
    "viabtc.com",
    "antpool.com",
    "xmrpool.eu",
    "monerohash.com",
    "dwarfpool.com",
    "zpool.ca",
    "miningpoolhub.com",
];

pub const MINER_SCHEMES: &[&str] = &[
    "stratum+tcp://",
    "stratum+ssl://",
    "stratum+tls://",
    "stratum2+tcp://",
    "stratum1+tcp://",
    "stratum://",
];

pub const METADATA_HOSTS: &[&str] = &[
    "169.254.169.254",
    "fd00:ec2::254",
    "metadata.google.internal",
    "metadata.goog",
    "100.100.100.200",
    "169.254.170.2",
    "2852039166",
    "0xa9fea9fe",
    "0xa9.0xfe.0xa9.0xfe",
    "0251.0376.0251.0376",
    "[::ffff:169.254.169.254]",
    "[::ffff:a9fe:a9fe]",
];

/// System logs and shell histories (an absolute path matches itself and what is below it;
/// a relative name matches a path ending with it). `/var/log` itself is always included.
pub const LOG_FILES: &[&str] = &[
    "/var/log/auth.log",
    "/var/log/secure",
    "/var/log/syslog",
    "/var/log/messages",
    "/var/log/kern.log",
    "/var/log/audit",
    "/var/log/journal",
    "/var/log/wtmp",
    "/var/log/btmp",
    "/var/log/lastlog",
    "/var/log/pods",
    "/var/log/containers",
    "/run/log/journal",
    "/var/run/utmp",
    "/run/utmp",
    ".bash_history",
    ".zsh_history",
    ".ash_history",
    ".sh_history",
    ".python_history",
    ".mysql_history",
    ".psql_history",
];

/// (program, argument that disables it).
pub const FIREWALL_OFF: &[(&str, &str)] = &[
    ("iptables", "-F"),
    ("iptables", "--flush"),
    ("ip6tables", "-F"),
    ("ip6tables", "--flush"),
    ("nft", "flush"),
    ("ufw", "disable"),
    ("setenforce", "0"),
    ("auditctl", "-D"),
    ("auditctl", "-e"),
];

/// Services that, stopped or disabled, blind the host.
pub const GUARD_SERVICES: &[&str] = &[
    "firewalld",
    "ufw",
    "iptables",
    "nftables",
    "apparmor",
    "auditd",
    "falco",
    "osqueryd",
    "wazuh-agent",
];

pub const DOWNLOADERS: &[&str] = &[
    "curl",
    "wget",
    "fetch",
    "aria2c",
    "axel",
    "lwp-download",
    "lwp-request",
    "GET",
    "http",
    "https",
    "xh",
    "tftp",
    "ftp",
];

pub const SHELLS: &[&str] = &[
    "sh",
    "bash",
    "ash",
    "dash",
    "zsh",
    "ksh",
    "mksh",
    "yash",
    "busybox-sh",
];

pub const INTERPRETERS: &[&str] = &[
    "python", "python2", "python3", "perl", "node", "nodejs", "ruby", "php", "lua", "pwsh",
];

pub const DECODERS: &[&str] = &["base64", "base32", "basenc", "xxd", "uudecode", "openssl"];

/// Token prefixes with a fixed shape: (prefix, what it is, minimum length of the rest).
pub const SECRET_PREFIXES: &[(&str, &str, usize)] = &[
    ("AKIA", "an AWS access key id", 16),
    ("ASIA", "an AWS temporary access key id", 16),
    ("ghp_", "a GitHub personal access token", 30),
    ("gho_", "a GitHub OAuth token", 30),
    ("ghu_", "a GitHub user token", 30),
    ("ghs_", "a GitHub server token", 30),
    ("ghr_", "a GitHub refresh token", 30),
    ("github_pat_", "a GitHub fine-grained token", 22),
    ("glpat-", "a GitLab personal access token", 20),
    ("xoxb-", "a Slack bot token", 10),
    ("xoxp-", "a Slack user token", 10),
    ("xoxa-", "a Slack app token", 10),
    ("xoxs-", "a Slack session token", 10),
    ("xapp-", "a Slack app-level token", 10),
    (
        "https://hooks.slack.com/services/",
        "a Slack webhook URL",
        20,
    ),
    ("sk_live_", "a Stripe secret key", 16),
    ("rk_live_", "a Stripe restricted key", 16),
    ("AIza", "a Google API key", 35),
    ("npm_", "an npm token", 36),
    ("pypi-", "a PyPI token", 40),
    ("SG.", "a SendGrid API key", 40),
];

/// Env names that say their value is a secret.
pub const SECRET_NAME_HINTS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "access_key",
    "private_key",
    "credential",
    "auth",
];

/// Additions to the built-in lists, from the config file (`Settings::command_indicators`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extra {
    pub miner_binaries: Vec<String>,
    pub pool_hosts: Vec<String>,
    pub metadata_hosts: Vec<String>,
    pub log_files: Vec<String>,
    /// Literal prefixes of credentials (reported as "a credential").
    pub secret_prefixes: Vec<String>,
}

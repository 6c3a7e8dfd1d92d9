//! Renderers: each takes the scan outcome and a writer.

use crate::finding::Severity;
use crate::scan::Outcome;

pub mod human;
pub mod json;

/// Append `ch` to `out` so that it is safe and visible on a terminal: C0/C1 controls (ESC,
/// BEL, ...) and invisible or bidi characters are written as `\u{..}`; tabs stay.
pub fn escape_display(ch: char, out: &mut String) {
    let c = ch as u32;
    let invisible = matches!(c,
        0x00AD | 0x061C | 0x115F | 0x1160 | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E
        | 0x2028 | 0x2029 | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F | 0xFEFF | 0xFFA0
        | 0xFFF9..=0xFFFB | 0xE0000..=0xE007F);
    if (ch.is_control() && ch != '\t' && ch != '\n') || invisible {
        out.push_str(&format!("\\u{{{c:04X}}}"));
    } else {
        out.push(ch);
    }
}

/// Names of the MITRE ATT&CK techniques cronguard maps to.
pub fn attack_name(id: &str) -> Option<&'static str> {
    Some(match id {
        "T1053.007" => "Scheduled Task/Job: Container Orchestration Job",
        "T1053.003" => "Scheduled Task/Job: Cron",
        "T1611" => "Escape to Host",
        "T1610" => "Deploy Container",
        "T1557" => "Adversary-in-the-Middle",
        "T1496" => "Resource Hijacking",
        "T1070" => "Indicator Removal",
        "T1525" => "Implant Internal Image",
        "T1105" => "Ingress Tool Transfer",
        "T1548" => "Abuse Elevation Control Mechanism",
        "T1528" => "Steal Application Access Token",
        "T1078" => "Valid Accounts",
        "T1036" => "Masquerading",
        "T1036.005" => "Masquerading: Match Legitimate Name or Location",
        "T1027" => "Obfuscated Files or Information",
        "T1140" => "Deobfuscate/Decode Files or Information",
        "T1059" => "Command and Scripting Interpreter",
        "T1059.004" => "Command and Scripting Interpreter: Unix Shell",
        "T1552.001" => "Unsecured Credentials: Credentials In Files",
        "T1552.005" => "Unsecured Credentials: Cloud Instance Metadata API",
        "T1098" => "Account Manipulation",
        "T1098.004" => "Account Manipulation: SSH Authorized Keys",
        "T1222" => "File and Directory Permissions Modification",
        _ => return None,
    })
}

/// Counts by severity, highest first, for summaries.
pub fn by_severity(o: &Outcome) -> Vec<(Severity, usize)> {
    Severity::ALL
        .iter()
        .map(|s| {
            (
                *s,
                o.findings
                    .iter()
                    .filter(|f| f.severity == *s && f.suppressed.is_none())
                    .count(),
            )
        })
        .collect()
}

/// One line: `3 findings (1 critical, 2 high) in 12 files, 4 workloads; 1 skipped`.
pub fn summary_line(o: &Outcome) -> String {
    let active = o.findings.iter().filter(|f| f.suppressed.is_none()).count();
    let parts: Vec<String> = by_severity(o)
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let mut line = if active == 0 {
        "no findings".to_string()
    } else {
        format!(
            "{active} finding{} ({})",
            if active == 1 { "" } else { "s" },
            parts.join(", ")
        )
    };
    line.push_str(&format!(
        " in {} file{}, {} workload{}",
        o.stats.files,
        if o.stats.files == 1 { "" } else { "s" },
        o.stats.workloads,
        if o.stats.workloads == 1 { "" } else { "s" }
    ));
    let suppressed = o.findings.len() - active;
    if suppressed > 0 {
        line.push_str(&format!("; {suppressed} suppressed"));
    }
    if !o.skipped.is_empty() {
        line.push_str(&format!("; {} skipped", o.skipped.len()));
    }
    line
}

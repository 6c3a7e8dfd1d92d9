//! Settings that rules and the pipeline read. The config file (`.cronguard.yaml`) and the
//! command line both end here.

use crate::finding::Severity;
use std::collections::BTreeMap;

/// Thresholds and lists rules use. Defaults are the documented ones.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `schedule-too-frequent`: minimum interval between runs, in seconds.
    pub min_schedule_interval_secs: u64,
    /// `job-ttl-too-short`: minimum `ttlSecondsAfterFinished`.
    pub min_ttl_secs: i64,
    /// `image-registry-not-allowed`: allowed registries (empty: rule has nothing to check).
    pub allowed_registries: Vec<String>,
    /// Namespaces where Jobs and CronJobs are expected (exempt from `system-namespace-job`).
    pub allowed_system_namespaces: Vec<String>,
    /// Extra static pod names expected on nodes.
    pub expected_static_pods: Vec<String>,
    /// Target Kubernetes version (`1.35`), for schema and removed-API checks.
    pub kubernetes_version: Option<String>,
    /// command rules: additions to the built-in indicator lists (`src/rules/indicators.rs`).
    pub command_indicators: crate::rules::indicators::Extra,
    /// `drift-imperative-change`: users whose changes are GitOps (a trailing `*` matches a
    /// prefix). Default: Argo CD's application controller, Flux's kustomize and helm
    /// controllers.
    pub gitops_identities: Vec<String>,
    /// Extra JSON Schemas (`--schema-dir`), for custom resources or overrides.
    pub schema_dir: Option<std::sync::Arc<crate::schemas::SchemaDir>>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            min_schedule_interval_secs: 300,
            min_ttl_secs: 300,
            allowed_registries: Vec::new(),
            allowed_system_namespaces: Vec::new(),
            expected_static_pods: Vec::new(),
            kubernetes_version: None,
            command_indicators: crate::rules::indicators::Extra::default(),
            gitops_identities: crate::drift::DEFAULT_GITOPS_IDENTITIES
                .iter()
                .map(|s| (*s).to_string())
                .collect(),
            schema_dir: None,
        }
    }
}

/// Which rules run, and at which severity.
#[derive(Clone, Debug, Default)]
pub struct RuleSelection {
    /// Explicit enable/disable by rule id (after resolving categories and `all`).
    pub enabled: BTreeMap<&'static str, bool>,
    pub severity: BTreeMap<&'static str, Severity>,
}

impl RuleSelection {
    pub fn is_enabled(&self, rule: &crate::rules::Rule) -> bool {
        self.enabled
            .get(rule.id)
            .copied()
            .unwrap_or(rule.default_enabled)
    }

    pub fn severity_of(&self, rule_id: &str, found: Severity) -> Severity {
        self.severity.get(rule_id).copied().unwrap_or(found)
    }

    /// Apply a comma-separated list of rule ids, categories or `all`.
    pub fn apply_list(&mut self, list: &str, enable: bool) -> Result<(), String> {
        self.apply_list_in(list, enable, crate::rules::registry())
    }

    /// [`Self::apply_list`] over `rules` (the registry plus loaded user policies).
    pub fn apply_list_in(
        &mut self,
        list: &str,
        enable: bool,
        rules: &[&'static crate::rules::Rule],
    ) -> Result<(), String> {
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let matched: Vec<&'static str> = if item == "all" {
                rules.iter().map(|r| r.id).collect()
            } else if let Some(cat) = crate::rules::Category::ALL
                .iter()
                .find(|c| c.as_str() == item)
            {
                rules
                    .iter()
                    .filter(|r| r.category == *cat)
                    .map(|r| r.id)
                    .collect()
            } else if let Some(r) = rules.iter().find(|r| r.id == item) {
                vec![r.id]
            } else {
                let hint = crate::util::closest(item, rules.iter().map(|r| r.id))
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(format!("unknown rule or category `{item}`{hint}"));
            };
            for id in matched {
                self.enabled.insert(id, enable);
            }
        }
        Ok(())
    }
}

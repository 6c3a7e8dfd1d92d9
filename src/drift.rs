//! Drift: scheduled workloads the cluster runs that git never saw.

use crate::rules::Rule;

pub static RULES: &[&Rule] = &[];

//! placement: where a workload lands (control-plane nodes, taints, pinned nodes).

use super::Rule;

pub static RULES: &[&Rule] = &[];

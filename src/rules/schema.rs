//! schema: Kubernetes schema validation and removed API versions.

use super::Rule;

pub static RULES: &[&Rule] = &[];

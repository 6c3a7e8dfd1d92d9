//! command: what the job runs (command, args, env, scripts from ConfigMaps).

use super::Rule;

pub static RULES: &[&Rule] = &[];

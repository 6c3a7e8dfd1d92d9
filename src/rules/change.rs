//! change: what a git change adds to what runs on a schedule (reported by `history`).

use super::Rule;

pub static RULES: &[&Rule] = &[];

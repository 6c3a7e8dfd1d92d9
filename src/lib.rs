//! cronguard: a static analyzer that stops malicious or risky Kubernetes scheduled
//! workloads (CronJobs, Jobs, static pods, and every workload with a pod template) before
//! they reach a cluster.
//!
//! Data flow: [`source`] → [`yaml`] (spanned documents) → [`k8s`] (objects and workload
//! views) → [`rules`] (checks) → [`finding`]s → [`report`]. [`scan`] runs the pipeline;
//! [`cli`] is the command line, callable in-process.

pub mod cli;
pub mod config;
pub mod config_file;
pub mod drift;
pub mod finding;
pub mod history;
pub mod image;
pub mod index;
pub mod k8s;
pub mod node;
pub mod perf;
pub mod policy;
pub mod report;
pub mod rules;
pub mod scan;
pub mod schedule;
pub mod schemas;
pub mod shell;
pub mod source;
pub mod spanned;
pub mod suppress;
pub mod unicode;
pub mod util;
pub mod yaml;

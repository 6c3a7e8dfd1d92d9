//! Shared by the integration tests: run the whole CLI in-process.
// Each test crate uses the part it needs.
#![allow(dead_code)]

use cronguard::cli::{Io, run};

pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run `cronguard ARGS` with `stdin` as standard input.
pub fn cg_stdin(args: &[&str], stdin: &str) -> Ran {
    let mut input = stdin.as_bytes();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut argv = vec!["cronguard"];
    argv.extend_from_slice(args);
    let code = run(
        argv,
        &mut Io {
            stdin: &mut input,
            stdout: &mut out,
            stderr: &mut err,
            stdout_tty: false,
        },
    );
    Ran {
        code,
        stdout: String::from_utf8(out).unwrap(),
        stderr: String::from_utf8(err).unwrap(),
    }
}

/// Run `cronguard ARGS` with an empty standard input.
pub fn cg(args: &[&str]) -> Ran {
    cg_stdin(args, "")
}

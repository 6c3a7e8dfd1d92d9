use std::io::IsTerminal;

/// mimalloc instead of the system allocator: a scan makes millions of small allocations
/// (YAML nodes, JSON views), and glibc's malloc/free were a quarter of its instructions.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let stdout = std::io::stdout();
    let tty = stdout.is_terminal();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut err = std::io::stderr();
    let mut stdin = std::io::stdin();
    let code = cronguard::cli::run(
        std::env::args_os(),
        &mut cronguard::cli::Io {
            stdin: &mut stdin,
            stdout: &mut out,
            stderr: &mut err,
            stdout_tty: tty,
        },
    );
    drop(out);
    std::process::exit(code);
}

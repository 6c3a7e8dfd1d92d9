use std::io::IsTerminal;

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

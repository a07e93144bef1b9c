//! Where the command line writes: results on stdout, diagnostics on stderr.
//!
//! The one module allowed to print; everything else returns values.

#![expect(clippy::print_stderr, reason = "the CLI's output module writes diagnostics")]

use std::io::Write;

/// Writes a block of text to stdout, adding a final newline when it lacks one.
pub fn text(text: &str) {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`accord ... | head`) is not an error worth a panic.
    let newline = if text.ends_with('\n') { "" } else { "\n" };
    let _ = stdout.write_all(format!("{text}{newline}").as_bytes());
}

/// Writes many lines to stdout through one buffer.
pub fn lines<I: IntoIterator<Item = impl std::fmt::Display>>(lines: I) {
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    for line in lines {
        if writeln!(stdout, "{line}").is_err() {
            return;
        }
    }
    let _ = stdout.flush();
}

/// Writes a note to stderr.
pub fn note(text: &str) {
    eprintln!("{text}");
}

/// Writes an error and its causes to stderr.
pub fn error(error: &anyhow::Error) {
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}

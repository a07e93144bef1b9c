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

/// A buffered stdout for long outputs, line by line. A closed pipe (`accord ... | head`) ends
/// the output quietly.
#[derive(Debug)]
pub struct Stream {
    out: std::io::BufWriter<std::io::StdoutLock<'static>>,
    closed: bool,
}

impl Stream {
    /// Locks stdout.
    pub fn stdout() -> Stream {
        Stream {
            out: std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock()),
            closed: false,
        }
    }

    /// Writes one line.
    ///
    /// # Errors
    ///
    /// When stdout fails other than by being closed.
    pub fn line(&mut self, line: &str) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let written = self.out.write_all(line.as_bytes()).and_then(|()| self.out.write_all(b"\n"));
        self.quiet_if_closed(written)
    }

    /// Writes what is buffered.
    ///
    /// # Errors
    ///
    /// When stdout fails other than by being closed.
    pub fn flush(&mut self) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let flushed = self.out.flush();
        self.quiet_if_closed(flushed)
    }

    fn quiet_if_closed(&mut self, result: std::io::Result<()>) -> std::io::Result<()> {
        match result {
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}

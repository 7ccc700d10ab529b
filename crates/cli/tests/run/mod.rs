//! Running the `nexaguard` binary as a user does: arguments and standard
//! input in, the whole output back. Shared by the CLI tests of the codecs
//! (`tcf`, `ac`, `signals`, `validate`, `gpp`).

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `nexaguard ARGS` with `stdin` on standard input.
pub fn nexaguard(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nexaguard"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

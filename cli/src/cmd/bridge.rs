//! `nmframe bridge`: any line-based program becomes a host.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::process::{Command, Stdio};
use std::thread;

use nmframe::{Error, FrameWriter, JsonDecoder, Limits, MAX_HOST_TO_BROWSER};

use crate::exit::{MISBEHAVED, SETUP};
use crate::out::{problem, warn};
use crate::text::to_json_line;

pub(crate) fn cmd_bridge(command: Vec<OsString>) -> u8 {
    let (program, args) = command.split_first().expect("clap requires a command");
    match bridge(std::process::Command::new(program).args(args)) {
        Ok(0) => 0,
        Ok(code) => {
            problem(&format!("bridge: the command exited with {code}"));
            MISBEHAVED
        }
        Err(e) => {
            problem(&format!(
                "bridge: cannot run {}: {e}",
                program.to_string_lossy()
            ));
            SETUP
        }
    }
}

/// Be a host that turns browser messages into NDJSON lines on `cmd`'s stdin and its
/// stdout lines back into messages.
fn bridge(cmd: &mut Command) -> io::Result<i32> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let (reader, writer) = nmframe::stdio(Limits::host())?;
    let mut child_in = child.stdin.take().expect("piped");
    let child_out = child.stdout.take().expect("piped");

    // Browser → command: one compact JSON line per message.
    let inbound = thread::spawn(move || -> Result<(), Error> {
        for frame in reader {
            let frame = frame?;
            let mut line = to_json_line(&frame);
            line.push(b'\n');
            if child_in
                .write_all(&line)
                .and_then(|()| child_in.flush())
                .is_err()
            {
                break; // the command stopped reading
            }
        }
        Ok(()) // dropping child_in closes the command's stdin
    });

    // Command → browser: each line a message, checked first.
    let outbound = lines_to_frames(child_out, writer);
    let status = child.wait()?;
    if let Err(err) = outbound
        && !err.is_disconnect()
    {
        problem(&format!("bridge: {err}"));
    }
    match inbound.join() {
        Ok(Err(err)) => problem(&format!("bridge: reading from the browser: {err}")),
        Err(_) => problem("bridge: the inbound thread panicked"),
        Ok(Ok(())) => {}
    }
    Ok(status.code().unwrap_or(1))
}

fn lines_to_frames(
    mut child_out: impl Read,
    mut writer: FrameWriter<nmframe::HostStdout>,
) -> Result<(), Error> {
    let mut json = JsonDecoder::new();
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut scanned = 0;
    let mut line_no = 0u64;
    loop {
        let old = buf.len();
        buf.resize(old + 64 * 1024, 0);
        let n = child_out.read(&mut buf[old..])?;
        buf.truncate(old + n);
        let mut start = 0;
        while let Some(i) = memchr::memchr(b'\n', &buf[scanned..]) {
            let end = scanned + i;
            line_no += 1;
            let line = trim_line(&buf[start..end]);
            if !line.is_empty() {
                send_line(&mut writer, &mut json, line, line_no)?;
            }
            start = end + 1;
            scanned = start;
        }
        buf.drain(..start);
        scanned = buf.len();
        // A line past the limit can never be sent: drop it as it streams in.
        if buf.len() > MAX_HOST_TO_BROWSER as usize + 2 && memchr::memchr(b'\n', &buf).is_none() {
            warn(&format!(
                "bridge: line {} is over {MAX_HOST_TO_BROWSER} bytes: not sent",
                line_no + 1
            ));
            skip_to_newline(&mut child_out, &mut buf)?;
            line_no += 1;
            scanned = 0;
        }
        if n == 0 {
            let line = trim_line(&buf);
            if !line.is_empty() {
                send_line(&mut writer, &mut json, line, line_no + 1)?;
            }
            return Ok(());
        }
    }
}

fn trim_line(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Discards input up to and including the next newline; keeps what follows it.
fn skip_to_newline(input: &mut impl Read, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = input.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        if let Some(i) = memchr::memchr(b'\n', &chunk[..n]) {
            buf.extend_from_slice(&chunk[i + 1..n]);
            return Ok(());
        }
    }
}

fn send_line(
    writer: &mut FrameWriter<nmframe::HostStdout>,
    json: &mut JsonDecoder,
    line: &[u8],
    n: u64,
) -> Result<(), Error> {
    if let Err(err) = json.validate(line) {
        warn(&format!("bridge: line {n} is not JSON, not sent: {err}"));
        return Ok(());
    }
    match writer.send(line) {
        Err(err) if !err.is_fatal() => {
            warn(&format!("bridge: line {n} not sent: {err}"));
            Ok(())
        }
        other => other,
    }
}

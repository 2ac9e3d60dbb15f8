//! A host and every process it starts, killed together. On Windows Chromium starts hosts
//! through `cmd.exe`, so killing the process `run` and `check` hold would orphan the host
//! itself (the problem behind hosts that outlive the browser there); a job object holds
//! the whole tree, as Firefox holds its hosts. Elsewhere the host is the process held.

use std::io;
use std::process::{Child, Command};

/// The processes started for one host.
pub struct Tree {
    #[cfg(windows)]
    job: Option<std::os::windows::io::OwnedHandle>,
}

/// Starts `cmd`; on Windows inside a job object of its own, before it can start anything.
pub fn spawn(cmd: &mut Command) -> io::Result<(Child, Tree)> {
    #[cfg(windows)]
    {
        windows::spawn(cmd)
    }
    #[cfg(not(windows))]
    {
        Ok((cmd.spawn()?, Tree {}))
    }
}

impl Tree {
    /// Kills the host and, on Windows, everything it started, then reaps it.
    pub fn kill(&self, child: &mut Child) -> io::Result<std::process::ExitStatus> {
        #[cfg(windows)]
        if let Some(job) = &self.job {
            windows::terminate(job);
        }
        let _ = child.kill();
        child.wait()
    }
}

#[cfg(windows)]
mod windows {
    use std::ffi::c_void;
    use std::io;
    use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle, RawHandle};
    use std::os::windows::process::CommandExt;
    use std::process::{Child, Command};

    use super::Tree;

    const CREATE_SUSPENDED: u32 = 0x0000_0004;

    unsafe extern "system" {
        fn CreateJobObjectW(attributes: *mut c_void, name: *const u16) -> RawHandle;
        fn AssignProcessToJobObject(job: RawHandle, process: RawHandle) -> i32;
        fn TerminateJobObject(job: RawHandle, exit_code: u32) -> i32;
    }

    #[link(name = "ntdll")]
    unsafe extern "system" {
        fn NtResumeProcess(process: RawHandle) -> i32;
    }

    pub(super) fn spawn(cmd: &mut Command) -> io::Result<(Child, Tree)> {
        // Suspended until it is in the job: nothing it starts can escape it.
        let child = cmd.creation_flags(CREATE_SUSPENDED).spawn()?;
        let process = child.as_raw_handle();
        // SAFETY: no security attributes and no name (both may be null); the call
        // returns a new handle or null.
        let raw = unsafe { CreateJobObjectW(std::ptr::null_mut(), std::ptr::null()) };
        let job = (!raw.is_null()).then(|| {
            // SAFETY: `raw` is a job handle just created and owned by nobody else.
            unsafe { OwnedHandle::from_raw_handle(raw) }
        });
        let job = job.filter(|job| {
            // SAFETY: both handles are open and owned here; a process already in a job
            // that forbids nesting makes the call fail, and the host runs unjobbed.
            unsafe { AssignProcessToJobObject(job.as_raw_handle(), process) != 0 }
        });
        // SAFETY: `process` is the child's open handle, with the rights CreateProcess
        // gives its creator; resuming a suspended process touches no memory of ours.
        let status = unsafe { NtResumeProcess(process) };
        if status < 0 {
            let mut child = child;
            let _ = child.kill();
            return Err(io::Error::other(format!(
                "cannot resume the host after putting it in a job (NTSTATUS 0x{status:08X})"
            )));
        }
        Ok((child, Tree { job }))
    }

    pub(super) fn terminate(job: &OwnedHandle) {
        // SAFETY: `job` is an open job handle owned by the tree; terminating its
        // processes touches no memory of ours.
        unsafe { TerminateJobObject(job.as_raw_handle(), 1) };
    }
}

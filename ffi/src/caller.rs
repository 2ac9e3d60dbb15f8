//! `nmf_caller`: who started the host, as C reads it.

use std::ffi::{CStr, CString, c_char};

use nmframe::{Browser, Caller};

/// The browser family that started the host.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum nmf_browser {
    /// Neither browser's command-line convention matched.
    NMF_BROWSER_UNKNOWN = 0,
    /// Chromium, Chrome, Edge, Brave...
    NMF_BROWSER_CHROMIUM = 1,
    /// Firefox.
    NMF_BROWSER_FIREFOX = 2,
}

/// Who started the host, from its command line. Strings are owned by the host and
/// valid until `nmf_host_free`; absent ones are NULL.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct nmf_caller {
    /// Which convention the arguments follow.
    pub browser: nmf_browser,
    /// Chromium: the calling extension's origin, `chrome-extension://<id>/`.
    pub origin: *const c_char,
    /// Firefox: the absolute path of the host manifest.
    pub manifest_path: *const c_char,
    /// The extension's id (Chromium: from the origin; Firefox: `argv[2]`).
    pub extension_id: *const c_char,
    /// Chromium on Windows: the calling window's handle, from `--parent-window=`; 0
    /// when absent (no window has handle 0).
    pub parent_window: u64,
}

pub(crate) struct CallerStrings {
    browser: nmf_browser,
    origin: Option<CString>,
    manifest_path: Option<CString>,
    extension_id: Option<CString>,
    parent_window: u64,
}

impl CallerStrings {
    pub(crate) fn new(caller: Caller) -> Self {
        // Argument strings come from C strings, so they hold no NUL.
        let c = |s: Option<String>| s.and_then(|s| CString::new(s).ok());
        CallerStrings {
            browser: match caller.browser {
                Browser::Chromium => nmf_browser::NMF_BROWSER_CHROMIUM,
                Browser::Firefox => nmf_browser::NMF_BROWSER_FIREFOX,
                Browser::Unknown => nmf_browser::NMF_BROWSER_UNKNOWN,
            },
            origin: c(caller.origin),
            manifest_path: c(caller.manifest_path),
            extension_id: c(caller.extension_id),
            parent_window: caller.parent_window.unwrap_or(0),
        }
    }

    pub(crate) fn view(&self) -> nmf_caller {
        let p = |s: &Option<CString>| s.as_deref().map_or(std::ptr::null(), CStr::as_ptr);
        nmf_caller {
            browser: self.browser,
            origin: p(&self.origin),
            manifest_path: p(&self.manifest_path),
            extension_id: p(&self.extension_id),
            parent_window: self.parent_window,
        }
    }
}

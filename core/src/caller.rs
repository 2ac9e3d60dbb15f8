//! Who started the host: the browser's conventions for a host's command line.

/// The browser family that started a host, as told by its command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Browser {
    /// Chromium, Chrome, Edge, Brave...: `argv[1]` is `chrome-extension://<id>/`.
    Chromium,
    /// Firefox: `argv[1]` is the host manifest's path, `argv[2]` the add-on id.
    Firefox,
    /// Neither convention matched (started by hand, or by a test).
    Unknown,
}

impl Browser {
    /// The largest message this browser delivers to a host: 64 MiB for Chromium
    /// ([`CHROMIUM_MAX_BROWSER_TO_HOST`](crate::CHROMIUM_MAX_BROWSER_TO_HOST)); the
    /// protocol's 4 GiB − 1 for Firefox, which sets no lower limit of its own, and for
    /// an unknown browser.
    ///
    /// ```
    /// use nmframe::{Browser, Limits};
    ///
    /// let limits = Limits::host().with_max_inbound(Browser::Chromium.max_browser_to_host());
    /// assert_eq!(limits.max_inbound(), 64 << 20);
    /// ```
    pub const fn max_browser_to_host(self) -> u32 {
        match self {
            Browser::Chromium => crate::CHROMIUM_MAX_BROWSER_TO_HOST,
            Browser::Firefox | Browser::Unknown => crate::MAX_BROWSER_TO_HOST,
        }
    }
}

/// `Chromium`, `Firefox` or `unknown`.
impl std::fmt::Display for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Browser::Chromium => "Chromium",
            Browser::Firefox => "Firefox",
            Browser::Unknown => "unknown",
        })
    }
}

/// Reads `chromium`, `firefox` or `unknown`, in any case: the names the C ABI, the Go
/// package and the `nmframe` command use too.
///
/// ```
/// use nmframe::Browser;
///
/// assert_eq!("firefox".parse::<Browser>(), Ok(Browser::Firefox));
/// assert_eq!(Browser::Chromium.to_string().parse::<Browser>(), Ok(Browser::Chromium));
/// assert!("chrome".parse::<Browser>().is_err());
/// ```
impl std::str::FromStr for Browser {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "chromium" => Ok(Browser::Chromium),
            "firefox" => Ok(Browser::Firefox),
            "unknown" => Ok(Browser::Unknown),
            _ => Err(format!(
                "{s:?} is not a browser family: chromium, firefox or unknown"
            )),
        }
    }
}

/// The caller of a native-messaging host, parsed from its command line.
///
/// Chromium passes the calling extension's origin, and on Windows
/// `--parent-window=<N>`; newer versions may append more `--` options. Firefox passes
/// the absolute path of the host manifest and the add-on id. Unknown extra arguments
/// are tolerated.
///
/// ```
/// use nmframe::{Browser, Caller};
///
/// let c = Caller::from_args(["/opt/host", "chrome-extension://abcdefghijklmnopabcdefghijklmnop/", "--parent-window=0"]);
/// assert_eq!(c.browser, Browser::Chromium);
/// assert_eq!(c.extension_id.as_deref(), Some("abcdefghijklmnopabcdefghijklmnop"));
///
/// let f = Caller::from_args(["/opt/host", "/home/u/.mozilla/native-messaging-hosts/app.json", "app@example.org"]);
/// assert_eq!(f.browser, Browser::Firefox);
/// assert_eq!(f.manifest_path.as_deref(), Some("/home/u/.mozilla/native-messaging-hosts/app.json"));
/// assert_eq!(f.extension_id.as_deref(), Some("app@example.org"));
///
/// // A browser appends its arguments after those of the command it starts (a wrapper,
/// // an interpreter, `nmframe tap -- host --flag`): they are read from the end.
/// let w = Caller::from_args(["/usr/bin/python3", "host.py", "--verbose", "/m/app.json", "app@example.org"]);
/// assert_eq!(w.browser, Browser::Firefox);
/// assert_eq!(w.extension_id.as_deref(), Some("app@example.org"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// Which browser's convention the arguments follow.
    pub browser: Browser,
    /// Chromium: the origin, `chrome-extension://<id>/`.
    pub origin: Option<String>,
    /// Firefox: the absolute path of the host manifest.
    pub manifest_path: Option<String>,
    /// The extension's id: from the origin (Chromium) or the last argument (Firefox).
    pub extension_id: Option<String>,
    /// Chromium on Windows: the handle of the calling window, from `--parent-window=`.
    pub parent_window: Option<u64>,
}

impl Caller {
    /// Parses a full command line, `argv[0]` included.
    pub fn from_args<I, S>(args: I) -> Caller
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let args: Vec<S> = args.into_iter().collect();
        let rest: Vec<&str> = args.iter().skip(1).map(AsRef::as_ref).collect();
        let mut caller = Caller {
            browser: Browser::Unknown,
            origin: None,
            manifest_path: None,
            extension_id: None,
            parent_window: None,
        };
        caller.parent_window = rest
            .iter()
            .find_map(|a| a.strip_prefix("--parent-window=")?.parse().ok());
        if let Some(origin) = rest.iter().find(|a| a.starts_with("chrome-extension://")) {
            caller.browser = Browser::Chromium;
            caller.origin = Some((*origin).to_owned());
            let id = origin["chrome-extension://".len()..].trim_end_matches('/');
            caller.extension_id = (!id.is_empty()).then(|| id.to_owned());
            return caller;
        }
        let positional: Vec<&str> = rest
            .iter()
            .copied()
            .filter(|a| !a.starts_with("--"))
            .collect();
        // Firefox's two come last: a command of its own may have arguments before them.
        if let [.., manifest, id] = positional[..]
            && manifest.ends_with(".json")
            && is_absolute(manifest)
        {
            caller.browser = Browser::Firefox;
            caller.manifest_path = Some(manifest.to_owned());
            caller.extension_id = Some(id.to_owned());
        }
        caller
    }

    /// Parses this process's own command line. Arguments that are not valid Unicode
    /// are read lossily.
    pub fn from_env() -> Caller {
        Caller::from_args(std::env::args_os().map(|a| a.to_string_lossy().into_owned()))
    }
}

/// Absolute on the platforms browsers run on: `/...`, `C:\...` or `\\server\...`.
fn is_absolute(path: &str) -> bool {
    let b = path.as_bytes();
    path.starts_with('/')
        || path.starts_with("\\\\")
        || (b.len() > 2
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && matches!(b[2], b'\\' | b'/'))
}

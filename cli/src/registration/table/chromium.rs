//! The Chromium builds of the table: Chrome, Edge and Brave with their channels,
//! Vivaldi, Opera, Arc, Thorium, Helium, ungoogled-chromium.

use nmframe::Browser;

use super::{Detect, Entry, Unix, Windows};

const CHROME_SOURCE: &str = "developer.chrome.com/docs/extensions/develop/concepts/native-messaging \
     (\"Native messaging host location\"); the channel folders from Chromium's \
     chrome/common/chrome_paths_linux.cc and chrome_paths_mac.mm (user-data folder per \
     channel); every channel reads Chrome's system folder and registry key";
const EDGE_SOURCE: &str = "learn.microsoft.com/microsoft-edge/extensions/developer-guide/native-messaging \
     (folders per OS; Windows: Edge's key, then Chromium's and Chrome's); channels keep \
     their own user-data folder and share Edge's system folder and key";
const BRAVE_SOURCE: &str = "Brave's user-data folders (BraveSoftware/Brave-Browser[-Beta|-Nightly]), \
     as KeePassXC's NativeMessageInstaller.cpp and Bitwarden's installer write them; on \
     Windows Brave reads Google Chrome's key";
const CHROME_LINUX_SYSTEM: &[&str] = &["/etc/opt/chrome/native-messaging-hosts"];
const CHROME_MAC_SYSTEM: &[&str] = &["/Library/Google/Chrome/NativeMessagingHosts"];
const EDGE_LINUX_SYSTEM: &[&str] = &["/etc/opt/edge/native-messaging-hosts"];
const EDGE_MAC_SYSTEM: &[&str] = &["/Library/Microsoft/Edge/NativeMessagingHosts"];

macro_rules! chromium_build {
    ($name:literal, $aliases:expr, $title:literal, $linux:expr, $macos:expr, $windows:expr,
     $policies:literal, $win_policies:literal, $detect:expr, $source:expr) => {
        Entry {
            name: $name,
            aliases: $aliases,
            title: $title,
            family: Browser::Chromium,
            linux: $linux,
            macos: $macos,
            windows: $windows,
            linux_policies: $policies,
            windows_policies: $win_policies,
            detect: $detect,
            source: $source,
        }
    };
}

/// Each product, its channels after it.
pub(super) static CHROMIUM: &[Entry] = &[
    chromium_build!(
        "chrome",
        &["google-chrome"],
        "Google Chrome",
        Unix::Own {
            user: "$XDG_CONFIG_HOME/google-chrome/NativeMessagingHosts",
            system: CHROME_LINUX_SYSTEM,
        },
        Unix::Own {
            user: "~/Library/Application Support/Google/Chrome/NativeMessagingHosts",
            system: CHROME_MAC_SYSTEM,
        },
        Windows::Keys(&[r"Google\Chrome"]),
        "/etc/opt/chrome/policies",
        r"Google\Chrome",
        Detect {
            linux: &["google-chrome", "google-chrome-stable"],
            macos: &["/Applications/Google Chrome.app"],
            windows: &[r"%LOCALAPPDATA%\Google\Chrome\User Data"],
        },
        CHROME_SOURCE
    ),
    chromium_build!(
        "chrome-beta",
        &[],
        "Google Chrome Beta",
        Unix::Own {
            user: "$XDG_CONFIG_HOME/google-chrome-beta/NativeMessagingHosts",
            system: CHROME_LINUX_SYSTEM,
        },
        Unix::Own {
            user: "~/Library/Application Support/Google/Chrome Beta/NativeMessagingHosts",
            system: CHROME_MAC_SYSTEM,
        },
        Windows::Shares("chrome"),
        "/etc/opt/chrome/policies",
        r"Google\Chrome",
        Detect {
            linux: &["google-chrome-beta"],
            macos: &["/Applications/Google Chrome Beta.app"],
            windows: &[r"%LOCALAPPDATA%\Google\Chrome Beta\User Data"],
        },
        CHROME_SOURCE
    ),
    chromium_build!(
        "chrome-dev",
        &["chrome-unstable"],
        "Google Chrome Dev",
        Unix::Own {
            user: "$XDG_CONFIG_HOME/google-chrome-unstable/NativeMessagingHosts",
            system: CHROME_LINUX_SYSTEM,
        },
        Unix::Own {
            user: "~/Library/Application Support/Google/Chrome Dev/NativeMessagingHosts",
            system: CHROME_MAC_SYSTEM,
        },
        Windows::Shares("chrome"),
        "/etc/opt/chrome/policies",
        r"Google\Chrome",
        Detect {
            linux: &["google-chrome-unstable"],
            macos: &["/Applications/Google Chrome Dev.app"],
            windows: &[r"%LOCALAPPDATA%\Google\Chrome Dev\User Data"],
        },
        CHROME_SOURCE
    ),
    chromium_build!(
        "chrome-canary",
        &[],
        "Google Chrome Canary",
        Unix::Own {
            user: "$XDG_CONFIG_HOME/google-chrome-canary/NativeMessagingHosts",
            system: CHROME_LINUX_SYSTEM,
        },
        Unix::Own {
            user: "~/Library/Application Support/Google/Chrome Canary/NativeMessagingHosts",
            system: CHROME_MAC_SYSTEM,
        },
        Windows::Shares("chrome"),
        "/etc/opt/chrome/policies",
        r"Google\Chrome",
        Detect {
            linux: &["google-chrome-canary"],
            macos: &["/Applications/Google Chrome Canary.app"],
            windows: &[r"%LOCALAPPDATA%\Google\Chrome SxS\User Data"],
        },
        CHROME_SOURCE
    ),
    chromium_build!(
        "chromium",
        &["chromium-browser"],
        "Chromium",
        Unix::Own {
            user: "$XDG_CONFIG_HOME/chromium/NativeMessagingHosts",
            system: &["/etc/chromium/native-messaging-hosts"],
        },
        Unix::Own {
            user: "~/Library/Application Support/Chromium/NativeMessagingHosts",
            system: &["/Library/Application Support/Chromium/NativeMessagingHosts"],
        },
        Windows::Keys(&["Chromium", r"Google\Chrome"]),
        "/etc/chromium/policies",
        "Chromium",
        Detect {
            linux: &["chromium", "chromium-browser"],
            macos: &["/Applications/Chromium.app"],
            windows: &[r"%LOCALAPPDATA%\Chromium\User Data"],
        },
        "developer.chrome.com native messaging (\"Native messaging host location\"); \
         measured here with Debian's chromium (browsers/ suite)"
    ),
    chromium_build!(
        "edge",
        &["microsoft-edge"],
        "Microsoft Edge",
        Unix::Own {
            user: "$XDG_CONFIG_HOME/microsoft-edge/NativeMessagingHosts",
            system: EDGE_LINUX_SYSTEM,
        },
        Unix::Own {
            user: "~/Library/Application Support/Microsoft Edge/NativeMessagingHosts",
            system: EDGE_MAC_SYSTEM,
        },
        Windows::Keys(&[r"Microsoft\Edge", "Chromium", r"Google\Chrome"]),
        "/etc/opt/edge/policies",
        r"Microsoft\Edge",
        Detect {
            linux: &["microsoft-edge", "microsoft-edge-stable"],
            macos: &["/Applications/Microsoft Edge.app"],
            windows: &[r"%LOCALAPPDATA%\Microsoft\Edge\User Data"],
        },
        EDGE_SOURCE
    ),
    chromium_build!(
        "edge-beta",
        &[],
        "Microsoft Edge Beta",
        Unix::Own {
            user: "$XDG_CONFIG_HOME/microsoft-edge-beta/NativeMessagingHosts",
            system: EDGE_LINUX_SYSTEM,
        },
        Unix::Own {
            user: "~/Library/Application Support/Microsoft Edge Beta/NativeMessagingHosts",
            system: EDGE_MAC_SYSTEM,
        },
        Windows::Shares("edge"),
        "/etc/opt/edge/policies",
        r"Microsoft\Edge",
        Detect {
            linux: &["microsoft-edge-beta"],
            macos: &["/Applications/Microsoft Edge Beta.app"],
            windows: &[r"%LOCALAPPDATA%\Microsoft\Edge Beta\User Data"],
        },
        EDGE_SOURCE
    ),
    chromium_build!(
        "edge-dev",
        &[],
        "Microsoft Edge Dev",
        Unix::Own {
            user: "$XDG_CONFIG_HOME/microsoft-edge-dev/NativeMessagingHosts",
            system: EDGE_LINUX_SYSTEM,
        },
        Unix::Own {
            user: "~/Library/Application Support/Microsoft Edge Dev/NativeMessagingHosts",
            system: EDGE_MAC_SYSTEM,
        },
        Windows::Shares("edge"),
        "/etc/opt/edge/policies",
        r"Microsoft\Edge",
        Detect {
            linux: &["microsoft-edge-dev"],
            macos: &["/Applications/Microsoft Edge Dev.app"],
            windows: &[r"%LOCALAPPDATA%\Microsoft\Edge Dev\User Data"],
        },
        EDGE_SOURCE
    ),
    chromium_build!(
        "edge-canary",
        &[],
        "Microsoft Edge Canary",
        Unix::Absent,
        Unix::Own {
            user: "~/Library/Application Support/Microsoft Edge Canary/NativeMessagingHosts",
            system: EDGE_MAC_SYSTEM,
        },
        Windows::Shares("edge"),
        "",
        r"Microsoft\Edge",
        Detect {
            linux: &[],
            macos: &["/Applications/Microsoft Edge Canary.app"],
            windows: &[r"%LOCALAPPDATA%\Microsoft\Edge SxS\User Data"],
        },
        EDGE_SOURCE
    ),
    chromium_build!(
        "brave",
        &["brave-browser"],
        "Brave",
        Unix::Own {
            user: "$XDG_CONFIG_HOME/BraveSoftware/Brave-Browser/NativeMessagingHosts",
            system: &[],
        },
        Unix::Own {
            user: "~/Library/Application Support/BraveSoftware/Brave-Browser/NativeMessagingHosts",
            system: &[],
        },
        Windows::Keys(&[r"Google\Chrome"]),
        "/etc/brave/policies",
        r"BraveSoftware\Brave",
        Detect {
            linux: &["brave-browser", "brave"],
            macos: &["/Applications/Brave Browser.app"],
            windows: &[r"%LOCALAPPDATA%\BraveSoftware\Brave-Browser\User Data"],
        },
        BRAVE_SOURCE
    ),
    chromium_build!(
        "brave-beta",
        &[],
        "Brave Beta",
        Unix::Own {
            user: "$XDG_CONFIG_HOME/BraveSoftware/Brave-Browser-Beta/NativeMessagingHosts",
            system: &[],
        },
        Unix::Own {
            user: "~/Library/Application Support/BraveSoftware/Brave-Browser-Beta/NativeMessagingHosts",
            system: &[],
        },
        Windows::Shares("brave"),
        "/etc/brave/policies",
        r"BraveSoftware\Brave",
        Detect {
            linux: &["brave-browser-beta"],
            macos: &["/Applications/Brave Browser Beta.app"],
            windows: &[r"%LOCALAPPDATA%\BraveSoftware\Brave-Browser-Beta\User Data"],
        },
        BRAVE_SOURCE
    ),
    chromium_build!(
        "brave-nightly",
        &[],
        "Brave Nightly",
        Unix::Own {
            user: "$XDG_CONFIG_HOME/BraveSoftware/Brave-Browser-Nightly/NativeMessagingHosts",
            system: &[],
        },
        Unix::Own {
            user: "~/Library/Application Support/BraveSoftware/Brave-Browser-Nightly/NativeMessagingHosts",
            system: &[],
        },
        Windows::Shares("brave"),
        "/etc/brave/policies",
        r"BraveSoftware\Brave",
        Detect {
            linux: &["brave-browser-nightly"],
            macos: &["/Applications/Brave Browser Nightly.app"],
            windows: &[r"%LOCALAPPDATA%\BraveSoftware\Brave-Browser-Nightly\User Data"],
        },
        BRAVE_SOURCE
    ),
    chromium_build!(
        "vivaldi",
        &["vivaldi-stable"],
        "Vivaldi",
        Unix::Own {
            user: "$XDG_CONFIG_HOME/vivaldi/NativeMessagingHosts",
            system: &[],
        },
        Unix::Own {
            user: "~/Library/Application Support/Vivaldi/NativeMessagingHosts",
            system: &[],
        },
        Windows::Keys(&[r"Google\Chrome"]),
        "",
        "",
        Detect {
            linux: &["vivaldi", "vivaldi-stable"],
            macos: &["/Applications/Vivaldi.app"],
            windows: &[r"%LOCALAPPDATA%\Vivaldi\User Data"],
        },
        "KeePassXC's NativeMessageInstaller.cpp (Linux and macOS folders; Windows: \
         Google Chrome's key)"
    ),
    chromium_build!(
        "vivaldi-snapshot",
        &[],
        "Vivaldi Snapshot",
        Unix::Own {
            user: "$XDG_CONFIG_HOME/vivaldi-snapshot/NativeMessagingHosts",
            system: &[],
        },
        Unix::Own {
            user: "~/Library/Application Support/Vivaldi Snapshot/NativeMessagingHosts",
            system: &[],
        },
        Windows::Shares("vivaldi"),
        "",
        "",
        Detect {
            linux: &["vivaldi-snapshot"],
            macos: &["/Applications/Vivaldi Snapshot.app"],
            windows: &[],
        },
        "Vivaldi's snapshot build keeps its own user-data folder (vivaldi-snapshot); \
         otherwise as Vivaldi"
    ),
    chromium_build!(
        "opera",
        &[],
        "Opera",
        Unix::Own {
            user: "$XDG_CONFIG_HOME/opera/NativeMessagingHosts",
            system: &[],
        },
        Unix::Own {
            user: "~/Library/Application Support/com.operasoftware.Opera/NativeMessagingHosts",
            system: &[],
        },
        Windows::Keys(&[r"Google\Chrome"]),
        "",
        "",
        Detect {
            linux: &["opera"],
            macos: &["/Applications/Opera.app"],
            windows: &[r"%APPDATA%\Opera Software\Opera Stable"],
        },
        "installers of published hosts (macOS com.operasoftware.Opera, Linux opera); \
         Opera on Windows reads Google Chrome's key"
    ),
    chromium_build!(
        "arc",
        &[],
        "Arc",
        Unix::Absent,
        Unix::Own {
            user: "~/Library/Application Support/Arc/User Data/NativeMessagingHosts",
            system: &[],
        },
        Windows::Absent,
        "",
        "",
        Detect {
            linux: &[],
            macos: &["/Applications/Arc.app"],
            windows: &[],
        },
        "Arc keeps Chromium's layout under Application Support/Arc/User Data (macOS only \
         here: where Arc for Windows reads is not known to nmframe)"
    ),
    chromium_build!(
        "thorium",
        &[],
        "Thorium",
        Unix::Own {
            user: "$XDG_CONFIG_HOME/thorium/NativeMessagingHosts",
            system: &[],
        },
        Unix::Own {
            user: "~/Library/Application Support/Thorium/NativeMessagingHosts",
            system: &[],
        },
        Windows::Shares("chromium"),
        "",
        "",
        Detect {
            linux: &["thorium-browser", "thorium"],
            macos: &["/Applications/Thorium.app"],
            windows: &[r"%LOCALAPPDATA%\Thorium\User Data"],
        },
        "Thorium's user-data folder (thorium); a Chromium build, so on Windows Chromium's \
         keys"
    ),
    chromium_build!(
        "helium",
        &[],
        "Helium",
        Unix::Own {
            user: "$XDG_CONFIG_HOME/net.imput.helium/NativeMessagingHosts",
            system: &[],
        },
        Unix::Own {
            user: "~/Library/Application Support/net.imput.helium/NativeMessagingHosts",
            system: &[],
        },
        Windows::Shares("chromium"),
        "",
        "",
        Detect {
            linux: &["helium", "helium-browser"],
            macos: &["/Applications/Helium.app"],
            windows: &[],
        },
        "Helium's user-data folder (net.imput.helium); a Chromium build, so on Windows \
         Chromium's keys"
    ),
    chromium_build!(
        "ungoogled-chromium",
        &[],
        "ungoogled-chromium",
        Unix::Shares("chromium"),
        Unix::Shares("chromium"),
        Windows::Shares("chromium"),
        "/etc/chromium/policies",
        "Chromium",
        Detect {
            linux: &["ungoogled-chromium"],
            macos: &[],
            windows: &[],
        },
        "ungoogled-chromium is Chromium with patches that leave its folders as they are"
    ),
];

//! The Gecko builds of the table: Firefox and its channels, its forks, Thunderbird.

use nmframe::Browser;

use super::{Detect, Entry, Unix, Windows};

const GECKO_SOURCE: &str = "developer.mozilla.org/docs/Mozilla/Add-ons/WebExtensions/Native_manifests \
     (\"Manifest location\"); Gecko's NativeManifests.sys.mjs reads XREUserNativeManifests, \
     then XRESysNativeManifests, and on Windows the key Software\\Mozilla\\NativeMessagingHosts \
     whatever the product";

macro_rules! gecko {
    ($name:literal, $aliases:expr, $title:literal, $linux:expr, $macos:expr, $windows:expr,
     $detect:expr, $source:expr) => {
        Entry {
            name: $name,
            aliases: $aliases,
            title: $title,
            family: Browser::Firefox,
            linux: $linux,
            macos: $macos,
            windows: $windows,
            linux_policies: "",
            windows_policies: "",
            detect: $detect,
            source: $source,
        }
    };
}

/// Firefox, its channels, then the forks.
pub(super) static GECKO: &[Entry] = &[
    gecko!(
        "firefox",
        &["firefox-esr"],
        "Firefox",
        Unix::Own {
            user: "~/.mozilla/native-messaging-hosts",
            system: &[
                "/usr/lib/mozilla/native-messaging-hosts",
                "/usr/lib64/mozilla/native-messaging-hosts",
            ],
        },
        Unix::Own {
            user: "~/Library/Application Support/Mozilla/NativeMessagingHosts",
            system: &["/Library/Application Support/Mozilla/NativeMessagingHosts"],
        },
        Windows::Keys(&["Mozilla"]),
        Detect {
            linux: &["firefox", "firefox-esr"],
            macos: &["/Applications/Firefox.app"],
            windows: &[r"%APPDATA%\Mozilla\Firefox"],
        },
        GECKO_SOURCE
    ),
    gecko!(
        "firefox-developer-edition",
        &["firefox-dev"],
        "Firefox Developer Edition",
        Unix::Shares("firefox"),
        Unix::Shares("firefox"),
        Windows::Shares("firefox"),
        Detect {
            linux: &["firefox-developer-edition"],
            macos: &["/Applications/Firefox Developer Edition.app"],
            windows: &[],
        },
        GECKO_SOURCE
    ),
    gecko!(
        "firefox-nightly",
        &[],
        "Firefox Nightly",
        Unix::Shares("firefox"),
        Unix::Shares("firefox"),
        Windows::Shares("firefox"),
        Detect {
            linux: &["firefox-nightly"],
            macos: &["/Applications/Firefox Nightly.app"],
            windows: &[],
        },
        GECKO_SOURCE
    ),
    gecko!(
        "librewolf",
        &[],
        "LibreWolf",
        Unix::Own {
            user: "~/.librewolf/native-messaging-hosts",
            system: &[],
        },
        Unix::Own {
            user: "~/Library/Application Support/LibreWolf/NativeMessagingHosts",
            system: &[],
        },
        Windows::Shares("firefox"),
        Detect {
            linux: &["librewolf"],
            macos: &["/Applications/LibreWolf.app"],
            windows: &[r"%APPDATA%\librewolf"],
        },
        "KeePassXC's NativeMessageInstaller.cpp (LibreWolf patches Gecko's user folder; \
         Windows: Mozilla's key)"
    ),
    gecko!(
        "waterfox",
        &[],
        "Waterfox",
        Unix::Own {
            user: "~/.waterfox/native-messaging-hosts",
            system: &[],
        },
        Unix::Own {
            user: "~/Library/Application Support/Waterfox/NativeMessagingHosts",
            system: &[],
        },
        Windows::Shares("firefox"),
        Detect {
            linux: &["waterfox"],
            macos: &["/Applications/Waterfox.app"],
            windows: &[r"%APPDATA%\Waterfox"],
        },
        "Waterfox renames Gecko's user folder (.waterfox); on Windows Gecko's fixed \
         Software\\Mozilla key"
    ),
    gecko!(
        "floorp",
        &[],
        "Floorp",
        Unix::Shares("firefox"),
        Unix::Shares("firefox"),
        Windows::Shares("firefox"),
        Detect {
            linux: &["floorp"],
            macos: &["/Applications/Floorp.app"],
            windows: &[],
        },
        "Floorp keeps Gecko's native-manifest folders unchanged: Firefox's"
    ),
    gecko!(
        "zen",
        &["zen-browser"],
        "Zen",
        Unix::Shares("firefox"),
        Unix::Shares("firefox"),
        Windows::Shares("firefox"),
        Detect {
            linux: &["zen", "zen-browser"],
            macos: &["/Applications/Zen.app", "/Applications/Zen Browser.app"],
            windows: &[],
        },
        "Zen keeps Gecko's native-manifest folders unchanged: Firefox's"
    ),
    gecko!(
        "tor-browser",
        &["torbrowser"],
        "Tor Browser",
        Unix::Own {
            user: "$XDG_DATA_HOME/torbrowser/tbb/x86_64/tor-browser/Browser/TorBrowser/Data/Browser/.mozilla/native-messaging-hosts",
            system: &[],
        },
        Unix::Own {
            user: "~/Library/Application Support/TorBrowser-Data/Browser/Mozilla/NativeMessagingHosts",
            system: &[],
        },
        Windows::Shares("firefox"),
        Detect {
            linux: &["torbrowser-launcher", "$XDG_DATA_HOME/torbrowser/tbb"],
            macos: &["/Applications/Tor Browser.app"],
            windows: &[],
        },
        "KeePassXC's NativeMessageInstaller.cpp (Linux: where torbrowser-launcher unpacks \
         it; a browser unpacked by hand reads Browser/TorBrowser/Data/Browser/.mozilla \
         inside its own folder)"
    ),
    gecko!(
        "thunderbird",
        &[],
        "Thunderbird",
        Unix::Shares("firefox"),
        Unix::Shares("firefox"),
        Windows::Shares("firefox"),
        Detect {
            linux: &["thunderbird"],
            macos: &["/Applications/Thunderbird.app"],
            windows: &[r"%APPDATA%\Thunderbird"],
        },
        "Thunderbird's native messaging is Gecko's (developer.thunderbird.net, WebExtension \
         APIs): the same folders and key as Firefox"
    ),
];

//! The caller identity parsed from a host's command line, as each browser passes it.

use nmframe::{Browser, Caller};

#[test]
fn chromium_on_linux_and_macos() {
    // Measured on Linux: [path, "chrome-extension://<id>/"].
    let c = Caller::from_args([
        "/usr/bin/host",
        "chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/",
    ]);
    assert_eq!(c.browser, Browser::Chromium);
    assert_eq!(
        c.origin.as_deref(),
        Some("chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/")
    );
    assert_eq!(
        c.extension_id.as_deref(),
        Some("knldjmfmopnpolahpmmgbagdohdnhkik")
    );
    assert_eq!((c.manifest_path, c.parent_window), (None, None));
}

#[test]
fn chromium_on_windows_and_newer_versions_with_extra_arguments() {
    let c = Caller::from_args([
        r"C:\host.exe",
        "chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/",
        "--parent-window=6752",
        "--reconnect-command=x",
        "--native-messaging-connect-id=7",
    ]);
    assert_eq!(c.browser, Browser::Chromium);
    assert_eq!(c.parent_window, Some(6752));
    assert_eq!(
        c.extension_id.as_deref(),
        Some("knldjmfmopnpolahpmmgbagdohdnhkik")
    );
}

#[test]
fn firefox_passes_the_manifest_path_and_the_addon_id() {
    let c = Caller::from_args([
        "/opt/h",
        "/home/u/.mozilla/native-messaging-hosts/com.example.h.json",
        "h@example.com",
    ]);
    assert_eq!(c.browser, Browser::Firefox);
    assert_eq!(
        c.manifest_path.as_deref(),
        Some("/home/u/.mozilla/native-messaging-hosts/com.example.h.json")
    );
    assert_eq!(c.extension_id.as_deref(), Some("h@example.com"));
    assert_eq!(c.origin, None);
    let w = Caller::from_args([
        r"C:\h.exe",
        r"C:\Users\u\h.json",
        "{8f8c5e2a-0000-4000-8000-000000000000}",
    ]);
    assert_eq!(w.browser, Browser::Firefox);
}

#[test]
fn anything_else_is_unknown() {
    for args in [
        vec!["/h"],
        vec!["/h", "--verbose"],
        vec!["/h", "relative.json", "id"],
        vec!["/h", "/abs/not-json", "id"],
    ] {
        assert_eq!(
            Caller::from_args(&args).browser,
            Browser::Unknown,
            "{args:?}"
        );
    }
}

//! `nmframe manifest` against the table of browsers: every browser's folders on Linux,
//! macOS and Windows, Flatpak and snap browsers through stand-in `flatpak`,
//! `flatpak-spawn` and `snap` commands, and what `check` catches (origins, extension ids,
//! files the browsers cannot parse, enterprise policies). HOME and the XDG folders point
//! at a scratch tree in every test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod common;
use common::{NMFRAME, ORIGIN, host, scratch};

const NAME: &str = "com.example.table";

/// `nmframe ARGS` with HOME at `home`, no XDG variables, and `bin` (stand-in commands)
/// first on PATH.
fn nmframe(args: &[&str], home: &Path, bin: Option<&Path>) -> Output {
    let mut cmd = Command::new(NMFRAME);
    cmd.args(args)
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_DATA_HOME")
        .env_remove("XNMP_HOST_LOCATIONS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(bin) = bin {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![bin.to_path_buf()];
        paths.extend(std::env::split_paths(&path));
        cmd.env("PATH", std::env::join_paths(paths).unwrap());
    }
    cmd.output().unwrap()
}

fn said(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

fn install(home: &Path, bin: Option<&Path>, browser: &str, extra: &[&str]) -> Output {
    let exe = host("argv.py");
    let mut args = vec![
        "manifest",
        "install",
        "--name",
        NAME,
        "--path",
        exe.to_str().unwrap(),
        "--browser",
        browser,
        "--origin",
        ORIGIN,
        "--extension-id",
        "table@example.org",
    ];
    args.extend_from_slice(extra);
    nmframe(&args, home, bin)
}

fn check(home: &Path, bin: Option<&Path>, browser: &str, extra: &[&str]) -> Output {
    let mut args = vec!["manifest", "check", "--name", NAME, "--browser", browser];
    args.extend_from_slice(extra);
    nmframe(&args, home, bin)
}

fn uninstall(home: &Path, bin: Option<&Path>, browser: &str) -> Output {
    nmframe(
        &[
            "manifest",
            "uninstall",
            "--name",
            NAME,
            "--browser",
            browser,
        ],
        home,
        bin,
    )
}

/// The browsers `manifest browsers --os OS` prints, with the first place each looks.
fn table(home: &Path, os: &str) -> Vec<(String, String)> {
    let out = nmframe(&["manifest", "browsers", "--os", os], home, None);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter(|l| !l.starts_with(' '))
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            (words[0].to_owned(), words[3..].join(" "))
        })
        .collect()
}

/// A script in `bin` standing in for `command`: it appends its arguments to
/// `bin/command.log`, then runs `body`.
fn stand_in(bin: &Path, command: &str, body: &str) {
    std::fs::create_dir_all(bin).unwrap();
    let file = bin.join(command);
    std::fs::write(
        &file,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\n{body}\n",
            bin.join(format!("{command}.log")).display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn log(bin: &Path, command: &str) -> String {
    std::fs::read_to_string(bin.join(format!("{command}.log"))).unwrap_or_default()
}

#[test]
fn every_browser_of_the_table_installs_checks_and_uninstalls_on_linux() {
    let home = scratch("table_linux");
    let browsers = table(&home, "linux");
    assert!(browsers.len() >= 25, "{browsers:?}");
    // The spellings other tools and people use, and where each lands.
    for (name, dir) in [
        (
            "chrome-beta",
            ".config/google-chrome-beta/NativeMessagingHosts",
        ),
        ("vivaldi", ".config/vivaldi/NativeMessagingHosts"),
        ("thorium", ".config/thorium/NativeMessagingHosts"),
        ("librewolf", ".librewolf/native-messaging-hosts"),
        ("waterfox", ".waterfox/native-messaging-hosts"),
        ("zen", ".mozilla/native-messaging-hosts"),
        ("thunderbird", ".mozilla/native-messaging-hosts"),
    ] {
        let listed = browsers
            .iter()
            .find(|(b, _)| b == name)
            .unwrap_or_else(|| panic!("{name} not in the table"));
        let expected = home.join(dir);
        assert!(
            listed.1 == expected.display().to_string()
                || listed.1.starts_with("the same folders as"),
            "{name}: {}",
            listed.1
        );
        let out = install(&home, None, name, &[]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", said(&out));
        assert!(expected.join(format!("{NAME}.json")).is_file(), "{name}");
        let out = uninstall(&home, None, name);
        assert_eq!(out.status.code(), Some(0), "{}", said(&out));
        assert!(!expected.join(format!("{NAME}.json")).exists(), "{name}");
    }
    for (name, place) in &browsers {
        if !place.starts_with('/') {
            continue; // not on Linux, or the same folders as another
        }
        let out = install(&home, None, name, &[]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", said(&out));
        let file = Path::new(place).join(format!("{NAME}.json"));
        let written: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        let firefox_like = place.contains("native-messaging-hosts");
        assert_eq!(
            written.get("allowed_extensions").is_some(),
            firefox_like,
            "{name}: {written}"
        );
        let out = check(&home, None, name, &[]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", said(&out));
        assert!(
            said(&out).contains(&format!("{}: ok (started as", file.display())),
            "{name}: {}",
            said(&out)
        );
        let out = uninstall(&home, None, name);
        assert_eq!(out.status.code(), Some(0), "{}", said(&out));
        assert!(!file.exists(), "{name}");
    }
    // Nothing written outside the folders of the table.
    let left: Vec<PathBuf> = walk(&home).into_iter().filter(|p| p.is_file()).collect();
    assert!(left.is_empty(), "{left:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

/// `manifest install --os windows` for `browser`, the manifest written in `home`.
fn install_for_windows(home: &Path, browser: &str) -> Output {
    let args = [
        "manifest",
        "install",
        "--os",
        "windows",
        "--name",
        NAME,
        "--path",
        r"C:\h\host.exe",
        "--browser",
        browser,
        "--origin",
        ORIGIN,
        "--extension-id",
        "a@b",
        "--manifest-dir",
        home.to_str().unwrap(),
    ];
    nmframe(&args, home, None)
}

#[test]
fn the_macos_and_windows_layouts() {
    let home = scratch("table_other_os");
    let macos = table(&home, "macos");
    let find =
        |t: &[(String, String)], name: &str| t.iter().find(|(b, _)| b == name).unwrap().1.clone();
    assert_eq!(
        find(&macos, "arc"),
        home.join("Library/Application Support/Arc/User Data/NativeMessagingHosts")
            .display()
            .to_string()
    );
    assert_eq!(
        find(&macos, "opera"),
        home.join("Library/Application Support/com.operasoftware.Opera/NativeMessagingHosts")
            .display()
            .to_string()
    );
    assert_eq!(find(&macos, "floorp"), "the same folders as firefox");
    let out = nmframe(
        &[
            "manifest",
            "install",
            "--os",
            "macos",
            "--name",
            NAME,
            "--path",
            "/Applications/Host.app/Contents/MacOS/host",
            "--browser",
            "chrome-canary",
            "--origin",
            ORIGIN,
        ],
        &home,
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(
        home.join(format!(
            "Library/Application Support/Google/Chrome Canary/NativeMessagingHosts/{NAME}.json"
        ))
        .is_file()
    );

    let windows = table(&home, "windows");
    assert_eq!(
        find(&windows, "vivaldi"),
        format!(r"HKCU\SOFTWARE\Google\Chrome\NativeMessagingHosts\<name>")
    );
    assert_eq!(find(&windows, "waterfox"), "the same keys as firefox");
    for (browser, key) in [
        ("vivaldi", r"HKCU\SOFTWARE\Google\Chrome"),
        ("librewolf", r"HKCU\SOFTWARE\Mozilla"),
        ("edge-dev", r"HKCU\SOFTWARE\Microsoft\Edge"),
        ("thorium", r"HKCU\SOFTWARE\Chromium"),
    ] {
        let out = install_for_windows(&home, browser);
        assert_eq!(out.status.code(), Some(0), "{}", said(&out));
        assert!(
            said(&out).contains(&format!(r#"REG ADD "{key}\NativeMessagingHosts\{NAME}""#)),
            "{browser}: {}",
            said(&out)
        );
    }
    let out = install_for_windows(&home, "arc");
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(
        said(&out).contains("reads no registry key"),
        "{}",
        said(&out)
    );
}

#[test]
fn unknown_browsers_are_refused_with_the_names_that_exist() {
    let home = scratch("table_unknown");
    let out = install(&home, None, "netscape", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        said(&out).contains("known: chrome, chrome-beta"),
        "{}",
        said(&out)
    );
    let out = install(&home, None, "flatpak:org.example.Nope", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(said(&out).contains("org.mozilla.firefox"), "{}", said(&out));
}

#[test]
fn a_flatpak_browser_gets_a_wrapper_that_starts_the_host_outside_the_sandbox() {
    let home = scratch("table_flatpak");
    let bin = home.join("bin");
    // flatpak-spawn --host --watch-bus HOST ARGS…: outside a sandbox, the stand-in runs
    // HOST itself.
    stand_in(&bin, "flatpak-spawn", "shift 2\nexec \"$@\"");
    stand_in(
        &bin,
        "flatpak",
        "[ \"$1\" = list ] && echo org.mozilla.firefox && echo org.chromium.Chromium\nexit 0",
    );
    let app = "org.mozilla.firefox";
    let browser = format!("flatpak:{app}");

    let out = nmframe(&["manifest", "browsers"], &home, Some(&bin));
    let listing = said(&out);
    let row = listing.lines().find(|l| l.starts_with(&browser)).unwrap();
    assert!(row.split_whitespace().nth(1) == Some("yes"), "{row}");

    let out = install(&home, Some(&bin), &browser, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(
        said(&out).contains(&format!(
            "grant it with: flatpak override --user --talk-name=org.freedesktop.Flatpak {app}"
        )),
        "{}",
        said(&out)
    );
    let dir = home.join(format!(".var/app/{app}/.mozilla/native-messaging-hosts"));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(format!("{NAME}.json"))).unwrap()).unwrap();
    let wrapper = dir.join(format!("{NAME}.nmframe-flatpak"));
    assert_eq!(manifest["path"], wrapper.display().to_string());

    // Without the permission, check says which and how to grant it.
    let out = check(&home, Some(&bin), &browser, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(
        said(&out).contains("may not run flatpak-spawn --host"),
        "{}",
        said(&out)
    );
    // Install asked to grant it runs `flatpak override`.
    let out = install(&home, Some(&bin), &browser, &["--flatpak-override"]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(
        log(&bin, "flatpak").contains(&format!(
            "override --user --talk-name=org.freedesktop.Flatpak {app}"
        )),
        "{}",
        log(&bin, "flatpak")
    );
    // What `flatpak override` writes; then check is content, and says what the proxy
    // would find (nothing: the manifest is inside the sandbox).
    let overrides = home.join(".local/share/flatpak/overrides");
    std::fs::create_dir_all(&overrides).unwrap();
    std::fs::write(
        overrides.join(app),
        "[Session Bus Policy]\norg.freedesktop.Flatpak=talk\n",
    )
    .unwrap();
    let out = check(&home, Some(&bin), &browser, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let text = said(&out);
    assert!(
        text.contains("the wrapper starts") && text.contains("argv.py outside the sandbox"),
        "{text}"
    );
    assert!(
        text.contains(
            "xdg-native-messaging-proxy a sandboxed browser would find nothing: it searches only"
        ),
        "{text}"
    );

    // The wrapper, run as the browser runs a host: through flatpak-spawn, the host
    // answers.
    let out = nmframe(
        &[
            "run",
            "--browser",
            "firefox",
            "-m",
            "[1]",
            "--",
            wrapper.to_str().unwrap(),
        ],
        &home,
        Some(&bin),
    );
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(said(&out).contains("\"argv\""), "{}", said(&out));
    let spawned = log(&bin, "flatpak-spawn");
    assert!(
        spawned.starts_with(&format!("--host --watch-bus {}", host("argv.py").display())),
        "{spawned}"
    );

    // --browser all: the installed Flatpak is among them.
    let out = nmframe(&["manifest", "list", "--browser", "all"], &home, Some(&bin));
    assert!(
        said(&out).contains(&wrapper.display().to_string()),
        "{}",
        said(&out)
    );

    let out = uninstall(&home, Some(&bin), &browser);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(!wrapper.exists() && !dir.join(format!("{NAME}.json")).exists());
}

#[test]
fn snap_browsers_through_the_portal_or_a_clear_refusal() {
    let home = scratch("table_snap");
    let bin = home.join("bin");
    stand_in(
        &bin,
        "snap",
        "echo 'Name      Version  Rev  Tracking       Publisher  Notes'\n\
         echo 'chromium  140.0    1    latest/stable  canonical  -'\n\
         echo 'firefox   150.0    2    latest/stable  mozilla    -'",
    );
    let out = nmframe(&["manifest", "browsers"], &home, Some(&bin));
    let listing = said(&out);
    for snap in ["snap:firefox", "snap:chromium"] {
        let row = listing.lines().find(|l| l.starts_with(snap)).unwrap();
        assert_eq!(row.split_whitespace().nth(1), Some("yes"), "{row}");
    }
    let out = install(&home, Some(&bin), "snap:chromium", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(
        said(&out).contains("the Chromium snap cannot start native-messaging hosts"),
        "{}",
        said(&out)
    );
    assert!(!home.join("snap").exists() && !home.join(".config").exists());

    let out = install(&home, Some(&bin), "snap:firefox", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(
        home.join(format!(".mozilla/native-messaging-hosts/{NAME}.json"))
            .is_file()
    );
    assert!(
        said(&out).contains(&format!(
            "flatpak permission-set webextensions {NAME} snap.firefox yes"
        )),
        "{}",
        said(&out)
    );
    let out = check(&home, Some(&bin), "snap:firefox", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(
        said(&out).contains("xdg-native-messaging-proxy a sandboxed browser would find"),
        "{}",
        said(&out)
    );
}

/// A manifest written by hand into Chromium's folder.
fn write_manifest(home: &Path, text: &str) -> PathBuf {
    let dir = home.join(".config/chromium/NativeMessagingHosts");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{NAME}.json"));
    std::fs::write(&file, text).unwrap();
    file
}

fn chromium_manifest(origins: &str) -> String {
    format!(
        r#"{{"name":"{NAME}","description":"d","path":"{}","type":"stdio","allowed_origins":{origins}}}"#,
        host("argv.py").display()
    )
}

#[test]
fn check_catches_what_trips_authors() {
    let home = scratch("table_check");
    let cases: [(String, &str); 3] = [
        (
            chromium_manifest(r#"["chrome-extension://*/"]"#),
            "wildcards are not allowed",
        ),
        (
            chromium_manifest(r#"["chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik"]"#),
            "lacks the trailing \"/\"",
        ),
        (
            chromium_manifest(r#"["chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkiz/"]"#),
            "is not an extension id (32 letters from a to p)",
        ),
    ];
    for (text, expected) in cases {
        let file = write_manifest(&home, &text);
        let out = check(&home, None, "chromium", &[]);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(
            said(&out).contains(&format!("{}: error: ", file.display()))
                && said(&out).contains(expected),
            "{expected:?} in {}",
            said(&out)
        );
    }

    // A byte-order mark and comments: what each browser does with them (measured by the
    // browser suite): Chromium reads both, Firefox refuses comments.
    let with_comments = chromium_manifest(&format!("[\"{ORIGIN}\" /* mine */]"))
        .replace("{\"name\"", "{ // host\n\"name\"");
    for (text, level) in [
        (
            format!("\u{feff}{}", chromium_manifest(&format!("[\"{ORIGIN}\"]"))),
            "warning: the file starts with a UTF-8 byte-order mark",
        ),
        (with_comments.clone(), "warning: the file has comments"),
    ] {
        let file = write_manifest(&home, &text);
        let out = check(&home, None, "chromium", &[]);
        assert_eq!(out.status.code(), Some(0), "{}", said(&out));
        assert!(
            said(&out).contains(&format!("{}: {level}", file.display())),
            "{}",
            said(&out)
        );
    }
    let firefox = home.join(".mozilla/native-messaging-hosts");
    std::fs::create_dir_all(&firefox).unwrap();
    let file = firefox.join(format!("{NAME}.json"));
    std::fs::write(
        &file,
        format!(
            "// the host\n{{\"name\":\"{NAME}\",\"description\":\"d\",\"path\":\"{}\",\"type\":\"stdio\",\"allowed_extensions\":[\"a@b\"]}}",
            host("argv.py").display()
        ),
    )
    .unwrap();
    let out = check(&home, None, "firefox", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(
        said(&out).contains("error: the file has comments"),
        "{}",
        said(&out)
    );
    std::fs::remove_file(&file).unwrap();

    // The extension's own manifest: the id its key gives must be allowed.
    let ext = home.join("extension");
    std::fs::create_dir_all(&ext).unwrap();
    // The key and its id: `openssl genrsa | openssl rsa -pubout -outform DER`, the id
    // computed apart with Python's hashlib.
    let key = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAstCLyRE+ylfLLC6EtIpELfgdeO7Fw9BRvWpfDgnYAX8rAiukirHPDsDaOfOHgelSAgyE3utdxN8ehwvXRjEjq3KF3MyOJDKu2HeYSb6TMbvdfx5UI8TXjC6lmeySq0V4SW/2nGkGxlSBKe3BYKtSUv81KT7+fOVW0vCFUZ8i3TajK/UGKo/3CSrWGTsCD9FAPMm2joNI/3KgRZhPBYFKRQJoW9Etm6+3X1hptVpL1F+JcYvxdB9WbTdFWqrx8X2wm3TsthoZbxK1o5RjlTbEcxOfLQJATRrqJMcN+GEWJkeUWmIDY+Tv7RwRhLCmYlLNHxwrC9uwlnyntVxc5H664wIDAQAB";
    let id = "kaceigiiolilaeifldacobncjhiogcgd";
    std::fs::write(
        ext.join("manifest.json"),
        format!(r#"{{"manifest_version":3,"name":"x","version":"1","key":"{key}","permissions":["nativeMessaging"],"browser_specific_settings":{{"gecko":{{"id":"x@example.org"}}}}}}"#),
    )
    .unwrap();
    let ext_arg = ["--extension-manifest", ext.to_str().unwrap()];
    write_manifest(&home, &chromium_manifest(&format!("[\"{ORIGIN}\"]")));
    let out = check(&home, None, "chromium", &ext_arg);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(
        said(&out).contains(&format!(
            "the extension will have id {id} (from its \"key\")"
        )),
        "{}",
        said(&out)
    );
    write_manifest(
        &home,
        &chromium_manifest(&format!("[\"chrome-extension://{id}/\"]")),
    );
    let out = check(&home, None, "chromium", &ext_arg);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    // Firefox: the gecko id.
    let out = install(&home, None, "firefox", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let out = check(&home, None, "firefox", &ext_arg);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(
        said(&out).contains("the extension's id is \"x@example.org\""),
        "{}",
        said(&out)
    );
    // Unpacked without a key: the id comes from the folder, and says so.
    std::fs::write(
        ext.join("manifest.json"),
        r#"{"manifest_version":3,"name":"x","version":"1","permissions":[]}"#,
    )
    .unwrap();
    let out = check(&home, None, "chromium", &ext_arg);
    let text = said(&out);
    assert!(
        text.contains("from the folder's path: it changes if the folder moves"),
        "{text}"
    );
    assert!(
        text.contains("does not ask for the \"nativeMessaging\" permission"),
        "{text}"
    );
}

#[test]
fn policies_are_read_as_chrome_reads_them() {
    let home = scratch("table_policy");
    let root = home.join("root");
    let policies = root.join("etc/opt/chrome/policies");
    let managed = policies.join("managed");
    std::fs::create_dir_all(&managed).unwrap();
    std::fs::create_dir_all(policies.join("recommended")).unwrap();
    let out = install(&home, None, "chrome", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let root_arg = ["--root", root.to_str().unwrap()];
    let check_chrome = || check(&home, None, "chrome", &root_arg);
    assert_eq!(
        check_chrome().status.code(),
        Some(0),
        "{}",
        said(&check_chrome())
    );

    std::fs::write(
        managed.join("block.json"),
        r#"{"NativeMessagingBlocklist": ["*"]}"#,
    )
    .unwrap();
    let out = check_chrome();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        said(&out).contains("policy NativeMessagingBlocklist"),
        "{}",
        said(&out)
    );
    assert!(said(&out).contains("block.json"), "{}", said(&out));
    std::fs::write(
        policies.join("recommended/allow.json"),
        format!(r#"{{"NativeMessagingAllowlist": ["{NAME}"]}}"#),
    )
    .unwrap();
    assert_eq!(
        check_chrome().status.code(),
        Some(0),
        "{}",
        said(&check_chrome())
    );

    std::fs::write(
        managed.join("user.json"),
        r#"{"NativeMessagingUserLevelHosts": false}"#,
    )
    .unwrap();
    let out = check_chrome();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        said(&out).contains("NativeMessagingUserLevelHosts is false"),
        "{}",
        said(&out)
    );
    // Installed system-wide (under the same root), it is let through.
    let out = uninstall(&home, None, "chrome");
    assert_eq!(out.status.code(), Some(0));
    let out = install(
        &home,
        None,
        "chrome",
        &["--system", "--root", root.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(
        root.join(format!("etc/opt/chrome/native-messaging-hosts/{NAME}.json"))
            .is_file()
    );
    let out = check_chrome();
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    // Chromium reads its own policy folder: Chrome's do not apply to it.
    let out = install(&home, None, "chromium", &[]);
    assert_eq!(out.status.code(), Some(0));
    let out = check(&home, None, "chromium", &root_arg);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
}

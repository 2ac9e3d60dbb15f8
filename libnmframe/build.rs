//! Gives libnmframe.so a soname, so that installed copies can be versioned
//! (libnmframe.so.0 → libnmframe.so.0.1.0) and programs link against the ABI's major
//! version.
fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" {
        let major = env!("CARGO_PKG_VERSION_MAJOR");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libnmframe.so.{major}");
    }
}

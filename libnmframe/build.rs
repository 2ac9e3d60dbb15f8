//! Gives libnmframe.so its soname, the ABI version programs link against: `MAJOR` from
//! 1.0 on (libnmframe.so.1), `0.MINOR` before it (libnmframe.so.0.1), since a 0.x minor
//! release may break the ABI as it may break the Rust API. ffi/install.sh reads the soname
//! back from the library and makes the links (libnmframe.so.0.1 → libnmframe.so.0.1.0).
//! The rules for what breaks the ABI are in the README ("ABI stability").
fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" {
        let major = env!("CARGO_PKG_VERSION_MAJOR");
        let abi = if major == "0" {
            format!("0.{}", env!("CARGO_PKG_VERSION_MINOR"))
        } else {
            major.to_owned()
        };
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libnmframe.so.{abi}");
    }
}

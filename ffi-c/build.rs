//! Gives libkonductor.so its SONAME, the name a program linked against it
//! asks the dynamic loader for.

use std::env;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    // A new SONAME for every release that may break the ABI: 1.x.y keeps
    // libkonductor.so.1, and (as Cargo reads 0.x versions) 0.1.y keeps
    // libkonductor.so.0.1.
    let major = env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets CARGO_PKG_VERSION_MAJOR");
    let minor = env::var("CARGO_PKG_VERSION_MINOR").expect("cargo sets CARGO_PKG_VERSION_MINOR");
    let abi = if major == "0" {
        format!("0.{minor}")
    } else {
        major
    };
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libkonductor.so.{abi}");
}

//! Build script: turns the kernel/daemon ABI header into Rust (bindgen, with
//! layout tests) and compiles the C shim that exports the ioctl request numbers
//! bindgen cannot evaluate.

use std::env;
use std::path::PathBuf;

const HEADER: &str = "driver/include/uapi/saker_abi.h";
const SHIM: &str = "src/abi/ioctl_shim.c";

fn main() {
    println!("cargo:rerun-if-changed={HEADER}");
    println!("cargo:rerun-if-changed=driver/include/uapi/saker_events.h");
    println!("cargo:rerun-if-changed={SHIM}");

    cc::Build::new()
        .file(SHIM)
        .include("driver/include/uapi")
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .compile("saker_ioctl_shim");

    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    bindgen::Builder::default()
        .header(HEADER)
        .clang_arg("-Idriver/include/uapi")
        .allowlist_type("saker_.*")
        .allowlist_var("SAKER_.*")
        .rustified_non_exhaustive_enum("saker_event_type")
        .derive_default(true)
        .layout_tests(true)
        .use_core()
        .generate()
        .expect("bindgen could not translate the ABI header")
        .write_to_file(out.join("saker_abi.rs"))
        .expect("cannot write the generated bindings");
}

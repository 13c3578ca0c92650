//! The C API of Konductor: `libkonductor.so` / `libkonductor.a` with the
//! header `include/konductor.h` (generated from this crate by cbindgen).
//!
//! A thin layer over the core crate with no coordination logic of its own.
//! Conventions, as the header and the README's "C API" section document
//! them: every function and type starts with `konductor_`, and a function's
//! prefix names the type of its first argument (`konductor_client_get`,
//! `konductor_held_renew`); handles are opaque and each has one `_free`
//! that accepts NULL; fallible calls return
//! a [`result::konductor_result`] and write outputs through out-parameters
//! only on success; the calling thread's last error message says what went
//! wrong; no panic crosses into C.

// C callers cannot see Rust's `unsafe`: every exported function takes raw
// pointers, whose contract (NULL or valid for the call) the header documents.
#![allow(clippy::not_unsafe_ptr_arg_deref)]
// Types carry their C names (`konductor_held`, `KONDUCTOR_OK`), as cbindgen
// copies them into the header.
#![allow(non_camel_case_types)]
#![deny(rustdoc::broken_intra_doc_links)]

// Declared in the order the header should present them (cbindgen follows
// it): the client and the calls on it, the handles they give, then plumbing.
pub mod client;

pub mod kind;
pub mod objects;

pub mod create;

pub mod acquire;
pub mod held;

pub mod barrier;
pub mod gate;
pub mod leader;
pub mod once;
pub mod rwmutex;
pub mod waitgroup;

pub mod callback;
pub mod cancel;
pub mod last_error;
pub mod options;
pub mod result;
pub mod strings;
pub mod version;

mod arguments;
mod handle;
mod panic;

// Every handle may be used from any thread at once, as the header promises.
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<client::konductor_client>();
    shareable::<held::konductor_held>();
    shareable::<cancel::konductor_cancel>();
};

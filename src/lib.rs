//! # prebake
//!
//! A build-stage asset packager. `prebake build` turns a tree of JavaScript,
//! TypeScript, JSX/TSX, CSS and static files into a release directory of
//! minified, content-fingerprinted, read-only files plus one JSON manifest.
//! A running process only reads the manifest: it never compiles, hashes or
//! writes.
//!
//! ```text
//! Options --resolve--> Config
//! lock(out dir) → discover → plan pages → graph (bundle the entries and
//!               pages' scripts; the rest per file) → check names
//!               → compile (parallel) → link references → [stop on errors]
//!               → fingerprint (name in dependency order, rewrite)
//!               → assemble the manifest → publish (files, manifest last)
//! ```
//!
//! Where each stage lives, what each module owns and where a change goes:
//! [`architecture`].
//!
//! A build from Rust code ([`build`]): the same pipeline as `prebake
//! build`, returning everything instead of printing it.
//!
//! ```no_run
//! use std::process::ExitCode;
//!
//! fn main() -> ExitCode {
//!     // What `prebake.toml` would say; paths are relative to `opts.cwd`
//!     // (the working directory when `None`).
//!     let mut opts = prebake::Options::default();
//!     opts.settings.root = Some("assets".into());
//!     opts.settings.out = Some("public/assets".into());
//!     opts.settings.entries = Some(vec!["app.ts".into()]);
//!     opts.no_config = true; // ignore any prebake.toml
//!
//!     let output = prebake::build(&opts);
//!
//!     // Errors and warnings, with file:line:col and a code frame.
//!     for d in &output.diagnostics {
//!         eprint!("{}", prebake::diagnostics::render_human(d, false));
//!     }
//!     // No manifest: the build failed and wrote nothing; the previous
//!     // release is intact. 1 for build errors, 2 for config or I/O.
//!     let Some(manifest) = &output.manifest else {
//!         return ExitCode::from(output.exit_code());
//!     };
//!     for asset in &output.assets {
//!         println!("{} -> {} ({})", asset.logical, asset.file, asset.entry.integrity);
//!     }
//!     // The `<head>` tags of the entry point, with integrity.
//!     print!("{}", manifest.entry_tags("app.ts").unwrap_or_default());
//!     // Every file the build read, e.g. for a watcher or a build system.
//!     for input in &output.inputs {
//!         println!("read {}", input.display());
//!     }
//!     ExitCode::SUCCESS
//! }
//! ```
//!
//! The [`manifest`] module is always available (the `manifest` feature
//! names it for apps that need nothing else); everything that compiles
//! needs the `compiler` feature (on by default). A crate's `build.rs` uses
//! [`build_script::Builder`].

pub mod manifest;

/// The contributor map (`src/architecture.md`).
#[doc = include_str!("architecture.md")]
pub mod architecture {}

#[cfg(feature = "compiler")]
pub mod build_script;
#[cfg(feature = "compiler")]
pub mod bundle;
#[cfg(feature = "compiler")]
pub mod cache;
#[cfg(feature = "compiler")]
pub mod check;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "compiler")]
pub mod compile;
#[cfg(feature = "compiler")]
pub mod config;
#[cfg(feature = "compiler")]
pub mod css;
#[cfg(feature = "compiler")]
pub mod diagnostics;
#[cfg(feature = "compiler")]
pub mod discover;
#[cfg(feature = "compiler")]
pub mod fingerprint;
#[cfg(feature = "compiler")]
pub mod graph;
#[cfg(feature = "compiler")]
pub mod html;
#[cfg(feature = "compiler")]
pub mod jobs;
#[cfg(feature = "compiler")]
pub mod js;
#[cfg(feature = "compiler")]
pub mod link;
#[cfg(feature = "compiler")]
pub mod output;
#[cfg(feature = "compiler")]
pub mod pages;
#[cfg(feature = "compiler")]
pub mod pipeline;
#[cfg(feature = "compiler")]
pub mod placeholder;
#[cfg(feature = "compiler")]
pub mod refs;
#[cfg(feature = "compiler")]
pub mod sourcemap;
#[cfg(feature = "compiler")]
pub mod tsconfig;
#[cfg(feature = "cli")]
pub mod watch;

#[cfg(feature = "compiler")]
pub use config::{Config, Options, Settings};
#[cfg(feature = "compiler")]
pub use diagnostics::{Diagnostic, Severity};
pub use manifest::{Entry, Manifest};
#[cfg(feature = "compiler")]
pub use pipeline::{BuildOutput, Event, build, build_with};

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
//! lock(out dir) → discover → check names → compile (parallel) → fingerprint
//!               → write files → write manifest (last, atomically)
//! ```
//!
//! ```no_run
//! # #[cfg(feature = "compiler")] {
//! let mut opts = prebake::Options::default();
//! opts.settings.root = Some("assets".into());
//! opts.settings.out = Some("public/assets".into());
//! let output = prebake::build(&opts);
//! for d in &output.diagnostics {
//!     eprint!("{}", prebake::diagnostics::render_human(d, false));
//! }
//! let manifest = output.manifest.expect("build failed");
//! println!("{:?}", manifest.url("app.ts"));
//! # }
//! ```
//!
//! The [`manifest`] module is always available (the `manifest` feature
//! names it for apps that need nothing else); everything that compiles
//! needs the `compiler` feature (on by default). A crate's `build.rs` uses
//! [`build_script::Builder`].

pub mod manifest;

#[cfg(feature = "compiler")]
pub mod build_script;
#[cfg(feature = "compiler")]
pub mod bundle;
#[cfg(feature = "compiler")]
pub mod check;
#[cfg(feature = "cli")]
pub mod cli;
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
pub mod html;
#[cfg(feature = "compiler")]
pub mod js;
#[cfg(feature = "compiler")]
pub mod output;
#[cfg(feature = "compiler")]
pub mod pipeline;
#[cfg(feature = "compiler")]
pub mod refs;
#[cfg(feature = "compiler")]
pub mod sourcemap;
#[cfg(feature = "cli")]
pub mod watch;

#[cfg(feature = "compiler")]
pub use config::{Config, Options, Settings};
#[cfg(feature = "compiler")]
pub use diagnostics::{Diagnostic, Severity};
pub use manifest::{Entry, Manifest};
#[cfg(feature = "compiler")]
pub use pipeline::{BuildOutput, Event, build, build_with};

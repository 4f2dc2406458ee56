//! The example app (`fixtures/rust-app`): a std-only web server whose
//! build.rs runs `prebake::build_script` and whose code uses the generated
//! constants. It is built with cargo, started on a loopback port, and its
//! page and every asset of its release are fetched over HTTP.
//!
//! The same server is then pointed at a release `prebake build` wrote (the
//! other consumer: anything that reads `manifest.json`), which must be the
//! same release, byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::{Project, bin, newest_build_dir, repo, target_dir};
use prebake::Manifest;
use prebake::manifest::Integrity;

const APP: &str = "prebake-example-app";

/// A running server, killed on drop.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(args: &[&Path]) -> Server {
        let mut child = Command::new(target_dir().join("debug").join(APP))
            .arg("127.0.0.1:0")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the example app");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Some(addr) = line.trim().strip_prefix("listening on http://") else {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("the app did not start: {line}{err}");
        };
        Server {
            addr: addr.to_string(),
            child,
        }
    }

    /// One request: status line, headers (lowercased names), body.
    fn request(&self, method: &str, path: &str) -> Response {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("no end of headers");
        let head = String::from_utf8(raw[..split].to_vec()).unwrap();
        let mut lines = head.split("\r\n");
        let status = lines.next().unwrap().to_string();
        let headers = lines
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect();
        Response {
            status,
            headers,
            body: raw[split + 4..].to_vec(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Response {
    status: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// The `(url, integrity)` of every `<script src>` and `<link href>` of a
/// page.
fn tagged(page: &str) -> Vec<(String, String)> {
    let attr = |tag: &str, name: &str| {
        let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        let len = tag[start..].find('"')?;
        Some(tag[start..start + len].to_string())
    };
    page.split('<')
        .filter(|t| t.starts_with("script ") || t.starts_with("link "))
        .filter_map(|t| {
            Some((
                attr(t, "src").or_else(|| attr(t, "href"))?,
                attr(t, "integrity")?,
            ))
        })
        .collect()
}

/// Serves the release in `manifest` (written to `dir`): the page has the
/// entry's tags, and every file of the release is served with its type,
/// an immutable cache header and bytes matching its integrity.
fn check_serves(server: &Server, manifest: &Manifest, dir: &Path) {
    let page = server.request("GET", "/");
    assert_eq!(page.status, "HTTP/1.1 200 OK");
    assert_eq!(page.header("cache-control"), "no-cache");
    let html = String::from_utf8(page.body).unwrap();
    assert!(
        html.contains(&manifest.entry_tags("app.ts").unwrap()),
        "the page lacks the entry's tags:\n{html}"
    );
    assert!(
        html.contains(&format!(
            "<img src=\"{}\"",
            manifest.url("img/logo.svg").unwrap()
        )),
        "{html}"
    );
    // The script and its stylesheet, with fingerprinted names.
    let tags = tagged(&html);
    assert_eq!(tags.len(), 2, "{html}");
    for (url, integrity) in &tags {
        let name = url.rsplit('/').next().unwrap();
        let (stem, hash) = name.split_once('.').unwrap().0.rsplit_once('-').unwrap();
        assert_eq!(stem, "app", "{url}");
        assert!(
            hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
            "not fingerprinted: {url}"
        );
        let r = server.request("GET", url);
        assert_eq!(r.status, "HTTP/1.1 200 OK", "{url}");
        assert_eq!(
            Integrity::parse(integrity).unwrap().compute(&r.body),
            *integrity,
            "{url} does not match its integrity"
        );
    }
    // Every file of the release, the lazily imported chunk included.
    assert!(manifest.assets.contains_key("details.ts"));
    for (logical, e) in &manifest.assets {
        let url = manifest.url(logical).unwrap();
        let r = server.request("GET", &url);
        assert_eq!(r.status, "HTTP/1.1 200 OK", "{url}");
        assert_eq!(r.header("content-type"), e.content_type, "{url}");
        assert_eq!(
            r.header("cache-control"),
            "public, max-age=31536000, immutable",
            "{url}"
        );
        assert_eq!(r.body, std::fs::read(dir.join(&e.file)).unwrap(), "{url}");
        assert_eq!(
            Integrity::parse(&e.integrity).unwrap().compute(&r.body),
            e.integrity,
            "{url}"
        );
        let head = server.request("HEAD", &url);
        assert_eq!(head.header("content-length"), e.size.to_string());
        assert!(head.body.is_empty());
    }
    // A name that is not in the release, and a stale fingerprint.
    assert_eq!(
        server.request("GET", "/assets/app.js").status,
        "HTTP/1.1 404 Not Found"
    );
    assert_eq!(
        server
            .request("GET", "/assets/app-0000000000000000.js")
            .status,
        "HTTP/1.1 404 Not Found"
    );
}

#[test]
fn the_example_app_serves_its_fingerprinted_assets_with_integrity() {
    let build = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["build", "--offline", "-p", APP])
        .current_dir(repo())
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("run cargo");
    let stderr = String::from_utf8_lossy(&build.stderr);
    assert!(
        build.status.success(),
        "cargo build -p {APP} failed:\n{stderr}"
    );
    // No warnings from the generated module, though the app uses only a
    // few of its items.
    assert!(!stderr.contains("warning"), "{stderr}");

    // From the binary: the constants and the embedded bytes.
    let dir = newest_build_dir(&target_dir(), APP, "out/prebake/manifest.json").join("out/prebake");
    let manifest = Manifest::load(dir.join("manifest.json")).unwrap();
    assert_eq!(manifest.base, "/assets/");
    let server = Server::start(&[]);
    check_serves(&server, &manifest, &dir);
    drop(server);

    // From a release `prebake build` wrote with the same settings: the
    // same bytes, so a server in any language serves what the Rust app
    // embeds.
    let p = Project::new();
    let out = p.path().join("release");
    let cli = Command::new(bin())
        .args([
            "build",
            "--no-config",
            "--entry",
            "app.ts",
            "--base",
            "/assets/",
            "--root",
        ])
        .arg(repo().join("fixtures/rust-app/assets"))
        .arg("--out")
        .arg(&out)
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .unwrap();
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("manifest.json")).unwrap(),
        std::fs::read_to_string(dir.join("manifest.json")).unwrap(),
        "prebake build and the build script made different releases"
    );
    let server = Server::start(&[Path::new("--release-dir"), &out]);
    check_serves(&server, &manifest, &out);
}

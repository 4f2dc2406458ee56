//! The runtime manifest reader (RELIABILITY.md T17): a process that loads a
//! release's manifest and looks up its assets performs no write of any
//! kind, checked under strace, with the release on a read-only mount.
//!
//! This test has its own `main` (`harness = false`): run with
//! `PREBAKE_READER_MANIFEST=<path>`, the binary is the reader process the
//! test traces; otherwise it is the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::process::Command;

use common::Project;

fn main() {
    if let Ok(path) = std::env::var("PREBAKE_READER_MANIFEST") {
        reader(&path);
        return;
    }
    t17_the_reader_never_writes();
    println!("test t17_the_reader_never_writes ... ok");
}

/// What an app does with the manifest at start-up and per request.
fn reader(path: &str) {
    let m = prebake::Manifest::load(path).expect("the manifest loads");
    for name in ["app.ts", "app.css", "lazy.ts", "img/logo.png"] {
        println!("{name} {}", m.url(name).expect("a known asset"));
    }
    print!("{}", m.entry_tags("app.ts").expect("entry tags"));
    assert!(m.get("missing.css").is_none());
}

fn t17_the_reader_never_writes() {
    let p = Project::new();
    p.write(
        "src/app.ts",
        "import { f } from \"./lib\";\nimport \"./style.css\";\nconsole.log(f());\nexport const lazy = () => import(\"./lazy\");\n",
    )
    .write("src/lib.ts", "export const f = (): number => 1;\n")
    .write("src/lazy.ts", "export const z = 2;\n")
    .write("src/style.css", ".a { background: url(\"./img/logo.png\"); }\n")
    .write("src/img/logo.png", b"\x89PNG not really\n");
    p.build(&["--entry", "app.ts"]).assert_code(0);
    let out = p.path().join("out");
    let manifest = out.join("manifest.json");
    let expected = prebake::Manifest::load(&manifest).unwrap();

    assert!(
        Command::new("strace").arg("-V").output().is_ok(),
        "strace is missing: tests/setup.sh installs it"
    );
    let log = p.path().join("strace.log");
    let me = std::env::current_exe().unwrap();
    let traced = [
        "strace",
        "-f",
        "-qq",
        "-e",
        "trace=open,openat,openat2,creat,write,pwrite64,writev,pwritev,pwritev2,rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat,rmdir,truncate,ftruncate,chmod,fchmod,fchmodat,link,linkat,symlink,symlinkat,utimensat",
        "-o",
    ];
    // The release read-only, as a container mounts it: a private mount
    // namespace (user namespace, so no root is needed) with the out dir
    // bind-mounted read-only onto itself.
    let script =
        "mount --bind \"$1\" \"$1\" && mount -o remount,bind,ro \"$1\" && shift && exec \"$@\"";
    let mut cmd = Command::new("unshare");
    cmd.args(["-Urm", "sh", "-c", script, "sh"])
        .arg(&out)
        .args(traced)
        .arg(&log)
        .arg(&me)
        .env("PREBAKE_READER_MANIFEST", &manifest);
    let run = cmd.output().expect("spawn unshare");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "the traced reader failed: {}\n--- stdout\n{stdout}\n--- stderr\n{}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    // The lookups worked, and say what the manifest says.
    for name in ["app.ts", "app.css", "lazy.ts", "img/logo.png"] {
        let line = format!("{name} {}", expected.url(name).unwrap());
        assert!(stdout.contains(&line), "missing `{line}` in:\n{stdout}");
    }
    assert!(
        stdout.contains(&expected.entry_tags("app.ts").unwrap()),
        "{stdout}"
    );
    // The mount really was read-only for the reader: the same write from
    // inside the namespace fails.
    let probe = Command::new("unshare")
        .args(["-Urm", "sh", "-c", "mount --bind \"$1\" \"$1\" && mount -o remount,bind,ro \"$1\" && ! touch \"$1/probe\" 2>/dev/null", "sh"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(
        probe.success(),
        "the out dir was not read-only inside the namespace"
    );

    let trace = fs::read_to_string(&log).unwrap();
    let mut writes = Vec::new();
    for line in trace.lines() {
        let call = line
            .split_once(' ')
            .map_or(line, |(_, rest)| rest)
            .trim_start();
        let name = call.split('(').next().unwrap_or("");
        let bad = match name {
            "open" | "openat" | "openat2" => {
                call.contains("O_WRONLY")
                    || call.contains("O_RDWR")
                    || call.contains("O_CREAT")
                    || call.contains("O_TRUNC")
            }
            // Its own stdout and stderr are where it prints the lookups.
            "write" | "writev" | "pwrite64" | "pwritev" | "pwritev2" => {
                !(call.starts_with(&format!("{name}(1,"))
                    || call.starts_with(&format!("{name}(2,")))
            }
            "" => false,
            _ => !call.starts_with("+++") && !call.starts_with("---"),
        };
        if bad {
            writes.push(line.to_string());
        }
    }
    assert!(
        writes.is_empty(),
        "the reader wrote:\n{}\n--- whole trace\n{trace}",
        writes.join("\n")
    );
    // The trace did see the reader's own work (the manifest opened).
    assert!(
        trace.contains("manifest.json"),
        "strace saw nothing:\n{trace}"
    );
}

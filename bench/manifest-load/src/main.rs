//! Times `prebake::Manifest::load` on a manifest of N entries (default
//! 10,000) against `serde_json::from_str::<Value>` of the same text, and
//! prints the median of each and their ratio.
//!
//! Each reader runs in child processes of its own (this binary, with
//! `--child`), the two taking turns. In one process they skewed each
//! other: whether glibc hands freed heap back to the kernel (to fault it
//! in again on the next run) depends on the largest blocks freed before,
//! so `Value` parsing measured 10 ms after one version of the loader, 12
//! to 14 after another, and 14 on its own. Taking turns also spreads a
//! busy spell on a shared machine over both.

use std::process::Command;
use std::time::{Duration, Instant};

use prebake::manifest::{Entry, Integrity, Manifest};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, reader, path, runs, n] = &args[..]
        && flag == "--child"
    {
        child(
            reader,
            path,
            runs.parse().expect("runs"),
            n.parse().expect("n"),
        );
        return;
    }
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let runs = 51;
    let turns = 3;
    let mut m = Manifest::new("/assets/");
    for i in 0..n {
        let logical = format!("pages/section-{}/component-{i}.ts", i % 97);
        m.assets.insert(
            logical,
            Entry {
                map: Some(format!(
                    "pages/section-{}/component-{i}-{:016x}.js.map",
                    i % 97,
                    i
                )),
                ..Entry::new(
                    format!(
                        "pages/section-{}/component-{i}-{:016x}.js",
                        i % 97,
                        i * 7919
                    ),
                    Integrity::Sha384.compute(&i.to_le_bytes()),
                    1000 + i as u64,
                    "text/javascript",
                )
            },
        );
    }
    let dir = std::env::temp_dir().join(format!("prebake-manifest-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("manifest.json");
    std::fs::write(&path, m.to_json()).expect("write manifest");
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);

    let me = std::env::current_exe().expect("current exe");
    let time = |reader: &str| -> Vec<Duration> {
        let out = Command::new(&me)
            .args(["--child", reader])
            .arg(&path)
            .arg((runs / turns).to_string())
            .arg(n.to_string())
            .output()
            .expect("run child");
        assert!(out.status.success(), "{reader}: {out:?}");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| Duration::from_nanos(l.parse().expect("ns")))
            .collect()
    };
    let (mut loads, mut values) = (Vec::new(), Vec::new());
    for turn in 0..turns {
        if turn % 2 == 0 {
            loads.extend(time("load"));
            values.extend(time("value"));
        } else {
            values.extend(time("value"));
            loads.extend(time("load"));
        }
    }
    let median = |mut t: Vec<Duration>| {
        t.sort();
        t[t.len() / 2]
    };
    let (load, value) = (median(loads), median(values));
    let _ = std::fs::remove_dir_all(&dir);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "| reader | entries | manifest KiB | median ms ({runs} runs, {turns} processes each) |"
    );
    println!("|---|---:|---:|---:|");
    println!(
        "| prebake::Manifest::load (strict: digest, schema, duplicates, paths) | {n} | {} | {:.2} |",
        bytes / 1024,
        ms(load)
    );
    println!(
        "| serde_json::from_str::<Value> (no checks) | {n} | {} | {:.2} |",
        bytes / 1024,
        ms(value)
    );
    println!();
    println!(
        "ratio prebake/serde_json Value: {:.2}",
        ms(load) / ms(value)
    );
}

/// Runs one reader `runs` times after an untimed first run (which faults
/// in the process's heap), printing each time in nanoseconds.
fn child(reader: &str, path: &str, runs: usize, n: usize) {
    let once = || match reader {
        "load" => {
            let m = Manifest::load(path).expect("load");
            assert_eq!(m.assets.len(), n);
        }
        "value" => {
            let text = std::fs::read_to_string(path).expect("read");
            let v: serde_json::Value = serde_json::from_str(&text).expect("parse");
            assert!(v["assets"].is_object());
        }
        _ => panic!("unknown reader {reader}"),
    };
    once();
    for _ in 0..runs {
        let s = Instant::now();
        once();
        println!("{}", s.elapsed().as_nanos());
    }
}

//! Times `prebake::Manifest::load` on a manifest of N entries (default
//! 10,000) against `serde_json::from_str::<Value>` of the same text, and
//! prints the median of each and their ratio.

use std::time::{Duration, Instant};

use prebake::manifest::{Entry, Integrity, Manifest};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let runs = 51;
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

    let median = |f: &dyn Fn()| -> Duration {
        let mut t: Vec<Duration> = (0..runs)
            .map(|_| {
                let s = Instant::now();
                f();
                s.elapsed()
            })
            .collect();
        t.sort();
        t[runs / 2]
    };
    let load = median(&|| {
        let m = Manifest::load(&path).expect("load");
        assert_eq!(m.assets.len(), n);
    });
    let value = median(&|| {
        let text = std::fs::read_to_string(&path).expect("read");
        let v: serde_json::Value = serde_json::from_str(&text).expect("parse");
        assert!(v["assets"].is_object());
    });
    let _ = std::fs::remove_dir_all(&dir);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("| reader | entries | manifest KiB | median ms ({runs} runs) |");
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

//! TypeScript as esbuild and Vite compile it: each file's tsconfig.json
//! (nearest owner, `extends`) and per-file JSX pragmas, with prebake.toml
//! and flags winning over tsconfig.json. Decorator semantics under bundling
//! are checked against esbuild's output in `tests/bundle_exec.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Project, read_tree};

/// The text of the output whose name starts with `prefix` (a path in the
/// out dir, `dir/name-`).
#[track_caller]
fn output(p: &Project, prefix: &str) -> String {
    let tree = read_tree(&p.path().join("out"));
    let (_, bytes) = tree
        .iter()
        .find(|(k, _)| k.starts_with(prefix) && !k.to_ascii_lowercase().ends_with(".map"))
        .unwrap_or_else(|| panic!("no output {prefix}*: {:?}", tree.keys()));
    // Unminified: pure annotations and the quotes as written are noise here.
    String::from_utf8_lossy(bytes)
        .replace("/*#__PURE__*/ ", "")
        .replace('\'', "\"")
}

#[test]
fn each_directory_gets_the_jsx_of_its_own_tsconfig() {
    let p = Project::new();
    p.write(
        "src/classic/tsconfig.json",
        r#"{ "compilerOptions": { "jsx": "react", "jsxFactory": "h", "jsxFragmentFactory": "Fragment" } }"#,
    )
    .write(
        "src/classic/view.tsx",
        "import { h, Fragment } from 'preact';\nexport const v = <><b>hi</b></>;\n",
    )
    // `extends` a package's config, which names the import source.
    .write(
        "node_modules/@acme/tsconfig/tsconfig.json",
        r#"{ "compilerOptions": { "jsx": "react-jsx", "jsxImportSource": "preact" } }"#,
    )
    .write(
        "src/auto/tsconfig.json",
        r#"{ "extends": "@acme/tsconfig/tsconfig.json" }"#,
    )
    .write("src/auto/view.tsx", "export const v = <b>hi</b>;\n")
    // No tsconfig.json owns this one: prebake's defaults.
    .write("src/plain.jsx", "export const v = <b>hi</b>;\n");
    p.build(&["--no-minify", "--no-config"]).assert_code(0);
    let classic = output(&p, "classic/view-");
    assert!(classic.contains("h(Fragment, null, h(\"b\""), "{classic}");
    // The factory's import is kept, not elided as unused.
    assert!(classic.contains("from \"preact\""), "{classic}");
    let auto = output(&p, "auto/view-");
    assert!(auto.contains("from \"preact/jsx-runtime\""), "{auto}");
    let plain = output(&p, "plain-");
    assert!(plain.contains("from \"react/jsx-runtime\""), "{plain}");
}

#[test]
fn prebake_settings_win_over_tsconfig() {
    let p = Project::new();
    p.write(
        "src/tsconfig.json",
        r#"{ "compilerOptions": { "jsx": "react", "jsxFactory": "h", "experimentalDecorators": true } }"#,
    )
    .write("src/view.tsx", "export const v = <b>hi</b>;\n")
    .write(
        "src/dec.ts",
        "function d(v: any, c: any) { return v; }\n@d export class A {}\n",
    );
    p.build(&[
        "--no-minify",
        "--no-config",
        "--jsx",
        "automatic",
        "--jsx-import-source",
        "solid-js",
        "--decorators",
        "standard",
    ])
    .assert_code(0);
    assert!(output(&p, "view-").contains("solid-js/jsx-runtime"));
    // Standard decorators' helper, not TypeScript's `__decorate`.
    let dec = output(&p, "dec-");
    assert!(dec.contains("_apply_decs_2203"), "{dec}");
    assert!(!dec.contains("_ts_decorate"), "{dec}");
}

#[test]
fn tsconfig_decorator_options_shape_typescript_files_only() {
    let p = Project::new();
    p.write(
        "src/tsconfig.json",
        r#"{ "compilerOptions": { "experimentalDecorators": true, "emitDecoratorMetadata": true, "useDefineForClassFields": false, "allowJs": true } }"#,
    )
    .write(
        "src/model.ts",
        "function col(t: any, k: string) {}\nexport class User { @col name: string = 'x'; later!: number; }\n",
    )
    // JavaScript keeps the standard semantics whatever tsconfig.json says.
    .write("src/plain.js", "export class P { field = 1; }\n");
    p.build(&["--no-minify", "--no-config"]).assert_code(0);
    let model = output(&p, "model-");
    assert!(model.contains("_ts_decorate"), "{model}");
    assert!(model.contains("\"design:type\""), "{model}");
    // Assigned in the constructor; the field without a value is gone.
    assert!(
        model.contains("this.name = 'x'") || model.contains("this.name = \"x\""),
        "{model}"
    );
    assert!(!model.contains("later"), "{model}");
    let plain = output(&p, "plain-");
    assert!(plain.contains("field = 1"), "{plain}");
}

#[test]
fn verbatim_module_syntax_keeps_imports_typescript_would_elide() {
    for (tsconfig, runs) in [
        (
            r#"{ "compilerOptions": { "verbatimModuleSyntax": true } }"#,
            true,
        ),
        (
            r#"{ "compilerOptions": { "importsNotUsedAsValues": "preserve" } }"#,
            true,
        ),
        (r#"{ "compilerOptions": {} }"#, false),
    ] {
        let p = Project::new();
        p.write("src/tsconfig.json", tsconfig)
            .write(
                "src/side.ts",
                "console.log('side effect');\nexport const x = 1;\n",
            )
            .write(
                "src/main.ts",
                "import { x } from './side';\nconsole.log('main');\n",
            );
        p.build(&["--no-minify", "--no-config", "--entry", "main.ts"])
            .assert_code(0);
        let main = output(&p, "main-");
        assert_eq!(main.contains("side effect"), runs, "{tsconfig}\n{main}");
    }
}

#[test]
fn jsx_pragmas_win_per_file() {
    let p = Project::new();
    // `@jsx` alone under the default automatic runtime: classic with that
    // factory (it was a hard error).
    p.write(
        "src/preact.tsx",
        "/** @jsx h */\nimport { h } from 'preact';\nexport const v = <b>hi</b>;\n",
    )
    .write(
        "src/frag.jsx",
        "/** @jsx h */\n/** @jsxFrag Fragment */\nimport { h, Fragment } from 'preact';\nexport const v = <><i/></>;\n",
    )
    .write(
        "src/source.tsx",
        "/** @jsxImportSource @emotion/react */\nexport const v = <b>hi</b>;\n",
    )
    .write(
        "src/runtime.jsx",
        "// @jsxRuntime classic\nimport React from 'react';\nexport const v = <b>hi</b>;\n",
    )
    // Pragmas win over tsconfig.json too.
    .write(
        "src/tsconfig.json",
        r#"{ "compilerOptions": { "jsx": "react-jsx", "jsxImportSource": "preact" } }"#,
    );
    p.build(&["--no-minify", "--no-config"]).assert_code(0);
    let preact = output(&p, "preact-");
    assert!(preact.contains("h(\"b\", null, \"hi\")"), "{preact}");
    assert!(preact.contains("from \"preact\""), "{preact}");
    let frag = output(&p, "frag-");
    assert!(frag.contains("h(Fragment, null, h(\"i\""), "{frag}");
    assert!(output(&p, "source-").contains("@emotion/react/jsx-runtime"));
    assert!(output(&p, "runtime-").contains("React.createElement(\"b\""));
}

#[test]
fn a_broken_tsconfig_fails_the_build_naming_it() {
    let p = Project::new();
    p.write("src/tsconfig.json", "{ \"compilerOptions\": { \"jsx\": ")
        .write("src/a.ts", "export const a = 1;\n");
    p.build(&["--no-config"])
        .assert_code(2)
        .assert_stderr_has("TSCONFIG")
        .assert_stderr_has("tsconfig.json");
}

/// `import * as ns from "cjs"; ns()`: TypeScript without `esModuleInterop`
/// makes `ns` the module's `module.exports`, so the call works; anywhere
/// else it is a namespace object and the call a located warning.
#[test]
fn calling_a_namespace_import_works_where_typescript_allows_it() {
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok();
    for (tsconfig, file, works) in [
        (
            Some(r#"{ "compilerOptions": { "module": "commonjs" } }"#),
            "main.ts",
            true,
        ),
        (Some(r#"{ "extends": "./base.json" }"#), "main.ts", false),
        (None, "main.js", false),
    ] {
        let p = Project::new();
        p.write(
            "src/base.json",
            r#"{ "compilerOptions": { "esModuleInterop": true } }"#,
        )
        .write(
            "src/class-names.cjs",
            "module.exports = function (...a) { return a.join(' '); };\nmodule.exports.version = 2;\n",
        )
        .write(
            &format!("src/{file}"),
            "import * as classNames from './class-names.cjs';\nconsole.log(classNames.version, classNames('a', 'b'));\n",
        );
        if let Some(t) = tsconfig {
            p.write("src/tsconfig.json", t);
        }
        let run = p.build(&["--no-config", "--entry", file]);
        run.assert_code(0);
        assert_eq!(
            run.stderr.contains("warning[CALL_IMPORT_NAMESPACE]"),
            !works,
            "{tsconfig:?} {file}\n{}",
            run.stderr
        );
        if !works {
            run.assert_stderr_has(&format!("src/{file}:2:33"));
        } else if node {
            let main = output(&p, "main-");
            let out = std::process::Command::new("node")
                .args(["--input-type=module", "-e", &main])
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), "2 a b\n");
        }
    }
}

/// The config `prebake init` writes leaves JSX and decorators to each
/// file's tsconfig.json: written out, they would override it.
#[test]
fn the_init_config_leaves_tsconfig_in_charge() {
    let p = Project::new();
    p.run(&["init"]).assert_code(0);
    let toml = std::fs::read_to_string(p.path().join("prebake.toml")).unwrap();
    let toml = toml
        .replace("root = \"assets\"", "root = \"src\"")
        .replace("out = \"public/assets\"", "out = \"out\"");
    p.write("prebake.toml", toml)
        .write(
            "src/tsconfig.json",
            r#"{ "compilerOptions": { "jsx": "react", "jsxFactory": "h", "experimentalDecorators": true } }"#,
        )
        .write("src/view.tsx", "export const v = <b>hi</b>;\n")
        .write(
            "src/dec.ts",
            "function d(t: any) { return t; }\n@d export class A {}\n",
        );
    p.run(&["build", "--no-minify"]).assert_code(0);
    assert!(output(&p, "view-").contains("h(\"b\""));
    assert!(output(&p, "dec-").contains("_ts_decorate"));
}

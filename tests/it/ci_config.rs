//! The test-runner settings name tests by their full names (`.config/nextest.toml` runs the
//! 2.15 GB tests alone). A renamed or moved test would silently drop out of such a filter and
//! run beside others again, so every `test(=AREA::NAME)` there must name a test that exists:
//! a `#[test] fn NAME` in `tests/it/AREA.rs`.

use std::path::Path;

#[test]
fn every_test_named_in_the_nextest_config_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = std::fs::read_to_string(root.join(".config/nextest.toml")).unwrap();
    let mut named = Vec::new();
    let mut rest = config.as_str();
    while let Some(at) = rest.find("test(=") {
        rest = &rest[at + "test(=".len()..];
        let end = rest.find(')').expect("test(= without )");
        named.push(rest[..end].to_string());
        rest = &rest[end..];
    }
    assert!(
        named.len() >= 3,
        "expected the three 2.15 GB tests in {config}"
    );
    for full in named {
        let (area, name) = full
            .rsplit_once("::")
            .unwrap_or_else(|| panic!("{full}: not AREA::NAME (one test binary, tests/it)"));
        let file = root
            .join("tests/it")
            .join(format!("{}.rs", area.replace("::", "/")));
        let source = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{full}: cannot read {}: {e}", file.display()));
        assert!(
            source.contains(&format!("fn {name}()")),
            "{full}: no `fn {name}()` in {}",
            file.display()
        );
    }
}

/// Whether the attribute line `attr` compiles its item on Unix (or Linux) only.
fn unix_only(attr: &str) -> bool {
    attr == "#[cfg(unix)]" || attr == "#[cfg(target_os = \"linux\")]"
}

/// The Windows suite leaves out what cannot run on Windows by compiling it on Unix only, and
/// docs/windows-tests.md gives the reason for each: every `#[cfg(unix)]` area of
/// tests/it/main.rs and tests/it/hostile.rs, and every Unix-only `#[test]` in the areas that
/// are compiled for Windows, must be named there (`AREA` or `AREA::NAME`, in backticks), so
/// that no test drops out of the Windows suite unsaid.
#[test]
fn every_test_left_out_of_the_windows_suite_is_listed_with_its_reason() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |rel: &str| {
        std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    };
    let doc = read("docs/windows-tests.md");
    let listed = |name: &str| doc.contains(&format!("`{name}`"));
    let mut unsaid = Vec::new();
    // Areas: `mod NAME;` lines and whether the line before makes them Unix-only.
    let mut windows_areas = Vec::new();
    for (file, prefix) in [
        ("tests/it/main.rs", ""),
        ("tests/it/hostile.rs", "hostile::"),
    ] {
        let src = read(file);
        let mut previous = "";
        for line in src.lines() {
            if let Some(m) = line.strip_prefix("mod ").and_then(|r| r.strip_suffix(';')) {
                let area = format!("{prefix}{m}");
                if unix_only(previous) {
                    if !listed(&area) {
                        unsaid.push(area);
                    }
                } else if area != "support" && area != "hostile" {
                    windows_areas.push(area);
                }
            }
            previous = line;
        }
    }
    assert!(windows_areas.len() >= 10, "{windows_areas:?}");
    // Tests of the Windows areas: the attributes over each top-level `fn`.
    for area in &windows_areas {
        let src = read(&format!("tests/it/{}.rs", area.replace("::", "/")));
        let mut attrs: Vec<&str> = Vec::new();
        for line in src.lines() {
            if line.starts_with("#[") {
                attrs.push(line);
                continue;
            }
            if line.starts_with("///") {
                continue;
            }
            if let Some(rest) = line.strip_prefix("fn ") {
                let name = rest.split('(').next().unwrap_or(rest);
                let full = format!("{area}::{name}");
                if attrs.contains(&"#[test]")
                    && attrs.iter().any(|a| unix_only(a))
                    && !listed(&full)
                {
                    unsaid.push(full);
                }
            }
            attrs.clear();
        }
    }
    assert!(
        unsaid.is_empty(),
        "left out of the Windows suite (#[cfg(unix)]) but not listed with a reason in \
         docs/windows-tests.md: {unsaid:#?}"
    );
}

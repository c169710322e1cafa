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

//! Helpers for the split and verify tests: deterministic test data, GNU reference outputs and
//! the release invariant "no manifest names a missing or partial part".

use std::path::Path;

use voxctl::checksum::Sha256;

/// `n` pseudo-random bytes from `seed` (xorshift64*), the same on every run.
pub fn bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(n);
    out
}

/// Fails the calling test unless GNU coreutils' `split` and `sha256sum` are on the PATH: the
/// byte-for-byte comparisons need them, and `.ci/run` installs them (a missing reference
/// tool is a broken test machine, not a pass).
pub fn require_gnu_split() {
    let gnu = |tool: &str| {
        let o = super::host::output(tool, ["--version"], &[]);
        o.success() && String::from_utf8_lossy(&o.stdout).contains("GNU")
    };
    for tool in ["split", "sha256sum"] {
        assert!(
            gnu(tool),
            "GNU coreutils' {tool} is not on the PATH: install coreutils (.ci/run does)"
        );
    }
}

/// Produces in `dir` what the voicebox release script produces for `dir/asset` with GNU
/// tools: `split -b N -d -a 2 [--additional-suffix=.exe] A S.part`, `sha256sum A > S.sha256`
/// and `ls S.part* > S.manifest`.
pub fn gnu_release(dir: &Path, asset: &str, chunk: u64) {
    let stem = asset.strip_suffix(".exe").unwrap_or(asset);
    let suffix = if asset.ends_with(".exe") {
        " --additional-suffix=.exe"
    } else {
        ""
    };
    let script = format!(
        "set -e; split -b {chunk} -d -a 2{suffix} '{asset}' '{stem}.part'; \
         sha256sum '{asset}' > '{stem}.sha256'; ls -1 '{stem}.part'* > '{stem}.manifest'"
    );
    super::host::sh_in(dir, &script, &[("LC_ALL", "C")]);
}

/// Checks the publishing order's promise (docs/contract.md "Publishing order") on `dir`: every
/// manifest present names only parts that exist complete (size and hash for the JSON manifest; the
/// concatenation's hash for the text one). Returns how many manifests were present.
pub fn assert_manifests_consistent(dir: &Path, stem: &str) -> usize {
    let mut present = 0;
    if let Ok(json) = std::fs::read(dir.join(format!("{stem}.manifest.json"))) {
        present += 1;
        let m = voxctl::manifest::Manifest::from_json(&json).expect("a valid JSON manifest");
        let mut all = Vec::new();
        for p in &m.parts {
            let data = std::fs::read(dir.join(&p.name))
                .unwrap_or_else(|e| panic!("manifest names {} but: {e}", p.name));
            assert_eq!(data.len() as u64, p.size, "{} is partial", p.name);
            assert_eq!(Sha256::of(&data), p.sha256, "{} differs", p.name);
            all.extend(data);
        }
        assert_eq!(Sha256::of(&all), m.sha256);
    }
    if let Ok(text) = std::fs::read_to_string(dir.join(format!("{stem}.manifest"))) {
        present += 1;
        let sums = std::fs::read_to_string(dir.join(format!("{stem}.sha256")))
            .expect("S.sha256 is written before S.manifest");
        let want = voxctl::checksum::parse_single(&sums).unwrap().sha256;
        let mut all = Vec::new();
        for name in voxctl::manifest::parse_text_manifest(&text).unwrap() {
            all.extend(
                std::fs::read(dir.join(&name))
                    .unwrap_or_else(|e| panic!("manifest names {name} but: {e}")),
            );
        }
        assert_eq!(Sha256::of(&all), want, "the parts do not make the asset");
    }
    present
}

/// The names in `dir`, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

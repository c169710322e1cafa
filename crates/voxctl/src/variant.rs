//! Backend variants (`cpu`, `cuda`, `rocm`), `auto` detection from the hardware, and asset
//! names (docs/contract.md "Terms").

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A concrete backend variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    /// The CPU build.
    Cpu,
    /// The NVIDIA CUDA build.
    Cuda,
    /// The AMD ROCm build.
    Rocm,
}

impl Variant {
    /// The variant's name as used in asset names and flags.
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Cpu => "cpu",
            Variant::Cuda => "cuda",
            Variant::Rocm => "rocm",
        }
    }

    /// The asset of this variant for `app` on the running platform:
    /// `{app}-server-{variant}` plus the platform's executable suffix (`.exe` on Windows).
    pub fn asset(self, app: &str) -> String {
        format!(
            "{app}-server-{}{}",
            self.as_str(),
            std::env::consts::EXE_SUFFIX
        )
    }

    /// The variant to fall back to when this one cannot run: rocm/cuda -> cpu.
    pub fn fallback(self) -> Option<Variant> {
        match self {
            Variant::Cpu => None,
            Variant::Cuda | Variant::Rocm => Some(Variant::Cpu),
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Variant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cpu" => Ok(Variant::Cpu),
            "cuda" => Ok(Variant::Cuda),
            "rocm" => Ok(Variant::Rocm),
            _ => Err(format!("unknown variant {s:?}: expected cpu, cuda or rocm")),
        }
    }
}

/// Picks a variant from the hardware, with the reason in words:
/// an NVIDIA driver (`/proc/driver/nvidia/version` or `/dev/nvidiactl`) -> cuda;
/// `/dev/kfd` (the AMD GPU compute device) -> rocm; else cpu.
pub fn detect() -> (Variant, String) {
    detect_in(Path::new("/"))
}

/// [`detect`] against another filesystem root (for tests).
pub fn detect_in(root: &Path) -> (Variant, String) {
    for p in ["proc/driver/nvidia/version", "dev/nvidiactl"] {
        if root.join(p).exists() {
            return (Variant::Cuda, format!("NVIDIA driver found (/{p})"));
        }
    }
    if root.join("dev/kfd").exists() {
        return (
            Variant::Rocm,
            "AMD GPU compute device found (/dev/kfd)".into(),
        );
    }
    (
        Variant::Cpu,
        "no NVIDIA driver (/proc/driver/nvidia/version, /dev/nvidiactl) and no /dev/kfd".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_table() {
        let cases: [(&[&str], Variant); 4] = [
            (&[], Variant::Cpu),
            (&["dev/kfd"], Variant::Rocm),
            (&["proc/driver/nvidia/version"], Variant::Cuda),
            (&["dev/nvidiactl", "dev/kfd"], Variant::Cuda),
        ];
        for (files, want) in cases {
            let root = tempfile::tempdir().unwrap();
            for f in files {
                let p = root.path().join(f);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, "").unwrap();
            }
            assert_eq!(detect_in(root.path()).0, want, "{files:?}");
        }
    }

    #[test]
    fn asset_names() {
        let want = format!("voicebox-server-cuda{}", std::env::consts::EXE_SUFFIX);
        assert_eq!(Variant::Cuda.asset("voicebox"), want);
        assert_eq!("rocm".parse::<Variant>().unwrap(), Variant::Rocm);
        assert!("gpu".parse::<Variant>().is_err());
    }
}

//! Backend variants (`cpu`, `cuda`, `rocm`) and asset names (docs/contract.md "Terms"). `auto`
//! is resolved from the hardware by the one detector, [`crate::gpu::detect`] and
//! [`crate::gpu::auto_candidate`], for every command that takes it.

use std::fmt;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_names() {
        let want = format!("voicebox-server-cuda{}", std::env::consts::EXE_SUFFIX);
        assert_eq!(Variant::Cuda.asset("voicebox"), want);
        assert_eq!("rocm".parse::<Variant>().unwrap(), Variant::Rocm);
        assert!("gpu".parse::<Variant>().is_err());
    }
}

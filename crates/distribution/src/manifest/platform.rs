//! Platforms (`linux/arm64/v8`): parsing, display, the host's platform, and normalization of
//! the many names architectures go by.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::descriptor::null_as_default;
use crate::Error;

/// The platform an image runs on: OS, CPU architecture and variant, with Go's names
/// (`amd64`, `arm64`, `386`), as index entries and `--platform` give them.
///
/// Text is `os[/arch[/variant]]`; [`FromStr`] lowercases and checks the syntax, [`Display`]
/// writes it back. Neither normalizes: [`Platform::normalize`] maps aliases such as
/// `aarch64` or `armhf` to their canonical form, and platform matching does so on both
/// sides.
///
/// In JSON, the fields are `os`, `architecture`, `variant`, `os.version` and `os.features`.
///
/// [`Display`]: fmt::Display
///
/// ```
/// use imgsvc_distribution::manifest::Platform;
///
/// let p: Platform = "Linux/AArch64".parse()?;
/// assert_eq!(p.to_string(), "linux/aarch64");
/// assert_eq!(p.normalize().to_string(), "linux/arm64/v8");
/// assert!("linux/arm/v7/extra".parse::<Platform>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Platform {
    /// The CPU architecture (`amd64`, `arm64`); empty when not given.
    #[serde(default, deserialize_with = "null_as_default")]
    pub architecture: String,
    /// The operating system (`linux`, `windows`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub os: String,
    /// The OS version (Windows: `10.0.17763.1234`).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Required OS features (Windows: `win32k`).
    #[serde(
        rename = "os.features",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub os_features: Vec<String>,
    /// The CPU variant (`v7`, `v8`, `v3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// Construction
impl Platform {
    /// A platform of an OS and an architecture, without variant, taken as given (see
    /// [`Platform::normalize`]).
    ///
    /// ```
    /// use imgsvc_distribution::manifest::Platform;
    /// let p = Platform::new("linux", "arm").with_variant("v7");
    /// assert_eq!(p.to_string(), "linux/arm/v7");
    /// ```
    pub fn new(os: impl Into<String>, architecture: impl Into<String>) -> Platform {
        Platform {
            architecture: architecture.into(),
            os: os.into(),
            os_version: None,
            os_features: Vec::new(),
            variant: None,
        }
    }

    /// Sets the variant.
    pub fn with_variant(mut self, variant: impl Into<String>) -> Platform {
        self.variant = Some(variant.into());
        self
    }

    /// Sets the variant, or clears it.
    fn with_optional_variant(mut self, variant: Option<&str>) -> Platform {
        self.variant = variant.map(str::to_owned);
        self
    }

    /// The platform this program runs on, with Go's names (`x86_64` is `amd64`, `aarch64` is
    /// `arm64` variant `v8`, `macos` is `darwin`). On x86-64 the variant is the
    /// microarchitecture level the CPU supports (`v2`..`v4`; none for v1), as Docker detects
    /// it.
    ///
    /// ```
    /// use imgsvc_distribution::manifest::Platform;
    /// let host = Platform::host();
    /// assert!(!host.os.is_empty() && !host.architecture.is_empty());
    /// assert_eq!(host.normalize().os, host.os);
    /// ```
    pub fn host() -> Platform {
        let os = match std::env::consts::OS {
            "macos" => "darwin",
            other => other,
        };
        let (architecture, variant) = match std::env::consts::ARCH {
            "x86_64" => ("amd64", amd64_level()),
            "aarch64" => ("arm64", Some("v8")),
            "x86" => ("386", None),
            "powerpc64" if cfg!(target_endian = "little") => ("ppc64le", None),
            "powerpc64" => ("ppc64", None),
            "loongarch64" => ("loong64", None),
            "mips64" if cfg!(target_endian = "little") => ("mips64le", None),
            "mips" if cfg!(target_endian = "little") => ("mipsle", None),
            other => (other, None),
        };
        Platform::new(os, architecture).with_optional_variant(variant)
    }

    /// Fills what `self` leaves empty from `defaults`, as Docker completes `--platform`
    /// with the daemon's platform: the OS, and the architecture together with its variant.
    ///
    /// ```
    /// use imgsvc_distribution::manifest::Platform;
    /// let host = Platform::new("linux", "arm64").with_variant("v8");
    /// let wanted: Platform = "linux".parse()?;
    /// assert_eq!(wanted.with_defaults(&host).to_string(), "linux/arm64/v8");
    /// let wanted: Platform = "linux/arm".parse()?;
    /// assert_eq!(wanted.with_defaults(&host).to_string(), "linux/arm");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_defaults(mut self, defaults: &Platform) -> Platform {
        if self.os.is_empty() {
            self.os.clone_from(&defaults.os);
        }
        if self.architecture.is_empty() {
            self.architecture.clone_from(&defaults.architecture);
            self.variant.clone_from(&defaults.variant);
        }
        self
    }
}

/// Normalization
impl Platform {
    /// The canonical form of this platform: lowercase, OS `macos` as `darwin` (an empty OS
    /// is the host's), architecture aliases resolved (`x86_64`/`x86-64` → `amd64`,
    /// `aarch64` → `arm64`, `i386` → `386`, `armhf` → `arm/v7`, `armel` → `arm/v6`), and
    /// variants in canonical form: `arm64` is `v8` unless it says otherwise (`8`, `v8.0`
    /// are `v8`; `9`, `v9.0` are `v9`), `arm` is `v7` unless it says otherwise (`5`..`8`
    /// gain a `v`), `amd64` `v1` is no variant, an empty variant is none.
    ///
    /// ```
    /// use imgsvc_distribution::manifest::Platform;
    /// let p = Platform::new("Linux", "armhf");
    /// assert_eq!(p.normalize().to_string(), "linux/arm/v7");
    /// ```
    pub fn normalize(&self) -> Platform {
        let mut os = self.os.to_ascii_lowercase();
        if os.is_empty() {
            os = Platform::host().os;
        } else if os == "macos" {
            os = "darwin".to_owned();
        }
        let arch = self.architecture.to_ascii_lowercase();
        let variant = self
            .variant
            .as_deref()
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        let (architecture, variant) = normalize_arch(&arch, &variant);
        Platform {
            architecture,
            os,
            os_version: self.os_version.clone(),
            os_features: self.os_features.clone(),
            variant: (!variant.is_empty()).then_some(variant),
        }
    }
}

/// Canonical architecture and variant (empty for none) of lowercase inputs.
fn normalize_arch(arch: &str, variant: &str) -> (String, String) {
    let (arch, variant) = match (arch, variant) {
        ("i386", _) => ("386", ""),
        ("x86_64" | "x86-64" | "amd64", "v1") => ("amd64", ""),
        ("x86_64" | "x86-64" | "amd64", v) => ("amd64", v),
        ("aarch64" | "arm64", "" | "8" | "v8" | "v8.0") => ("arm64", "v8"),
        ("aarch64" | "arm64", "9" | "9.0" | "v9.0") => ("arm64", "v9"),
        ("aarch64" | "arm64", v) => ("arm64", v),
        ("armhf", _) => ("arm", "v7"),
        ("armel", _) => ("arm", "v6"),
        ("arm", "" | "7") => ("arm", "v7"),
        ("arm", "5") => ("arm", "v5"),
        ("arm", "6") => ("arm", "v6"),
        ("arm", "8") => ("arm", "v8"),
        (a, v) => (a, v),
    };
    (arch.to_owned(), variant.to_owned())
}

/// The x86-64 microarchitecture level of this CPU as a variant (`v2`..`v4`), or none for
/// the baseline.
#[cfg(target_arch = "x86_64")]
fn amd64_level() -> Option<&'static str> {
    use std::arch::is_x86_feature_detected as has;
    let v2 = has!("cmpxchg16b")
        && has!("popcnt")
        && has!("sse3")
        && has!("ssse3")
        && has!("sse4.1")
        && has!("sse4.2");
    let v3 = v2
        && has!("avx")
        && has!("avx2")
        && has!("bmi1")
        && has!("bmi2")
        && has!("f16c")
        && has!("fma")
        && has!("lzcnt")
        && has!("movbe")
        && has!("xsave");
    let v4 = v3
        && has!("avx512f")
        && has!("avx512bw")
        && has!("avx512cd")
        && has!("avx512dq")
        && has!("avx512vl");
    if v4 {
        Some("v4")
    } else if v3 {
        Some("v3")
    } else if v2 {
        Some("v2")
    } else {
        None
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn amd64_level() -> Option<&'static str> {
    None
}

impl fmt::Display for Platform {
    /// `os`, then `/arch` when there is one, then `/variant` when there is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.os)?;
        if !self.architecture.is_empty() {
            write!(f, "/{}", self.architecture)?;
            if let Some(variant) = self.variant.as_deref().filter(|v| !v.is_empty()) {
                write!(f, "/{variant}")?;
            }
        }
        Ok(())
    }
}

impl FromStr for Platform {
    type Err = Error;

    /// Parses `os[/arch[/variant]]`, lowercased; each part is letters, digits, `_`, `.`
    /// or `-`.
    fn from_str(text: &str) -> Result<Platform, Error> {
        let invalid = |reason: String| Error::InvalidPlatform {
            text: text.chars().take(256).collect(),
            reason,
        };
        let lower = text.to_ascii_lowercase();
        let parts: Vec<&str> = lower.split('/').collect();
        if parts.len() > 3 {
            return Err(invalid(
                "expected os[/arch[/variant]], with at most two slashes".to_owned(),
            ));
        }
        for part in &parts {
            if part.is_empty() {
                return Err(invalid(
                    "expected os[/arch[/variant]], with no empty part".to_owned(),
                ));
            }
            if let Some(bad) = part
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
            {
                return Err(invalid(format!(
                    "{bad:?} is not allowed; parts are letters, digits, '_', '.' and '-'"
                )));
            }
        }
        let mut parts = parts.into_iter();
        let os = parts.next().unwrap_or_default();
        let architecture = parts.next().unwrap_or_default();
        Ok(Platform::new(os, architecture).with_optional_variant(parts.next()))
    }
}

#[cfg(test)]
#[path = "platform_tests.rs"]
mod tests;

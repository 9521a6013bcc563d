//! [`Provider`]: which compute provider, and its names. A leaf: it imports nothing of the crate,
//! so the error type and the model can name a provider without a cycle through `provider`.

use serde::{Deserialize, Serialize};
use tsify::Tsify;

/// A compute provider gpufleet speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Tsify)]
pub enum Provider {
    /// fal Platform API v1 (`https://api.fal.ai/v1`).
    #[serde(rename = "fal")]
    Fal,
    /// fal's older alpha Compute API (`https://rest.alpha.fal.ai`).
    #[serde(rename = "fal-alpha")]
    FalAlpha,
    /// SF Compute preview v2 (`https://api.sfcompute.com/preview/v2`).
    #[serde(rename = "sfcompute")]
    Sfcompute,
    /// Novita GPU instances v1 (`https://api.novita.ai/gpu-instance/openapi/v1`).
    #[serde(rename = "novita")]
    Novita,
}

impl Provider {
    /// Every provider.
    pub const ALL: [Provider; 4] = [Provider::Fal, Provider::FalAlpha, Provider::Sfcompute, Provider::Novita];

    /// The wire name: `fal`, `fal-alpha`, `sfcompute` or `novita`.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Fal => "fal",
            Provider::FalAlpha => "fal-alpha",
            Provider::Sfcompute => "sfcompute",
            Provider::Novita => "novita",
        }
    }

    /// Parses a wire name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// A name for people, e.g. `SF Compute`.
    pub fn display_name(self) -> &'static str {
        match self {
            Provider::Fal => "fal",
            Provider::FalAlpha => "fal (alpha API)",
            Provider::Sfcompute => "SF Compute",
            Provider::Novita => "Novita",
        }
    }

    /// The production base URL.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Provider::Fal => "https://api.fal.ai/v1",
            Provider::FalAlpha => "https://rest.alpha.fal.ai",
            Provider::Sfcompute => "https://api.sfcompute.com/preview/v2",
            Provider::Novita => "https://api.novita.ai/gpu-instance/openapi/v1",
        }
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

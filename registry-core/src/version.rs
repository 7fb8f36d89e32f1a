//! `Version` (a subject's version number) and `VersionSelector` (a number or `latest`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::VersionError;

/// A version number within a subject: 1, 2, 3, ... (at most `i32::MAX`, as Confluent clients expect).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Version(u32);

impl Version {
    /// The first version of every subject.
    pub const FIRST: Version = Version(1);
    /// The largest version number.
    pub const MAX: Version = Version(i32::MAX as u32);

    /// A version number; `0` and numbers above `i32::MAX` are refused.
    pub fn new(number: u32) -> Result<Self, VersionError> {
        if number == 0 || number > Self::MAX.0 {
            return Err(VersionError::OutOfRange(number.to_string()));
        }
        Ok(Self(number))
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }

    /// The version after this one, if there is one.
    pub fn next(self) -> Option<Version> {
        Version::new(self.0 + 1).ok()
    }
}

impl TryFrom<u32> for Version {
    type Error = VersionError;
    fn try_from(number: u32) -> Result<Self, Self::Error> {
        Version::new(number)
    }
}

impl From<Version> for u32 {
    fn from(version: Version) -> u32 {
        version.0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// Which version of a subject a read asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VersionSelector {
    /// The newest version that is not deleted (written `latest` or `-1`).
    Latest,
    /// One version by number.
    Number(Version),
}

impl std::str::FromStr for VersionSelector {
    type Err = VersionError;

    /// Parses `latest`, `-1` or a version number, as in Confluent's paths.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("latest") || s == "-1" {
            return Ok(VersionSelector::Latest);
        }
        let number: u32 = s.parse().map_err(|_| VersionError::NotANumber(s.to_string()))?;
        Version::new(number).map(VersionSelector::Number)
    }
}

impl From<Version> for VersionSelector {
    fn from(version: Version) -> Self {
        VersionSelector::Number(version)
    }
}

impl fmt::Display for VersionSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionSelector::Latest => f.write_str("latest"),
            VersionSelector::Number(v) => v.fmt(f),
        }
    }
}

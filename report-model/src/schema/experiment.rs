//! `experiment.toml`: what `tare bench` runs — arms, cells, repetitions, commands, tier.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Versioned;

/// The four measurement arms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Arm {
    /// Workload alone.
    #[serde(rename = "bare")]
    Bare,
    /// Kernel capture only.
    #[serde(rename = "a")]
    A,
    /// OTel tracing only.
    #[serde(rename = "b")]
    B,
    /// Kernel capture and OTel tracing.
    #[serde(rename = "c")]
    C,
}

impl Arm {
    pub const ALL: [Arm; 4] = [Arm::Bare, Arm::A, Arm::B, Arm::C];

    pub fn as_str(self) -> &'static str {
        match self {
            Arm::Bare => "bare",
            Arm::A => "a",
            Arm::B => "b",
            Arm::C => "c",
        }
    }

    /// Whether tare's kernel capture runs in this arm.
    pub fn captures(self) -> bool {
        matches!(self, Arm::A | Arm::C)
    }

    /// Whether the workload is traced with OTel in this arm.
    pub fn traces(self) -> bool {
        matches!(self, Arm::B | Arm::C)
    }

    /// A human label.
    pub fn label(self) -> &'static str {
        match self {
            Arm::Bare => "bare",
            Arm::A => "A (capture)",
            Arm::B => "B (OTel)",
            Arm::C => "C (capture + OTel)",
        }
    }
}

/// How much a run of this experiment may cost (seeds/002's tiers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Seconds; blocks CI.
    #[default]
    Smoke,
    /// Minutes; run on demand.
    Extended,
    /// The full study; for publication.
    Certification,
}

/// `experiment.toml` (`tare.experiment.v1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    pub schema: String,
    pub name: String,
    #[serde(default)]
    pub tier: Tier,
    /// Runtime budget in seconds: the harness warns when the estimate is over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_s: Option<u64>,
    /// Counted samples per arm per cell.
    pub n: u32,
    /// Uncounted samples per arm per cell, run first.
    #[serde(default)]
    pub warmups: u32,
    /// Per-sample timeout, seconds.
    pub timeout_s: u64,
    pub arms: Vec<Arm>,
    pub cells: Vec<Cell>,
    /// Optional command per arm with `{trace_out}`, `{kernel_events}`, `{span_events}`,
    /// `{concurrency}`, `{payload_bytes}`, `{span_attributes}`, `{span_links}`, `{spans}`
    /// placeholders: run by `sh -c` when it has shell
    /// syntax, else executed directly word by word.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub commands: BTreeMap<Arm, String>,
}

/// One point of the sweep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cell {
    pub id: String,
    #[serde(default)]
    pub kernel_events: u32,
    #[serde(default)]
    pub span_events: u32,
    #[serde(default = "one")]
    pub concurrency: u32,
    #[serde(default = "default_payload")]
    pub payload_bytes: u32,
    /// Attributes `tare.sweep.attr.<i>` on the root span (the SDK's attribute-count limit).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub span_attributes: u32,
    /// Links on the root span, each with `tare.sweep.index` (the SDK's link limit).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub span_links: u32,
    /// A burst of child spans ended through the SDK's batch span processor (its queue).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub spans: u32,
    /// Tier of this cell; `tare bench --tier smoke` runs only smoke cells.
    #[serde(default)]
    pub tier: Tier,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

fn one() -> u32 {
    1
}

fn default_payload() -> u32 {
    128
}

impl Versioned for Experiment {
    const SCHEMA: &'static str = "tare.experiment.v1";
}

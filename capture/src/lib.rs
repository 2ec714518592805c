//! tare's capture core and harness: everything the `tare` binary does, as a library so tests can drive it.

pub mod archive;
pub mod cgroup;
pub mod cli;
pub mod harness;
pub mod hostinfo;
pub mod leavers;
pub mod monitor;
pub mod outfile;
pub mod phases;
pub mod preflight;
pub mod resources;
pub mod sampler;
pub mod session;
pub mod signals;
pub mod spawn;
pub mod spool;
pub mod stale;
pub mod telemetry;
pub mod treewatch;
pub mod view;
pub mod workload;

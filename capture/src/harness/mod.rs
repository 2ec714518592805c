//! `tare bench`: experiments, arms, counterbalanced pairing, the runner and fidelity.

pub mod experiment;
pub mod pairing;

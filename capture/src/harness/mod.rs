//! `tare bench`: experiments, arms, counterbalanced pairing, the runner and fidelity.

pub mod arms;
pub mod experiment;
pub mod pairing;
pub mod results;
pub mod runner;

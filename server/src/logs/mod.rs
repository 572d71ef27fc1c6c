//! The merged log of a job: every container of its driver, executors and controller, from the
//! log archive (what the cluster's shipper wrote to S3) and the live pod log API, in one
//! time-ordered stream.
//!
//! The pipeline, per request: [`plan`] picks the job's sources; each [`source`] reads the
//! archive then the live API (with the cut-over and resume rules of [`resume`]; the live read is
//! the state machine of `follow`), splits [`lines`], parses each [`record`], and [`fold`]s
//! continuation lines into events ([`classify`] knows the formats); [`merge`] orders all sources
//! into one stream.

pub mod classify;
pub mod event;
#[cfg(test)]
mod fakes;
pub mod fold;
mod follow;
pub mod gunzip;
pub mod key_template;
pub mod lines;
pub mod live;
pub mod merge;
pub mod plan;
pub mod record;
pub mod shipped;
pub mod source;

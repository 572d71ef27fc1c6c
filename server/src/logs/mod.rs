//! The merged log of a job: every container of its driver, executors and controller, from the
//! log archive (what the cluster's shipper wrote to S3) and the live pod log API, in one
//! time-ordered stream.
//!
//! The pipeline, per request: [`plan`] picks the job's sources; each [`source`] reads the
//! archive ([`shipped`], gzip or plain through [`gunzip`], objects found by [`key_template`])
//! then the live API ([`live`]; the live read is the state machine of `follow`), with the
//! cut-over and resume rules of [`source::Resume`]; it splits [`lines`], parses each [`record`],
//! and [`fold`]s continuation lines into [`event`]s ([`classify`] knows the formats); [`merge`]
//! orders all sources into one stream.
//!
//! How it behaves, seen from outside (sources, cut-over, markers, deleted pods), is in
//! `REFERENCE.md`, "Logs"; the pod log API and the shippers' layouts it relies on are in its
//! "Facts sparkboard relies on".

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

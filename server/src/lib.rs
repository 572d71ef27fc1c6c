//! sparkboard's server: the `sparkboard` binary's library.
//!
//! Data flows one way: [`sources`] (Kubernetes watchers) -> [`model`] (compact jobs and pods)
//! -> [`views`] (JSON API, server push, the Leptos pages). [`sim`] is the simulated Kubernetes
//! cluster the demo and the tests run against; [`config`] is the command line; [`run`] wires it
//! all for each command.

pub mod config;
pub mod model;
pub mod run;
pub mod sim;
pub mod sources;
pub mod views;

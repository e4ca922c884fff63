//! Many instances in one run: a `[sweep]` over config keys (`spec`), each instance's config
//! (`instances`), running them into one file (`run`), and joining the files of slices
//! (`merge`).
//!
//! ```text
//! /sweep/instance                   u64 [n]   each row's instance number
//! /sweep/<key>                      f64 or string [n]  its value of each swept key
//! /instances/<k>/spikes, report, synapses   as a single run's file, with its root
//!                                   attributes (config, seed, simulated_ms, …) on the group
//! /stacked/…                        instead of /instances, with output.sweep_layout =
//!                                   "stacked": every instance a row (`io::stacked`)
//! ```

pub mod batch;
pub mod check;
pub mod instances;
pub mod merge;
pub mod run;
pub mod spec;
pub mod stacked;
pub mod table;

pub use spec::{Mode, Slice, Sweep};

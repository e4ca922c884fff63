//! Every integration test in one binary, so that wgpu, hdf5 and plotters link once.

mod common;

mod batch;
mod cli;
mod cobahh;
mod connect_expression;
mod custom_events;
mod equations;
mod gpu_backend;
mod hdf5_output;
mod hh_cpu_reference;
mod integer_boolean;
mod lif;
mod linked;
mod plasticity;
mod plots_and_scale;
mod procedural;
mod golden;
mod saccade;
mod sonata;
mod spike_variables;
mod split;
mod subgroups;
mod sweep;

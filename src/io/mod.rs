pub mod hdf5;
pub mod output;

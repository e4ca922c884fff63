pub mod hdf5;
pub mod output;
pub mod reader;
pub mod sonata;
pub mod stacked;

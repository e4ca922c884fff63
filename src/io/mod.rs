pub mod hdf5;
pub mod output;
pub mod sonata;

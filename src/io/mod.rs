pub mod hdf5;

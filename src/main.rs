fn main() {
    if let Err(e) = ganglion::cli::main() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

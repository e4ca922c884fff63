fn main() {
    // Mesa's Vulkan loader probes for a Wayland display at start-up and, on a headless machine
    // without XDG_RUNTIME_DIR, prints an error per probe although no window is ever opened.
    // Nothing else runs yet, so setting the variable here races with no other thread.
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
    }
    // Writing past a file-size limit (`ulimit -f`) should fail the write, which the run
    // reports and cleans up after, rather than kill the process mid-file.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    // `ganglion stats … | head` closes the pipe early: end quietly, as Unix tools do, rather
    // than panic in println!. A run writes its summary only after its file is in place.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    if let Err(e) = ganglion::cli::main() {
        eprintln!("error: {}", ganglion::error::chain_message(e.as_ref()));
        std::process::exit(1);
    }
}

fn main() {
    // Die quietly on a closed pipe (`handoff monitor | head`), like C tools.
    // SAFETY: setting a signal disposition to its default is always sound.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    std::process::exit(handoff_cli::run(&args));
}

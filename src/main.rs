fn main() {
    std::process::exit(vae::cli::main());
}

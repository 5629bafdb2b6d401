//! Embeds `assets/` for `memory_serve::load!`, in debug builds too (so the tests serve what
//! ships, and a debug binary does not read files from this folder at run time).
fn main() {
    // One line per file on every build is noise; a missing folder still fails the build.
    // SAFETY: the build script is single-threaded; nothing reads the environment meanwhile.
    unsafe { std::env::set_var("MEMORY_SERVE_QUIET", "1") };
    memory_serve::load_directory_with_embed("assets", true);
}

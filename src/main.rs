//! The saker command line.

fn main() {
    println!("saker {}", env!("CARGO_PKG_VERSION"));
}

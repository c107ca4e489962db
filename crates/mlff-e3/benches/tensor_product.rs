//! Criterion benchmarks of the tensor product (filled in below).
fn main() {}

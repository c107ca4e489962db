//! Driver ↔ client overhead of one evaluation: a 21-atom frame (aspirin's size) over loopback,
//! the client computing nothing (zero forces), so the time is the protocol's own.

use criterion::{Criterion, criterion_group, criterion_main};
use mlff_ipi::{Address, Listener, Vec3, serve};
use std::time::Duration;

fn round_trip(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let positions: Vec<Vec3> = (0..21).map(|i| [i as f64, 0.5, -0.25]).collect();
    let mut group = c.benchmark_group("ipi_round_trip_21_atoms");
    for (name, address) in [
        ("unix", Address::Unix(dir.path().join("bench.sock"))),
        ("tcp", Address::Tcp("127.0.0.1:0".parse().expect("address"))),
    ] {
        let listener = Listener::bind(&address).expect("bind");
        let at = listener.address().clone();
        let client = std::thread::spawn(move || {
            let mut zero =
                |r: &[Vec3], _c: Option<[Vec3; 3]>| Ok::<_, String>((0.0, vec![[0.0; 3]; r.len()]));
            serve(&at, &mut zero)
        });
        let mut driver = listener
            .accept(Duration::from_secs(5), Duration::from_secs(5), &mut || {
                Ok(())
            })
            .expect("accept");
        group.bench_function(name, |b| {
            b.iter(|| driver.evaluate(&positions, None).expect("evaluate"))
        });
        driver.exit();
        client.join().expect("client thread").expect("client");
    }
    group.finish();
}

criterion_group!(benches, round_trip);
criterion_main!(benches);

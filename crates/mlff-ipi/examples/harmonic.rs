//! A driver and a client in one process: a harmonic calculator served over a Unix socket,
//! evaluated by the driver. Run with `cargo run -p mlff-ipi --example harmonic`.
//!
//! To drive an ASE calculator instead, start (after the driver has bound the socket)
//! `SocketClient(unixsocket="mlff_example").run(atoms)` with
//! `Address::ase_unix("mlff_example")`.

use mlff_ipi::{Address, Listener, Vec3, serve};
use std::time::Duration;

fn main() -> Result<(), mlff_ipi::IpiError> {
    let dir = std::env::temp_dir().join(format!("mlff-ipi-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|source| mlff_ipi::IpiError::Io {
        what: "creating a temporary directory".into(),
        source,
    })?;
    let address = Address::Unix(dir.join("ipi.sock"));
    let listener = Listener::bind(&address)?;
    let client = std::thread::spawn(move || {
        let mut well = |r: &[Vec3], _cell: Option<[Vec3; 3]>| {
            let e = 0.5 * r.iter().flatten().map(|v| v * v).sum::<f64>();
            Ok((e, r.iter().map(|p| [-p[0], -p[1], -p[2]]).collect()))
        };
        serve(&address, &mut well)
    });
    let mut driver =
        listener.accept(Duration::from_secs(5), Duration::from_secs(5), &mut || {
            Ok(())
        })?;
    let result = driver.evaluate(&[[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]], None)?;
    println!(
        "energy {} eV, forces {:?} eV/Å",
        result.energy, result.forces
    );
    driver.exit();
    client.join().expect("client thread")?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

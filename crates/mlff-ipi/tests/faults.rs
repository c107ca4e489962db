//! A driver against clients that behave and clients that fail in every way the protocol allows:
//! each failure is a typed error, never a hang or a panic.

use mlff_ipi::{Address, Calculator, Driver, IpiError, Listener, Vec3, message, serve};
use std::time::Duration;

/// What a test calculator returns.
type Answer = Result<(f64, Vec<Vec3>), String>;

/// A harmonic well around the origin: E = ½k Σ|r|², F = −k r.
fn harmonic(k: f64) -> impl FnMut(&[Vec3], Option<[Vec3; 3]>) -> Answer {
    move |r: &[Vec3], _cell| {
        let e = 0.5 * k * r.iter().flatten().map(|v| v * v).sum::<f64>();
        Ok((
            e,
            r.iter()
                .map(|p| [-k * p[0], -k * p[1], -k * p[2]])
                .collect(),
        ))
    }
}

fn positions(n: usize) -> Vec<Vec3> {
    (0..n)
        .map(|i| [i as f64 * 0.7, 1.0 - i as f64 * 0.3, 0.25 * i as f64])
        .collect()
}

const SECOND: Duration = Duration::from_secs(1);

/// Binds a fresh socket, serves `calculator` from a thread, accepts it.
fn connect<C: Calculator + Send + 'static>(
    address: Address,
    mut calculator: C,
    timeout: Duration,
) -> (Driver, std::thread::JoinHandle<Result<usize, IpiError>>) {
    let listener = Listener::bind(&address).unwrap();
    let at = listener.address().clone();
    let client = std::thread::spawn(move || serve(&at, &mut calculator));
    let driver = listener
        .accept(5 * SECOND, timeout, &mut || Ok(()))
        .unwrap();
    (driver, client)
}

fn unix_address(dir: &tempfile::TempDir) -> Address {
    Address::Unix(dir.path().join("ipi.sock"))
}

#[test]
fn a_harmonic_client_over_unix_and_tcp_returns_its_energy_and_forces() {
    let dir = tempfile::tempdir().unwrap();
    for address in [
        unix_address(&dir),
        Address::Tcp("127.0.0.1:0".parse().unwrap()),
    ] {
        let (mut driver, client) = connect(address, harmonic(2.0), 5 * SECOND);
        for n in [1, 21, 21, 3, 21] {
            let r = positions(n);
            let got = driver.evaluate(&r, None).unwrap();
            let e: f64 = r.iter().flatten().map(|v| v * v).sum();
            assert!(
                (got.energy - e).abs() <= 1e-12 * e.max(1.0),
                "{} vs {e}",
                got.energy
            );
            assert_eq!(got.forces.len(), n);
            for (f, p) in got.forces.iter().zip(&r) {
                for k in 0..3 {
                    assert!((f[k] + 2.0 * p[k]).abs() < 1e-12, "{f:?} vs {p:?}");
                }
            }
            assert_eq!(got.extra, vec![0], "ASE's one zero byte");
        }
        driver.exit();
        assert_eq!(client.join().unwrap().unwrap(), 5);
    }
}

#[test]
fn a_periodic_cell_reaches_the_client_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let cell = [[10.0, 0.0, 0.0], [1.0, 11.0, 0.0], [0.5, 0.2, 12.0]];
    let seen = move |_r: &[Vec3], c: Option<[Vec3; 3]>| {
        let c = c.ok_or("no cell")?;
        for i in 0..3 {
            for j in 0..3 {
                if (c[i][j] - cell[i][j]).abs() > 1e-12 {
                    return Err(format!("cell {c:?}"));
                }
            }
        }
        Ok((0.0, vec![[0.0; 3]]))
    };
    let (mut driver, _client) = connect(unix_address(&dir), seen, 5 * SECOND);
    driver.evaluate(&positions(1), Some(cell)).unwrap();
}

#[test]
fn a_client_that_never_connects_is_reported_after_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let listener = Listener::bind(&unix_address(&dir)).unwrap();
    let err = listener
        .accept(Duration::from_millis(50), SECOND, &mut || Ok(()))
        .unwrap_err();
    assert!(matches!(err, IpiError::NeverConnected { .. }), "{err}");
    assert!(err.to_string().contains("no client connected"), "{err}");
}

#[test]
fn a_client_that_exits_before_connecting_stops_the_wait_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let listener = Listener::bind(&unix_address(&dir)).unwrap();
    let start = std::time::Instant::now();
    let err = listener
        .accept(60 * SECOND, SECOND, &mut || {
            Err("exit status 1: ModuleNotFoundError: No module named 'mace'".into())
        })
        .unwrap_err();
    assert!(start.elapsed() < 5 * SECOND);
    assert!(matches!(err, IpiError::ClientExited { .. }), "{err}");
    assert!(err.to_string().contains("No module named 'mace'"), "{err}");
}

#[test]
fn a_client_that_dies_mid_run_is_a_disconnection() {
    let dir = tempfile::tempdir().unwrap();
    let mut calls = 0;
    let dies_on_second = move |r: &[Vec3], c| {
        calls += 1;
        if calls == 2 {
            return Err("killed".to_string());
        }
        harmonic(1.0)(r, c)
    };
    let (mut driver, client) = connect(unix_address(&dir), dies_on_second, 5 * SECOND);
    driver.evaluate(&positions(3), None).unwrap();
    let err = driver.evaluate(&positions(3), None).unwrap_err();
    assert!(matches!(err, IpiError::Disconnected { .. }), "{err}");
    assert!(matches!(
        client.join().unwrap(),
        Err(IpiError::Calculator(_))
    ));
}

#[test]
fn a_client_that_hangs_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let hangs = |r: &[Vec3], c| {
        std::thread::sleep(Duration::from_millis(400));
        harmonic(1.0)(r, c)
    };
    let (mut driver, _client) = connect(unix_address(&dir), hangs, Duration::from_millis(50));
    let err = driver.evaluate(&positions(2), None).unwrap_err();
    assert!(matches!(err, IpiError::Timeout { .. }), "{err}");
    assert!(
        err.to_string().contains("did not answer within 0.05 s"),
        "{err}"
    );
}

#[test]
fn non_finite_values_and_wrong_atom_counts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let nan_force = |r: &[Vec3], _c| {
        let mut f = vec![[0.0; 3]; r.len()];
        f[1][2] = f64::NAN;
        Ok((1.0, f))
    };
    let (mut driver, _c) = connect(unix_address(&dir), nan_force, 5 * SECOND);
    let err = driver.evaluate(&positions(3), None).unwrap_err();
    assert!(
        err.to_string().contains("non-finite force on atom 1"),
        "{err}"
    );

    let inf_energy = |r: &[Vec3], _c| Ok((f64::INFINITY, vec![[0.0; 3]; r.len()]));
    let (mut driver, _c) = connect(unix_address(&dir), inf_energy, 5 * SECOND);
    let err = driver.evaluate(&positions(3), None).unwrap_err();
    assert!(err.to_string().contains("non-finite energy"), "{err}");

    let one_short = |r: &[Vec3], _c| Ok((0.0, vec![[0.0; 3]; r.len() - 1]));
    let (mut driver, _c) = connect(unix_address(&dir), one_short, 5 * SECOND);
    let err = driver.evaluate(&positions(4), None).unwrap_err();
    assert!(
        matches!(
            err,
            IpiError::AtomCount {
                expected: 4,
                got: 3
            }
        ),
        "{err}"
    );
}

#[test]
fn a_client_out_of_protocol_is_a_protocol_error() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let address = unix_address(&dir);
    let listener = Listener::bind(&address).unwrap();
    let Address::Unix(path) = address else {
        unreachable!()
    };
    let rogue = std::thread::spawn(move || {
        let mut s = std::os::unix::net::UnixStream::connect(path).unwrap();
        let _ = message::read_header(&mut s);
        let mut out = Vec::new();
        message::put_header(&mut out, "HAVEDATA");
        s.write_all(&out).unwrap();
        std::thread::sleep(Duration::from_millis(200));
    });
    let mut driver = listener
        .accept(5 * SECOND, 5 * SECOND, &mut || Ok(()))
        .unwrap();
    let err = driver.evaluate(&positions(2), None).unwrap_err();
    assert!(matches!(err, IpiError::Protocol { .. }), "{err}");
    assert!(err.to_string().contains("`HAVEDATA`"), "{err}");
    rogue.join().unwrap();
}

#[test]
fn a_stale_socket_file_from_a_killed_run_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let address = unix_address(&dir);
    let first = Listener::bind(&address).unwrap();
    std::mem::forget(first); // a killed process leaves its socket file behind
    let second = Listener::bind(&address).unwrap();
    drop(second);
    let Address::Unix(path) = address else {
        unreachable!()
    };
    assert!(
        !path.exists(),
        "the socket file is removed with its listener"
    );
}

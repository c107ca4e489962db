//! The driver against ASE's own `SocketClient` serving ASE's EMT calculator, compared with EMT
//! evaluated directly in the same Python process. Needs Python with `ase`
//! (`MLFFBENCH_PYTHON`, else `python3`); skipped with a notice when it is missing, unless
//! `MLFFBENCH_REQUIRE_ASE=1` (CI) makes that a failure.

use mlff_ipi::{Address, Listener, Vec3};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Whether a Python with ASE is there (else the test skips, saying so; CI requires it).
fn ase_available() -> bool {
    mlff_testkit::python_with(&["ase.calculators.socketio"]).is_some()
}

const CLIENT: &str = r#"
import sys, json
from ase import Atoms
from ase.calculators.emt import EMT
from ase.calculators.socketio import SocketClient
atoms = Atoms("CH3O", positions=[[0, 0, 0], [1.09, 0, 0], [-0.36, 1.03, 0], [-0.36, -0.51, 0.89], [-0.5, -0.7, -1.1]])
atoms.calc = EMT()
frames = json.loads(sys.argv[2])
expected = []
for p in frames:
    a = atoms.copy(); a.calc = EMT(); a.positions = p
    expected += [a.get_potential_energy()] + a.get_forces().ravel().tolist()
print(" ".join(repr(float(v)) for v in expected), flush=True)
SocketClient(unixsocket=sys.argv[1]).run(atoms)
"#;

#[test]
fn ase_socket_client_with_emt_matches_emt() {
    if !ase_available() {
        return;
    }
    let frames: Vec<Vec<Vec3>> = (0..4)
        .map(|k| {
            let s = 1.0 + 0.02 * k as f64;
            vec![
                [0.0, 0.0, 0.0],
                [1.09 * s, 0.0, 0.0],
                [-0.36, 1.03 * s, 0.0],
                [-0.36, -0.51, 0.89 * s],
                [-0.5 * s, -0.7, -1.1],
            ]
        })
        .collect();
    let name = format!("mlff_ipi_test_{}", std::process::id());
    let listener = Listener::bind(&Address::ase_unix(&name)).unwrap();
    let mut child = Command::new(mlff_testkit::python())
        .args(["-c", CLIENT, &name, &serde_like(&frames)])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let mut driver = listener
        .accept(
            Duration::from_secs(60),
            Duration::from_secs(30),
            &mut || Ok(()),
        )
        .unwrap();
    // Per frame: the energy, then the forces row by row.
    let numbers: Vec<f64> = line
        .split_whitespace()
        .map(|t| t.parse().unwrap())
        .collect();
    let per_frame = 1 + 3 * 5;
    assert_eq!(numbers.len(), per_frame * frames.len(), "{line}");
    for (k, frame) in frames.iter().enumerate() {
        let got = driver.evaluate(frame, None).unwrap();
        let want = &numbers[k * per_frame..(k + 1) * per_frame];
        assert!(
            (got.energy - want[0]).abs() < 1e-9,
            "{} vs {}",
            got.energy,
            want[0]
        );
        for (a, f) in got.forces.iter().enumerate() {
            for c in 0..3 {
                let w = want[1 + 3 * a + c];
                assert!((f[c] - w).abs() < 1e-9, "frame {k} atom {a}: {f:?} vs {w}");
            }
        }
    }
    driver.exit();
    assert!(child.wait().unwrap().success());
}

/// `[[[x, y, z], …], …]` as JSON.
fn serde_like(frames: &[Vec<Vec3>]) -> String {
    let frame = |f: &Vec<Vec3>| {
        let atoms: Vec<String> = f
            .iter()
            .map(|p| format!("[{:?}, {:?}, {:?}]", p[0], p[1], p[2]))
            .collect();
        format!("[{}]", atoms.join(", "))
    };
    format!(
        "[{}]",
        frames.iter().map(frame).collect::<Vec<_>>().join(", ")
    )
}

//! The client side: serve a Rust calculator to a driver, as ASE's `SocketClient` serves an ASE
//! calculator (the same states: READY → HAVEDATA → NEEDINIT → READY …).

use std::io::Write;
use std::net::TcpStream;
use std::os::unix::net::UnixStream;

use crate::message::{self, header};
use crate::{Address, BOHR_ANGSTROM, HARTREE_EV, IpiError, Result, Vec3};

/// Computes energies (eV) and forces (eV/Å) of positions (Å); `cell` is `None` for a
/// non-periodic system (the driver sent a zero cell), else its rows are the lattice vectors.
pub trait Calculator {
    /// Energy and one force per atom, or why not.
    fn calculate(
        &mut self,
        positions: &[Vec3],
        cell: Option<[Vec3; 3]>,
    ) -> std::result::Result<(f64, Vec<Vec3>), String>;
}

impl<F> Calculator for F
where
    F: FnMut(&[Vec3], Option<[Vec3; 3]>) -> std::result::Result<(f64, Vec<Vec3>), String>,
{
    fn calculate(
        &mut self,
        positions: &[Vec3],
        cell: Option<[Vec3; 3]>,
    ) -> std::result::Result<(f64, Vec<Vec3>), String> {
        self(positions, cell)
    }
}

/// Connects to the driver at `address` and answers it until it sends `EXIT` or closes the
/// connection; returns the number of configurations computed. A calculator error closes the
/// connection (the driver sees a disconnection) and is returned.
pub fn serve(address: &Address, calculator: &mut dyn Calculator) -> Result<usize> {
    let io = |what: &str| {
        let what = what.to_owned();
        move |source| IpiError::Io { what, source }
    };
    match address {
        Address::Unix(path) => {
            let stream =
                UnixStream::connect(path).map_err(io(&format!("connecting to {address}")))?;
            run(stream, calculator)
        }
        Address::Tcp(addr) => {
            let stream =
                TcpStream::connect(addr).map_err(io(&format!("connecting to {address}")))?;
            let _ = stream.set_nodelay(true);
            run(stream, calculator)
        }
    }
}

fn run<S: std::io::Read + Write>(stream: S, calculator: &mut dyn Calculator) -> Result<usize> {
    let io =
        |during: &'static str| move |e| IpiError::from_io(e, during, std::time::Duration::ZERO);
    let mut state = header::READY;
    let mut out = Vec::with_capacity(4096);
    let mut values = Vec::new();
    let mut result: Option<(f64, Vec<Vec3>)> = None;
    let mut served = 0;
    // Answers wait in `out` while more requests are already buffered, and go in one write
    // before the client would block: a pipelining driver wakes once per evaluation.
    let mut stream = std::io::BufReader::with_capacity(1 << 16, stream);
    loop {
        if stream.buffer().len() < message::HEADER_LEN && !out.is_empty() {
            message::flush(stream.get_mut(), &mut out).map_err(io("answering the driver"))?;
        }
        let msg = match message::read_header(&mut stream) {
            Ok(m) => m,
            // The driver may simply close the connection when it is done.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(served),
            Err(e) => return Err(io("waiting for the driver")(e)),
        };
        match msg.as_str() {
            header::STATUS => {
                message::put_header(&mut out, state);
            }
            header::INIT => {
                let _bead = message::read_i32(&mut stream).map_err(io("reading INIT"))?;
                let len = message::read_i32(&mut stream).map_err(io("reading INIT"))?;
                let len = usize::try_from(len).map_err(|_| IpiError::Protocol {
                    expected: "a non-negative INIT length".into(),
                    got: len.to_string(),
                })?;
                message::read_bytes(&mut stream, len).map_err(io("reading INIT"))?;
                state = header::READY;
            }
            header::POSDATA => {
                message::read_f64s(&mut stream, 9, &mut values).map_err(io("reading POSDATA"))?;
                let cell = from_column_major(&values, BOHR_ANGSTROM);
                message::read_f64s(&mut stream, 9, &mut values).map_err(io("reading POSDATA"))?;
                let n = message::read_i32(&mut stream).map_err(io("reading POSDATA"))?;
                let n = usize::try_from(n).map_err(|_| IpiError::Protocol {
                    expected: "a non-negative number of atoms".into(),
                    got: n.to_string(),
                })?;
                message::read_f64s(&mut stream, 3 * n, &mut values)
                    .map_err(io("reading POSDATA"))?;
                let positions: Vec<Vec3> = values
                    .chunks_exact(3)
                    .map(|p| {
                        [
                            p[0] * BOHR_ANGSTROM,
                            p[1] * BOHR_ANGSTROM,
                            p[2] * BOHR_ANGSTROM,
                        ]
                    })
                    .collect();
                let periodic = cell.iter().flatten().any(|&v| v != 0.0);
                let computed = calculator
                    .calculate(&positions, periodic.then_some(cell))
                    .map_err(IpiError::Calculator)?;
                result = Some(computed);
                state = header::HAVEDATA;
                served += 1;
            }
            header::GETFORCE => {
                let Some((energy, forces)) = result.take() else {
                    return Err(IpiError::Protocol {
                        expected: "POSDATA before GETFORCE".into(),
                        got: "GETFORCE".into(),
                    });
                };
                let n = i32::try_from(forces.len()).unwrap_or(i32::MAX);
                let scale = BOHR_ANGSTROM / HARTREE_EV;
                message::put_header(&mut out, header::FORCEREADY);
                message::put_f64s(&mut out, [energy / HARTREE_EV]);
                message::put_i32(&mut out, n);
                message::put_f64s(&mut out, forces.iter().flatten().map(|f| f * scale));
                message::put_f64s(&mut out, [0.0; 9]);
                // One zero byte, as ASE sends: a zero-length read is indistinguishable from a
                // closed socket.
                message::put_i32(&mut out, 1);
                out.push(0);
                state = header::NEEDINIT;
            }
            header::EXIT => return Ok(served),
            other => {
                return Err(IpiError::Protocol {
                    expected: "STATUS, INIT, POSDATA, GETFORCE or EXIT".into(),
                    got: format!("`{other}`"),
                });
            }
        }
    }
}

fn from_column_major(values: &[f64], scale: f64) -> [Vec3; 3] {
    let mut m = [[0.0; 3]; 3];
    for (k, v) in values.iter().enumerate().take(9) {
        m[k % 3][k / 3] = v * scale;
    }
    m
}

//! The driver side: listen, accept one client, send configurations, read forces.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::message::{self, header};
use crate::{BOHR_ANGSTROM, HARTREE_EV, IpiError, Result, Vec3};

/// Where a driver listens and a client connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A Unix-domain socket at this path.
    Unix(PathBuf),
    /// TCP (loopback for a client on the same machine).
    Tcp(SocketAddr),
}

impl Address {
    /// The Unix socket ASE's `SocketClient(unixsocket=name)` and i-PI's `<ffsocket mode="unix">`
    /// connect to: `/tmp/ipi_<name>`.
    pub fn ase_unix(name: &str) -> Self {
        Address::Unix(PathBuf::from(format!("/tmp/ipi_{name}")))
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Unix(path) => write!(f, "unix:{}", path.display()),
            Address::Tcp(addr) => write!(f, "tcp:{addr}"),
        }
    }
}

/// A connected socket of either kind.
#[derive(Debug)]
enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Stream {
    fn set_timeout(&self, timeout: Duration) -> std::io::Result<()> {
        match self {
            Stream::Unix(s) => {
                s.set_read_timeout(Some(timeout))?;
                s.set_write_timeout(Some(timeout))
            }
            Stream::Tcp(s) => {
                s.set_read_timeout(Some(timeout))?;
                s.set_write_timeout(Some(timeout))
            }
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Unix(s) => s.flush(),
            Stream::Tcp(s) => s.flush(),
        }
    }
}

#[derive(Debug)]
enum Socket {
    Unix(UnixListener),
    Tcp(TcpListener),
}

/// A bound, listening socket; the Unix socket file is removed when it is dropped.
#[derive(Debug)]
pub struct Listener {
    socket: Socket,
    address: Address,
}

/// How often [`Listener::accept`] checks the client is still alive while it waits.
const ACCEPT_POLL: Duration = Duration::from_millis(5);

impl Listener {
    /// Binds `address`. A stale Unix socket file left by a killed run is replaced; TCP port 0
    /// picks a free port ([`Listener::address`] tells which).
    pub fn bind(address: &Address) -> Result<Self> {
        let io = |what: String| move |source| IpiError::Io { what, source };
        let (socket, address) = match address {
            Address::Unix(path) => {
                if std::fs::symlink_metadata(path)
                    .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
                {
                    std::fs::remove_file(path)
                        .map_err(io(format!("removing the stale socket {}", path.display())))?;
                }
                let l = UnixListener::bind(path)
                    .map_err(io(format!("binding the Unix socket {}", path.display())))?;
                (Socket::Unix(l), address.clone())
            }
            Address::Tcp(addr) => {
                let l = TcpListener::bind(addr).map_err(io(format!("binding TCP {addr}")))?;
                let local = l
                    .local_addr()
                    .map_err(io(format!("reading the port of {addr}")))?;
                (Socket::Tcp(l), Address::Tcp(local))
            }
        };
        let listener = Listener { socket, address };
        listener.set_nonblocking(true)?;
        Ok(listener)
    }

    /// Where clients connect.
    pub fn address(&self) -> &Address {
        &self.address
    }

    fn set_nonblocking(&self, yes: bool) -> Result<()> {
        match &self.socket {
            Socket::Unix(l) => l.set_nonblocking(yes),
            Socket::Tcp(l) => l.set_nonblocking(yes),
        }
        .map_err(|source| IpiError::Io {
            what: format!("configuring {}", self.address),
            source,
        })
    }

    /// Waits up to `deadline` for one client. `alive` is polled while waiting: an `Err` (the
    /// client's process ended, with its reason) stops the wait at once. Evaluations on the
    /// returned driver time out after `timeout` without an answer.
    pub fn accept(
        &self,
        deadline: Duration,
        timeout: Duration,
        alive: &mut dyn FnMut() -> std::result::Result<(), String>,
    ) -> Result<Driver> {
        let start = Instant::now();
        loop {
            let accepted = match &self.socket {
                Socket::Unix(l) => l.accept().map(|(s, _)| Stream::Unix(s)),
                Socket::Tcp(l) => l.accept().map(|(s, _)| {
                    // Small request/answer messages: send each at once.
                    let _ = s.set_nodelay(true);
                    Stream::Tcp(s)
                }),
            };
            match accepted {
                Ok(stream) => return Driver::new(stream, self.address.clone(), timeout),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(source) => {
                    return Err(IpiError::Io {
                        what: format!("accepting on {}", self.address),
                        source,
                    });
                }
            }
            if let Err(reason) = alive() {
                return Err(IpiError::ClientExited {
                    address: self.address.to_string(),
                    reason,
                });
            }
            if start.elapsed() >= deadline {
                return Err(IpiError::NeverConnected {
                    address: self.address.to_string(),
                    after: deadline,
                });
            }
            std::thread::sleep(ACCEPT_POLL);
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Address::Unix(path) = &self.address {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Energy, forces and virial of one configuration, in eV and Å.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Energy, eV.
    pub energy: f64,
    /// Forces, eV/Å, one per atom.
    pub forces: Vec<Vec3>,
    /// Virial, eV (row-major; zero from clients of non-periodic systems).
    pub virial: [[f64; 3]; 3],
    /// The client's extra bytes (ASE sends one zero byte; some codes send JSON).
    pub extra: Vec<u8>,
}

/// The state a client returns to after sending forces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterForces {
    NeedInit,
    Ready,
}

/// The driver's end of one client connection.
#[derive(Debug)]
pub struct Driver {
    stream: std::io::BufReader<Stream>,
    address: Address,
    timeout: Duration,
    evaluations: usize,
    after_forces: Option<AfterForces>,
    out: Vec<u8>,
    scratch: Vec<f64>,
}

impl Driver {
    fn new(stream: Stream, address: Address, timeout: Duration) -> Result<Self> {
        stream.set_timeout(timeout).map_err(|source| IpiError::Io {
            what: format!("setting the timeout on {address}"),
            source,
        })?;
        Ok(Driver {
            // Buffered: a reply's header and payload arrive in one read.
            stream: std::io::BufReader::with_capacity(1 << 16, stream),
            address,
            timeout,
            evaluations: 0,
            after_forces: None,
            out: Vec::with_capacity(4096),
            scratch: Vec::new(),
        })
    }

    /// Where the client connected.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// Energy and forces of `positions` (Å) in a non-periodic system (zero cell, as ASE sends
    /// for a molecule), or in the periodic `cell` (rows are lattice vectors, Å).
    pub fn evaluate(&mut self, positions: &[Vec3], cell: Option<[Vec3; 3]>) -> Result<Evaluation> {
        let n = positions.len();
        let natoms = i32::try_from(n).map_err(|_| IpiError::Protocol {
            expected: "at most 2^31 − 1 atoms".into(),
            got: format!("{n} atoms"),
        })?;
        // The first evaluations poll STATUS and wait for each answer. Once the client has shown
        // the state it returns to after sending forces (ASE: NEEDINIT, i-PI's drivers: READY),
        // the whole exchange goes in one write and its answers are checked in order: one round
        // trip per evaluation instead of four.
        let pipelined = self.after_forces;
        match pipelined {
            None => {
                let state = self.ready()?;
                if self.evaluations > 0 {
                    self.after_forces = Some(state);
                }
            }
            Some(AfterForces::NeedInit) => {
                self.put_init();
                message::put_header(&mut self.out, header::STATUS);
            }
            Some(AfterForces::Ready) => message::put_header(&mut self.out, header::STATUS),
        }
        // POSDATA: cell and inverse in Bohr (column-major: i-PI's h matrix has the lattice
        // vectors as columns), then positions.
        let (h, h_inv) = match cell {
            Some(c) => (c, inverse_transpose(&c)?),
            None => ([[0.0; 3]; 3], [[0.0; 3]; 3]),
        };
        message::put_header(&mut self.out, header::POSDATA);
        message::put_f64s(&mut self.out, column_major(&h).map(|v| v / BOHR_ANGSTROM));
        message::put_f64s(
            &mut self.out,
            column_major(&h_inv).map(|v| v * BOHR_ANGSTROM),
        );
        message::put_i32(&mut self.out, natoms);
        message::put_f64s(
            &mut self.out,
            positions.iter().flatten().map(|v| v / BOHR_ANGSTROM),
        );
        // A client computes POSDATA before it reads the next message, so the STATUS and
        // GETFORCE behind it are answered in order once it is done.
        message::put_header(&mut self.out, header::STATUS);
        message::put_header(&mut self.out, header::GETFORCE);
        self.send("sending positions")?;
        if pipelined.is_some() {
            self.expect(header::READY, "READY before POSDATA")?;
        }
        self.expect(header::HAVEDATA, "HAVEDATA after POSDATA")?;
        let evaluation = self.read_forces(n)?;
        self.evaluations += 1;
        Ok(evaluation)
    }

    fn put_init(&mut self) {
        // Bead 0 and a one-byte string: ASE and i-PI's drivers ignore its content.
        message::put_header(&mut self.out, header::INIT);
        message::put_i32(&mut self.out, 0);
        message::put_i32(&mut self.out, 1);
        self.out.push(0);
    }

    fn expect(&mut self, want: &str, expected: &str) -> Result<()> {
        let got = self.header("waiting for the client")?;
        if got != want {
            return Err(IpiError::Protocol {
                expected: expected.into(),
                got: format!("`{got}`"),
            });
        }
        Ok(())
    }

    /// Polls STATUS until the client is READY, initialising it when it asks; returns the state
    /// it was found in.
    fn ready(&mut self) -> Result<AfterForces> {
        message::put_header(&mut self.out, header::STATUS);
        self.send("asking for the client's status")?;
        let mut status = self.header("waiting for the client's status")?;
        let found = if status == header::NEEDINIT {
            AfterForces::NeedInit
        } else {
            AfterForces::Ready
        };
        if status == header::NEEDINIT {
            self.put_init();
            message::put_header(&mut self.out, header::STATUS);
            self.send("initialising the client")?;
            status = self.header("waiting for the client's status after INIT")?;
        }
        if status != header::READY {
            return Err(IpiError::Protocol {
                expected: "READY (or NEEDINIT) before POSDATA".into(),
                got: format!("`{status}`"),
            });
        }
        Ok(found)
    }

    fn read_forces(&mut self, n: usize) -> Result<Evaluation> {
        let during = "reading the forces";
        let t = self.timeout;
        let io = |e| IpiError::from_io(e, during, t);
        self.expect(header::FORCEREADY, "FORCEREADY after GETFORCE")?;
        message::read_f64s(&mut self.stream, 1, &mut self.scratch).map_err(io)?;
        let energy = self.scratch[0] * HARTREE_EV;
        let got = message::read_i32(&mut self.stream).map_err(io)?;
        if usize::try_from(got) != Ok(n) {
            return Err(IpiError::AtomCount {
                expected: n,
                got: usize::try_from(got).unwrap_or(0),
            });
        }
        message::read_f64s(&mut self.stream, 3 * n, &mut self.scratch).map_err(io)?;
        let scale = HARTREE_EV / BOHR_ANGSTROM;
        let forces: Vec<Vec3> = self
            .scratch
            .chunks_exact(3)
            .map(|f| [f[0] * scale, f[1] * scale, f[2] * scale])
            .collect();
        message::read_f64s(&mut self.stream, 9, &mut self.scratch).map_err(io)?;
        let mut virial = [[0.0; 3]; 3];
        for (k, v) in self.scratch.iter().enumerate() {
            // Column-major on the wire.
            virial[k % 3][k / 3] = v * HARTREE_EV;
        }
        let extra_len = message::read_i32(&mut self.stream).map_err(io)?;
        let extra_len = usize::try_from(extra_len).map_err(|_| IpiError::Protocol {
            expected: "a non-negative length of the extra string".into(),
            got: extra_len.to_string(),
        })?;
        let extra = message::read_bytes(&mut self.stream, extra_len).map_err(io)?;
        if !energy.is_finite() {
            return Err(IpiError::NonFinite {
                what: "energy".into(),
            });
        }
        if let Some(a) = forces.iter().position(|f| !f.iter().all(|v| v.is_finite())) {
            return Err(IpiError::NonFinite {
                what: format!("force on atom {a}"),
            });
        }
        Ok(Evaluation {
            energy,
            forces,
            virial,
            extra,
        })
    }

    /// Tells the client to exit (best effort: it may be gone already).
    pub fn exit(mut self) {
        message::put_header(&mut self.out, header::EXIT);
        let _ = message::flush(self.stream.get_mut(), &mut self.out);
    }

    fn send(&mut self, during: &str) -> Result<()> {
        let t = self.timeout;
        message::flush(self.stream.get_mut(), &mut self.out)
            .map_err(|e| IpiError::from_io(e, during, t))
    }

    fn header(&mut self, during: &str) -> Result<String> {
        let t = self.timeout;
        message::read_header(&mut self.stream).map_err(|e| IpiError::from_io(e, during, t))
    }
}

/// A 3×3 matrix given by rows, in the wire's column-major order.
fn column_major(m: &[Vec3; 3]) -> impl Iterator<Item = f64> + '_ {
    (0..9).map(|k| m[k % 3][k / 3])
}

/// The transposed inverse of `h` (rows: lattice vectors), what i-PI sends as `ih`.
fn inverse_transpose(h: &[Vec3; 3]) -> Result<[Vec3; 3]> {
    let [a, b, c] = h;
    let cross = |u: &Vec3, v: &Vec3| {
        [
            u[1] * v[2] - u[2] * v[1],
            u[2] * v[0] - u[0] * v[2],
            u[0] * v[1] - u[1] * v[0],
        ]
    };
    let det = a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0])
        + a[2] * (b[0] * c[1] - b[1] * c[0]);
    if !det.is_finite() || det.abs() < 1e-12 {
        return Err(IpiError::Protocol {
            expected: "a cell with non-zero volume".into(),
            got: format!("determinant {det}"),
        });
    }
    // Rows of (h⁻¹)ᵀ are the reciprocal vectors (b×c, c×a, a×b) / det.
    let scale = |v: Vec3| [v[0] / det, v[1] / det, v[2] / det];
    Ok([scale(cross(b, c)), scale(cross(c, a)), scale(cross(a, b))])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_transpose_of_a_triclinic_cell() {
        let h = [[3.0, 0.0, 0.0], [1.0, 4.0, 0.0], [0.5, 0.2, 5.0]];
        let g = inverse_transpose(&h).unwrap();
        // h · gᵀ = 1 row by row: a_i · g_j = δ_ij.
        for (i, a) in h.iter().enumerate() {
            for (j, r) in g.iter().enumerate() {
                let dot: f64 = (0..3).map(|k| a[k] * r[k]).sum();
                assert!((dot - f64::from(u8::from(i == j))).abs() < 1e-12);
            }
        }
        assert!(inverse_transpose(&[[0.0; 3]; 3]).is_err());
    }
}

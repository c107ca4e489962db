//! The wire format: every message starts with a 12-byte ASCII header padded with spaces;
//! payloads are native-endian `f64` and `i32` in atomic units (Bohr, Hartree), matrices
//! column-major as i-PI writes them.
//!
//! | header | direction | payload |
//! |---|---|---|
//! | `STATUS` | driver → client | — (the client answers `READY`, `NEEDINIT` or `HAVEDATA`) |
//! | `INIT` | driver → client | bead index `i32`, length `i32`, that many bytes |
//! | `POSDATA` | driver → client | cell 9×`f64`, inverse cell 9×`f64`, atoms `i32`, positions 3N×`f64` |
//! | `GETFORCE` | driver → client | — (the client answers `FORCEREADY`) |
//! | `FORCEREADY` | client → driver | energy `f64`, atoms `i32`, forces 3N×`f64`, virial 9×`f64`, length `i32`, bytes |
//! | `EXIT` | driver → client | — |

use std::io::{Read, Write};

/// Length of every header.
pub const HEADER_LEN: usize = 12;

/// Headers of the protocol.
pub mod header {
    /// Driver asks for the client's state.
    pub const STATUS: &str = "STATUS";
    /// Client is ready for positions.
    pub const READY: &str = "READY";
    /// Client wants an `INIT` first.
    pub const NEEDINIT: &str = "NEEDINIT";
    /// Client holds a result.
    pub const HAVEDATA: &str = "HAVEDATA";
    /// Driver initialises the client.
    pub const INIT: &str = "INIT";
    /// Driver sends a configuration.
    pub const POSDATA: &str = "POSDATA";
    /// Driver asks for the result.
    pub const GETFORCE: &str = "GETFORCE";
    /// Client sends the result.
    pub const FORCEREADY: &str = "FORCEREADY";
    /// Driver ends the session.
    pub const EXIT: &str = "EXIT";
}

/// Appends `header` padded to [`HEADER_LEN`] bytes.
pub fn put_header(buf: &mut Vec<u8>, header: &str) {
    debug_assert!(header.len() <= HEADER_LEN && header.is_ascii());
    buf.extend_from_slice(header.as_bytes());
    buf.resize(buf.len() + HEADER_LEN - header.len(), b' ');
}

/// Appends native-endian `f64`s.
pub fn put_f64s(buf: &mut Vec<u8>, values: impl IntoIterator<Item = f64>) {
    for v in values {
        buf.extend_from_slice(&v.to_ne_bytes());
    }
}

/// Appends a native-endian `i32`.
pub fn put_i32(buf: &mut Vec<u8>, value: i32) {
    buf.extend_from_slice(&value.to_ne_bytes());
}

/// Reads one header and returns it without its padding.
pub fn read_header(stream: &mut impl Read) -> std::io::Result<String> {
    let mut bytes = [0u8; HEADER_LEN];
    stream.read_exact(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes)
        .trim_end_matches([' ', '\0'])
        .to_owned())
}

/// Reads `n` native-endian `f64`s into `out` (cleared first).
pub fn read_f64s(stream: &mut impl Read, n: usize, out: &mut Vec<f64>) -> std::io::Result<()> {
    let mut bytes = vec![0u8; n * 8];
    stream.read_exact(&mut bytes)?;
    out.clear();
    out.extend(
        bytes
            .chunks_exact(8)
            .map(|c| f64::from_ne_bytes(c.try_into().unwrap_or([0; 8]))),
    );
    Ok(())
}

/// Reads a native-endian `i32`.
pub fn read_i32(stream: &mut impl Read) -> std::io::Result<i32> {
    let mut bytes = [0u8; 4];
    stream.read_exact(&mut bytes)?;
    Ok(i32::from_ne_bytes(bytes))
}

/// Reads `n` raw bytes.
pub fn read_bytes(stream: &mut impl Read, n: usize) -> std::io::Result<Vec<u8>> {
    let mut bytes = vec![0u8; n];
    stream.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// Writes `buf` in one call (one packet for small messages) and clears it.
pub fn flush(stream: &mut impl Write, buf: &mut Vec<u8>) -> std::io::Result<()> {
    stream.write_all(buf)?;
    buf.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_padded_to_twelve_bytes_and_read_back() {
        let mut buf = Vec::new();
        put_header(&mut buf, header::STATUS);
        put_header(&mut buf, header::FORCEREADY);
        assert_eq!(buf.len(), 24);
        assert_eq!(&buf[..12], b"STATUS      ");
        let mut reader = &buf[..];
        assert_eq!(read_header(&mut reader).unwrap(), "STATUS");
        assert_eq!(read_header(&mut reader).unwrap(), "FORCEREADY");
    }

    #[test]
    fn numbers_round_trip() {
        let mut buf = Vec::new();
        put_f64s(&mut buf, [1.5, -2.25e-300]);
        put_i32(&mut buf, -7);
        let mut reader = &buf[..];
        let mut v = Vec::new();
        read_f64s(&mut reader, 2, &mut v).unwrap();
        assert_eq!(v, vec![1.5, -2.25e-300]);
        assert_eq!(read_i32(&mut reader).unwrap(), -7);
        assert!(read_i32(&mut reader).is_err(), "nothing left to read");
    }
}

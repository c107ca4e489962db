//! Errors of the protocol's two sides.

use std::time::Duration;

/// Everything that can go wrong between a driver and a client.
#[derive(Debug, thiserror::Error)]
pub enum IpiError {
    /// The socket could not be created, bound or used.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// No client connected before the deadline.
    #[error("no client connected to {address} within {} s", .after.as_secs_f64())]
    NeverConnected {
        /// Where the driver listened.
        address: String,
        /// The deadline.
        after: Duration,
    },
    /// The client's process ended before it connected (its own explanation attached).
    #[error("the client exited before connecting to {address}: {reason}")]
    ClientExited {
        /// Where the driver listened.
        address: String,
        /// Exit status and the tail of its error output, as the caller reported them.
        reason: String,
    },
    /// The peer did not answer in time.
    #[error("the peer did not answer within {} s while {during}", .after.as_secs_f64())]
    Timeout {
        /// What the driver was waiting for.
        during: String,
        /// The deadline.
        after: Duration,
    },
    /// The peer closed the connection.
    #[error("the peer closed the connection while {during}")]
    Disconnected {
        /// What was in progress.
        during: String,
    },
    /// The peer sent something the protocol does not allow here.
    #[error("protocol error: expected {expected}, got {got}")]
    Protocol {
        /// What the protocol allows at this point.
        expected: String,
        /// What arrived.
        got: String,
    },
    /// The client returned forces for another number of atoms.
    #[error("the client returned forces for {got} atoms; the configuration has {expected}")]
    AtomCount {
        /// Atoms sent.
        expected: usize,
        /// Atoms returned.
        got: usize,
    },
    /// The client returned NaN or infinity.
    #[error("the client returned a non-finite {what}")]
    NonFinite {
        /// Which value (`energy`, `force on atom 3`, …).
        what: String,
    },
    /// The calculator served by [`crate::serve`] failed.
    #[error("the calculator failed: {0}")]
    Calculator(String),
}

impl IpiError {
    /// Maps an I/O error met while `during` to a timeout, a disconnection or an I/O error.
    pub(crate) fn from_io(source: std::io::Error, during: &str, timeout: Duration) -> Self {
        use std::io::ErrorKind as K;
        match source.kind() {
            K::WouldBlock | K::TimedOut => IpiError::Timeout {
                during: during.to_owned(),
                after: timeout,
            },
            K::UnexpectedEof | K::ConnectionReset | K::BrokenPipe | K::ConnectionAborted => {
                IpiError::Disconnected {
                    during: during.to_owned(),
                }
            }
            _ => IpiError::Io {
                what: during.to_owned(),
                source,
            },
        }
    }
}

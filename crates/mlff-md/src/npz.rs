//! Reading numeric arrays from `.npz` files whatever their dtype width and memory order.

use std::path::Path;

use mlff_data::DataError;
use mlff_data::format::NpzReader;

use crate::error::{MdError, Result};

/// A numeric npz array converted to f64, in C order, with its shape.
#[derive(Debug, Clone, PartialEq)]
pub struct NumericArray {
    /// Values in C (row-major) order.
    pub data: Vec<f64>,
    /// Shape.
    pub shape: Vec<usize>,
}

/// Reads array `name` of the npz file at `path` as f64 (any float/int width, C or Fortran
/// order, through `mlff-data`'s npz reader); errors name the file and the array.
pub fn read_numeric_array(path: &Path, name: &str) -> Result<NumericArray> {
    let source = path.display().to_string();
    let convert = |e: DataError| match e {
        DataError::Io { source: io, .. } => MdError::Io {
            path: source.clone(),
            source: io,
        },
        other => MdError::NpzFormat {
            path: source.clone(),
            message: other.to_string(),
        },
    };
    let mut npz = NpzReader::open(path).map_err(convert)?;
    let array = match npz.floats(name) {
        Ok(found) => found,
        // Integer arrays (`perms`, `tril_perms_lin`, `z`, sometimes `sig`) are read as integers.
        Err(DataError::WrongDtype { .. }) => {
            npz.integers(name)
                .map_err(convert)?
                .map(|a| mlff_data::format::NumericArray {
                    values: a.values.into_iter().map(|v| v as f64).collect(),
                    shape: a.shape,
                })
        }
        Err(e) => return Err(convert(e)),
    };
    let array = array.ok_or_else(|| MdError::NpzFormat {
        path: source.clone(),
        message: format!("missing array {name}"),
    })?;
    Ok(NumericArray {
        data: array.values,
        shape: array.shape,
    })
}

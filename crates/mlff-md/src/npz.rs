//! Reading numeric arrays from `.npz` files whatever their dtype width and memory order.

use std::path::Path;

use npyz::TypeChar;
use npyz::npz::NpzArchive;

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
/// order); errors name the file and the array.
pub fn read_numeric_array(path: &Path, name: &str) -> Result<NumericArray> {
    let source = path.display().to_string();
    let mut archive = NpzArchive::open(path).map_err(|e| MdError::Io {
        path: source.clone(),
        source: e,
    })?;
    let err = |message: String| MdError::NpzFormat {
        path: source.clone(),
        message,
    };
    let npy = archive
        .by_name(name)
        .map_err(|e| err(format!("array {name}: {e}")))?
        .ok_or_else(|| err(format!("missing array {name}")))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&s| s as usize).collect();
    let fortran = npy.order() == npyz::Order::Fortran;
    let npyz::DType::Plain(ty) = npy.dtype() else {
        return Err(err(format!("array {name}: structured dtype unsupported")));
    };
    let read_err = |e: std::io::Error| err(format!("array {name}: {e}"));
    let data: Vec<f64> = match (ty.type_char(), ty.size_field()) {
        (TypeChar::Float, 8) => npy.into_vec::<f64>().map_err(read_err)?,
        (TypeChar::Float, 4) => npy
            .into_vec::<f32>()
            .map_err(read_err)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (TypeChar::Int, 8) => npy
            .into_vec::<i64>()
            .map_err(read_err)?
            .into_iter()
            .map(|v| v as f64)
            .collect(),
        (TypeChar::Int, 4) => npy
            .into_vec::<i32>()
            .map_err(read_err)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (TypeChar::Uint, 1) => npy
            .into_vec::<u8>()
            .map_err(read_err)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (TypeChar::Uint, 8) => npy
            .into_vec::<u64>()
            .map_err(read_err)?
            .into_iter()
            .map(|v| v as f64)
            .collect(),
        _ => return Err(err(format!("array {name}: unsupported dtype {ty}"))),
    };
    let data = if fortran && shape.len() > 1 {
        fortran_to_c(&data, &shape)
    } else {
        data
    };
    Ok(NumericArray { data, shape })
}

/// Reorders a Fortran-order (column-major) buffer into C order.
fn fortran_to_c(data: &[f64], shape: &[usize]) -> Vec<f64> {
    let mut out = vec![0.0; data.len()];
    let mut index = vec![0usize; shape.len()];
    for value in out.iter_mut() {
        // `index` walks C order; its Fortran offset has the first axis fastest.
        let mut offset = 0;
        for axis in (0..shape.len()).rev() {
            offset = offset * shape[axis] + index[axis];
        }
        *value = data[offset];
        for axis in (0..shape.len()).rev() {
            index[axis] += 1;
            if index[axis] < shape[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fortran_order_is_transposed_to_c_order() {
        // numpy: np.arange(6).reshape(2, 3) stored column-major is [0, 3, 1, 4, 2, 5].
        let f = [0.0, 3.0, 1.0, 4.0, 2.0, 5.0];
        assert_eq!(
            fortran_to_c(&f, &[2, 3]),
            vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        );
        // 3-D: np.arange(24).reshape(2, 3, 4) in Fortran order, element (1, 2, 3) = 23.
        let c: Vec<f64> = (0..24).map(f64::from).collect();
        let mut fortran = vec![0.0; 24];
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..4 {
                    fortran[i + 2 * (j + 3 * k)] = c[(i * 3 + j) * 4 + k];
                }
            }
        }
        assert_eq!(fortran_to_c(&fortran, &[2, 3, 4]), c);
    }
}

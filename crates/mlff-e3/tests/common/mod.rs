//! Fixture access shared by the integration tests.
#![allow(dead_code, missing_docs)]

use std::collections::HashMap;
use std::path::PathBuf;

/// `../shared` seen from the repository root (one level further up for a checkout in a
/// worktree folder); a missing directory fails the test loudly.
pub fn shared_dir() -> PathBuf {
    let candidates = [
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"),
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../../shared"),
    ];
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|d| d.join("fixtures").is_dir())
        .unwrap_or_else(|| {
            panic!(
                "shared fixtures not found at {candidates:?}: the reference tests need ../shared"
            )
        })
}

/// An array read from an npz file, converted to f64.
pub struct Array {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

/// Reads every array of `fixtures/<rel>` (f64 or i64 arrays).
pub fn load_npz(rel: &str) -> HashMap<String, Array> {
    let path = shared_dir().join("fixtures").join(rel);
    let mut npz = npyz::npz::NpzArchive::open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let names: Vec<String> = npz.array_names().map(str::to_string).collect();
    let mut out = HashMap::new();
    for name in names {
        let arr = npz.by_name(&name).unwrap().unwrap();
        let shape: Vec<usize> = arr.shape().iter().map(|&s| s as usize).collect();
        let data: Vec<f64> = match arr.dtype() {
            npyz::DType::Plain(t) if t.type_char() == npyz::TypeChar::Float => {
                arr.into_vec::<f64>().unwrap()
            }
            npyz::DType::Plain(t) if t.type_char() == npyz::TypeChar::Int => arr
                .into_vec::<i64>()
                .unwrap()
                .into_iter()
                .map(|v| v as f64)
                .collect(),
            other => panic!("unsupported dtype {other:?} for {name}"),
        };
        out.insert(name, Array { shape, data });
    }
    out
}

/// Largest absolute difference between two equally long slices.
pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "length mismatch");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

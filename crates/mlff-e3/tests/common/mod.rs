//! Fixture access shared by the integration tests.
#![allow(dead_code, missing_docs)]

use std::collections::HashMap;
use std::path::PathBuf;

/// An array read from an npz file, converted to f64.
pub struct Array {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

/// `fixtures/<rel>` of the repository (made by the project's scripts, with provenance).
pub fn fixture_path(rel: &str) -> PathBuf {
    mlff_testkit::fixture(rel)
}

/// Reads every array of the fixture `rel` (f64 or i64 arrays).
pub fn load_npz(rel: &str) -> HashMap<String, Array> {
    let path = fixture_path(rel);
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

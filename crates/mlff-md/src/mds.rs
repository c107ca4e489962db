//! Classical multidimensional scaling: Cartesian coordinates from a matrix of squared
//! distances.

use crate::vec3::Vec3;

/// Coordinates in 3-D whose pairwise squared distances are `d2` (exact for distances that
/// come from a 3-D geometry; the result is centred, and unique up to rotation and mirroring).
///
/// The double-centred Gram matrix B = −½ J D² J of a 3-D geometry has rank 3, so its three
/// eigenpairs are found by power iteration with deflation; matrices here are at most a few
/// dozen atoms across, far below where a dense eigensolver would pay off.
pub(crate) fn embed_in_3d(d2: &[Vec<f64>]) -> Vec<Vec3> {
    let n = d2.len();
    let row_mean: Vec<f64> = d2
        .iter()
        .map(|r| r.iter().sum::<f64>() / n as f64)
        .collect();
    let total_mean = row_mean.iter().sum::<f64>() / n as f64;
    let mut b: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| -0.5 * (d2[i][j] - row_mean[i] - row_mean[j] + total_mean))
                .collect()
        })
        .collect();
    let mut coords = vec![[0.0; 3]; n];
    for axis in 0..3 {
        // Deterministic, generic start vector.
        let mut v: Vec<f64> = (0..n)
            .map(|i| 1.0 + (i as f64 * 0.618_034 + axis as f64).sin())
            .collect();
        let mut lambda = 0.0;
        for _ in 0..10_000 {
            let w: Vec<f64> = b
                .iter()
                .map(|row| row.iter().zip(&v).map(|(a, x)| a * x).sum())
                .collect();
            let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm == 0.0 {
                break;
            }
            let next: Vec<f64> = w.iter().map(|x| x / norm).collect();
            let change = next
                .iter()
                .zip(&v)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            v = next;
            lambda = norm;
            if change < 1e-14 {
                break;
            }
        }
        let s = lambda.max(0.0).sqrt();
        for (c, x) in coords.iter_mut().zip(&v) {
            c[axis] = s * x;
        }
        for i in 0..n {
            for j in 0..n {
                b[i][j] -= lambda * v[i] * v[j];
            }
        }
    }
    coords
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconstructs_distances_of_a_3d_geometry() {
        let p: Vec<Vec3> = (0..9)
            .map(|i| {
                let t = i as f64;
                [t.sin() * 1.5, (1.3 * t).cos(), 0.4 * t - 1.0]
            })
            .collect();
        let dist2 = |a: Vec3, b: Vec3| (0..3).map(|k| (a[k] - b[k]).powi(2)).sum::<f64>();
        let d2: Vec<Vec<f64>> = p
            .iter()
            .map(|&a| p.iter().map(|&b| dist2(a, b)).collect())
            .collect();
        let q = embed_in_3d(&d2);
        for i in 0..9 {
            for j in 0..9 {
                assert!((dist2(q[i], q[j]) - d2[i][j]).abs() < 1e-9, "{i} {j}");
            }
        }
    }
}

//! sGDML evaluator: the symmetrised gradient-domain ML force fields of sgdml.org
//! (Chmiela et al.), loaded from their `.npz` model files.
//!
//! Descriptor: x = 1/r_ij over the strictly lower triangle (`np.tril_indices(n, -1)` order).
//! For training point t and symmetry p the permuted training descriptor is
//! `Rt_desc[tril_perms_lin[p + n_perms·c] mod dim, t]` (the same for `Rt_d_desc_alpha`).
//! With d = x − x′, q = √5‖d‖, mb = e^(−q/σ)·5/(3σ³), a the permuted alpha row and ax = d·a:
//! E = Σ ax·mb·(q+σ) + c and −∂E/∂x = Σ (5/σ)·ax·mb·d − mb·(q+σ)·a.

use std::path::Path;

use rayon::prelude::*;

use crate::error::{MdError, Result};
use crate::npz::{NumericArray, read_numeric_array};
use crate::potential::{Potential, check_frame};
use crate::vec3::Vec3;

/// A loaded sGDML model, with its training descriptors expanded over all symmetries.
#[derive(Debug, Clone)]
pub struct SgdmlModel {
    atomic_numbers: Vec<u8>,
    sigma: f64,
    offset: f64,
    dim: usize,
    n_training: usize,
    /// Permuted training descriptors, one row of `dim` per (training point, symmetry).
    train_x: Vec<f64>,
    /// Matching permuted alpha rows.
    train_a: Vec<f64>,
}

fn scalar(array: &NumericArray, name: &str, source: &str) -> Result<f64> {
    match array.data.as_slice() {
        [v] => Ok(*v),
        _ => Err(MdError::SgdmlFormat {
            source_name: source.to_string(),
            message: format!("{name} must be a scalar, has shape {:?}", array.shape),
        }),
    }
}

impl SgdmlModel {
    /// Loads a model file (`Rt_desc`, `Rt_d_desc_alpha`, `tril_perms_lin`, `perms`, `sig`,
    /// `c`, `z`), whatever the integer/float widths and array orders.
    pub fn load(path: &Path) -> Result<Self> {
        let source = path.display().to_string();
        let err = |message: String| MdError::SgdmlFormat {
            source_name: source.clone(),
            message,
        };
        let z = read_numeric_array(path, "z")?;
        let sigma = scalar(&read_numeric_array(path, "sig")?, "sig", &source)?;
        let offset = scalar(&read_numeric_array(path, "c")?, "c", &source)?;
        let perms = read_numeric_array(path, "perms")?;
        let tril = read_numeric_array(path, "tril_perms_lin")?;
        let desc = read_numeric_array(path, "Rt_desc")?;
        let alpha = read_numeric_array(path, "Rt_d_desc_alpha")?;

        let n = z.data.len();
        let dim = n * n.saturating_sub(1) / 2;
        let atomic_numbers: Vec<u8> = z.data.iter().map(|&v| v as u8).collect();
        if n < 2 {
            return Err(err(format!("needs ≥ 2 atoms, z has {n}")));
        }
        if !(sigma.is_finite() && sigma > 0.0) {
            return Err(err(format!("kernel width sig = {sigma} must be > 0")));
        }
        let n_perms = perms.shape.first().copied().unwrap_or(0);
        if perms.shape != [n_perms, n] || n_perms == 0 {
            return Err(err(format!(
                "perms shape {:?}, expected (n_perms, {n})",
                perms.shape
            )));
        }
        if tril.data.len() != n_perms * dim {
            return Err(err(format!(
                "tril_perms_lin has {} entries, expected {}",
                tril.data.len(),
                n_perms * dim
            )));
        }
        if desc.shape.len() != 2 || desc.shape[0] != dim {
            return Err(err(format!(
                "Rt_desc shape {:?}, expected ({dim}, n_train)",
                desc.shape
            )));
        }
        let n_train = desc.shape[1];
        // Rt_d_desc_alpha is (n_train, dim) or (n_train, dim, 1).
        if alpha.shape.len() < 2
            || alpha.shape[0] != n_train
            || alpha.shape[1] != dim
            || alpha.data.len() != n_train * dim
        {
            return Err(err(format!(
                "Rt_d_desc_alpha shape {:?}, expected ({n_train}, {dim}[, 1])",
                alpha.shape
            )));
        }
        let perm_index: Vec<usize> = tril.data.iter().map(|&v| v as usize % dim).collect();
        let mut train_x = Vec::with_capacity(n_train * n_perms * dim);
        let mut train_a = Vec::with_capacity(n_train * n_perms * dim);
        for t in 0..n_train {
            for p in 0..n_perms {
                for c in 0..dim {
                    let src = perm_index[p + n_perms * c];
                    train_x.push(desc.data[src * n_train + t]);
                    train_a.push(alpha.data[t * dim + src]);
                }
            }
        }
        if train_x.iter().chain(&train_a).any(|v| !v.is_finite()) {
            return Err(err("non-finite training descriptors or coefficients".into()));
        }
        Ok(Self {
            n_training: n_train,
            atomic_numbers,
            sigma,
            offset,
            dim,
            train_x,
            train_a,
        })
    }

    /// Atomic numbers in the model's atom order.
    pub fn atomic_numbers(&self) -> &[u8] {
        &self.atomic_numbers
    }

    /// Number of (training point × symmetry) kernel centres.
    pub fn n_centres(&self) -> usize {
        self.train_x.len() / self.dim
    }

    /// Descriptor 1/r_ij in `np.tril_indices(n, -1)` order.
    fn descriptor(&self, positions: &[Vec3], x: &mut [f64]) {
        let mut c = 0;
        for i in 1..positions.len() {
            for j in 0..i {
                let d = [
                    positions[i][0] - positions[j][0],
                    positions[i][1] - positions[j][1],
                    positions[i][2] - positions[j][2],
                ];
                x[c] = 1.0 / (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
                c += 1;
            }
        }
    }
}

/// Kernel centres per parallel task (a few hundred keep the per-task overhead negligible).
const CENTRES_PER_BLOCK: usize = 500;

impl SgdmlModel {
    /// Energy contribution and −∂E/∂x of one block of kernel centres at descriptor `x`.
    fn kernel_block(&self, x: &[f64], xs: &[f64], alphas: &[f64]) -> (f64, Vec<f64>) {
        let dim = self.dim;
        let s = self.sigma;
        let mut g = vec![0.0; dim];
        let mut energy = 0.0;
        for (xr, ar) in xs.chunks_exact(dim).zip(alphas.chunks_exact(dim)) {
            let (mut dd, mut ax) = (0.0, 0.0);
            for c in 0..dim {
                let d = x[c] - xr[c];
                dd += d * d;
                ax += d * ar[c];
            }
            let q = (5.0 * dd).sqrt();
            let mb = (-q / s).exp() * 5.0 / (3.0 * s * s * s);
            energy += ax * mb * (q + s);
            let (s1, s2) = (5.0 / s * ax * mb, mb * (q + s));
            for c in 0..dim {
                g[c] += s1 * (x[c] - xr[c]) - s2 * ar[c];
            }
        }
        (energy, g)
    }
}

impl Potential for SgdmlModel {
    fn n_atoms(&self) -> usize {
        self.atomic_numbers.len()
    }

    fn energy_forces(&self, positions: &[Vec3], forces: &mut [Vec3]) -> Result<f64> {
        check_frame(self.n_atoms(), positions, forces)?;
        let dim = self.dim;
        let mut x = vec![0.0; dim];
        self.descriptor(positions, &mut x);
        // Centres are processed in fixed blocks in parallel; the block results are summed in
        // block order, so the result does not depend on the number of threads.
        let block = CENTRES_PER_BLOCK * dim;
        let partial: Vec<(f64, Vec<f64>)> = self
            .train_x
            .par_chunks(block)
            .zip(self.train_a.par_chunks(block))
            .map(|(xs, alphas)| self.kernel_block(&x, xs, alphas))
            .collect();
        // g = −∂E/∂x summed over all kernel centres.
        let mut g = vec![0.0; dim];
        let mut energy = 0.0;
        for (e, gb) in partial {
            energy += e;
            for (a, b) in g.iter_mut().zip(&gb) {
                *a += b;
            }
        }
        // Chain rule through x_ij = 1/r_ij: ∂x/∂r_i = −(r_i − r_j) x³.
        forces.fill([0.0; 3]);
        let mut c = 0;
        for i in 1..positions.len() {
            for j in 0..i {
                let x3 = x[c] * x[c] * x[c];
                for k in 0..3 {
                    let f = -g[c] * (positions[i][k] - positions[j][k]) * x3;
                    forces[i][k] += f;
                    forces[j][k] -= f;
                }
                c += 1;
            }
        }
        Ok(energy + self.offset)
    }
}

impl SgdmlModel {
    /// Cartesian coordinates (Å) of training point `index`, reconstructed from its stored
    /// inverse-distance descriptor by classical multidimensional scaling (exact up to a rigid
    /// motion and a mirror image, to which the model is invariant). This gives every model a
    /// starting geometry in its own atom order without any other file.
    pub fn training_geometry(&self, index: usize) -> Result<Vec<Vec3>> {
        let n_perms = self.n_centres() / self.n_training_points();
        if index >= self.n_training_points() {
            return Err(crate::error::invalid(
                "training index",
                index,
                &format!("model has {} training points", self.n_training_points()),
            ));
        }
        // Any stored symmetry of the point will do: symmetries only swap equal elements.
        let row = &self.train_x[index * n_perms * self.dim..][..self.dim];
        let n = self.n_atoms();
        // Pair (a, b), a > b, sits at a(a−1)/2 + b in np.tril_indices(n, −1) order.
        let d2: Vec<Vec<f64>> = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| {
                        let (a, b) = (i.max(j), i.min(j));
                        if a == b {
                            0.0
                        } else {
                            row[a * (a - 1) / 2 + b].powi(-2)
                        }
                    })
                    .collect()
            })
            .collect();
        Ok(crate::mds::embed_in_3d(&d2))
    }

    /// Number of training points.
    pub fn n_training_points(&self) -> usize {
        self.n_training
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// A small random model (4 atoms, 5 centres, O(1) coefficients) without the cancellation
    /// of real models, so central differences resolve the gradient to 1e-6.
    fn synthetic_model() -> SgdmlModel {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let dim = 6;
        let centres = 5;
        SgdmlModel {
            atomic_numbers: vec![6, 1, 8, 1],
            sigma: 2.0,
            offset: -10.0,
            dim,
            n_training: centres,
            train_x: (0..dim * centres)
                .map(|_| rng.random_range(0.3..1.0))
                .collect(),
            train_a: (0..dim * centres)
                .map(|_| rng.random_range(-1.0..1.0))
                .collect(),
        }
    }

    #[test]
    fn forces_are_the_exact_gradient_of_the_energy() {
        let model = synthetic_model();
        let pos = vec![
            [0.0, 0.0, 0.0],
            [1.1, 0.1, -0.2],
            [-0.3, 1.3, 0.2],
            [0.4, 0.5, 1.2],
        ];
        let mut f = vec![[0.0; 3]; 4];
        model.energy_forces(&pos, &mut f).unwrap();
        let scale = f.iter().flatten().fold(0.0f64, |m, x| m.max(x.abs()));
        let h = 1e-5;
        for a in 0..4 {
            for c in 0..3 {
                let mut p = pos.clone();
                p[a][c] += h;
                let ep = model.energy(&p).unwrap();
                p[a][c] -= 2.0 * h;
                let em = model.energy(&p).unwrap();
                let numeric = -(ep - em) / (2.0 * h);
                let err = (numeric - f[a][c]).abs() / scale;
                assert!(err < 1e-6, "atom {a} comp {c}: rel {err:e}");
            }
        }
    }

    #[test]
    fn training_geometry_reproduces_the_stored_descriptor() {
        let model = synthetic_model();
        // A descriptor from a real geometry, stored as centre 2.
        let mut model = model;
        let geometry = vec![
            [0.0, 0.0, 0.0],
            [1.1, 0.0, 0.0],
            [-0.4, 1.0, 0.0],
            [0.2, 0.3, 1.1],
        ];
        let mut x = vec![0.0; 6];
        model.descriptor(&geometry, &mut x);
        model.train_x[2 * 6..3 * 6].copy_from_slice(&x);
        let rebuilt = model.training_geometry(2).unwrap();
        let mut y = vec![0.0; 6];
        model.descriptor(&rebuilt, &mut y);
        for (a, b) in x.iter().zip(&y) {
            assert!((a - b).abs() < 1e-10);
        }
        assert!(model.training_geometry(5).is_err());
    }
}

//! Independent check of the expansion coefficients for parameters other than the fixture's:
//! `c^Z_{nlm} = ∫ g_nl(r) Y_lm(r̂) Σ_{j∈Z} exp(-η|r - d_j|²) d³r` integrated by brute force
//! on a radial Gauss–Legendre × (Gauss–Legendre in cos θ) × (uniform φ) product grid, with
//! spherical harmonics from their trigonometric definition (a different route from the
//! library's Cartesian recursion).

use mlff_soap::quadrature::gauss_legendre;
use mlff_soap::{RadialBasisKind, Soap, SoapParams};
use ndarray::{Array1, Array2, Array4};
use std::f64::consts::PI;

/// A small, irregular H/C/O molecule (Å).
fn molecule() -> (Array1<u32>, Array2<f64>) {
    let numbers = Array1::from(vec![6, 8, 1, 1, 6, 1]);
    let positions = Array2::from_shape_vec(
        (6, 3),
        vec![
            0.0, 0.0, 0.0, 1.21, 0.35, -0.2, -0.55, 0.93, 0.31, -0.48, -0.61, -0.83, 0.4, -1.1,
            1.2, 1.9, -1.5, 1.6,
        ],
    )
    .unwrap();
    (numbers, positions)
}

/// Orthonormal real spherical harmonic in the library's convention (index l² + l + m, cosine
/// terms at m > 0, sine terms at m < 0, no Condon–Shortley phase), from θ and φ.
fn real_ylm(l: usize, m: i64, cos_theta: f64, phi: f64) -> f64 {
    let am = m.unsigned_abs() as usize;
    let sin_theta = (1.0 - cos_theta * cos_theta).max(0.0).sqrt();
    // P_l^m(x) without the (-1)^m phase by the standard recursion.
    let mut pmm = 1.0;
    for i in 0..am {
        pmm *= (2 * i + 1) as f64 * sin_theta;
    }
    let plm = if l == am {
        pmm
    } else {
        let mut p0 = pmm;
        let mut p1 = cos_theta * (2 * am + 1) as f64 * pmm;
        for ll in (am + 2)..=l {
            let p2 = ((2 * ll - 1) as f64 * cos_theta * p1 - (ll + am - 1) as f64 * p0)
                / (ll - am) as f64;
            p0 = p1;
            p1 = p2;
        }
        p1
    };
    let ratio: f64 = ((l - am + 1)..=(l + am)).map(|k| 1.0 / k as f64).product();
    let norm = ((2 * l + 1) as f64 / (4.0 * PI) * ratio).sqrt();
    match m {
        0 => norm * plm,
        m if m > 0 => 2f64.sqrt() * norm * plm * (m as f64 * phi).cos(),
        _ => 2f64.sqrt() * norm * plm * (am as f64 * phi).sin(),
    }
}

/// Brute-force coefficients of centre atom `centre`: `(species, n_max, (l_max+1)²)`.
fn numerical_coefficients(
    soap: &Soap,
    numbers: &Array1<u32>,
    positions: &Array2<f64>,
    centre: usize,
    r_max: f64,
) -> Array4<f64> {
    let p = soap.params();
    let (n_max, l_max) = (p.n_max, p.l_max);
    let eta = p.eta();
    let cutoff = p.r_cut + p.cutoff_padding();
    let species = soap.species().to_vec();
    let c = positions.row(centre).to_owned();
    let neighbours: Vec<(usize, [f64; 3])> = (0..numbers.len())
        .filter_map(|j| {
            let d = positions.row(j).to_owned() - &c;
            (d.dot(&d) <= cutoff * cutoff).then(|| {
                (
                    species.binary_search(&numbers[j]).unwrap(),
                    [d[0], d[1], d[2]],
                )
            })
        })
        .collect();
    let (rx, rw) = gauss_legendre(110);
    let (tx, tw) = gauss_legendre(40);
    let n_phi = 80;
    let nlm = (l_max + 1) * (l_max + 1);
    let mut acc = vec![0.0; species.len() * n_max * nlm];
    // Angular grid with its harmonics, shared by every radius.
    let mut angular: Vec<([f64; 3], f64, Vec<f64>)> = Vec::new();
    for (&ct, &wt) in tx.iter().zip(&tw) {
        let st = (1.0 - ct * ct).sqrt();
        for k in 0..n_phi {
            let phi = 2.0 * PI * (k as f64 + 0.5) / n_phi as f64;
            let mut ylm = vec![0.0; nlm];
            for l in 0..=l_max {
                for m in -(l as i64)..=(l as i64) {
                    ylm[l * l + (l as i64 + m) as usize] = real_ylm(l, m, ct, phi);
                }
            }
            let unit = [st * phi.cos(), st * phi.sin(), ct];
            angular.push((unit, wt * 2.0 * PI / n_phi as f64, ylm));
        }
    }
    let mut g = vec![0.0; n_max * (l_max + 1)];
    for (&x, &wx) in rx.iter().zip(&rw) {
        let r = 0.5 * r_max * (x + 1.0);
        let w_r = 0.5 * r_max * wx * r * r;
        for n in 0..n_max {
            for l in 0..=l_max {
                g[n * (l_max + 1) + l] = soap.radial_function(n, l, r);
            }
        }
        for (unit, w_angle, ylm) in &angular {
            {
                let point = [r * unit[0], r * unit[1], r * unit[2]];
                let w = w_r * w_angle;
                for &(s, d) in &neighbours {
                    let dist2: f64 = (0..3).map(|a| (point[a] - d[a]).powi(2)).sum();
                    let rho = w * (-eta * dist2).exp();
                    if rho < 1e-30 {
                        continue;
                    }
                    for n in 0..n_max {
                        let row = &mut acc[(s * n_max + n) * nlm..(s * n_max + n + 1) * nlm];
                        for l in 0..=l_max {
                            let gr = rho * g[n * (l_max + 1) + l];
                            let range = l * l..(l + 1) * (l + 1);
                            for (a, y) in row[range.clone()].iter_mut().zip(&ylm[range]) {
                                *a += gr * y;
                            }
                        }
                    }
                }
            }
        }
    }
    Array4::from_shape_vec((1, species.len(), n_max, nlm), acc).unwrap()
}

fn compare(params: SoapParams, r_max: f64, tolerance: f64) {
    let soap = Soap::new(params).unwrap();
    let (numbers, positions) = molecule();
    for centre in [0, 3] {
        let analytic = soap
            .coefficients(numbers.view(), positions.view(), Some(&[centre]))
            .unwrap();
        let numeric = numerical_coefficients(&soap, &numbers, &positions, centre, r_max);
        let scale = numeric.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let err = analytic
            .iter()
            .zip(numeric.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
            / scale;
        eprintln!("centre {centre}: max error / max |c| = {err:e}");
        assert!(
            err < tolerance,
            "centre {centre}: max error / max |c| = {err:e}"
        );
    }
}

#[test]
fn gto_coefficients_match_numerical_integration() {
    // r_cut 4, n_max 4, l_max 5, sigma 0.45: the GTO basis extends beyond r_cut, so integrate
    // out to 10 Å where every primitive has decayed.
    compare(SoapParams::new(&[1, 6, 8], 4.0, 4, 5, 0.45), 10.0, 1e-10);
}

#[test]
fn polynomial_coefficients_match_numerical_integration() {
    // The polynomial basis vanishes at r_cut; DScribe's 100-point radial rule and clamped
    // Bessel recursion reproduce the exact integral to ~1e-12 for this geometry.
    let params = SoapParams::new(&[1, 6, 8], 3.5, 5, 4, 0.5).with_rbf(RadialBasisKind::Polynomial);
    compare(params, 3.5, 1e-9);
}

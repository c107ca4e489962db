//! Gauss–Legendre quadrature on [-1, 1] (Newton iteration on the Legendre recursion).
//!
//! Used by the polynomial basis (DScribe integrates it on the 100-point rule) and by the
//! independent numerical checks of the expansion coefficients.

use std::f64::consts::PI;

/// Nodes (ascending) and weights of the `n`-point Gauss–Legendre rule on [-1, 1].
pub fn gauss_legendre(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut nodes = vec![0.0; n];
    let mut weights = vec![0.0; n];
    for i in 0..n.div_ceil(2) {
        // Tricomi's initial guess for the i-th largest root.
        let mut x = (PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut derivative = 1.0;
        for _ in 0..100 {
            let (p, dp) = legendre_with_derivative(n, x);
            derivative = dp;
            let dx = p / dp;
            x -= dx;
            if dx.abs() < 1e-16 {
                let (_, dp) = legendre_with_derivative(n, x);
                derivative = dp;
                break;
            }
        }
        let w = 2.0 / ((1.0 - x * x) * derivative * derivative);
        nodes[i] = -x;
        nodes[n - 1 - i] = x;
        weights[i] = w;
        weights[n - 1 - i] = w;
    }
    (nodes, weights)
}

/// `P_n(x)` and `P_n'(x)`.
fn legendre_with_derivative(n: usize, x: f64) -> (f64, f64) {
    let (mut p0, mut p1) = (1.0, x);
    if n == 0 {
        return (1.0, 0.0);
    }
    for k in 2..=n {
        let p2 = ((2 * k - 1) as f64 * x * p1 - (k - 1) as f64 * p0) / k as f64;
        p0 = p1;
        p1 = p2;
    }
    let dp = n as f64 * (x * p1 - p0) / (x * x - 1.0);
    (p1, dp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrates_polynomials_exactly() {
        let (x, w) = gauss_legendre(10);
        for degree in 0..20 {
            let q: f64 = x.iter().zip(&w).map(|(x, w)| w * x.powi(degree)).sum();
            let exact = if degree % 2 == 1 {
                0.0
            } else {
                2.0 / (degree as f64 + 1.0)
            };
            assert!((q - exact).abs() < 1e-14, "degree {degree}: {q} vs {exact}");
        }
    }

    #[test]
    fn hundred_point_rule_matches_known_extremes() {
        let (x, w) = gauss_legendre(100);
        // Smallest node and weight of the 100-point rule (tabulated to 15 digits).
        assert!((x[0] + 0.999_713_726_773_441_2).abs() < 1e-15);
        assert!((w[0] - 7.346_344_905_056_72e-4).abs() < 1e-15, "{}", w[0]);
        assert!((w.iter().sum::<f64>() - 2.0).abs() < 1e-14);
    }
}

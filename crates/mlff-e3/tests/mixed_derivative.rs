//! Whole-model derivatives of a NequIP-style interaction layer built from this crate's ops:
//! forces from the chained VJPs, and the force-loss parameter gradient ∂L/∂θ from
//! forward-over-reverse duals (design B), both against central finite differences.

#[path = "../examples/interaction_layer.rs"]
#[allow(dead_code)]
mod interaction_layer;

#[test]
fn forces_and_force_loss_gradient_match_finite_differences() {
    for seed in [1, 2, 3] {
        let check = interaction_layer::derivative_check(seed, &[0, 5, 17, 40, 63]).unwrap();
        for (what, pairs) in [
            ("force", &check.forces),
            ("dL/dtheta", &check.loss_gradient),
        ] {
            let scale = pairs.iter().fold(0.0f64, |m, (a, _)| m.max(a.abs()));
            assert!(
                scale > 1e-6,
                "{what}: vanishing derivatives make the test vacuous"
            );
            for (a, fd) in pairs.iter() {
                assert!(
                    (a - fd).abs() <= 1e-6 * scale,
                    "seed {seed} {what}: {a} vs finite difference {fd}"
                );
            }
        }
    }
}

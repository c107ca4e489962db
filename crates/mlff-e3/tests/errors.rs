//! Bad input gives a typed error naming the problem, never a panic or silent garbage.

use mlff_e3::{
    BesselEmbedding, ConnectionMode, E3Error, Gate, Instruction, Irreps, Linear,
    NormalizedActivation, ScatterPlan, ShNormalization, SphericalHarmonics, TensorProduct, Weights,
    gather,
};

fn irreps(s: &str) -> Irreps {
    s.parse().unwrap()
}

#[test]
fn spherical_harmonics_reject_bad_vectors() {
    let sh = SphericalHarmonics::new(2, true, ShNormalization::Component);
    assert!(matches!(
        sh.compute(&[1.0, 2.0]),
        Err(E3Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        sh.compute(&[1.0, f64::NAN, 0.0]),
        Err(E3Error::NonFinite { index: 1, .. })
    ));
    assert!(matches!(
        sh.compute(&[0.0, 0.0, 0.0]),
        Err(E3Error::InvalidParameter { .. })
    ));
    let mut out = vec![0.0; 5];
    assert!(matches!(
        sh.forward(&[1.0, 0.0, 0.0], &mut out),
        Err(E3Error::ShapeMismatch { .. })
    ));
    // Without normalisation the zero vector is a valid input (solid harmonics).
    let solid = SphericalHarmonics::new(2, false, ShNormalization::Component);
    assert_eq!(solid.compute(&[0.0, 0.0, 0.0]).unwrap()[0], 1.0);
}

#[test]
fn tensor_product_rejects_inconsistent_instructions_and_shapes() {
    let (a, b) = (irreps("2x0e+2x1o"), irreps("1x0e+1x1o"));
    // 1o x 1o cannot give 1o (parity)
    let bad = TensorProduct::new(
        a.clone(),
        b.clone(),
        a.clone(),
        vec![Instruction::new(1, 1, 1, ConnectionMode::Uvu)],
    );
    assert!(matches!(
        bad,
        Err(E3Error::InvalidInstruction { index: 0, .. })
    ));
    let out_of_range = TensorProduct::new(
        a.clone(),
        b.clone(),
        a.clone(),
        vec![Instruction::new(0, 5, 0, ConnectionMode::Uvw)],
    );
    assert!(matches!(
        out_of_range,
        Err(E3Error::InvalidInstruction { .. })
    ));
    let mul_mismatch = TensorProduct::new(
        a.clone(),
        b.clone(),
        irreps("3x0e"),
        vec![Instruction::new(0, 0, 0, ConnectionMode::Uvu)],
    );
    assert!(matches!(
        mul_mismatch,
        Err(E3Error::InvalidInstruction { .. })
    ));

    let tp = TensorProduct::nequip_convolution(&a, &b, &a).unwrap();
    let x1 = vec![0.1; 2 * a.dim()];
    let x2 = vec![0.1; 2 * b.dim()];
    let w = vec![0.1; 2 * tp.weight_numel()];
    assert!(matches!(
        tp.compute(&x1[1..], &x2, Weights::PerSample(&w)),
        Err(E3Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        tp.compute(&x1, &x2[1..], Weights::PerSample(&w)),
        Err(E3Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        tp.compute(&x1, &x2, Weights::Shared(&w)),
        Err(E3Error::ShapeMismatch { .. })
    ));
    let mut nan = x1.clone();
    nan[3] = f64::INFINITY;
    assert!(matches!(
        tp.compute(&nan, &x2, Weights::PerSample(&w)),
        Err(E3Error::NonFinite { index: 3, .. })
    ));
}

#[test]
fn linear_gate_radial_graph_reject_bad_input() {
    let lin = Linear::new(irreps("2x0e+1x1o"), irreps("3x0e")).unwrap();
    assert!(matches!(
        lin.compute(&[0.0; 4], &vec![0.0; lin.weight_numel()]),
        Err(E3Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        lin.compute(&[0.0; 5], &[0.0; 2]),
        Err(E3Error::ShapeMismatch { .. })
    ));
    assert!(Linear::with_instructions(irreps("2x0e"), irreps("1x1o"), &[(0, 0)]).is_err());

    let silu = NormalizedActivation::new(mlff_e3::Activation::Silu);
    assert!(
        Gate::new(irreps("1x0o"), &[silu], irreps(""), &[], irreps("")).is_err(),
        "SiLU on odd scalars"
    );
    assert!(
        Gate::new(
            irreps("1x0e"),
            &[silu],
            irreps("2x0e"),
            &[silu],
            irreps("1x1o")
        )
        .is_err(),
        "gate count"
    );
    assert!(
        Gate::new(irreps("1x1o"), &[silu], irreps(""), &[], irreps("")).is_err(),
        "non-scalar"
    );

    assert!(BesselEmbedding::new(0, 4.0, 6).is_err());
    assert!(BesselEmbedding::new(8, -1.0, 6).is_err());
    assert!(BesselEmbedding::new(8, 4.0, 1).is_err());
    let b = BesselEmbedding::new(8, 4.0, 6).unwrap();
    assert!(matches!(
        b.compute(&[0.0], &b.default_frequencies()),
        Err(E3Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        b.compute(&[1.0], &[1.0; 3]),
        Err(E3Error::ShapeMismatch { .. })
    ));

    assert!(matches!(
        ScatterPlan::new(&[0, 3], 3),
        Err(E3Error::IndexOutOfRange {
            index: 3,
            len: 3,
            ..
        })
    ));
    let mut out = [0.0; 4];
    assert!(matches!(
        gather(&[1.0, 2.0], 1, &[0, 2], &mut out[..2]),
        Err(E3Error::IndexOutOfRange { .. })
    ));
}

#[test]
fn beyond_cutoff_embedding_is_exactly_zero() {
    let b = BesselEmbedding::new(4, 2.0, 6).unwrap();
    let e = b.compute(&[2.0, 2.5], &b.default_frequencies()).unwrap();
    assert!(e.iter().all(|&v| v == 0.0));
}

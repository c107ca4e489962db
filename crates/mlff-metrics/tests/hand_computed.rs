//! Hand-computed cases, unit conversion and the errors for bad inputs.

use mlff_metrics::*;
use ndarray::{Array1, Array2, Array3, array};

/// One frame, two atoms (O, H); predicted forces differ by (3, 4, 0) on atom 0 only.
struct TwoAtoms {
    e_ref: Array1<f64>,
    f_ref: Array3<f64>,
    e_pred: Array1<f64>,
    f_pred: Array3<f64>,
    z: Array1<u8>,
}

impl TwoAtoms {
    fn new() -> Self {
        Self {
            e_ref: array![-100.0],
            e_pred: array![-99.0],
            f_ref: Array3::from_shape_vec((1, 2, 3), vec![1.0, 0.0, 0.0, 0.0, 2.0, 0.0]).unwrap(),
            f_pred: Array3::from_shape_vec((1, 2, 3), vec![4.0, 4.0, 0.0, 0.0, 2.0, 0.0]).unwrap(),
            z: array![8u8, 1],
        }
    }

    fn scores(&self) -> Scores {
        score(
            &Labels::new(self.e_pred.view(), self.f_pred.view()),
            &Labels::new(self.e_ref.view(), self.f_ref.view()),
            &AtomicNumbers::Shared(self.z.view()),
            EnergyUnit::KcalPerMol,
        )
        .unwrap()
    }
}

#[test]
fn two_atom_frame_by_hand() {
    let s = TwoAtoms::new().scores();
    // ΔE = 1 over 2 atoms.
    assert_eq!(s.energy.mae, 1.0);
    assert_eq!(s.energy.per_atom_mae, 0.5);
    assert_eq!(s.energy.per_atom_rmse, 0.5);
    // Components: |3| + |4| over 6 components; squares 9 + 16 = 25.
    assert!((s.forces.component_mae - 7.0 / 6.0).abs() < 1e-15);
    assert!((s.forces.component_rmse - (25.0f64 / 6.0).sqrt()).abs() < 1e-15);
    // |ΔF| = 5 on atom 0, 0 on atom 1.
    assert_eq!(s.forces.vector_error_mean, 2.5);
    // |F_pred| = √32 vs |F_ref| = 1 on atom 0.
    assert!((s.forces.magnitude_mae - (32f64.sqrt() - 1.0) / 2.0).abs() < 1e-15);
    // cos = 4/√32 on atom 0, 1 on atom 1.
    let cos = (4.0 / 32f64.sqrt() + 1.0) / 2.0;
    assert!((s.forces.cosine_similarity.unwrap() - cos).abs() < 1e-15);
    let oxygen = s.element(8).unwrap();
    assert_eq!((oxygen.atoms, oxygen.vector_error_mean), (1, 5.0));
    assert!((oxygen.component_mae - 7.0 / 3.0).abs() < 1e-15);
    assert_eq!(s.element(1).unwrap().component_rmse, 0.0);
    assert!(s.element(6).is_none());
    assert_eq!(s.per_frame[0].energy_error_per_atom, 0.5);
}

#[test]
fn unit_conversion_uses_the_exact_constant() {
    assert_eq!(
        KCAL_PER_MOL_IN_EV,
        4184.0 / (6.022_140_76e23 * 1.602_176_634e-19)
    );
    let k = EnergyUnit::KcalPerMol.factor_to(EnergyUnit::MilliElectronVolt);
    assert!((k - 43.364_104_241_800_93).abs() < 1e-11);
    let back = EnergyUnit::MilliElectronVolt.factor_to(EnergyUnit::KcalPerMol);
    assert!((k * back - 1.0).abs() < 1e-15);
    assert_eq!(
        EnergyUnit::ElectronVolt.factor_to(EnergyUnit::MilliElectronVolt),
        1000.0
    );
    let s = TwoAtoms::new().scores();
    let mev = s.in_unit(EnergyUnit::MilliElectronVolt);
    assert_eq!(mev.unit, EnergyUnit::MilliElectronVolt);
    assert!((mev.energy.per_atom_mae - 0.5 * 43.364_104_241_800_93).abs() < 1e-11);
    assert!((mev.forces.vector_error_mean - 2.5 * 43.364_104_241_800_93).abs() < 1e-11);
    assert_eq!(mev.forces.cosine_similarity, s.forces.cosine_similarity);
    let round_trip = mev.in_unit(EnergyUnit::KcalPerMol);
    assert!((round_trip.forces.component_rmse - s.forces.component_rmse).abs() < 1e-14);
    assert_eq!(EnergyUnit::MilliElectronVolt.force_symbol(), "meV/Å");
}

#[test]
fn per_frame_atomic_numbers_and_zero_forces() {
    let e = array![0.0, 0.0];
    let zero = Array3::<f64>::zeros((2, 1, 3));
    let mut pred = zero.clone();
    pred[[1, 0, 2]] = 2.0;
    let z = Array2::from_shape_vec((2, 1), vec![1u8, 6]).unwrap();
    let s = score(
        &Labels::new(e.view(), pred.view()),
        &Labels::new(e.view(), zero.view()),
        &AtomicNumbers::PerFrame(z.view()),
        EnergyUnit::ElectronVolt,
    )
    .unwrap();
    // Zero reference forces: cosine undefined everywhere.
    assert_eq!(
        (s.forces.cosine_similarity, s.forces.cosine_atoms),
        (None, 0)
    );
    assert_eq!(s.element(1).unwrap().component_mae, 0.0);
    assert!((s.element(6).unwrap().component_mae - 2.0 / 3.0).abs() < 1e-15);
}

#[test]
fn bad_inputs_are_typed_errors() {
    let TwoAtoms {
        e_ref,
        f_ref,
        e_pred,
        f_pred,
        z,
    } = TwoAtoms::new();
    let reference = Labels::new(e_ref.view(), f_ref.view());
    let species = AtomicNumbers::Shared(z.view());
    let run = |p: &Labels<'_>, s: &AtomicNumbers<'_>| {
        score(p, &reference, s, EnergyUnit::KcalPerMol).unwrap_err()
    };

    let wrong_forces = Array3::<f64>::zeros((1, 3, 3));
    let err = run(&Labels::new(e_pred.view(), wrong_forces.view()), &species);
    assert!(matches!(err, MetricsError::ShapeMismatch { .. }), "{err}");
    let two_energies = array![1.0, 2.0];
    let err = run(&Labels::new(two_energies.view(), f_pred.view()), &species);
    assert!(matches!(err, MetricsError::ShapeMismatch { .. }), "{err}");

    let mut nan_forces = f_pred.clone();
    nan_forces[[0, 1, 2]] = f64::NAN;
    let err = run(&Labels::new(e_pred.view(), nan_forces.view()), &species);
    assert!(
        err.to_string().contains("frame 0, atom 1, component 2"),
        "{err}"
    );
    let inf_energy = array![f64::INFINITY];
    let err = run(&Labels::new(inf_energy.view(), f_pred.view()), &species);
    assert!(matches!(err, MetricsError::NonFinite { .. }), "{err}");

    let bad_z = array![8u8, 0];
    let err = run(
        &Labels::new(e_pred.view(), f_pred.view()),
        &AtomicNumbers::Shared(bad_z.view()),
    );
    assert!(
        matches!(err, MetricsError::InvalidAtomicNumber { z: 0, .. }),
        "{err}"
    );
    let short_z = array![8u8];
    let err = run(
        &Labels::new(e_pred.view(), f_pred.view()),
        &AtomicNumbers::Shared(short_z.view()),
    );
    assert!(matches!(err, MetricsError::ShapeMismatch { .. }), "{err}");

    let empty_e = Array1::<f64>::zeros(0);
    let empty_f = Array3::<f64>::zeros((0, 2, 3));
    let empty = Labels::new(empty_e.view(), empty_f.view());
    let err = score(&empty, &empty, &species, EnergyUnit::KcalPerMol).unwrap_err();
    assert!(matches!(err, MetricsError::Empty { .. }), "{err}");
    assert!(matches!(
        Labels::from_slices(&[1.0], &[0.0; 5], 2).unwrap_err(),
        MetricsError::ShapeMismatch { .. }
    ));
}

#[test]
fn statistics_bad_inputs() {
    assert!(matches!(
        fit_power_law(&[1.0, 2.0], &[1.0, 0.5]).unwrap_err(),
        MetricsError::TooFewPoints { needed: 3, .. }
    ));
    assert!(matches!(
        fit_power_law(&[1.0, 2.0, 0.0], &[1.0, 0.5, 0.2]).unwrap_err(),
        MetricsError::InvalidParameter { .. }
    ));
    assert!(matches!(
        fit_power_law(&[5.0, 5.0, 5.0], &[1.0, 0.5, 0.2]).unwrap_err(),
        MetricsError::Degenerate { .. }
    ));
    assert!(matches!(
        fit_power_law(&[1.0, 2.0, 3.0], &[1.0, 0.5]).unwrap_err(),
        MetricsError::ShapeMismatch { .. }
    ));
    assert!(matches!(
        pearson(&[1.0, 2.0], &[1.0, 2.0]).unwrap_err(),
        MetricsError::TooFewPoints { .. }
    ));
    assert!(matches!(
        spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).unwrap_err(),
        MetricsError::Degenerate { .. }
    ));
    assert!(matches!(
        pearson(&[1.0, f64::NAN, 3.0], &[1.0, 2.0, 3.0]).unwrap_err(),
        MetricsError::NonFinite { .. }
    ));
    let options = BootstrapOptions::default();
    assert!(matches!(
        bootstrap_ci(&[], Statistic::Mean, &options).unwrap_err(),
        MetricsError::Empty { .. }
    ));
    let bad = BootstrapOptions {
        confidence: 1.0,
        ..options
    };
    assert!(matches!(
        bootstrap_ci(&[1.0], Statistic::Mean, &bad).unwrap_err(),
        MetricsError::InvalidParameter { .. }
    ));
    let one = BootstrapOptions {
        resamples: 1,
        ..options
    };
    assert!(bootstrap_ci(&[1.0], Statistic::Mean, &one).is_err());
}

#[test]
fn exact_correlations_and_fit() {
    let x = [1.0, 2.0, 3.0, 4.0];
    let perfect = pearson(&x, &[2.0, 4.0, 6.0, 8.0]).unwrap();
    assert!((perfect.coefficient - 1.0).abs() < 1e-15 && perfect.p_value < 1e-10);
    let anti = spearman(&x, &[10.0, 3.0, 2.0, -5.0]).unwrap();
    // With 4 points, 2 of the 24 orderings are perfectly (anti-)monotone: p = 1/12 exactly,
    // not the t approximation's ≈ 0, and no Fisher-z interval is claimed.
    assert!((anti.coefficient + 1.0).abs() < 1e-15);
    assert!(
        (anti.p_value - 1.0 / 12.0).abs() < 1e-15,
        "{}",
        anti.p_value
    );
    assert!(anti.interval(0.95).is_err());
    // Exact p-values by enumeration agree with a direct count: ρ of [1 2 3 4 5] against
    // [2 1 4 3 5] is 0.8; 16 of the 120 orderings have |ρ| ≥ 0.8 (Σd² ≤ 4 or ≥ 36).
    let c = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 1.0, 4.0, 3.0, 5.0]).unwrap();
    assert!((c.coefficient - 0.8).abs() < 1e-12);
    assert!((c.p_value - 16.0 / 120.0).abs() < 1e-12, "{}", c.p_value);
    // error = 2·n^−0.5 exactly: slope −0.5, zero residual.
    let sizes = [100.0, 400.0, 1600.0];
    let errors: Vec<f64> = sizes.iter().map(|n: &f64| 2.0 * n.powf(-0.5)).collect();
    let fit = fit_power_law(&sizes, &errors).unwrap();
    assert!((fit.slope + 0.5).abs() < 1e-12);
    assert!(fit.slope_stderr < 1e-12);
    assert!((fit.predict(10_000.0) - 0.02).abs() < 1e-12);
}

#[test]
fn bootstrap_of_constant_data_is_a_point() {
    let ci = bootstrap_ci(&[3.0; 10], Statistic::Mean, &BootstrapOptions::default()).unwrap();
    assert_eq!((ci.estimate, ci.lower, ci.upper), (3.0, 3.0, 3.0));
    let rmse = bootstrap_ci(
        &[4.0; 10],
        Statistic::SqrtOfMean,
        &BootstrapOptions::default(),
    )
    .unwrap();
    assert_eq!(rmse.estimate, 2.0);
}

#[test]
fn tables_render() {
    let s = TwoAtoms::new().scores();
    let rows = [ScoreRow {
        label: "model, split|1",
        scores: &s,
        intervals: None,
    }];
    let table = SummaryTable::from_scores(EnergyUnit::MilliElectronVolt, &rows);
    let md = table.to_markdown();
    assert!(
        md.starts_with("| label | frames | E/atom MAE [meV] |"),
        "{md}"
    );
    assert!(md.contains("| model, split\\|1 | 1 | 21.68 |"), "{md}");
    let csv = table.to_csv();
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("\"model, split|1\",1,21.68,"),
        "{csv}"
    );
    let mut custom = SummaryTable::new(vec!["a".into(), "b".into()]);
    assert!(custom.push_row(vec!["1".into()]).is_err());
    custom
        .push_row(vec!["say \"hi\"".into(), "2".into()])
        .unwrap();
    assert_eq!(custom.to_csv(), "a,b\n\"say \"\"hi\"\"\",2\n");
    assert_eq!(significant(0.0433641043), "0.04336");
    assert_eq!(significant(1234.5678), "1235");
    assert_eq!(significant(8.2), "8.200");
}

#[test]
fn units_parse_from_symbols() {
    for unit in [
        EnergyUnit::KcalPerMol,
        EnergyUnit::ElectronVolt,
        EnergyUnit::MilliElectronVolt,
    ] {
        assert_eq!(unit.symbol().parse::<EnergyUnit>().unwrap(), unit);
    }
    assert!("Hartree".parse::<EnergyUnit>().is_err());
}

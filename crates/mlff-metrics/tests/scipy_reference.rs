//! Metrics against values computed independently with numpy/scipy
//! (`tests/data/make_scipy_reference.py` → `tests/data/scipy_reference.json`).

use mlff_metrics::*;
use ndarray::Array1;
use serde_json::Value;

fn fixture() -> Value {
    let text = include_str!("data/scipy_reference.json");
    serde_json::from_str(text).expect("fixture is valid JSON")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("number")
}

fn close(got: f64, expected: f64, rel: f64, what: &str) {
    let tol = rel * expected.abs().max(1e-300);
    assert!(
        (got - expected).abs() <= tol,
        "{what}: got {got:e}, expected {expected:e} (rel tol {rel:e})"
    );
}

#[test]
fn scores_match_numpy() {
    let fx = fixture();
    let s = &fx["scores"];
    let n_atoms = s["n_atoms"].as_u64().unwrap() as usize;
    let z: Array1<u8> = s["atomic_numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u8)
        .collect();
    let (e_ref, e_pred) = (
        floats(&s["reference_energies"]),
        floats(&s["predicted_energies"]),
    );
    let (f_ref, f_pred) = (
        floats(&s["reference_forces"]),
        floats(&s["predicted_forces"]),
    );
    let reference = Labels::from_slices(&e_ref, &f_ref, n_atoms).unwrap();
    let predicted = Labels::from_slices(&e_pred, &f_pred, n_atoms).unwrap();
    let got = score(
        &predicted,
        &reference,
        &AtomicNumbers::Shared(z.view()),
        EnergyUnit::KcalPerMol,
    )
    .unwrap();
    let rel = 1e-12;
    let headline = [
        (got.energy.mae, "energy_mae"),
        (got.energy.rmse, "energy_rmse"),
        (got.energy.per_atom_mae, "energy_per_atom_mae"),
        (got.energy.per_atom_rmse, "energy_per_atom_rmse"),
        (got.forces.component_mae, "force_component_mae"),
        (got.forces.component_rmse, "force_component_rmse"),
        (got.forces.vector_error_mean, "force_vector_error_mean"),
        (got.forces.magnitude_mae, "force_magnitude_mae"),
        (
            got.forces.cosine_similarity.unwrap(),
            "force_cosine_similarity",
        ),
    ];
    for (value, key) in headline {
        close(value, f(&s[key]), rel, key);
    }
    // A mean of signed values near zero: cancellation limits the relative accuracy.
    close(
        got.energy.per_atom_mean_error,
        f(&s["energy_per_atom_mean_error"]),
        1e-10,
        "E/atom bias",
    );
    assert_eq!(
        got.forces.cosine_atoms as u64,
        s["force_cosine_atoms"].as_u64().unwrap()
    );
    let expected_elements = s["per_element"].as_array().unwrap();
    assert_eq!(got.per_element.len(), expected_elements.len());
    for (g, e) in got.per_element.iter().zip(expected_elements) {
        assert_eq!(
            u64::from(g.atomic_number),
            e["atomic_number"].as_u64().unwrap()
        );
        assert_eq!(g.atoms as u64, e["atoms"].as_u64().unwrap());
        close(g.component_mae, f(&e["component_mae"]), rel, "element MAE");
        close(
            g.component_rmse,
            f(&e["component_rmse"]),
            rel,
            "element RMSE",
        );
        close(
            g.vector_error_mean,
            f(&e["vector_error_mean"]),
            rel,
            "element |dF|",
        );
    }
    let (frame_mae, frame_rmse) = (
        floats(&s["per_frame_force_mae"]),
        floats(&s["per_frame_force_rmse"]),
    );
    for (i, fr) in got.per_frame.iter().enumerate() {
        close(fr.force_component_mae, frame_mae[i], rel, "frame MAE");
        close(fr.force_component_rmse, frame_rmse[i], rel, "frame RMSE");
        close(
            fr.energy_error,
            e_pred[i] - e_ref[i],
            1e-15,
            "frame energy error",
        );
    }
}

#[test]
fn percentiles_match_numpy() {
    let fx = fixture();
    let p = &fx["percentiles"];
    let values = floats(&p["sorted_values"]);
    for (q, expected) in floats(&p["q"]).into_iter().zip(floats(&p["expected"])) {
        close(
            percentile(&values, q),
            expected,
            1e-14,
            &format!("percentile {q}"),
        );
    }
}

#[test]
fn learning_curve_fit_matches_scipy_linregress() {
    let fx = fixture();
    let l = &fx["learning_curve"];
    let fit = fit_power_law(&floats(&l["sizes"]), &floats(&l["errors"])).unwrap();
    close(fit.slope, f(&l["slope"]), 1e-12, "slope");
    close(fit.intercept, f(&l["intercept"]), 1e-12, "intercept");
    close(
        fit.slope_stderr,
        f(&l["slope_stderr"]),
        1e-10,
        "slope stderr",
    );
    close(
        fit.intercept_stderr,
        f(&l["intercept_stderr"]),
        1e-10,
        "intercept stderr",
    );
    close(fit.r_squared, f(&l["r_squared"]), 1e-12, "r²");
    let (lo, hi) = fit.slope_interval(0.95).unwrap();
    let expected = floats(&l["slope_interval_95"]);
    close(lo, expected[0], 1e-9, "slope CI low");
    close(hi, expected[1], 1e-9, "slope CI high");
}

#[test]
fn correlations_match_scipy() {
    let fx = fixture();
    let c = &fx["correlation"];
    let (x, y) = (floats(&c["x"]), floats(&c["y"]));
    let p = pearson(&x, &y).unwrap();
    close(p.coefficient, f(&c["pearson_r"]), 1e-12, "pearson r");
    close(p.p_value, f(&c["pearson_p"]), 1e-8, "pearson p");
    let s = spearman(&x, &y).unwrap();
    close(s.coefficient, f(&c["spearman_rho"]), 1e-12, "spearman rho");
    close(s.p_value, f(&c["spearman_p"]), 1e-8, "spearman p");
    assert_eq!(average_ranks(&y), floats(&c["y_ranks"]));
    let weak = pearson(&floats(&c["weak_x"]), &floats(&c["weak_y"])).unwrap();
    close(weak.coefficient, f(&c["weak_pearson_r"]), 1e-12, "weak r");
    close(weak.p_value, f(&c["weak_pearson_p"]), 1e-8, "weak p");
}

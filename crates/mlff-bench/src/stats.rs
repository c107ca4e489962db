//! The uncertainty of the report's numbers: intervals over seeds (or over test frames when a
//! number rests on one seed), shared by the experiment sections, and the wording that states
//! an effect only when its interval excludes "no effect".

use mlff_metrics::{
    BootstrapOptions, DEFAULT_LEVEL, Estimate, Statistic, bootstrap_ci, mean_interval,
    paired_ratio, ratio_of_means,
};

use crate::report::fmt;
use crate::store::CellResult;

/// Seed of every resampling in the report, so the same cells give the same report.
pub const SEED: u64 = 230_805_999;

/// The report's bootstrap: 2000 resamples, 95%, fixed seed.
pub fn bootstrap() -> BootstrapOptions {
    BootstrapOptions {
        resamples: 2000,
        confidence: DEFAULT_LEVEL,
        seed: SEED,
    }
}

/// One trained model's force MAE on one test set, with its per-frame values.
#[derive(Debug, Clone, Copy)]
pub struct Replicate<'a> {
    /// Force-component MAE, kcal/mol/Å.
    pub mae: f64,
    /// Per-frame force-component MAE (empty in cells written before it was recorded).
    pub per_frame: &'a [f64],
}

/// The first scored test of `kind` on `molecule` in cell `r`.
pub fn replicate<'a>(r: &'a CellResult, kind: &str, molecule: &str) -> Option<Replicate<'a>> {
    let test = r
        .tests
        .iter()
        .find(|t| t.kind == kind && t.molecule == molecule)?;
    Some(Replicate {
        mae: test.scores.as_ref()?.force_mae,
        per_frame: &test.per_frame_force_mae,
    })
}

/// Mean of `values` (NaN when empty).
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Mean force MAE over replicates with its 95% interval: Student t over ≥ 2 seeds, else a
/// per-frame bootstrap of the single one; `None` when neither is possible.
pub fn mae(reps: &[Replicate<'_>]) -> Option<Estimate> {
    match reps {
        [] => None,
        [one] => frame_interval(one.per_frame),
        many => {
            let maes: Vec<f64> = many.iter().map(|r| r.mae).collect();
            mean_interval(&maes, DEFAULT_LEVEL).ok()
        }
    }
}

/// Mean of per-frame values with a percentile-bootstrap interval over frames.
pub fn frame_interval(per_frame: &[f64]) -> Option<Estimate> {
    let ci = bootstrap_ci(per_frame, Statistic::Mean, &bootstrap()).ok()?;
    Some(Estimate::from_interval(&ci, per_frame.len()))
}

/// Ratio of force MAEs numerator/denominator with its 95% interval: with ≥ 2 pairs (seeds,
/// cells) the geometric mean of per-pair ratios with a t-interval over pairs; with one pair the
/// ratio of mean per-frame errors, bootstrapped over frames.
pub fn ratio(numerators: &[Replicate<'_>], denominators: &[Replicate<'_>]) -> Option<Estimate> {
    match (numerators, denominators) {
        ([a], [b]) => ratio_of_means(a.per_frame, b.per_frame, &bootstrap()).ok(),
        _ => {
            let maes = |reps: &[Replicate<'_>]| reps.iter().map(|r| r.mae).collect::<Vec<_>>();
            paired_ratio(&maes(numerators), &maes(denominators), DEFAULT_LEVEL).ok()
        }
    }
}

/// What an interval from [`mae`] or [`ratio`] rests on: `3 seeds` or `1 seed, 200 frames`.
pub fn basis(reps: &[Replicate<'_>]) -> String {
    match reps {
        [one] => format!("1 seed, {} frames", one.per_frame.len()),
        many => format!("{} seeds", many.len()),
    }
}

/// `value [lower, upper]`, or the bare value marked `(no interval)`.
pub fn text(estimate: Option<&Estimate>, value: f64) -> String {
    match estimate {
        Some(e) => e.to_string(),
        None => format!("{} (no interval)", fmt(value)),
    }
}

/// An error bar (lower, upper) from an estimate.
pub fn bar(estimate: Option<&Estimate>) -> Option<(f64, f64)> {
    estimate.map(|e| (e.lower, e.upper))
}

/// A p-value for prose: three decimals, or scientific notation below 0.001.
pub fn p_value(p: f64) -> String {
    if p < 1e-3 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

/// The confidence level as a percentage, e.g. `95%`.
pub fn level(estimate: &Estimate) -> String {
    format!("{:.0}%", estimate.level * 100.0)
}

/// How an estimate relates to `null`: above it, below it, or consistent with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The whole interval lies above `null`.
    Above,
    /// The whole interval lies below `null`.
    Below,
    /// The interval contains `null`: no significant effect.
    None,
}

/// Whether `estimate`'s interval lies above, below or around `null`.
pub fn effect(estimate: &Estimate, null: f64) -> Effect {
    if estimate.lower > null {
        Effect::Above
    } else if estimate.upper < null {
        Effect::Below
    } else {
        Effect::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::CellSpec;
    use crate::{exp_sample, exp_time};
    use serde_json::json;

    /// A cell with one scored test per (kind, per-frame errors) and an optional window.
    fn cell(
        spec: CellSpec,
        tests: &[(&str, Vec<f64>)],
        window: Option<(usize, f64)>,
    ) -> CellResult {
        let molecule = spec.molecules()[0].clone();
        let tests: Vec<_> = tests
            .iter()
            .map(|(kind, frames)| {
                let mae = mean(frames);
                json!({
                    "kind": kind, "molecule": molecule, "frames": frames.len(),
                    "scores": { "energy_mae_per_atom": 0.0, "energy_rmse_per_atom": 0.0,
                                "force_mae": mae, "force_rmse": mae },
                    "per_frame_force_mae": frames, "similarity": null
                })
            })
            .collect();
        let window = window.map(|(frames, fs)| {
            json!({ "start": 0, "end": 10, "frames_to_test": frames, "time_to_test_fs": fs })
        });
        serde_json::from_value(json!({
            "id": spec.id(), "spec": spec, "model": "test", "hyper_parameters": null,
            "training": null, "train_frames": 0, "validation_frames": 0, "splits": [],
            "window": window, "tests": tests, "md": null, "data": [], "code_version": "test",
            "timings": { "data_s": 0.0, "train_s": 0.0, "test_s": 0.0, "soap_s": 0.0,
                         "md_s": 0.0, "total_s": 0.0 }
        }))
        .expect("a valid cell")
    }

    /// Ten per-frame errors around `mae` (seeded noise of relative size `spread`).
    fn frames(mae: f64, spread: f64, seed: u64) -> Vec<f64> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..10)
            .map(|_| mae * (1.0 + spread * (rng.random::<f64>() - 0.5)))
            .collect()
    }

    fn sample_cells(slope: f64, holdout: f64) -> Vec<CellResult> {
        let mut cells = Vec::new();
        for (i, size) in [50usize, 100, 200, 400].into_iter().enumerate() {
            for seed in 0..3u64 {
                let k = 10 * i as u64 + seed;
                let jitter = 1.0 + 0.2 * (mean(&frames(1.0, 1.0, 100 + k)) - 1.0);
                let iid = 3.0 * (size as f64).powf(slope) * jitter;
                let ood = iid * holdout * (1.0 + 0.2 * (mean(&frames(1.0, 1.0, 200 + k)) - 1.0));
                let spec = CellSpec::Sample {
                    molecule: "ethanol".into(),
                    size,
                    seed,
                };
                let tests = [
                    ("iid", frames(iid, 0.3, k)),
                    ("time-holdout", frames(ood, 0.3, k + 1)),
                ];
                cells.push(cell(spec, &tests, None));
            }
        }
        cells
    }

    #[test]
    fn sample_efficiency_states_effects_only_when_significant() {
        let cells = sample_cells(-0.5, 1.5);
        let section = exp_sample::section(&cells.iter().collect::<Vec<_>>()).unwrap();
        let text = section.findings.join("\n");
        assert!(
            text.contains("ethanol i.i.d.: force MAE falls as N^b, b = -0.5"),
            "{text}"
        );
        assert!(text.contains("a random split overstates"), "{text}");
        assert_eq!(section.table.rows.len(), 4);
        assert_eq!(section.table.rows[0][2], "3");
        let cells = sample_cells(0.0, 1.0);
        let section = exp_sample::section(&cells.iter().collect::<Vec<_>>()).unwrap();
        let text = section.findings.join("\n");
        assert!(
            text.contains("i.i.d.: no significant dependence on training size"),
            "{text}"
        );
        assert!(!text.contains("falls as"), "{text}");
        assert!(
            text.contains("no significant difference between the time-holdout"),
            "{text}"
        );
    }

    fn window_cells(per_ps: f64) -> Vec<CellResult> {
        let mut cells = Vec::new();
        for seed in 0..3u64 {
            for index in 0..5usize {
                let ps = (4 - index) as f64;
                let k = 10 * seed + index as u64;
                let mae =
                    (2.0 + per_ps * ps) * (1.0 + 0.1 * (mean(&frames(1.0, 1.0, 300 + k)) - 1.0));
                let spec = CellSpec::Window {
                    molecule: "ethanol".into(),
                    index,
                    seed,
                };
                let tests = [("time-holdout", frames(mae, 0.3, k))];
                cells.push(cell(spec, &tests, Some((100 * (4 - index), ps * 1000.0))));
            }
            let spec = CellSpec::WindowIid {
                molecule: "ethanol".into(),
                seed,
            };
            cells.push(cell(
                spec,
                &[("time-holdout", frames(2.0, 0.3, 50 + seed))],
                None,
            ));
        }
        cells
    }

    #[test]
    fn window_distance_trend_is_claimed_only_when_significant() {
        let cells = window_cells(0.5);
        let section = exp_time::section(&cells.iter().collect::<Vec<_>>()).unwrap();
        let text = section.findings.join("\n");
        assert!(
            text.contains("windows far from the test segment generalise worse"),
            "{text}"
        );
        assert!(text.contains("per ps"), "{text}");
        assert!(
            text.contains("contiguous windows generalise worse"),
            "{text}"
        );
        // 5 positions + the i.i.d. contrast, each over 3 seeds.
        assert_eq!(section.table.rows.len(), 6);
        assert!(section.table.rows.iter().all(|r| r[4] == "3"));
        let cells = window_cells(0.0);
        let section = exp_time::section(&cells.iter().collect::<Vec<_>>()).unwrap();
        let text = section.findings.join("\n");
        assert!(!text.contains("generalise worse"), "{text}");
        assert!(
            text.contains("no significant dependence of the error on the distance"),
            "{text}"
        );
    }
}

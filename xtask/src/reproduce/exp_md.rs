//! Experiment 5 — MD stability (Fu et al.): MD at 500 K from time-holdout test frames with
//! every single-molecule model; stability time (first frame where a bond deviates > 0.5 Å from
//! its reference mean) and h(r) error; related to the i.i.d. and time-holdout errors.

use anyhow::{Context, Result};
use mlff_data::Dataset;
use mlff_md::stability::{
    DEFAULT_COLLAPSE_THRESHOLD_A, HistogramConfig, collapse_frame, distance_histogram,
    histogram_mae, mean_bond_lengths,
};
use mlff_md::units::atomic_mass;
use mlff_md::{Integrator, IntegratorConfig, Thermostat, Vec3, bonds_from_geometry};
use mlff_metrics::spearman;

use super::cell_splits::{IID, TIME_HOLDOUT};
use super::exp_sample::mean;
use super::grid::Experiment;
use super::measure::evenly_spaced;
use super::model::FittedModel;
use super::plots::{Series, scatter};
use super::preset::MdPlan;
use super::report::{Section, Table, fmt};
use super::store::{CellResult, MdRecord, MdRun};

fn frame_positions(data: &Dataset, t: usize) -> Vec<Vec3> {
    let p = data.positions();
    (0..data.n_atoms())
        .map(|i| [p[[t, i, 0]], p[[t, i, 1]], p[[t, i, 2]]])
        .collect()
}

/// The reference the runs are compared with: bonds, their mean lengths and h(r), all from the
/// time-holdout frames.
struct Reference {
    bonds: Vec<(usize, usize)>,
    means: Vec<f64>,
    histogram: Vec<f64>,
}

fn reference(data: &Dataset, frames: &[usize]) -> Result<Reference> {
    let z = data.species().of_frame(frames[0]).to_vec();
    let bonds = bonds_from_geometry(&z, &frame_positions(data, frames[0]))?;
    let flat: Vec<f64> = frames
        .iter()
        .flat_map(|&t| frame_positions(data, t).into_iter().flatten())
        .collect();
    let n = data.n_atoms();
    Ok(Reference {
        means: mean_bond_lengths(&flat, n, &bonds)?,
        histogram: distance_histogram(&flat, n, HistogramConfig::default())?,
        bonds,
    })
}

/// MD stability of `model` started from `plan.runs` evenly spaced frames of `test_frames`.
pub fn measure(
    model: &dyn FittedModel,
    data: &Dataset,
    test_frames: &[usize],
    plan: &MdPlan,
    seed: u64,
) -> Result<MdRecord> {
    let reference = reference(data, test_frames)?;
    let starts = evenly_spaced(test_frames, plan.runs);
    let runs = starts
        .iter()
        .enumerate()
        .map(|(k, &start)| run_one(model, data, start, &reference, plan, seed * 1000 + k as u64))
        .collect::<Result<Vec<_>>>()?;
    let hr: Vec<f64> = runs.iter().filter_map(|r| r.hr_mae).collect();
    Ok(MdRecord {
        mean_stability_ps: mean(&runs.iter().map(|r| r.stability_ps).collect::<Vec<_>>()),
        max_time_ps: plan.steps as f64 * plan.dt_fs / 1000.0,
        mean_hr_mae: (!hr.is_empty()).then(|| mean(&hr)),
        runs,
    })
}

fn run_one(
    model: &dyn FittedModel,
    data: &Dataset,
    start: usize,
    reference: &Reference,
    plan: &MdPlan,
    seed: u64,
) -> Result<MdRun> {
    let z = data.species().of_frame(start).to_vec();
    let masses = z
        .iter()
        .map(|&e| atomic_mass(e).with_context(|| format!("no mass for element {e}")))
        .collect::<Result<Vec<_>>>()?;
    let potential = model.potential(&z)?;
    let config = IntegratorConfig {
        dt_fs: plan.dt_fs,
        thermostat: Thermostat::Langevin {
            friction_per_fs: plan.friction_per_fs,
        },
        temperature_k: plan.temperature_k,
        seed,
    };
    let n = z.len();
    let mut stable: Vec<f64> = Vec::new();
    let (mut collapsed, mut stopped) = (false, None);
    match Integrator::new(
        potential.as_ref(),
        masses,
        frame_positions(data, start),
        config,
    ) {
        Err(e) => (collapsed, stopped) = (true, Some(e.to_string())),
        Ok(mut md) => {
            for step in 1..=plan.steps {
                if let Err(e) = md.step() {
                    (collapsed, stopped) = (true, Some(e.to_string()));
                    break;
                }
                if step % plan.save_every != 0 {
                    continue;
                }
                let frame: Vec<f64> = md.positions().iter().flatten().copied().collect();
                let broken = collapse_frame(
                    &frame,
                    n,
                    &reference.bonds,
                    &reference.means,
                    DEFAULT_COLLAPSE_THRESHOLD_A,
                )?;
                if broken.is_some() {
                    collapsed = true;
                    break;
                }
                stable.extend(frame);
            }
        }
    }
    let stable_frames = stable.len() / (3 * n);
    let hr_mae = if stable_frames > 0 {
        let h = distance_histogram(&stable, n, HistogramConfig::default())?;
        Some(histogram_mae(&h, &reference.histogram)?)
    } else {
        None
    };
    Ok(MdRun {
        start_frame: start,
        stability_ps: (stable_frames * plan.save_every) as f64 * plan.dt_fs / 1000.0,
        collapsed,
        hr_mae,
        stopped,
    })
}

/// The report section.
pub fn section(results: &[&CellResult]) -> Result<Section> {
    let mut section = Section::new(Experiment::MdStability);
    let mut rows = Vec::new();
    let (mut iid, mut ood, mut stability) = (Vec::new(), Vec::new(), Vec::new());
    for r in results {
        let Some(md) = &r.md else { continue };
        let molecule = r.spec.molecules().join("+");
        let e_iid = r.scores(IID, &molecule).map(|s| s.force_mae);
        let e_ood = r.scores(TIME_HOLDOUT, &molecule).map(|s| s.force_mae);
        rows.push(vec![
            r.id.clone(),
            e_iid.map(fmt).unwrap_or_else(|| "—".into()),
            e_ood.map(fmt).unwrap_or_else(|| "—".into()),
            format!("{:.3} / {:.3}", md.mean_stability_ps, md.max_time_ps),
            format!(
                "{}/{}",
                md.runs.iter().filter(|r| r.collapsed).count(),
                md.runs.len()
            ),
            md.mean_hr_mae.map(fmt).unwrap_or_else(|| "n/a".into()),
        ]);
        if let Some(e) = e_ood {
            ood.push((e, md.mean_stability_ps));
        }
        if let Some(e) = e_iid {
            iid.push((e, md.mean_stability_ps));
        }
        stability.push(md.mean_stability_ps);
    }
    section.table = Table::new(
        &[
            "cell",
            "force MAE i.i.d.",
            "force MAE time holdout",
            "mean stability (ps) / max",
            "collapsed runs",
            "h(r) MAE",
        ],
        rows,
    );
    if stability.is_empty() {
        return Ok(section);
    }
    section.findings.push(format!(
        "Mean stability {:.3} ps over {} models (runs capped at {:.3} ps).",
        mean(&stability),
        stability.len(),
        results
            .iter()
            .find_map(|r| r.md.as_ref())
            .map_or(0.0, |m| m.max_time_ps)
    ));
    for (name, points) in [("i.i.d.", &iid), ("time-holdout", &ood)] {
        let (x, y): (Vec<f64>, Vec<f64>) = points.iter().cloned().unzip();
        let text = match spearman(&x, &y) {
            Ok(c) if c.coefficient.is_finite() => format!(
                "Spearman ρ between the {name} force MAE and stability time: {:.2} (p = {:.2}, n = {}).",
                c.coefficient, c.p_value, c.n
            ),
            _ => format!(
                "The {name} error and stability time cannot be correlated here (n = {}, or no \
                 variation in stability).",
                points.len()
            ),
        };
        section.findings.push(text);
    }
    section.figures.push(scatter(
        "e5_stability_vs_error",
        "MD stability time vs test force MAE",
        "force MAE (kcal/mol/Å)",
        "stability time (ps)",
        &[
            Series {
                label: "i.i.d. test".into(),
                points: iid,
            },
            Series {
                label: "time-holdout test".into(),
                points: ood,
            },
        ],
    )?);
    Ok(section)
}

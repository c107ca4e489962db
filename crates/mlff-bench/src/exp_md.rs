//! Experiment 5 — MD stability (Fu et al.), made to rank models. From time-holdout test frames
//! every single-molecule model runs Langevin MD held at the plan's temperature (Fu et al.'s
//! fixed-temperature run: survival time and h(r) error), then heated at a constant rate until
//! a bond deviates > 0.5 Å from its reference mean — the collapse temperature, which does not
//! saturate at a run length — and, from the state at the end of the hold, NVE MD whose
//! total-energy drift per atom and ps is LAMBench's conservation check (tolerance 5e-4
//! eV/atom/ps). The report ranks models by collapse temperature and relates it to test error.

use anyhow::{Context, Result};
use mlff_data::Dataset;
use mlff_md::protocols::{
    HeatingRamp, LAMBENCH_DRIFT_TOLERANCE_EV, NveRun, RampFrame, heating_ramp, nve_drift,
};
use mlff_md::stability::{BondCriterion, HistogramConfig, distance_histogram, histogram_mae};
use mlff_md::units::{FS_PER_PS, KCAL_PER_MOL_PER_EV, atomic_mass};
use mlff_md::{Vec3, bonds_from_geometry};
use mlff_metrics::{DEFAULT_LEVEL, Estimate, mean_interval, spearman};

use crate::cell_splits::{IID, TIME_HOLDOUT};
use crate::exp_sample::mean;
use crate::grid::ExperimentKey;
use crate::measure::evenly_spaced;
use crate::model::FittedModel;
use crate::plots::{Series, scatter};
use crate::preset::MdPlan;
use crate::report::{Section, Table, fmt};
use crate::store::{CellResult, MdRecord, MdRun, NveRecord, RampRecord};

/// Window of the kinetic temperature reported at a ramp's end, fs.
const TEMPERATURE_WINDOW_FS: f64 = 50.0;

/// Whether an NVE run stayed intact with a drift within LAMBench's tolerance.
fn conserves_energy(n: &NveRecord) -> bool {
    n.blew_up.is_none()
        && n.drift_ev_per_atom_ps
            .is_some_and(|d| d.abs() <= LAMBENCH_DRIFT_TOLERANCE_EV)
}

fn frame_positions(data: &Dataset, t: usize) -> Vec<Vec3> {
    let p = data.positions();
    (0..data.n_atoms())
        .map(|i| [p[[t, i, 0]], p[[t, i, 1]], p[[t, i, 2]]])
        .collect()
}

/// The reference the runs are compared with: the collapse criterion (bonds and their mean
/// lengths) and h(r), all from the time-holdout frames.
struct Reference {
    criterion: BondCriterion,
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
        criterion: BondCriterion::from_reference(&flat, n, bonds)?,
        histogram: distance_histogram(&flat, n, HistogramConfig::default())?,
    })
}

/// Whether the plan heats after the hold.
fn heats(plan: &MdPlan) -> bool {
    plan.heating_rate_k_per_ps > 0.0 && plan.max_temperature_k > plan.temperature_k
}

/// The plan's hold and ramp as `mlff-md` settings (no heating: the hold alone).
fn ramp_settings(plan: &MdPlan, seed: u64) -> HeatingRamp {
    HeatingRamp {
        dt_fs: plan.dt_fs,
        friction_per_fs: plan.friction_per_fs,
        start_k: plan.temperature_k,
        hold_steps: plan.steps,
        rate_k_per_ps: plan.heating_rate_k_per_ps,
        max_k: if heats(plan) {
            plan.max_temperature_k
        } else {
            plan.temperature_k
        },
        check_every: plan.save_every,
        temperature_window: ((TEMPERATURE_WINDOW_FS / plan.dt_fs).round() as usize).max(1),
        seed,
    }
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
        .map(|(k, &start)| {
            run_one(model, data, start, &reference, plan, seed * 1000 + k as u64)
                .with_context(|| format!("MD run from frame {start}"))
        })
        .collect::<Result<Vec<_>>>()?;
    let hr: Vec<f64> = runs.iter().filter_map(|r| r.hr_mae).collect();
    let ranked: Vec<f64> = runs
        .iter()
        .filter_map(|r| r.ramp.as_ref().map(RampRecord::ranked_k))
        .collect();
    Ok(MdRecord {
        mean_stability_ps: mean(&runs.iter().map(|r| r.stability_ps).collect::<Vec<_>>()),
        max_time_ps: plan.steps as f64 * plan.dt_fs / FS_PER_PS,
        mean_hr_mae: (!hr.is_empty()).then(|| mean(&hr)),
        max_temperature_k: heats(plan).then_some(plan.max_temperature_k),
        // A t-interval over a few runs can reach past what a run can give; the bounds that
        // can be observed (the ramp's range, |drift| ≥ 0) clip it.
        collapse_temperature_k: mean_interval(&ranked, DEFAULT_LEVEL)
            .ok()
            .map(|e| clipped(e, plan.temperature_k, plan.max_temperature_k)),
        nve_abs_drift_ev_per_atom_ps: mean_interval(&intact_drifts(&runs), DEFAULT_LEVEL)
            .ok()
            .map(|e| clipped(e, 0.0, f64::INFINITY)),
        runs,
    })
}

/// `e` with its interval limited to the values a run can produce.
fn clipped(e: Estimate, lowest: f64, highest: f64) -> Estimate {
    let (lowest, highest) = (lowest.min(highest), highest.max(lowest));
    Estimate {
        lower: e.lower.clamp(lowest, highest),
        upper: e.upper.clamp(lowest, highest),
        ..e
    }
}

/// |NVE drift| (eV/atom/ps) of the runs whose NVE part did not blow up.
fn intact_drifts(runs: &[MdRun]) -> Vec<f64> {
    runs.iter()
        .filter_map(|r| r.nve.as_ref())
        .filter(|n| n.blew_up.is_none())
        .filter_map(|n| n.drift_ev_per_atom_ps.map(f64::abs))
        .collect()
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
    let settings = ramp_settings(plan, seed);
    let mut held: Vec<f64> = Vec::new();
    let mut keep = |frame: &RampFrame<'_>| {
        if frame.holding {
            held.extend(frame.positions.iter().flatten());
        }
    };
    let outcome = heating_ramp(
        potential.as_ref(),
        masses.clone(),
        frame_positions(data, start),
        &reference.criterion,
        &settings,
        &mut keep,
    )?;
    let n = z.len();
    let hold_collapse = outcome
        .collapse
        .as_ref()
        .filter(|_| outcome.end.step <= settings.hold_steps);
    let stable_frames = held.len() / (3 * n);
    let stable_steps = match hold_collapse {
        Some(_) => stable_frames * plan.save_every,
        None => settings.hold_steps,
    };
    let hr_mae = if stable_frames > 0 {
        let h = distance_histogram(&held, n, HistogramConfig::default())?;
        Some(histogram_mae(&h, &reference.histogram)?)
    } else {
        None
    };
    let ramp = heats(plan).then(|| RampRecord {
        collapse_k: outcome.collapse_temperature_k(),
        end_target_k: outcome.end.target_k,
        end_kinetic_k: outcome.end.kinetic_k,
        end_ps: outcome.end.time_ps,
        cause: outcome.collapse.as_ref().map(|c| c.to_string()),
    });
    let nve = match (&outcome.after_hold, plan.nve_steps) {
        (Some(state), steps) if steps > 0 => {
            let run = NveRun {
                dt_fs: plan.dt_fs,
                steps,
                sample_every: plan.save_every,
            };
            let o = nve_drift(
                potential.as_ref(),
                masses,
                state,
                &reference.criterion,
                &run,
            )?;
            Some(NveRecord {
                drift_ev_per_atom_ps: o.drift_ev_per_atom_per_ps(),
                max_deviation_ev_per_atom: o.max_deviation_per_atom / KCAL_PER_MOL_PER_EV,
                mean_temperature_k: o.mean_temperature_k,
                time_ps: o.steps_done as f64 * plan.dt_fs / FS_PER_PS,
                blew_up: o.collapse.as_ref().map(|c| c.to_string()),
            })
        }
        _ => None,
    };
    Ok(MdRun {
        start_frame: start,
        stability_ps: stable_steps as f64 * plan.dt_fs / FS_PER_PS,
        collapsed: hold_collapse.is_some(),
        hr_mae,
        stopped: hold_collapse.map(|c| c.to_string()),
        ramp,
        nve,
    })
}

/// `mean [lower, upper]` of a stored estimate, the value of a single run, or `n/a`.
fn with_interval(estimate: Option<&Estimate>, values: &[f64], text: fn(f64) -> String) -> String {
    match (estimate, values) {
        (Some(e), _) => format!("{} [{}, {}]", text(e.value), text(e.lower), text(e.upper)),
        (None, [v]) => text(*v),
        _ => "n/a".into(),
    }
}

fn kelvin(v: f64) -> String {
    format!("{v:.0}")
}

fn scientific(v: f64) -> String {
    format!("{v:.1e}")
}

/// One model's table row and what it is ranked by.
struct Row {
    cells: Vec<String>,
    /// Mean collapse temperature, survivors at the maximum (NaN without a ramp), K.
    collapse_k: f64,
    /// Mean survival time of the hold, ps.
    hold_ps: f64,
    /// Mean |NVE drift| of intact runs (NaN without), eV/atom/ps.
    drift: f64,
}

fn row(r: &CellResult, md: &MdRecord, e_iid: Option<f64>, e_ood: Option<f64>) -> Row {
    let ranked: Vec<f64> = md
        .runs
        .iter()
        .filter_map(|run| run.ramp.as_ref().map(RampRecord::ranked_k))
        .collect();
    let survivors = md
        .runs
        .iter()
        .filter(|run| run.ramp.as_ref().is_some_and(|p| p.collapse_k.is_none()))
        .count();
    let drifts = intact_drifts(&md.runs);
    let nve_runs: Vec<&NveRecord> = md.runs.iter().filter_map(|run| run.nve.as_ref()).collect();
    let blew_up = nve_runs.iter().filter(|n| n.blew_up.is_some()).count();
    let within = nve_runs.iter().filter(|n| conserves_energy(n)).count();
    let collapse = with_interval(md.collapse_temperature_k.as_ref(), &ranked, kelvin);
    let missing = || "—".to_string();
    Row {
        cells: vec![
            r.id.clone(),
            e_iid.map(fmt).unwrap_or_else(missing),
            e_ood.map(fmt).unwrap_or_else(missing),
            if survivors > 0 {
                format!("≥ {collapse}")
            } else {
                collapse
            },
            match md.max_temperature_k {
                Some(t) => format!("{survivors}/{} (T_max {t:.0} K)", ranked.len()),
                None => "no ramp".into(),
            },
            with_interval(
                md.nve_abs_drift_ev_per_atom_ps.as_ref(),
                &drifts,
                scientific,
            ),
            if nve_runs.is_empty() {
                "no NVE".into()
            } else if blew_up > 0 {
                format!("{within}/{} ({blew_up} blew up)", nve_runs.len())
            } else {
                format!("{within}/{}", nve_runs.len())
            },
            md.mean_hr_mae.map(fmt).unwrap_or_else(|| "n/a".into()),
            format!("{:.3} / {:.3}", md.mean_stability_ps, md.max_time_ps),
        ],
        collapse_k: if ranked.is_empty() {
            f64::NAN
        } else {
            mean(&ranked)
        },
        hold_ps: md.mean_stability_ps,
        drift: if drifts.is_empty() {
            f64::NAN
        } else {
            mean(&drifts)
        },
    }
}

/// Best first: higher collapse temperature, then longer hold survival, then smaller drift.
fn rank(rows: &mut [Row]) {
    let or = |x: f64, missing: f64| if x.is_nan() { missing } else { x };
    rows.sort_by(|a, b| {
        or(b.collapse_k, f64::NEG_INFINITY)
            .total_cmp(&or(a.collapse_k, f64::NEG_INFINITY))
            .then(b.hold_ps.total_cmp(&a.hold_ps))
            .then(or(a.drift, f64::INFINITY).total_cmp(&or(b.drift, f64::INFINITY)))
    });
}

/// A finding on the Spearman correlation of test error with `what`, claimed only when its
/// 95 % Fisher-z interval excludes zero.
fn correlation_finding(name: &str, what: &str, points: &[(f64, f64)]) -> String {
    let (x, y): (Vec<f64>, Vec<f64>) = points.iter().copied().unzip();
    let c = match spearman(&x, &y) {
        Ok(c) if c.coefficient.is_finite() => c,
        _ => {
            return format!(
                "The {name} force MAE and the {what} cannot be correlated here (n = {}, or no \
                 variation).",
                points.len()
            );
        }
    };
    match c.interval(DEFAULT_LEVEL) {
        Ok(ci) if ci.excludes(0.0) => format!(
            "Spearman ρ between the {name} force MAE and the {what}: {ci:.2} (95 % interval, \
             n = {}): a lower {name} error goes with a {} {what}.",
            c.n,
            if c.coefficient < 0.0 {
                "higher"
            } else {
                "lower"
            }
        ),
        Ok(ci) => format!(
            "No correlation between the {name} force MAE and the {what} can be claimed: \
             Spearman ρ = {ci:.2} (95 % interval includes 0, n = {}).",
            c.n
        ),
        Err(_) => format!(
            "Too few models for an interval on the correlation of the {name} force MAE with \
             the {what}: Spearman ρ = {:.2} from n = {} (exact permutation p = {}; an \
             interval needs n ≥ {}), so no correlation is claimed.",
            c.coefficient,
            c.n,
            crate::stats::p_value(c.p_value),
            mlff_metrics::SPEARMAN_INTERVAL_MIN_N
        ),
    }
}

/// The report section.
pub fn section(results: &[&CellResult]) -> Result<Section> {
    let mut section = Section::new(ExperimentKey::MdStability);
    let mut rows = Vec::new();
    let (mut iid, mut ood) = (Vec::new(), Vec::new());
    for r in results {
        let Some(md) = &r.md else { continue };
        let molecule = r.spec.molecules().join("+");
        let e_iid = r.scores(IID, &molecule).map(|s| s.force_mae);
        let e_ood = r.scores(TIME_HOLDOUT, &molecule).map(|s| s.force_mae);
        let row = row(r, md, e_iid, e_ood);
        if row.collapse_k.is_finite() {
            iid.extend(e_iid.map(|e| (e, row.collapse_k)));
            ood.extend(e_ood.map(|e| (e, row.collapse_k)));
        }
        rows.push(row);
    }
    rank(&mut rows);
    let header = [
        "rank",
        "cell",
        "force MAE i.i.d.",
        "force MAE time holdout",
        "collapse T (K), mean [95 % CI]",
        "runs surviving to T_max",
        "NVE |drift| (eV/atom/ps), mean [95 % CI]",
        "NVE runs within 5e-4 eV/atom/ps",
        "h(r) MAE",
        "hold survival (ps) / hold",
    ];
    section.table = Table::new(
        &header,
        rows.iter()
            .enumerate()
            .map(|(k, row)| {
                let mut cells = vec![(k + 1).to_string()];
                cells.extend(row.cells.iter().cloned());
                cells
            })
            .collect(),
    );
    let Some(first) = results.iter().find_map(|r| r.md.as_ref()) else {
        return Ok(section);
    };
    let runs: Vec<&MdRun> = results
        .iter()
        .filter_map(|r| r.md.as_ref())
        .flat_map(|m| &m.runs)
        .collect();
    let ramps: Vec<&RampRecord> = runs.iter().filter_map(|r| r.ramp.as_ref()).collect();
    if let (Some(best), Some(worst)) = (
        rows.first().filter(|r| r.collapse_k.is_finite()),
        rows.iter().rev().find(|r| r.collapse_k.is_finite()),
    ) {
        let survivors = ramps.iter().filter(|p| p.collapse_k.is_none()).count();
        section.findings.push(format!(
            "Ranked by the heating ramp's collapse temperature (a run surviving to T_max = {:.0} \
             K counts as T_max, a lower bound): {} models from {} ({:.0} K) to {} ({:.0} K); \
             {survivors} of {} runs survived to T_max{}.",
            first.max_temperature_k.unwrap_or(f64::NAN),
            rows.iter().filter(|r| r.collapse_k.is_finite()).count(),
            best.cells[0],
            best.collapse_k,
            worst.cells[0],
            worst.collapse_k,
            ramps.len(),
            if survivors == ramps.len() {
                " — the ramp saturates as well; raise max_temperature_k"
            } else {
                ""
            }
        ));
    }
    let nve: Vec<&NveRecord> = runs.iter().filter_map(|r| r.nve.as_ref()).collect();
    if !nve.is_empty() {
        let within = nve.iter().filter(|n| conserves_energy(n)).count();
        section.findings.push(format!(
            "NVE from the thermalised state: {within} of {} runs keep the total-energy drift \
             within LAMBench's {LAMBENCH_DRIFT_TOLERANCE_EV:e} eV/atom/ps; {} blew up.",
            nve.len(),
            nve.iter().filter(|n| n.blew_up.is_some()).count()
        ));
    }
    section.findings.push(format!(
        "Fixed-temperature hold: {} of {} runs survived the whole {:.3} ps (Fu et al.'s survival \
         time, which saturates at the run length).",
        runs.iter().filter(|r| !r.collapsed).count(),
        runs.len(),
        first.max_time_ps
    ));
    if !ramps.is_empty() {
        for (name, points) in [("i.i.d.", &iid), ("time-holdout", &ood)] {
            section
                .findings
                .push(correlation_finding(name, "collapse temperature", points));
        }
        section.figures.push(scatter(
            "e5_collapse_temperature_vs_error",
            "Collapse temperature on the heating ramp vs test force MAE",
            "force MAE (kcal/mol/Å)",
            "collapse temperature (K)",
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
    }
    Ok(section)
}

/// Experiment 5: MD stability of every single-molecule model, measured in the cells of
/// experiments 1–2.
pub struct MdStability;

impl crate::experiment::Experiment for MdStability {
    fn key(&self) -> ExperimentKey {
        ExperimentKey::MdStability
    }

    fn section(&self, results: &[&CellResult]) -> Result<Section> {
        section(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nequip_model::preset_model_config;
    use mlff_md::{Molecule, Potential};
    use mlff_nequip::{Nequip, NequipPotential};
    use std::sync::Arc;
    use std::time::Instant;

    #[test]
    fn records_from_before_the_ramp_stay_readable() {
        let old = r#"{"runs": [{"start_frame": 3, "stability_ps": 1.0, "collapsed": false,
            "hr_mae": 0.01}], "mean_stability_ps": 1.0, "max_time_ps": 1.0, "mean_hr_mae": 0.01}"#;
        let record: MdRecord = serde_json::from_str(old).unwrap();
        assert_eq!(record.runs[0].ramp, None);
        assert_eq!(record.runs[0].nve, None);
        assert_eq!(record.collapse_temperature_k, None);
        let plan: MdPlan = serde_json::from_str(
            r#"{"runs": 2, "steps": 2000, "save_every": 10, "dt_fs": 0.5,
            "temperature_k": 500.0, "friction_per_fs": 0.01}"#,
        )
        .unwrap();
        assert!(!heats(&plan));
        assert_eq!(plan.nve_steps, 0);
        let settings = ramp_settings(&plan, 0);
        assert_eq!(settings.total_steps(), 2000);
    }

    #[test]
    fn models_rank_by_collapse_temperature_then_hold_then_drift() {
        let row = |name: &str, collapse_k: f64, hold_ps: f64, drift: f64| Row {
            cells: vec![name.into()],
            collapse_k,
            hold_ps,
            drift,
        };
        let mut rows = vec![
            row("no-ramp", f64::NAN, 1.0, 1e-5),
            row("cold", 900.0, 0.05, 1e-5),
            row("hot-drifty", 2000.0, 0.05, 1e-2),
            row("hot", 2000.0, 0.05, 1e-4),
            row("hot-no-nve", 2000.0, 0.05, f64::NAN),
            row("warm", 1500.0, 0.05, 1e-5),
        ];
        rank(&mut rows);
        let order: Vec<&str> = rows.iter().map(|r| r.cells[0].as_str()).collect();
        assert_eq!(
            order,
            ["hot", "hot-drifty", "hot-no-nve", "warm", "cold", "no-ramp"]
        );
    }

    /// Energy+forces cost of one aspirin frame with the quick preset's NequIP architecture
    /// (`preset_model_config`) — what one MD step costs. `RAYON_NUM_THREADS=1 cargo test --release -p xtask --lib md_step_cost
    /// -- --ignored --nocapture`.
    #[test]
    #[ignore = "a timing, not a check"]
    fn md_step_cost_of_the_quick_nequip_model() {
        let mol = Molecule::builtin("aspirin").unwrap();
        let names = vec!["H".into(), "C".into(), "O".into()];
        let mut c = preset_model_config(crate::preset::Preset::Quick, names, 0);
        c.avg_num_neighbors = Some(15.0);
        let potential =
            NequipPotential::new(Arc::new(Nequip::new(c).unwrap()), mol.atomic_numbers()).unwrap();
        let mut positions = mol.positions();
        let mut forces = vec![[0.0; 3]; positions.len()];
        let calls = 2000;
        let start = Instant::now();
        for k in 0..calls {
            positions[k % 21][0] += 1e-4;
            potential.energy_forces(&positions, &mut forces).unwrap();
        }
        let per_call = start.elapsed().as_secs_f64() / calls as f64;
        eprintln!(
            "NequIP quick size, aspirin: {:.3} ms per energy+forces on {} thread(s)",
            per_call * 1e3,
            rayon::current_num_threads()
        );
    }
}

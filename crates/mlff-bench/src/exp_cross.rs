//! Experiment 3 — cross-dataset generalisation: train on molecule A, test on every molecule B
//! made of A's elements (a matrix, shown as a heat map; the diagonal is A's own held-out
//! frames), and training sets grown by adding molecules, tested on one target.

use anyhow::{Result, bail};
use mlff_splits::{
    CrossDatasetParams, CrossPlan, DatasetFrames, RandomParams, Size, Split, SplitIndices,
    SplitRequest, Strategy,
};
use std::collections::BTreeMap;

use crate::cell_splits::{self, CROSS, CellSplits, TestSet};
use crate::data::DataCache;
use crate::grid::{CellSpec, ExperimentKey};
use crate::plots::heat_map;
use crate::preset::Plan;
use crate::report::{Section, Table};
use crate::stats::{self, Effect, Replicate, mean, replicate};
use crate::store::CellResult;

/// Sorted distinct atomic numbers of a built-in molecule (empty if unknown).
pub fn elements_of(molecule: &str) -> Vec<u8> {
    let mut z = mlff_md::Molecule::builtin(molecule)
        .map(|m| m.atomic_numbers())
        .unwrap_or_default();
    z.sort_unstable();
    z.dedup();
    z
}

fn covers(train: &[String], test: &str) -> bool {
    let available: Vec<u8> = train.iter().flat_map(|m| elements_of(m)).collect();
    elements_of(test).iter().all(|z| available.contains(z))
}

/// The cells: one per (training molecule, seed) of the matrix, and one per ladder step ≥ 2.
pub fn cells(plan: &Plan) -> Vec<CellSpec> {
    let cross = &plan.cross;
    let mut cells = Vec::new();
    for &seed in &plan.seeds {
        for a in &cross.molecules {
            let train = vec![a.clone()];
            let tests = cross
                .molecules
                .iter()
                .filter(|b| covers(&train, b))
                .cloned()
                .collect();
            cells.push(CellSpec::Cross { train, tests, seed });
        }
        for k in 2..=cross.ladder.len() {
            cells.push(CellSpec::Cross {
                train: cross.ladder[..k].to_vec(),
                tests: vec![cross.ladder_target.clone()],
                seed,
            });
        }
    }
    cells
}

/// Whether the plan's molecules and sizes fit (frames per molecule from `frames`).
pub fn check(plan: &Plan, frames: &BTreeMap<String, usize>) -> std::result::Result<(), String> {
    let cross = &plan.cross;
    let train = cross.train_frames + plan.validation_frames(cross.train_frames);
    for m in cross.molecules.iter().chain(&cross.ladder) {
        let n = frames.get(m).copied().unwrap_or(0);
        if train + cross.test_frames > n {
            return Err(format!(
                "{m}: {train} training (with validation) + {} test frames exceed its {n} frames",
                cross.test_frames
            ));
        }
    }
    if !cross.ladder.is_empty() && !covers(&cross.ladder, &cross.ladder_target) {
        return Err(format!(
            "the ladder molecules {} lack elements of the target {}",
            cross.ladder.join(", "),
            cross.ladder_target
        ));
    }
    Ok(())
}

fn random_split(
    n_frames: usize,
    train: Option<usize>,
    n_test: usize,
    n_val: usize,
    seed: u64,
) -> Result<Split> {
    let mut request = SplitRequest::new(
        Strategy::Random(RandomParams {
            n_frames,
            test: Size::Count(n_test),
            train: train.map(Size::Count),
        }),
        seed,
    );
    if train.is_some() {
        request = request.with_validation(cell_splits::validation(n_val));
    }
    Ok(request.generate()?)
}

fn single(split: &Split) -> Result<&mlff_splits::FrameSplit> {
    match &split.indices {
        SplitIndices::Single(s) => Ok(s),
        _ => bail!("random split produced an unexpected layout"),
    }
}

/// The frames of a cell.
pub fn splits(
    train: &[String],
    tests: &[String],
    seed: u64,
    data: &DataCache,
    plan: &Plan,
) -> Result<CellSplits> {
    if train.len() == 1 {
        matrix_splits(&train[0], tests, seed, data, plan)
    } else {
        ladder_splits(train, tests, seed, data, plan)
    }
}

/// Train on `a` (random frames), test on its own held-out frames and on each other molecule.
fn matrix_splits(
    a: &str,
    tests: &[String],
    seed: u64,
    data: &DataCache,
    plan: &Plan,
) -> Result<CellSplits> {
    let cross = &plan.cross;
    let n_val = plan.validation_frames(cross.train_frames);
    let own = random_split(
        data.get(a)?.dataset.len(),
        Some(cross.train_frames + n_val),
        cross.test_frames,
        n_val,
        seed,
    )?;
    let s = single(&own)?;
    let mut out = CellSplits {
        train: vec![(a.to_string(), s.train.clone())],
        validation: vec![(a.to_string(), s.validation.clone())],
        ..CellSplits::default()
    };
    for b in tests {
        let frames = if b == a {
            s.test.clone()
        } else {
            let split = random_split(data.get(b)?.dataset.len(), None, cross.test_frames, 0, seed)?;
            let frames = single(&split)?.test.clone();
            out.splits.push(split);
            frames
        };
        out.tests.push(TestSet {
            kind: CROSS,
            molecule: b.clone(),
            frames,
        });
    }
    out.splits.insert(0, own);
    Ok(out)
}

/// Train on the union of `train`, test on the target (the splits crate's cross-dataset split).
fn ladder_splits(
    train: &[String],
    tests: &[String],
    seed: u64,
    data: &DataCache,
    plan: &Plan,
) -> Result<CellSplits> {
    let cross = &plan.cross;
    let n_val = plan.validation_frames(cross.train_frames);
    let Some(target) = tests.first() else {
        bail!("a ladder cell needs a target molecule");
    };
    let mut datasets = Vec::new();
    for m in train.iter().chain(std::iter::once(target)) {
        datasets.push(DatasetFrames {
            label: m.clone(),
            n_frames: data.get(m)?.dataset.len(),
        });
    }
    let request = SplitRequest::new(
        Strategy::CrossDataset(CrossDatasetParams {
            datasets,
            plan: CrossPlan::Union {
                train: train.to_vec(),
                test: target.clone(),
            },
            train_per_dataset: Some(cross.train_frames + n_val),
            test_per_dataset: Some(cross.test_frames),
        }),
        seed,
    )
    .with_validation(cell_splits::validation(n_val));
    let split = request.generate()?;
    let runs = split.runs();
    let Some(run) = runs.first() else {
        bail!("the cross-dataset split has no task");
    };
    let labelled = |sets: &[mlff_splits::LabelledFrames]| {
        sets.iter()
            .map(|l| (l.dataset.clone(), l.frames.clone()))
            .collect::<Vec<_>>()
    };
    Ok(CellSplits {
        train: labelled(&run.train),
        validation: labelled(&run.validation),
        tests: vec![TestSet {
            kind: CROSS,
            molecule: run.test.dataset.clone(),
            frames: run.test.frames.clone(),
        }],
        splits: vec![split.clone()],
        window: None,
    })
}

/// (seed, outcome) of every cell that trained on one set and tested on one molecule.
type Outcomes<'a> = BTreeMap<(String, String), Vec<(u64, Replicate<'a>)>>;

/// Numerator and denominator replicates of (a → b) / (b → b), matched by seed.
fn matched<'a>(
    matrix: &Outcomes<'a>,
    key: &(String, String),
) -> (Vec<Replicate<'a>>, Vec<Replicate<'a>>) {
    let (Some(num), Some(den)) = (matrix.get(key), matrix.get(&(key.1.clone(), key.1.clone())))
    else {
        return (Vec::new(), Vec::new());
    };
    num.iter()
        .filter_map(|(seed, a)| Some((*a, den.iter().find(|(s, _)| s == seed)?.1)))
        .unzip()
}

/// The report section.
pub fn section(results: &[&CellResult]) -> Result<Section> {
    let mut section = Section::new(ExperimentKey::CrossDataset);
    let mut matrix: Outcomes<'_> = BTreeMap::new();
    let mut ladder: Outcomes<'_> = BTreeMap::new();
    let mut unavailable = Vec::new();
    for r in results {
        let CellSpec::Cross { train, seed, .. } = &r.spec else {
            continue;
        };
        for t in &r.tests {
            let key = (train.join(" + "), t.molecule.clone());
            match (replicate(r, &t.kind, &t.molecule), train.len()) {
                (Some(rep), 1) => matrix.entry(key).or_default().push((*seed, rep)),
                (Some(rep), _) => ladder.entry(key).or_default().push((*seed, rep)),
                (None, _) => unavailable.push(format!(
                    "{} → {}: {}",
                    key.0,
                    key.1,
                    t.error.as_deref().unwrap_or("no scores")
                )),
            }
        }
    }
    let mut rows = Vec::new();
    let (mut numerators, mut denominators) = (Vec::new(), Vec::new());
    for (key, v) in matrix.iter().chain(&ladder) {
        let reps: Vec<Replicate<'_>> = v.iter().map(|(_, r)| *r).collect();
        let maes: Vec<f64> = reps.iter().map(|r| r.mae).collect();
        let (num, den) = matched(&matrix, key);
        let ratio = if key.0 == key.1 || num.is_empty() {
            "—".to_string()
        } else {
            stats::text(
                stats::ratio(&num, &den).as_ref(),
                mean(&num.iter().map(|r| r.mae).collect::<Vec<_>>())
                    / mean(&den.iter().map(|r| r.mae).collect::<Vec<_>>()),
            )
        };
        if key.0 != key.1 && matrix.contains_key(key) {
            numerators.extend(num);
            denominators.extend(den);
        }
        rows.push(vec![
            key.0.clone(),
            key.1.clone(),
            reps.len().to_string(),
            stats::text(stats::mae(&reps).as_ref(), mean(&maes)),
            ratio,
            stats::basis(&reps),
        ]);
    }
    let header = [
        "trained on",
        "tested on",
        "seeds",
        "force MAE [95% CI]",
        "ratio to the tested molecule's own model [95% CI]",
        "intervals over",
    ];
    section.table = Table::new(&header, rows);
    let mut molecules: Vec<String> = matrix
        .keys()
        .flat_map(|(a, b)| [a.clone(), b.clone()])
        .collect();
    molecules.sort();
    molecules.dedup();
    if !matrix.is_empty() {
        let values: Vec<Vec<Option<f64>>> = molecules
            .iter()
            .map(|a| {
                molecules
                    .iter()
                    .map(|b| {
                        matrix
                            .get(&(a.clone(), b.clone()))
                            .map(|v| mean(&v.iter().map(|(_, r)| r.mae).collect::<Vec<_>>()))
                    })
                    .collect()
            })
            .collect();
        section.figures.push(heat_map(
            "e3_cross_matrix",
            "Force MAE (kcal/mol/Å): rows trained on, columns tested on",
            &molecules,
            &values,
        )?);
    }
    if !numerators.is_empty() {
        section
            .findings
            .push(transfer_sentence(&numerators, &denominators));
    }
    for ((a, b), v) in &ladder {
        let reps: Vec<Replicate<'_>> = v.iter().map(|(_, r)| *r).collect();
        section.findings.push(format!(
            "Trained on {a}, tested on {b}: force MAE {} ({}).",
            stats::text(
                stats::mae(&reps).as_ref(),
                mean(&reps.iter().map(|r| r.mae).collect::<Vec<_>>())
            ),
            stats::basis(&reps)
        ));
    }
    if !unavailable.is_empty() {
        section.findings.push(format!(
            "Pairs the model could not evaluate: {}.",
            unavailable.join("; ")
        ));
    }
    Ok(section)
}

/// Error on another molecule / error of that molecule's own model, over every (pair, seed):
/// an effect only when the interval excludes 1.
fn transfer_sentence(numerators: &[Replicate<'_>], denominators: &[Replicate<'_>]) -> String {
    let n = numerators.len();
    let Some(r) = stats::ratio(numerators, denominators) else {
        return format!(
            "Testing on another molecule: {n} (pair, seed) ratios, but no interval could be \
             computed, so no effect is claimed."
        );
    };
    let how = if n >= 2 {
        format!("geometric mean over {n} (pair, seed) ratios")
    } else {
        "one pair and seed, bootstrap over test frames".to_string()
    };
    let verdict = match stats::effect(&r, 1.0) {
        Effect::Above => "a model trained on one molecule is significantly worse on another",
        Effect::Below => "a model trained on another molecule is significantly better here",
        Effect::None => "no significant difference from the molecule's own model was found",
    };
    format!(
        "Testing on another molecule gives {r}× the force MAE of that molecule's own model \
         ({how}, {} interval): {verdict}.",
        stats::level(&r)
    )
}

/// Experiment 3: train on some molecules, test on others.
pub struct CrossDataset;

impl crate::experiment::Experiment for CrossDataset {
    fn key(&self) -> ExperimentKey {
        ExperimentKey::CrossDataset
    }

    fn cells(&self, plan: &Plan) -> Vec<CellSpec> {
        cells(plan)
    }

    fn check(
        &self,
        plan: &mut Plan,
        frames: &BTreeMap<String, usize>,
        _explicit: bool,
    ) -> Vec<String> {
        check(plan, frames).err().into_iter().collect()
    }

    fn splits(&self, cell: &CellSpec, data: &DataCache, plan: &Plan) -> Result<CellSplits> {
        match cell {
            CellSpec::Cross { train, tests, seed } => splits(train, tests, *seed, data, plan),
            other => anyhow::bail!("cell {} is not one of experiment 3's", other.id()),
        }
    }

    fn section(&self, results: &[&CellResult]) -> Result<Section> {
        section(results)
    }
}

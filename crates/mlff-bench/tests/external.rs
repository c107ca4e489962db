//! External models end to end through the library (no binary): a tiny grid of every
//! experiment with a pair potential trained by a Python command and served by ASE's own
//! `SocketClient`, compared with the built-in pair baseline; and every fault — a training
//! command that fails, a server that never connects, exits at start, dies mid-run, hangs, or
//! returns NaN or wrongly shaped forces — recorded as a failed cell while the run goes on, and
//! resumed by a rerun.
//!
//! Needs Python with `ase` (`MLFFBENCH_PYTHON`, else `python3`): skipped with a notice when
//! missing, unless `MLFFBENCH_REQUIRE_ASE=1` (CI) makes that a failure.

use mlff_bench::device::Device;
use mlff_bench::external::ExternalCard;
use mlff_bench::store::{CellResult, RunDir};
use mlff_bench::{ModelSpec, Plan, RunRequest};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Whether a Python with ASE is there (else the test skips, saying so; CI requires it).
fn ase_available() -> bool {
    mlff_testkit::python_with(&["ase.calculators.socketio", "numpy"]).is_some()
}

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/external-models/ase-pair")
}

fn faulty_client() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/faulty_serve.py")
}

/// Three small molecules, 400 frames each (generated once for all tests).
fn data() -> &'static Path {
    static DATA: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = DATA.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("data");
        let mut options = mlff_bench::generate::GenerateOptions::default_data(
            vec!["ethanol".into(), "malonaldehyde".into(), "benzene".into()],
            out.clone(),
        );
        options.frames = 400;
        options.equilibration = 200;
        mlff_bench::generate::run(&options).unwrap();
        (dir, out)
    });
    path
}

fn tiny_plan(md: bool) -> Plan {
    let runs = if md { 2 } else { 0 };
    serde_json::from_value(serde_json::json!({
        "preset": "quick",
        "seeds": [0],
        "test_fraction": 0.1,
        "validation_fraction": 0.1,
        "sample": { "molecules": ["ethanol"], "sizes": [30, 120], "iid_test": 40 },
        "time": { "molecules": ["ethanol"], "window": 40, "positions": 2 },
        "cross": {
            "molecules": ["ethanol", "malonaldehyde"],
            "train_frames": 60,
            "test_frames": 40,
            "ladder_target": "ethanol",
            "ladder": ["malonaldehyde", "benzene"]
        },
        "soap": { "r_cut": 4.0, "n_max": 2, "l_max": 2, "sigma": 0.5, "max_train_frames": 30 },
        "md": { "runs": runs, "steps": 60, "save_every": 10, "dt_fs": 0.5,
                "temperature_k": 500.0, "friction_per_fs": 0.05,
                "heating_rate_k_per_ps": 40000.0, "max_temperature_k": 2000.0,
                "nve_steps": 40 }
    }))
    .unwrap()
}

/// A card in `dir` with these YAML lines after `name:`; commands run in the example's folder.
fn card(dir: &Path, name: &str, body: &str) -> ExternalCard {
    let path = dir.join(format!("{name}.yaml"));
    let text = format!(
        "name: {name}\nworkdir: {}\n{body}",
        example_dir().canonicalize().unwrap().display()
    );
    std::fs::write(&path, text).unwrap();
    ExternalCard::load(&path).unwrap()
}

fn pair_card(dir: &Path) -> ExternalCard {
    let py = mlff_testkit::python();
    card(
        dir,
        "ase-pair",
        &format!(
            "train: {py} train.py --train {{train}} --validation {{validation}} --out {{model_dir}}\n\
             serve: {py} serve.py --model {{model_dir}}/model.json --template {{template}} --unixsocket {{unixsocket}}\n\
             connect_timeout_s: 60\nevaluation_timeout_s: 60\n"
        ),
    )
}

fn request(results: &Path, name: &str, model: ModelSpec, plan: Plan, only: &[&str]) -> RunRequest {
    RunRequest {
        name: name.into(),
        dir: results.join(name),
        plan,
        explicit_sizes: true,
        model,
        data: Some(data().to_path_buf()),
        frame_spacing_fs: None,
        only: only.iter().map(|s| s.to_string()).collect(),
        jobs: 1,
        device: Device::Cpu,
    }
}

fn iid_force_mae(cells: &[CellResult], id: &str) -> f64 {
    let cell = cells.iter().find(|c| c.id == id).unwrap();
    cell.scores("iid", "ethanol").unwrap().force_mae
}

#[test]
fn a_tiny_grid_runs_through_ase_socket_client_and_agrees_with_the_built_in_pair_model() {
    if !ase_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let external = request(
        &results,
        "external",
        ModelSpec::External(pair_card(dir.path())),
        tiny_plan(true),
        &[],
    );
    let outcome = mlff_bench::run(&external).unwrap();
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    assert!(outcome.report.is_file());
    let run = RunDir::new(external.dir.clone());
    let manifest = run.manifest().unwrap();
    let cells = run.finished_cells(&manifest);
    assert_eq!(cells.len(), manifest.cells.len());
    for cell in &cells {
        assert_eq!(cell.model, "ase-pair");
        assert_eq!(
            cell.training["stop"], "exact least-squares solution",
            "{}",
            cell.id
        );
        for test in &cell.tests {
            // Cross tests on a molecule with unseen element pairs may fail (a result, not a
            // failure); every other test set is scored.
            assert!(
                test.scores.is_some() || test.kind == "cross",
                "{}: {:?}",
                cell.id,
                test.error
            );
        }
    }
    // Experiment 5 ran MD through the socket for the single-molecule cells.
    let md = cells.iter().filter(|c| c.md.is_some()).count();
    assert!(md >= 4, "{md} cells with MD records");
    let report = std::fs::read_to_string(external.dir.join("report.md")).unwrap();
    assert!(report.contains("ase-pair"), "the report names the model");

    // The same functional form fitted in Rust: errors of the same size, so units and
    // conversions through extended XYZ and the socket are right (a kcal/mol–eV slip would
    // be a factor of 23).
    let builtin = request(
        &results,
        "baseline",
        ModelSpec::Baseline,
        tiny_plan(false),
        &["e1"],
    );
    assert!(mlff_bench::run(&builtin).unwrap().failures.is_empty());
    let base_run = RunDir::new(builtin.dir.clone());
    let base = base_run.finished_cells(&base_run.manifest().unwrap());
    for id in ["e1-ethanol-n30-s0", "e1-ethanol-n120-s0"] {
        let (ours, theirs) = (iid_force_mae(&base, id), iid_force_mae(&cells, id));
        assert!(
            theirs.is_finite() && theirs < 3.0 * ours && ours < 3.0 * theirs,
            "{id}: external {theirs} vs built-in {ours} kcal/mol/Å"
        );
    }
}

/// Runs one e1 cell with `card`; returns the failure text of that cell.
fn failed_cell(card: ExternalCard) -> String {
    let dir = tempfile::tempdir().unwrap();
    let req = request(
        dir.path(),
        "faulty",
        ModelSpec::External(card),
        tiny_plan(true),
        &["e1-ethanol-n30"],
    );
    let outcome = mlff_bench::run(&req).unwrap();
    assert_eq!(outcome.failures.len(), 1, "{:?}", outcome.failures);
    let run = RunDir::new(req.dir.clone());
    let manifest = run.manifest().unwrap();
    assert!(
        run.finished_cells(&manifest).is_empty(),
        "no partial result"
    );
    let failures = run.failures(&manifest);
    assert_eq!(failures.len(), 1);
    let report = std::fs::read_to_string(req.dir.join("report.md")).unwrap();
    assert!(
        report.contains("Failed cells"),
        "the report lists the failure"
    );
    failures[0].error.clone()
}

fn faulty_card(dir: &Path, name: &str, serve_tail: &str, extra: &str) -> ExternalCard {
    let py = mlff_testkit::python();
    card(
        dir,
        name,
        &format!(
            "train: {py} train.py --train {{train}} --validation {{validation}} --out {{model_dir}}\n\
             serve: {py} {} --template {{template}} --unixsocket {{unixsocket}} {serve_tail}\n{extra}",
            faulty_client().display()
        ),
    )
}

#[test]
fn a_failing_training_command_keeps_its_error_output() {
    if !ase_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let card = card(
        dir.path(),
        "fails",
        "train: echo 'CUDA out of memory' >&2; exit 3\nserve: true {unixsocket}\n",
    );
    let error = failed_cell(card);
    assert!(error.contains("training command failed"), "{error}");
    assert!(error.contains("CUDA out of memory"), "{error}");
}

#[test]
fn servers_that_never_connect_or_exit_at_start_fail_their_cell_clearly() {
    if !ase_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let py = mlff_testkit::python();
    let never = card(
        dir.path(),
        "never",
        &format!(
            "train: {py} train.py --train {{train}} --validation {{validation}} --out {{model_dir}}\n\
             serve: sleep 30 # {{unixsocket}}\nconnect_timeout_s: 1\n"
        ),
    );
    let error = failed_cell(never);
    assert!(error.contains("no client connected"), "{error}");
    let exits = card(
        dir.path(),
        "exits",
        &format!(
            "train: {py} train.py --train {{train}} --validation {{validation}} --out {{model_dir}}\n\
             serve: {py} -c 'import mace_not_installed' {{unixsocket}}\n"
        ),
    );
    let error = failed_cell(exits);
    assert!(error.contains("exited before connecting"), "{error}");
    assert!(
        error.contains("No module named 'mace_not_installed'"),
        "{error}"
    );
}

#[test]
fn servers_that_return_nan_or_short_forces_or_hang_fail_their_cell_clearly() {
    if !ase_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let error = failed_cell(faulty_card(dir.path(), "nan", "--mode nan", ""));
    assert!(error.contains("non-finite force on atom 0"), "{error}");
    let error = failed_cell(faulty_card(dir.path(), "short", "--mode short", ""));
    assert!(error.contains("forces for 8 atoms"), "{error}");
    let error = failed_cell(faulty_card(
        dir.path(),
        "hang",
        "--mode hang",
        "evaluation_timeout_s: 1\n",
    ));
    assert!(error.contains("did not answer within 1 s"), "{error}");
}

#[test]
fn a_server_killed_mid_run_leaves_a_failure_record_and_a_rerun_resumes() {
    if !ase_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The first server of the run dies at its 11th evaluation; later ones are healthy.
    let marker = dir.path().join("crash-once");
    std::fs::write(&marker, "").unwrap();
    let py = mlff_testkit::python();
    let crash_once = card(
        dir.path(),
        "crash-once",
        &format!(
            "train: {py} train.py --train {{train}} --validation {{validation}} --out {{model_dir}}\n\
             serve: if rm {marker} 2>/dev/null; then mode=crash-after:10; else mode=fine; fi; \
             {py} {client} --template {{template}} --unixsocket {{unixsocket}} --mode $mode\n",
            marker = marker.display(),
            client = faulty_client().display(),
        ),
    );
    let req = request(
        dir.path(),
        "resume",
        ModelSpec::External(crash_once),
        tiny_plan(true),
        &["e1"],
    );
    let first = mlff_bench::run(&req).unwrap();
    assert_eq!(first.failures.len(), 1, "{:?}", first.failures);
    assert!(
        first.failures[0].contains("closed the connection") && first.failures[0].contains("exited"),
        "{}",
        first.failures[0]
    );
    let run = RunDir::new(req.dir.clone());
    let manifest = run.manifest().unwrap();
    // `--only e1` selects the two e1 cells of the grid.
    assert_eq!(run.finished_cells(&manifest).len(), 1);
    assert_eq!(run.failures(&manifest).len(), 1);
    let before: Vec<String> = run
        .finished_cells(&manifest)
        .iter()
        .map(|c| serde_json::to_string(&c.tests).unwrap())
        .collect();

    let second = mlff_bench::run(&req).unwrap();
    assert!(second.failures.is_empty(), "{:?}", second.failures);
    let after = run.finished_cells(&manifest);
    assert_eq!(after.len(), 2);
    assert!(
        run.failures(&manifest).is_empty(),
        "the failure record is gone"
    );
    // Finished cells were skipped, not redone.
    for tests in before {
        assert!(
            after
                .iter()
                .any(|c| serde_json::to_string(&c.tests).unwrap() == tests)
        );
    }
}

//! Scale-out on Slurm: a job-array script with one task per cell (`cargo xtask run-cell ID`),
//! a collect job that runs after the array, and a submit script tying them together.
//! `MLFFBENCH_XTASK` in the job environment replaces `cargo xtask` (a prebuilt binary).

use anyhow::{Context, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::device::Device;
use crate::grid::CellSpec;
use crate::store::write_text;

/// Resources requested per array task.
#[derive(Debug, Clone)]
pub struct SlurmOptions {
    /// CPUs per task (rayon threads).
    pub cpus_per_task: usize,
    /// Wall-clock limit per task, `HH:MM:SS`.
    pub time_limit: String,
    /// Extra `#SBATCH` lines (e.g. `--partition=cpu`).
    pub extra: Vec<String>,
    /// Where each cell's NequIP inference runs (`cuda` also requests one GPU per task).
    pub device: Device,
}

/// The files written.
#[derive(Debug, Clone)]
pub struct SlurmFiles {
    /// The job-array script.
    pub array: PathBuf,
    /// The collect job.
    pub collect: PathBuf,
    /// `submit.sh`.
    pub submit: PathBuf,
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("resolving {}", path.display()))
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn header(out: &mut String, name: &str, log_dir: &Path, options: &SlurmOptions) {
    let _ = writeln!(out, "#!/bin/bash");
    let _ = writeln!(out, "#SBATCH --job-name={name}");
    let _ = writeln!(out, "#SBATCH --cpus-per-task={}", options.cpus_per_task);
    let _ = writeln!(out, "#SBATCH --time={}", options.time_limit);
    for line in &options.extra {
        let _ = writeln!(out, "#SBATCH {line}");
    }
    let _ = writeln!(out, "#SBATCH --output={}/%x-%A_%a.out", log_dir.display());
}

/// Writes `cells.sbatch`, `collect.sbatch` and `submit.sh` into `dir` for the cells of the run
/// at `run_dir`; jobs run from `repo` (the workspace root).
pub fn emit(
    dir: &Path,
    repo: &Path,
    run_dir: &Path,
    run_name: &str,
    cells: &[CellSpec],
    options: &SlurmOptions,
) -> Result<SlurmFiles> {
    anyhow::ensure!(!cells.is_empty(), "no cells selected: nothing to submit");
    let (dir, repo, run_dir) = (absolute(dir)?, absolute(repo)?, absolute(run_dir)?);
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let run_arg = quote(&run_dir.display().to_string());

    let mut array = String::new();
    header(&mut array, &format!("mlffbench-{run_name}"), &logs, options);
    let device_arg = match options.device {
        Device::Cpu => "",
        Device::Cuda => {
            let _ = writeln!(array, "#SBATCH --gres=gpu:1");
            " --device cuda"
        }
        Device::Emulated => " --device emulated",
    };
    let _ = writeln!(array, "#SBATCH --array=0-{}", cells.len() - 1);
    let _ = writeln!(array, "set -euo pipefail");
    let _ = writeln!(array, "cd {}", quote(&repo.display().to_string()));
    let _ = writeln!(
        array,
        "export RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-1}}\""
    );
    array.push_str("CELLS=(\n");
    for cell in cells {
        let _ = writeln!(array, "  {}", quote(&cell.id()));
    }
    array.push_str(")\n");
    // MLFFBENCH_XTASK replaces `cargo xtask` (e.g. a prebuilt binary); unquoted on purpose.
    let _ = writeln!(
        array,
        "exec ${{MLFFBENCH_XTASK:-cargo xtask}} run-cell \"${{CELLS[$SLURM_ARRAY_TASK_ID]}}\" --run-dir {run_arg}{device_arg}"
    );

    let mut collect = String::new();
    header(
        &mut collect,
        &format!("mlffbench-{run_name}-collect"),
        &logs,
        options,
    );
    let _ = writeln!(collect, "set -euo pipefail");
    let _ = writeln!(collect, "cd {}", quote(&repo.display().to_string()));
    let _ = writeln!(
        collect,
        "exec ${{MLFFBENCH_XTASK:-cargo xtask}} collect --run-dir {run_arg}"
    );

    let files = SlurmFiles {
        array: dir.join("cells.sbatch"),
        collect: dir.join("collect.sbatch"),
        submit: dir.join("submit.sh"),
    };
    let submit = format!(
        "#!/bin/bash\n# Builds the runner once, submits one array task per cell, then the report.\n\
         set -euo pipefail\ncd {repo}\ncargo build --release --quiet -p xtask\n\
         array=$(sbatch --parsable {array})\n\
         sbatch --parsable --dependency=afterany:\"${{array%%;*}}\" {collect}\n",
        repo = quote(&repo.display().to_string()),
        array = quote(&files.array.display().to_string()),
        collect = quote(&files.collect.display().to_string()),
    );
    write_text(&files.array, &array)?;
    write_text(&files.collect, &collect)?;
    write_text(&files.submit, &submit)?;
    make_executable(&files.submit)?;
    Ok(files)
}

fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut permissions = std::fs::metadata(path)?.permissions();
    permissions.set_mode(0o755);
    std::fs::set_permissions(path, permissions).with_context(|| format!("chmod {}", path.display()))
}

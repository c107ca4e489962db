#!/usr/bin/env python3
"""Time mlff-nequip against pip nequip 0.19.1 side by side: same architecture, 1 thread, float32.

Workloads, on a batch of 5 aspirin frames (21 atoms each), for both configurations of
crates/mlff-nequip/benches/energy_forces.rs:
  l2_3layers_32ch_r5        l_max 2, 3 layers, 32 features, radial MLP 2 x 64, r_max 5 Å
  paper_l3_5layers_64ch_r4  l_max 3, 5 layers, 64 features, radial MLP 3 x 64, r_max 4 Å
both with parity, 8 fixed Bessel functions, polynomial cutoff p = 6, avg_num_neighbors 15,
types H C O, no per-type energy scale/shift, float32:
  energy_forces  energies and forces (pip: model.eval(), forces by autograd, no create_graph)
  training_step  forward, forces, loss = 1000·MSE(forces) + 1·MSE(energy per atom), the full
                 weight gradient (pip: forces with create_graph=True, loss.backward()), an
                 AMSGrad Adam step (lr 0.01, betas 0.9/0.999, eps 1e-8) and the EMA update
                 (pip: nequip's own nequip.train.ema.EMAWeights, decay 0.99 with the
                 (1+n)/(10+n) warm-up, the same rule as mlff_train::Ema)

Interleaved: for each round, for each configuration and workload, ours then pip. Ours is
`cargo bench -p mlff-nequip --bench energy_forces` restricted to one benchmark, with
RAYON_NUM_THREADS=1, criterion's median read from its estimates.json; pip is the median of
--calls timed calls after --warmup untimed ones, torch.set_num_threads(1), eager mode.

Usage (from the repository root; the machine should be otherwise idle):
    python3 docs/nequip_compare/compare.py [--python VENV/bin/python] [--rounds 3] [--calls 20]
        [--paper-train-calls 10] [--configs small,paper] [--workloads energy_forces,training_step]

Without --python the first run creates a virtual environment under target/nequip-compare-venv
and pip-installs torch (CPU wheels), nequip==0.19.1 and numpy into it; pip nequip is never a
dependency of the build or the tests. Prints a markdown table (every round, medians, ratio
pip/ours) and writes the raw numbers to target/nequip-compare/results.json. See README.md here.
"""

import argparse
import datetime
import gc
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / "target" / "nequip-compare-venv"
OUT_DIR = ROOT / "target" / "nequip-compare"
CRITERION_HOME = OUT_DIR / "criterion"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PACKAGES = ["nequip==0.19.1", "numpy"]
REEXEC_MARK = "MLFF_NEQUIP_COMPARE_CHILD"

GROUP = "nequip_aspirin_batch5_f32"
WORKLOADS = ["energy_forces", "training_step"]
# Mirrors SIZES in crates/mlff-nequip/benches/energy_forces.rs; the rest of the model settings
# are NequipConfig's defaults (crates/mlff-nequip/src/config.rs), repeated in `pip_config`.
CONFIGS = {
    "small": dict(name="l2_3layers_32ch_r5", l_max=2, num_layers=3, num_features=32,
                  radial_mlp_depth=2, r_max=5.0),
    "paper": dict(name="paper_l3_5layers_64ch_r4", l_max=3, num_layers=5, num_features=64,
                  radial_mlp_depth=3, r_max=4.0),
}
TYPE_NAMES = ["H", "C", "O"]
NUM_FRAMES = 5
NOISE = 0.05  # Å, uniform in [-NOISE, NOISE) per coordinate
SEED = 0
# TrainConfig::rmd17_paper() (crates/mlff-train/src/config.rs)
LR, FORCE_COEFF, ENERGY_COEFF, EMA_DECAY = 0.01, 1000.0, 1.0, 0.99


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--python", help="a Python with torch and nequip 0.19.1 (skips the venv)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--calls", type=int, default=20, help="timed pip calls per measurement")
    p.add_argument("--paper-train-calls", type=int, default=10,
                   help="timed pip calls for the paper configuration's training step")
    p.add_argument("--warmup", type=int, default=3, help="untimed pip calls before timing")
    p.add_argument("--configs", default="small,paper", help="comma-separated: small, paper")
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--warm-up-time", default="1", help="criterion --warm-up-time (s)")
    p.add_argument("--measurement-time", default="3", help="criterion --measurement-time (s)")
    p.add_argument("--out", default=str(OUT_DIR / "results.json"))
    args = p.parse_args()
    args.configs = [c for c in args.configs.split(",") if c]
    args.workloads = [w for w in args.workloads.split(",") if w]
    bad = [c for c in args.configs if c not in CONFIGS] + [w for w in args.workloads if w not in WORKLOADS]
    if bad:
        p.error(f"unknown configuration/workload {bad}")
    return args


def ensure_env(python):
    """Re-executes this script under the Python that has torch and nequip (single-threaded
    BLAS/OpenMP set before torch loads); creates target/nequip-compare-venv when none is given."""
    if os.environ.get(REEXEC_MARK) == "1":
        return
    if python is None:
        python = VENV / "bin" / "python"
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
            pip = [str(python), "-m", "pip", "install", "-q"]
            subprocess.run([*pip, "--upgrade", "pip"], check=True)
            subprocess.run([*pip, "torch", "--index-url", TORCH_CPU_INDEX], check=True)
            subprocess.run([*pip, *PACKAGES], check=True)
    env = dict(os.environ, **{REEXEC_MARK: "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                              "OPENBLAS_NUM_THREADS": "1", "RAYON_NUM_THREADS": "1"})
    os.execve(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]], env)


# ---------------------------------------------------------------------------------------- ours

def cargo_env():
    return dict(os.environ, RAYON_NUM_THREADS="1", CRITERION_HOME=str(CRITERION_HOME))


def build_ours():
    cmd = ["cargo", "bench", "-p", "mlff-nequip", "--bench", "energy_forces", "--no-run"]
    print("building:", shlex.join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True, env=cargo_env())


def criterion_median_ms(full_id):
    """criterion's median (ms) of `full_id`, found through the benchmark.json criterion writes
    next to estimates.json (directory names replace '/' by '_', but don't rely on it)."""
    for bench_json in (CRITERION_HOME / GROUP).glob("*/new/benchmark.json"):
        if json.loads(bench_json.read_text()).get("full_id") == full_id:
            estimates = json.loads((bench_json.parent / "estimates.json").read_text())
            return estimates["median"]["point_estimate"] / 1e6
    raise RuntimeError(f"no criterion estimates for {full_id} under {CRITERION_HOME / GROUP}")


def run_ours(args, config, workload):
    """Runs one benchmark of the criterion bench; returns (median ms, {size: (edges, params)})."""
    full_id = f"{GROUP}/{workload}/{config['name']}"
    cmd = ["cargo", "bench", "-q", "-p", "mlff-nequip", "--bench", "energy_forces", "--",
           "--warm-up-time", args.warm_up_time, "--measurement-time", args.measurement_time,
           "--noplot", f"^{re.escape(full_id)}$"]
    run = subprocess.run(cmd, cwd=ROOT, env=cargo_env(), capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"{shlex.join(cmd)} failed:\n{run.stdout}\n{run.stderr}")
    info = {}
    for m in re.finditer(r"^(\S+): (\d+) edges, .*\((\d+) parameters\)", run.stderr, re.M):
        info[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return criterion_median_ms(full_id), info


# ----------------------------------------------------------------------------------------- pip

def pip_config(config):
    return dict(
        seed=SEED, model_dtype="float32", type_names=TYPE_NAMES, r_max=config["r_max"],
        l_max=config["l_max"], num_layers=config["num_layers"], parity=True,
        num_features=config["num_features"], radial_mlp_depth=config["radial_mlp_depth"],
        radial_mlp_width=64, num_bessels=8, bessel_trainable=False, polynomial_cutoff_p=6,
        avg_num_neighbors=15.0, per_type_energy_scales=None, per_type_energy_shifts=None,
        convnet_sc=True, convnet_resnet=False,
    )


def aspirin_frames():
    import numpy as np

    mol = json.loads((ROOT / "data" / "molecules" / "aspirin.json").read_text())
    symbols = [a["element"] for a in mol["atoms"]]
    ref = np.array([a["position"] for a in mol["atoms"]], dtype=np.float64)
    rng = np.random.default_rng(SEED)
    noise = rng.uniform(-NOISE, NOISE, size=(NUM_FRAMES,) + ref.shape)
    return symbols, ref[None] + noise


class PipSide:
    """One pip nequip model per configuration, its batched graph, optimiser and EMA."""

    def __init__(self, config):
        import numpy as np
        import torch
        from nequip.data import AtomicDataDict, compute_neighborlist_, from_dict
        from nequip.model import NequIPGNNModel
        from nequip.train.ema import EMAWeights

        self.torch = torch
        self.model = NequIPGNNModel(**pip_config(config))
        symbols, frames = aspirin_frames()
        types = np.array([TYPE_NAMES.index(s) for s in symbols], dtype=np.int64)
        data = [from_dict({"pos": pos, "atom_types": types}) for pos in frames]
        data = compute_neighborlist_(AtomicDataDict.batched_from_list(data), config["r_max"])
        self.data = data
        self.num_edges = int(data[AtomicDataDict.EDGE_INDEX_KEY].shape[1])
        self.num_params = sum(p.numel() for p in self.model.parameters())
        self.atoms_per_frame = len(symbols)
        # Targets as the Rust bench makes them: the model's own energies, its forces + 0.1.
        self.model.eval()
        out = self.model(dict(data))
        self.target_energy = out[AtomicDataDict.TOTAL_ENERGY_KEY].detach().reshape(-1)
        self.target_forces = out[AtomicDataDict.FORCE_KEY].detach() + 0.1
        self.opt = torch.optim.Adam(self.model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8,
                                    weight_decay=0.0, amsgrad=True)
        self.ema = EMAWeights(self.model, decay=EMA_DECAY)
        self.ema.update_parameters(self.model)  # the initial copy, as nequip's trainer does
        self.keys = AtomicDataDict.TOTAL_ENERGY_KEY, AtomicDataDict.FORCE_KEY

    def energy_forces(self):
        out = self.model(dict(self.data))
        return out[self.keys[0]].detach(), out[self.keys[1]].detach()

    def training_step(self):
        torch = self.torch
        self.opt.zero_grad(set_to_none=True)
        out = self.model(dict(self.data))
        energy, forces = out[self.keys[0]].reshape(-1), out[self.keys[1]]
        n = self.atoms_per_frame
        loss = FORCE_COEFF * torch.mean((forces - self.target_forces) ** 2) + ENERGY_COEFF * torch.mean(
            ((energy - self.target_energy) / n) ** 2)
        loss.backward()
        self.opt.step()
        self.ema.update_parameters(self.model)
        return loss.detach()

    def time_ms(self, workload, calls, warmup):
        self.model.train(workload == "training_step")
        fn = getattr(self, workload)
        for _ in range(warmup):
            fn()
        gc.collect()
        gc.disable()
        times = []
        try:
            for _ in range(calls):
                start = time.perf_counter()
                fn()
                times.append((time.perf_counter() - start) * 1e3)
        finally:
            gc.enable()
        return times


# ------------------------------------------------------------------------------------- report

def machine():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = re.search(r"^Model name:\s*(.+)$", out, re.M).group(1).strip()
    except (OSError, AttributeError):
        model = platform.processor() or "unknown"
    return f"{model}, {os.cpu_count()} logical CPUs"


def versions():
    import e3nn
    import nequip
    import numpy
    import torch

    def cmd_out(cmd):
        try:
            return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True).stdout.strip()
        except OSError:
            return "unknown"

    lock = (ROOT / "Cargo.lock").read_text()
    crit = re.search(r'name = "criterion"\nversion = "([^"]+)"', lock)
    commit = cmd_out(["git", "rev-parse", "--short", "HEAD"])
    dirty = cmd_out(["git", "status", "--porcelain", "--untracked-files=no"])
    return {
        "mlffbench": commit + (" (with uncommitted changes)" if dirty else ""),
        "rustc": cmd_out(["rustc", "--version"]),
        "criterion": crit.group(1) if crit else "unknown",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "nequip": nequip.__version__,
        "e3nn": e3nn.__version__,
        "numpy": numpy.__version__,
    }


def fmt_ms(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def main():
    args = parse_args()
    ensure_env(args.python)
    import warnings

    warnings.filterwarnings("ignore", message=".*per_type_energy_(scales|shifts)=None.*")
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    from nequip.utils.global_state import set_global_state

    set_global_state()  # nequip's float64 data dtype, e3nn flags; required before building

    command = shlex.join(["python3", "docs/nequip_compare/compare.py", *sys.argv[1:]])
    date = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    build_ours()

    pip, ours_info, results = {}, {}, []
    for key in args.configs:
        print(f"building pip nequip model {CONFIGS[key]['name']} ...", flush=True)
        pip[key] = PipSide(CONFIGS[key])
    for key in args.configs:
        for workload in args.workloads:
            results.append(dict(config=CONFIGS[key]["name"], workload=workload, ours_ms=[],
                                pip_ms=[], pip_calls_ms=[]))

    for r in range(args.rounds):
        i = 0
        for key in args.configs:
            config = CONFIGS[key]
            for workload in args.workloads:
                row = results[i]
                i += 1
                ms, info = run_ours(args, config, workload)
                ours_info.update(info)
                row["ours_ms"].append(ms)
                paper_train = key == "paper" and workload == "training_step"
                calls = args.paper_train_calls if paper_train else args.calls
                warmup = min(args.warmup, 1) if paper_train else args.warmup
                times = pip[key].time_ms(workload, calls, warmup)
                row["pip_calls_ms"].append(times)
                row["pip_ms"].append(statistics.median(times))
                print(f"round {r + 1}/{args.rounds} {config['name']} {workload}: "
                      f"ours {fmt_ms(ms)} ms, pip {fmt_ms(row['pip_ms'][-1])} ms "
                      f"(median of {calls})", flush=True)

    vers = versions()
    arch = {}
    for key in args.configs:
        name = CONFIGS[key]["name"]
        edges, params = ours_info.get(name, (None, None))
        arch[name] = dict(ours_edges=edges, pip_edges=pip[key].num_edges, ours_params=params,
                          pip_params=pip[key].num_params, pip_config=pip_config(CONFIGS[key]))
    for row in results:
        row["ours_median_ms"] = statistics.median(row["ours_ms"])
        row["pip_median_ms"] = statistics.median(row["pip_ms"])
        row["ratio"] = row["pip_median_ms"] / row["ours_median_ms"]
        row["round_ratios"] = [p / o for p, o in zip(row["pip_ms"], row["ours_ms"])]

    lines = [
        f"Machine: {machine()}; {date}",
        f"Command: `{command}`",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()),
        f"Settings: 1 thread each (RAYON_NUM_THREADS=1; torch.set_num_threads(1)), float32, "
        f"{NUM_FRAMES} aspirin frames x 21 atoms; ours = criterion median (warm-up "
        f"{args.warm_up_time} s, measurement {args.measurement_time} s, 10 samples); pip = median "
        f"of {args.calls} calls ({args.paper_train_calls} for the paper training step) after "
        f"{args.warmup} warm-up calls (1 for the paper training step); {args.rounds} interleaved rounds.",
        "",
        "| configuration | edges (ours / pip) | parameters (ours / pip) |",
        "|---|---|---|",
    ]
    for name, a in arch.items():
        ours_params = f"{a['ours_params']:,}" if a["ours_params"] is not None else "?"
        lines.append(f"| {name} | {a['ours_edges']} / {a['pip_edges']} | "
                     f"{ours_params} / {a['pip_params']:,} |")
    lines += [
        "",
        "| configuration | workload | mlffbench, each round (ms) | pip nequip, each round (ms) "
        "| mlffbench median | pip median | pip / ours (rounds) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in results:
        rr = row["round_ratios"]
        lines.append(
            f"| {row['config']} | {row['workload']} | "
            f"{' / '.join(fmt_ms(x) for x in row['ours_ms'])} | "
            f"{' / '.join(fmt_ms(x) for x in row['pip_ms'])} | "
            f"{fmt_ms(row['ours_median_ms'])} | {fmt_ms(row['pip_median_ms'])} | "
            f"**{row['ratio']:.2f}x** ({min(rr):.2f}-{max(rr):.2f}) |")
    print("\n" + "\n".join(lines))

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(
        machine=machine(), date=date, command=command, versions=vers,
        settings=dict(rounds=args.rounds, calls=args.calls, paper_train_calls=args.paper_train_calls,
                      warmup=args.warmup, criterion_warm_up_s=args.warm_up_time,
                      criterion_measurement_s=args.measurement_time, threads=1, dtype="float32",
                      frames=NUM_FRAMES, noise_A=NOISE, seed=SEED, ema="nequip.train.ema.EMAWeights"),
        architecture=arch, results=results), indent=1) + "\n")
    print(f"\nraw numbers: {out}")


if __name__ == "__main__":
    main()

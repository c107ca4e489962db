#!/usr/bin/env python3
"""Time mlff-soap, DScribe and featomic on the same frames, single-threaded.

Parameters: species H, C, O; r_cut 5 Å, n_max 8, l_max 6, sigma 0.5 Å, GTO radial basis,
no averaging (featomic: max_radial 7 = 8 functions, Gaussian width 0.5, shifted-cosine
smoothing 0.5 — featomic's conventions differ, so it is a speed reference, not a numeric one).

Usage (from the repository root):
    python3 docs/soap_compare/compare.py [--shared ../shared] [--frames 10] [--repeats 20]

The first run creates a virtual environment under target/soap-compare-venv and pip-installs
dscribe==2.1.2, featomic and ase into it. Numerical agreement with DScribe is checked by the
test suite (crates/mlff-soap/tests/dscribe_fixture.rs), not here.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / "target" / "soap-compare-venv"
PACKAGES = ["dscribe==2.1.2", "featomic", "ase"]
MOLECULES = {
    "ethanol": "data/extxyz/ethanol_md17_2000_random.xyz",
    "aspirin": "data/extxyz/aspirin_ccsd_15.xyz",
}


def ensure_venv():
    """Re-executes this script inside the venv (created on first use)."""
    python = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PACKAGES], check=True)
    os.execv(str(python), [str(python), *sys.argv])


def best_time(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def time_dscribe(frames, repeats):
    from dscribe.descriptors import SOAP

    soap = SOAP(species=[1, 6, 8], r_cut=5.0, n_max=8, l_max=6, sigma=0.5, rbf="gto", periodic=False)
    return best_time(lambda: [soap.create(f, n_jobs=1) for f in frames], repeats)


def time_featomic(frames, repeats):
    import featomic

    calculator = featomic.SoapPowerSpectrum(
        cutoff={"radius": 5.0, "smoothing": {"type": "ShiftedCosine", "width": 0.5}},
        density={"type": "Gaussian", "width": 0.5},
        basis={"type": "TensorProduct", "max_angular": 6, "radial": {"type": "Gto", "max_radial": 7}},
    )
    # All frames in one call (featomic's per-call overhead is large); its own threads are
    # limited by RAYON_NUM_THREADS=1 (set before import).
    return best_time(lambda: calculator.compute(frames), repeats)


def time_ours(path, n_frames, repeats):
    cmd = [
        "cargo", "run", "--release", "-q", "-p", "mlff-soap", "--example", "soap_timing", "--",
        str(path), str(n_frames), str(repeats),
    ]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return float(out.strip().split("best_us_per_atom=")[1])


def main():
    ensure_venv()
    os.environ.setdefault("RAYON_NUM_THREADS", "1")
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    import ase.io
    import numpy as np

    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, RAYON_NUM_THREADS={os.environ['RAYON_NUM_THREADS']}")
    print(f"{'molecule':10} {'atoms':>6} {'mlff-soap':>12} {'DScribe':>12} {'featomic':>12}   (µs per atom, best of {args.repeats})")
    for name, rel in MOLECULES.items():
        path = Path(args.shared) / rel
        frames = ase.io.read(str(path), index=f":{args.frames}")
        atoms = sum(len(f) for f in frames)
        t_dscribe = time_dscribe(frames, args.repeats)
        t_featomic = time_featomic(frames, args.repeats)
        us_ours = time_ours(path, args.frames, args.repeats)
        us_dscribe = t_dscribe * 1e6 / atoms
        us_featomic = t_featomic * 1e6 / atoms
        print(
            f"{name:10} {len(frames[0]):>6} {us_ours:>12.2f} {us_dscribe:>12.2f} {us_featomic:>12.2f}"
            f"   speed-up vs DScribe {us_dscribe / us_ours:.1f}x, vs featomic {us_featomic / us_ours:.1f}x"
        )


if __name__ == "__main__":
    main()

"""Training command of the ASE pair-potential example: fits a two-body potential to the
extended XYZ frames mlffbench writes, by linear least squares on energies and forces.

E = sum_elements n_e * c_e + sum_{i<j} sum_k w_{ab,k} * g_k(r_ij),  g_k Gaussians in r.

Usage (mlffbench fills the placeholders of the model card):
    python train.py --train {train} --validation {validation} --out {model_dir}
"""
import argparse
import json

import numpy as np
from ase.io import read

from pair import CENTRES, WIDTH, pair_key, pair_terms


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", required=True)
    parser.add_argument("--validation", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--ridge", type=float, default=1e-6)
    parser.add_argument("--energy-weight", type=float, default=1.0)
    args = parser.parse_args()

    frames = read(args.train, ":")
    elements = sorted({int(z) for a in frames for z in a.numbers})
    pairs = sorted({pair_key(a, b) for a in elements for b in elements})
    n_pair = len(pairs) * len(CENTRES)
    columns = len(elements) + n_pair
    rows, targets = [], []
    for atoms in frames:
        energy = atoms.get_potential_energy()
        forces = atoms.get_forces()
        e_row, f_rows = pair_terms(atoms.numbers, atoms.positions, elements, pairs)
        rows.append(args.energy_weight * e_row)
        targets.append(args.energy_weight * energy)
        rows.extend(f_rows)
        targets.extend(forces.ravel())
    a = np.asarray(rows)
    b = np.asarray(targets)
    # Ridge on the pair weights only (the element constants absorb the energy offset).
    penalty = np.sqrt(args.ridge) * np.eye(columns)[len(elements):]
    a = np.vstack([a, penalty])
    b = np.concatenate([b, np.zeros(n_pair)])
    weights, *_ = np.linalg.lstsq(a, b, rcond=None)

    validation = read(args.validation, ":") if args_nonempty(args.validation) else []
    mae = None
    if validation:
        errors = []
        for atoms in validation:
            _, f_rows = pair_terms(atoms.numbers, atoms.positions, elements, pairs)
            errors.append(np.abs(f_rows @ weights - atoms.get_forces().ravel()))
        mae = float(np.mean(np.concatenate(errors)))

    model = {
        "elements": elements,
        "pairs": [list(p) for p in pairs],
        "centres": CENTRES.tolist(),
        "width": WIDTH,
        "weights": weights.tolist(),
    }
    with open(f"{args.out}/model.json", "w") as f:
        json.dump(model, f)
    # mlffbench merges these into the cell's record and report.
    with open(f"{args.out}/training.json", "w") as f:
        json.dump({"converged": True, "stop": "exact least-squares solution",
                   "validation_force_mae_ev_per_a": mae, "frames": len(frames)}, f)
    with open(f"{args.out}/hyper_parameters.json", "w") as f:
        json.dump({"model": "ase-pair example", "centres": CENTRES.tolist(), "width": WIDTH,
                   "ridge": args.ridge, "energy_weight": args.energy_weight,
                   "elements": elements}, f)


def args_nonempty(path):
    with open(path) as f:
        return bool(f.read(1))


if __name__ == "__main__":
    main()

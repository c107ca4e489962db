"""Serving command of the ASE pair-potential example: an ASE calculator served by ASE's own
SocketClient over the i-PI protocol, as any ASE calculator (MACE, nequip, ...) would be.

Usage (mlffbench fills the placeholders of the model card):
    python serve.py --model {model_dir}/model.json --template {template} --unixsocket {unixsocket}
"""
import argparse
import json

import numpy as np
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.socketio import SocketClient
from ase.io import read

from pair import pair_terms


class PairCalculator(Calculator):
    implemented_properties = ["energy", "forces"]

    def __init__(self, model, **kwargs):
        super().__init__(**kwargs)
        self.elements = model["elements"]
        self.pairs = [tuple(p) for p in model["pairs"]]
        self.weights = np.asarray(model["weights"])

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        e_row, f_rows = pair_terms(self.atoms.numbers, self.atoms.positions,
                                   self.elements, self.pairs)
        self.results["energy"] = float(e_row @ self.weights)
        self.results["forces"] = (f_rows @ self.weights).reshape(-1, 3)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--template", required=True)
    parser.add_argument("--unixsocket")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    with open(args.model) as f:
        model = json.load(f)
    atoms = read(args.template)
    atoms.calc = PairCalculator(model)
    if args.unixsocket:
        client = SocketClient(unixsocket=args.unixsocket)
    else:
        client = SocketClient(host=args.host, port=args.port)
    client.run(atoms)


if __name__ == "__main__":
    main()

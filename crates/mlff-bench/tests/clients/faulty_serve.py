"""An ASE SocketClient whose calculator misbehaves on purpose, for mlffbench's fault tests.

    python faulty_serve.py --template T --unixsocket NAME --mode MODE
MODE: nan (NaN forces), short (forces for one atom too few), crash-after:N (the process dies
at evaluation N+1), hang (never answers).
"""
import argparse
import os
import time

import numpy as np
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.socketio import SocketClient
from ase.io import read


class Faulty(Calculator):
    implemented_properties = ["energy", "forces"]

    def __init__(self, mode, **kwargs):
        super().__init__(**kwargs)
        self.mode = mode
        self.calls = 0

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.calls += 1
        n = len(self.atoms)
        forces = -0.1 * self.atoms.positions
        if self.mode == "nan":
            forces[0, 0] = np.nan
        elif self.mode == "short":
            forces = forces[: n - 1]
        elif self.mode.startswith("crash-after:") and self.calls > int(self.mode.split(":")[1]):
            os._exit(3)
        elif self.mode == "hang":
            time.sleep(3600)
        self.results["energy"] = 0.0
        self.results["forces"] = forces


parser = argparse.ArgumentParser()
parser.add_argument("--template", required=True)
parser.add_argument("--unixsocket", required=True)
parser.add_argument("--mode", required=True)
args = parser.parse_args()
atoms = read(args.template)
atoms.calc = Faulty(args.mode)
SocketClient(unixsocket=args.unixsocket).run(atoms)

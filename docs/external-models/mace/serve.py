"""Serving command of the MACE card: MACECalculator served by ASE's SocketClient."""
import argparse

from ase.calculators.socketio import SocketClient
from ase.io import read
from mace.calculators import MACECalculator

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--template", required=True)
parser.add_argument("--unixsocket", required=True)
args = parser.parse_args()
atoms = read(args.template)
atoms.calc = MACECalculator(model_paths=args.model, device="cpu", default_dtype="float64")
SocketClient(unixsocket=args.unixsocket).run(atoms)

"""Copies mlffbench's extended XYZ to MACE's keys (REF_energy, REF_forces); exit 1 when empty."""
import sys

from ase.io import read, write

frames = read(sys.argv[1], ":") if open(sys.argv[1]).read(1) else []
if not frames:
    sys.exit(1)
for atoms in frames:
    atoms.info["REF_energy"] = atoms.get_potential_energy()
    atoms.arrays["REF_forces"] = atoms.get_forces()
    atoms.calc = None
write(sys.argv[2], frames)

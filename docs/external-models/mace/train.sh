#!/bin/sh
# Training command of the MACE card: mlffbench's extended XYZ (energy/forces in eV, Å) →
# MACE's REF_ keys, then mace_run_train. Arguments: TRAIN VALIDATION MODEL_DIR SEED.
set -eu
train="$1"; validation="$2"; out="$3"; seed="$4"
python to_mace_keys.py "$train" "$out/train.xyz"
if python to_mace_keys.py "$validation" "$out/valid.xyz"; then
    valid="--valid_file=$out/valid.xyz"
else
    valid="--valid_fraction=0.1"   # no validation frames in this cell
fi
mace_run_train --name=mace --seed="$seed" --device=cpu --default_dtype=float64 \
    --model_dir="$out" --checkpoints_dir="$out/checkpoints" --results_dir="$out/results" \
    --log_dir="$out/logs" --train_file="$out/train.xyz" $valid \
    --energy_key=REF_energy --forces_key=REF_forces --E0s=average \
    --model=MACE --r_max=5.0 --num_channels=32 --max_L=1 --correlation=3 \
    --num_interactions=2 --batch_size=5 --valid_batch_size=10 --lr=0.01 \
    --max_num_epochs="${MACE_EPOCHS:-300}" --patience=40 --ema --ema_decay=0.99 --save_cpu
python - "$out" "${MACE_EPOCHS:-300}" <<'PY'
import json, sys
out, epochs = sys.argv[1], int(sys.argv[2])
# What mlffbench records about this training run and model (report tables).
json.dump({"stop": "mace_run_train finished (max_num_epochs or patience)",
           "max_num_epochs": epochs, "patience": 40}, open(out + "/training.json", "w"))
json.dump({"model": "MACE", "r_max": 5.0, "num_channels": 32, "max_L": 1, "correlation": 3,
           "num_interactions": 2, "batch_size": 5, "lr": 0.01, "ema_decay": 0.99,
           "E0s": "average", "default_dtype": "float64", "max_num_epochs": epochs},
          open(out + "/hyper_parameters.json", "w"))
PY

"""Generates scipy_reference.json: expected metric values computed independently with
numpy/scipy on seeded random data. Run from this directory:

    python3 make_scipy_reference.py

The Rust tests read the JSON only; Python is not needed to run them.
"""
import json

import numpy as np
import scipy
from scipy import stats

rng = np.random.default_rng(20261123)

# --- energy / force scores -------------------------------------------------------------
T, N = 6, 4
z = np.array([8, 1, 1, 6])
f_ref = rng.normal(0.0, 20.0, size=(T, N, 3))
f_ref[2, 1, :] = 0.0  # zero reference force: excluded from the cosine mean
f_pred = f_ref + rng.normal(0.0, 1.5, size=(T, N, 3))
e_ref = rng.normal(-97000.0, 5.0, size=T)
e_pred = e_ref + rng.normal(0.0, 0.8, size=T)

de = e_pred - e_ref
df = f_pred - f_ref
vec = np.linalg.norm(df, axis=2)
np_, nr = np.linalg.norm(f_pred, axis=2), np.linalg.norm(f_ref, axis=2)
mask = (np_ > 0) & (nr > 0)
cos = (f_pred * f_ref).sum(axis=2)[mask] / (np_[mask] * nr[mask])
per_element = []
for element in sorted(set(z.tolist())):
    sel = df[:, z == element, :]
    per_element.append({
        "atomic_number": element,
        "atoms": int(sel.shape[0] * sel.shape[1]),
        "component_mae": float(np.abs(sel).mean()),
        "component_rmse": float(np.sqrt((sel**2).mean())),
        "vector_error_mean": float(np.linalg.norm(sel, axis=2).mean()),
    })
scores = {
    "atomic_numbers": z.tolist(),
    "reference_energies": e_ref.tolist(),
    "predicted_energies": e_pred.tolist(),
    "reference_forces": f_ref.ravel().tolist(),
    "predicted_forces": f_pred.ravel().tolist(),
    "n_atoms": N,
    "energy_mae": float(np.abs(de).mean()),
    "energy_rmse": float(np.sqrt((de**2).mean())),
    "energy_per_atom_mae": float(np.abs(de / N).mean()),
    "energy_per_atom_rmse": float(np.sqrt(((de / N) ** 2).mean())),
    "energy_per_atom_mean_error": float((de / N).mean()),
    "force_component_mae": float(np.abs(df).mean()),
    "force_component_rmse": float(np.sqrt((df**2).mean())),
    "force_vector_error_mean": float(vec.mean()),
    "force_magnitude_mae": float(np.abs(np_ - nr).mean()),
    "force_cosine_similarity": float(cos.mean()),
    "force_cosine_atoms": int(mask.sum()),
    "per_element": per_element,
    "per_frame_force_mae": np.abs(df).reshape(T, -1).mean(axis=1).tolist(),
    "per_frame_force_rmse": np.sqrt((df**2).reshape(T, -1).mean(axis=1)).tolist(),
}

# --- percentiles (numpy default 'linear' method) ---------------------------------------
values = np.sort(rng.exponential(2.0, size=37))
qs = [0.0, 0.025, 0.1, 0.5, 0.8, 0.975, 1.0]
percentiles = {
    "sorted_values": values.tolist(),
    "q": qs,
    "expected": [float(np.percentile(values, 100 * q)) for q in qs],
}

# --- learning-curve log-log fit -----------------------------------------------------------
sizes = np.array([100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0])
errors = 40.0 * sizes ** -0.42 * np.exp(rng.normal(0.0, 0.05, size=sizes.size))
fit = stats.linregress(np.log10(sizes), np.log10(errors))
t95 = stats.t.ppf(0.975, sizes.size - 2)
learning_curve = {
    "sizes": sizes.tolist(),
    "errors": errors.tolist(),
    "slope": float(fit.slope),
    "intercept": float(fit.intercept),
    "slope_stderr": float(fit.stderr),
    "intercept_stderr": float(fit.intercept_stderr),
    "r_squared": float(fit.rvalue**2),
    "slope_interval_95": [float(fit.slope - t95 * fit.stderr), float(fit.slope + t95 * fit.stderr)],
}

# --- correlations (y rounded to create ties for Spearman) -------------------------------
x = rng.normal(size=25)
y = np.round(0.4 * x + rng.normal(size=25), 1)
y[3] = y[7]  # an explicit tie
pearson = stats.pearsonr(x, y)
spearman = stats.spearmanr(x, y)
weak_x = rng.normal(size=12)
weak_y = rng.normal(size=12)
weak = stats.pearsonr(weak_x, weak_y)
correlation = {
    "x": x.tolist(),
    "y": y.tolist(),
    "pearson_r": float(pearson.statistic),
    "pearson_p": float(pearson.pvalue),
    "spearman_rho": float(spearman.statistic),
    "spearman_p": float(spearman.pvalue),
    "y_ranks": stats.rankdata(y).tolist(),
    "weak_x": weak_x.tolist(),
    "weak_y": weak_y.tolist(),
    "weak_pearson_r": float(weak.statistic),
    "weak_pearson_p": float(weak.pvalue),
}

out = {
    "generator": f"make_scipy_reference.py with numpy {np.__version__}, scipy {scipy.__version__}",
    "scores": scores,
    "percentiles": percentiles,
    "learning_curve": learning_curve,
    "correlation": correlation,
}
with open("scipy_reference.json", "w") as fh:
    json.dump(out, fh, indent=1)

"""The pair potential shared by train.py and serve.py: Gaussian radial terms per element pair."""
import numpy as np

CENTRES = np.linspace(0.9, 5.0, 12)  # Å
WIDTH = 0.35  # Å


def pair_key(a, b):
    return (min(a, b), max(a, b))


def pair_terms(numbers, positions, elements, pairs):
    """Design rows: the energy row (len(elements) + len(pairs)*K) and the 3N force rows."""
    n = len(numbers)
    k = len(CENTRES)
    n_el = len(elements)
    columns = n_el + len(pairs) * k
    e_row = np.zeros(columns)
    f_rows = np.zeros((3 * n, columns))
    for z in numbers:
        e_row[elements.index(int(z))] += 1.0
    index = {p: n_el + q * k for q, p in enumerate(pairs)}
    i, j = np.triu_indices(n, 1)
    d = positions[i] - positions[j]
    r = np.linalg.norm(d, axis=1)
    # A pair of elements the model never saw raises KeyError: the model cannot evaluate it.
    start = np.array([index[pair_key(int(numbers[a]), int(numbers[b]))] for a, b in zip(i, j)])
    cols = start[:, None] + np.arange(k)
    g = np.exp(-((r[:, None] - CENTRES) ** 2) / (2 * WIDTH**2))
    np.add.at(e_row, cols.ravel(), g.ravel())
    # F_i = -dE/dr_i = -sum_k w_k g_k'(r) d/r with g_k' = -(r - c_k)/width^2 g_k; F_j = -F_i.
    dg = -(r[:, None] - CENTRES) / WIDTH**2 * g
    unit = d / r[:, None]
    for c in range(3):
        part = dg * unit[:, c:c + 1]
        np.add.at(f_rows, (3 * i[:, None] + c, cols), -part)
        np.add.at(f_rows, (3 * j[:, None] + c, cols), part)
    return e_row, f_rows

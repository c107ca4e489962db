//! Molecular-dynamics datasets for machine-learning force fields.

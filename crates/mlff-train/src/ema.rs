//! Exponential moving average of the weights, as nequip's trainer does it with `torch_ema`
//! (`use_ema`, `ema_decay`, `ema_use_num_updates`).
//!
//! The average starts as a copy of the initial weights. After the `n`-th optimiser step
//! (`n` = 1, 2, …) it moves by `s ← s − (1−d)(s − θ)` with `d = min(decay, (1+n)/(10+n))` when
//! `use_num_updates` is on (the warm-up keeps early, poor weights from dominating), else
//! `d = decay`. nequip 0.6's trainer (torch_ema) and nequip 0.19's `EMAWeights` both use exactly
//! this warm-up and indexing.

use rayon::prelude::*;

use crate::error::{Result, TrainError};
use serde::{Deserialize, Serialize};

/// The averaged weights and the update count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ema {
    /// `ema_decay` (in [0, 1]).
    pub decay: f64,
    /// `ema_use_num_updates`: warm the decay up with the number of updates.
    pub use_num_updates: bool,
    /// Updates applied so far.
    pub num_updates: u64,
    /// The averaged weights (stored in checkpoints as a binary block).
    #[serde(skip)]
    pub shadow: Vec<f64>,
}

impl Ema {
    /// Starts an average at `initial` weights.
    pub fn new(initial: &[f64], decay: f64, use_num_updates: bool) -> Result<Self> {
        if !(0.0..=1.0).contains(&decay) {
            return Err(TrainError::config(
                "ema_decay",
                format!("{decay} is not in [0, 1]"),
            ));
        }
        Ok(Ema {
            decay,
            use_num_updates,
            num_updates: 0,
            shadow: initial.to_vec(),
        })
    }

    /// The decay the next update will use.
    pub fn next_decay(&self) -> f64 {
        if self.use_num_updates {
            let n = (self.num_updates + 1) as f64;
            self.decay.min((1.0 + n) / (10.0 + n))
        } else {
            self.decay
        }
    }

    /// Moves the average towards `params` (call after every optimiser step).
    pub fn update(&mut self, params: &[f64]) {
        let one_minus_decay = 1.0 - self.next_decay();
        self.num_updates += 1;
        self.shadow
            .par_iter_mut()
            .zip(params)
            .for_each(|(s, &p)| *s -= (*s - p) * one_minus_decay);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_up_and_update_follow_torch_ema() {
        let mut ema = Ema::new(&[0.0, 1.0], 0.99, true).unwrap();
        // n = 1: d = min(0.99, 2/11)
        ema.update(&[1.0, 1.0]);
        let d1 = 2.0 / 11.0;
        assert_eq!(ema.shadow, vec![1.0 - d1, 1.0]);
        // n = 2: d = 3/12
        ema.update(&[1.0, 3.0]);
        let d2: f64 = 3.0 / 12.0;
        let s0 = (1.0 - d1) - ((1.0 - d1) - 1.0) * (1.0 - d2);
        assert_eq!(ema.shadow[0], s0);
        assert_eq!(ema.shadow[1], 1.0 - (1.0 - 3.0) * (1.0 - d2));
        // the warm-up reaches the nominal decay 0.99 at n = 890 ((1+n)/(10+n) ≥ 0.99)
        ema.num_updates = 888;
        assert!(ema.next_decay() < 0.99);
        ema.num_updates = 890;
        assert_eq!(ema.next_decay(), 0.99);
    }

    #[test]
    fn without_warm_up_the_decay_is_constant() {
        let mut ema = Ema::new(&[2.0], 0.5, false).unwrap();
        ema.update(&[0.0]);
        ema.update(&[0.0]);
        assert_eq!(ema.shadow, vec![0.5]);
        assert!(Ema::new(&[0.0], 1.5, true).is_err());
    }
}

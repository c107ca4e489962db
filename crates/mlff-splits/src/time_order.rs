//! The time order of a trajectory's frames, needed by time-based strategies.

use serde::{Deserialize, Serialize};

use crate::error::{Result, SplitError};

/// How a dataset's frames are ordered in simulated time.
///
/// Positions `0..n_frames` run forward in time; `frame_at(p)` is the dataset frame at position
/// `p`. MD17 files are already time-ordered (`file_order`); rMD17 frames are a shuffled subset
/// of MD17 whose `old_indices` are MD steps (`from_md_steps`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeOrder {
    /// Number of frames.
    pub n_frames: usize,
    /// Dataset frame at each time position; absent when the file order is the time order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Vec<usize>>,
    /// MD step of each time position (strictly increasing); absent when frames are consecutive
    /// MD steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md_steps: Option<Vec<u64>>,
    /// Time between consecutive MD steps in femtoseconds (0.5 fs for MD17), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestep_fs: Option<f64>,
}

impl TimeOrder {
    /// Frames already stored in time order, one MD step apart.
    pub fn file_order(n_frames: usize) -> Self {
        Self {
            n_frames,
            order: None,
            md_steps: None,
            timestep_fs: None,
        }
    }

    /// Frames in the given time order (`order[p]` = frame at time position `p`), one MD step apart.
    pub fn from_order(order: Vec<usize>) -> Result<Self> {
        let time = Self {
            n_frames: order.len(),
            order: Some(order),
            md_steps: None,
            timestep_fs: None,
        };
        time.validate()?;
        Ok(time)
    }

    /// Frames labelled by their MD step (e.g. rMD17's `old_indices`); sorting by step gives the
    /// time order, and step differences give true time distances.
    pub fn from_md_steps(steps: &[u64]) -> Result<Self> {
        let mut order: Vec<usize> = (0..steps.len()).collect();
        order.sort_by_key(|&frame| steps[frame]);
        let sorted: Vec<u64> = order.iter().map(|&frame| steps[frame]).collect();
        let time = Self {
            n_frames: steps.len(),
            order: Some(order),
            md_steps: Some(sorted),
            timestep_fs: None,
        };
        time.validate()?;
        Ok(time)
    }

    /// The same order with a known MD time step (femtoseconds).
    pub fn with_timestep_fs(mut self, timestep_fs: f64) -> Result<Self> {
        check_timestep(timestep_fs)?;
        self.timestep_fs = Some(timestep_fs);
        Ok(self)
    }

    /// Dataset frame at time position `position`.
    pub fn frame_at(&self, position: usize) -> usize {
        self.order
            .as_ref()
            .map_or(position, |order| order[position])
    }

    /// Dataset frames at time positions `range`, in time order.
    pub fn frames_in(&self, range: std::ops::Range<usize>) -> Vec<usize> {
        range.map(|p| self.frame_at(p)).collect()
    }

    /// MD steps from time position `from` to time position `to` (`to >= from`).
    pub fn steps_between(&self, from: usize, to: usize) -> u64 {
        match &self.md_steps {
            Some(steps) => steps[to] - steps[from],
            None => (to - from) as u64,
        }
    }

    /// Checks the order is a permutation, steps strictly increase and the time step is valid.
    pub fn validate(&self) -> Result<()> {
        if let Some(order) = &self.order {
            check_permutation(order, self.n_frames)?;
        }
        if let Some(steps) = &self.md_steps {
            check_steps(steps, self.n_frames)?;
        }
        if let Some(dt) = self.timestep_fs {
            check_timestep(dt)?;
        }
        Ok(())
    }
}

fn invalid(reason: String) -> SplitError {
    SplitError::InvalidTimeOrder { reason }
}

fn check_permutation(order: &[usize], n_frames: usize) -> Result<()> {
    if order.len() != n_frames {
        return Err(invalid(format!(
            "order lists {} frames but n_frames is {n_frames}",
            order.len()
        )));
    }
    let mut seen = vec![false; n_frames];
    for (position, &frame) in order.iter().enumerate() {
        if frame >= n_frames {
            return Err(invalid(format!(
                "position {position} names frame {frame}, out of range for {n_frames} frames"
            )));
        }
        if std::mem::replace(&mut seen[frame], true) {
            return Err(invalid(format!(
                "frame {frame} appears twice (again at position {position})"
            )));
        }
    }
    Ok(())
}

fn check_steps(steps: &[u64], n_frames: usize) -> Result<()> {
    if steps.len() != n_frames {
        return Err(invalid(format!(
            "{} MD steps given for {n_frames} frames",
            steps.len()
        )));
    }
    if let Some(position) = steps.windows(2).position(|w| w[1] <= w[0]) {
        return Err(invalid(format!(
            "MD step {} at time position {} does not increase after {}",
            steps[position + 1],
            position + 1,
            steps[position]
        )));
    }
    Ok(())
}

fn check_timestep(dt: f64) -> Result<()> {
    if dt.is_finite() && dt > 0.0 {
        Ok(())
    } else {
        Err(SplitError::InvalidTimestep { value: dt })
    }
}

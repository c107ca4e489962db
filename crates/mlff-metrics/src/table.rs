//! Summary tables of scores, rendered as Markdown or CSV.

use crate::bootstrap::{ConfidenceInterval, ScoreIntervals};
use crate::error::{MetricsError, Result};
use crate::scores::Scores;
use crate::units::EnergyUnit;

/// A table of text cells with a header row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryTable {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// One row of a score table: a label, the scores and optional bootstrap intervals.
#[derive(Debug, Clone, Copy)]
pub struct ScoreRow<'a> {
    /// Row label (model, split, molecule…).
    pub label: &'a str,
    /// Scores (any unit; converted to the table's unit).
    pub scores: &'a Scores,
    /// Bootstrap intervals in the scores' unit, if computed.
    pub intervals: Option<&'a ScoreIntervals>,
}

impl SummaryTable {
    /// An empty table with these column headers.
    pub fn new(headers: Vec<String>) -> Self {
        Self {
            headers,
            rows: Vec::new(),
        }
    }

    /// Appends a row; it must have one cell per header.
    pub fn push_row(&mut self, cells: Vec<String>) -> Result<()> {
        if cells.len() != self.headers.len() {
            return Err(MetricsError::ShapeMismatch {
                what: format!("table row {}", self.rows.len()),
                expected: vec![self.headers.len()],
                got: vec![cells.len()],
            });
        }
        self.rows.push(cells);
        Ok(())
    }

    /// The standard score table in `unit`: per-atom energy MAE/RMSE, force MAE/RMSE,
    /// force-vector and magnitude errors, cosine similarity, and (if any row has them) 95%-style
    /// bootstrap intervals of the energy and force MAE.
    pub fn from_scores(unit: EnergyUnit, rows: &[ScoreRow<'_>]) -> Self {
        let (e, f) = (unit.symbol(), unit.force_symbol());
        let with_intervals = rows.iter().any(|r| r.intervals.is_some());
        let mut headers: Vec<String> = vec![
            "label".into(),
            "frames".into(),
            format!("E/atom MAE [{e}]"),
            format!("E/atom RMSE [{e}]"),
            format!("F MAE [{f}]"),
            format!("F RMSE [{f}]"),
            format!("|ΔF| mean [{f}]"),
            format!("||F|| MAE [{f}]"),
            "cos(F)".into(),
        ];
        if with_intervals {
            headers.push(format!("E/atom MAE CI [{e}]"));
            headers.push(format!("F MAE CI [{f}]"));
        }
        let mut table = Self::new(headers);
        for row in rows {
            let s = row.scores.in_unit(unit);
            let mut cells = vec![
                row.label.to_string(),
                s.n_frames.to_string(),
                significant(s.energy.per_atom_mae),
                significant(s.energy.per_atom_rmse),
                significant(s.forces.component_mae),
                significant(s.forces.component_rmse),
                significant(s.forces.vector_error_mean),
                significant(s.forces.magnitude_mae),
                s.forces
                    .cosine_similarity
                    .map_or("n/a".into(), |c| format!("{c:.6}")),
            ];
            if with_intervals {
                let k = row.scores.unit.factor_to(unit);
                match row.intervals.map(|i| i.scaled(k)) {
                    Some(i) => {
                        cells.push(interval(&i.energy_per_atom_mae));
                        cells.push(interval(&i.force_mae));
                    }
                    None => cells.extend(["".into(), "".into()]),
                }
            }
            table.rows.push(cells);
        }
        table
    }

    /// GitHub-flavoured Markdown (`|` in cells escaped).
    pub fn to_markdown(&self) -> String {
        let line = |cells: &[String]| {
            let escaped: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
            format!("| {} |\n", escaped.join(" | "))
        };
        let mut out = line(&self.headers);
        out.push_str(&format!("|{}\n", "---|".repeat(self.headers.len())));
        self.rows.iter().for_each(|r| out.push_str(&line(r)));
        out
    }

    /// RFC 4180 CSV (cells with commas, quotes or newlines are quoted).
    pub fn to_csv(&self) -> String {
        let line = |cells: &[String]| {
            let quoted: Vec<String> = cells
                .iter()
                .map(|c| {
                    if c.contains([',', '"', '\n', '\r']) {
                        format!("\"{}\"", c.replace('"', "\"\""))
                    } else {
                        c.clone()
                    }
                })
                .collect();
            format!("{}\n", quoted.join(","))
        };
        std::iter::once(&self.headers)
            .chain(&self.rows)
            .map(|r| line(r))
            .collect()
    }
}

fn interval(ci: &ConfidenceInterval) -> String {
    format!("[{}, {}]", significant(ci.lower), significant(ci.upper))
}

/// `value` with 4 significant digits, fixed-point (e.g. 0.04336, 8.200, 1234).
pub fn significant(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    let decimals = (3 - value.abs().log10().floor() as i32).max(0) as usize;
    format!("{value:.decimals$}")
}

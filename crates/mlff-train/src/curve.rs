//! The training curve on disk: a CSV with one row per epoch, appended as training goes, and an
//! SVG plot of losses and validation errors.

use crate::error::{Result, TrainError};
use crate::state::EpochRecord;
use plotters::prelude::*;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The CSV's columns.
pub const CSV_HEADER: [&str; 12] = [
    "epoch",
    "step",
    "lr",
    "wall_s",
    "training_loss",
    "training_e_mae",
    "training_f_mae",
    "validation_loss",
    "validation_e_mae",
    "validation_e_rmse",
    "validation_f_mae",
    "validation_f_rmse",
];

fn row(r: &EpochRecord) -> [String; 12] {
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:e}"));
    [
        r.epoch.to_string(),
        r.step.to_string(),
        format!("{:e}", r.lr),
        format!("{:.3}", r.wall_s),
        format!("{:e}", r.training_loss),
        opt(r.training.energy_per_atom_mae),
        opt(r.training.force_mae),
        format!("{:e}", r.validation_loss),
        opt(r.validation.energy_per_atom_mae),
        opt(r.validation.energy_per_atom_rmse),
        opt(r.validation.force_mae),
        opt(r.validation.force_rmse),
    ]
}

/// A CSV file the curve is appended to, one flushed row per epoch.
pub struct CurveCsv {
    path: PathBuf,
    file: File,
}

impl CurveCsv {
    /// Writes `rows` (the curve so far, e.g. from a resumed state) to `path` atomically and opens
    /// it for appending.
    pub fn create(path: &Path, rows: &[EpochRecord]) -> Result<Self> {
        let io = |source| TrainError::Io {
            file: path.to_path_buf(),
            source,
        };
        mlff_data::write_atomically(path, |file| {
            let mut w = csv::Writer::from_writer(file);
            let res = std::iter::once(CSV_HEADER.map(String::from))
                .chain(rows.iter().map(row))
                .try_for_each(|r| w.write_record(&r))
                .and_then(|()| w.flush().map_err(csv::Error::from));
            res.map_err(|e| mlff_data::DataError::Io {
                file: path.to_path_buf(),
                source: std::io::Error::other(e),
            })
        })?;
        let file = OpenOptions::new().append(true).open(path).map_err(io)?;
        Ok(CurveCsv {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Appends one epoch.
    pub fn append(&mut self, record: &EpochRecord) -> Result<()> {
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        w.write_record(row(record))
            .expect("writing to memory cannot fail");
        let bytes = w.into_inner().expect("writing to memory cannot fail");
        self.file
            .write_all(&bytes)
            .and_then(|()| self.file.flush())
            .map_err(|source| TrainError::Io {
                file: self.path.clone(),
                source,
            })
    }
}

/// Plots training/validation loss (top) and validation per-atom energy and force MAE (bottom)
/// against the epoch, both on log scales, as an SVG at `path`.
pub fn plot_curve(path: &Path, curve: &[EpochRecord]) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| TrainError::Plot {
        file: path.to_path_buf(),
        reason: e.to_string(),
    };
    let root = SVGBackend::new(path, (900, 700)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let (top, bottom) = root.split_vertically(350);
    let losses = [
        ("training loss", series(curve, |r| Some(r.training_loss))),
        (
            "validation loss",
            series(curve, |r| Some(r.validation_loss)),
        ),
    ];
    let errors = [
        (
            "validation E MAE / atom",
            series(curve, |r| r.validation.energy_per_atom_mae),
        ),
        (
            "validation F MAE",
            series(curve, |r| r.validation.force_mae),
        ),
    ];
    panel(&top, "loss", &losses).map_err(|e| err(&e))?;
    panel(&bottom, "validation MAE", &errors).map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

/// The positive values of one quantity as (epoch, value) points (log axes drop the rest).
fn series(curve: &[EpochRecord], value: impl Fn(&EpochRecord) -> Option<f64>) -> Vec<(f64, f64)> {
    curve
        .iter()
        .filter_map(|r| value(r).map(|v| (r.epoch as f64, v)))
        .filter(|&(_, v)| v > 0.0 && v.is_finite())
        .collect()
}

type PanelResult = std::result::Result<(), DrawingAreaErrorKind<std::io::Error>>;

fn panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    y_label: &str,
    lines: &[(&str, Vec<(f64, f64)>)],
) -> PanelResult {
    let points = lines.iter().flat_map(|(_, s)| s.iter());
    let (mut x_max, mut y_min, mut y_max) = (1.0f64, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in points {
        x_max = x_max.max(x);
        y_min = y_min.min(y);
        y_max = y_max.max(y);
    }
    if !y_min.is_finite() {
        (y_min, y_max) = (1.0, 10.0);
    }
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max.max(1.0), (y_min * 0.8..y_max * 1.25).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_label)
        .y_label_formatter(&|v| format!("{v:.1e}"))
        .draw()?;
    for (i, (name, points)) in lines.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))?
            .label(*name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

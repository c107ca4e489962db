//! The report: per experiment a table, figures and data-driven findings, assembled into
//! `report.md` and a self-contained `report.html` (figures inlined as SVG), plus per-experiment
//! JSON and CSV files.

use anyhow::Result;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::grid::{CellSpec, ExperimentKey};
use crate::plots::{self, Figure};
use crate::store::{CellFailure, CellResult, Manifest, RunDir, write_text};

/// A table kept as cells, rendered as Markdown, HTML or CSV.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// Column names.
    pub header: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with `header` and `rows`.
    pub fn new(header: &[&str], rows: Vec<Vec<String>>) -> Self {
        Self {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows,
        }
    }

    /// GitHub Markdown.
    pub fn markdown(&self) -> String {
        let mut out = format!("| {} |\n|", self.header.join(" | "));
        out.push_str(&"---|".repeat(self.header.len()));
        out.push('\n');
        for row in &self.rows {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        out
    }

    /// CSV with a header line (commas inside cells become semicolons).
    pub fn csv(&self) -> String {
        let line = |cells: &[String]| {
            cells
                .iter()
                .map(|c| c.replace(',', ";"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut out = line(&self.header) + "\n";
        for row in &self.rows {
            out.push_str(&line(row));
            out.push('\n');
        }
        out
    }

    /// An HTML `<table>`.
    pub fn html(&self) -> String {
        let mut out = String::from("<table>\n<tr>");
        for h in &self.header {
            let _ = write!(out, "<th>{}</th>", escape(h));
        }
        out.push_str("</tr>\n");
        for row in &self.rows {
            out.push_str("<tr>");
            for c in row {
                let _ = write!(out, "<td>{}</td>", escape(c));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
        out
    }
}

/// One experiment's part of the report.
#[derive(Debug, Clone)]
pub struct Section {
    /// Which experiment.
    pub experiment: ExperimentKey,
    /// Its table.
    pub table: Table,
    /// Figures.
    pub figures: Vec<Figure>,
    /// Data-driven sentences.
    pub findings: Vec<String>,
}

impl Section {
    /// An empty section.
    pub fn new(experiment: ExperimentKey) -> Self {
        Self {
            experiment,
            table: Table::default(),
            figures: Vec::new(),
            findings: Vec::new(),
        }
    }
}

/// A number with four significant digits (`n/a` when not finite).
pub fn fmt(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".into();
    }
    let digits = (3 - value.abs().max(1e-12).log10().floor() as i32).clamp(0, 8) as usize;
    format!("{value:.digits$}")
}

/// HTML-escapes text.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn of_experiment(results: &[CellResult], experiment: ExperimentKey) -> Vec<&CellResult> {
    results
        .iter()
        .filter(|r| r.spec.experiment().measures(experiment))
        .collect()
}

/// Every section, from the finished cells.
pub fn sections(results: &[CellResult]) -> Result<Vec<Section>> {
    crate::experiment::all()
        .iter()
        .map(|e| e.section(&of_experiment(results, e.key())))
        .collect()
}

/// Writes per-experiment JSON/CSV, figures, `report.md` and `report.html`.
pub fn write(run: &RunDir, manifest: &Manifest, results: &[CellResult]) -> Result<()> {
    let sections = sections(results)?;
    let figures_dir = run.root().join("figures");
    for section in &sections {
        let key = section.experiment.key();
        let cells: Vec<&CellResult> = results
            .iter()
            .filter(|r| r.spec.experiment() == section.experiment)
            .collect();
        write_text(&run.root().join(format!("{key}.csv")), &section.table.csv())?;
        let json = serde_json::json!({
            "experiment": section.experiment,
            "findings": section.findings,
            "table": { "header": section.table.header, "rows": section.table.rows },
            "cells": cells,
        });
        write_text(
            &run.root().join(format!("{key}.json")),
            &serde_json::to_string_pretty(&json)?,
        )?;
        for figure in &section.figures {
            plots::save(figure, &figures_dir)?;
        }
    }
    let failures = run.failures(manifest);
    let context = ReportContext::new(manifest, results, &failures);
    write_text(
        &run.root().join("report.md"),
        &markdown(&context, &sections),
    )?;
    write_text(&run.root().join("report.html"), &html(&context, &sections))?;
    Ok(())
}

/// What the report says about the run as a whole.
struct ReportContext {
    title: String,
    facts: Vec<String>,
    /// Every hyper-parameter the cells' models were built and trained with.
    hyper_parameters: Table,
    /// Per cell: how training went and why it stopped.
    training: Table,
    /// Cells that failed, and why.
    failures: Table,
}

/// `value` flattened into dotted keys (`model.num_layers`), scalars and arrays as JSON text.
fn flatten(prefix: &str, value: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        serde_json::Value::String(text) => {
            out.insert(prefix.to_string(), text.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// One row per hyper-parameter: its value, or how it varies over the cells (types and
/// training-set statistics differ per molecule and training set).
fn hyper_parameter_table(results: &[CellResult]) -> Table {
    let mut values: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for r in results {
        let mut flat = BTreeMap::new();
        flatten("", &r.hyper_parameters, &mut flat);
        for (k, v) in flat {
            *values.entry(k).or_default().entry(v).or_default() += 1;
        }
    }
    let rows = values
        .into_iter()
        .map(|(key, seen)| {
            let text = match seen.len() {
                1 => seen.into_keys().next().unwrap_or_default(),
                2..=3 => seen
                    .iter()
                    .map(|(v, n)| format!("{v} ({n} cells)"))
                    .collect::<Vec<_>>()
                    .join("; "),
                k => format!("varies per cell ({k} values; see cells/<id>.json)"),
            };
            vec![key, text]
        })
        .collect();
    Table::new(&["hyper-parameter", "value"], rows)
}

/// Per cell: training frames, optimiser steps, wall time and why training stopped.
fn training_table(results: &[CellResult]) -> Table {
    let field = |r: &CellResult, key: &str| match r.training.get(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => "—".into(),
        Some(serde_json::Value::Number(n)) => n
            .as_f64()
            .filter(|x| x.fract() != 0.0)
            .map_or_else(|| n.to_string(), fmt),
        Some(v) => v.to_string(),
    };
    let rows = results
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                r.train_frames.to_string(),
                field(r, "steps"),
                field(r, "epochs"),
                field(r, "train_wall_s"),
                field(r, "converged"),
                field(r, "stop"),
            ]
        })
        .collect();
    Table::new(
        &[
            "cell",
            "training frames",
            "steps",
            "epochs",
            "training s",
            "converged",
            "why training stopped",
        ],
        rows,
    )
}

impl ReportContext {
    fn new(manifest: &Manifest, results: &[CellResult], failures: &[CellFailure]) -> Self {
        let mut data: Vec<String> = results
            .iter()
            .flat_map(|r| &r.data)
            .map(|d| {
                let spacing = match d.frame_spacing_fs {
                    Some(dt) => {
                        format!("{dt} fs between time indices ({})", d.frame_spacing_source)
                    }
                    None => "frame spacing unknown".into(),
                };
                format!(
                    "{} — {} ({} frames, {} atoms; {spacing}; level of theory: {}; SHA-256 {}…)",
                    d.molecule,
                    d.file.display(),
                    d.frames,
                    d.atoms,
                    d.theory,
                    &d.sha256[..12.min(d.sha256.len())]
                )
            })
            .collect();
        data.sort();
        data.dedup();
        let source = if manifest.data.generated {
            "the embedded default: UFF molecular dynamics at 500 K generated by `cargo xtask \
             gen-data` (a classical force field, not DFT — the effects are those of MD time \
             series, the absolute errors are not comparable with rMD17's)"
                .to_string()
        } else {
            format!("files from {}", manifest.data.dir.display())
        };
        let model = results.first().map(|r| {
            let said = |v: bool| {
                results
                    .iter()
                    .filter(|r| r.training.get("converged") == Some(&serde_json::Value::Bool(v)))
                    .count()
            };
            let (yes, no) = (said(true), said(false));
            let unknown = results.len() - yes - no;
            let mut text = format!(
                "{}; training converged in {yes} of {} cells",
                r.model,
                results.len()
            );
            if unknown > 0 {
                // External trainers may not say (their training.json has no `converged`).
                text.push_str(&format!(
                    " ({unknown} did not report whether they converged)"
                ));
            }
            text + " (tables below)"
        });
        let version = results.first().map(|r| r.code_version.clone());
        let mut facts = vec![
            format!("Data: {source}."),
            format!(
                "Cells finished: {} of {} (preset `{:?}`, seeds {:?}).",
                results.len(),
                manifest.cells.len(),
                manifest.plan.preset,
                manifest.plan.seeds
            ),
            format!(
                "Errors are force-component MAE in kcal/mol/Å; the time-holdout test set is the \
                 last {:.0}% of each trajectory; i.i.d. test frames are drawn at random from the \
                 frames before it.",
                manifest.plan.test_fraction * 100.0
            ),
        ];
        facts.extend(model.map(|m| format!("Model: {m}.")));
        facts.extend(version.map(|v| format!("Code version: {v}.")));
        facts.extend(data.into_iter().map(|d| format!("Data file: {d}.")));
        let missing = manifest.cells.len() - results.len();
        if missing > 0 {
            facts.push(format!(
                "{missing} cells have no result yet ({} of them failed: see \"Failed cells\"); the \
                 tables show what is finished.",
                failures.len()
            ));
        }
        let _ = CellSpec::experiment;
        Self {
            title: format!("mlffbench reproduction — run `{}`", manifest.name),
            facts,
            hyper_parameters: hyper_parameter_table(results),
            training: training_table(results),
            failures: Table::new(
                &["cell", "error (full text in cells/<id>.failed.json)"],
                failures
                    .iter()
                    .map(|f| {
                        let mut text: String = f.error.chars().take(600).collect();
                        if text.len() < f.error.len() {
                            text.push('…');
                        }
                        vec![f.id.clone(), text]
                    })
                    .collect(),
            ),
        }
    }
}

impl ReportContext {
    /// The run-wide tables with their headings.
    fn tables(&self) -> Vec<(&'static str, &Table)> {
        let mut tables = vec![
            ("Model hyper-parameters", &self.hyper_parameters),
            ("Training of each cell", &self.training),
        ];
        if !self.failures.rows.is_empty() {
            tables.push(("Failed cells", &self.failures));
        }
        tables
    }
}

fn markdown(context: &ReportContext, sections: &[Section]) -> String {
    let mut out = format!("# {}\n\n", context.title);
    for fact in &context.facts {
        let _ = writeln!(out, "- {fact}");
    }
    out.push_str("\n## Summary\n\n");
    for finding in sections.iter().filter_map(|s| s.findings.first()) {
        let _ = writeln!(out, "- {finding}");
    }
    for (title, table) in context.tables() {
        let _ = writeln!(out, "\n## {title}\n");
        out.push_str(&table.markdown());
    }
    for section in sections {
        let _ = writeln!(out, "\n## {}\n", section.experiment.title());
        if section.table.rows.is_empty() {
            out.push_str("No finished cells.\n");
            continue;
        }
        out.push_str(&section.table.markdown());
        for figure in &section.figures {
            let _ = writeln!(
                out,
                "\n![{}](figures/{}.svg)\n",
                figure.caption, figure.name
            );
        }
        for finding in &section.findings {
            let _ = writeln!(out, "- {finding}");
        }
    }
    out
}

const STYLE: &str = "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;\
color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;\
padding:.25em .6em;text-align:left}th{background:#eef}figure{margin:1em 0}\
figcaption{font-size:.9em;color:#555}svg{max-width:100%;height:auto}";

fn html(context: &ReportContext, sections: &[Section]) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n<ul>\n",
        escape(&context.title),
        escape(&context.title)
    );
    for fact in &context.facts {
        let _ = writeln!(out, "<li>{}</li>", escape(fact));
    }
    out.push_str("</ul>\n<h2>Summary</h2>\n<ul>\n");
    for finding in sections.iter().filter_map(|s| s.findings.first()) {
        let _ = writeln!(out, "<li>{}</li>", escape(finding));
    }
    out.push_str("</ul>\n");
    for (title, table) in context.tables() {
        let _ = writeln!(out, "<h2>{}</h2>", escape(title));
        out.push_str(&table.html());
    }
    for section in sections {
        let _ = writeln!(
            out,
            "<section id=\"{}\">\n<h2>{}</h2>",
            section.experiment.key(),
            escape(section.experiment.title())
        );
        if section.table.rows.is_empty() {
            out.push_str("<p>No finished cells.</p>\n</section>\n");
            continue;
        }
        out.push_str(&section.table.html());
        for figure in &section.figures {
            // The SVG document minus its XML prolog, inline, so the file is self-contained.
            let svg = figure.svg.trim_start_matches(|c| c != '<');
            let svg = match svg.strip_prefix("<?xml") {
                Some(rest) => rest.split_once("?>").map(|(_, s)| s).unwrap_or(rest),
                None => svg,
            };
            let _ = writeln!(
                out,
                "<figure>{}<figcaption>{}</figcaption></figure>",
                svg.trim(),
                escape(&figure.caption)
            );
        }
        out.push_str("<ul>\n");
        for finding in &section.findings {
            let _ = writeln!(out, "<li>{}</li>", escape(finding));
        }
        out.push_str("</ul>\n</section>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

//! External models: any MLFF that runs in another process, described by a *model card*.
//!
//! Per cell the benchmark writes the training and validation frames as extended XYZ (eV, Å:
//! what ASE, nequip, MACE and most trainers read) with their frame indices as JSON, and runs
//! the card's **training command**. It then starts the card's **serving command** once per
//! molecule; that process builds its calculator from the trained files and connects back over
//! the i-PI socket protocol (ASE's `SocketClient`, i-PI, LAMMPS `fix ipi`), and every test-set
//! evaluation and MD step of the cell goes through the socket.
//!
//! ```yaml
//! name: my-mace
//! train: mace_run_train --train_file={train} --valid_file={validation} --seed={seed} ...
//! serve: python serve_mace.py --model {model_dir}/model.model --template {template} --unixsocket {unixsocket}
//! ```
//!
//! A card without `train` serves a pretrained model unchanged in every cell. Commands are a
//! string (run by `sh -c`, placeholders shell-quoted) or a list (run directly). Placeholders:
//! [`TRAIN_PLACEHOLDERS`] and [`SERVE_PLACEHOLDERS`]; any other `{word}` is an error when the
//! card is read, so a typo never reaches a cell.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use mlff_data::{Dataset, OutputFormat, Species, Units};
use mlff_ipi::{Address, Driver, IpiError, Listener};
use mlff_md::{MdError, Potential, Vec3};
use mlff_units::{EnergyUnit, LengthUnit};
use serde::{Deserialize, Serialize};

use crate::model::{FittedModel, ModelFactory, Predictions, TrainingContext};

/// Placeholders of the training command.
pub const TRAIN_PLACEHOLDERS: [&str; 7] = [
    "train",
    "validation",
    "frames",
    "model_dir",
    "seed",
    "cell",
    "card_dir",
];
/// Placeholders of the serving command.
pub const SERVE_PLACEHOLDERS: [&str; 8] = [
    "model_dir",
    "template",
    "unixsocket",
    "socket_path",
    "host",
    "port",
    "cell",
    "card_dir",
];

/// Errors of external models.
#[derive(Debug, thiserror::Error)]
pub enum ExternalError {
    /// The card cannot be read or is invalid.
    #[error("model card {path}: {reason}")]
    Card {
        /// The card.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A command could not be started.
    #[error("cannot start the {which} command `{command}`: {source}")]
    Spawn {
        /// `training` or `serving`.
        which: &'static str,
        /// The command.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The training command failed or ran out of time.
    #[error("the training command {outcome}; last lines of {log}:\n{tail}")]
    Training {
        /// How it ended.
        outcome: String,
        /// Its log file.
        log: PathBuf,
        /// The log's last lines.
        tail: String,
    },
    /// The serving process or its socket failed.
    #[error("{molecule}: {source}{context}")]
    Serving {
        /// Which molecule's server.
        molecule: String,
        /// The socket's error.
        #[source]
        source: IpiError,
        /// The server's state and log tail.
        context: String,
    },
    /// A file could not be written.
    #[error("writing {path}: {reason}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The data cannot be served (frames with varying species).
    #[error("{0}")]
    Data(String),
}

/// A command: a shell line or an argument list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CommandLine {
    /// Run by `sh -c`; substituted values are shell-quoted.
    Shell(String),
    /// Run directly; substituted values are passed as they are.
    Argv(Vec<String>),
}

/// How the serving process connects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SocketKind {
    /// A Unix-domain socket `/tmp/ipi_<name>` (ASE: `SocketClient(unixsocket=name)`).
    #[default]
    Unix,
    /// TCP on 127.0.0.1 (ASE: `SocketClient(host=host, port=port)`).
    Tcp,
}

/// A model card: how to train and serve an external model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalCard {
    /// The model's name in results.
    pub name: String,
    /// The training command (absent: a pretrained model, served unchanged in every cell).
    #[serde(default)]
    pub train: Option<CommandLine>,
    /// The serving command: starts a client that connects to the socket.
    pub serve: CommandLine,
    /// Where the commands run (relative to the card; default: the card's directory).
    #[serde(default)]
    pub workdir: Option<PathBuf>,
    /// Unix socket (default) or TCP on loopback.
    #[serde(default)]
    pub socket: SocketKind,
    /// Seconds the serving process may take to connect (loading a model can be slow).
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_s: f64,
    /// Seconds one evaluation may take before the server counts as hung.
    #[serde(default = "default_evaluation_timeout")]
    pub evaluation_timeout_s: f64,
    /// Seconds the training command may run (default: no limit).
    #[serde(default)]
    pub train_timeout_s: Option<f64>,
    /// Extra environment variables of both commands.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The card's directory (set when the card is read).
    #[serde(default)]
    pub card_dir: PathBuf,
}

fn default_connect_timeout() -> f64 {
    600.0
}

fn default_evaluation_timeout() -> f64 {
    600.0
}

impl ExternalCard {
    /// Reads a card (YAML, TOML or JSON by extension; YAML otherwise) and checks it.
    pub fn load(path: &Path) -> Result<Self, ExternalError> {
        let card_error = |reason: String| ExternalError::Card {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| card_error(e.to_string()))?;
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let mut card: ExternalCard = match ext {
            "toml" => toml::from_str(&text).map_err(|e| card_error(e.to_string()))?,
            "json" => serde_json::from_str(&text).map_err(|e| card_error(e.to_string()))?,
            _ => serde_yaml::from_str(&text).map_err(|e| card_error(e.to_string()))?,
        };
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        card.card_dir = std::fs::canonicalize(dir).map_err(|e| card_error(e.to_string()))?;
        card.check().map_err(card_error)?;
        Ok(card)
    }

    /// Checks names, timeouts and placeholders.
    pub fn check(&self) -> Result<(), String> {
        if self.name.trim().is_empty() || self.name.contains(['/', '\\']) {
            return Err(format!(
                "`name: {}` must be a non-empty name without slashes",
                self.name
            ));
        }
        for (what, v) in [
            ("connect_timeout_s", Some(self.connect_timeout_s)),
            ("evaluation_timeout_s", Some(self.evaluation_timeout_s)),
            ("train_timeout_s", self.train_timeout_s),
        ] {
            if let Some(v) = v
                && !(v.is_finite() && v > 0.0)
            {
                return Err(format!(
                    "`{what}: {v}` must be a positive number of seconds"
                ));
            }
        }
        if let Some(train) = &self.train {
            check_placeholders("train", train, &TRAIN_PLACEHOLDERS)?;
        }
        check_placeholders("serve", &self.serve, &SERVE_PLACEHOLDERS)?;
        if let Some(dir) = &self.workdir
            && !self.card_dir.join(dir).is_dir()
        {
            return Err(format!(
                "`workdir: {}` is not a directory (relative paths start at the card's directory)",
                dir.display()
            ));
        }
        Ok(())
    }

    fn workdir(&self) -> PathBuf {
        match &self.workdir {
            Some(dir) => self.card_dir.join(dir),
            None => self.card_dir.clone(),
        }
    }

    /// The process for `command` with `values` substituted, run in the card's workdir.
    fn process(&self, command: &CommandLine, values: &BTreeMap<&str, String>) -> Process {
        let mut process = match command {
            CommandLine::Shell(line) => {
                let mut p = Process::new("sh");
                p.arg("-c").arg(substitute(line, values, shell_quote));
                p
            }
            CommandLine::Argv(args) => {
                let args: Vec<String> = args
                    .iter()
                    .map(|a| substitute(a, values, str::to_owned))
                    .collect();
                let mut p = Process::new(args.first().map_or("", String::as_str));
                p.args(&args[1.min(args.len())..]);
                p
            }
        };
        process
            .current_dir(self.workdir())
            .envs(&self.env)
            .stdin(Stdio::null());
        process
    }
}

/// Every `{word}` of `text`.
fn placeholders(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        // `${NAME}` is the shell's, not ours.
        if rest[..open].ends_with('$') {
            rest = after;
            continue;
        }
        match after.find('}') {
            Some(close)
                if !after[..close].is_empty()
                    && after[..close]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                found.push(&after[..close]);
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    found
}

fn check_placeholders(key: &str, command: &CommandLine, known: &[&str]) -> Result<(), String> {
    let parts: Vec<&str> = match command {
        CommandLine::Shell(line) => vec![line.as_str()],
        CommandLine::Argv(args) if args.is_empty() => {
            return Err(format!("`{key}` is an empty list"));
        }
        CommandLine::Argv(args) => args.iter().map(String::as_str).collect(),
    };
    if parts.iter().all(|p| p.trim().is_empty()) {
        return Err(format!("`{key}` is empty"));
    }
    for word in parts.iter().flat_map(|p| placeholders(p)) {
        if !known.contains(&word) {
            let close = known
                .iter()
                .map(|k| (strsim::levenshtein(k, word), *k))
                .min()
                .filter(|(d, _)| *d <= 3)
                .map(|(_, k)| format!(" (did you mean {{{k}}}?)"))
                .unwrap_or_default();
            return Err(format!(
                "`{key}` uses the unknown placeholder {{{word}}}{close}; known: {}",
                known
                    .iter()
                    .map(|k| format!("{{{k}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    Ok(())
}

fn substitute(
    text: &str,
    values: &BTreeMap<&str, String>,
    quote: impl Fn(&str) -> String,
) -> String {
    let mut out = text.to_owned();
    for (key, value) in values {
        out = out.replace(&format!("{{{key}}}"), &quote(value));
    }
    out
}

fn shell_quote(value: &str) -> String {
    if !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c))
    {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// The last `n` lines of a log file (empty when unreadable).
fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Lines of a failed command's log kept in errors and cell records.
const TAIL_LINES: usize = 20;

fn log_file(path: &Path) -> Result<(Stdio, Stdio), ExternalError> {
    let write_error = |e: std::io::Error| ExternalError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let file = std::fs::File::create(path).map_err(write_error)?;
    let err = file.try_clone().map_err(write_error)?;
    Ok((Stdio::from(file), Stdio::from(err)))
}

/// Writes `sets` one after another as extended XYZ in eV and Å.
fn write_frames(path: &Path, sets: &[Dataset]) -> Result<(), ExternalError> {
    let write_error = |reason: String| ExternalError::Write {
        path: path.to_path_buf(),
        reason,
    };
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path).map_err(|e| write_error(e.to_string()))?,
    );
    for set in sets {
        mlff_data::format::write_extxyz(&set.converted(Units::EV_ANGSTROM), &mut out)
            .map_err(|e| write_error(e.to_string()))?;
    }
    out.flush().map_err(|e| write_error(e.to_string()))
}

/// Trains and serves models described by an [`ExternalCard`].
pub struct ExternalFactory {
    card: ExternalCard,
}

impl ExternalFactory {
    /// The factory of `card`.
    pub fn new(card: ExternalCard) -> Self {
        Self { card }
    }
}

impl ModelFactory for ExternalFactory {
    fn name(&self) -> String {
        self.card.name.clone()
    }

    fn train(
        &self,
        train: &[Dataset],
        validation: &[Dataset],
        context: &TrainingContext<'_>,
    ) -> anyhow::Result<Box<dyn FittedModel>> {
        let dir = context.workdir;
        let model_dir = dir.join("model");
        std::fs::create_dir_all(&model_dir)
            .with_context(|| format!("creating {}", model_dir.display()))?;
        let start = Instant::now();
        let mut summary = serde_json::Map::new();
        if let Some(command) = &self.card.train {
            let train_path = dir.join("train.extxyz");
            let validation_path = dir.join("validation.extxyz");
            let frames_path = dir.join("frames.json");
            write_frames(&train_path, train)?;
            write_frames(&validation_path, validation)?;
            let frames = serde_json::json!({
                "train": context.train_frames,
                "validation": context.validation_frames,
                "units": {"energy": "eV", "length": "Å", "forces": "eV/Å"},
            });
            std::fs::write(&frames_path, serde_json::to_string_pretty(&frames)?)
                .with_context(|| format!("writing {}", frames_path.display()))?;
            let values = BTreeMap::from([
                ("train", display(&train_path)),
                ("validation", display(&validation_path)),
                ("frames", display(&frames_path)),
                ("model_dir", display(&model_dir)),
                ("seed", context.seed.to_string()),
                ("cell", context.cell.to_owned()),
                ("card_dir", display(&self.card.card_dir)),
            ]);
            let log = dir.join("train.log");
            let status = run_to_end(
                self.card.process(command, &values),
                &log,
                self.card.train_timeout_s.map(Duration::from_secs_f64),
                format!("{command:?}"),
            )?;
            summary.insert("log".into(), display(&log).into());
            summary.insert("exit".into(), status.to_string().into());
        }
        (context.progress)(1.0);
        let seconds = start.elapsed().as_secs_f64();
        summary.insert("training_seconds".into(), seconds.into());
        // Only the training command knows whether it converged; it may say so in
        // `{model_dir}/training.json` (any JSON object, merged into the cell's record).
        let reported = std::fs::read_to_string(model_dir.join("training.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v.as_object().cloned());
        match reported {
            Some(fields) => summary.extend(fields),
            None => {
                summary.insert(
                    "stop".into(),
                    match &self.card.train {
                        Some(_) => "the training command exited 0 (it wrote no training.json)",
                        None => "pretrained (the card has no training command)",
                    }
                    .into(),
                );
            }
        }
        Ok(Box::new(ExternalModel {
            card: self.card.clone(),
            model_dir,
            workdir: dir.to_path_buf(),
            cell: context.cell.to_owned(),
            summary: summary.into(),
            servers: Mutex::new(BTreeMap::new()),
        }))
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// A model already trained into `model_dir`, served by `card`'s serving command (its training
/// command is not run); templates and server logs go to `workdir`. What `score` and
/// `potential` use to evaluate an external model outside a benchmark run.
pub fn served(card: ExternalCard, model_dir: &Path, workdir: &Path) -> Box<dyn FittedModel> {
    Box::new(ExternalModel {
        summary: serde_json::json!({"stop": "served from an existing model directory"}),
        card,
        model_dir: model_dir.to_path_buf(),
        workdir: workdir.to_path_buf(),
        cell: String::new(),
        servers: Mutex::new(BTreeMap::new()),
    })
}

/// Runs `process` with its output in `log` until it exits or `timeout` passes (then kills it).
fn run_to_end(
    mut process: Process,
    log: &Path,
    timeout: Option<Duration>,
    command: String,
) -> Result<ExitStatus, ExternalError> {
    let (out, err) = log_file(log)?;
    let mut child =
        process
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|source| ExternalError::Spawn {
                which: "training",
                command,
                source,
            })?;
    let start = Instant::now();
    let failed = |outcome: String| ExternalError::Training {
        outcome,
        log: log.to_path_buf(),
        tail: tail(log, TAIL_LINES),
    };
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(status),
            Ok(Some(status)) => return Err(failed(format!("failed ({status})"))),
            Ok(None) => {}
            Err(e) => return Err(failed(format!("could not be waited for ({e})"))),
        }
        if let Some(limit) = timeout
            && start.elapsed() > limit
        {
            let _ = child.kill();
            let _ = child.wait();
            return Err(failed(format!(
                "ran past train_timeout_s = {} s and was stopped",
                limit.as_secs_f64()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A trained external model: its files, and one serving process per molecule.
struct ExternalModel {
    card: ExternalCard,
    model_dir: PathBuf,
    workdir: PathBuf,
    cell: String,
    summary: serde_json::Value,
    servers: Mutex<BTreeMap<Vec<u8>, Server>>,
}

/// One serving process and its connection.
struct Server {
    child: Child,
    driver: Option<Driver>,
    log: PathBuf,
    /// Kept alive: dropping it removes the Unix socket file.
    _listener: Listener,
    /// Set once an evaluation failed: the connection's state is unknown, so it is not reused.
    broken: bool,
}

impl Server {
    /// The server's state and log tail, for errors.
    fn context(&mut self) -> String {
        // A process that closed its socket by exiting may not be reaped yet: give it a moment.
        let start = Instant::now();
        while matches!(self.child.try_wait(), Ok(None))
            && start.elapsed() < Duration::from_millis(300)
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        let state = match self.child.try_wait() {
            Ok(Some(status)) => format!("the serving process exited ({status})"),
            _ => "the serving process is still running".to_owned(),
        };
        format!(
            "\n{state}; last lines of {}:\n{}",
            self.log.display(),
            tail(&self.log, TAIL_LINES)
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let Some(driver) = self.driver.take() else {
            // Never connected: nothing to ask politely.
            let _ = self.child.kill();
            let _ = self.child.wait();
            return;
        };
        driver.exit();
        // A client that does not leave on EXIT within a few seconds is stopped.
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Unique socket names within this process.
static SOCKETS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn formula(species: &[u8]) -> String {
    let mut counts = BTreeMap::new();
    for &z in species {
        *counts.entry(z).or_insert(0usize) += 1;
    }
    counts
        .iter()
        .map(|(z, n)| {
            let symbol = mlff_data::elements::symbol(*z).unwrap_or("X");
            if *n == 1 {
                symbol.to_owned()
            } else {
                format!("{symbol}{n}")
            }
        })
        .collect()
}

impl ExternalModel {
    /// Starts the serving process for molecules with `species`, with `positions` (Å) as the
    /// template it reads its atoms from.
    fn start(&self, species: &[u8], positions: &[Vec3]) -> Result<Server, ExternalError> {
        let name = formula(species);
        let template = self.workdir.join(format!("template-{name}.extxyz"));
        let data = Dataset::new(mlff_data::DatasetParts {
            species: Species::Fixed(ndarray::Array1::from(species.to_vec())),
            positions: ndarray::Array3::from_shape_fn((1, positions.len(), 3), |(_, a, k)| {
                positions[a][k]
            }),
            energies: None,
            forces: None,
            time_order: mlff_data::TimeOrder::Sequential,
            units: Units::EV_ANGSTROM,
            provenance: mlff_data::Provenance::default(),
        })
        .map_err(|e| ExternalError::Data(e.to_string()))?;
        mlff_data::save(&data, &template, OutputFormat::ExtXyz).map_err(|e| {
            ExternalError::Write {
                path: template.clone(),
                reason: e.to_string(),
            }
        })?;
        let unique = format!(
            "mlffbench-{}-{}",
            std::process::id(),
            SOCKETS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let address = match self.card.socket {
            SocketKind::Unix => Address::ase_unix(&unique),
            SocketKind::Tcp => Address::Tcp(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
        };
        let serving = |source: IpiError, context: String| ExternalError::Serving {
            molecule: name.clone(),
            source,
            context,
        };
        let listener = Listener::bind(&address).map_err(|e| serving(e, String::new()))?;
        let (socket_path, host, port) = match listener.address() {
            Address::Unix(path) => (display(path), String::new(), String::new()),
            Address::Tcp(addr) => (
                String::new(),
                addr.ip().to_string(),
                addr.port().to_string(),
            ),
        };
        let values = BTreeMap::from([
            ("model_dir", display(&self.model_dir)),
            ("template", display(&template)),
            ("unixsocket", unique.clone()),
            ("socket_path", socket_path),
            ("host", host),
            ("port", port),
            ("cell", self.cell.clone()),
            ("card_dir", display(&self.card.card_dir)),
        ]);
        let log = self.workdir.join(format!("serve-{name}.log"));
        let (out, err) = log_file(&log)?;
        let mut child = self
            .card
            .process(&self.card.serve, &values)
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|source| ExternalError::Spawn {
                which: "serving",
                command: format!("{:?}", self.card.serve),
                source,
            })?;
        let mut alive = || match child.try_wait() {
            Ok(Some(status)) => Err(format!(
                "{status}; last lines of {}:\n{}",
                log.display(),
                tail(&log, TAIL_LINES)
            )),
            _ => Ok(()),
        };
        let accepted = listener.accept(
            Duration::from_secs_f64(self.card.connect_timeout_s),
            Duration::from_secs_f64(self.card.evaluation_timeout_s),
            &mut alive,
        );
        let mut server = Server {
            child,
            driver: None,
            log,
            _listener: listener,
            broken: false,
        };
        match accepted {
            Ok(driver) => {
                server.driver = Some(driver);
                Ok(server)
            }
            Err(e @ IpiError::ClientExited { .. }) => Err(serving(e, String::new())),
            Err(e) => {
                let context = server.context();
                Err(serving(e, context))
            }
        }
    }

    /// Energy (eV) and forces (eV/Å) of `positions` (Å) of a molecule with `species`.
    fn evaluate(
        &self,
        species: &[u8],
        positions: &[Vec3],
    ) -> Result<mlff_ipi::Evaluation, ExternalError> {
        let mut servers = self
            .servers
            .lock()
            .map_err(|_| ExternalError::Data("the server table was poisoned".into()))?;
        if !servers.contains_key(species) {
            let server = self.start(species, positions)?;
            servers.insert(species.to_vec(), server);
        }
        let server = servers
            .get_mut(species)
            .ok_or_else(|| ExternalError::Data("server missing".into()))?;
        let molecule = formula(species);
        let Some(driver) = server.driver.as_mut().filter(|_| !server.broken) else {
            return Err(ExternalError::Data(format!(
                "{molecule}: the serving process failed earlier in this cell"
            )));
        };
        match driver.evaluate(positions, None) {
            Ok(evaluation) => Ok(evaluation),
            Err(source) => {
                server.broken = true;
                let context = server.context();
                Err(ExternalError::Serving {
                    molecule,
                    source,
                    context,
                })
            }
        }
    }
}

impl FittedModel for ExternalModel {
    fn predict(&self, data: &Dataset) -> anyhow::Result<Predictions> {
        let Species::Fixed(z) = data.species().clone().simplified() else {
            return Err(ExternalError::Data(
                "an external model is served per molecule: the frames' species must not vary"
                    .into(),
            )
            .into());
        };
        let z = z.to_vec();
        let units = data.units();
        let to_angstrom = units.length.factor_to(LengthUnit::Angstrom);
        let energy_factor = EnergyUnit::ElectronVolt.factor_to(units.energy);
        let force_factor = energy_factor * to_angstrom;
        let n = data.n_atoms();
        let mut energies = Vec::with_capacity(data.len());
        let mut forces = Vec::with_capacity(data.len() * n * 3);
        for frame in data.frames() {
            let positions: Vec<Vec3> = frame
                .positions
                .rows()
                .into_iter()
                .map(|r| [r[0] * to_angstrom, r[1] * to_angstrom, r[2] * to_angstrom])
                .collect();
            let e = self.evaluate(&z, &positions)?;
            energies.push(e.energy * energy_factor);
            forces.extend(e.forces.iter().flatten().map(|f| f * force_factor));
        }
        Ok(Predictions { energies, forces })
    }

    fn potential<'a>(&'a self, atomic_numbers: &[u8]) -> anyhow::Result<Box<dyn Potential + 'a>> {
        Ok(Box::new(SocketPotential {
            model: self,
            species: atomic_numbers.to_vec(),
        }))
    }

    fn training_summary(&self) -> serde_json::Value {
        self.summary.clone()
    }

    fn hyper_parameters(&self) -> serde_json::Value {
        // What the training command reports about itself, else the card.
        std::fs::read_to_string(self.model_dir.join("hyper_parameters.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_else(|| serde_json::to_value(&self.card).unwrap_or_default())
    }
}

/// An external model as an MD potential (kcal/mol and Å, as `mlff-md` works).
struct SocketPotential<'a> {
    model: &'a ExternalModel,
    species: Vec<u8>,
}

impl Potential for SocketPotential<'_> {
    fn n_atoms(&self) -> usize {
        self.species.len()
    }

    fn energy_forces(&self, positions: &[Vec3], forces: &mut [Vec3]) -> mlff_md::Result<f64> {
        mlff_md::potential::check_frame(self.species.len(), positions, forces)?;
        let e = self
            .model
            .evaluate(&self.species, positions)
            .map_err(|e| MdError::Potential {
                potential: self.model.card.name.clone(),
                message: e.to_string(),
            })?;
        let to_kcal = EnergyUnit::ElectronVolt.factor_to(EnergyUnit::KcalPerMol);
        for (out, f) in forces.iter_mut().zip(&e.forces) {
            *out = [f[0] * to_kcal, f[1] * to_kcal, f[2] * to_kcal];
        }
        Ok(e.energy * to_kcal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(yaml: &str) -> Result<ExternalCard, ExternalError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("card.yaml");
        std::fs::write(&path, yaml).unwrap();
        ExternalCard::load(&path)
    }

    #[test]
    fn a_card_with_a_mistyped_placeholder_is_refused_with_a_suggestion() {
        let err = card("name: m\ntrain: fit {trian}\nserve: serve {unixsocket}\n").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("{trian}") && text.contains("did you mean {train}"),
            "{text}"
        );
    }

    #[test]
    fn a_card_with_an_unknown_key_is_refused() {
        let err = card("name: m\nserve: s\nconect_timeout_s: 3\n").unwrap_err();
        assert!(err.to_string().contains("conect_timeout_s"), "{err}");
    }

    #[test]
    fn timeouts_must_be_positive_and_names_plain() {
        let err = card("name: m\nserve: s\nevaluation_timeout_s: 0\n").unwrap_err();
        assert!(err.to_string().contains("evaluation_timeout_s"), "{err}");
        let err = card("name: a/b\nserve: s\n").unwrap_err();
        assert!(err.to_string().contains("without slashes"), "{err}");
    }

    #[test]
    fn shell_commands_quote_substituted_paths() {
        let values = BTreeMap::from([("train", "/tmp/a b/it's.xyz".to_owned())]);
        let line = substitute("fit {train} --x", &values, shell_quote);
        assert_eq!(line, r"fit '/tmp/a b/it'\''s.xyz' --x");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {}", shell_quote("/tmp/a b/it's.xyz")))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "/tmp/a b/it's.xyz");
    }

    #[test]
    fn placeholders_are_words_in_braces_only() {
        assert_eq!(
            placeholders("a {train} {} {x y} ${HOME} {seed}"),
            vec!["train", "seed"]
        );
    }

    #[test]
    fn formulas_name_servers() {
        assert_eq!(formula(&[6, 1, 1, 8, 1, 6]), "H3C2O");
    }
}

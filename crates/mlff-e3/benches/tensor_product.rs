//! Criterion benchmarks of the hot operations of a NequIP interaction block, at the two
//! reference configurations of the design notes (§11): 32 features / l_max 2 and 64 features /
//! l_max 3, on a batch the size of 5 aspirin frames (105 atoms, 1,800 edges).
//!
//! * `uvu_tp`: the convolution tensor product (`TensorProduct::nequip_convolution`, weights per
//!   edge), forward and backward (all three gradients), for `f32` and `Dual<f32>` (the training
//!   path runs the same kernels on duals), plus `f64` for the large configuration;
//! * `convolution`: the same product as the model runs it, fused with the gather of `x1` from
//!   each edge's source and the sum of messages into each edge's target
//!   (`TensorProduct::convolve` and `convolve_backward`) on 105 nodes and 1,800 random edges;
//!   the product's FLOPs per edge are counted (gather and scatter are free), so its rate is
//!   the one the model's interaction blocks reach;
//! * `linear`: `linear_2` (the simplified tensor-product output → features) on 105 nodes;
//! * `self_connection`: the fully connected product of node features with one-hot species
//!   (`3x0e`) on 105 nodes.
//!
//! Throughput is reported in FLOP/s as counted by `forward_flops_per_sample` /
//! `backward_flops_per_sample` (real arithmetic; a `Dual` operation counts once).
//!
//! With `MLFF_BENCH_CPU_TIME=1` the clock is the CPU time of all the process's threads (from
//! `/proc/self/task/*/schedstat`) instead of wall time: on a machine shared with other jobs
//! that counts only the time this benchmark actually ran.

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{BenchmarkId, Criterion, Throughput};
use mlff_e3::{Dual, Irreps, Linear, MessageEdges, Scalar, ScatterPlan, TensorProduct, Weights};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;

/// Edges in a batch of 5 aspirin frames at r_max 4–5 Å.
const EDGES: usize = 1800;
/// Atoms in a batch of 5 aspirin frames.
const NODES: usize = 105;

/// `mul` copies of every irrep up to `lmax`, both parities (NequIP hidden features with parity).
fn features(mul: usize, lmax: u32) -> Irreps {
    let blocks: Vec<String> = (0..=lmax)
        .flat_map(|l| [format!("{mul}x{l}e"), format!("{mul}x{l}o")])
        .collect();
    blocks.join("+").parse().unwrap()
}

/// A scalar type the benchmarks run on, with a way to draw random values.
trait BenchScalar: Scalar {
    const NAME: &'static str;
    fn draw(rng: &mut ChaCha8Rng) -> Self;
}
impl BenchScalar for f32 {
    const NAME: &'static str = "f32";
    fn draw(rng: &mut ChaCha8Rng) -> Self {
        rng.random_range(-1.0..1.0)
    }
}
impl BenchScalar for f64 {
    const NAME: &'static str = "f64";
    fn draw(rng: &mut ChaCha8Rng) -> Self {
        rng.random_range(-1.0..1.0)
    }
}
impl BenchScalar for Dual<f32> {
    const NAME: &'static str = "dual_f32";
    fn draw(rng: &mut ChaCha8Rng) -> Self {
        Dual::new(rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0))
    }
}

fn random<T: BenchScalar>(rng: &mut ChaCha8Rng, n: usize) -> Vec<T> {
    (0..n).map(|_| T::draw(rng)).collect()
}

/// CPU time of every thread of this process, summed.
struct CpuTime;

fn process_cpu_ns() -> u64 {
    let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task is readable");
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

impl Measurement for CpuTime {
    type Intermediate = u64;
    type Value = u64;
    fn start(&self) -> u64 {
        process_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        process_cpu_ns() - start
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        self
    }
}

impl ValueFormatter for CpuTime {
    fn scale_values(&self, typical_ns: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = match typical_ns {
            t if t >= 1e9 => (1e-9, "s cpu"),
            t if t >= 1e6 => (1e-6, "ms cpu"),
            t if t >= 1e3 => (1e-3, "µs cpu"),
            _ => (1.0, "ns cpu"),
        };
        values.iter_mut().for_each(|v| *v *= factor);
        unit
    }
    fn scale_throughputs(
        &self,
        typical_ns: f64,
        t: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let per_iter = match *t {
            Throughput::Elements(n) | Throughput::Bytes(n) | Throughput::BytesDecimal(n) => n,
            Throughput::ElementsAndBytes { elements, .. } => elements,
            Throughput::Bits(n) => n,
        } as f64;
        let per_cpu_s = per_iter * 1e9 / typical_ns;
        let (factor, unit) = if per_cpu_s >= 1e9 {
            (1e-9, "Gelem/cpu-s")
        } else {
            (1e-6, "Melem/cpu-s")
        };
        values
            .iter_mut()
            .for_each(|v| *v = per_iter * 1e9 / *v * factor);
        unit
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

/// Random inputs, cotangent and output/gradient buffers of a product: `rows1` rows of `x1`,
/// `samples` rows of `x2`, `weight_rows` weight vectors, `out_rows` output rows.
struct Operands<T> {
    x1: Vec<T>,
    x2: Vec<T>,
    w: Vec<T>,
    g: Vec<T>,
    out: Vec<T>,
    grads: [Vec<T>; 3],
}

impl<T: BenchScalar> Operands<T> {
    fn new(tp: &TensorProduct, rng: &mut ChaCha8Rng, rows: [usize; 4]) -> Self {
        let [rows1, samples, weight_rows, out_rows] = rows;
        let x1: Vec<T> = random(rng, rows1 * tp.irreps_in1().dim());
        let x2: Vec<T> = random(rng, samples * tp.irreps_in2().dim());
        let w: Vec<T> = random(rng, weight_rows * tp.weight_numel());
        let g: Vec<T> = random(rng, out_rows * tp.irreps_out().dim());
        let grads = [x1.len(), x2.len(), w.len()].map(|n| vec![T::zero(); n]);
        Self {
            out: vec![T::zero(); g.len()],
            x1,
            x2,
            w,
            g,
            grads,
        }
    }
}

/// One group of a forward and a backward benchmark of `tp` over `n` samples, throughput in
/// the product's counted FLOPs.
fn bench_pair<M: Measurement>(
    c: &mut Criterion<M>,
    group_name: String,
    tp: &TensorProduct,
    n: usize,
    mut forward: impl FnMut(),
    mut backward: impl FnMut(),
) {
    let mut group = c.benchmark_group(group_name);
    group.sample_size(10);
    group.throughput(Throughput::Elements(
        (tp.forward_flops_per_sample() * n) as u64,
    ));
    group.bench_function(BenchmarkId::new("forward", n), |b| b.iter(&mut forward));
    group.throughput(Throughput::Elements(
        (tp.backward_flops_per_sample() * n) as u64,
    ));
    group.bench_function(BenchmarkId::new("backward", n), |b| b.iter(&mut backward));
    group.finish();
}

/// Forward and backward of `tp` over `n` samples with the given weight sharing.
fn bench_product<T: BenchScalar, M: Measurement>(
    c: &mut Criterion<M>,
    group_name: String,
    tp: &TensorProduct,
    n: usize,
    per_sample: bool,
) {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let Operands {
        x1,
        x2,
        w,
        g,
        mut out,
        grads: [mut g1, mut g2, mut gw],
    } = Operands::<T>::new(tp, &mut rng, [n, n, if per_sample { n } else { 1 }, n]);
    let weights = if per_sample {
        Weights::PerSample(&w)
    } else {
        Weights::Shared(&w)
    };
    let nnz: usize = tp.paths().iter().map(|p| p.entries.len()).sum();
    eprintln!(
        "{group_name}: {} paths, {nnz} non-zero 3j entries, weights {}, dims {}x{}->{}, \
         FLOP/sample fwd {} bwd {}",
        tp.paths().len(),
        tp.weight_numel(),
        tp.irreps_in1().dim(),
        tp.irreps_in2().dim(),
        tp.irreps_out().dim(),
        tp.forward_flops_per_sample(),
        tp.backward_flops_per_sample()
    );
    bench_pair(
        c,
        group_name,
        tp,
        n,
        || tp.forward(black_box(&x1), &x2, weights, &mut out).unwrap(),
        || {
            tp.backward(black_box(&x1), &x2, weights, &g, &mut g1, &mut g2, &mut gw)
                .unwrap()
        },
    );
}

/// NequIP's convolution product, features ⊗ edge harmonics → features.
fn nequip_product(mul: usize, lmax: u32) -> TensorProduct {
    let feat = features(mul, lmax);
    TensorProduct::nequip_convolution(&feat, &Irreps::spherical_harmonics(lmax), &feat).unwrap()
}

/// The convolution product of one configuration on `EDGES` edges.
fn bench_convolution<T: BenchScalar, M: Measurement>(
    c: &mut Criterion<M>,
    config: &str,
    mul: usize,
    lmax: u32,
) {
    let tp = nequip_product(mul, lmax);
    bench_product::<T, M>(c, format!("uvu_tp/{config}_{}", T::NAME), &tp, EDGES, true);
}

/// The fused message-passing convolution of one configuration: `NODES` nodes, `EDGES` edges
/// between random distinct nodes, forward and backward (all three gradients).
fn bench_message_passing<T: BenchScalar, M: Measurement>(
    c: &mut Criterion<M>,
    config: &str,
    mul: usize,
    lmax: u32,
) {
    let tp = nequip_product(mul, lmax);
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let (mut sources, mut targets) = (Vec::with_capacity(EDGES), Vec::with_capacity(EDGES));
    while sources.len() < EDGES {
        let (s, t) = (rng.random_range(0..NODES), rng.random_range(0..NODES));
        if s != t {
            sources.push(s);
            targets.push(t);
        }
    }
    let by_source = ScatterPlan::new(&sources, NODES).unwrap();
    let by_target = ScatterPlan::new(&targets, NODES).unwrap();
    let edges = MessageEdges {
        sources: &sources,
        targets: &targets,
        by_source: &by_source,
        by_target: &by_target,
    };
    let Operands {
        x1,
        x2,
        w,
        g,
        mut out,
        grads: [mut g1, mut g2, mut gw],
    } = Operands::<T>::new(&tp, &mut rng, [NODES, EDGES, EDGES, NODES]);
    bench_pair(
        c,
        format!("convolution/{config}_{}", T::NAME),
        &tp,
        EDGES,
        || {
            tp.convolve(black_box(&x1), &x2, &w, edges, &mut out)
                .unwrap()
        },
        || {
            tp.convolve_backward(
                black_box(&x1),
                &x2,
                &w,
                edges,
                &g,
                &mut g1,
                &mut g2,
                &mut gw,
            )
            .unwrap()
        },
    );
}

/// The self-connection (features ⊗ one-hot species → features) on `NODES` nodes.
fn bench_self_connection<T: BenchScalar, M: Measurement>(
    c: &mut Criterion<M>,
    config: &str,
    mul: usize,
    lmax: u32,
) {
    let feat = features(mul, lmax);
    let species: Irreps = "3x0e".parse().unwrap();
    let tp = TensorProduct::fully_connected(feat.clone(), species, feat).unwrap();
    let name = format!("self_connection/{config}_{}", T::NAME);
    bench_product::<T, M>(c, name, &tp, NODES, false);
}

/// `linear_2` (message irreps → features) on `NODES` nodes, forward and backward.
fn bench_linear<T: BenchScalar, M: Measurement>(
    c: &mut Criterion<M>,
    config: &str,
    mul: usize,
    lmax: u32,
) {
    let tp = nequip_product(mul, lmax);
    let linear = Linear::new(tp.irreps_out().simplify(), features(mul, lmax)).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let (din, dout) = (linear.irreps_in().dim(), linear.irreps_out().dim());
    let x: Vec<T> = random(&mut rng, NODES * din);
    let w: Vec<T> = random(&mut rng, linear.weight_numel());
    let g: Vec<T> = random(&mut rng, NODES * dout);
    let mut out = vec![T::zero(); NODES * dout];
    let (mut gx, mut gw) = (vec![T::zero(); x.len()], vec![T::zero(); w.len()]);
    let flops = linear.forward_flops_per_sample();
    eprintln!(
        "linear/{config}: {din} -> {dout}, {} weights, FLOP/sample fwd {flops} bwd {}",
        linear.weight_numel(),
        linear.backward_flops_per_sample()
    );
    let mut group = c.benchmark_group(format!("linear/{config}_{}", T::NAME));
    group.sample_size(10);
    group.throughput(Throughput::Elements((flops * NODES) as u64));
    group.bench_function(BenchmarkId::new("forward", NODES), |b| {
        b.iter(|| linear.forward(black_box(&x), &w, &mut out).unwrap())
    });
    group.throughput(Throughput::Elements(
        (linear.backward_flops_per_sample() * NODES) as u64,
    ));
    group.bench_function(BenchmarkId::new("backward", NODES), |b| {
        b.iter(|| {
            linear
                .backward(black_box(&x), &w, &g, &mut gx, &mut gw)
                .unwrap()
        })
    });
    group.finish();
}

fn benches<M: Measurement>(c: &mut Criterion<M>) {
    for (config, mul, lmax) in [("32ch_l2", 32, 2), ("64ch_l3", 64, 3)] {
        bench_convolution::<f32, M>(c, config, mul, lmax);
        bench_convolution::<Dual<f32>, M>(c, config, mul, lmax);
        bench_message_passing::<f32, M>(c, config, mul, lmax);
        bench_message_passing::<Dual<f32>, M>(c, config, mul, lmax);
        bench_linear::<f32, M>(c, config, mul, lmax);
        bench_linear::<Dual<f32>, M>(c, config, mul, lmax);
        bench_self_connection::<f32, M>(c, config, mul, lmax);
        bench_self_connection::<Dual<f32>, M>(c, config, mul, lmax);
    }
    bench_convolution::<f64, M>(c, "64ch_l3", 64, 3);
}

fn run<M: Measurement>(measurement: M) {
    let mut c = Criterion::default()
        .with_measurement(measurement)
        .configure_from_args();
    benches(&mut c);
    c.final_summary();
}

fn main() {
    if std::env::var_os("MLFF_BENCH_CPU_TIME").is_some() {
        run(CpuTime);
    } else {
        run(WallTime);
    }
}

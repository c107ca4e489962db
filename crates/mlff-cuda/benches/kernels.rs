//! Criterion benchmarks: NVRTC compile time of every kernel file (needs libnvrtc.so.12) and,
//! when a GPU is present, the NequIP-sized tensor-product kernels on the device.
//!
//! `LD_LIBRARY_PATH=$(crates/mlff-cuda/fetch-nvrtc.sh) cargo bench -p mlff-cuda --bench kernels`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mlff_cuda::kernels::{self, KERNEL_FILES, Precision};
use mlff_cuda::{Backend, CudaBackend, UvuPlan};
use mlff_e3::{Irreps, TensorProduct};

fn nvrtc_compile(c: &mut Criterion) {
    if !kernels::nvrtc_available() {
        eprintln!("NOTICE: libnvrtc.so.12 not found, NVRTC benchmarks skipped");
        return;
    }
    let mut group = c.benchmark_group("nvrtc compute_90 f32");
    group.sample_size(10);
    for file in KERNEL_FILES {
        group.bench_function(file.file, |b| {
            b.iter(|| kernels::compile(file, Precision::F32, "compute_90").unwrap())
        });
    }
    group.finish();
}

fn gpu_tensor_product(c: &mut Criterion) {
    let gpu = match CudaBackend::new(0) {
        Ok(gpu) => gpu,
        Err(e) => {
            eprintln!("NOTICE: {e}; GPU benchmarks skipped");
            return;
        }
    };
    // NequIP rMD17 layer: 32x0e+32x1o+32x2e features ⊗ l ≤ 3 harmonics, 10^5 edges, f32.
    let irreps = |s: &str| s.parse::<Irreps>().unwrap();
    let tp = TensorProduct::nequip_convolution(
        &irreps("32x0e+32x1o+32x2e"),
        &Irreps::spherical_harmonics(3),
        &irreps("32x0e+32x0o+32x1o+32x1e+32x2e+32x2o+32x3o+32x3e"),
    )
    .unwrap();
    let plan = UvuPlan::new(&tp).unwrap();
    let dplan = gpu.upload_uvu::<f32>(&plan).unwrap();
    let [d1, d2, d3] = plan.dims();
    let (n, wn) = (100_000, plan.weight_numel());
    let fill = |len: usize| {
        (0..len)
            .map(|k| ((k % 17) as f32 - 8.0) / 8.0)
            .collect::<Vec<_>>()
    };
    let (x1, x2, w, g) = (
        gpu.upload(&fill(n * d1)).unwrap(),
        gpu.upload(&fill(n * d2)).unwrap(),
        gpu.upload(&fill(n * wn)).unwrap(),
        gpu.upload(&fill(n * d3)).unwrap(),
    );
    let mut out = gpu.zeros::<f32>(n * d3).unwrap();
    let (mut g1, mut g2, mut gw) = (
        gpu.zeros::<f32>(n * d1).unwrap(),
        gpu.zeros::<f32>(n * d2).unwrap(),
        gpu.zeros::<f32>(n * wn).unwrap(),
    );
    let mut group = c.benchmark_group(format!("gpu {}", gpu.device_name().unwrap()));
    group.sample_size(10);
    group.throughput(Throughput::Elements(
        (n * plan.forward_flops_per_sample()) as u64,
    ));
    group.bench_function("tp_forward 1e5 edges (FLOP/s)", |b| {
        b.iter(|| {
            gpu.tp_forward(&dplan, &x1, &x2, &w, &mut out).unwrap();
            gpu.synchronize().unwrap();
        })
    });
    group.throughput(Throughput::Elements(
        (n * plan.backward_flops_per_sample()) as u64,
    ));
    group.bench_function("tp_backward 1e5 edges (FLOP/s)", |b| {
        b.iter(|| {
            gpu.tp_backward(&dplan, &x1, &x2, &w, &g, &mut g1, &mut g2, &mut gw)
                .unwrap();
            gpu.synchronize().unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, nvrtc_compile, gpu_tensor_product);
criterion_main!(benches);

//! `--device`: where NequIP's passes run — inference, and the training loss's two passes (the
//! optimiser, schedules and checkpoints stay on the host).

use anyhow::{Context, Result};
use mlff_cuda::{Backend, CudaBackend, DeviceReal, Emulator};
use mlff_nequip::{LossPasses, Nequip, Precision, Predictor};
use mlff_nequip_cuda::{DeviceNequip, DevicePasses};
use std::sync::Arc;

/// Executor chosen on the command line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Device {
    /// mlff-nequip on the CPU (rayon).
    #[default]
    Cpu,
    /// GPU 0 through mlff-nequip-cuda (kernels compiled with NVRTC at start-up, cuBLAS), data
    /// resident on the device; an error, not a fallback, when there is no GPU.
    Cuda,
    /// The same kernels' CPU emulation: slow, for checking the device path without a GPU.
    Emulated,
}

/// A [`Device`] opened once per process (the GPU context and its compiled kernels are shared
/// by every model).
#[derive(Clone, Debug)]
pub enum Executor {
    /// The CPU model.
    Cpu,
    /// A GPU.
    Cuda(Arc<CudaBackend>),
    /// The CPU emulation of the kernels.
    Emulated(Arc<Emulator>),
}

impl Device {
    /// Opens the device: for `cuda`, the first GPU (a clear error when there is none).
    pub fn open(self) -> Result<Executor> {
        Ok(match self {
            Device::Cpu => Executor::Cpu,
            Device::Cuda => {
                let gpu = CudaBackend::new(0)
                    .context("--device cuda (use --device cpu to run on the CPU)")?;
                tracing::info!(gpu = gpu.describe(), "NequIP inference on the GPU");
                Executor::Cuda(Arc::new(gpu))
            }
            Device::Emulated => Executor::Emulated(Arc::new(Emulator)),
        })
    }
}

impl Executor {
    /// What runs the passes, for logs and reports.
    pub fn describe(&self) -> String {
        match self {
            Executor::Cpu => "cpu".into(),
            Executor::Cuda(gpu) => gpu.describe(),
            Executor::Emulated(emu) => emu.describe(),
        }
    }
    /// The training loss's passes for `model`'s architecture on this executor (`None`: the
    /// CPU, mlff-nequip's own).
    pub fn loss_passes(&self, model: &Nequip) -> Option<Box<dyn LossPasses>> {
        match self {
            Executor::Cpu => None,
            Executor::Cuda(gpu) => Some(Box::new(DevicePasses::new(gpu.clone(), model))),
            Executor::Emulated(emu) => Some(Box::new(DevicePasses::new(emu.clone(), model))),
        }
    }

    /// `model` on this executor, in the model's precision.
    pub fn predictor(&self, model: Arc<Nequip>) -> Result<Arc<dyn Predictor>> {
        match self {
            Executor::Cpu => Ok(model),
            Executor::Cuda(gpu) => on_backend(gpu.clone(), &model),
            Executor::Emulated(emu) => on_backend(emu.clone(), &model),
        }
    }
}

fn on_backend<B>(backend: Arc<B>, model: &Nequip) -> Result<Arc<dyn Predictor>>
where
    B: Backend + 'static,
    DeviceNequip<B, f32>: Send + Sync,
    DeviceNequip<B, f64>: Send + Sync,
{
    fn typed<B: Backend + 'static, T: DeviceReal>(
        backend: Arc<B>,
        model: &Nequip,
    ) -> Result<Arc<dyn Predictor>>
    where
        DeviceNequip<B, T>: Send + Sync,
    {
        let device =
            DeviceNequip::<B, T>::new(backend, model).context("putting the model on the device")?;
        Ok(Arc::new(device))
    }
    match model.config().precision()? {
        Precision::F32 => typed::<B, f32>(backend, model),
        Precision::F64 => typed::<B, f64>(backend, model),
    }
}

#!/usr/bin/env bash
# Downloads NVIDIA's NVRTC runtime compiler (PyPI wheel nvidia-cuda-nvrtc-cu12) once and caches
# it under <workspace>/target/nvrtc/, so that the kernel compilation tests of mlff-cuda can run
# on machines with no CUDA toolkit and no GPU. Idempotent: a second run only prints the path.
#
# Usage:  export LD_LIBRARY_PATH="$(crates/mlff-cuda/fetch-nvrtc.sh)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# Prints the directory holding libnvrtc.so.12 (and libnvrtc-builtins.so.12.9) on stdout;
# progress goes to stderr.
set -euo pipefail

version="12.9.86"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${MLFF_NVRTC_CACHE:-$root/target/nvrtc}"
dest="$cache/$version"
lib="$dest/nvidia/cuda_nvrtc/lib"

if [[ ! -f "$lib/libnvrtc.so.12" ]]; then
    mkdir -p "$cache"
    tmp="$(mktemp -d "$cache/download.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    echo "fetch-nvrtc: downloading nvidia-cuda-nvrtc-cu12==$version" >&2
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
        --platform manylinux2010_x86_64 --python-version 3 \
        "nvidia-cuda-nvrtc-cu12==$version" -d "$tmp" >&2
    wheel="$(ls "$tmp"/nvidia_cuda_nvrtc_cu12-"$version"-*.whl)"
    rm -rf "$tmp/unpacked"
    python3 -m zipfile -e "$wheel" "$tmp/unpacked" >&2
    test -f "$tmp/unpacked/nvidia/cuda_nvrtc/lib/libnvrtc.so.12"
    # The .alt builds (an alternative C++ ABI variant) are not used: 113 MB less in the cache.
    rm -f "$tmp"/unpacked/nvidia/cuda_nvrtc/lib/*.alt.*
    rm -rf "$dest"
    mv "$tmp/unpacked" "$dest"
fi
echo "$lib"

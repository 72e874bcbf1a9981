# Sourced by the scripts: OpenBLAS 0.3.21 mis-detects Zen 5; the Haswell kernels are correct on it.
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}"
# TensorCore's kernels for this machine's full vector ISA (Package.swift). A build without it (set it empty, or as
# a dependency of another package) gets swiftc's baseline; `remamba bench` prints which.
export REMAMBA_TARGET_CPU="${REMAMBA_TARGET_CPU-native}"

# Sourced by the scripts: OpenBLAS 0.3.21 mis-detects Zen 5; the Haswell kernels are correct on it.
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}"

"""Compute kernels of gpu_bo's hot paths (installed as ``gpu_bo.kernels``).

``reference`` holds plain-torch implementations that run on every device and serve as the
test oracles; fused Triton versions (CUDA) live beside them and are dispatched only where
measured faster.
"""

from gpu_bo.kernels.reference import (  # noqa: F401
    analytic_acq,
    kernel_matrix,
    matern52,
    posterior_mean_var,
    screen,
    sq_dist,
)

"""``gradfit.backends.cuda``: CUDA's switches, settable, with no effect (no CUDA)."""

import contextlib
import warnings
from types import SimpleNamespace

matmul = SimpleNamespace(
    allow_tf32=False,
    allow_fp16_reduced_precision_reduction=True,
    allow_bf16_reduced_precision_reduction=True,
)


def is_built() -> bool:
    return False


# --- scaled_dot_product_attention's kernels: PyTorch keeps these switches here ---------------
# They are nn.attention's choice of kernels (one set, read by scaled_dot_product_attention),
# seen one backend at a time.


def _switch(name: str):
    def enabled() -> bool:
        from gradfit.nn import attention

        return attention.SDPBackend[name] in attention._allowed[0]

    def enable(enabled: bool) -> None:
        from gradfit.nn import attention

        backend = {attention.SDPBackend[name]}
        allowed = attention._allowed[0]
        attention._allowed[0] = allowed | backend if enabled else allowed - backend

    return enabled, enable


flash_sdp_enabled, enable_flash_sdp = _switch("FLASH_ATTENTION")
math_sdp_enabled, enable_math_sdp = _switch("MATH")
mem_efficient_sdp_enabled, enable_mem_efficient_sdp = _switch("EFFICIENT_ATTENTION")
cudnn_sdp_enabled, enable_cudnn_sdp = _switch("CUDNN_ATTENTION")


@contextlib.contextmanager
def sdp_kernel(
    enable_flash: bool = True,
    enable_math: bool = True,
    enable_mem_efficient: bool = True,
    enable_cudnn: bool = True,
):
    """PyTorch's deprecated form of ``nn.attention.sdpa_kernel``: the kernels switched on."""
    from gradfit.nn.attention import SDPBackend, sdpa_kernel

    warnings.warn(
        "`gradfit.backends.cuda.sdp_kernel()` is deprecated. In the future, this context "
        "manager will be removed. Please see `gradfit.nn.attention.sdpa_kernel()` for the new "
        "context manager, with updated signature.",
        FutureWarning,
        stacklevel=3,
    )
    chosen = [
        backend
        for on, backend in (
            (enable_flash, SDPBackend.FLASH_ATTENTION),
            (enable_mem_efficient, SDPBackend.EFFICIENT_ATTENTION),
            (enable_math, SDPBackend.MATH),
            (enable_cudnn, SDPBackend.CUDNN_ATTENTION),
        )
        if on
    ]
    with sdpa_kernel(chosen):
        yield

"""The whole operation table once more through the array-module seam: inputs on 'cuda'
(the checking array module on every machine, CuPy where a GPU exists), values and gradients
against PyTorch on the CPU, and every output and gradient on the device. An operation that
reaches NumPy directly instead of through ``get_array_module`` fails here."""
import pytest

from tests.reference import requires_torch
from tests import reference
from .opinfo import cases
from .test_ops import TABLE

import numpy as np


@requires_torch
@pytest.mark.parametrize("info,sample", cases(TABLE))
def test_matches_torch_on_device(info, sample, cuda):
    reference.check_against_torch(info.op, info.ref, *sample.args, kwargs=sample.kwargs,
                                  grad=sample.grad, dtype=np.float32, cotangent=7,
                                  backward=info.differentiable, rtol=info.rtol, atol=info.atol,
                                  grad_rtol=info.grad_rtol, grad_atol=info.grad_atol,
                                  name=info.name, device=cuda)

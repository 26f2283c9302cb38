"""Running a lamina layer and its torch twin side by side, for test_extra_layers.py and
test_embedding_rnn_rbf.py: ``twin`` gives the lamina layer the torch layer's state (checking
that the ``state_dict`` keys are torch's, in order), ``run_both`` compares their outputs and
gradients."""
from tests.reference import check_against_torch


def run_both(lm_module, t_module, inputs, rng):
    """Forward both modules on copies of ``inputs`` (NumPy arrays), backward a cotangent
    drawn from ``rng``, and compare outputs (1e-5), input and parameter gradients (1e-4);
    lamina's outputs."""
    return check_against_torch(lm_module, t_module, *inputs, modules=(lm_module, t_module),
                               cotangent=rng, rtol=1e-5, atol=1e-5, grad_rtol=1e-4,
                               grad_atol=1e-4).lamina.outputs


def twin(lm_module, t_module):
    """Give ``lm_module`` the torch module's state; the keys must be torch's, in order."""
    sd = t_module.state_dict()
    assert list(lm_module.state_dict().keys()) == list(sd.keys())
    lm_module.load_state_dict(sd)
    return lm_module, t_module

"""The compatibility harness itself: import mapping, fixtures, error locations, comparison."""
import sys

from tests.reference import requires_torch, torch
from . import comparison, harness


def both(source):
    return harness.run_source(source, "torch"), harness.run_source(source, "lamina")


@requires_torch
def test_lamina_pass_binds_lamina_to_the_torch_names():
    source = ("import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
              "import torch.optim as optim\nimport sys\n"
              "names = [m.__name__ for m in (torch, nn, F, optim, sys.modules['torch'])]\n"
              "report('bound', names == ['lamina', 'lamina.nn', 'lamina.nn.functional',"
              " 'lamina.optim', 'lamina'])\n")
    expected, actual = both(source)
    assert expected.error is None and actual.error is None, actual.describe_error()
    assert expected.reports == [("bound", ("number", "bool", False))]
    assert actual.reports == [("bound", ("number", "bool", True))]


@requires_torch
def test_in_process_mapping_restores_real_torch():
    import torch.nn.functional as F

    with harness.lamina_as_torch() as fw:
        import torch as inner
        assert inner is fw and fw.__name__ == "lamina"
        assert fw.__spec__.name == "lamina"
    assert sys.modules["torch"] is torch
    assert sys.modules["torch.nn.functional"] is F
    assert torch.relu(torch.tensor([-1.0, 2.0])).tolist() == [0.0, 2.0]


@requires_torch
def test_torch_pass_restores_global_settings():
    result = harness.run_source(
        "import torch\ntorch.set_default_dtype(torch.float64)\n"
        "report('dtype', torch.tensor(1.0).dtype)\n", "torch")
    assert result.reports == [("dtype", ("str", "float64"))]  # normalised: dtype prefix dropped
    assert torch.get_default_dtype() == torch.float32


@requires_torch
def test_missing_module_and_error_line_are_reported():
    result = harness.run_source("import torch\n\nimport torch.no_such_module\n", "lamina",
                                filename="prog.py")
    assert result.error["type"] == "ModuleNotFoundError"
    assert "lamina.no_such_module" in result.error["message"]
    assert result.error["line"] == 3 and result.error["code"] == "import torch.no_such_module"
    problems = harness.compare(harness.run_source("import torch\n", "torch"), result)
    assert "at program line 3" in problems[0]


@requires_torch
def test_fixture_and_reference_init_agree_between_runs():
    source = ("import torch\nreport('f', fixture('data', (2, 3)))\n"
              "report('u', fixture('data', 4, low=0.0, high=1.0))\n"
              "m = init_like_reference(torch.nn.Linear(3, 2))\nreport('w', m.weight)\n")
    expected, actual = both(source)
    assert harness.compare(expected, actual) == []
    first = expected.reports[0][1][2]
    other = harness.run_source(source.replace("'data'", "'other'"), "torch").reports[0][1][2]
    assert first.shape == (2, 3) and not (first == other).all()


@requires_torch
def test_compare_finds_value_dtype_name_and_print_differences():
    expected = harness.run_source(
        "import torch\nreport('a', torch.tensor([1.0, 2.0]))\nreport('n', 3)\n"
        "print(torch.tensor([0.5]))\nprint(f'loss {0.12345:.4f}')\n", "torch")
    for changed, fragment in [
        ("torch.tensor([1.0, 2.001])", "1 of 2 values differ"),
        ("torch.tensor([1.0, 2.0], dtype=torch.float64)", "dtype float64"),
        ("torch.tensor([1, 2])", "dtype int64"),
    ]:
        source = ("import torch\nreport('a', " + changed + ")\nreport('n', 3)\n"
                  "print(torch.tensor([0.5]))\nprint(f'loss {0.12345:.4f}')\n")
        problems = harness.compare(expected, harness.run_source(source, "torch"))
        assert any(fragment in p for p in problems), (fragment, problems)
    renamed = harness.run_source("import torch\nreport('b', 1)\n", "torch")
    assert any("report #0" in p for p in harness.compare(expected, renamed))
    printed = harness.run_source(
        "import torch\nreport('a', torch.tensor([1.0, 2.0]))\nreport('n', 3.0)\n"
        "print(torch.tensor([0.5001]))\nprint(f'loss {0.12355:.4f}')\n", "torch")
    problems = harness.compare(expected, printed)
    assert any("'n': lamina gave a float" in p for p in problems)
    assert any("print #0" in p for p in problems)
    assert not any("print #1" in p for p in problems)  # 0.1235 vs 0.1236: last digit


def test_printed_numbers_within_one_last_digit():
    tol = comparison.Tolerance()
    assert comparison._printed_close("loss 0.1234\n", "loss 0.1235\n", tol)
    assert not comparison._printed_close("loss 0.1234\n", "loss 0.1240\n", tol)
    assert not comparison._printed_close("epoch 3\n", "epoch 4\n", tol)
    assert not comparison._printed_close("loss 0.1\n", "cost 0.1\n", tol)
    assert comparison._printed_close("lr 0.05\n", "lr 0.05000000000000001\n", tol)

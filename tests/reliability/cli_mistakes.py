"""What the command-line mistake tests share: a tiny training run's flags and ``fails``.

``TINY`` trains a 64-8-10 MLP on the embedded digits for one epoch of 64 images, in well under
a second. ``fails(capsys, argv, *shown)`` runs ``lamina argv`` in this process
(``lamina.cli.main``) and asserts what every user mistake must give: exit status 2, exactly one
``lamina: error:`` line on stderr naming everything in ``shown``, and no traceback.
"""
from lamina.cli import main

TINY = ["--model", "mlp:64,8,10", "--epochs", "1", "--train-size", "64", "--batch-size", "32",
        "--quiet"]


def fails(capsys, argv, *shown):
    """Run ``lamina argv``: status 2, one error line naming everything in ``shown``."""
    try:
        status = main([str(a) for a in argv])
    except SystemExit as exit:  # argparse's refusals
        status = exit.code
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert status == 2, captured
    assert len(lines) == 1 and lines[0].startswith("lamina: error: "), captured.err
    for text in shown:
        assert str(text) in lines[0], (text, lines[0])
    assert "Traceback" not in captured.err
    return lines[0]

"""``python -m truceline``: the same command as the ``truceline`` script."""

from truceline.cli import app

app(prog_name="truceline")

"""`python -m audit …` is the `tryggahus` command (how `tryggahus serve` starts its embedded worker)."""

from audit.cli import cli

cli()

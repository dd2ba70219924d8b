"""``python -m autodiff_cli`` runs the adjac command."""

from .cli import run

run()

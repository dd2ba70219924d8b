"""``python -m autodiff_cli`` runs the adjac command."""

from .cli import main

main(prog_name="adjac")

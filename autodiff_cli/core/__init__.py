"""The math: primitives, the graph (a Wengert list), the parser, and the two sweeps.

numpy and lark only: nothing here imports click or rich, prints, or exits
(tests/test_architecture.py holds it to that).
"""

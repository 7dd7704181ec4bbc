"""Benchmarks of the engine against the workflow people use today (shadow database + migra).

Run by hand for the numbers (``python -m bench.plan_bench``) and by CI in smoke mode, which
only checks that every step still runs.
"""

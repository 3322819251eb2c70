"""Benchmarks and the mutation-testing harness.

Each ``bench_*.py`` and ``mutation_testing.py`` runs as a script (``python benchmarks/x.py``,
``make bench``); the tests import the same files as modules (``from benchmarks import
mutation_testing``), the repository root being on pytest's ``pythonpath``.
"""

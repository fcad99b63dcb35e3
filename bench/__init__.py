"""Benchmarks for azure-ai-kit (issue #7): overhead, import time, goodput and failover.

Run them all with `make bench` (or `python -m bench`); the results land in
`docs/benchmarks.md`. Each measurement lives in its own module and can be read on its own.
They are not tests: nothing here asserts on timings.
"""

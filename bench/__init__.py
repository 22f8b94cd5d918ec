"""Benchmarks that print figures (never timed asserts in tests).

`python -m bench` (also `huike bench`) builds a throwaway install, generates data at the chosen
sizes, starts Huike and the baseline server on loopback and prints one table; `python -m bench
loadtest` and `python -m bench fuzz` are the load test and the long fuzz run. See
docs/benchmarks.md. The `bench_*.py` scripts are the security and leads benchmarks, runnable on
their own and joined to the table as scenarios."""

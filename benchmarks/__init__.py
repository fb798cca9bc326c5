"""Benchmarks of tinygrad_edu against hand-written numpy and PyTorch: see README.md."""

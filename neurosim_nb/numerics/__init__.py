"""Numerics shared by compiled code: fast elementary functions, bit tricks, prefetching."""

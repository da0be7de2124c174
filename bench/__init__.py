"""ab2n benchmarks: speed, memory and quality side by side with what people use today.

Run ``python -m bench`` (full, writes docs/benchmarks.*) or ``python -m bench --quick``.
"""

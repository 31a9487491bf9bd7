"""fastconv's asv benchmarks; see common.py for how to run them."""

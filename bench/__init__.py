"""The seedfeed benchmark harness (`python -m bench.run`)."""

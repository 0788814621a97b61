"""Speed benchmarks: scripts that print markdown tables (see README.md)."""

"""System models: one module per paper, pure numpy, batch-first (see ARCHITECTURE.md)."""

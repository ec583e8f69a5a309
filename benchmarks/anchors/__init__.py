"""Other frameworks measured on the same workloads, side by side (optional dependencies)."""

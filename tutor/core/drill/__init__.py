"""Drills: fresh variants drawn from a seed, checked for fairness, emitted as lesson files, and run one after another."""

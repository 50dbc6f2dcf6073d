"""Live evaluation by PyTorch: a lesson's givens and graph run once, expected values, node values and gradients."""

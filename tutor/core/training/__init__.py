"""Training runs for the loss plot: SGD over [train].params at a chosen rate, and the learner's own update on it."""

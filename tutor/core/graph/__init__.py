"""The computational graph: its model, its drawing as text, graph-writing steps, and what the learner has earned."""

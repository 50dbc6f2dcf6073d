"""Named mistakes: the slips a learner can make, recomputed live, and naming one only when it alone explains an answer."""

"""What a learner typed: parsed once into plain values, then judged against an expected value into a verdict."""

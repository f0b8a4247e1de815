"""Training: the lectures' optimizers and learning-rate schedules, minibatches, and the loop."""

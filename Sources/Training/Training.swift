// Pretraining, the offline exit stage and evaluation (issue 4).

// Specs, sweeps, the runner and result tables (issue 6).

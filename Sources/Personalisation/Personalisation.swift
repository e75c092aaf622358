// The method of PersEPhonEE (issue 5): on-device training engine, profiler, orchestrator, inference engine.

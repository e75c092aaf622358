// The paper's five experiments as registered experiment kinds (issue 6).

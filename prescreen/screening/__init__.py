"""The screening: trials and the fact bank, rules, eligibility, the planner, answer parsing and the conversation."""

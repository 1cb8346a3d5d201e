"""Cases with one accountable owner: hand-overs, commitments, harms, tasks, participants,
clocks that escalate what stalls, complaint handling with the regulator's deadline, the brief."""

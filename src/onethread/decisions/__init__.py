"""Decisions: policies as versioned data and the decision service every channel asks."""

"""Payments: barèmes, the decision, the simulator and the chained decision journal."""

"""Outlets: their service profiles, engineers, workload and the praise they earn."""

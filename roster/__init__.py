"""Roster: group caregiver-training classes from scheduling to the billing roster."""

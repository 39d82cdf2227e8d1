"""Inspection photos: checking, cleaning and storing the pictures inspectors take of defects."""

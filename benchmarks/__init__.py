"""`make bench`: each stage against its physical limit and against the seed's design.

Every scenario is bounded (fixed sizes, fixed repeats, deadlines) and reports medians; the
headline figures are ratios, because the machine this runs on is shared and noisy.
"""

"""Simulators and metrics used by the claims (no pytest in here).

References:
    "Linear Loss Classification: Efficient Training Through Neural Collapse" (2026).
"""

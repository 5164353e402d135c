"""Risk scores and stratification: pure functions from per-patient inputs to scores.

``qrisk3`` (QRISK3-2017 CVD risk), ``efi`` (electronic Frailty Index), ``cms`` (Cambridge
Multimorbidity Score) and ``deprivation`` (the Townsend stand-in from IMD) take plain
pandas/numpy inputs; ``expressions`` holds the same scores as Ibis expressions for DuckDB/Spark.
"""

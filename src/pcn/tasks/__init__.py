"""The one work model: tasks about patients, followed through to a coded outcome (ADR 0110)."""

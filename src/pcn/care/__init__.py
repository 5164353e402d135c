"""Personalised care: care and support plans and MDT meetings, over the one work model."""

"""Home monitoring (issue 22): home readings in, NICE NG136 series and categories out, alerts
as tasks, one-time links for patients to submit readings."""

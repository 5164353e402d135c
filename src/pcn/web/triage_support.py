"""What the triage edges (form, pages, API) need from the running app: the record's patient
directory (built once, on first use or at start-up) and the network's practice codes."""

from __future__ import annotations

import threading
from typing import Any

from pcn.triage.patients import PatientDirectory

_lock = threading.Lock()


def patient_directory(app: Any) -> PatientDirectory:
    """The app's :class:`PatientDirectory` over its record (thread-safe, built once)."""
    directory = getattr(app.state, "patient_directory", None)
    if directory is None:
        with _lock:
            directory = getattr(app.state, "patient_directory", None)
            if directory is None:
                directory = PatientDirectory.from_view(app.state.view)
                app.state.patient_directory = directory
    return directory


def network_practices(app: Any) -> list[str]:
    return sorted(str(c) for c in app.state.view.practices["practice_code"])


def practice_choices(app: Any) -> list[tuple[str, str]]:
    """(code, name) of every member practice, by name."""
    names = app.state.view.practice_names
    return sorted(((code, names.get(code, code)) for code in network_practices(app)),
                  key=lambda pair: pair[1])

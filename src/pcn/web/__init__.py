"""The web app: FastAPI + Jinja2 with NHS.UK frontend components (``pcn serve``).

:func:`pcn.web.app.create_app` builds the application for one network record.
"""

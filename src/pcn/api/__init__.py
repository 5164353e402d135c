"""The JSON API: the same data, scoping, disclosure control and audit as the pages.

Routes live in :mod:`pcn.api.routes` and reach data only through :mod:`pcn.web.guarded`.
"""

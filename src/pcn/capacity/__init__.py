"""Access: who works when, demand against capacity, forecasts and staffing (issue 20).

Split by meaning: :mod:`definitions` (reviewed conventions), :mod:`rota` (register and session
patterns -> bookable capacity), :mod:`demand` (requests and appointments), :mod:`forecast`
(8-week forecasts and their backtest), :mod:`queueing` (Erlang C), :mod:`routing` (the rota's
free slots handed to triage), :mod:`report` (the per date x practice x role table).
"""

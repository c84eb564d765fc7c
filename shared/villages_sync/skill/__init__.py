"""The voice skill's logic: what a question means, which events answer it, how it is said.

Pure modules (no I/O): ``session`` (what the session keeps, validated), ``follow_ups`` (repeat,
go back, details, look-ups), ``lookup`` (one event told, titles found), ``screen`` (APL),
``catalog`` (venues and categories the interaction model knows),
``dates`` (AMAZON.DATE values), ``timeframe`` (days and parts of day), ``selection`` (which
events are offered), ``speech`` (SSML, cards, paging), ``slots`` (a request's slots as plain
choices), ``conversation`` (a question in, an answer out). One adapter: ``reader`` (the events
table, day by day, through ``EventReads.events_on``). ``settings`` is parsed at the handler edge.
"""

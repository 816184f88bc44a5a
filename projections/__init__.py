"""Projections: read models fed by the global event log, exactly-once and rebuildable, and
everything else kept beside the events in their database — the transparency log, the document
store — with the audits over them.

May import ``ledger``, ``licenses`` and ``keys``; never ``api``.
"""

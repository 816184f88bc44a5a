"""Projections: read models fed by the global event log, exactly-once and rebuildable.

May import ``ledger``, ``licenses`` and ``keys``; never ``api``.
"""

"""Ledger: the write side — service catalog, Case aggregate, run-at-most-once rules, the signed
and hash-chained event store, Merkle log math and the application service.

May import ``licenses`` and ``keys``; its domain modules import no other project package.
"""

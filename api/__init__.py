"""API: HTTP, web pages and the command line — the only package that knows HTTP and argv.

May import every other project package; nothing imports it.
"""

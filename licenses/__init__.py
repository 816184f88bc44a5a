"""Licenses: the e-license model, identifiers, credential codec, QR codec, offline verifier and
status lists.

May import ``keys`` (its Protocols and ``keys.cose``) only.
"""

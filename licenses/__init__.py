"""Licenses: identifiers, the License aggregate, COSE credentials with selective disclosure, the
QR codec, signed status lists and the offline verifier.

Sees ``keys`` only through the Signer port, ``keys.cose``/``keys.cbor`` and read-only key entries.
"""

"""Keys: signature algorithms, COSE_Sign1, key stores, the key registry and the trust list.

Owns every private key; nothing else in the project touches private key bytes (others get a
``Signer``). Imports no other project package.
"""

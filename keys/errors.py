"""The one error hierarchy of ``keys``: every failure names what was expected and what was found."""


class KeyManagementError(Exception):
    """Base of every error raised by the ``keys`` package."""


class MalformedMessage(KeyManagementError):
    """CBOR or COSE bytes that do not have the required structure."""


class UnsupportedAlgorithm(KeyManagementError):
    """An algorithm identifier that is not in the registry (or not allowed here)."""


class SignatureInvalid(KeyManagementError):
    """A signature that does not verify over the exact bytes received."""


class UnknownKey(KeyManagementError):
    """A key id that the registry, store or trust list does not hold."""


class KeyNotValid(KeyManagementError):
    """A known key used outside its validity, after rotation or revocation, or for another owner."""


class WrongPassphrase(KeyManagementError):
    """An encrypted private key that the given passphrase does not open."""


class RegistryConflict(KeyManagementError):
    """A registry command that contradicts the key's history (e.g. revoking twice)."""

"""The two error families of the transparency-log core."""


class VerificationError(Exception):
    """A signature, proof or signed note did not verify."""


class EncodingError(ValueError):
    """Input is malformed: bad base64, non-canonical or non-integer JSON, a bad key string."""

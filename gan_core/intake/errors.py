"""The one error every intake raises: its message names the input and says what is wrong, for a student."""


class IntakeError(ValueError):
    """An untrusted input was refused before it could cost the server memory, disk or time."""

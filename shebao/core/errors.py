"""Domain errors: every service raises one of these with a message a clerk can act on."""


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class ValidationError(DomainError):
    """Input that cannot be accepted (a bad identifier, amount, file row...)."""


class PermissionDenied(DomainError):
    """The actor's role or data scope does not allow this."""


class StateError(DomainError):
    """The object is not in a state that allows this transition."""

"""Services: query, map rows to domain dataclasses, call the domain, flush.

Services never commit; the view or command that called them commits once.
"""


class ServiceError(Exception):
    """A request that cannot be carried out; ``fields`` names each bad input."""

    status = 422
    code = "invalid"

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"

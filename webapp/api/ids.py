"""Numeric ids in URLs: anything beyond a database integer cannot name a row, so it is 404."""

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """A positive id that fits the database's integer columns."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002, ANN001, ANN002, ANN003
        super().__init__(map, min=1, max=MAX_ID)

"""Request parsers of the REST API (a module of its own: settings name it, and DRF imports it
while its views are still loading)."""

from __future__ import annotations

from rest_framework import exceptions, parsers


class JSONBodyParser(parsers.JSONParser):
    """DRF's JSON parser; a body nested too deep for Python is a 400 like any bad JSON."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None

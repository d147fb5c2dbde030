"""The admin's change history pages for the records that keep one."""

from __future__ import annotations

from simple_history.admin import SimpleHistoryAdmin


class HistoryAdmin(SimpleHistoryAdmin):
    """A model admin whose records keep a history (who, when, which fields)."""

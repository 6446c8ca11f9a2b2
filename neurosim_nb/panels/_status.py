"""Status-line messages shared by the panels."""

from __future__ import annotations

import html


def rejected_html(message: str, kept: bool, *, plots: bool = False) -> str:
    """The status line for values a panel could not simulate (never a traceback).

    >>> "last valid run" in rejected_html("V_reset must be below V_threshold", kept=True)
    True
    """
    shown = "the plots show" if plots else "the plot shows"
    return ('<span style="color:#b00020"><b>Not simulated:</b> '
            f"{html.escape(message)}</span>"
            + (f' <span style="color:#666">({shown} the last valid run)</span>' if kept else ""))

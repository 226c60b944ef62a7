"""What the CLI shows while it works: progress bars on a terminal, detail lines with ``--verbose``.

Results go to stdout; progress and detail go to stderr. Off a terminal there are no bars and no
escape codes. Counts and file names only, never row contents.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """``12,345 rows/s``: the task's speed in its own unit (field ``unit``)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} {task.fields.get('unit', 'rows')}/s" if speed else "", style="progress.data.speed")


class Reporter:
    """Progress and detail of one command: bars when stderr is a terminal, lines when verbose."""

    def __init__(self, verbose: bool = False) -> None:
        self.verbose = verbose
        self.console = Console(stderr=True, highlight=False, soft_wrap=True)

    def detail(self, message: str) -> None:
        """A line for ``--verbose`` only."""
        if self.verbose:
            self.console.print(message, markup=False)

    @contextlib.contextmanager
    def progress(self) -> Iterator[Progress]:
        """A rich Progress (a no-op off a terminal); it vanishes when done."""
        bars = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
            disable=not self.console.is_terminal,
        )
        with bars:
            yield bars

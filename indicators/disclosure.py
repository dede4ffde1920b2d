"""Statistical disclosure control: the one module every aggregate output passes through.

Report pages, chart data, CSV/XLSX exports and the indicators API hand their tables to :func:`protect_table`
(or :func:`protect_series` / :func:`protect_count`) and publish only what comes back. The rules, from the
domain design ("Protecting the people behind the numbers"):

* primary suppression: a count from 1 to k-1 is shown as ``"<k"``; a true zero is shown as ``0``;
* secondary suppression: further non-zero cells (and, as a last resort, totals) are hidden, shown as ``"x"``,
  so that no suppressed value can be recovered from the published row sums, column sums and grand total by
  any linear combination;
* exact mode (coordinators) shows every value through the same function, so callers have one code path.

The module is pure Python. It reads ``settings.DISCLOSURE_K`` only when a caller does not pass ``k``, and
only at call time, so it imports (and is tested) without Django configured.

How secondary suppression works. Write the table with its totals as an (m+1) x (n+1) grid: the cells, the
row totals in an extra column, the column totals in an extra row and the grand total in the corner. Every
published equation says that one line of that grid adds up (row i: cells = row total; the totals row:
column totals = grand total; and likewise for columns). Read each grid line as a node of a bipartite graph
and each grid entry as an edge between its row node and its column node. The hidden entries are then
unknowns of a flow that must balance at every node, and an unknown is determined by the equations exactly
when its edge lies on no cycle of hidden edges (its value could otherwise be shifted around the cycle
without changing any published sum). So for each primary cell we hide the cheapest path of further
entries that closes a cycle through it, found with Dijkstra's algorithm.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Status = Literal["shown", "primary", "secondary"]

SHOWN: Status = "shown"
PRIMARY: Status = "primary"
SECONDARY: Status = "secondary"

# Shown for a cell hidden only to protect another one; the convention of statistical offices.
SECONDARY_MARK = "x"

# The column key of the one-column table built by protect_series; callers label it as they wish.
SERIES_COLUMN = "count"

# A grid position: (row, column) in the (m+1) x (n+1) grid, where index m is the column totals row and
# index n is the row totals column.
_Position = tuple[int, int]

# The price of hiding one more entry, compared lexicographically: hiding the grand total (the headline
# figure) only if nothing else can protect, then as few row or column totals as possible, then the smallest
# sum of hidden values (least information lost), then the fewest cells.
_Cost = tuple[int, int, int, int]
_FREE: _Cost = (0, 0, 0, 0)


@dataclass(frozen=True)
class ProtectedCell:
    """One published number: its value (None when hidden), the text to show, and why it is hidden."""

    value: int | None
    display: str
    status: Status

    @property
    def hidden(self) -> bool:
        return self.status != SHOWN


@dataclass(frozen=True)
class ProtectedTable:
    """A table of counts with its totals, every entry already protected for the audience it was made for.

    ``cells[i][j]`` belongs to ``row_keys[i]`` and ``col_keys[j]``. Totals are the sums of the cells of the
    table as given, so they are only meaningful for additive tables (each unit counted in exactly one cell).
    """

    row_keys: tuple[Hashable, ...]
    col_keys: tuple[Hashable, ...]
    cells: tuple[tuple[ProtectedCell, ...], ...]
    row_totals: tuple[ProtectedCell, ...]
    col_totals: tuple[ProtectedCell, ...]
    grand_total: ProtectedCell
    k: int
    exact: bool

    def cell(self, row_key: Hashable, col_key: Hashable) -> ProtectedCell:
        """The protected cell at ``(row_key, col_key)``; KeyError for a key the table does not have."""
        try:
            i = self.row_keys.index(row_key)
            j = self.col_keys.index(col_key)
        except ValueError:
            raise KeyError((row_key, col_key)) from None
        return self.cells[i][j]

    def as_rows(self, *, total_label: str = "Total") -> list[list[object]]:
        """The table as plain rows for a CSV writer or a template loop: a header, one row per row key and a
        totals row. Keys are returned as given; counts as their display text ("12", "0", "<5", "x").

        A one-column table (a series) leaves out the row totals column, which would only repeat its cells.
        """
        with_row_totals = len(self.col_keys) != 1
        header: list[object] = ["", *self.col_keys]
        if with_row_totals:
            header.append(total_label)
        rows: list[list[object]] = [header]
        for key, cells, row_total in zip(self.row_keys, self.cells, self.row_totals, strict=True):
            row: list[object] = [key, *(cell.display for cell in cells)]
            if with_row_totals:
                row.append(row_total.display)
            rows.append(row)
        totals: list[object] = [total_label, *(cell.display for cell in self.col_totals)]
        if with_row_totals:
            totals.append(self.grand_total.display)
        rows.append(totals)
        return rows


def protect_count(n: int, *, k: int | None = None, exact: bool = False) -> ProtectedCell:
    """Protect a lone headline number: 1 to k-1 becomes "<k" (primary suppression), anything else is shown.

    A number published on its own takes part in no equation, so it needs no secondary suppression. A number
    that is also the total of a table shown on the same page must come from that table's ``grand_total``.
    """
    k = _resolve_k(k)
    _check_count(n, "count")
    if exact:
        return _shown(n)
    return _primary(k) if _is_small(n, k) else _shown(n)


def protect_series(
    keys: Iterable[Hashable],
    counts: Mapping[Hashable, int],
    *,
    k: int | None = None,
    exact: bool = False,
) -> ProtectedTable:
    """Protect a one-way disaggregation with its total, as a one-column table keyed ``SERIES_COLUMN``.

    The rules are those of :func:`protect_table`: with a single column, each small count needs at least one
    more non-zero count hidden beside it, or the total would give it away. Missing keys count as 0.
    """
    return protect_table(
        keys,
        [SERIES_COLUMN],
        {(key, SERIES_COLUMN): n for key, n in counts.items()},
        k=k,
        exact=exact,
    )


def protect_table(
    row_keys: Iterable[Hashable],
    col_keys: Iterable[Hashable],
    counts: Mapping[tuple[Hashable, Hashable], int],
    *,
    k: int | None = None,
    exact: bool = False,
) -> ProtectedTable:
    """Protect a two-way table of counts together with its row totals, column totals and grand total.

    Rules enforced (unless ``exact``, which shows every value):

    * every cell or total from 1 to k-1 is hidden and shown as "<k" (primary); zeros are shown;
    * enough further non-zero entries are hidden, shown as "x" (secondary), that no primary value is
      determined by the published row sums, column sums and grand total, whatever linear combination of
      them an attacker uses. Complements are the smallest non-zero cells that do the job; a row or column
      total is hidden only when no path through cells exists, and the grand total only as the last resort;
    * the result depends only on the input (keys in the order given), never on chance.

    A three-way cross-tab is passed with pairs of the first two dimensions as row keys: the module protects
    exactly the table that is shown. ``counts`` maps ``(row_key, col_key)`` to a count; missing pairs count
    as 0, and a key outside the table is an error rather than a silently wrong total.
    """
    rows = _unique_keys(row_keys, "row")
    cols = _unique_keys(col_keys, "column")
    k = _resolve_k(k)
    grid = _grid(rows, cols, counts)
    hidden = {} if exact else _suppress(grid, k)

    def publish(position: _Position) -> ProtectedCell:
        value = grid[position[0]][position[1]]
        status = hidden.get(position)
        if status == PRIMARY:
            return _primary(k)
        if status == SECONDARY:
            return ProtectedCell(value=None, display=SECONDARY_MARK, status=SECONDARY)
        return _shown(value)

    m, n = len(rows), len(cols)
    return ProtectedTable(
        row_keys=rows,
        col_keys=cols,
        cells=tuple(tuple(publish((i, j)) for j in range(n)) for i in range(m)),
        row_totals=tuple(publish((i, n)) for i in range(m)),
        col_totals=tuple(publish((m, j)) for j in range(n)),
        grand_total=publish((m, n)),
        k=k,
        exact=exact,
    )


def _suppress(grid: Sequence[Sequence[int]], k: int) -> dict[_Position, Status]:
    """Decide which grid entries to hide: the small ones, then for each of them the cheapest complements
    that put it on a cycle of hidden entries (see the module docstring for why a cycle is what protects)."""
    primary = [(r, c) for r, line in enumerate(grid) for c, value in enumerate(line) if _is_small(value, k)]
    hidden: dict[_Position, Status] = dict.fromkeys(primary, PRIMARY)
    # Hiding more entries only adds cycles, so an entry protected early stays protected; the order of this
    # loop (grid order: row by row with each row total after its cells, the column totals last) only makes
    # the choice of complements deterministic.
    for position in primary:
        if _on_hidden_cycle(hidden, position, rows=len(grid) - 1):
            continue
        for complement in _cheapest_cycle_completion(grid, hidden, position):
            hidden[complement] = SECONDARY
    return hidden


def _on_hidden_cycle(hidden: Iterable[_Position], target: _Position, *, rows: int) -> bool:
    """Whether ``target`` already lies on a cycle of hidden entries, i.e. its two lines are joined by hidden
    entries without it. The answer _cheapest_cycle_completion would give at zero cost, found by a search
    over the hidden entries only, which keeps large tables with many small cells fast."""
    # Same node numbering as _cheapest_cycle_completion: rows 0..rows, then columns.
    adjacency: dict[int, list[int]] = {}
    for r, c in hidden:
        if (r, c) != target:
            adjacency.setdefault(r, []).append(rows + 1 + c)
            adjacency.setdefault(rows + 1 + c, []).append(r)
    start, goal = target[0], rows + 1 + target[1]
    seen, frontier = {start}, [start]
    while frontier:
        u = frontier.pop()
        for v in adjacency.get(u, ()):
            if v == goal:
                return True
            if v not in seen:
                seen.add(v)
                frontier.append(v)
    return False


def _cheapest_cycle_completion(
    grid: Sequence[Sequence[int]], hidden: Mapping[_Position, Status], target: _Position
) -> list[_Position]:
    """The entries, not yet hidden, on the cheapest path that joins the two lines of ``target`` without
    using ``target`` itself. Hidden entries are free, so an entry already on a hidden cycle costs nothing."""
    m, n = len(grid) - 1, len(grid[0]) - 1
    # Nodes 0..m are the grid's rows (m is the column totals row); nodes m+1..m+n+1 its columns.
    start, goal = target[0], m + 1 + target[1]

    def position(u: int, v: int) -> _Position:
        return (u, v - m - 1) if u <= m else (v, u - m - 1)

    def neighbours(u: int) -> range:
        return range(m + 1, m + n + 2) if u <= m else range(m + 1)

    def cost(p: _Position) -> _Cost | None:
        if p in hidden:
            return _FREE
        value = grid[p[0]][p[1]]
        if value == 0:
            # An attacker may assume that zeros are published as zeros, so a hidden zero protects nothing.
            return None
        is_grand = p == (m, n)
        is_total = (p[0] == m or p[1] == n) and not is_grand
        return (int(is_grand), int(is_total), value, 1)

    best: dict[int, _Cost] = {start: _FREE}
    previous: dict[int, int] = {}
    queue: list[tuple[_Cost, int]] = [(_FREE, start)]
    while queue:
        so_far, u = heapq.heappop(queue)
        if u == goal:
            break
        if so_far > best[u]:
            continue
        for v in neighbours(u):
            p = position(u, v)
            step = cost(p) if p != target else None
            if step is None:
                continue
            candidate = (so_far[0] + step[0], so_far[1] + step[1], so_far[2] + step[2], so_far[3] + step[3])
            if v not in best or candidate < best[v]:
                best[v] = candidate
                previous[v] = u
                heapq.heappush(queue, (candidate, v))
    if goal not in previous:
        # Cannot happen for counts that add up (a non-zero cell has non-zero row, column and grand totals,
        # which always close a cycle); refuse to publish rather than publish an unprotected table.
        raise RuntimeError("disclosure control found no complement for a suppressed cell")

    path: list[_Position] = []
    v = goal
    while v != start:
        u = previous[v]
        p = position(u, v)
        if p not in hidden:
            path.append(p)
        v = u
    path.reverse()
    return path


def _grid(
    rows: Sequence[Hashable], cols: Sequence[Hashable], counts: Mapping[tuple[Hashable, Hashable], int]
) -> list[list[int]]:
    """The counts as an (m+1) x (n+1) grid with row totals in the last column and column totals in the
    last row, the grand total in the corner."""
    row_index = {key: i for i, key in enumerate(rows)}
    col_index = {key: j for j, key in enumerate(cols)}
    m, n = len(rows), len(cols)
    grid = [[0] * (n + 1) for _ in range(m + 1)]
    for pair, count in counts.items():
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise ValueError(f"counts must be keyed by (row, column) pairs, got {pair!r}")
        row_key, col_key = pair
        if row_key not in row_index or col_key not in col_index:
            raise ValueError(f"count for {pair!r} is outside the table's rows and columns")
        _check_count(count, repr(pair))
        i, j = row_index[row_key], col_index[col_key]
        grid[i][j] += count
        grid[i][n] += count
        grid[m][j] += count
        grid[m][n] += count
    return grid


def _resolve_k(k: int | None) -> int:
    """The threshold to use: the caller's, or the portal's DISCLOSURE_K setting (read here, at call time)."""
    if k is None:
        from django.conf import settings

        k = settings.DISCLOSURE_K
    # A threshold below 2 would suppress nothing; exact mode is the one way to show every value.
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise ValueError(f"disclosure threshold k must be an integer of at least 2, got {k!r}")
    return k


def _unique_keys(keys: Iterable[Hashable], what: str) -> tuple[Hashable, ...]:
    result = tuple(keys)
    if len(set(result)) != len(result):
        raise ValueError(f"{what} keys must be unique")
    return result


def _check_count(count: object, where: str) -> None:
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count for {where} must be a non-negative integer, got {count!r}")


def _is_small(value: int, k: int) -> bool:
    return 0 < value < k


def _shown(value: int) -> ProtectedCell:
    return ProtectedCell(value=value, display=str(value), status=SHOWN)


def _primary(k: int) -> ProtectedCell:
    return ProtectedCell(value=None, display=f"<{k}", status=PRIMARY)

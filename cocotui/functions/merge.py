"""Second step of recursive splitting, as CocoIndex v0 does it: join consecutive atoms into
chunks of at most ``chunk_size`` bytes, choosing by dynamic programming the cheapest way to
cover the text.

A chunk costs more when it is smaller than ``min_chunk_size``, when its edges lie deeper in the
text's structure than boundaries inside it (a chunk should not end mid-paragraph when a
paragraph break lies inside it), and, with ``chunk_overlap``, when it does not overlap the
previous chunk by about that many bytes. The constants are v0's, so the same text gets the same
chunks.

The inner loop runs once per (last atom, first atom) pair that fits in a chunk, so it is written
for speed: plain lists and local variables, a plan's (cost, index) packed into one integer.
"""

from __future__ import annotations

from collections.abc import Sequence

from cocotui.functions.atoms import Atom

SYNTAX_LEVEL_GAP_COST = 512
MISSING_OVERLAP_COST = 512
PER_LINE_BREAK_LEVEL_GAP_COST = 64
TOO_SMALL_CHUNK_COST = 1048576
#: Larger than any cost or level (v0's ``usize::MAX``).
_UNSET = 2**64 - 1


def _syntax_gap_costs(max_gap: int) -> list[int]:
    """Cost of an edge ``g`` levels deeper than the chunk's inside: the harmonic-like sum
    ``512//1 + 512//2 + ... + 512//g``."""
    sums = [0]
    for level in range(1, max_gap + 1):
        sums.append(sums[-1] + SYNTAX_LEVEL_GAP_COST // level)
    return sums


class _Plans:
    """For each ``i``, the cheapest way found to cover the atoms before ``i``: ``start[i]`` is
    the first atom of its last chunk, ``previous[i]`` the plan it extends, ``cost[i]`` its
    cost and ``overlap_base[i]`` the overlap cost base at its end."""

    def __init__(self, capacity: int, first_overlap_base: int) -> None:
        self.start = [0] * capacity
        self.previous = [0] * capacity
        self.cost = [0] * capacity
        self.overlap_base = [0] * capacity
        self.overlap_base[0] = first_overlap_base


class ChunkMerger:
    def __init__(
        self,
        byte_offsets: Sequence[int],
        chunk_size: int,
        min_chunk_size: int,
        chunk_overlap: int,
    ) -> None:
        self.byte_offsets = byte_offsets
        self.total_bytes = byte_offsets[-1]
        self.chunk_size = chunk_size
        self.min_chunk_size = min_chunk_size
        self.chunk_overlap = chunk_overlap

    def _overlap_base(self, byte_offset: int) -> int:
        """Grows with the bytes left after an offset: comparing two bases tells how far past
        the start of a chunk the previous one ends."""
        if self.chunk_overlap == 0:
            return 0
        return (self.total_bytes - byte_offset) * MISSING_OVERLAP_COST // self.chunk_overlap

    def merge(self, atoms: list[Atom]) -> list[tuple[int, int]]:
        """The chunks, as (start, end) character offsets, in order. ``atoms`` ends with the
        empty atom closing the text."""
        plans = _Plans(len(atoms), self._overlap_base(0))
        for index in range(len(atoms) - 1):
            self._plan_chunk_ending_at(index, atoms, plans)
        chunks: list[tuple[int, int]] = []
        plan = len(atoms) - 1
        while plan > 0:
            chunks.append((atoms[plans.start[plan]].start, atoms[plan - 1].end))
            plan = plans.previous[plan]
        chunks.reverse()
        return chunks

    def _plan_chunk_ending_at(self, index: int, atoms: list[Atom], plans: _Plans) -> None:
        """Find the cheapest plan whose last chunk ends with atom ``index``, trying every
        first atom for that chunk from ``index`` back while the chunk fits."""
        if index == 0:
            self._prepare(atoms)
        starts, ends, levels = self._starts, self._ends, self._levels
        breaks, inner_breaks, start_bases = self._breaks, self._inner_breaks, self._start_bases
        gap_costs, plan_cost, plan_base = self._gap_costs, plans.cost, plans.overlap_base
        chunk_size, min_size, overlap = self.chunk_size, self.min_chunk_size, self.chunk_overlap
        reach, plan_keys, tails = self._overlap_reach, self._plan_keys, self._tails
        packing = len(atoms)
        end = ends[index]
        end_level, end_break = levels[index + 1], breaks[index + 1]
        inner_level, inner_break = _UNSET, 0
        best_cost, best_start, best_previous = _UNSET, 0, 0
        running_key = _UNSET
        start = index
        while True:
            first_level, size = levels[start], end - starts[start]
            cost = TOO_SMALL_CHUNK_COST if size < min_size else 0
            if first_level > inner_level:
                cost += gap_costs[first_level - inner_level]
            if end_level > inner_level:
                cost += gap_costs[end_level - inner_level]
            if inner_break:
                if inner_break > breaks[start]:
                    cost += (inner_break - breaks[start]) * PER_LINE_BREAK_LEVEL_GAP_COST
                if inner_break > end_break:
                    cost += (inner_break - end_break) * PER_LINE_BREAK_LEVEL_GAP_COST
            if size > chunk_size:
                if best_cost == _UNSET:  # even one atom is too large: it is a chunk alone
                    best_cost, best_start, best_previous = cost + plan_cost[start], start, start
                break
            if not overlap:
                previous = start
                cost += plan_cost[start] + MISSING_OVERLAP_COST // 2
            elif reach[start] >= index:  # every plan from here to the last is a candidate
                if plan_keys[start] < running_key:
                    running_key = plan_keys[start]
                previous = packing - 1 - running_key % packing
                cost += plan_cost[previous] + MISSING_OVERLAP_COST
                if plan_base[previous] < start_bases[start]:
                    cost += plan_base[previous] - start_bases[start]
            else:
                tail = tails[start]
                if tail is None:
                    tail = tails[start] = self._overlapped_tail(start, plans)
                previous = tail[0]
                cost += tail[1]
            if cost < best_cost:
                best_cost, best_start, best_previous = cost, start, previous
            if start == 0:
                break
            if first_level < inner_level:
                inner_level = first_level
            if inner_breaks[start] > inner_break:
                inner_break = inner_breaks[start]
            start -= 1
        self._finish_plan(index + 1, best_start, best_previous, best_cost, end, plans)

    def _finish_plan(
        self, plan: int, start: int, previous: int, cost: int, end: int, plans: _Plans
    ) -> None:
        plans.start[plan], plans.previous[plan], plans.cost[plan] = start, previous, cost
        plans.overlap_base[plan] = self._overlap_base(end)
        packing = len(plans.cost)
        self._plan_keys[plan] = (cost + plans.overlap_base[plan]) * packing + packing - 1 - plan

    def _overlapped_tail(self, start: int, plans: _Plans) -> tuple[int, int]:
        """The plan a chunk starting at atom ``start`` extends when the chunk reaches past the
        plans it may overlap, and what that adds to the chunk's cost.

        The plan is the cheapest (by cost and overlap, ties going to the later one) of the plans
        from ``start`` to the last one ending at most ``chunk_overlap`` bytes into the chunk.
        (v0 keeps these candidates in a heap; it measures plan ``p`` by the end of atom ``p``.)
        Those plans are final by then, so the answer holds for every later chunk end.
        """
        packing = len(self._plan_keys)
        keys = self._plan_keys[start : self._overlap_reach[start] + 1]
        previous = packing - 1 - min(keys) % packing
        cost = plans.cost[previous] + MISSING_OVERLAP_COST
        previous_base, start_base = plans.overlap_base[previous], self._start_bases[start]
        if previous_base < start_base:
            cost += previous_base - start_base
        return previous, cost

    def _prepare(self, atoms: list[Atom]) -> None:
        """The atoms' fields as plain lists, offsets in bytes; for each atom, the last one
        ending at most ``chunk_overlap`` bytes after its start (or itself)."""
        offsets = self.byte_offsets
        self._starts = [offsets[atom.start] for atom in atoms]
        self._ends = [offsets[atom.end] for atom in atoms]
        self._levels = [atom.boundary_level for atom in atoms]
        self._breaks = [int(atom.boundary_break) for atom in atoms]
        self._inner_breaks = [int(atom.internal_break) for atom in atoms]
        self._start_bases = [self._overlap_base(start) for start in self._starts]
        self._gap_costs = _syntax_gap_costs(max(self._levels) + 1)
        self._plan_keys = [0] * len(atoms)
        self._plan_keys[0] = self._overlap_base(0) * len(atoms) + len(atoms) - 1
        self._tails: list[tuple[int, int] | None] = [None] * len(atoms)
        self._overlap_reach = []
        last = 0  # both only grow: atoms are in order
        for index, start in enumerate(self._starts):
            while last + 1 < len(atoms) and self._ends[last + 1] <= start + self.chunk_overlap:
                last += 1
            self._overlap_reach.append(max(index, last))

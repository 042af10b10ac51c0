"""Shape checks on a programme's state machine, so a case can never be stuck or end without an outcome."""

from __future__ import annotations

from collections import deque

from divert.rules.definition import State, Transition


def check_graph(states: list[State], transitions: list[Transition]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    by_id = {state.id: state for state in states}
    outgoing: dict[str, list[str]] = {state.id: [] for state in states}
    for index, transition in enumerate(transitions):
        source = by_id.get(transition.from_state)
        if source is not None and source.terminal:
            problems.append(
                (f"transitions[{index}].from", f"'{source.id}' is a terminal state, so nothing may leave it")
            )
        if transition.from_state in outgoing and transition.to_state in by_id:
            outgoing[transition.from_state].append(transition.to_state)
    if not any(state.terminal for state in states):
        problems.append(("states", "no terminal state, so no case could ever end"))
    initial = next((state.id for state in states if state.initial), None)
    reachable = _reachable(initial, outgoing) if initial else set(by_id)
    for index, state in enumerate(states):
        if state.id not in reachable:
            problems.append((f"states[{index}]", f"'{state.id}' cannot be reached from the initial state"))
        elif not state.terminal and not outgoing[state.id]:
            problems.append((f"states[{index}]", f"'{state.id}' is not terminal but has no way out"))
    return problems


def _reachable(start: str, outgoing: dict[str, list[str]]) -> set[str]:
    seen = {start}
    queue = deque([start])
    while queue:
        for target in outgoing[queue.popleft()]:
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen

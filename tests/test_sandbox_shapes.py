"""Answers carry what the document requires of them, also for objects a world stored before the sandbox knew to."""

from __future__ import annotations

from typing import Any

import pytest

from tests.openapi import assert_valid
from vapi_mcp.sandbox import Sandbox
from vapi_mcp.sandbox.core import stamp


@pytest.fixture
def sandbox(either_world: Sandbox) -> Sandbox:
    """Every test here runs on a world in memory and on one in an SQLite file."""
    return either_world


@pytest.fixture
def simulation_id(sandbox: Sandbox, clock: Any) -> str:
    scenario = stamp(clock, name="Price", instructions="Ask the price.", evaluations=[])
    simulation = stamp(clock, scenarioId=scenario["id"], personalityId="00000000-0000-4000-8000-000000000001")
    sandbox.store.scenarios[scenario["id"]] = scenario
    sandbox.store.simulations[simulation["id"]] = simulation
    return simulation["id"]


async def test_a_simulation_suite_always_answers_its_target_assignments(api, sandbox, clock, simulation_id):
    """`targetAssignments` is required in SimulationSuite: it was left out of every answer when the body had none."""
    created = await api.post("/eval/simulation/suite", json={"name": "Front desk", "simulationIds": [simulation_id]})
    suite = created.json()
    assert created.status_code == 201 and suite["targetAssignments"] == []
    assert_valid("SimulationSuite", suite)
    older = stamp(clock, name="Kept from before", simulationIds=[simulation_id])  # stored without it
    sandbox.store.suites[older["id"]] = older
    answers = [
        (await api.get(f"/eval/simulation/suite/{older['id']}")).json(),
        *(await api.get("/eval/simulation/suite")).json(),
        (await api.patch(f"/eval/simulation/suite/{suite['id']}", json={"name": "Desk"})).json(),
        (await api.delete(f"/eval/simulation/suite/{older['id']}")).json(),
    ]
    for answer in answers:
        assert_valid("SimulationSuite", answer)
    assigned = await api.post(
        "/eval/simulation/suite",
        json={"name": "Assigned", "simulationIds": [simulation_id], "targetAssignments": [{"targetType": "assistant", "targetId": simulation_id}]},
    )
    assert assigned.json()["targetAssignments"] == [{"targetType": "assistant", "targetId": simulation_id}]


async def test_a_default_is_a_fresh_copy_for_each_object(api, sandbox, simulation_id):
    first = (await api.post("/eval/simulation/suite", json={"name": "One", "simulationIds": [simulation_id]})).json()
    second = (await api.post("/eval/simulation/suite", json={"name": "Two", "simulationIds": [simulation_id]})).json()
    sandbox.store.suites[first["id"]]["targetAssignments"].append({"targetType": "assistant", "targetId": simulation_id})
    assert sandbox.store.suites[second["id"]]["targetAssignments"] == []

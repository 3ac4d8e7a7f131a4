"""Started with --data, the service opens cases for passives whose customers are valuable and at risk."""

from __future__ import annotations

import httpx
import pytest

from custfocus import demo
from custfocus.data.loading import load
from custfocus.service import create_key
from custfocus.service.cases import AT_RISK_BELOW, VALUABLE_SHARE, valuable_at_risk
from custfocus.value import customer_value

pytestmark = [pytest.mark.service, pytest.mark.slow]


@pytest.fixture(scope="module")
def company_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("company")
    demo.write(demo.generate(customers=2_000, seed=11), folder)
    return folder


def test_valuable_at_risk_is_the_top_fifth_by_clv_with_low_probability_alive(company_folder):
    company = load(company_folder)
    chosen = valuable_at_risk(company)
    table = customer_value(company).table.to_pandas().set_index("customer_id")
    ranks = table["clv"].rank(pct=True, method="max")
    expected = set(table.index[(ranks > 1 - VALUABLE_SHARE) & (table["p_alive"] < AT_RISK_BELOW)])
    assert chosen and set(chosen) == expected
    assert len(chosen) < VALUABLE_SHARE * len(table)


def test_a_passive_of_a_valuable_customer_at_risk_opens_a_case(company_folder, sqlite_database, start_server):
    company = load(company_folder)
    at_risk = sorted(valuable_at_risk(company))
    safe = next(c for c in company.tables["customers"].customer_id.to_pandas() if c not in set(at_risk))
    server = start_server(sqlite_database, args=("--data", str(company_folder)))
    key = create_key(sqlite_database, ["admin"])
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}) as http:
        risky = http.post("/api/v1/responses", json={"kind": "nps", "score": 8, "customer_id": at_risk[0]}).json()
        calm = http.post("/api/v1/responses", json={"kind": "nps", "score": 8, "customer_id": safe}).json()
        case = http.get(f"/api/v1/cases/{risky['case_id']}").json()
    assert calm["case_id"] is None
    assert case["reason"] == "valuable at risk" and case["customer_id"] == at_risk[0]

"""The demo history comes with kept reach figures and a target scaled to its size, said on the dashboard."""
from mhfa.auth.models import Role
from mhfa.extensions import db
from mhfa.reach.counts import GROUPINGS, Filters, kept_counts
from mhfa.reach.keeping import rebuild
from mhfa.reach.settings import current_settings
from tests import factories
from tests.reach.bare import bare_counts


def test_demo_data_builds_the_kept_figures_and_a_scaled_target(runner, client, auth):
    result = runner.invoke(args=["mhfa", "demo-data", "--people", "300", "--today", "2026-11-25"])
    assert result.exit_code == 0, result.output
    assert "target is scaled" in result.output
    for basis in ("home", "work", "delivery"):
        for grouping in GROUPINGS:
            filters = Filters(basis=basis)
            assert kept_counts(grouping, filters) == bare_counts(grouping, filters)
    assert sum(kept_counts("area", Filters()).values()) > 250
    assert rebuild() == []
    db.session.rollback()
    assert current_settings().target_people == 300
    user = factories.user(Role.BOARD)
    db.session.commit()
    auth.login(user)
    assert "Demo data: the target is scaled" in client.get("/reach").get_data(as_text=True)

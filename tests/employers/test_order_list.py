"""The programme team's orders list: a page at a time, filtered by status, searched by organisation or PO."""
import pytest

from mhfa.employers import orders
from mhfa.employers.models import OrderStatus
from mhfa.extensions import db
from tests import factories


def _orders():
    acme = factories.employer("Acme Trains")
    canal = factories.employer("Canal & River 100%")
    made = [factories.order(acme, purchase_order_ref=f"ACME-{n}") for n in range(3)]
    made.append(factories.order(canal, purchase_order_ref="CRT_77", status=OrderStatus.PENDING))
    db.session.commit()
    return made


def test_orders_are_searched_by_organisation_or_purchase_order_and_filtered_by_status(app_ctx):
    _orders()
    assert orders.search_orders().total == 4
    assert orders.search_orders().items[0].purchase_order_ref == "CRT_77", "waiting for an invoice comes first"
    assert orders.search_orders(text="acme").total == 3
    assert orders.search_orders(text=" acme-1 ").total == 1
    assert orders.search_orders(text="100%").total == 1, "a % is a character, not a wildcard"
    assert orders.search_orders(text="crt_").total == 1 and orders.search_orders(text="acme_").total == 0
    assert orders.search_orders(OrderStatus.PENDING).total == 1
    assert orders.search_orders(OrderStatus.INVOICED, "canal").total == 0
    assert orders.search_orders(OrderStatus.CANCELLED).total == 0


def test_the_orders_page_is_paginated(app_ctx, coordinator, client, monkeypatch):
    monkeypatch.setattr(orders, "ORDERS_PER_PAGE", 2)
    _orders()
    first = client.get("/manage/orders").get_data(as_text=True)
    assert "Orders 1 to 2 of 4" in first and 'aria-label="Page 2"' in first
    second = client.get("/manage/orders?page=2").get_data(as_text=True)
    assert "Orders 3 to 4 of 4" in second
    found = client.get("/manage/orders?q=CRT&status=pending").get_data(as_text=True)
    assert "Orders 1 to 1 of 1" in found and "Canal &amp; River 100%" in found
    assert "No orders match" in client.get("/manage/orders?status=paid").get_data(as_text=True)


@pytest.mark.parametrize("query", ["status=nonsense", "page=-4", "page=99999999999999999999", "q=" + "x" * 500,
                                   "q=%27%3B--", "status=pending&status=paid"])
def test_hostile_order_list_queries_get_a_page_not_an_error(app_ctx, coordinator, client, query):
    _orders()
    assert client.get(f"/manage/orders?{query}").status_code == 200

"""A board member reads one figure everywhere: the dashboard's headline, the chart's data table, the chart's
text and the public progress page give the same number counted toward the target; filtered to one council
area, the headline, the required path and the chart use that area's share of the target and name it."""
from __future__ import annotations

import re

from tests.browser.conftest import check_page, login, navigate, visit


def _figure(page, name: str) -> int:
    return int(page.locator(f"[data-figure='{name}']").first.inner_text().replace(",", ""))


def _chart_table_last(page) -> list[str]:
    page.get_by_text("The data behind the chart").click()
    row = page.locator("section[aria-labelledby='table-trajectory'] tbody tr").last
    assert row.is_visible()
    return [cell.replace(",", "") for cell in row.locator("td").all_inner_texts()]


CHART_TEXT = """() => {
  const svg = [...document.querySelectorAll('svg.reach-chart')].find(s => s.getBoundingClientRect().width > 0);
  const box = svg.getBoundingClientRect();
  const scale = svg.getScreenCTM().a;
  return [...svg.querySelectorAll('text')].map(t => {
    const r = t.getBoundingClientRect();
    return {text: t.textContent, px: scale * parseFloat(t.getAttribute('font-size')),
            inside: r.left >= box.left - 0.5 && r.right <= box.right + 0.5 && r.bottom <= box.bottom + 0.5,
            box: [r.left, r.top, r.right, r.bottom]};
  });
}"""


def _check_chart_text(page) -> None:
    """Every word of the visible chart at least 12 px on screen, inside the chart (legend not clipped), and
    clear of every other (the year labels once ran over the legend at 375 px)."""
    texts = page.evaluate(CHART_TEXT)
    assert any(t["text"].startswith("Counted toward the target") for t in texts)
    small = [t for t in texts if t["px"] < 12]
    clipped = [t["text"] for t in texts if not t["inside"]]
    overlapping = [(a["text"], b["text"]) for i, a in enumerate(texts) for b in texts[i + 1:]
                   if a["box"][0] < b["box"][2] - 1 and b["box"][0] < a["box"][2] - 1
                   and a["box"][1] < b["box"][3] - 1 and b["box"][1] < a["box"][3] - 1]
    assert not small and not clipped and not overlapping, (small, clipped, overlapping)


def test_board_member_reads_the_same_figure_everywhere_and_an_areas_share(page, live_server, width):
    login(page, "board@example.org")
    visit(page, "/reach", "dashboard")
    _check_chart_text(page)
    counted, outside, required = _figure(page, "counted"), _figure(page, "outside"), _figure(page, "required")
    assert counted > 0
    caption = page.locator("figure figcaption").inner_text()
    assert f"{counted:,} people counted toward the target" in caption and f"{required:,} needed" in caption
    last = _chart_table_last(page)
    assert (int(last[1]), int(last[2]), int(last[3])) == (counted, required, outside)
    totals = page.locator("section[aria-labelledby='table-course_types'] tbody tr").last
    assert totals.locator("th").inner_text() == "Total counted toward the target"
    assert int(totals.locator("td").last.inner_text().replace(",", "")) == counted
    check_page(page, "dashboard-chart-table")

    visit(page, "/progress", "progress")
    assert _figure(page, "counted") == counted and _figure(page, "outside") == outside
    _check_chart_text(page)
    navigate(page.get_by_role("link", name="What is counted toward the target"))
    assert "plus people whose area is not known" in page.content()
    check_page(page, "counted-rule")

    visit(page, "/reach", "dashboard-again")
    page.get_by_label("Council area", exact=True).select_option(label="Coventry")
    navigate(page.get_by_role("button", name="Apply filters"))
    check_page(page, "dashboard-coventry")
    headline = page.locator("#headline").inner_text()
    share = int(re.search(r"of ([\d,]+), Coventry's pro-rata share of the target", headline).group(1)
                .replace(",", ""))
    assert 0 < share < int(re.search(r"to ([\d,]+)", caption).group(1).replace(",", ""))
    area_counted, area_required = _figure(page, "counted"), _figure(page, "required")
    assert "People in Coventry counted toward the target" in headline
    caption = page.locator("figure figcaption").inner_text()
    assert f"{area_counted:,} people in Coventry counted toward the target" in caption
    assert f"required path to {share:,}" in caption
    last = _chart_table_last(page)
    assert (int(last[1]), int(last[2])) == (area_counted, area_required)
    coventry = page.locator("section[aria-labelledby='table-areas'] tbody tr").filter(
        has=page.locator("th", has_text=re.compile("^Coventry$")))
    assert int(coventry.locator("td").nth(7).inner_text().replace(",", "")) == share  # pro-rata target column
    assert "council area Coventry" in page.content()


def test_board_member_finds_a_release_and_reads_its_figure_in_the_board_pack(page, live_server, width, tmp_path):
    import shutil
    import subprocess

    live_server.flask("mhfa", "freeze-release")  # the monthly job (idempotent: a second run adds nothing)
    visit(page, "/progress", "progress-releases")
    release = page.locator("#releases ~ table tbody tr th a").first
    key = release.inner_text()
    navigate(release)
    check_page(page, "release")
    frozen = _figure(page, "counted")
    assert f"Progress release {key}" in page.content()

    login(page, "board@example.org")
    visit(page, "/reach", "dashboard-board-pack")
    with page.expect_download() as download_info:
        page.get_by_role("link", name=f"Board pack, release {key} (PDF)").click()
    pdf = tmp_path / "pack.pdf"
    download_info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = " ".join(subprocess.run([shutil.which("pdftotext"), "-layout", str(pdf), "-"], capture_output=True,
                                       check=True, text=True).stdout.split())
        assert f"Progress release {key}" in text and f"Counted toward the target {frozen:,} of" in text

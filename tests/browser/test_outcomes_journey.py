"""Outcomes end to end: five trainees complete a two-day course; one answers the evaluation from the email and
downloads the certificate; the instructor sees the course's results only after the fifth answer; the board
reads the outcomes section on the dashboard, the outcomes page and downloads it; anyone reads the region's
outcomes on the public progress page.

The course is scheduled, staffed, published and booked through the pages, then moved into the past by one
SQL step (as in ``test_certificate_journey.py``, whose steps this reuses).
"""
from __future__ import annotations

from tests.browser.conftest import check_page, login, navigate, unique_email, visit
from tests.browser.journeys import in_a_few_weeks, publish
from tests.browser.test_certificate_journey import (
    PASSWORD,
    TITLE,
    _add_instructor,
    _download,
    _move_into_the_past,
    _schedule_two_day_course,
)

TRAINEES = 5


def _answer(page, link: str, name: str | None = None, comment: str = "") -> None:
    """Answer the evaluation page opened from its email link."""
    visit(page, link, name)
    for legend, score in (("Before the course, how confident", "4"), ("Now, how confident", "8"),
                          ("Before the course, how well", "3"), ("Now, how well", "9")):
        page.locator("fieldset", has_text=legend).get_by_label(score, exact=True).check()
    page.get_by_label("Very good").check()
    if comment:
        page.get_by_label("Anything you would like to tell us about the course (optional)").fill(comment)
    navigate(page.get_by_role("button", name="Send my answers"))
    assert "Thank you for your answers" in page.content(), page.url


def test_trainees_evaluate_instructor_sees_results_from_five_board_reads_and_downloads(new_page, live_server,
                                                                                        width, tmp_path):
    outbox = live_server.outbox
    coordinator = new_page()
    login(coordinator, "coordinator@example.org")
    teacher_name = ("Olwen", f"Outcomes{width.title()}")
    teacher_email = _add_instructor(coordinator, live_server, teacher_name)
    days = 60 if width == "desktop" else 62  # as _schedule_two_day_course lays it out
    course_id = _schedule_two_day_course(coordinator, live_server, width)
    visit(coordinator, f"/manage/courses/{course_id}")
    option = next(o for o in coordinator.locator("#instructor option").all_inner_texts()
                  if o.startswith(" ".join(teacher_name)))
    coordinator.locator("#instructor").select_option(label=option)
    navigate(coordinator.get_by_role("button", name="Assign instructor"))
    publish(coordinator, course_id)

    # Five trainees book a place.
    emails = []
    for n in range(TRAINEES):
        address = unique_email(f"evaluates{n}")
        live_server.flask("mhfa", "create-user", "--email", address, "--role", "trainee", "--name",
                          f"Eval{n} {width.title()}trainee", "--date-of-birth", "1985-03-04", "--password", PASSWORD)
        booker = new_page()
        login(booker, address, PASSWORD)
        visit(booker, f"/courses/{course_id}/book")
        navigate(booker.get_by_role("button", name="Book a place"))
        assert "You are booked on" in booker.content()
        booker.close()
        emails.append(address)

    # The course takes place; the instructor marks both registers and completes it.
    _move_into_the_past(live_server, course_id, (in_a_few_weeks(live_server, days) - live_server.today).days + 10)
    teacher = new_page()
    login(teacher, teacher_email, PASSWORD)
    for session in (1, 2):
        visit(teacher, f"/teaching/courses/{course_id}")
        navigate(teacher.get_by_role("link", name=f"Take the register for session {session}"))
        navigate(teacher.get_by_role("button", name="Mark everyone present"))
    visit(teacher, f"/teaching/courses/{course_id}/complete")
    navigate(teacher.get_by_role("button", name="Confirm the registers and complete the course"))
    assert f"Course completed: {TRAINEES} certificates issued." in teacher.content()

    # The first trainee answers the evaluation from the email, then downloads the certificate.
    trainee = new_page()
    login(trainee, emails[0], PASSWORD)
    link = outbox.link(emails[0], "/evaluation/")
    assert link.startswith(live_server.url + "/evaluation/")
    visit(trainee, link, "evaluation")
    navigate(trainee.get_by_role("button", name="Send my answers"))  # nothing chosen: every question says so
    assert "There is a problem" in trainee.content()
    check_page(trainee, "evaluation-errors")
    _answer(trainee, link, comment="The role play helped most.")
    check_page(trainee, "evaluation-answered")
    visit(trainee, link, status=409)
    assert "already been answered" in trainee.content()
    visit(trainee, "/my-courses")
    pdf = _download(trainee, f"Download PDF of {TITLE}", tmp_path, "certificate.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")

    # Three more answer from their links (signed out): four in all, so the instructor sees no result yet.
    for address in emails[1:4]:
        stranger = new_page()
        _answer(stranger, outbox.link(address, "/evaluation/"))
        stranger.close()
    visit(teacher, f"/teaching/courses/{course_id}/evaluation", "evaluation-results-hidden")
    assert "4 of 5 trainees invited have answered" in teacher.content()
    assert "The role play helped most." not in teacher.content()
    fifth = new_page()
    _answer(fifth, outbox.link(emails[4], "/evaluation/"), comment="Excellent trainer.")
    visit(teacher, f"/teaching/courses/{course_id}/evaluation", "evaluation-results")
    content = teacher.content()
    assert "5 of 5 trainees invited have answered" in content
    assert "The role play helped most." in content and "Excellent trainer." in content
    assert "Eval0" not in content  # no names

    # The board reads the outcomes section on the dashboard (kept figures) and the outcomes page, and downloads it.
    board = new_page()
    login(board, "board@example.org")
    visit(board, "/reach", "dashboard-with-outcomes")
    section = board.locator("section", has=board.locator("#outcomes-section"))
    text = section.inner_text()
    assert "Outcomes: what the training did" in text
    assert "Confidence to help, before the course" in text and "95% interval" in text, text
    assert "Rated the course good or very good" in text and "Evaluation response rate" in text
    assert "Used their skills six months on" in text and "Current first aiders today" in text
    navigate(section.get_by_role("link", name="Every outcomes table, by area, course type, funding stream and "
                                             "equality group, the funnel, with downloads"))
    check_page(board, "outcomes-page")
    assert "From booked to certified, by course type" in board.content()
    workbook = _download(board, "Download every outcomes table as an Excel workbook", tmp_path, "outcomes.xlsx")
    assert workbook.read_bytes()[:2] == b"PK"
    # One area: its first aiders' trend.
    board.get_by_label("Council area", exact=True).select_option(label="Birmingham")
    board.get_by_role("button", name="Apply filters").click()
    check_page(board, "outcomes-page-one-area")
    assert board.get_by_role("heading", name="Current first aiders in Birmingham at the end of each month").count() == 1

    # Anyone reads the region-level outcomes on the public progress page.
    public = new_page()
    visit(public, "/progress", "progress-with-outcomes")
    outcomes = public.locator("#outcomes")
    assert outcomes.inner_text() == "What the training did"
    content = public.content()
    assert "from the evaluation trainees answer at the end of their course" in content and "95% interval" in content
    assert "people counted for the region hold a current certificate today" in content

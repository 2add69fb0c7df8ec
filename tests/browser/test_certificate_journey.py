"""Issue 9 end to end: an instructor takes both registers of a two-day course and completes it; the trainee
downloads the certificate PDF (its text and QR code read back with pdftotext, pdftoppm and zbarimg) and the
Open Badge (checked by the independent verifier); a coordinator revokes it, and the QR code's page, the status
list and the verifier all say revoked.

The course is scheduled, published, given its instructor and booked through the pages, a few weeks ahead.
Registers can be marked only from a session's start and no page moves a course into the past, so one SQL
step (:func:`_move_into_the_past`) stands in for the weeks passing: it moves the course's dates, and its two
sessions', back by the same number of days, in the server's SQLite database.
"""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
from datetime import timedelta

from mhfa.timeutil import london_today
from tests.browser.conftest import check_page, login, navigate, unique_email, visit
from tests.browser.journeys import in_a_few_weeks, publish
from tests.certificates.verifier import credential_status, independently_verified, status_bit

PASSWORD = "a long walk along the towpath"  # noqa: S105  (test accounts' password)
COURSE = "Adult MHFA (two day)"
TITLE = "Mental Health First Aider"
TOOLS = {name: shutil.which(name) for name in ("pdftotext", "pdftoppm", "zbarimg")}


def _schedule_two_day_course(page, live_server, width: str) -> int:
    """A coordinator schedules the two-day course: two in-person sessions of seven hours, free, a draft."""
    first = in_a_few_weeks(live_server, 60 if width == "desktop" else 62)
    visit(page, "/manage/courses/new", "new-two-day-course")
    page.get_by_label("Course type").select_option(label=COURSE)
    page.get_by_label("In person, at a venue").check()
    page.locator("#venue").select_option(index=1)
    for n, day in ((1, first), (2, first + timedelta(days=1))):
        page.get_by_label(f"Session {n} date").fill(day.isoformat())
        page.get_by_label(f"Session {n} start time").fill("09:00")
        page.get_by_label(f"Session {n} end time").fill("16:00")
    page.get_by_label("Capacity (places)").fill("12")
    page.get_by_label("Price per place, in pounds").fill("0")
    navigate(page.get_by_role("button", name="Save as draft"))
    assert "Course saved as a draft" in page.content(), page.url
    return int(page.url.rstrip("/").split("/")[-1])


def _add_instructor(page, live_server, name: tuple[str, str]) -> str:
    """The coordinator adds a licensed instructor; the CLI gives them an account (as an administrator would)."""
    email_address = unique_email("instructor")
    visit(page, "/manage/instructors/new", "new-instructor")
    page.get_by_label("First name").fill(name[0])
    page.get_by_label("Last name").fill(name[1])
    page.get_by_label("Email address").fill(email_address)
    page.get_by_label("MHFA England licence number").fill(f"MHFA-{email_address.split('@')[0][-12:]}")
    page.get_by_label("Licence expiry date").fill((live_server.today + timedelta(days=700)).isoformat())
    navigate(page.get_by_role("button", name="Save instructor"))
    assert "Instructor added" in page.content()
    live_server.flask("mhfa", "create-user", "--email", email_address, "--role", "instructor",
                      "--password", PASSWORD)
    return email_address


def _move_into_the_past(live_server, course_id: int, days: int) -> None:
    """The weeks passing: the course's and its sessions' moments, ``days`` earlier (see the module docstring)."""
    with sqlite3.connect(live_server.instance / "mhfa.db", timeout=30) as database:
        shift = f"-{days} days"
        database.execute(
            "UPDATE course SET starts_at = datetime(starts_at, :shift), ends_at = datetime(ends_at, :shift), "
            "booking_deadline = datetime(booking_deadline, :shift), "
            "cancellation_cutoff = datetime(cancellation_cutoff, :shift) WHERE id = :id",
            {"shift": shift, "id": course_id})
        moved = database.execute(
            "UPDATE course_session SET starts_at = datetime(starts_at, :shift), ends_at = datetime(ends_at, :shift) "
            "WHERE course_id = :id", {"shift": shift, "id": course_id}).rowcount
    assert moved == 2


def _pdf_text_and_qr(path) -> tuple[str, str]:
    """The PDF's text (pdftotext) and what its QR code holds (page 1 at 200 dpi, read by zbarimg)."""
    missing = [name for name, found in TOOLS.items() if not found]
    assert not missing, f"install poppler-utils and zbar-tools: {missing} not found"
    text = subprocess.run([TOOLS["pdftotext"], "-layout", str(path), "-"], capture_output=True, text=True, check=True,
                          timeout=60).stdout
    image_base = path.with_suffix("")
    subprocess.run([TOOLS["pdftoppm"], "-png", "-r", "200", "-f", "1", "-l", "1", "-singlefile", str(path),
                    str(image_base)], check=True, timeout=60)
    scanned = subprocess.run([TOOLS["zbarimg"], "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable",
                              str(image_base) + ".png"], capture_output=True, text=True, check=True, timeout=60)
    codes = scanned.stdout.split()
    assert len(codes) == 1, f"expected one QR code, zbarimg read {codes}"
    return text, codes[0]


def _download(page, link_name: str, folder, filename: str):
    with page.expect_download() as download:
        page.get_by_role("link", name=link_name).click()
    path = folder / filename
    download.value.save_as(path)
    assert download.value.failure() is None
    return path


def test_instructor_completes_trainee_downloads_and_verifies_coordinator_revokes(new_page, live_server, width,
                                                                                 tmp_path):
    # A coordinator schedules the course, adds its instructor, assigns them and publishes.
    coordinator = new_page()
    login(coordinator, "coordinator@example.org")
    teacher_name = ("Ffion", f"Register{width.title()}")
    teacher_email = _add_instructor(coordinator, live_server, teacher_name)
    course_id = _schedule_two_day_course(coordinator, live_server, width)
    visit(coordinator, f"/manage/courses/{course_id}", "two-day-draft")
    options = coordinator.locator("#instructor option").all_inner_texts()
    option = next(o for o in options
                  if o.startswith(" ".join(teacher_name)))
    coordinator.locator("#instructor").select_option(label=option)
    navigate(coordinator.get_by_role("button", name="Assign instructor"))
    assert f"{' '.join(teacher_name)} is teaching this course" in coordinator.content()
    publish(coordinator, course_id)
    check_page(coordinator, "two-day-published")

    # A trainee books a place.
    trainee_email = unique_email("certified")
    trainee_name = f"Cerys {width.title()}holder"
    live_server.flask("mhfa", "create-user", "--email", trainee_email, "--role", "trainee", "--name", trainee_name,
                      "--date-of-birth", "1988-05-06", "--password", PASSWORD)
    trainee = new_page()
    login(trainee, trainee_email, PASSWORD)
    visit(trainee, f"/courses/{course_id}/book", "book-two-day")
    navigate(trainee.get_by_role("button", name="Book a place"))
    assert "You are booked on" in trainee.content()

    # The course takes place: ten and nine days ago.
    days_ahead = (in_a_few_weeks(live_server, 60 if width == "desktop" else 62) - live_server.today).days
    _move_into_the_past(live_server, course_id, days_ahead + 10)

    # The instructor takes both registers, at the test's width, and completes the course.
    teacher = new_page()
    login(teacher, teacher_email, PASSWORD)
    visit(teacher, "/teaching", "my-teaching")
    navigate(teacher.locator(f'a[href="/teaching/courses/{course_id}"]').first)
    check_page(teacher, "registers")
    navigate(teacher.get_by_role("link", name="Take the register for session 1"))
    check_page(teacher, "register-session-1")
    teacher.locator("fieldset", has_text=trainee_name).get_by_label("Present").check()
    navigate(teacher.get_by_role("button", name="Save the register"))
    assert "Register saved: 1 mark changed." in teacher.content()
    check_page(teacher, "register-session-1-saved")
    navigate(teacher.get_by_role("link", name="All registers for this course"))
    navigate(teacher.get_by_role("link", name="Take the register for session 2"))
    check_page(teacher, "register-session-2")
    navigate(teacher.get_by_role("button", name="Mark everyone present"))
    assert "Everyone is marked present." in teacher.content()
    navigate(teacher.get_by_role("link", name="All registers for this course"))
    navigate(teacher.get_by_role("link", name="Check and complete the course"))
    check_page(teacher, "completion-preview")
    assert "Will complete and get a certificate (1)" in teacher.content()
    assert teacher.locator("#completing li").all_inner_texts() == [trainee_name]
    navigate(teacher.get_by_role("button", name="Confirm the registers and complete the course"))
    assert "Course completed: 1 certificate issued." in teacher.content()
    check_page(teacher, "course-completed")

    # The trainee downloads the certificate: the PDF names them, the course and the number; its QR code
    # leads to the verification page, which says valid.
    visit(trainee, "/my-courses", "my-courses-certificate")
    card = trainee.locator(".govuk-summary-card", has_text=TITLE)
    assert card.count() == 1
    number = card.locator(".govuk-summary-list__row", has_text="Number").locator("dd").inner_text().strip()
    pdf = _download(trainee, f"Download PDF of {TITLE}", tmp_path, "certificate.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    text, qr_url = _pdf_text_and_qr(pdf)
    flat = " ".join(text.split())
    assert trainee_name in flat and TITLE in flat and number in flat, flat
    assert qr_url.startswith(live_server.url + "/verify/"), qr_url
    visit(trainee, qr_url, "verify-valid")
    assert trainee.locator("#status").inner_text().strip() == "Valid certificate"
    assert trainee_name in trainee.content()
    # The card links to the same page, to give an employer.
    visit(trainee, "/my-courses")
    navigate(trainee.get_by_role("link", name=f"Verification page of {TITLE}"))
    assert trainee.url == qr_url and trainee.locator("#status").inner_text().strip() == "Valid certificate"

    # Another course of the same kind: before booking it, its booking page says the certificate is held.
    visit(trainee, "/courses")
    trainee.get_by_label("Course", exact=True).select_option(label="Adult MHFA (two day)")
    trainee.get_by_label("Only courses with free places").check()
    navigate(trainee.get_by_role("button", name="Apply filters"))
    navigate(trainee.locator("table.reach-stack tbody th a").first)
    navigate(trainee.get_by_role("button", name="Book a place"))
    notice = " ".join(trainee.locator("#certificate-held").inner_text().split())
    assert notice.startswith(f"You already hold a certificate for this course: {number}, issued "), notice
    check_page(trainee, "book-again-certificate-held")
    navigate(trainee.get_by_role("link", name="See your certificate"))
    assert re.search(r"/my-courses#certificate-\d+$", trainee.url), trainee.url
    assert trainee.locator(trainee.url[trainee.url.index("#"):]).inner_text().count(number) == 1

    # The Open Badge verifies independently, and its status-list bit is clear.
    visit(trainee, "/my-courses", "my-courses-again")
    badge = json.loads(_download(trainee, f"Open Badge of {TITLE}", tmp_path, "badge.json").read_text())
    did = trainee.request.get("/.well-known/did.json").json()
    status_url = badge["credentialStatus"]["statusListCredential"]
    assert status_url.startswith(live_server.url)
    assert badge["credentialSubject"]["identifier"][0]["identityHash"] == trainee_name
    assert badge["credentialSubject"]["achievement"]["name"] == TITLE
    assert credential_status(badge, trainee.request.get(status_url).json(), did) == "valid"

    # The public verification page checks the badge file: genuine; with an unsigned property added, refused.
    visit(trainee, "/verify", "verify-form")
    trainee.get_by_label("Badge file").set_input_files(
        {"name": "badge.json", "mimeType": "application/json", "buffer": json.dumps(badge).encode()})
    navigate(trainee.get_by_role("button", name="Check the badge"))
    assert "The badge file is genuine" in trainee.content()
    assert trainee.locator("#status").inner_text().strip() == "Valid certificate"
    check_page(trainee, "verify-badge-genuine")
    visit(trainee, "/verify")
    tampered = {**badge, "awardedWithDistinction": True}
    trainee.get_by_label("Badge file").set_input_files(
        {"name": "badge.json", "mimeType": "application/json", "buffer": json.dumps(tampered).encode()})
    navigate(trainee.get_by_role("button", name="Check the badge"))
    summary = trainee.locator(".govuk-error-summary").inner_text()
    assert "This badge cannot be trusted" in summary and "awardedWithDistinction" in summary, summary
    check_page(trainee, "verify-badge-tampered")

    # A coordinator finds the certificate by its number and revokes it, giving a reason.
    visit(coordinator, "/manage/certificates", "find-certificate")
    coordinator.get_by_label("Certificate number").fill(number)
    navigate(coordinator.get_by_role("button", name="Find"))
    check_page(coordinator, "manage-certificate")
    navigate(coordinator.get_by_role("button", name="Revoke the certificate"))
    assert "Enter the reason for revoking" in coordinator.locator(".govuk-error-summary").inner_text()
    check_page(coordinator, "revoke-refused")
    coordinator.get_by_label("Reason for revoking").fill("Attendance recorded against the wrong person")
    navigate(coordinator.get_by_role("button", name="Revoke the certificate"))
    assert f"Certificate {number} revoked." in coordinator.content()
    assert "Attendance recorded against the wrong person" in coordinator.locator("#revoked").inner_text()
    check_page(coordinator, "certificate-revoked")

    # The QR code's page says revoked, with the date; the status list has the bit set; the verifier agrees.
    visit(trainee, qr_url, "verify-revoked")
    status = trainee.locator("#status").inner_text()
    assert "Revoked" in status and f"revoked on {london_today():%-d %B %Y}" in status, status
    status_list = trainee.request.get(status_url).json()
    assert independently_verified(status_list, did)
    assert status_bit(status_list, int(badge["credentialStatus"]["statusListIndex"])) == 1
    assert credential_status(badge, status_list, did) == "revoked"
    visit(trainee, "/my-courses", "my-courses-revoked")
    assert card.locator(".govuk-tag", has_text="Revoked").is_visible()

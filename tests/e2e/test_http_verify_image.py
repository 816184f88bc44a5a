"""Verifying from a picture of the QR code, on the verifier's page and through
``POST /v1/verify/image``: a photo verifies and is recorded as a use like the QR text; a picture
without a code, with two inputs at once, or of the wrong kind is refused and records nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.browser import form_token, signed_in
from tests.e2e.conftest import LEAD, Issued, holder_uses, issued_permit, ok, open_service
from tests.pictures import blank, photo, screenshot

VERIFY = "/pages/verify"
API = "/v1/verify/image"


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Issued]:
    for service in open_service(tmp_path_factory.mktemp("verify-image")):
        yield issued_permit(service)


# --- the page ------------------------------------------------------------------------------------


def test_the_form_takes_a_picture_and_keeps_the_scanner_box_focused(issued: Issued) -> None:
    svc = issued.service
    page = signed_in(svc, svc.tokens.verifier(LEAD)).get(VERIFY).text
    assert 'enctype="multipart/form-data"' in page
    assert '<input type="file" id="qr_image" name="qr_image" accept="image/*">' in page
    # One line and focused: a scanner gun's Enter submits the form; the purpose stays filled.
    assert '<input type="text" id="qr_text" name="qr_text" maxlength="8000" autofocus' in page
    assert page.index('id="purpose"') < page.index('id="qr_text"')


def test_a_photo_of_the_qr_code_verifies_and_is_recorded_for_the_holder(issued: Issued) -> None:
    svc = issued.service
    client = signed_in(svc, svc.tokens.verifier("swj"))
    response = client.post(
        VERIFY,
        data={"csrf": form_token(client.get(VERIFY).text, VERIFY), "purpose": "住房保障审核"},
        files={"qr_image": ("IMG_0412.jpg", photo(issued.qr_text), "image/jpeg")},
    )
    assert response.status_code == 200, response.text
    assert "核验通过：证照有效" in response.text and issued.license_id in response.text
    assert ("swj", "住房保障审核", "valid") in holder_uses(svc)


@pytest.mark.parametrize(
    ("fields", "picture", "shown"),
    [
        ({}, blank(), "未能从图片中读出二维码：expected a QR code in the 640×480 PNG image"),
        ({}, b"%PDF-1.7\n", "未能从图片中读出二维码：expected an image (PNG, JPEG"),
        ({"qr_text": "EL1:ABC"}, b"picture", "三选一"),
        ({"license_id": "1.2.156"}, b"picture", "三选一"),
    ],
    ids=["no-code", "not-a-picture", "with-qr-text", "with-license-number"],
)
def test_a_picture_that_cannot_be_used_shows_the_form_again_and_records_nothing(
    issued: Issued, fields: dict[str, str], picture: bytes, shown: str
) -> None:
    svc = issued.service
    client = signed_in(svc, svc.tokens.verifier(LEAD))
    before = holder_uses(svc)
    token = form_token(client.get(VERIFY).text, VERIFY)
    response = client.post(
        VERIFY,
        data={"csrf": token, "purpose": "施工许可", **fields},
        files={"qr_image": ("picture.png", picture, "image/png")},
    )
    assert response.status_code == 422, response.text
    assert shown in response.text and 'value="施工许可"' in response.text
    assert holder_uses(svc) == before


def test_an_empty_file_part_is_no_picture_and_the_qr_text_is_verified(issued: Issued) -> None:
    # What a browser posts when no file was chosen: a part with no file name and no bytes.
    svc = issued.service
    client = signed_in(svc, svc.tokens.verifier(LEAD))
    token = form_token(client.get(VERIFY).text, VERIFY)
    response = client.post(
        VERIFY,
        data={"csrf": token, "purpose": "施工许可", "qr_text": issued.qr_text},
        files={"qr_image": ("", b"", "application/octet-stream")},
    )
    assert response.status_code == 200 and "核验通过：证照有效" in response.text


# --- the API -------------------------------------------------------------------------------------


def test_the_api_verifies_a_screenshot_and_records_the_use(issued: Issued) -> None:
    svc = issued.service
    found = ok(
        svc.client.post(
            API,
            data={"purpose": "规划核实"},
            files={"image": ("shot.png", screenshot(issued.qr_text), "image/png")},
            headers=svc.tokens.verifier("zrzyghj"),
        )
    )
    assert (found["status"], found["license_id"], found["valid"]) == (
        "valid",
        issued.license_id,
        True,
    )
    assert ("zrzyghj", "规划核实", "valid") in holder_uses(svc)


@pytest.mark.parametrize(
    ("picture", "detail"),
    [
        (blank("JPEG"), "expected a QR code in the 640×480 JPEG image, found none"),
        (b"GIF89a-not-really", "got bytes of no such format"),
        (b"", "got an empty file"),
    ],
    ids=["no-code", "broken-gif", "empty"],
)
def test_the_api_refuses_an_unreadable_picture_as_a_problem_and_records_nothing(
    issued: Issued, picture: bytes, detail: str
) -> None:
    svc = issued.service
    before = holder_uses(svc)
    response = svc.client.post(
        API,
        data={"purpose": "规划核实"},
        files={"image": ("x.jpg", picture, "image/jpeg")},
        headers=svc.tokens.verifier("zrzyghj"),
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/qr-image-unreadable") and detail in problem["detail"]
    assert holder_uses(svc) == before


def test_the_api_wants_a_purpose_and_a_picture(issued: Issued) -> None:
    svc = issued.service
    before = holder_uses(svc)
    headers = svc.tokens.verifier("zrzyghj")
    picture = {"image": ("shot.png", screenshot(issued.qr_text), "image/png")}
    for data, files in (({}, picture), ({"purpose": "规划核实"}, None)):
        response = svc.client.post(API, data=data, files=files, headers=headers)
        assert response.status_code == 422, response.text
    assert holder_uses(svc) == before


def test_an_applicant_may_not_verify_by_picture(issued: Issued) -> None:
    svc = issued.service
    response = svc.client.post(
        API,
        data={"purpose": "规划核实"},
        files={"image": ("shot.png", screenshot(issued.qr_text), "image/png")},
        headers=svc.tokens.applicant(),
    )
    assert response.status_code == 403, response.text

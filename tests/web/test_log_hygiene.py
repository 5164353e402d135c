"""TRUST row 17: a representative session (API, FHIR, pages, CLI) writes technical logs with no
NHS number, no token and no query string, on both store engines. The whole suite's log is also
scanned at the end (tests/log_capture.py)."""

from __future__ import annotations

import logging
from pathlib import Path

from typer.testing import CliRunner

from pcn.access import log_hygiene
from pcn.cli.main import app as cli_app
from pcn.record import open_record
from tests.log_capture import leaks
from tests.web.conftest import WORKLIST, WebWorld


def test_redaction_of_numbers_tokens_and_queries() -> None:
    from pcn.record.nhs_number import is_valid, synthetic_numbers

    nhs = str(synthetic_numbers(7, 1)[0])
    spaced = f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"
    not_nhs = next(str(n) for n in range(1234567890, 1234567999) if not is_valid(str(n)))
    token = "pcn_0123456789abcdef_" + "s3cr3t-" * 5
    text = log_hygiene.redact(f"{nhs} {spaced} Bearer abc.def {token} {not_nhs} 12345678901")
    assert leaks(text) == [] and "abc.def" not in text and "s3cr3t" not in text
    assert text.count("[nhs]") == 2
    assert not_nhs in text and "12345678901" in text  # other numbers are kept
    assert log_hygiene.strip_query("/fhir/Patient?identifier=x") == "/fhir/Patient?[query]"


def test_a_representative_session_logs_no_identifiers(web_app, api, tokens, clients,
                                                      web_world: WebWorld, tmp_path: Path
                                                      ) -> None:
    path = tmp_path / "session.log"
    handler = log_hygiene.install(logging.FileHandler(path, encoding="utf-8"))
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    # The access log reaches the filtered handler whatever other tests did to uvicorn's loggers.
    access = logging.getLogger("uvicorn.access")
    saved = (access.propagate, access.handlers[:], access.level, access.disabled)
    access.propagate, access.handlers[:], access.disabled = False, [handler], False
    access.setLevel(logging.INFO)
    patients = open_record(web_world.record).read("patients").to_pandas()
    patient = web_world.patient_at(web_world.own)
    nhs = str(patients.set_index("patient_id").loc[patient, "nhs_number"])
    try:
        auth = {"Authorization": f"Bearer {tokens['clin_a']}"}
        # httpx logs each request line: the FHIR search puts the NHS number in the query.
        for url in (f"/fhir/Patient?identifier={nhs}", f"/fhir/Patient/{patient}",
                    f"/api/patients/{patient}", f"/api/worklists/{WORKLIST}", "/api/worklists",
                    f"/api/patients/{nhs}", "/api/indicators/dna_rate"):
            assert api.get(url, headers=auth).status_code < 500
        api.get("/api/worklists", headers={"Authorization": f"Bearer {tokens['clin_a']}x"})
        for url in ("/overview", f"/patients/{patient}", f"/worklists/{WORKLIST}"):
            assert clients["clin_a"].get(url).status_code == 200
        real = next(w for w in web_app.state.view.worklist_ids() if w != WORKLIST)
        result = CliRunner().invoke(cli_app, ["worklist", "show", real, "--record",
                                              str(web_world.record)])
        assert result.exit_code == 0, result.output
        # What uvicorn's access log and an error with a traceback would write.
        logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000",
                                                 "GET", f"/fhir/Patient?identifier={nhs}",
                                                 "1.1", 200)
        try:
            raise KeyError(f"no patient with NHS number {nhs} for {tokens['clin_a']}")
        except KeyError:
            logging.getLogger("pcn.test").exception("lookup failed for %s", nhs)
    finally:
        root.removeHandler(handler)
        handler.close()
        access.propagate, access.handlers[:], access.disabled = saved[0], saved[1], saved[3]
        access.setLevel(saved[2])
    text = path.read_text(encoding="utf-8")
    assert "[nhs]" in text, "the session wrote nothing through the filter"
    access_lines = [line for line in text.splitlines() if line.startswith("uvicorn.access:")]
    assert access_lines and all("?[query]" in line and "identifier" not in line
                                for line in access_lines), access_lines
    assert leaks(text) == []
    assert nhs not in text and tokens["clin_a"] not in text


def test_the_log_scan_skips_digit_runs_inside_digests_only() -> None:
    """An audit anchor logs a SHA-256 chain hash, which may hold a ten-digit run that passes the
    check digit (found in a real run); the redaction keeps digests whole and the scan agrees."""
    from pcn.access.log_hygiene import redact
    from tests.log_capture import leaks

    digest = "ae202718edaa283af6892813f59a165145d9c520b2be37c8129133903c424b19"
    assert leaks(f"audit anchor seq=9 hash={digest}") == []
    assert redact(f"hash={digest}") == f"hash={digest}"
    assert leaks("patient 8129133903 seen") == ["8129133903"]
    assert redact("patient 8129133903 seen") == "patient [nhs] seen"

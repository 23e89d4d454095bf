"""The library API end to end on Google Workspace: the real Google normaliser and the built-in checks, on the
demo centre rendered as a snapshot, and collected through idaudit.collect_google against the Google simulator
(real google-auth + google-api-python-client over loopback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import idaudit
from connectors.email_dns import DnsOptions
from idaudit.orchestration.demo import demo_config_text

simulator = pytest.importorskip("simulator")
google_sim = pytest.importorskip("simulator.google")

USERS, SEED = 60, 7


@pytest.fixture(scope="module")
def org() -> object:
    return simulator.build_organisation(users=USERS, seed=SEED)


@pytest.fixture(scope="module")
def config(org: object, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cfg") / "idaudit.toml"
    path.write_text(demo_config_text(org, "google"), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def rendered(org: object, config: Path, tmp_path_factory: pytest.TempPathFactory) -> idaudit.Audit:
    snap = google_sim.render_google_snapshot(org, tmp_path_factory.mktemp("g") / "snap")
    return idaudit.load(snap, config=config)


def test_compromised_nurses_forward_is_the_external_forwarding_answer(org, rendered) -> None:  # type: ignore[no-untyped-def]
    nurse = org.planted("compromised")[0]
    recipient = nurse.inbox_rules[0].actions.forward_to[0]
    outside = rendered.external_forwarding()
    hit = outside[outside["principal"] == nurse.mail]
    assert list(hit["recipient"]) == [recipient]
    assert list(hit["destination"]) == ["outside"]
    # the trusted partner lab and the internal redirect are not "outside"
    assert not outside["recipient_domain"].isin(["quest-diagnostics-partner.com", "riversidesurgery.org"]).any()
    for person in org.planted("mailbox_forward_external"):
        assert person.mailbox_forward.address in set(outside["recipient"])


def test_unverified_app_with_gmail_scope_reads_mail(org, rendered) -> None:  # type: ignore[no-untyped-def]
    apps = rendered.apps_reading_mail().set_index("app_name")
    consented = [p for p in org.people if any(g.app_id == org.app_named("SecureDocs Viewer").id
                                              for g in p.app_grants)]
    assert apps.loc["SecureDocs Viewer", "users"] == len(consented)
    assert "https://mail.google.com/" in apps.loc["SecureDocs Viewer", "scopes"]
    assert "Zoom" not in apps.index  # calendar scopes do not read mail


def test_no_mfa_contains_every_planted_user(org, rendered) -> None:  # type: ignore[no-untyped-def]
    answer = rendered.no_mfa()
    assert {p.mail for p in org.planted("no_mfa")} <= set(answer["principal"])
    assert set(answer["mfa"]) <= {"none", "unknown"}


def test_not_enforced_gives_a_reason_for_everyone_listed(rendered) -> None:  # type: ignore[no-untyped-def]
    answer = rendered.not_enforced()
    assert len(answer) > 0
    assert (answer["reason"].str.len() > 0).all()
    assert set(answer["enforced"]) <= {"no", "unknown"}


def test_findings_and_summary_agree(rendered) -> None:  # type: ignore[no-untyped-def]
    counts = rendered.summary()
    assert sum(counts.values()) == len(rendered.findings)
    assert counts["fail"] == len(rendered.failing())
    assert int(rendered.counts().to_numpy().sum()) == len(rendered.findings)
    page = rendered._repr_html_()
    assert f"{rendered.tenant_name} (google)" in page and "Every section in the snapshot was collected in full" in page


def test_collect_google_through_the_simulator_gives_the_same_answers(org, config, rendered,  # type: ignore[no-untyped-def]
                                                                      tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    with google_sim.GoogleSimulator(org) as sim:
        key = tmp_path / "key.json"
        private_key = sim.service_account_info["private_key"]
        key.write_text(json.dumps(dict(sim.service_account_info)), encoding="utf-8")
        key.chmod(0o600)
        snap = idaudit.collect_google("~/collected", admin_subject=sim.admin_subject,
                                      service_account_file="~/key.json", api_endpoint=sim.api_endpoint,
                                      token_uri=sim.token_uri, progress=False,
                                      dns=DnsOptions(resolvers=(sim.dns_address,)))
    assert snap == tmp_path / "collected"
    assert private_key not in "".join(
        f.read_text(encoding="utf-8") for f in snap.iterdir())  # the key never lands in the snapshot
    collected = idaudit.load(snap, config=config)
    assert (collected.coverage["status"] == "ok").all()
    for question in ("no_mfa", "not_enforced", "external_forwarding", "apps_reading_mail"):
        mine, theirs = getattr(collected, question)(), getattr(rendered, question)()
        assert mine.drop(columns=[c for c in mine.columns if c.endswith("_id")]).equals(
            theirs.drop(columns=[c for c in theirs.columns if c.endswith("_id")])), question


def test_collect_google_needs_exactly_one_key(tmp_path: Path) -> None:
    with pytest.raises(idaudit.core.errors.CollectionError, match="exactly one"):
        idaudit.collect_google(tmp_path, admin_subject="admin@example.org")

"""``benchmarks/env_speed.py``: the mobile-env reference row is timed with the single-env loop
when mobile-env is installed, and left out cleanly (with a note) when it is not."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # benchmarks/ is a folder of scripts, not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import env_speed  # noqa: E402

ENV_ID = "irs_gym/BlockAllocation-v0"
ROW_NAME = f"{env_speed.MOBILE_ENV_ID} (mobile-env)"


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the markdown table in ``text`` (header and rule dropped)."""
    lines = [ln for ln in text.splitlines() if ln.startswith("|")]
    return [[c.strip() for c in ln.strip("|").split("|")] for ln in lines[2:]]


@pytest.fixture
def fake_timers(monkeypatch):
    """Our envs get constant rates (the test is about the table, not the speed); mobile-env's
    id still goes through the real single-env loop. Returns the ids timed single."""
    timed: list[str] = []
    real_single = env_speed.time_single

    def single(env_id, kwargs, seconds):
        timed.append(env_id)
        return real_single(env_id, kwargs, seconds) if env_id == env_speed.MOBILE_ENV_ID else 100.0

    monkeypatch.setattr(env_speed, "time_single", single)
    monkeypatch.setattr(env_speed, "time_batched", lambda env_id, n, kwargs, seconds: 200.0 * n)
    return timed


def test_row_left_out_without_mobile_env(monkeypatch, fake_timers):
    monkeypatch.setitem(sys.modules, "mobile_env", None)  # makes `import mobile_env` fail
    assert env_speed.mobile_env_row(0.01, 2) is None
    text = env_speed.run([ENV_ID], 0.01, (2, 8))
    rows = table_rows(text)
    assert len(rows) == 4  # default and small configs x two channel modes, nothing else
    assert all(row[0] == "BlockAllocation-v0" for row in rows)
    assert rows[0][3:] == ["100", "400", "1,600", "4.00x", "16.00x"]
    assert "mobile-env is not installed" in text and ROW_NAME not in text
    assert env_speed.MOBILE_ENV_ID not in fake_timers


def test_row_present_with_mobile_env(fake_timers):
    pytest.importorskip("mobile_env")
    text = env_speed.run([ENV_ID], 0.05, (2, 8))
    rows = table_rows(text)
    assert len(rows) == 5 and rows[-1][:3] == [ROW_NAME, "default", "-"]
    assert float(rows[-1][3].replace(",", "")) > 0  # measured by the single-env loop
    assert rows[-1][4:] == ["-"] * 4  # no batched env to time
    assert fake_timers[-1] == env_speed.MOBILE_ENV_ID
    assert f"Last row: mobile-env's {env_speed.MOBILE_ENV_ID}" in text

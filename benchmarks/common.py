"""Shared parts of the benchmark scripts: configs, machine line, markdown tables, output."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: The "small" config per env id (model 004: N_t = 4, one IRS of 4 elements, K = 4).
SMALL: dict[str, dict[str, Any]] = {
    "irs_gym/MultiIRSDownlink-v0": dict(num_bs_antennas=4, num_elements=4, num_irs=1, num_users=4),
    "irs_gym/BackscatterUplink-v0": dict(num_pb_antennas=2, num_elements=4),
    "irs_gym/BlockAllocation-v0": dict(num_users=4, block_size=50),
    "irs_gym/MmWaveUplinkPower-v0": dict(num_ap_antennas=4, elements_h=4, elements_v=2),
    "irs_gym/SwiptMassiveMIMO-v0": dict(
        num_bs_antennas=16, num_elements=16, num_info_users=2, num_energy_users=2
    ),
}


def configs(env_id: str) -> list[tuple[str, dict[str, Any]]]:
    """(label, kwargs) pairs: the default config, then the small one where defined."""
    out: list[tuple[str, dict[str, Any]]] = [("default", {})]
    if env_id in SMALL:
        out.append(("small", SMALL[env_id]))
    return out


def describe_configs(env_ids: Sequence[str]) -> str:
    """One line per env id naming what "small" means (for the text above a table)."""
    lines = [
        f"`small` for {env_id.split('/')[-1]}: "
        + ", ".join(f"`{k}={v}`" for k, v in SMALL[env_id].items())
        for env_id in env_ids
        if env_id in SMALL
    ]
    return "; ".join(lines) + ("." if lines else "")


def machine() -> str:
    """One line describing where the numbers were taken."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 0
    cpu = platform.processor() or platform.machine()
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{model or cpu}, {cpus} cores usable, Python {sys.version.split()[0]}, "
        f"numpy {np.__version__}, {platform.system()} {platform.release()}"
    )


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A markdown table; numbers right-aligned."""
    cells = [[str(c) for c in row] for row in rows]
    numeric = [all(_is_number(row[i]) for row in cells) and bool(cells) for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def _is_number(text: str) -> bool:
    text = text.replace(",", "").rstrip("x×").strip()
    try:
        float(text)
    except ValueError:
        return text in ("-", "")
    return True


def fmt_rate(x: float) -> str:
    """Steps per second with thousands separators (3 significant digits below 1000)."""
    if not np.isfinite(x):
        return "-"
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def emit(text: str, out: str | None) -> None:
    """Print ``text`` and, with ``out``, also write it (atomically) to that file."""
    print(text)
    if out:
        path = Path(out)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text + "\n")
        tmp.replace(path)

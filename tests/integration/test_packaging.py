"""`make package`: artifacts built for Lambda's arm64, within the size budget, complete.

Builds from PyPI wheels for manylinux2014_aarch64 (the one network use of the test suite: the
package registry, as `make install` does).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def build(out: Path) -> list[dict]:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "package.py"), "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("lambda")
    reports = build(out)
    print("\n".join(f"{r['name']}: {r['unzipped_bytes']} bytes unzipped" for r in reports))
    return {report["name"]: {**report, "dir": out / report["name"]} for report in reports}


def test_package_every_compiled_extension_is_aarch64(artifacts):
    # Given the built artifacts / Then each compiled extension targets AArch64, and there are some
    layer = artifacts["SharedLayer"]
    assert layer["extensions"], "aiohttp's C extensions were expected in the layer"
    assert all(".cpython-312-aarch64-linux-gnu.so" in name for name in layer["extensions"])
    assert [r["wrong_architecture"] for r in artifacts.values()] == [[], [], [], [], []]


def test_package_total_unzipped_size_under_10_mb(artifacts):
    # Given the built artifacts / Then the pipeline's stay under the seed's 10 MB budget, and
    # the skill function (deployed on its own, with the ASK SDK inside) under its 6 MB
    pipeline = [r for name, r in artifacts.items() if name != "SkillFunction"]
    assert sum(r["unzipped_bytes"] for r in pipeline) < 10 * 1024 * 1024
    assert artifacts["SkillFunction"]["unzipped_bytes"] < 6 * 1024 * 1024


def test_package_layer_and_functions_hold_what_the_handlers_import(artifacts):
    # Given the built artifacts
    layer = artifacts["SharedLayer"]["dir"] / "python"

    # Then the layer has the shared package and the dependencies, but not boto3 (the runtime's)
    for module in ("villages_sync/produce.py", "aiohttp", "bs4", "aws_lambda_powertools", "tzdata"):
        assert (layer / module).exists(), module
    assert not (layer / "boto3").exists()
    assert (artifacts["ProducerFunction"]["dir"] / "scrape_handler.py").exists()
    assert (artifacts["ConsumerFunction"]["dir"] / "upsert_handler.py").exists()
    assert (artifacts["SweepFunction"]["dir"] / "sweep_handler.py").exists()
    skill = artifacts["SkillFunction"]["dir"]
    for module in ("skill_handler.py", "ask_sdk_core", "ask_sdk_model", "ask_sdk_runtime"):
        assert (skill / module).exists(), module
    assert not list(layer.glob("ask_sdk*")), "the SDK belongs to the skill function only"


def test_package_built_twice_gives_byte_identical_zips(artifacts, tmp_path):
    # Given a second build of the same commit, a moment later (every file freshly written by
    # pip and cp, so with other mtimes)
    again = {report["name"]: report for report in build(tmp_path / "again")}

    # When comparing the zips' bytes / Then they are identical, and say so in SHA256SUMS
    for name, first in artifacts.items():
        assert Path(first["zip_path"]).read_bytes() == Path(again[name]["zip_path"]).read_bytes()
        assert first["sha256"] == again[name]["sha256"], name
    sums = (Path(artifacts["SharedLayer"]["zip_path"]).parent / "SHA256SUMS").read_text()
    assert f"{artifacts['SharedLayer']['sha256']}  SharedLayer.zip" in sums

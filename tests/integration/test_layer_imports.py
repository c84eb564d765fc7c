"""The Lambda layer holds the functions' code and nothing of the operator's (issue 25): each
handler imports with only its function's directory, the layer and the Lambda runtime's own
packages on its path, and the layer has no villages_sync_ops, cli, local or standin.

The layer and the functions are built by the Makefile targets `sam build` and `make package`
call (for Lambda's arm64; PyPI is the one network use, as in test_packaging). Its compiled
extensions cannot load on this machine, so the import runs against the built layer's
villages_sync beside this machine's build of the same pinned dependencies (the venv's: the pins
agree, tests/unit/test_packaging_pins.py), each linked in by the names its distribution installs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What the Lambda Python runtime itself provides (the layer leaves them out)
RUNTIME_PACKAGES = ("boto3", "botocore", "jmespath", "s3transfer", "dateutil", "urllib3", "six.py")
OPERATOR_ONLY = (
    "villages_sync_ops",
    "villages_sync/cli",
    "villages_sync/local",
    "villages_sync/standin",
)

# the function (template logical id) -> (the directory whose Makefile builds it, handler module)
FUNCTIONS = {
    "ProducerFunction": ("producers", "scrape_handler"),
    "ConsumerFunction": ("consumers", "upsert_handler"),
    "SweepFunction": ("consumers", "sweep_handler"),
    "SkillFunction": ("skill", "skill_handler"),
}


def make_target(source: str, name: str, out: Path) -> Path:
    out.mkdir(parents=True)
    subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-C",
            str(ROOT / source),
            f"build-{name}",
            f"ARTIFACTS_DIR={out}",
            f"PIP={sys.executable} -m pip",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return out


def top_level_names(distribution: str) -> set[str]:
    """The names a distribution installs at the top of site-packages (packages and modules)."""
    names = set()
    for file in metadata.distribution(distribution).files or ():
        first = file.parts[0]
        if first != ".." and not first.endswith((".dist-info", ".pth")) and first != "__pycache__":
            names.add(first)
    return names


def link_into(target: Path, names: set[str]) -> None:
    site = Path(sysconfig.get_paths()["purelib"])
    for name in names:
        (target / name).symlink_to(site / name)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("lambda")
    dirs = {"SharedLayer": make_target("shared", "SharedLayer", out / "SharedLayer")}
    for name, (source, _) in FUNCTIONS.items():
        dirs[name] = make_target(source, name, out / name)  # pure Python: loads anywhere
    here = out / "layer-here" / "python"
    here.mkdir(parents=True)
    shutil.copytree(dirs["SharedLayer"] / "python" / "villages_sync", here / "villages_sync")
    pins = (ROOT / "shared" / "requirements.txt").read_text()
    for distribution in re.findall(r"^([A-Za-z0-9_.\-]+)==", pins, re.M):
        link_into(here, top_level_names(distribution))
    runtime = out / "runtime"
    runtime.mkdir()
    link_into(runtime, set(RUNTIME_PACKAGES))
    return {**dirs, "layer-here": here, "runtime": runtime}


def test_layer_holds_no_operator_code(built):
    # Given the layer as built for Lambda / Then no operator package or folder is in it
    python = built["SharedLayer"] / "python"
    assert (python / "villages_sync" / "produce.py").exists()
    assert [p for p in OPERATOR_ONLY if (python / p).exists()] == []
    assert not list(python.rglob("villages_sync_ops*"))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_handler_imports_with_only_the_layer_on_its_path(built, function):
    # Given an isolated interpreter (-I -S: no site-packages, no editable install, no
    # PYTHONPATH) whose path is the function's directory, the layer and the runtime's packages
    _, module = FUNCTIONS[function]
    path = [built[function], built["layer-here"], built["runtime"]]
    code = (
        "import sys\n"
        f"sys.path[:0] = {[str(p) for p in path]!r}\n"
        f"import {module}, villages_sync\n"
        "print(villages_sync.__file__)\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )

    # When it imports the handler module
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=60
    )

    # Then the import succeeds, villages_sync comes from the layer, and nothing of the
    # operator's package was needed
    assert done.returncode == 0, done.stderr
    package_file, loaded = done.stdout.splitlines()
    assert Path(package_file).is_relative_to(built["layer-here"])
    assert [m for m in loaded.split() if m.startswith("villages_sync_ops")] == []

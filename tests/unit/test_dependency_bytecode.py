"""The layer and the skill's package ship bytecode for exactly the dependency modules the
handlers import at cold start (issue 21: /opt and /var/task are read-only, so Lambda compiles
every dependency module without bytecode from source at each cold start). The modules are named
in shared/layer-bytecode.txt and skill/package-bytecode.txt, which shared/Makefile and
skill/Makefile compile with the Lambda's Python: these tests keep the lists true to what the
handlers load, and check the builds compile them."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
THIS_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
PYC_TAG = sys.implementation.cache_tag

HANDLERS = [
    "producers.scrape_handler",
    "consumers.upsert_handler",
    "consumers.sweep_handler",
    "consumers.reminders_handler",
    "consumers.changes_handler",
    "skill.skill_handler",
]
# artifact -> (the requirements it ships, the list of module files it precompiles, the handlers
# that read it: every function has the layer; the skill's package is the skill's alone)
ARTIFACTS = {
    "layer": (
        ROOT / "shared" / "requirements.txt",
        ROOT / "shared" / "layer-bytecode.txt",
        HANDLERS,
    ),
    "skill": (
        ROOT / "skill" / "requirements.txt",
        ROOT / "skill" / "package-bytecode.txt",
        ["skill.skill_handler"],
    ),
}
_PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", re.MULTILINE)
_LOADED_FILES = (
    "import json, sys, {module}\n"
    "files = {{getattr(m, '__file__', None) or '' for m in list(sys.modules.values())}}\n"
    "print(json.dumps(sorted(files)))"
)


def listed(list_file: Path) -> list[str]:
    """The module files a list names (relative to site-packages), without comments."""
    lines = (line.strip() for line in list_file.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def shipped_files(requirements: Path) -> dict[Path, str]:
    """Each installed .py file of the distributions ``requirements`` pins: its absolute path
    -> its path relative to site-packages (as in the artifact)."""
    files: dict[Path, str] = {}
    for name in _PINNED.findall(requirements.read_text()):
        distribution = importlib.metadata.distribution(name)
        for file in distribution.files or []:
            if file.suffix == ".py":
                files[Path(distribution.locate_file(file)).resolve()] = file.as_posix()
    return files


def loaded_files(module: str) -> set[Path]:
    """The files of the modules a fresh interpreter has loaded once it imported ``module``."""
    out = subprocess.run(
        [sys.executable, "-c", _LOADED_FILES.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=120,
    ).stdout
    return {Path(f).resolve() for f in json.loads(out) if f.endswith(".py")}


@pytest.fixture(scope="module")
def imported_at_cold_start() -> dict[str, set[str]]:
    """artifact -> the dependency module files (relative) that any handler's import loads."""
    loaded = {module: loaded_files(module) for module in HANDLERS}
    found: dict[str, set[str]] = {}
    for artifact, (requirements, _, readers) in ARTIFACTS.items():
        files = shipped_files(requirements)
        found[artifact] = {files[p] for m in readers for p in loaded[m] if p in files}
    return found


@pytest.mark.parametrize("artifact", ARTIFACTS)
def test_bytecode_list_names_every_dependency_module_a_handler_imports(
    artifact, imported_at_cold_start
):
    # Given every handler imported in a fresh interpreter, and the files of the dependencies
    # the artifact ships
    _, list_file, _ = ARTIFACTS[artifact]

    # When their loaded modules are matched against the artifact's list
    missing = sorted(imported_at_cold_start[artifact] - set(listed(list_file)))

    # Then the list names each (the lines to add, when it does not)
    assert imported_at_cold_start[artifact], "no dependency module found: the check is blind"
    assert missing == [], f"add to {list_file.relative_to(ROOT)}:\n" + "\n".join(missing)


@pytest.mark.parametrize("artifact", ARTIFACTS)
def test_bytecode_list_names_only_shipped_modules_a_handler_imports(
    artifact, imported_at_cold_start
):
    # Given the artifact's list and the files of the dependencies it ships
    requirements, list_file, _ = ARTIFACTS[artifact]
    names = listed(list_file)

    # When each listed name is looked for among them and among what the handlers import
    shipped = set(shipped_files(requirements).values())

    # Then each is a shipped module file, named once, that some handler imports
    assert sorted(set(names) - shipped) == []
    assert len(names) == len(set(names))
    assert sorted(set(names) - imported_at_cold_start[artifact]) == []


# Makefile, build target, list, the directory of the artifact that holds the dependencies
BUILDS = [
    ("shared", "build-SharedLayer", "layer-bytecode.txt", "python"),
    ("skill", "build-SkillFunction", "package-bytecode.txt", "."),
]


def _install(names: list[str], into: Path) -> None:
    """A stand-in for pip (no download): copies module files from this venv's site-packages."""
    for name in names:
        base = next(Path(p) for p in sys.path if (Path(p) / name).is_file())
        (into / name).parent.mkdir(parents=True, exist_ok=True)
        (into / name).write_bytes((base / name).read_bytes())


@pytest.mark.parametrize(("directory", "target", "list_name", "site"), BUILDS)
def test_build_compiles_each_listed_dependency_module_unchecked_hash(
    directory, target, list_name, site, tmp_path
):
    # Given the listed dependency modules where pip would have installed them, and one module
    # of the same dependencies that is not listed
    requirements, _, _ = ARTIFACTS["layer" if directory == "shared" else "skill"]
    names = listed(ROOT / directory / list_name)
    unlisted = min(set(shipped_files(requirements).values()) - set(names))
    deps = tmp_path / site
    deps.mkdir(exist_ok=True)
    _install([*names, unlisted], deps)

    # When the build target runs with a Python of the version it targets
    subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-C",
            str(ROOT / directory),
            target,
            f"ARTIFACTS_DIR={tmp_path}",
            f"LAMBDA_PYTHON={THIS_PYTHON}",
            f"LAMBDA_PYTHON_BIN={sys.executable}",
            "PIP=true",
            "STRIP=",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )

    # Then each listed module has hash-based, never checked bytecode of its source beside it
    for name in names:
        source = deps / name
        pyc = source.parent / "__pycache__" / f"{source.stem}.{PYC_TAG}.pyc"
        data = pyc.read_bytes()
        assert data[:4] == importlib.util.MAGIC_NUMBER
        assert int.from_bytes(data[4:8], "little") == 0b01
        assert data[8:16] == importlib.util.source_hash(source.read_bytes())
    # and the unlisted one has none: bytecode for the modules imported, not whole packages
    assert list((deps / unlisted).parent.glob(f"__pycache__/{Path(unlisted).stem}.*")) == []

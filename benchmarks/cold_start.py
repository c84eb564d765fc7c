"""Scenario 6: cold import of each handler as a ratio to the imports it cannot avoid (its floor),
and the size of each deployment artifact (tools/package.py --json), before and after issue 21.

Each sample is a fresh interpreter that times, with ``time.perf_counter``, either its floor
alone (``import boto3`` ...) or the floor followed by the handler module, so a handler that
deferred boto3 (or aiohttp) to its first call would gain nothing from it. The samples of the
floor, of this tree's handler and of the baseline's handler (the code before issue 21, commit
``BASELINE_COMMIT``, exported with ``git archive``) take turns, so a burst of load from elsewhere
on the shared machine lands on all three; the ratio is the median, over the rounds, of the
handler's sample over the floor's sample of the same round. ``python -X importtime`` then
names the slowest packages the handler loads beyond its floor: what stands between it and its
target.

Bytecode as deployed: each tree's handlers and villages_sync are copied to a temporary directory
and run with PYTHONDONTWRITEBYTECODE=1, so a handler module is compiled from source at each
import unless that tree's function Makefile ships its bytecode, and villages_sync is too unless
that tree's shared/Makefile precompiles it for the layer (then each is compiled here once,
unchecked-hash, as the package ships it). So are the dependencies the tree's layer and skill
package ship (the distributions their requirements.txt pin, copied from the venv without pip's
bytecode into the tree, ahead of the venv on the path: the layer's for every handler, the skill
package's for the skill's alone, as /var/task comes before /opt and the runtime in Lambda): read
from source unless the tree's Makefile compiles them (shared/layer-bytecode.txt,
skill/package-bytecode.txt: then exactly the listed modules are compiled here). The floor is
timed in each tree too (aiohttp and bs4 ship in the layer, the ASK SDK in the skill's package),
and each tree's ratio is over its own floor. boto3 and botocore come from the venv, with pip's
bytecode, as the Lambda runtime's come with theirs.

``python -m benchmarks.cold_start [--runs N] [--no-baseline] [--baseline COMMIT]`` prints the
figures as JSON (``--baseline`` compares with another commit than the issue's, e.g. ``main``).
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import importlib.metadata
import importlib.util
import json
import os
import py_compile
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.common import median

ROOT = Path(__file__).resolve().parent.parent
# main before issue 21: Powertools Tracer (the X-Ray SDK) and BatchProcessor in the handlers.
BASELINE_COMMIT = "6416583"

# handler module -> (the imports it cannot avoid, the target ratio of the handler to them).
# The skill's floor is the ASK SDK as a skill uses it: SkillBuilder (ask_sdk_core.skill_builder,
# which loads the request dispatch and the serializer; bare ``import ask_sdk_core`` loads none
# of the SDK) and ask_sdk_model.
HANDLERS: dict[str, tuple[tuple[str, ...], float]] = {
    "producers.scrape_handler": (("boto3", "aiohttp", "bs4"), 1.2),
    "consumers.upsert_handler": (("boto3",), 1.4),
    "consumers.sweep_handler": (("boto3",), 1.4),
    "skill.skill_handler": (("boto3", "ask_sdk_core.skill_builder", "ask_sdk_model"), 1.2),
}
# Never loaded by a handler beyond its floor (tests/unit/test_handler_imports.py asserts it).
HEAVY = ("aws_xray_sdk", "pydantic", "aws_lambda_powertools.utilities.batch", "jmespath")

_TIMED = (
    "import sys, time\n"
    "started = time.perf_counter()\n"
    "import {modules}\n"
    "elapsed = time.perf_counter() - started\n"
    "print(elapsed * 1000, ' '.join(sorted(sys.modules)))\n"
)


@dataclass
class ImportFigures:
    module: str
    floor: tuple[str, ...]
    target: float
    floor_ms: float
    handler_ms: float
    ratio: float
    heavy_loaded: list[str]
    slowest_beyond_floor: list[tuple[str, float]]  # top-level package, importtime ms
    baseline_floor_ms: float | None = None  # its floor as the baseline's artifacts ship it
    baseline_ms: float | None = None
    baseline_ratio: float | None = None
    baseline_heavy_loaded: list[str] = field(default_factory=list)

    @property
    def met(self) -> bool:
        return self.ratio <= self.target and not self.heavy_loaded


FUNCTION_DIRS = ("producers", "consumers", "skill")
CODE_DIRS = ("shared", *FUNCTION_DIRS)
UNCHECKED = py_compile.PycInvalidationMode.UNCHECKED_HASH


# artifact -> (its requirements, the list of dependency modules its Makefile precompiles), in
# a tree; the skill's package is on the path of the skill's handler only.
DEPENDENCIES = {
    "layer": ("shared/requirements.txt", "shared/layer-bytecode.txt", "shared/Makefile"),
    "skill": ("skill/requirements.txt", "skill/package-bytecode.txt", "skill/Makefile"),
}
_PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", re.MULTILINE)


def _artifacts(module: str) -> tuple[str, ...]:
    """The artifacts whose dependencies ``module`` reads, first on the path first."""
    return ("skill", "layer") if module.startswith("skill.") else ("layer",)


def _environment(tree: Path, module: str) -> dict[str, str]:
    """Imports from ``tree`` first (its handlers, its villages_sync and the dependencies its
    artifacts ship for ``module``), then the venv; no bytecode written (what the tree ships is
    what is read)."""
    dependencies = [str(tree / "dependencies" / name) for name in _artifacts(module)]
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tree / "shared"), str(tree), *dependencies]),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _ship_dependencies(source: Path, artifact: str, out: Path) -> None:
    """Copies, from the venv without bytecode, the distributions ``source``'s ``artifact``
    pins into ``out``, and compiles the modules its Makefile precompiles (none without a list)."""
    requirements, bytecode_list, makefile = (source / p for p in DEPENDENCIES[artifact])
    out.mkdir(parents=True)
    if not requirements.exists():
        return
    for name in _PINNED.findall(requirements.read_text()):
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here: read from nowhere (its importer fails loudly)
        tops = {f.parts[0] for f in distribution.files or [] if len(f.parts) > 1}
        tops |= {f.name for f in distribution.files or [] if len(f.parts) == 1}
        for top in tops - {"..", "__pycache__"}:
            if top.endswith(".dist-info"):
                continue
            found = Path(distribution.locate_file(top))
            if found.is_dir():
                shutil.copytree(found, out / top, ignore=shutil.ignore_patterns("__pycache__"))
            elif found.suffix in (".py", ".so") and found.is_file():
                shutil.copy2(found, out / top)
    if bytecode_list.exists() and bytecode_list.name in makefile.read_text():
        for line in bytecode_list.read_text().splitlines():
            name = line.split("#", 1)[0].strip()
            if name:
                py_compile.compile(str(out / name), invalidation_mode=UNCHECKED, doraise=True)


@contextlib.contextmanager
def deployed_tree(source: Path) -> Iterator[Path]:
    """The handlers, villages_sync and the shipped dependencies of ``source``, with the
    bytecode its packaging ships."""
    with tempfile.TemporaryDirectory(prefix="cold-start-tree-") as out:
        tree = Path(out)
        for name in CODE_DIRS:
            shutil.copytree(
                source / name, tree / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        if "compileall" in (source / "shared" / "Makefile").read_text():
            compileall.compile_dir(
                tree / "shared" / "villages_sync",
                quiet=1,
                rx=re.compile(r"/villages_sync/(cli|local|standin)/"),
                invalidation_mode=UNCHECKED,
            )
        for name in FUNCTION_DIRS:  # the handler modules, when the function ships their bytecode
            if "compileall" in (source / name / "Makefile").read_text():
                for module in (tree / name).glob("*_handler.py"):
                    py_compile.compile(str(module), invalidation_mode=UNCHECKED, doraise=True)
        for artifact in DEPENDENCIES:
            _ship_dependencies(source, artifact, tree / "dependencies" / artifact)
        yield tree


def _fresh_python(*args: str, tree: Path, module: str) -> subprocess.CompletedProcess[str]:
    """``python *args`` in a fresh interpreter that imports from ``tree`` first, as the
    function of handler ``module`` does."""
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=tree,
        env=_environment(tree, module),
    )


def timed_import(modules: tuple[str, ...], tree: Path, handler: str) -> tuple[float, set[str]]:
    """Wall time (ms) of importing ``modules`` in a fresh interpreter set up as the function of
    ``handler`` is, and what it loaded."""
    code = _TIMED.format(modules=", ".join(modules))
    done = _fresh_python("-c", code, tree=tree, module=handler)
    ms, _, loaded = done.stdout.partition(" ")
    return float(ms), set(loaded.split())


def slowest_beyond_floor(floor: tuple[str, ...], module: str, tree: Path, count: int = 5):
    """The top-level packages ``module`` loads beyond ``floor``, slowest first (importtime's
    cumulative microseconds of the package's slowest entry, as ms)."""
    code = f"import {', '.join(floor)}; import {module}"
    done = _fresh_python("-X", "importtime", "-c", code, tree=tree, module=module)
    line = re.compile(r"^import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)$")
    after_floor, figures = False, {}
    for text in done.stderr.splitlines():
        match = line.match(text)
        if match is None:
            continue
        cumulative, indent, name = int(match.group(1)), len(match.group(2)), match.group(3)
        if indent == 0 and name in floor:
            after_floor, figures = True, {}  # what follows the last floor module is the handler's
            continue
        if after_floor and name != module and name != module.split(".")[0]:
            root = name.split(".")[0]
            figures[root] = max(figures.get(root, 0), cumulative)
    ranked = sorted(figures.items(), key=lambda item: -item[1])[:count]
    return [(name, round(us / 1000, 1)) for name, us in ranked]


@contextlib.contextmanager
def baseline_tree(commit: str = BASELINE_COMMIT) -> Iterator[Path | None]:
    """The baseline's files in a temporary directory (None when git cannot export it, or when
    the X-Ray SDK the issue's baseline handlers import is not installed here)."""
    if commit == BASELINE_COMMIT and importlib.util.find_spec("aws_xray_sdk") is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="cold-start-baseline-") as out:
        archive = Path(out) / "tree.tar"
        done = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--output", str(archive), commit],
            capture_output=True,
            timeout=120,
        )
        if done.returncode != 0:
            yield None
            return
        tree = Path(out) / "tree"
        with tarfile.open(archive) as tar:
            tar.extractall(tree, filter="data")
        yield tree


def measure_imports(runs: int, baseline: Path | None = None) -> list[ImportFigures]:
    with contextlib.ExitStack() as stack:
        trees = {"after": stack.enter_context(deployed_tree(ROOT))}
        if baseline:
            trees["before"] = stack.enter_context(deployed_tree(baseline))
        return [
            _measure(module, floor, target, runs, trees)
            for module, (floor, target) in HANDLERS.items()
        ]


def _measure(
    module: str, floor: tuple[str, ...], target: float, runs: int, trees: dict[str, Path]
) -> ImportFigures:
    for tree in trees.values():
        timed_import((*floor, module), tree, module)  # warms the file cache: not counted
    floors: dict[str, list[float]] = {name: [] for name in trees}
    samples: dict[str, list[float]] = {name: [] for name in trees}
    heavy: dict[str, set[str]] = {name: set() for name in trees}
    for _ in range(runs):
        for name, tree in trees.items():
            ms, floor_loaded = timed_import(floor, tree, module)
            floors[name].append(ms)
            ms, loaded = timed_import((*floor, module), tree, module)
            samples[name].append(ms)
            heavy[name] |= {p for p in HEAVY for m in loaded - floor_loaded if m.startswith(p)}
    result = ImportFigures(
        module=module,
        floor=floor,
        target=target,
        floor_ms=round(median(floors["after"]), 1),
        handler_ms=round(median(samples["after"]), 1),
        ratio=round(_paired_ratio(samples["after"], floors["after"]), 3),
        heavy_loaded=sorted(heavy["after"]),
        slowest_beyond_floor=slowest_beyond_floor(floor, module, trees["after"]),
    )
    if "before" in trees:
        result.baseline_floor_ms = round(median(floors["before"]), 1)
        result.baseline_ms = round(median(samples["before"]), 1)
        result.baseline_ratio = round(_paired_ratio(samples["before"], floors["before"]), 3)
        result.baseline_heavy_loaded = sorted(heavy["before"])
    return result


def _paired_ratio(handler_ms: list[float], floor_ms: list[float]) -> float:
    return median([h / f for h, f in zip(handler_ms, floor_ms, strict=True)])


def artifact_sizes(tree: Path = ROOT) -> list[dict]:
    """tools/package.py --json of ``tree`` (the baseline's own packaging, for the baseline)."""
    with tempfile.TemporaryDirectory(prefix="bench-package-") as out:
        done = subprocess.run(
            [sys.executable, str(tree / "tools" / "package.py"), "--json", "--out", out],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tree,
        )
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise RuntimeError(f"tools/package.py failed: {done.stderr[-500:]}")
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cold_start", description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-baseline", action="store_true", help="this tree only")
    parser.add_argument("--no-sizes", action="store_true", help="import times only")
    parser.add_argument("--baseline", default=BASELINE_COMMIT, help="the commit to compare with")
    args = parser.parse_args(argv)
    with baseline_tree(args.baseline) as baseline:
        baseline = None if args.no_baseline else baseline
        out: dict = {
            "baseline_commit": args.baseline if baseline else None,
            "imports": [asdict(f) | {"met": f.met} for f in measure_imports(args.runs, baseline)],
        }
        if not args.no_sizes:
            out["artifacts"] = artifact_sizes()
            out["baseline_artifacts"] = artifact_sizes(baseline) if baseline else None
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

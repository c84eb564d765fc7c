"""`make package`: build the layer and the four functions for Lambda (arm64), zip, check.

Each artifact is built by the same Makefile target `sam build` calls (BuildMethod: makefile),
then checked: every compiled extension must be an AArch64 ELF, and the unzipped sizes are
reported against the budgets (10 MB for the pipeline's layer and three functions, 6 MB for the
skill function on its own). Exit 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZE_BUDGET_BYTES = 10 * 1024 * 1024  # the pipeline: the layer, producer, consumer and sweep
# The skill function is deployed on its own with the ASK SDK inside (ask-sdk-model alone is
# 4.5 MB of generated classes); it has its own budget so it cannot eat the pipeline's.
SKILL_BUDGET_BYTES = 6 * 1024 * 1024
SEPARATE_BUDGETS = {"SkillFunction": SKILL_BUDGET_BYTES}
ELF_MACHINE_AARCH64 = 0xB7

# artifact (the template's logical id) -> the directory whose Makefile builds it
ARTIFACTS = {
    "SharedLayer": "shared",
    "ProducerFunction": "producers",
    "ConsumerFunction": "consumers",
    "SweepFunction": "consumers",
    "SkillFunction": "skill",
}


@dataclass
class ArtifactReport:
    name: str
    zip_path: str
    unzipped_bytes: int
    zipped_bytes: int
    files: int
    extensions: list[str] = field(default_factory=list)
    wrong_architecture: list[str] = field(default_factory=list)


def elf_machine(path: Path) -> int | None:
    """The ELF e_machine field of a compiled extension (None if not ELF)."""
    header = path.read_bytes()[:20]
    if header[:4] != b"\x7fELF":
        return None
    byteorder = "little" if header[5] == 1 else "big"
    return int.from_bytes(header[18:20], byteorder)


def build_artifact(name: str, source: str, out_dir: Path) -> Path:
    artifacts_dir = out_dir / name
    shutil.rmtree(artifacts_dir, ignore_errors=True)
    artifacts_dir.mkdir(parents=True)
    subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-C",
            str(ROOT / source),
            f"build-{name}",
            f"ARTIFACTS_DIR={artifacts_dir}",
            f"PIP={sys.executable} -m pip",
        ],
        check=True,
        stdout=sys.stderr,  # stdout is for the report (--json)
    )
    return artifacts_dir


def inspect(name: str, artifacts_dir: Path, zip_path: Path) -> ArtifactReport:
    files = [p for p in artifacts_dir.rglob("*") if p.is_file()]
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            archive.write(path, path.relative_to(artifacts_dir))
    extensions = [p for p in files if p.suffix == ".so" or ".so." in p.name]
    return ArtifactReport(
        name=name,
        zip_path=str(zip_path),
        unzipped_bytes=sum(p.stat().st_size for p in files),
        zipped_bytes=zip_path.stat().st_size,
        files=len(files),
        extensions=[str(p.relative_to(artifacts_dir)) for p in extensions],
        wrong_architecture=[
            str(p.relative_to(artifacts_dir))
            for p in extensions
            if elf_machine(p) != ELF_MACHINE_AARCH64
        ],
    )


def package(out_dir: Path) -> list[ArtifactReport]:
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        inspect(name, build_artifact(name, source, out_dir), out_dir / f"{name}.zip")
        for name, source in ARTIFACTS.items()
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "lambda")
    parser.add_argument("--json", action="store_true", help="print the reports as JSON")
    args = parser.parse_args(argv)
    reports = package(args.out)
    total = sum(r.unzipped_bytes for r in reports if r.name not in SEPARATE_BUDGETS)
    if args.json:
        print(json.dumps([asdict(r) for r in reports], indent=2))
    else:
        for r in reports:
            print(
                f"{r.name:<17} {r.unzipped_bytes / 1e6:6.2f} MB unzipped, "
                f"{r.zipped_bytes / 1e6:6.2f} MB zipped, {r.files} files, "
                f"{len(r.extensions)} compiled extensions"
            )
        print(
            f"{'pipeline total':<17} {total / 1e6:6.2f} MB unzipped "
            f"(budget {SIZE_BUDGET_BYTES / 1e6:.0f} MB; "
            + ", ".join(f"{n} {b / 1e6:.0f} MB" for n, b in SEPARATE_BUDGETS.items())
            + " on its own)"
        )
    wrong = [f"{r.name}: {path}" for r in reports for path in r.wrong_architecture]
    for line in wrong:
        print(f"NOT AArch64: {line}", file=sys.stderr)
    over = [f"pipeline: {total} bytes"] if total > SIZE_BUDGET_BYTES else []
    over += [
        f"{r.name}: {r.unzipped_bytes} bytes"
        for r in reports
        if r.unzipped_bytes > SEPARATE_BUDGETS.get(r.name, SIZE_BUDGET_BYTES)
    ]
    for line in over:
        print(f"over budget: {line} unzipped", file=sys.stderr)
    return 1 if wrong or over else 0


if __name__ == "__main__":
    sys.exit(main())

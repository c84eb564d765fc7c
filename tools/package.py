"""`make package`: build the layer and the four functions for Lambda (arm64), zip, check.

Each artifact is built by the same Makefile target `sam build` calls (BuildMethod: makefile),
then checked: every compiled extension must be an AArch64 ELF, and the unzipped sizes are
reported against the budgets (10 MB for the pipeline's layer and three functions, 6 MB for the
skill function on its own). Exit 1 when a check fails.

The zips are byte-identical from one build of a commit to the next (same wheels, same lock):
entries sorted by path, every timestamp set to ``SOURCE_DATE_EPOCH`` (default: the commit's
time), modes 0644 or 0755, no directory entries, one compression level. Each report carries the
zip's sha256 (hex, and base64 as Lambda's ``CodeSha256``) and a digest of its contents (paths
and file hashes, whatever zipped them): ``--digest ZIP`` prints it for any zip, such as the code
of a deployed function (docs/operations.md, "Security model").
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
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
ZIP_EPOCH_FLOOR = 315532800  # 1980-01-01: the earliest time a zip entry can hold
ZIP_COMPRESS_LEVEL = 9

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
    sha256: str  # of the zip, hex
    code_sha256: str  # of the zip, base64: what Lambda reports as CodeSha256
    content_sha256: str  # of its paths and files (content_digest), whoever zipped them
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


def source_date_epoch() -> int:
    """``SOURCE_DATE_EPOCH`` (reproducible-builds.org), else the time of the commit checked
    out, else 1980: the same for every build of one commit, whenever and wherever it runs."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return int(os.environ["SOURCE_DATE_EPOCH"])
    result = subprocess.run(
        ["git", "-C", str(ROOT), "log", "-1", "--format=%ct"],
        capture_output=True,
        text=True,
        check=False,
    )
    return int(result.stdout.strip()) if result.returncode == 0 and result.stdout.strip() else 0


def write_zip(artifacts_dir: Path, zip_path: Path, epoch: int) -> None:
    """The directory's files, zipped so that the same files give the same bytes: sorted,
    one timestamp, normalised modes, no directory entries, no extra fields."""
    stamp = time_tuple(max(epoch, ZIP_EPOCH_FLOOR))
    files = sorted(
        (p.relative_to(artifacts_dir).as_posix(), p)
        for p in artifacts_dir.rglob("*")
        if p.is_file()
    )
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in files:
            entry = zipfile.ZipInfo(name, date_time=stamp)
            entry.create_system = 3  # Unix, so that external_attr is read as a mode
            executable = path.stat().st_mode & 0o111
            entry.external_attr = (0o100755 if executable else 0o100644) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, path.read_bytes(), compresslevel=ZIP_COMPRESS_LEVEL)


def time_tuple(epoch: int) -> tuple[int, int, int, int, int, int]:
    return tuple(time.gmtime(epoch)[:6])  # type: ignore[return-value]


def content_digest(zip_path: Path) -> str:
    """sha256 over each file's path and sha256, in path order: equal for two zips of the same
    files whatever their timestamps, modes or compression (SAM's own zips included)."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(zip_path) as archive:
        for entry in sorted(archive.infolist(), key=lambda e: e.filename):
            if entry.is_dir():
                continue
            digest.update(entry.filename.encode() + b"\0")
            digest.update(hashlib.sha256(archive.read(entry)).hexdigest().encode() + b"\n")
    return digest.hexdigest()


def inspect(name: str, artifacts_dir: Path, zip_path: Path, epoch: int) -> ArtifactReport:
    files = [p for p in artifacts_dir.rglob("*") if p.is_file()]
    write_zip(artifacts_dir, zip_path, epoch)
    zip_hash = hashlib.sha256(zip_path.read_bytes()).digest()
    extensions = [p for p in files if p.suffix == ".so" or ".so." in p.name]
    return ArtifactReport(
        name=name,
        zip_path=str(zip_path),
        unzipped_bytes=sum(p.stat().st_size for p in files),
        zipped_bytes=zip_path.stat().st_size,
        sha256=zip_hash.hex(),
        code_sha256=base64.b64encode(zip_hash).decode(),
        content_sha256=content_digest(zip_path),
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
    epoch = source_date_epoch()
    reports = [
        inspect(name, build_artifact(name, source, out_dir), out_dir / f"{name}.zip", epoch)
        for name, source in ARTIFACTS.items()
    ]
    (out_dir / "SHA256SUMS").write_text(
        "".join(f"{r.sha256}  {Path(r.zip_path).name}\n" for r in reports)
    )
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "lambda")
    parser.add_argument("--json", action="store_true", help="print the reports as JSON")
    parser.add_argument(
        "--digest",
        type=Path,
        metavar="ZIP",
        help="print the content digest of ZIP (e.g. a deployed function's code) and exit",
    )
    args = parser.parse_args(argv)
    if args.digest:
        print(content_digest(args.digest))
        return 0
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
            print(f"{'':<17} CodeSha256 {r.code_sha256}  content {r.content_sha256}")
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

"""`make dynamodb-local`: DynamoDB Local into .cache/dynamodb-local/<version>/, from npm only.

AWS's DynamoDBLocal.jar and its libraries ship in the `emulator/` folder of the npm package
amplify-dynamodb-simulator. This fetches the pinned version with `npm pack` (the npm registry is
the only network it needs), checks the tarball's sha256 against the one recorded in
villages_sync_ops.local.dynamodb_local, unpacks `emulator/` and compiles the loopback launcher
(tools/dynamodb_local/LoopbackDynamoDBLocal.java) beside the jar. Nothing happens when that
version is already in place, so CI can cache `.cache/dynamodb-local/` keyed by the version.
Exit 1 with one line when npm, javac or the checksum is wrong. With ``--if-java`` (what
`make test` uses) a machine without java, javac or npm gets one line and exit 0: the tests then
run on moto only.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from villages_sync_ops.local.dynamodb_local import (
    LAUNCHER_CLASS,
    PACKAGE,
    PACKAGE_SHA256,
    PACKAGE_VERSION,
    install_dir,
)

ROOT = Path(__file__).resolve().parent.parent
LAUNCHER_SOURCE = ROOT / "tools" / "dynamodb_local" / f"{LAUNCHER_CLASS}.java"
MEMBER_PREFIX = "package/emulator/"
REQUIRED_TOOLS = ("npm", "javac", "java")


class InstallError(RuntimeError):
    pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--if-java", action="store_true", help="without java, javac or npm: say so, exit 0"
    )
    args = parser.parse_args()
    target = install_dir()
    if (target / "DynamoDBLocal.jar").is_file() and (target / f"{LAUNCHER_CLASS}.class").is_file():
        print(f"DynamoDB Local ({PACKAGE}@{PACKAGE_VERSION}) already in {target}")
        return 0
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if missing and args.if_java:
        print(f"no {', '.join(missing)}: DynamoDB Local skipped, tests run on moto only")
        return 0
    try:
        install(target)
    except InstallError as error:
        print(f"make dynamodb-local: {error}", file=sys.stderr)
        return 1
    print(f"DynamoDB Local ({PACKAGE}@{PACKAGE_VERSION}) installed in {target}")
    return 0


def install(target: Path) -> None:
    npm, javac, _ = (_tool(name) for name in REQUIRED_TOOLS)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".download-") as scratch:
        work = Path(scratch)
        tarball = _npm_pack(npm, work)
        digest = _sha256(tarball)
        if digest != PACKAGE_SHA256:
            raise InstallError(
                f"{tarball.name}: sha256 {digest}, expected {PACKAGE_SHA256}; nothing installed"
            )
        unpacked = work / "emulator"
        _extract_emulator(tarball, unpacked)
        _compile_launcher(javac, unpacked)
        if target.exists():  # a half-finished earlier attempt
            shutil.rmtree(target)
        os.replace(unpacked, target)  # appears whole or not at all


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise InstallError(f"{name} is not on PATH (DynamoDB Local needs npm and a JDK)")
    return found


def _npm_pack(npm: str, into: Path) -> Path:
    spec = f"{PACKAGE}@{PACKAGE_VERSION}"
    result = subprocess.run(
        [npm, "pack", spec, "--pack-destination", str(into), "--silent", "--ignore-scripts"],
        capture_output=True,
        text=True,
        check=False,
    )
    tarballs = list(into.glob("*.tgz"))
    if result.returncode != 0 or len(tarballs) != 1:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise InstallError(f"npm pack {spec} failed: {detail[-1] if detail else result.returncode}")
    return tarballs[0]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _extract_emulator(tarball: Path, into: Path) -> None:
    """Only `package/emulator/`, as regular files and directories, with the `data` filter."""
    with tarfile.open(tarball, "r:gz") as archive:
        members = []
        for member in archive.getmembers():
            if not member.name.startswith(MEMBER_PREFIX) or not (member.isfile() or member.isdir()):
                continue
            member.name = member.name[len(MEMBER_PREFIX) :]
            if member.name:
                members.append(member)
        archive.extractall(into, members=members, filter="data")
    if not (into / "DynamoDBLocal.jar").is_file():
        raise InstallError(f"{tarball.name} has no {MEMBER_PREFIX}DynamoDBLocal.jar")


def _compile_launcher(javac: str, emulator: Path) -> None:
    libraries = emulator / "DynamoDBLocal_lib" / "*"
    classpath = f"{emulator / 'DynamoDBLocal.jar'}{os.pathsep}{libraries}"
    result = subprocess.run(
        [javac, "-cp", classpath, "-d", str(emulator), str(LAUNCHER_SOURCE)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise InstallError(f"javac {LAUNCHER_SOURCE.name} failed: {result.stderr.strip()}")


if __name__ == "__main__":
    sys.exit(main())

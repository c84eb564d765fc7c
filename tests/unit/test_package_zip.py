"""tools/package.py's zips: the same files give the same bytes, whenever they were written."""

from __future__ import annotations

import importlib.util
import os
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("package_tool", ROOT / "tools" / "package.py")
package_tool = importlib.util.module_from_spec(_spec)
sys.modules["package_tool"] = package_tool  # its dataclasses look their module up there
_spec.loader.exec_module(package_tool)

FILES = {"b/handler.py": b"def h(): ...\n", "a/lib.so": b"\x7fELF...", "c.txt": b"x" * 1000}


def write_tree(root: Path, mtime: int, mode: int) -> Path:
    for name, data in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(mode)
        os.utime(path, (mtime, mtime))
    return root


def test_write_zip_same_files_other_mtimes_and_modes_same_bytes(tmp_path: Path) -> None:
    # Given the same files written twice, years apart and with other permissions
    first = write_tree(tmp_path / "one", mtime=1_600_000_000, mode=0o600)
    second = write_tree(tmp_path / "two", mtime=1_700_000_000, mode=0o640)

    # When each is zipped at one SOURCE_DATE_EPOCH
    package_tool.write_zip(first, tmp_path / "one.zip", epoch=1_750_000_000)
    package_tool.write_zip(second, tmp_path / "two.zip", epoch=1_750_000_000)

    # Then the zips are byte-identical: sorted entries, one timestamp, 0644 files
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        entries = archive.infolist()
    assert [e.filename for e in entries] == sorted(FILES)
    assert {e.date_time for e in entries} == {(2025, 6, 15, 15, 6, 40)}
    assert {e.external_attr >> 16 for e in entries} == {0o100644}


def test_write_zip_keeps_the_executable_bit_and_content_digest_ignores_zipping(
    tmp_path: Path,
) -> None:
    # Given a tree with an executable file, zipped by us and by plain zipfile
    tree = write_tree(tmp_path / "tree", mtime=1_600_000_000, mode=0o644)
    (tree / "c.txt").chmod(0o755)
    package_tool.write_zip(tree, tmp_path / "ours.zip", epoch=0)
    with zipfile.ZipFile(tmp_path / "plain.zip", "w", zipfile.ZIP_STORED) as plain:
        for name in reversed(sorted(FILES)):
            plain.write(tree / name, name)

    # Then the mode survives, the epoch floor is 1980, and both have one content digest
    with zipfile.ZipFile(tmp_path / "ours.zip") as archive:
        modes = {e.filename: e.external_attr >> 16 for e in archive.infolist()}
        assert {e.date_time for e in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert modes["c.txt"] == 0o100755 and modes["b/handler.py"] == 0o100644
    assert package_tool.content_digest(tmp_path / "ours.zip") == package_tool.content_digest(
        tmp_path / "plain.zip"
    )

"""The distribution: what ``python -m build`` puts in the sdist and in the wheel built from it.

The suite runs on an editable install, which reads the source tree; only a
built distribution shows whether the bundled data and the license reach a
user who installs the package.
"""

import hashlib
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

import skmlp

ROOT = Path(__file__).parents[1]
UNTRACKED = (".git", ".venv*", ".pytest_cache", "build", "dist", "*.egg-info", "results",
             "__pycache__", "*.db")


def _files(folder):
    return sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / folder).rglob("*")
                  if path.is_file() and "__pycache__" not in path.parts)


PACKAGE_FILES = _files("skmlp")


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The sdist and the wheel ``python -m build`` makes from a copy of the source tree."""
    source = tmp_path_factory.mktemp("source")
    shutil.copytree(ROOT, source, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(*UNTRACKED))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out),
                    str(source)], check=True, capture_output=True)
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return sdist, wheel


def test_the_wheel_holds_every_package_file_as_it_is_in_the_source(built):
    with zipfile.ZipFile(built[1]) as wheel:
        packaged = {name: _sha256(wheel.read(name)) for name in wheel.namelist()
                    if name.startswith("skmlp/")}
    assert any(name.startswith("skmlp/datasets/data/") for name in PACKAGE_FILES)
    assert packaged == {name: _sha256((ROOT / name).read_bytes()) for name in PACKAGE_FILES}


def test_the_wheel_carries_the_license_and_declares_it(built):
    dist_info = f"skmlp-{skmlp.__version__}.dist-info"
    with zipfile.ZipFile(built[1]) as wheel:
        license_text = wheel.read(f"{dist_info}/licenses/LICENSE")
        metadata = Parser().parsestr(wheel.read(f"{dist_info}/METADATA").decode())
    assert license_text == (ROOT / "LICENSE").read_bytes()
    assert metadata["License-Expression"] == "BSD-3-Clause"
    assert metadata.get_all("License-File") == ["LICENSE"]


def test_the_sdist_is_the_source_tree_with_its_tests_and_benchmarks(built):
    with tarfile.open(built[0]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    source = {"pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "Makefile", ".ci/run",
              *PACKAGE_FILES, *_files("tests"), *_files("benchmarks"), *_files("requirements")}
    assert source <= names
    assert not any(name.endswith(".pyc") or "__pycache__" in name for name in names)

"""The built wheel works outside the source tree and carries its grammar."""

import json
import math
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = "x1*x2 + sin(x1), exp(x1-x2)"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """Build the wheel from the checkout and install it into a plain directory."""
    tmp = tmp_path_factory.mktemp("packaging")
    wheels, site = tmp / "wheels", tmp / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
                   check=True, cwd=tmp, timeout=120)
    (wheel,) = wheels.glob("adjac-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, cwd=tmp, timeout=120)
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    return wheel, site, elsewhere


def environment(site):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONPATH"] = str(site)          # the installed copy, not the checkout
    env.pop("NO_COLOR", None)
    return env


def check_example(stdout):
    doc = json.loads(stdout)
    (result,) = doc["results"]
    e = math.exp(-1.0)
    assert doc["variables"] == ["x1", "x2"]
    assert result["value"] == pytest.approx([2 + math.sin(1.0), e], rel=1e-15)
    assert result["jacobian"][0] == pytest.approx([2 + math.cos(1.0), 1.0], rel=1e-15)
    assert result["jacobian"][1] == pytest.approx([e, -e], rel=1e-15)


@pytest.mark.slow
def test_the_wheel_carries_the_grammar(installed):
    wheel, site, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert "autodiff_cli/grammar/adjac.lark" in names
    assert (site / "autodiff_cli" / "grammar" / "adjac.lark").is_file()
    assert not (site / "grammar").exists()       # the checkout fallback cannot be what is found


@pytest.mark.slow
def test_python_dash_m_from_another_directory(installed):
    _, site, elsewhere = installed
    result = subprocess.run([sys.executable, "-m", "autodiff_cli", EXAMPLE, "--at", "1,2", "--mode", "reverse",
                             "--format", "json"], capture_output=True, text=True, cwd=elsewhere,
                            env=environment(site), timeout=60)
    assert result.returncode == 0, result.stderr
    check_example(result.stdout)
    where = subprocess.run([sys.executable, "-c", "import autodiff_cli; print(autodiff_cli.__file__)"],
                           capture_output=True, text=True, cwd=elsewhere, env=environment(site), timeout=60)
    assert Path(where.stdout.strip()).is_relative_to(site)


@pytest.mark.slow
def test_the_installed_adjac_script(installed):
    _, site, elsewhere = installed
    script = site / "bin" / "adjac"
    assert script.is_file()
    # pip wrote the script for this interpreter; run it with it, the way a shell would.
    result = subprocess.run([sys.executable, str(script), EXAMPLE, "--at", "1,2", "--format", "json"],
                            capture_output=True, text=True, cwd=elsewhere, env=environment(site), timeout=60)
    assert result.returncode == 0, result.stderr
    check_example(result.stdout)
    version = subprocess.run([str(script), "--version"], capture_output=True, text=True, cwd=elsewhere,
                             env=environment(site), timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("adjac, version ")

"""docs/ci.md's recipes do what the page says: their conformance step, exactly as written in the GitHub
Actions and GitLab CI YAML, run here against the reference server with a planted fault (itp's no-joined):
exit 0 when the baseline knows the failure, exit 1 when it does not, and the report files and the job
summary where the page says."""
import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from conftest import BIN_DIR, REPO, binary

pytestmark = pytest.mark.usefixtures("hang_guard")

DOC = os.path.join(REPO, "docs", "ci.md")
TARGET = f"'{binary('parley-server')}' itp --port {{port}} --ping-interval {{ping}} --pong-timeout {{pong}} --fault no-joined"


def recipes():
    blocks = re.findall(r"```yaml\n(.*?)```", open(DOC).read(), re.S)
    assert len(blocks) == 2, "docs/ci.md should hold the GitHub Actions and the GitLab CI recipe"
    github, gitlab = (yaml.safe_load(b) for b in blocks)
    step = next(s for s in github["jobs"]["parley"]["steps"] if s.get("name") == "Parley conformance")
    job = gitlab["parley-conformance"]
    return {
        "github": (step["run"], step["env"]),
        "gitlab": (next(line for line in job["script"] if "parley-conform" in line), job["variables"]),
    }


def run_step(workdir, script, documented_env):
    env = dict(os.environ, PARLEY=BIN_DIR, TARGET=TARGET, GITHUB_STEP_SUMMARY=str(workdir / "summary.md"))
    assert {"PARLEY", "TARGET"} <= set(documented_env), documented_env
    return subprocess.run(["bash", "-c", script], cwd=workdir, env=env, capture_output=True, text=True, timeout=240)


def write_baseline(workdir, fault):
    (workdir / "conformance").mkdir(exist_ok=True)
    target = TARGET if fault else TARGET.replace(" --fault no-joined", "")
    subprocess.run([binary("parley-conform"), "itp", "--launch", target, "--no-color", "--write-baseline",
                    str(workdir / "conformance" / "itp.baseline")], capture_output=True, timeout=240)


def test_the_recipes_build_parley_with_a_preset_that_exists():
    presets = {p["name"] for p in json.load(open(os.path.join(REPO, "CMakePresets.json")))["configurePresets"]}
    text = open(DOC).read()
    for used in re.findall(r"cmake --preset (\S+)", text):
        assert used in presets, used
    assert "parley/build/release/bin" in text


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_the_conformance_step_gates_on_the_baseline_and_keeps_the_reports(tmp_path, ci):
    script, documented_env = recipes()[ci]
    write_baseline(tmp_path, fault=True)  # the failure is known
    proc = run_step(tmp_path, script, documented_env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    report = tmp_path / "report"
    for name in ("itp.html", "itp.xml", "itp.md", "itp.pcap"):
        assert (report / name).stat().st_size > 0, name
    summary = (report / "itp.md").read_text()
    assert "parley-conform itp" in summary and "known" in summary, summary
    if ci == "github":
        assert (tmp_path / "summary.md").read_text() == summary
    else:
        assert summary in proc.stdout

    shutil.rmtree(report)
    write_baseline(tmp_path, fault=False)  # now the same failure is news
    proc = run_step(tmp_path, script, documented_env)
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert "regression: ITP-IDENT-05 FAIL (baseline: PASS)" in proc.stdout
    assert (report / "itp.xml").exists() and (report / "itp.html").exists()

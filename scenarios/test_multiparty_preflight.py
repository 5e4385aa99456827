"""The multiparty suite's preflight: before its first case the engine logs in as one of the run's users, so
a target that is not a multiparty server, or one that does not know the run's users, is one clear error
(exit 3) instead of a failure per case; a target that does know them is tested."""
import subprocess

import pytest

from conftest import binary

pytestmark = pytest.mark.usefixtures("hang_guard")


def conform(*args):
    return subprocess.run([binary("parley-conform"), "multiparty", "--no-color", *map(str, args)],
                          capture_output=True, text=True, timeout=60)


def test_an_itp_server_is_one_error_not_a_failure_per_case(server):
    done = conform("--target", f"{server.host}:{server.port}")
    assert done.returncode == 3, done.stdout[-3000:]
    assert "does not speak multiparty" in done.stdout and "INIT" in done.stdout, done.stdout[-3000:]
    assert "no case ran" in done.stdout


def test_a_server_that_does_not_know_the_runs_users_is_one_error(multiparty_server):
    # Without --keys the engine makes users of its own, which this server has never heard of.
    done = conform("--target", f"{multiparty_server.host}:{multiparty_server.port}")
    assert done.returncode == 3, done.stdout[-3000:]
    assert "does not know the run's users" in done.stdout, done.stdout[-3000:]


def test_a_server_that_knows_them_is_tested(multiparty_server, multiparty_keys):
    done = conform("--target", f"{multiparty_server.host}:{multiparty_server.port}", "--keys", multiparty_keys,
                   "--case", "status-of-users,login-res-and-keys")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "2 passed" in done.stdout, done.stdout[-3000:]

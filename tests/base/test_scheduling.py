"""A ``fakewatch`` process started under a real-time policy drops to the normal one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from base.scheduling import normal_scheduling

CAN_SET_RT = hasattr(os, "sched_setscheduler") and os.geteuid() == 0


def test_the_normal_policy_is_left_alone() -> None:
    if os.sched_getscheduler(0) != os.SCHED_OTHER:
        pytest.skip("this test process itself runs under another policy")
    assert normal_scheduling() is False
    assert os.sched_getscheduler(0) == os.SCHED_OTHER


@pytest.mark.skipif(not CAN_SET_RT, reason="setting a real-time policy needs root on Linux")
def test_a_command_started_under_sched_fifo_switches_to_normal() -> None:
    code = (
        "import os, sys\n"
        "from fakewatch.cli import main\n"
        "sys.argv = ['fakewatch', '--version']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(os.sched_getscheduler(0))\n"
    )

    def real_time() -> None:  # in the child, before exec: as a real-time parent would pass on
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))

    out = subprocess.run(
        [sys.executable, "-c", code],
        preexec_fn=real_time,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == str(os.SCHED_OTHER)

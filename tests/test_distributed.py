"""Many pictures on many processes: two CPU processes draw a sweep in order, as eight GPUs would."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from course_utils import distributed as D
from course_utils.errors import CourseInputError


def test_a_sweep_lists_every_combination():
    jobs = D.sweep("a cat", seed=range(3), guidance=(1.0, 7.5))
    assert len(jobs) == 6 and jobs[0] == {"prompt": "a cat", "seed": 0, "guidance": 1.0}
    with pytest.raises(CourseInputError, match="non-empty list"):
        D.check_jobs([])
    with pytest.raises(CourseInputError, match="'prompt'"):
        D.check_jobs([{"seed": 1}])


def test_two_processes_draw_the_jobs_in_order_and_match_one_process(tmp_path, tiny_model_dir):
    jobs = D.sweep("a cat", seed=range(5), steps=(2,))
    (tmp_path / "jobs.json").write_text(json.dumps(jobs))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COURSE_DEVICE": "cpu", "OMP_NUM_THREADS": "1"}
    # torchrun: what `accelerate launch` starts on GPUs; on CPUs accelerate's own launcher needs MPI
    launch = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "course_utils.distributed",
              str(tmp_path / "jobs.json"), str(tmp_path / "two"),
              "--model", str(tiny_model_dir)]
    done = subprocess.run(launch, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "5 pictures from 2 process(es)" in done.stdout
    assert json.loads((tmp_path / "two" / "processes.json").read_text()) == [0, 0, 0, 1, 1]
    one = D.draw_many(jobs, model=str(tiny_model_dir))  # a plain call: one process draws everything
    assert one.processes == [0] * 5
    for k, image in enumerate(one.images):
        split = np.asarray(Image.open(tmp_path / "two" / f"{k:03d}.png"), int)
        assert np.abs(split - np.asarray(image, int)).max() <= 1, f"job {k} differs"

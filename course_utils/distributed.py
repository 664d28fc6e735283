"""Many pictures on many GPUs: split a list of jobs across the processes of an ``accelerate launch`` run.

Taught in: chapter 6 (compute requirements): when one GPU is not enough for a sweep.

A picture is made by one GPU from start to end, so the simplest way to use eight GPUs is eight
copies of the pipeline, each drawing an eighth of the list (data parallelism). `draw_many` does
that with accelerate's `PartialState`: every process loads the model on its own device, takes its
share of the jobs (``split_between_processes``), draws it, and the pictures are gathered back in
the order of the list (``gather_object``). Started with ``python`` it is one process drawing
everything, so the same script runs on a laptop and on a GPU server::

    accelerate launch --num_processes 8 my_sweep.py         # on 8 GPUs
    torchrun --nproc_per_node 2 my_sweep.py                 # 2 CPU processes: how the tests check it

A job is a dict of `text_to_image`'s keyword arguments (``prompt``, ``seed``, ``guidance`` ...), or
of `image_to_image`'s when it holds an ``image``. Each job sets its own seed, so a picture does not
depend on which process drew it.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from .errors import CourseInputError


def check_jobs(jobs) -> list[dict]:
    if isinstance(jobs, dict) or not isinstance(jobs, list | tuple) or not jobs:
        raise CourseInputError("jobs must be a non-empty list of dicts, e.g. [{'prompt': 'a cat', 'seed': 0}, ...].")
    for k, job in enumerate(jobs):
        if not isinstance(job, dict) or "prompt" not in job:
            raise CourseInputError(f"jobs[{k}]={job!r} must be a dict with at least a 'prompt'.")
    return list(jobs)


def sweep(prompt: str, **values) -> list[dict]:
    """Jobs for every combination of the given values, e.g. ``sweep("a cat", seed=range(8),
    strength=(0.3, 0.6))``: the list `draw_many` takes."""
    import itertools

    names = list(values)
    return [dict(prompt=prompt, **dict(zip(names, combo, strict=True)))
            for combo in itertools.product(*(list(values[n]) for n in names))]


@dataclass
class Drawn:
    """The pictures of `draw_many`, in the order of the jobs, and which process drew each."""

    images: list
    processes: list[int]


def draw_many(jobs: list[dict], model: str = "auto") -> Drawn:
    """Draw every job, shared between the processes of this run; every process gets all pictures,
    in the order of `jobs`. See the module's docstring."""
    from accelerate import PartialState
    from accelerate.utils import gather_object

    from .device import get_device
    from .generate import image_to_image, text_to_image
    from .models import load_pipeline

    jobs = check_jobs(jobs)
    state = PartialState(cpu=get_device().type == "cpu")  # CPU processes talk through gloo, GPUs through NCCL
    pipe = load_pipeline(model, device=str(state.device), verbose=state.is_main_process)
    mine = []
    with state.split_between_processes(list(enumerate(jobs))) as share:  # contiguous slices, in order
        for index, job in share:
            job = dict(job)
            image = job.pop("image", None)
            result = (image_to_image(image, pipe=pipe, **job) if image is not None
                      else text_to_image(pipe=pipe, **job))
            mine.append((index, state.process_index, result.image))
    everything = sorted(gather_object(mine), key=lambda item: item[0])
    if [i for i, _, _ in everything] != list(range(len(jobs))):
        raise RuntimeError(f"gathered {len(everything)} pictures for {len(jobs)} jobs")
    return Drawn([image for _, _, image in everything], [process for _, process, _ in everything])


def main(argv: list[str] | None = None) -> None:
    """``python -m course_utils.distributed JOBS.json OUTDIR``: draw the jobs, save them numbered."""
    from accelerate import PartialState

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("jobs", type=Path, help="a JSON list of jobs")
    parser.add_argument("out", type=Path, help="the folder for the pictures (000.png, 001.png ...)")
    parser.add_argument("--model", default="auto")
    args = parser.parse_args(argv)
    drawn = draw_many(json.loads(args.jobs.read_text()), model=args.model)
    state = PartialState()
    if state.is_main_process:
        from .saving import save_image

        args.out.mkdir(parents=True, exist_ok=True)
        for k, image in enumerate(drawn.images):
            save_image(image, args.out / f"{k:03d}.png", overwrite=True)
        (args.out / "processes.json").write_text(json.dumps(drawn.processes))
        print(f"{len(drawn.images)} pictures from {state.num_processes} process(es) in {args.out}")


if __name__ == "__main__":
    main()

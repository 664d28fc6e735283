"""The one exception the course raises for bad input.

Every helper in `course_utils` that takes something from a learner (a file, a picture, a
parameter) checks it first and raises `CourseInputError` with a message that says what was
wrong and what to do. It subclasses `ValueError`, so ``except ValueError`` catches it too.
"""


class CourseInputError(ValueError):
    """Bad input from a learner: the message names the input, what is wrong and what to do."""


class CourseSetupError(RuntimeError):
    """Something the course needs is missing (a model, a package, a GPU): the message says how to fix it."""


class CourseWarning(UserWarning):
    """Something works but will disappoint (a slow or badly sized picture): the message says why and what to do."""

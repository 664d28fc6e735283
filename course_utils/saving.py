"""One way to write a file, so that a learner's work is never lost.

Taught in: chapter 2 (the GIFs), chapters 3, 5 and 7 (the save buttons), chapter 8 (the manga page)
and chapter 9 (the print file). Every helper of the course that writes a file goes through
`save_file`:

1. ``~`` is expanded and missing folders are made;
2. the bytes go to a temporary file beside the target, which is moved into place with
   ``os.replace`` only once it is complete: a save that fails half-way (a full disk, a closed
   laptop lid) leaves the earlier file exactly as it was, and no half-written file behind;
3. an existing file is never overwritten unless ``overwrite=True``: the new one gets the next free
   numbered name (``page.png`` -> ``page-2.png`` -> ``page-3.png`` ...), and that path is returned;
4. what the computer refuses becomes an error that says what happened and what to do.

Which error: `CourseInputError` when the path itself is wrong (a folder where a file should be, a
file where a folder should be, an extension no writer knows, a picture the format cannot hold);
`CourseSetupError` when the path is fine but the computer refuses (permission denied, a read-only
disk, a full disk, any other failure of the operating system).
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import CourseInputError, CourseSetupError

__all__ = ["ensure_folder", "explain_failure", "next_free_name", "portable_text", "save_file", "save_image"]

_PERMISSION = {errno.EACCES, errno.EPERM, errno.EROFS}
_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}
_MAX_NUMBER = 10_000


def _as_path(path, label: str) -> Path:
    if not isinstance(path, (str, os.PathLike)) or not str(os.fspath(path)).strip():
        raise CourseInputError(
            f"{label}={path!r} is not a file path: give a name such as 'outputs/my_picture.png' "
            "(a str or a pathlib.Path).")
    return Path(os.fspath(path)).expanduser()


def blocking_file(folder: Path) -> Path | None:
    """The first file (not a folder) among `folder` and its parents, if one stands in the way."""
    for candidate in (folder, *folder.parents):
        if candidate.exists() or candidate.is_symlink():
            return None if candidate.is_dir() else candidate
    return None


def _reason(err: OSError) -> str:
    return err.strerror or str(err) or type(err).__name__


def _example(folder: Path, what: str) -> Path:
    return folder / f"my_{what.replace(' ', '_')}.png"


def _refused(err: OSError) -> bool:
    return isinstance(err, PermissionError) or err.errno in _PERMISSION


def ensure_folder(folder, *, label: str = "path", what: str = "file") -> Path:
    """Make `folder` (and its parents) if needed and return it, with ``~`` expanded.

    Taught in: chapter 2 (``cu.output_dir()`` uses it for ``outputs/``).

    Raises `CourseInputError` when a file stands where a folder should be, and `CourseSetupError`
    when the computer does not allow the folder to be made. ``label`` is the argument's name in
    those messages.
    """
    folder = _as_path(folder, label)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        blocker = blocking_file(folder)
        if blocker is not None:
            raise CourseInputError(
                f"{label}='{folder}': the {what} needs '{blocker}' to be a folder, but a file has that name. "
                "Rename or move that file, or choose another folder.") from err
        if _refused(err):
            raise CourseSetupError(
                f"{label}='{folder}': this computer does not allow making that folder ({_reason(err)}). "
                "Choose a folder you can write in, such as cu.output_dir() (set COURSE_OUTPUT_DIR to move it)."
            ) from err
        raise explain_failure(err, folder, what, label) from err
    if not folder.is_dir():  # a file there, and mkdir(exist_ok=True) on some systems stays quiet
        raise CourseInputError(
            f"{label}='{folder}': the {what} needs a folder there, but it is a file. "
            "Rename or move that file, or choose another folder.")
    return folder


def next_free_name(path: Path) -> Path:
    """`path` if nothing has that name yet, else the first free ``stem-2.suffix``, ``stem-3.suffix`` ..."""
    if not (path.exists() or path.is_symlink()):
        return path
    for n in range(2, _MAX_NUMBER):
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        if not (candidate.exists() or candidate.is_symlink()):
            return candidate
    raise CourseInputError(
        f"path='{path}': {_MAX_NUMBER} files with that name and a number already exist. Choose another "
        "name, or pass overwrite=True to replace the file.")


def explain_failure(err: BaseException, path, what: str = "picture", label: str = "path") -> Exception:
    """The course error (`CourseInputError` or `CourseSetupError`) for `err`, raised while writing `path`.

    Taught in: chapter 5 (a save button shows it instead of a stack trace).
    """
    path = Path(os.fspath(path) if isinstance(path, (str, os.PathLike)) else str(path)).expanduser()
    where = f"{label}='{path}'"
    if isinstance(err, (KeyError, ValueError)) or (isinstance(err, OSError) and err.errno is None):
        # Pillow: an extension or format it cannot write, or a picture the format cannot hold
        text = str(err).strip("'\"")
        if isinstance(err, KeyError):
            return CourseInputError(
                f"{where}: no writer knows the format {text!r}. Use a name ending in .png or .jpg and "
                "leave the format out: it follows from the name.")
        if "unknown file extension" in text:
            ending = f"ends in '{path.suffix}'" if path.suffix else "has no extension"
            return CourseInputError(
                f"{where} {ending}, which is not a format the course can write a {what} in. "
                "Use a name ending in .png (lossless, keeps transparency) or .jpg.")
        if "RGBA" in text or "mode" in text:
            return CourseInputError(
                f"{where}: the {what} cannot be written as '{path.suffix}' ({text}). A see-through "
                "picture needs .png; for a .jpg convert it first with img.convert('RGB').")
        return CourseInputError(f"{where}: the {what} could not be written ({text}). Try a name ending in .png.")
    if isinstance(err, IsADirectoryError) or err.errno == errno.EISDIR:
        return CourseInputError(
            f"{where} is a folder, not a file name. Add a file name, e.g. '{_example(path, what)}'.")
    if isinstance(err, NotADirectoryError) or err.errno == errno.ENOTDIR:
        blocker = blocking_file(path.parent) or path.parent
        return CourseInputError(
            f"{where}: the {what} needs '{blocker}' to be a folder, but a file has that name. "
            "Rename or move that file, or choose another folder.")
    if err.errno == errno.ENAMETOOLONG or err.errno == errno.EINVAL:
        return CourseInputError(
            f"{where}: this computer does not accept that file name ({_reason(err)}). "
            "Use a shorter name made of letters, digits, '-' and '_'.")
    if err.errno in _FULL:
        return CourseSetupError(
            f"{where}: the disk is full, so the {what} could not be saved ({_reason(err)}). Any earlier file "
            "of that name is untouched. Free some space (old files in outputs/ can go) or save to another "
            "disk by setting COURSE_OUTPUT_DIR, then try again.")
    if _refused(err):
        return CourseSetupError(
            f"{where}: this computer does not allow writing there ({_reason(err)}: the folder is read-only "
            f"or belongs to someone else). Save the {what} in a folder you can write in, such as "
            "cu.output_dir() (set COURSE_OUTPUT_DIR to move it).")
    return CourseSetupError(
        f"{where}: the {what} could not be saved ({_reason(err)}). Any earlier file of that name is "
        "untouched. Check that the disk is still there and try again, or save somewhere else.")


def _new_file_mode() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def save_file(path, write: Callable[[Path], object], *, overwrite: bool = False, what: str = "picture",
              label: str = "path") -> Path:
    """Write a file safely with ``write(tmp_path)`` and return the path really written.

    Taught in: chapter 8 and 9 (every saver of the course uses it).

    Args:
        path (`str` or `os.PathLike`): where the file should go; ``~`` is expanded, missing folders
            are made.
        write (`callable`): ``write(tmp_path)`` writes the whole file at ``tmp_path``, a temporary
            name in the same folder that keeps the target's extension (so ``img.save(tmp_path)``
            picks the format from it).
        overwrite (`bool`, defaults to ``False``): replace an existing file. Without it an existing
            file is kept and the new one gets the next free numbered name (``name-2.png`` ...).
        what (`str`): what is saved ("picture", "GIF", "print file"), for the messages.
        label (`str`): the argument's name in the messages.

    Returns:
        `pathlib.Path`: the file written, which differs from `path` when a number was added.

    Raises:
        `CourseInputError`: the path is wrong (a folder, a file standing where a folder should be, an
            extension no writer knows, a picture the format cannot hold).
        `CourseSetupError`: the computer refused (permission denied, read-only, disk full).
        Either way nothing is left half-written and an earlier file of that name is untouched.
    """
    target = _as_path(path, label)
    if target.is_dir():
        raise CourseInputError(
            f"{label}='{target}' is a folder, not a file name. Add a file name, e.g. '{_example(target, what)}'.")
    folder = ensure_folder(target.parent, label=label, what=what)
    if not overwrite:
        target = next_free_name(target)
    mode = (target.stat().st_mode & 0o7777) if target.exists() else _new_file_mode()
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".part{target.suffix}", dir=folder)
    except OSError as err:
        raise explain_failure(err, target, what, label) from err
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except (CourseInputError, CourseSetupError):
        _remove(tmp)
        raise
    except (OSError, ValueError, KeyError) as err:
        _remove(tmp)
        raise explain_failure(err, target, what, label) from err
    except BaseException:
        _remove(tmp)
        raise
    return target


def _remove(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        tmp.unlink()


def save_image(img, path, *, overwrite: bool = False, what: str = "picture", label: str = "path",
               **save_kwargs) -> Path:
    """Save a PIL image through `save_file`; ``save_kwargs`` go to ``img.save`` (``dpi=``, ``pnginfo=``...).

    Taught in: chapter 3 and 5 (the save buttons). Returns the path really written.
    """
    return save_file(path, lambda tmp: img.save(tmp, **save_kwargs), overwrite=overwrite, what=what, label=label)


def portable_text(value) -> str:
    """`value` as text with no absolute path of this computer in it (for metadata saved in a file).

    A path inside the course becomes relative to the course's folder (``assets/models/...``), any
    other absolute path keeps only its last part, and the home folder becomes ``~``.
    """
    from .paths import REPO_ROOT

    text = str(value)
    candidate = Path(text)
    if text and candidate.is_absolute() and "\n" not in text:
        try:
            return candidate.relative_to(REPO_ROOT).as_posix()
        except ValueError:
            return candidate.name
    for root, short in ((str(REPO_ROOT), "."), (str(Path.home()), "~")):
        if root not in ("", "/"):
            text = text.replace(root, short)
    return text

"""The board PDF: the workbook as LibreOffice prints it, the executive one-pager (the Summary) on page 1.

A vCISO attaches this to a board pack. The pages are the workbook's own print setup (reports.printsetup): every
sheet one page wide, the Summary one page, the Findings sheet's failing, unknown and waived rows. LibreOffice is
a separate program, not a Python package: when it is not installed the error names the package to install.

Each conversion runs LibreOffice headless with a throw-away profile in a temporary directory (two conversions at
once would otherwise fight over the user's profile lock) and HOME pointed there too, so nothing is left behind;
the PDF is moved into place atomically and owner-only, like every other report.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from idaudit.core.atomic import atomic_path
from idaudit.core.errors import IdauditError

PACKAGE = "libreoffice-calc-nogui"  # Debian / Ubuntu; it brings `soffice`
PROGRAMS = ("soffice", "libreoffice")
ENV_PROGRAM = "IDAUDIT_SOFFICE"  # path to soffice, when it is not on PATH
TIMEOUT_S = 600.0


class PdfError(IdauditError):
    """The PDF could not be written: LibreOffice is missing, failed or timed out."""


def find_soffice() -> str | None:
    """The LibreOffice program to convert with: $IDAUDIT_SOFFICE, else soffice or libreoffice on PATH."""
    configured = os.environ.get(ENV_PROGRAM)
    if configured:
        return configured if Path(configured).is_file() else None
    return next((found for name in PROGRAMS if (found := shutil.which(name))), None)


def missing_message() -> str:
    return (f"PDF output needs LibreOffice, which is not installed: install the package {PACKAGE} "
            f"(Debian/Ubuntu: apt-get install {PACKAGE}) or set {ENV_PROGRAM} to the soffice program")


def workbook_to_pdf(workbook: str | os.PathLike[str], target: str | os.PathLike[str],
                    timeout: float = TIMEOUT_S) -> Path:
    """Convert an .xlsx file to PDF at `target` (written atomically, owner-only)."""
    program = find_soffice()
    if program is None:
        raise PdfError(missing_message())
    source = Path(workbook).resolve()  # LibreOffice runs in its own working directory
    with tempfile.TemporaryDirectory(prefix="idaudit-pdf-") as tmp:
        work = Path(tmp)
        out = work / "out"
        out.mkdir()
        env = {**os.environ, "HOME": str(work)}
        cmd = [program, "--headless", "--norestore", "--nolockcheck",
               f"-env:UserInstallation={(work / 'profile').as_uri()}",
               "--convert-to", "pdf", "--outdir", str(out), str(source)]
        try:
            done = subprocess.run(cmd, env=env, cwd=work, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PdfError(f"LibreOffice did not finish converting {source} within {timeout:.0f} s") from exc
        except OSError as exc:
            raise PdfError(f"LibreOffice ({program}) could not be started: {exc}") from exc
        produced = out / f"{source.stem}.pdf"
        if done.returncode != 0 or not produced.is_file() or produced.stat().st_size == 0:
            detail = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()
            raise PdfError(f"LibreOffice could not convert {source} to PDF (exit {done.returncode})"
                           + (f": {detail[-1]}" if detail else ""))
        with atomic_path(target) as part:
            shutil.copyfile(produced, part)
    return Path(target)

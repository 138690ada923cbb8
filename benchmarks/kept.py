"""Tables that other commands measure and ``python -m benchmarks`` keeps.

``python -m benchmarks`` rewrites BENCHMARKS.md from its own runs; the MPI (W3 over
ranks), convolution (W5) and sequence (W6) tables come from their own commands, which
save their section under ``benchmarks/<name>.md``. The report puts each kept section
between its markers, before the notes, replacing an older copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPORT = HERE.parent / "BENCHMARKS.md"


@dataclass(frozen=True)
class KeptSection:
    filename: str  # under benchmarks/
    start: str  # the markers around the section in BENCHMARKS.md
    end: str

    @property
    def path(self) -> Path:
        return HERE / self.filename

    def insert(self, report: str, section: str | None = None) -> str:
        """``report`` with ``section`` (else the kept one, if any) between the markers."""
        if section is None:
            if not self.path.exists():
                return report
            section = self.path.read_text()
        block = f"{self.start}\n{section.strip()}\n{self.end}\n"
        if self.start in report and self.end in report:
            head, rest = report.split(self.start, 1)
            return head + block + rest.split(self.end, 1)[1].lstrip("\n")
        if "\n## Notes" in report:
            head, tail = report.split("\n## Notes", 1)
            return head.rstrip("\n") + "\n\n" + block + "\n## Notes" + tail
        return report.rstrip("\n") + "\n\n" + block

    def save(self, section: str) -> None:
        """Keep ``section`` and put it into BENCHMARKS.md (if the report exists)."""
        self.path.write_text(section)
        if REPORT.exists():
            REPORT.write_text(self.insert(REPORT.read_text(), section))


MPI = KeptSection("mpi.md", "<!-- mpi:start -->", "<!-- mpi:end -->")
CONV = KeptSection("conv.md", "<!-- W5 conv start -->", "<!-- W5 conv end -->")
SEQ = KeptSection("seq.md", "<!-- W6 seq start -->", "<!-- W6 seq end -->")
ALL = (MPI, CONV, SEQ)


def with_kept_sections(report: str) -> str:
    """``report`` with every kept table in it."""
    for kept in ALL:
        report = kept.insert(report)
    return report

"""grader: trustworthy nbgrader autograding for the autodiff course.

nbgrader stays the record (gradebook, release, autograde, feedback, export); this package adds
hidden tests decided outside the student's kernel, isolation, limits, robust batches and
feedback that teaches. Entry point: ``python -m grader`` (or ``autodiff-grader``).
"""

__version__ = "0.1.0"

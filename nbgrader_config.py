"""nbgrader configuration of the course: the repository root is the course directory.

Masters (solutions and hidden tests) live in ``solutions/<id>/<id>.ipynb``; the generated
student release goes to ``course/<id>/``. Grading state (``submitted/``, ``autograded/``,
``feedback/``, ``gradebook.db``) is created here on the instructor's machine and never committed.
"""

from grader.nbgrader_setup import configure
from grader.paths import configured_gradebook_url

c = get_config()  # noqa: F821  (injected by traitlets when nbgrader loads this file)
configure(c)
# the database $AUTODIFF_GRADEBOOK_URL names (docs/deploying.md), else nbgrader's gradebook.db
if configured_gradebook_url():
    c.CourseDirectory.db_url = configured_gradebook_url()

"""nbgrader's configuration: the repository is the nbgrader course folder (README: "Grading with
nbgrader"). Each lesson is an nbgrader assignment named like it (optimizers_core, optimizers_2d,
adamw_training, sam_sharpness); for lesson 1:

    nbgrader generate_assignment optimizers_core   # release/optimizers_core/optimizers_core.ipynb
    nbgrader release_assignment optimizers_core    # to the exchange (--Exchange.root=...)
    nbgrader collect optimizers_core               # submitted/<student>/optimizers_core/
    python -m autograder grade submitted --out out/nbgrader --assignment optimizers_core
                                                   # out/nbgrader/optimizers_core/, the gradebook
    python -m autograder nbgrader-feedback out/nbgrader . --assignment optimizers_core
    nbgrader release_feedback optimizers_core
    nbgrader export                                # grades.csv, from the gradebook

nbgrader reads the instructor version from source/<assignment>/: the committed
source/<lesson>/<lesson>.ipynb is a relative link to solutions/<lesson>.ipynb, the lesson's single
source of truth; its graded cells (one per exercise, points = the exercise's subtotal) are what
the gradebook records and `autograder grade` fills in (autograder/nbgrader_gradebook.py).
release/, submitted/, autograded/, feedback/ and gradebook.db are generated (git-ignored).
"""

from nbgrader.converters import GenerateAssignment

from autograder import nbgrader_course

c = get_config()  # noqa: F821 - traitlets defines it when it loads this file

c.CourseDirectory.course_id = "optimizers-core"

# generate_assignment copies the assignment's other files unless ignored (source/ holds only the
# notebook anyway); the exchange (release, submit, collect) also drops what is not included.
# timestamp.txt and submission_secret.txt come with each submission: release_feedback needs them.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.py"]
c.CourseDirectory.include = ["*.ipynb", *nbgrader_course.SUBMISSION_FILES]

# Release links filled in last: the release is then exactly the committed student notebook.
c.GenerateAssignment.preprocessors = [
    *GenerateAssignment.class_traits()["preprocessors"].default(),
    nbgrader_course.FillReleaseLinks,
]

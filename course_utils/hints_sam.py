"""What a wrong answer of lesson 4's exercises most likely means, found by a bug oracle.

Each `diagnose_*` replays, in float64 NumPy on a problem of course_utils.sharpness_problems, the
correct rule and every typical wrong one of an exercise, and names the one wrong rule that
explains the student's answer where the correct rule does not (None when the answer is right,
when no single mistake explains it, or when the answer is not numbers of the right shapes).

No TensorFlow here: the grader imports this module outside the sandbox.
"""

from course_utils import hints as lesson_1

# Mistakes of every lesson keep lesson 1's words.
SHARED = ("no_update", "timeout", "delegation")

HINTS = {key: lesson_1.HINTS[key] for key in SHARED} | {
    "not_implemented": "Your code still raises NotImplementedError: replace the stub (the line "
    "`raise NotImplementedError`) with your own code.",
    # SAM
    "sam_not_restored": "After your step the weights are off by the perturbation: the weights "
    "must be put back exactly where they were (save them with tf.identity before moving them, "
    "then assign them back) before the base optimizer applies the second gradient.",
    "sam_per_tensor_norm": "Each variable's perturbation was scaled by its own gradient's norm: "
    "SAM moves all the variables together, e = rho * g / (||g|| + epsilon), where ||g|| is one "
    "norm over every gradient, sqrt(sum over the variables of tf.reduce_sum(tf.square(g))).",
    "sam_first_gradient": "Your steps are plain steps of the base optimizer: it must be handed "
    "the gradient taken at the perturbed weights w + e, not the first gradient taken at w.",
    "sam_downhill": "Your perturbation goes downhill: SAM looks for the worst nearby loss, so it "
    "moves the weights up the gradient, w + rho * g / (||g|| + epsilon), not w - ...",
    "sam_python_float_norm": "Your SAM works eagerly but not inside tf.function: the norm was "
    "turned into a Python float (float(...), .numpy()), which a graph cannot do, or which is "
    "frozen at its value while tracing. Keep every quantity a tensor: tf.sqrt, tf.add_n, "
    "tf.reduce_sum.",
    # hessian_vector_product
    "hvp_gradient_times_vector": "Your product is the gradient times the vector, g * v: the "
    "Hessian-vector product is the gradient of the scalar g . v (sum over the variables of "
    "tf.reduce_sum(g * v)) with respect to the variables, taken by an outer tape around the "
    "inner one that computes g.",
    # top_hessian_eigenvalue
    "power_not_normalised": "Your vectors were never normalised: power iteration divides H v by "
    "its norm (one norm over all the variables together) at every iteration, or the numbers "
    "grow or shrink without bound and the vector returned is not a unit vector.",
    "eigen_norm_not_signed": "Your eigenvalue has the right size but no sign: ||H v|| is "
    "|lambda|. The signed eigenvalue is the Rayleigh quotient v . H v for the unit vector v "
    "(negative at a saddle).",
}

# The same mistakes named for an instructor (the class report ranks them).
MISTAKES = {key: lesson_1.MISTAKES[key] for key in SHARED} | {
    "not_implemented": "exercise not written (still raises NotImplementedError)",
    "sam_not_restored": "SAM: weights not restored after the perturbation",
    "sam_per_tensor_norm": "SAM: each tensor normalised by its own norm, not the global norm",
    "sam_first_gradient": "SAM: the first gradient applied instead of the perturbed one",
    "sam_downhill": "SAM: perturbation taken downhill (w - e)",
    "sam_python_float_norm": "SAM: norm a Python float (breaks under tf.function)",
    "hvp_gradient_times_vector": "Hessian-vector product returned as gradient times vector",
    "power_not_normalised": "power iteration without normalisation",
    "eigen_norm_not_signed": "eigenvalue returned as ||H v|| instead of the signed v . H v",
}

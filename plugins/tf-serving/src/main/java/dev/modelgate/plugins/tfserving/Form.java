package dev.modelgate.plugins.tfserving;

/** The shape of a TF Serving request, which decides the shape of its answer. */
enum Form {
    /** {@code instances}, answered with {@code predictions}. */
    ROW,
    /** {@code inputs}, answered with {@code outputs}. */
    COLUMNAR,
    /** {@code :classify} with {@code examples}, answered with {@code results} of label and score pairs. */
    CLASSIFY,
    /** {@code :regress} with {@code examples}, answered with {@code results} of one value each. */
    REGRESS
}

"""Benchmarks of skmlp against scikit-learn's MLP on the bundled real datasets.

``python -m benchmarks`` runs the quick comparison (README's main job);
``python -m benchmarks --help`` lists the full study, the named scenarios and
the other benchmarks (``benchmarks.speed``).
"""

"""Designer code in a separate process: scripts, conditions, timer and inbox expressions, DMN.

``restricted`` compiles and runs code under RestrictedPython with size guards and a deadline;
``codec`` carries task data across the pipe as tagged JSON (never pickle: the other side runs
hostile code); ``child`` is the worker process, a lean interpreter with ``RLIMIT_AS`` and
``RLIMIT_CPU``; ``pool`` is the parent's side, which kills a worker that overruns. Nothing is
imported here, so the worker loads only what it needs.
"""
